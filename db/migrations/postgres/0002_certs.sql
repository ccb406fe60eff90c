-- Certificates the instance CA issued. Private keys are files under
-- DATA/pki (mode 0600), named by key_file; the database holds the public part.
CREATE TABLE certificates (
	serial TEXT PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('tls', 'smime', 'operator')),
	subject TEXT NOT NULL,
	address TEXT,
	not_before BIGINT NOT NULL,
	not_after BIGINT NOT NULL,
	cert_pem TEXT NOT NULL,
	key_file TEXT NOT NULL,
	revoked_at BIGINT,
	revocation_reason INTEGER,
	created_at BIGINT NOT NULL
);
CREATE INDEX certificates_address ON certificates (address);
