-- Conversations between a professional (or an organisation such as a
-- pharmacy, or a professional of another operator) and a patient
-- (domain.md, Messaging rules). One per pair: the professional closes it,
-- writing again reopens it.
CREATE TABLE conversations (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	pro_address TEXT NOT NULL,
	pro_name TEXT NOT NULL DEFAULT '',
	patient_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
	started_by TEXT NOT NULL CHECK (started_by IN ('professional', 'patient')),
	subject TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	closed_at BIGINT,
	UNIQUE (pro_address, patient_id)
);
CREATE INDEX conversations_patient ON conversations (patient_id, updated_at);

CREATE TABLE conversation_messages (
	conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	message_row BIGINT NOT NULL,
	direction TEXT NOT NULL CHECK (direction IN ('to_patient', 'from_patient')),
	closing BOOLEAN NOT NULL DEFAULT FALSE,
	at BIGINT NOT NULL,
	PRIMARY KEY (conversation_id, message_row)
);
