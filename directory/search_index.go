package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"mssanted/db"
	"mssanted/directory/gazetteer"
)

// The search index, the same tables and queries on SQLite and PostgreSQL
// (migration 0007_directory_search; indexTables below creates the same
// tables for an import):
//
//   - directory_entries: one row per mailbox that can be searched, from an
//     imported extract (source = its name, id > 0) or mirrored from a local
//     account (source = "local", id = -account id). Names are stored folded
//     (search_name, alt_name), places as INSEE commune code and department
//     resolved with the gazetteer.
//   - directory_terms (term, kind, entry_id): the words of the names, kind
//     as a one-letter code (termKind). A name query finds its candidates
//     through it, never by scanning entries.
//   - directory_vocab and directory_vocab_keys: every indexed word and its
//     deletion keys (the word, and the word minus one letter). Two words one
//     edit apart (substitution, insertion, deletion, adjacent swap) always
//     share a key, so "garre" finds "gare" by equality lookups on an index;
//     the distance is then checked in Go.
//   - directory_sources: what each import was; the row "local" counts the
//     table swaps (its generation), which imports check.
//   - directory_pending: accounts queued by triggers on accounts; the next
//     search rebuilds their entries, so local accounts appear without the
//     account code knowing about the index.
//
// An import does not update these tables in place: it fills new tables
// without indexes, builds the indexes (a sort, several times faster than
// growing b-trees row by row), then swaps them for the current ones by
// renaming, in one short transaction. Searches see the old directory or
// the new one, never a mix; the old tables are dropped afterwards.

// Entry kinds.
const (
	KindPharmacy     = "pharmacy"     // "Pharmacie d'officine"
	KindProfessional = "professional" // a personal (PER) mailbox
	KindOrganisation = "organisation" // any other organisational (ORG) mailbox
	KindApplication  = "application"  // a software (APP) mailbox
)

// PharmacyKindLabel is how results show a pharmacy's kind.
const PharmacyKindLabel = "Pharmacie d'officine"

// LocalSource is the source name of the entries mirrored from accounts.
const LocalSource = "local"

// entry is a row of directory_entries.
type entry struct {
	ID             int64
	Source         string
	AccountID      *int64
	Address        string
	MailboxType    string
	Kind           string
	Name           string
	SearchName     string
	AltName        string
	Civility       string
	Profession     string
	ProfessionCode string
	Speciality     string
	RPPS, ADELI    string
	StructureID    string
	FINESS         string
	StructureName  string
	Service        string
	PostalAddress  string
	PostalCode     string
	Commune        string
	CommuneCode    string
	Department     string
	Reachable      bool
}

const entryInsertColumns = `id, source, account_id, address, mailbox_type, kind, name, search_name, alt_name,
	civility, profession, profession_code, speciality, profession_search, rpps, adeli, structure_id, finess,
	structure_name, service, postal_address, postal_code, commune, commune_code, department, reachable_by_patients`

const entryInsertCount = 26

func (e *entry) args() []any {
	return []any{e.ID, e.Source, e.AccountID, e.Address, e.MailboxType, e.Kind, e.Name, e.SearchName, e.AltName,
		e.Civility, e.Profession, e.ProfessionCode, e.Speciality, gazetteer.Fold(e.Profession + " " + e.Speciality),
		e.RPPS, e.ADELI, e.StructureID, e.FINESS, e.StructureName, e.Service, e.PostalAddress, e.PostalCode,
		e.Commune, e.CommuneCode, e.Department, e.Reachable}
}

// stopWords are never indexed nor required: French function words and the
// legal forms that prefix company names ("SELARL PHARMACIE DUPONT").
var stopWords = map[string]bool{
	"a": true, "au": true, "aux": true, "d": true, "de": true, "des": true, "du": true, "en": true, "et": true,
	"l": true, "la": true, "le": true, "les": true, "sur": true, "sous": true, "s": true, "y": true,
	"sa": true, "sas": true, "sasu": true, "sarl": true, "eurl": true, "snc": true, "sci": true, "scp": true,
	"selarl": true, "selas": true, "selasu": true, "selafa": true, "selca": true, "sel": true, "spfpl": true,
}

