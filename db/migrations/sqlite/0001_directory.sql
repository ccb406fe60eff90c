-- Who is who: the domains the instance serves and its accounts.
CREATE TABLE domains (
	name TEXT PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('professional', 'patient')),
	created_at BIGINT NOT NULL
);

CREATE TABLE accounts (
	id INTEGER PRIMARY KEY,
	address TEXT NOT NULL UNIQUE,
	role TEXT NOT NULL CHECK (role IN ('professional', 'patient', 'pharmacy', 'admin')),
	mailbox_type TEXT NOT NULL CHECK (mailbox_type IN ('PER', 'ORG', 'APP')),
	display_name TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	disabled_at BIGINT,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	-- professional
	rpps TEXT,
	adeli TEXT,
	profession TEXT,
	-- patient
	ins TEXT UNIQUE,
	birth_date TEXT,
	sex TEXT CHECK (sex IS NULL OR sex IN ('F', 'M')),
	-- pharmacy
	finess TEXT,
	postal_address TEXT,
	postal_code TEXT,
	commune TEXT,
	reachable_by_patients BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX accounts_role ON accounts (role);

-- Staff who open an organisational (ORG) mailbox with their own login.
CREATE TABLE org_staff (
	org_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	staff_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	PRIMARY KEY (org_id, staff_id)
);
CREATE INDEX org_staff_staff ON org_staff (staff_id);

-- App passwords: one per mail client, revocable alone.
CREATE TABLE app_passwords (
	id INTEGER PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	label TEXT NOT NULL,
	hash TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	last_used_at BIGINT
);
CREATE INDEX app_passwords_account ON app_passwords (account_id);
