-- Directory search ("Rechercher une pharmacie", professionals): the entries
-- the searches read, their word index, and the vocabulary that makes the
-- name search tolerant of typos. See directory/search_index.go.
-- Folded text columns are COLLATE "C": byte order, as in SQLite, for the
-- sort order of results and for prefix range scans on the vocabulary.

-- Where entries come from: each imported national directory extract, and
-- 'local' (this instance's accounts, mirrored), whose generation counts the
-- swaps of the index tables. An import fills new tables, builds their
-- indexes, then swaps them for these by renaming, in one transaction
-- (directory/import.go creates them as below: keep both in step).
CREATE TABLE directory_sources (
	name TEXT PRIMARY KEY,
	generation BIGINT NOT NULL,
	file TEXT NOT NULL DEFAULT '',
	extracted_at TEXT NOT NULL DEFAULT '',
	imported_at BIGINT NOT NULL DEFAULT 0,
	lines BIGINT NOT NULL DEFAULT 0,
	entries BIGINT NOT NULL DEFAULT 0,
	pharmacies BIGINT NOT NULL DEFAULT 0,
	rejected BIGINT NOT NULL DEFAULT 0
);
INSERT INTO directory_sources (name, generation) VALUES ('local', 0);

-- One mailbox of the directory: imported (id > 0) or a local account's
-- (id = -account id). kind: pharmacy ("Pharmacie d'officine"), professional,
-- organisation, application. search_name and alt_name are folded (lowercase
-- ASCII, no accents: gazetteer.Fold); commune_code is the INSEE code of the
-- commune (or of the municipal arrondissement).
CREATE TABLE directory_entries (
	id BIGINT PRIMARY KEY,
	source TEXT NOT NULL,
	account_id BIGINT,
	address TEXT COLLATE "C" NOT NULL,
	mailbox_type TEXT NOT NULL,
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	search_name TEXT COLLATE "C" NOT NULL,
	alt_name TEXT COLLATE "C" NOT NULL DEFAULT '',
	civility TEXT NOT NULL DEFAULT '',
	profession TEXT NOT NULL DEFAULT '',
	profession_code TEXT NOT NULL DEFAULT '',
	speciality TEXT NOT NULL DEFAULT '',
	profession_search TEXT COLLATE "C" NOT NULL DEFAULT '',
	rpps TEXT NOT NULL DEFAULT '',
	adeli TEXT NOT NULL DEFAULT '',
	structure_id TEXT NOT NULL DEFAULT '',
	finess TEXT NOT NULL DEFAULT '',
	structure_name TEXT NOT NULL DEFAULT '',
	service TEXT NOT NULL DEFAULT '',
	postal_address TEXT NOT NULL DEFAULT '',
	postal_code TEXT COLLATE "C" NOT NULL DEFAULT '',
	commune TEXT NOT NULL DEFAULT '',
	commune_code TEXT COLLATE "C" NOT NULL DEFAULT '',
	department TEXT COLLATE "C" NOT NULL DEFAULT '',
	reachable_by_patients BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX directory_entries_address ON directory_entries (address);
CREATE INDEX directory_entries_place ON directory_entries (kind, department, commune_code);
CREATE INDEX directory_entries_rpps ON directory_entries (rpps) WHERE rpps <> '';

-- The words of each entry's names (folded, without stop words); kind is a
-- one-letter code (p pharmacy, r professional, o organisation, a application).
CREATE TABLE directory_terms (
	term TEXT COLLATE "C" NOT NULL,
	kind TEXT NOT NULL,
	entry_id BIGINT NOT NULL
);
CREATE UNIQUE INDEX directory_terms_term ON directory_terms (term, kind, entry_id);
CREATE INDEX directory_terms_entry ON directory_terms (entry_id);

-- Every word indexed, and its deletion keys: the word itself and, for words
-- of 4 letters or more, the word with one letter deleted. Two words within
-- one edit share a key, so a typo finds its word by equality lookups alone.
CREATE TABLE directory_vocab (
	term TEXT COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX directory_vocab_term ON directory_vocab (term);
CREATE TABLE directory_vocab_keys (
	key TEXT COLLATE "C" NOT NULL,
	term TEXT COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX directory_vocab_keys_key ON directory_vocab_keys (key, term);

-- Accounts whose directory entry must be rebuilt: the trigger queues every
-- account created, changed or deleted; the next search rebuilds them.
CREATE TABLE directory_pending (
	account_id BIGINT PRIMARY KEY
);
INSERT INTO directory_pending (account_id) SELECT id FROM accounts WHERE role IN ('pharmacy', 'professional');

CREATE FUNCTION directory_account_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		INSERT INTO directory_pending (account_id) VALUES (OLD.id) ON CONFLICT DO NOTHING;
	ELSE
		INSERT INTO directory_pending (account_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER directory_account_insert_delete AFTER INSERT OR DELETE ON accounts
	FOR EACH ROW EXECUTE FUNCTION directory_account_changed();
CREATE TRIGGER directory_account_update AFTER UPDATE OF address, role, display_name, disabled_at,
	rpps, adeli, profession, finess, postal_address, postal_code, commune, reachable_by_patients ON accounts
	FOR EACH ROW EXECUTE FUNCTION directory_account_changed();