// maxTermLength bounds indexed words: longer ones are kept whole, without
// deletion keys (nobody types them with a typo we could place).
const maxTermLength = 24

// entryTerms returns the distinct words to index for an entry's names.
func entryTerms(names ...string) []string {
	var out []string
	for _, n := range names {
		for _, t := range gazetteer.Tokens(n) {
			if stopWords[t] || len(t) > 64 {
				continue
			}
			dup := false
			for _, o := range out {
				if o == t {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, t)
			}
		}
	}
	return out
}

// deletionKeys is a word and, when it has 4 letters or more, the word with
// each letter deleted in turn (distinct).
func deletionKeys(t string) []string {
	keys := []string{t}
	if len(t) < 4 || len(t) > maxTermLength {
		return keys
	}
	for i := 0; i < len(t); i++ {
		k := t[:i] + t[i+1:]
		if i > 0 && t[i] == t[i-1] {
			continue // same key as deleting the previous letter
		}
		keys = append(keys, k)
	}
	return keys
}

// termKind is the one-letter code of an entry kind in directory_terms,
// whose million rows it keeps small.
func termKind(kind string) string {
	switch kind {
	case KindPharmacy:
		return "p"
	case KindProfessional:
		return "r"
	case KindOrganisation:
		return "o"
	case KindApplication:
		return "a"
	}
	return "?"
}

// tables names the four index tables: the current ones, or the new ones
// an import fills.
type tables struct{ entries, terms, vocab, keys string }

var current = tables{"directory_entries", "directory_terms", "directory_vocab", "directory_vocab_keys"}

// loadTables are the tables an import fills, named after it.
func loadTables(tag string) tables {
	p := "directory_load_" + tag + "_"
	return tables{p + "entries", p + "terms", p + "vocab", p + "keys"}
}

func (t tables) list() []string { return []string{t.entries, t.terms, t.vocab, t.keys} }

// entryColumnsDDL are the columns of directory_entries, as in the
// migration (TestIndexTablesMatchMigration checks it).
const entryColumnsDDL = `
	address TEXT %[1]s NOT NULL,
	mailbox_type TEXT NOT NULL,
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	search_name TEXT %[1]s NOT NULL,
	alt_name TEXT %[1]s NOT NULL DEFAULT '',
	civility TEXT NOT NULL DEFAULT '',
	profession TEXT NOT NULL DEFAULT '',
	profession_code TEXT NOT NULL DEFAULT '',
	speciality TEXT NOT NULL DEFAULT '',
	profession_search TEXT %[1]s NOT NULL DEFAULT '',
	rpps TEXT NOT NULL DEFAULT '',
	adeli TEXT NOT NULL DEFAULT '',
	structure_id TEXT NOT NULL DEFAULT '',
	finess TEXT NOT NULL DEFAULT '',
	structure_name TEXT NOT NULL DEFAULT '',
	service TEXT NOT NULL DEFAULT '',
	postal_address TEXT NOT NULL DEFAULT '',
	postal_code TEXT %[1]s NOT NULL DEFAULT '',
	commune TEXT NOT NULL DEFAULT '',
	commune_code TEXT %[1]s NOT NULL DEFAULT '',
	department TEXT %[1]s NOT NULL DEFAULT '',
	reachable_by_patients BOOLEAN NOT NULL DEFAULT FALSE`

