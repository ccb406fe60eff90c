-- Web and API sessions: only a hash of the token is kept, so a copy of
-- the database opens no session. A browser gets a cookie session, an app
-- a bearer token; both expire when idle and at a fixed age.
CREATE TABLE sessions (
	id INTEGER PRIMARY KEY,
	token_hash TEXT NOT NULL UNIQUE,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind TEXT NOT NULL CHECK (kind IN ('bearer', 'cookie')),
	created_at BIGINT NOT NULL,
	last_seen BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	remote TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions (account_id);

-- A patient's personal address for e-mail notifications (domain.md rule
-- 6), outside the secure space: the mail says only that something new is
-- waiting, never what.
ALTER TABLE accounts ADD COLUMN notify_email TEXT NOT NULL DEFAULT '';

-- E-mail notifications to send through the configured relay, written in
-- the delivery transaction with the in-app notification so none is lost.
CREATE TABLE notify_outbox (
	id INTEGER PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	email TEXT NOT NULL,
	kind TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	next_at BIGINT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	sent_at BIGINT,
	failed_at BIGINT,
	last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notify_outbox_due ON notify_outbox (sent_at, failed_at, next_at);
