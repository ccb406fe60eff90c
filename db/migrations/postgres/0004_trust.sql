-- The trust-space whitelist: for each operator domain, the subject DN of each
-- operator certificate allowed to deliver its mail. Replaced as a whole by
-- each import. operator_dn is the canonical form (directory.DN.Key) that
-- lookups compare; operator_dn_raw is the DN as the list writes it.
CREATE TABLE trust_domains (
	domain TEXT NOT NULL CHECK (domain <> ''),
	operator_dn TEXT NOT NULL CHECK (operator_dn <> ''),
	operator_dn_raw TEXT NOT NULL,
	description TEXT NOT NULL,
	responsable_contact TEXT NOT NULL,
	support_contact TEXT NOT NULL,
	updated TEXT NOT NULL,
	PRIMARY KEY (domain, operator_dn)
);
-- IsListedOperator looks an operator up without a domain.
CREATE INDEX trust_domains_operator ON trust_domains (operator_dn);

-- The list in force: one row, written by the same transaction as the entries.
CREATE TABLE trust_list (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	generated_at TEXT NOT NULL,
	source TEXT NOT NULL,
	entries INTEGER NOT NULL,
	rejected INTEGER NOT NULL,
	imported_at BIGINT NOT NULL
);