// indexTables returns the statements creating the tables t (without their
// indexes) and, separately, their indexes, named after tag.
func indexTables(d db.Dialect, t tables, tag string) (create, index []string) {
	c, id := "", "INTEGER PRIMARY KEY" // SQLite: the rowid
	if d == db.Postgres {
		c, id = `COLLATE "C"`, "BIGINT PRIMARY KEY"
	}
	create = []string{
		`CREATE TABLE ` + t.entries + ` (
	id ` + id + `,
	source TEXT NOT NULL,
	account_id BIGINT,` + fmt.Sprintf(entryColumnsDDL, c) + `
)`,
		`CREATE TABLE ` + t.terms + ` (term TEXT ` + c + ` NOT NULL, kind TEXT NOT NULL, entry_id BIGINT NOT NULL)`,
		`CREATE TABLE ` + t.vocab + ` (term TEXT ` + c + ` NOT NULL)`,
		`CREATE TABLE ` + t.keys + ` (key TEXT ` + c + ` NOT NULL, term TEXT ` + c + ` NOT NULL)`,
	}
	ix := "directory_ix_" + tag + "_"
	index = []string{
		`CREATE INDEX ` + ix + `address ON ` + t.entries + ` (address)`,
		`CREATE INDEX ` + ix + `place ON ` + t.entries + ` (kind, department, commune_code)`,
		`CREATE INDEX ` + ix + `rpps ON ` + t.entries + ` (rpps) WHERE rpps <> ''`,
		`CREATE UNIQUE INDEX ` + ix + `terms ON ` + t.terms + ` (term, kind, entry_id)`,
		`CREATE INDEX ` + ix + `terms_entry ON ` + t.terms + ` (entry_id)`,
		`CREATE UNIQUE INDEX ` + ix + `vocab ON ` + t.vocab + ` (term)`,
		`CREATE UNIQUE INDEX ` + ix + `keys ON ` + t.keys + ` (key, term)`,
	}
	return create, index
}

// inserter writes to the index tables in a transaction, reusing its
// prepared multi-row statements (preparing a statement of 10,000
// parameters costs as much as running it on SQLite).
type inserter struct {
	d     db.Dialect
	tx    *sql.Tx
	t     tables
	stmts map[string]*sql.Stmt
}

func newInserter(d db.Dialect, tx *sql.Tx, t tables) *inserter {
	return &inserter{d: d, tx: tx, t: t, stmts: map[string]*sql.Stmt{}}
}

func (in *inserter) close() {
	for _, st := range in.stmts {
		st.Close()
	}
}

// stmt returns the statement "head (row), (row)… tail" of n rows of
// width parameters, prepared once.
func (in *inserter) stmt(ctx context.Context, head, tail string, n, width int) (*sql.Stmt, error) {
	key := fmt.Sprintf("%s\x00%s\x00%d", head, tail, n)
	if st, ok := in.stmts[key]; ok {
		return st, nil
	}
	var b strings.Builder
	b.WriteString(head)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + bulkPlaceholders(in.d, i*width+1, width) + ")")
	}
	b.WriteString(tail)
	st, err := in.tx.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, err
	}
	if len(in.stmts) > 16 { // odd sizes: do not keep them all
		for k, old := range in.stmts {
			old.Close()
			delete(in.stmts, k)
		}
	}
	in.stmts[key] = st
	return st, nil
}

// exec runs "head (row), (row)… tail" over rows of width values, 1,000
// rows per statement at most.
func (in *inserter) exec(ctx context.Context, head, tail string, width int, values []any) error {
	const rows = 1000
	for start := 0; start < len(values); start += rows * width {
		chunk := values[start:min(start+rows*width, len(values))]
		st, err := in.stmt(ctx, head, tail, len(chunk)/width, width)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, chunk...); err != nil {
			return err
		}
	}
	return nil
}

