-- Legal representatives (domain.md, children and represented persons;
-- mes-model.md): a parent manages the space of their child. A second
-- representative is invited and accepts.
CREATE TABLE representations (
	representative_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	person_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	state TEXT NOT NULL CHECK (state IN ('active', 'invited')),
	invited_by BIGINT,
	since BIGINT NOT NULL,
	PRIMARY KEY (representative_id, person_id)
);
CREATE INDEX representations_person ON representations (person_id);

-- An optional TOTP second factor per account (RFC 6238), for the web app.
ALTER TABLE accounts ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
