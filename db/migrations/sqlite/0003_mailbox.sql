-- The mail store: folders, messages (bodies in the blob store), the MODSEQ
-- changelog read by IMAP and IDLE, delivery de-duplication, and the durable
-- outbound queue to other operators of the trust space.
CREATE TABLE mailboxes (
	id INTEGER PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	special_use TEXT,
	uidvalidity BIGINT NOT NULL,
	uidnext BIGINT NOT NULL DEFAULT 1,
	highest_modseq BIGINT NOT NULL DEFAULT 1,
	subscribed BOOLEAN NOT NULL DEFAULT TRUE,
	created_at BIGINT NOT NULL,
	UNIQUE (account_id, name)
);

CREATE TABLE messages (
	id INTEGER PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	mailbox_id BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	uid BIGINT NOT NULL,
	modseq BIGINT NOT NULL,
	flags TEXT NOT NULL DEFAULT '',
	seen BOOLEAN NOT NULL DEFAULT FALSE,
	deleted BOOLEAN NOT NULL DEFAULT FALSE,
	blob_key TEXT NOT NULL,
	size BIGINT NOT NULL,
	internal_date BIGINT NOT NULL,
	envelope_from TEXT NOT NULL DEFAULT '',
	message_id TEXT NOT NULL DEFAULT '',
	in_reply_to TEXT NOT NULL DEFAULT '',
	subject TEXT NOT NULL DEFAULT '',
	from_header TEXT NOT NULL DEFAULT '',
	trace TEXT NOT NULL DEFAULT '',
	UNIQUE (mailbox_id, uid)
);
CREATE INDEX messages_account ON messages (account_id, internal_date);
CREATE INDEX messages_message_id ON messages (account_id, message_id);

CREATE TABLE changes (
	mailbox_id BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	modseq BIGINT NOT NULL,
	uid BIGINT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('append', 'flags', 'expunge')),
	at BIGINT NOT NULL,
	PRIMARY KEY (mailbox_id, modseq)
);

-- One row per message delivered to an account: a client that retries after
-- losing our 250 (we committed, then crashed or the link broke) sends the
-- same bytes, and is answered 250 without a second copy.
CREATE TABLE deliveries (
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	dedupe_key TEXT NOT NULL,
	message_row BIGINT NOT NULL,
	at BIGINT NOT NULL,
	PRIMARY KEY (account_id, dedupe_key)
);

CREATE TABLE outbound (
	id INTEGER PRIMARY KEY,
	dedupe_key TEXT NOT NULL,
	envelope_from TEXT NOT NULL,
	rcpt TEXT NOT NULL,
	domain TEXT NOT NULL,
	orcpt TEXT NOT NULL DEFAULT '',
	notify TEXT NOT NULL DEFAULT '',
	ret TEXT NOT NULL DEFAULT '',
	envid TEXT NOT NULL DEFAULT '',
	blob_key TEXT NOT NULL,
	size BIGINT NOT NULL,
	state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL,
	locked_until BIGINT NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	delay_notified BOOLEAN NOT NULL DEFAULT FALSE,
	created_at BIGINT NOT NULL,
	done_at BIGINT,
	UNIQUE (dedupe_key, rcpt)
);
CREATE INDEX outbound_due ON outbound (state, next_attempt_at);