// insertEntries inserts entries (their ids set) and their words; it
// returns the words, for the vocabulary.
func (in *inserter) insertEntries(ctx context.Context, es []*entry) ([]string, error) {
	if len(es) == 0 {
		return nil, nil
	}
	args := make([]any, 0, entryInsertCount*len(es))
	var ps []any // term, kind, entry id
	var terms []string
	for _, e := range es {
		args = append(args, e.args()...)
		for _, t := range entryTerms(e.SearchName, e.AltName) {
			ps = append(ps, t, termKind(e.Kind), e.ID)
			terms = append(terms, t)
		}
	}
	if err := in.exec(ctx, `INSERT INTO `+in.t.entries+` (`+entryInsertColumns+`) VALUES `, ``, entryInsertCount, args); err != nil {
		return nil, fmt.Errorf("directory: insert entries: %w", err)
	}
	if err := in.exec(ctx, `INSERT INTO `+in.t.terms+` (term, kind, entry_id) VALUES `, ``, 3, ps); err != nil {
		return nil, fmt.Errorf("directory: insert terms: %w", err)
	}
	return terms, nil
}

// bulkPlaceholders is db.Placeholders for the multi-row statements of the
// index: "?" on SQLite, which looks "$N" parameters up by name in a list,
// so that preparing and binding a statement of thousands of them is
// quadratic (an import spent 90 % of its time there).
func bulkPlaceholders(d db.Dialect, from, n int) string {
	if d != db.SQLite {
		return db.Placeholders(from, n)
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// addVocab adds the words not in the (indexed) vocabulary yet, with their
// deletion keys. Concurrent writers may add the same word: both are
// idempotent.
func (in *inserter) addVocab(ctx context.Context, terms []string) error {
	const batch = 500
	seen := map[string]bool{}
	var uniq []any
	for _, t := range terms {
		if !seen[t] {
			seen[t] = true
			uniq = append(uniq, t)
		}
	}
	for start := 0; start < len(uniq); start += batch {
		chunk := uniq[start:min(start+batch, len(uniq))]
		st, err := in.stmt(ctx, `INSERT INTO `+in.t.vocab+` (term) VALUES `, ` ON CONFLICT (term) DO NOTHING RETURNING term`, len(chunk), 1)
		if err != nil {
			return fmt.Errorf("directory: vocabulary: %w", err)
		}
		rows, err := st.QueryContext(ctx, chunk...)
		if err != nil {
			return fmt.Errorf("directory: vocabulary: %w", err)
		}
		var keys []any
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return err
			}
			for _, k := range deletionKeys(t) {
				keys = append(keys, k, t)
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("directory: vocabulary: %w", err)
		}
		if err := in.exec(ctx, `INSERT INTO `+in.t.keys+` (key, term) VALUES `, ` ON CONFLICT (key, term) DO NOTHING`, 2, keys); err != nil {
			return fmt.Errorf("directory: vocabulary keys: %w", err)
		}
	}
	return nil
}

// loadVocab writes distinct new words and their keys into tables without
// indexes (an import's).
func (in *inserter) loadVocab(ctx context.Context, terms []string) error {
	var ts, keys []any
	for _, t := range terms {
		ts = append(ts, t)
		for _, k := range deletionKeys(t) {
			keys = append(keys, k, t)
		}
	}
	if err := in.exec(ctx, `INSERT INTO `+in.t.vocab+` (term) VALUES `, ``, 1, ts); err != nil {
		return fmt.Errorf("directory: vocabulary: %w", err)
	}
	if err := in.exec(ctx, `INSERT INTO `+in.t.keys+` (key, term) VALUES `, ``, 2, keys); err != nil {
		return fmt.Errorf("directory: vocabulary keys: %w", err)
	}
	return nil
}

// visibleSQL is the SQL condition (on alias e) hiding an imported entry
// whose address is a local account's: the local account (enabled or not,
// reachable or not) is authoritative.
const visibleSQL = `(e.account_id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM accounts a WHERE a.address = e.address))`

// prepareSearch brings the local entries up to date: one cheap query when
// no account changed.
func (s *Store) prepareSearch(ctx context.Context) error {
	var n int
	err := s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM directory_pending LIMIT 1) p`).Scan(&n)
	if err != nil {
		return fmt.Errorf("directory: search: %w", err)
	}
	if n == 0 {
		return nil
	}
	return s.RefreshLocal(ctx)
}

// RefreshLocal rebuilds the directory entries of the accounts queued in
// directory_pending (by the triggers on accounts). Searches call it; it is
// exported for tools that want the index current right away.
func (s *Store) RefreshLocal(ctx context.Context) error {
	for {
		var ids []int64
		rows, err := s.db.Read().QueryContext(ctx, `SELECT account_id FROM directory_pending ORDER BY account_id LIMIT 200`)
		if err != nil {
			return fmt.Errorf("directory: refresh: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("directory: refresh: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		err = s.db.Tx(ctx, func(tx *sql.Tx) error {
			for _, id := range ids {
				if err := s.refreshAccount(ctx, tx, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("directory: refresh: %w", err)
		}
		if len(ids) < 200 {
			return nil
		}
	}
}

func (s *Store) refreshAccount(ctx context.Context, tx *sql.Tx, id int64) error {
	// Whoever deletes the queue row rebuilds the entry: on PostgreSQL a
	// concurrent refresher waits here, then finds nothing to do.
	res, err := tx.ExecContext(ctx, `DELETE FROM directory_pending WHERE account_id = $1`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	// A local entry's id is minus its account's.
	if _, err := tx.ExecContext(ctx, `DELETE FROM directory_terms WHERE entry_id = $1`, -id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM directory_entries WHERE id = $1`, -id); err != nil {
		return err
	}
	a, err := scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	e := localEntry(a)
	if e == nil {
		return nil
	}
	if e.Kind == KindProfessional {
		// Professional accounts have no postal address: take the place of
		// the same mailbox in an imported extract, if any.
		err := tx.QueryRowContext(ctx, `SELECT e.structure_id, e.structure_name, e.service, e.postal_address,
			e.postal_code, e.commune, e.commune_code, e.department, e.profession_code, e.speciality
			FROM directory_entries e WHERE e.address = $1 AND e.account_id IS NULL ORDER BY e.id LIMIT 1`, e.Address).Scan(
			&e.StructureID, &e.StructureName, &e.Service, &e.PostalAddress, &e.PostalCode, &e.Commune,
			&e.CommuneCode, &e.Department, &e.ProfessionCode, &e.Speciality)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	in := newInserter(s.db.Dialect, tx, current)
	defer in.close()
	terms, err := in.insertEntries(ctx, []*entry{e})
	if err != nil {
		return err
	}
	return in.addVocab(ctx, terms)
}

