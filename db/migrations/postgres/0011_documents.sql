-- The patient's document library (domain.md, "Document library";
-- reference.md, XDM and access rules).
CREATE TABLE document_folders (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	patient_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	UNIQUE (patient_id, name)
);

CREATE TABLE documents (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	patient_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	folder_id BIGINT REFERENCES document_folders (id) ON DELETE SET NULL,
	title TEXT NOT NULL,
	category TEXT NOT NULL,
	class_code TEXT NOT NULL DEFAULT '',
	type_code TEXT NOT NULL DEFAULT '',
	format_code TEXT NOT NULL DEFAULT '',
	filename TEXT NOT NULL DEFAULT '',
	mime_type TEXT NOT NULL,
	size BIGINT NOT NULL,
	blob_key TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	doc_date BIGINT NOT NULL,          -- the date shown: creation/service time, else filing
	service_start BIGINT,
	service_stop BIGINT,
	filed_at BIGINT NOT NULL,
	origin TEXT NOT NULL CHECK (origin IN ('message', 'xdm', 'cda', 'upload', 'summary')),
	author_name TEXT NOT NULL DEFAULT '',
	author_id TEXT NOT NULL DEFAULT '',      -- RPPS/ADELI of the author when known
	author_address TEXT NOT NULL DEFAULT '', -- the sending mailbox, or the patient's
	author_profession TEXT NOT NULL DEFAULT '',
	institution TEXT NOT NULL DEFAULT '',
	confidentiality TEXT NOT NULL DEFAULT 'N',
	masked BOOLEAN NOT NULL DEFAULT FALSE,            -- MASQUE_PS, or masked by the patient
	invisible_patient BOOLEAN NOT NULL DEFAULT FALSE, -- INVISIBLE_PATIENT: never shown to the patient
	invisible_reps BOOLEAN NOT NULL DEFAULT FALSE,    -- INVISIBLE_REPRESENTANTS_LEGAUX
	pinned BOOLEAN NOT NULL DEFAULT FALSE,
	source_message_row BIGINT,
	source_message_id TEXT NOT NULL DEFAULT '',
	source_key TEXT NOT NULL,         -- what makes a filing unique: message + part, or upload id
	unique_id TEXT NOT NULL DEFAULT '', -- XDM uniqueId
	twin_id BIGINT,                    -- the PDF twin of a CDA, and the other way round
	objected_at BIGINT,
	objection_reason TEXT NOT NULL DEFAULT '',
	deleted_at BIGINT,
	UNIQUE (patient_id, source_key)
);
CREATE INDEX documents_patient ON documents (patient_id, deleted_at, doc_date);

-- Why something in a message was not filed (hostile archive, INS
-- mismatch…): the message is kept, the reason is recorded on it.
CREATE TABLE filing_problems (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	patient_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	message_row BIGINT,
	part TEXT NOT NULL DEFAULT '',
	code TEXT NOT NULL,
	reason TEXT NOT NULL,
	at BIGINT NOT NULL
);
CREATE INDEX filing_problems_patient ON filing_problems (patient_id, at);

-- Problems a patient reports on a document ("signaler un problème"),
-- visible to its author.
CREATE TABLE document_reports (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	document_id BIGINT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
	patient_id BIGINT NOT NULL,
	reason TEXT NOT NULL,
	at BIGINT NOT NULL
);

-- The patient's choices: professionals blocked from the record (they may
-- still deposit), masking new documents by default.
CREATE TABLE record_blocks (
	patient_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	professional_address TEXT NOT NULL,
	at BIGINT NOT NULL,
	PRIMARY KEY (patient_id, professional_address)
);
CREATE TABLE record_settings (
	patient_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	mask_new BOOLEAN NOT NULL DEFAULT FALSE
);

-- Every access to a patient's documents, by anyone: append-only (the
-- triggers below refuse UPDATE and DELETE); the patient reads it.
CREATE TABLE access_traces (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	patient_id BIGINT NOT NULL,
	document_id BIGINT,
	actor_address TEXT NOT NULL,
	actor_name TEXT NOT NULL,
	actor_type TEXT NOT NULL,
	action TEXT NOT NULL,
	at BIGINT NOT NULL
);
CREATE INDEX access_traces_patient ON access_traces (patient_id, at);
CREATE FUNCTION access_traces_append_only() RETURNS trigger AS $$
BEGIN
	RAISE EXCEPTION 'access_traces is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_traces_no_change BEFORE UPDATE OR DELETE ON access_traces
	FOR EACH ROW EXECUTE FUNCTION access_traces_append_only();
