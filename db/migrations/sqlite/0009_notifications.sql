-- In-app notifications of the patient space (domain.md rule 6: the patient
-- is notified of each new message and each new document).
CREATE TABLE notifications (
	id INTEGER PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind TEXT NOT NULL CHECK (kind IN ('message', 'closed', 'document')),
	title TEXT NOT NULL,
	conversation_id BIGINT,
	message_row BIGINT,
	read_at BIGINT,
	created_at BIGINT NOT NULL
);
CREATE INDEX notifications_account ON notifications (account_id, read_at, created_at);
