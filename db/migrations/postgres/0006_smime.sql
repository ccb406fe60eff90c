-- What S/MIME said about each stored message: the web app shows "signé
-- par …, vérifié"; the original CMS is kept as evidence when the gateway
-- decrypted or unwrapped it.
ALTER TABLE messages ADD COLUMN smime_signed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE messages ADD COLUMN smime_verified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE messages ADD COLUMN smime_encrypted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE messages ADD COLUMN smime_signer TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN smime_problem TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN evidence_blob TEXT NOT NULL DEFAULT '';