// localEntry is the directory entry of a local account: enabled pharmacies
// (reachable by patients or not: the search filters) and professionals.
func localEntry(a *Account) *entry {
	if a.Disabled {
		return nil
	}
	id := a.ID
	e := &entry{ID: -id, Source: LocalSource, AccountID: &id, Address: a.Address,
		MailboxType: string(a.MailboxType), Name: a.DisplayName, SearchName: gazetteer.Fold(a.DisplayName)}
	switch {
	case a.Role == Pharmacy && a.Pharmacy != nil:
		p := a.Pharmacy
		e.Kind, e.FINESS, e.StructureID = KindPharmacy, p.FINESS, p.FINESS
		e.PostalAddress, e.PostalCode, e.Commune = p.PostalAddress, p.PostalCode, p.Commune
		e.Reachable = p.ReachableByPatients
		g := gazetteer.Default()
		if c := g.Locate(p.PostalCode, p.Commune); c != nil {
			e.CommuneCode, e.Department = c.Code, c.Department
		} else {
			e.Department = g.DepartmentOfPostalCode(p.PostalCode)
		}
	case a.Role == Professional && a.Professional != nil:
		p := a.Professional
		e.Kind, e.RPPS, e.ADELI, e.Profession = KindProfessional, p.RPPS, p.ADELI, p.Profession
	default:
		return nil
	}
	return e
}
