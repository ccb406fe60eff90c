-- Certificates of remote correspondents (other operators' mailboxes),
-- imported so that mail to them can be encrypted (the Direct Project finds
-- them in DNS or LDAP; here an administrator imports them).
CREATE TABLE recipient_certs (
	fingerprint TEXT PRIMARY KEY,
	address TEXT NOT NULL,
	subject TEXT NOT NULL,
	not_before BIGINT NOT NULL,
	not_after BIGINT NOT NULL,
	cert_pem TEXT NOT NULL,
	source TEXT NOT NULL DEFAULT '',
	imported_at BIGINT NOT NULL
);
CREATE INDEX recipient_certs_address ON recipient_certs (address);
