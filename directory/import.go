package directory

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"mssanted/db"
	"mssanted/directory/gazetteer"
)

// The national directory extract, Extraction_Correspondance_MSSante_AAAAMMJJhhmm.txt
// (reference.md): UTF-8, "|"-separated, one header line, 31 columns, one
// line per mailbox. The address is its only key: an import replaces the
// whole source.

// ExtractColumns is the number of columns of the extract.
const ExtractColumns = 31

// MaxExtractLine bounds a line of the extract (a real one is under 500 bytes).
const MaxExtractLine = 16 << 10

// ExtractRecord is one line of the extract, its columns in order, trimmed.
type ExtractRecord struct {
	MailboxType             string // 1 Type de BAL: PER, ORG, APP
	Address                 string // 2 Adresse BAL
	PPIDType                string // 3 Type Identifiant PP: 8 RPPS, 0 ADELI
	PPID                    string // 4 Identifiant PP
	PPNationalID            string // 5 Identification nationale PP (type + identifier)
	StructureIDType         string // 6 Type identifiant structure: 1 FINESS, 3 SIRET, 4 RPPS office…
	StructureID             string // 7 Identification Structure
	Service                 string // 8 Service de rattachement
	Civility                string // 9 Civilité d'exercice
	LastName                string // 10 Nom d'exercice
	FirstName               string // 11 Prénom d'exercice
	ProfessionCategory      string // 12 Catégorie profession
	ProfessionCategoryLabel string // 13 Libellé de catégorie profession
	ProfessionCode          string // 14 Code Profession
	Profession              string // 15 Libellé Profession
	SkillCode               string // 16 Code savoir-faire
	Skill                   string // 17 Libellé savoir-faire
	Dematerialisation       string // 18 Dématérialisation
	CompanyName             string // 19 Raison Sociale structure BAL
	TradeName               string // 20 Enseigne commerciale structure BAL
	AddressComplement       string // 21 L2 complément localisation
	DistributionComplement  string // 22 L3 complément distribution
	StreetNumber            string // 23 L4 numéro voie
	StreetNumberComplement  string // 24 L4 complément numéro voie
	StreetType              string // 25 L4 type voie
	StreetName              string // 26 L4 libellé voie
	Locality                string // 27 L5 lieu-dit, mention
	DeliveryLine            string // 28 L6 ligne d'acheminement
	PostalCode              string // 29 Code postal
	Department              string // 30 Département
	Country                 string // 31 Pays
}

func (r *ExtractRecord) fields() []*string {
	return []*string{&r.MailboxType, &r.Address, &r.PPIDType, &r.PPID, &r.PPNationalID, &r.StructureIDType,
		&r.StructureID, &r.Service, &r.Civility, &r.LastName, &r.FirstName, &r.ProfessionCategory,
		&r.ProfessionCategoryLabel, &r.ProfessionCode, &r.Profession, &r.SkillCode, &r.Skill,
		&r.Dematerialisation, &r.CompanyName, &r.TradeName, &r.AddressComplement, &r.DistributionComplement,
		&r.StreetNumber, &r.StreetNumberComplement, &r.StreetType, &r.StreetName, &r.Locality,
		&r.DeliveryLine, &r.PostalCode, &r.Department, &r.Country}
}

// ExtractHeader is the header line of the extract.
const ExtractHeader = "Type de BAL|Adresse BAL|Type Identifiant PP|Identifiant PP|Identification nationale PP|" +
	"Type identifiant structure|Identification Structure|Service de rattachement|Civilité d'exercice|" +
	"Nom d'exercice|Prénom d'exercice|Catégorie profession|Libellé de catégorie profession|Code Profession|" +
	"Libellé Profession|Code savoir-faire|Libellé savoir-faire|Dématérialisation|Raison Sociale structure BAL|" +
	"Enseigne commerciale structure BAL|L2COMPLEMENTLOCALISATION structure BAL|" +
	"L3COMPLEMENTDISTRIBUTION structure BAL|L4NUMEROVOIE structure BAL|L4COMPLEMENTNUMEROVOIE structure BAL|" +
	"NL4TYPEVOIE structure BAL|L4LIBELLEVOIE structure BAL|L5LIEUDITMENTION structure BAL|" +
	"L6LIGNEACHEMINEMENT structure BAL|Code postal structure BAL|Département structure BAL|Pays structure BAL"

// Line renders the record as a line of the extract (without line ending);
// a "|" or a line break inside a field becomes a space.
func (r ExtractRecord) Line() string {
	var b strings.Builder
	for i, f := range r.fields() {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(strings.Map(func(c rune) rune {
			if c == '|' || c == '\n' || c == '\r' {
				return ' '
			}
			return c
		}, *f))
	}
	return b.String()
}

// ParseExtractLine parses one data line (without its line ending). It
// refuses, wrapping ErrInvalid: another number of columns, invalid UTF-8,
// control characters, an unknown mailbox type, a missing or malformed
// address. Everything else is taken as given (the national directory is
// the authority on its content).
func ParseExtractLine(line string) (ExtractRecord, error) {
	var r ExtractRecord
	line = strings.TrimSuffix(line, "\r")
	if len(line) > MaxExtractLine {
		return r, invalid("line longer than %d bytes", MaxExtractLine)
	}
	if !utf8.ValidString(line) {
		return r, invalid("not UTF-8")
	}
	if n := strings.Count(line, "|") + 1; n != ExtractColumns {
		return r, invalid("%d columns, want %d", n, ExtractColumns)
	}
	for _, c := range line {
		if c < 0x20 && c != '\t' || c == 0x7F || c >= 0x80 && c < 0xA0 || c == utf8.RuneError {
			return r, invalid("control character %U", c)
		}
	}
	fs := r.fields()
	for i := 0; i < ExtractColumns; i++ {
		v, rest, _ := strings.Cut(line, "|")
		*fs[i] = strings.TrimSpace(v)
		line = rest
	}
	r.MailboxType = strings.ToUpper(r.MailboxType)
	switch MailboxType(r.MailboxType) {
	case PER, ORG, APP:
	case "":
		return r, invalid("no mailbox type (column 1)")
	default:
		return r, invalid("mailbox type %q is not PER, ORG or APP", r.MailboxType)
	}
	if r.Address == "" {
		return r, invalid("no mailbox address (column 2)")
	}
	a, err := NormalizeAddress(r.Address)
	if err != nil {
		return r, invalid("mailbox address %q is malformed", r.Address)
	}
	r.Address = a
	return r, nil
}

// isExtractHeader reports whether a line is the header of the extract.
func isExtractHeader(line string) bool {
	line = strings.TrimPrefix(strings.TrimSuffix(line, "\r"), "\uFEFF")
	first, _, _ := strings.Cut(line, "|")
	return strings.Count(line, "|")+1 == ExtractColumns && gazetteer.Fold(first) == "type de bal"
}

// Pharmacy rule. The extract has no FINESS category column (620, "Pharmacie
// d'officine", is in FINESS, not here), so a mailbox is taken for an
// officine's when:
//   - it is organisational (ORG): the mailbox patients may write to first;
//   - it is tied to a structure (column 7 set; FINESS, type 1, as a rule);
//   - the structure's trade name or company name (columns 20, 19) has the
//     word "pharmacie" (or "pharmacies", "officine");
//   - and neither they nor the service (column 8) name a hospital or care
//     establishment, whose internal pharmacy ("pharmacie à usage intérieur")
//     patients do not write to: hospitalier, CHU, CHR, CHI, GHT, clinique,
//     PUI, usage intérieur, EHPAD, GCS, or a name starting with "Hôpital"
//     ("Pharmacie de l'Hôpital" is an officine's name).
//
// Personal (PER) mailboxes of pharmacists are professionals, not pharmacies.
var (
	pharmacyWords = map[string]bool{"pharmacie": true, "pharmacies": true, "officine": true}
	hospitalWords = map[string]bool{"hospitalier": true, "hospitaliere": true,
		"hospitaliers": true, "chu": true, "chr": true, "chi": true, "ght": true, "clinique": true, "pui": true,
		"ehpad": true, "gcs": true, "interieur": true}
)

// ExtractKind classifies a line: KindPharmacy, KindProfessional,
// KindOrganisation or KindApplication.
func ExtractKind(r *ExtractRecord) string {
	switch MailboxType(r.MailboxType) {
	case PER:
		return KindProfessional
	case APP:
		return KindApplication
	}
	if r.StructureID == "" {
		return KindOrganisation
	}
	pharmacy := false
	for _, name := range []string{r.TradeName, r.CompanyName} {
		for i, t := range gazetteer.Tokens(name) {
			// "Hôpital local de X" is a hospital; "Pharmacie de l'Hôpital",
			// an officine.
			if hospitalWords[t] || i == 0 && (t == "hopital" || t == "hopitaux") {
				return KindOrganisation
			}
			pharmacy = pharmacy || pharmacyWords[t]
		}
	}
	for _, t := range gazetteer.Tokens(r.Service) {
		if hospitalWords[t] {
			return KindOrganisation
		}
	}
	if pharmacy {
		return KindPharmacy
	}
	return KindOrganisation
}

// extractEntry turns a parsed line into a directory entry.
func extractEntry(r *ExtractRecord, g *gazetteer.Gazetteer) *entry {
	e := &entry{Address: r.Address, MailboxType: r.MailboxType, Kind: ExtractKind(r),
		Civility: r.Civility, Profession: r.Profession, ProfessionCode: r.ProfessionCode, Speciality: r.Skill,
		StructureID: r.StructureID, Service: r.Service}
	switch r.PPIDType {
	case "8":
		e.RPPS = nationalID(r.PPID, r.PPNationalID, 11)
	case "0":
		e.ADELI = nationalID(r.PPID, r.PPNationalID, 9)
	}
	if r.StructureIDType == "1" {
		e.FINESS = nationalID(r.StructureID, r.StructureID, 9)
	}
	company := prettyName(r.CompanyName)
	trade := prettyName(r.TradeName)
	switch e.Kind {
	case KindProfessional:
		e.Name = strings.TrimSpace(r.FirstName + " " + r.LastName)
		e.StructureName = firstNonEmpty(trade, company)
	default:
		e.Name = firstNonEmpty(trade, company)
		e.StructureName = company
		if svc := prettyName(r.Service); svc != "" && e.Kind != KindPharmacy {
			if e.Name == "" {
				e.Name = svc
			} else {
				e.Name += " - " + svc
			}
		}
		if trade != "" && company != "" && gazetteer.Fold(trade) != gazetteer.Fold(company) {
			e.AltName = gazetteer.Fold(company)
		}
	}
	if e.Name == "" {
		e.Name = r.Address
	}
	e.SearchName = gazetteer.Fold(e.Name)
	// Postal address: "38 AV Parmentier", else the locality.
	num := strings.TrimSpace(r.StreetNumber + " " + r.StreetNumberComplement)
	e.PostalAddress = strings.Join(strings.Fields(num+" "+r.StreetType+" "+prettyStreet(r.StreetName)), " ")
	if e.PostalAddress == "" {
		e.PostalAddress = prettyName(r.Locality)
	}
	e.PostalCode = r.PostalCode
	if c := g.Locate(r.PostalCode, r.DeliveryLine); c != nil {
		e.Commune, e.CommuneCode, e.Department = c.Name, c.Code, c.Department
	} else {
		e.Commune = prettyName(strings.TrimSpace(strings.TrimPrefix(r.DeliveryLine, r.PostalCode)))
		e.Department = g.DepartmentOfPostalCode(r.PostalCode)
		if e.Department == "" {
			if d := g.Department(r.Department); d != nil {
				e.Department = d.Code
			}
		}
	}
	e.Reachable = e.Kind == KindPharmacy
	return e
}

// nationalID returns the identifier of n digits: the column as given, or
// the national identifier without its type prefix.
func nationalID(id, national string, n int) string {
	if len(id) == n {
		return id
	}
	if len(national) == n+1 {
		return national[1:]
	}
	return id
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// smallWords stay lowercase in prettyName, but as the first word.
var smallWords = map[string]bool{"de": true, "du": true, "des": true, "la": true, "le": true, "les": true,
	"et": true, "en": true, "sur": true, "sous": true, "aux": true, "au": true, "a": true, "l": true, "d": true}

// prettyName turns an all-capitals name ("PHARMACIE DE LA GARE") into
// "Pharmacie de la Gare"; names with lowercase letters are kept as given.
func prettyName(s string) string { return pretty(s, 1) }

// prettyStreet is prettyName for the name of a street, after its type:
// "DE LA GARE" → "de la Gare" ("12 PL de la Gare").
func prettyStreet(s string) string { return pretty(s, 0) }

func pretty(s string, keepFirst int) string {
	s = strings.Join(strings.Fields(s), " ")
	for _, c := range s {
		if unicode.IsLower(c) {
			return s
		}
	}
	var b strings.Builder
	word := 0
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			b.WriteRune(r)
			s = s[n:]
			continue
		}
		end := 0
		for end < len(s) {
			r, n := utf8.DecodeRuneInString(s[end:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			end += n
		}
		w := strings.ToLower(s[:end])
		s = s[end:]
		word++
		if word > keepFirst && smallWords[w] {
			b.WriteString(w)
			continue
		}
		r, n = utf8.DecodeRuneInString(w)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteString(w[n:])
	}
	return b.String()
}

// ExtractImport tells ImportExtract where the data come from.
type ExtractImport struct {
	// Source names the directory the file is an extract of; a re-import
	// replaces the entries of that source. Default "mssante".
	Source string
	// File is the file name, for the record; a name like
	// Extraction_Correspondance_MSSante_202503131454.txt gives the
	// extraction time.
	File string
	// MaxRejectedRatio refuses the import (nothing replaced) when more
	// lines than this are bad: a wrong file. Default 0.5.
	MaxRejectedRatio float64
	// Progress, when set, is called every 50,000 lines.
	Progress func(lines int)
}

// DefaultExtractSource is the source name of the national extract.
const DefaultExtractSource = "mssante"

// MaxReportedRejects bounds the bad lines listed in a report (all are counted).
const MaxReportedRejects = 1000

// RejectedLine is a bad line of the extract.
type RejectedLine struct {
	Line   int // from 1, the header being line 1
	Reason string
}

// ExtractReport is what an import did.
type ExtractReport struct {
	Source      string
	File        string
	ExtractedAt string // "2025-03-13 14:54" from the file name, or ""
	Lines       int    // data lines read (the header excluded)
	Entries     int    // imported
	Kinds       map[string]int
	Rejected    int // bad lines (duplicates included)
	Duplicates  int // lines repeating an address (the first one is kept)
	// RejectedLines lists the first MaxReportedRejects bad lines.
	RejectedLines []RejectedLine
	Previous      int // entries of the source before
	Words         int // distinct words indexed, all sources
	Duration      time.Duration
	// The phases of Duration: reading and writing the entries into new
	// tables, the vocabulary, building the indexes, the swap (the only
	// moment searches wait, on PostgreSQL), dropping the old tables.
	WriteTime, VocabTime, IndexTime, SwapTime, CleanupTime time.Duration
}

var extractNameRE = regexp.MustCompile(`(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})\D*$`)

var sourceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ImportExtract reads a national directory extract and replaces the
// entries of its source with the file's. It streams: memory grows with the
// number of distinct words and addresses, not with the file.
//
// The entries go into new tables, without indexes, named after the import;
// the entries of the other imported sources are copied there first. The
// indexes are then built, and one short transaction copies the local
// entries and swaps the new tables for the current ones. Searches see the
// previous directory until that commit, the new one after; a failure or an
// interruption leaves the previous directory (and new tables, which the
// next import drops). With SQLite no transaction holds the single writer
// for long (batches of a few thousand lines; an index build; the swap), so
// mail delivery goes on during an import. Two imports at once: one of them
// fails, changing nothing.
//
// Bad lines are skipped, counted and reported with their line numbers. A
// file without a header, without any valid line, or with more bad lines
// than MaxRejectedRatio is refused (ErrInvalid) and changes nothing.
func (s *Store) ImportExtract(ctx context.Context, r io.Reader, opt ExtractImport) (*ExtractReport, error) {
	start := time.Now()
	if opt.Source == "" {
		opt.Source = DefaultExtractSource
	}
	if !sourceRE.MatchString(opt.Source) || opt.Source == LocalSource {
		return nil, invalid("source name %q: lowercase letters, digits, '.', '_', '-', not %q", opt.Source, LocalSource)
	}
	if opt.MaxRejectedRatio == 0 {
		opt.MaxRejectedRatio = 0.5
	}
	rep := &ExtractReport{Source: opt.Source, File: filepath.Base(opt.File), Kinds: map[string]int{}}
	if m := extractNameRE.FindStringSubmatch(rep.File); m != nil && rep.File != "." {
		rep.ExtractedAt = fmt.Sprintf("%s-%s-%s %s:%s", m[1], m[2], m[3], m[4], m[5])
	}
	g := gazetteer.Default()
	br := bufio.NewReaderSize(r, 64<<10)
	// The header first: a file that is not an extract changes nothing.
	header, _, err := readLine(br)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("directory: import: line 1: %w", err)
	}
	if header == "" && err == io.EOF {
		return nil, invalid("empty file: no header")
	}
	if !isExtractHeader(header) {
		return nil, invalid("line 1 is not the header of an Extraction_Correspondance_MSSante file (%d columns, \"Type de BAL|Adresse BAL|…\")", ExtractColumns)
	}

	if s.db.Dialect == db.SQLite {
		// A larger page cache for the writes and the index builds (16 MiB:
		// more costs memory without measurable gain), and a checkpoint
		// every 64 MB of WAL rather than 4 MB.
		for _, p := range []string{`PRAGMA cache_size = -16384`, `PRAGMA wal_autocheckpoint = 16384`} {
			if _, err := s.db.Write().ExecContext(ctx, p); err != nil {
				return nil, fmt.Errorf("directory: import: %w", err)
			}
		}
		defer func() {
			ctx := context.WithoutCancel(ctx)
			s.db.Write().ExecContext(ctx, `PRAGMA cache_size = -2000`)
			s.db.Write().ExecContext(ctx, `PRAGMA wal_autocheckpoint = 1000`)
		}()
	}
	// Tables left by interrupted imports go first.
	if err := s.dropLoadTables(ctx, ""); err != nil {
		return nil, err
	}
	tag := fmt.Sprintf("%x", db.Micros(start))
	load := loadTables(tag)
	swapped := false
	defer func() {
		if !swapped {
			s.dropLoadTables(context.WithoutCancel(ctx), tag) // best effort: the next import would
		}
	}()
	var version int64
	if err := s.db.Read().QueryRowContext(ctx, `SELECT generation FROM directory_sources WHERE name = $1`, LocalSource).Scan(&version); err != nil {
		return nil, fmt.Errorf("directory: import: %w", err)
	}
	var others int // other imported sources
	if err := s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM directory_sources WHERE name <> $1 AND name <> $2`,
		LocalSource, opt.Source).Scan(&others); err != nil {
		return nil, fmt.Errorf("directory: import: %w", err)
	}
	create, indexes := indexTables(s.db.Dialect, load, tag)
	nextID := int64(1)
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, c := range create {
			if _, err := tx.ExecContext(ctx, c); err != nil {
				return err
			}
		}
		if others == 0 {
			return nil
		}
		// The other imported sources stay as they are.
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+load.entries+` (`+entryInsertColumns+`)
			SELECT `+entryInsertColumns+` FROM directory_entries WHERE id > 0 AND source <> $1`, opt.Source); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+load.terms+` (term, kind, entry_id)
			SELECT t.term, t.kind, t.entry_id FROM directory_terms t JOIN directory_entries e ON e.id = t.entry_id
			WHERE e.id > 0 AND e.source <> $1`, opt.Source); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM `+load.entries).Scan(&nextID)
	})
	if err != nil {
		return nil, fmt.Errorf("directory: import: %w", err)
	}

	seed := maphash.MakeSeed()
	// Address hash → line: 12 bytes an address rather than the address (a
	// 64-bit collision, 1 in 10^8 over an extract, would reject a line).
	seen := make(map[uint64]int32, 1<<16)
	terms := map[string]struct{}{}
	var batch []*entry
	const batchSize = 1000
	const batchesPerTx = 5
	var pending [][]*entry
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			in := newInserter(s.db.Dialect, tx, load)
			defer in.close()
			for _, b := range pending {
				ts, err := in.insertEntries(ctx, b)
				if err != nil {
					return err
				}
				for _, t := range ts {
					terms[t] = struct{}{}
				}
			}
			return nil
		})
		pending = pending[:0]
		if err != nil {
			return fmt.Errorf("directory: import: %w", err)
		}
		return nil
	}
	reject := func(line int, reason string) {
		rep.Rejected++
		if len(rep.RejectedLines) < MaxReportedRejects {
			rep.RejectedLines = append(rep.RejectedLines, RejectedLine{Line: line, Reason: reason})
		}
	}
	lineNo := 1
	for {
		line, tooLong, err := readLine(br)
		if err == io.EOF && line == "" && !tooLong {
			break
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("directory: import: line %d: %w", lineNo+1, err)
		}
		lineNo++
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rep.Lines++
		if opt.Progress != nil && rep.Lines%50000 == 0 {
			opt.Progress(rep.Lines)
		}
		if tooLong {
			reject(lineNo, fmt.Sprintf("line longer than %d bytes", MaxExtractLine))
			continue
		}
		if strings.TrimSpace(line) == "" {
			reject(lineNo, "empty line")
			continue
		}
		rec, perr := ParseExtractLine(line)
		if perr != nil {
			reject(lineNo, strings.TrimPrefix(perr.Error(), ErrInvalid.Error()+": "))
			continue
		}
		h := maphash.String(seed, rec.Address)
		if first, dup := seen[h]; dup {
			rep.Duplicates++
			reject(lineNo, fmt.Sprintf("address %s already on line %d", rec.Address, first))
			continue
		}
		seen[h] = int32(lineNo)
		e := extractEntry(&rec, g)
		e.ID, e.Source = nextID, opt.Source
		nextID++
		rep.Kinds[e.Kind]++
		rep.Entries++
		batch = append(batch, e)
		if len(batch) == batchSize {
			pending = append(pending, batch)
			batch = nil
			if len(pending) == batchesPerTx {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	seen = nil
	if rep.Entries == 0 {
		return nil, invalid("no valid line in %d: nothing imported, the previous entries stay", rep.Lines)
	}
	if float64(rep.Rejected) > opt.MaxRejectedRatio*float64(rep.Lines) {
		return nil, invalid("%d of %d lines are bad (first: line %d: %s): refusing the import, the previous entries stay",
			rep.Rejected, rep.Lines, rep.RejectedLines[0].Line, rep.RejectedLines[0].Reason)
	}
	if len(batch) > 0 {
		pending = append(pending, batch)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	rep.WriteTime = time.Since(start)

	// The vocabulary: the words of this file and of the other sources.
	if others > 0 {
		rows, err := s.db.Read().QueryContext(ctx, `SELECT DISTINCT term FROM `+load.terms)
		if err != nil {
			return nil, fmt.Errorf("directory: import: %w", err)
		}
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return nil, err
			}
			terms[t] = struct{}{}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("directory: import: %w", err)
		}
	}
	words := make([]string, 0, len(terms))
	for t := range terms {
		words = append(words, t)
	}
	terms = nil
	rep.Words = len(words)
	for start := 0; start < len(words); start += 10000 {
		chunk := words[start:min(start+10000, len(words))]
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			in := newInserter(s.db.Dialect, tx, load)
			defer in.close()
			return in.loadVocab(ctx, chunk)
		})
		if err != nil {
			return nil, fmt.Errorf("directory: import: %w", err)
		}
	}
	rep.VocabTime = time.Since(start) - rep.WriteTime

	for _, ix := range indexes {
		if _, err := s.db.Write().ExecContext(ctx, ix); err != nil {
			return nil, fmt.Errorf("directory: import: index: %w", err)
		}
	}
	if s.db.Dialect == db.Postgres {
		// The planner's statistics: new tables have none until autovacuum
		// comes, and plans made blind were 10 times slower at p99.
		if _, err := s.db.Write().ExecContext(ctx, `ANALYZE `+strings.Join(load.list(), ", ")); err != nil {
			return nil, fmt.Errorf("directory: import: analyze: %w", err)
		}
	}
	rep.IndexTime = time.Since(start) - rep.WriteTime - rep.VocabTime

	old := loadTables(tag + "_old")
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if s.db.Dialect == db.Postgres {
			// Refreshes of local entries in progress finish first; later
			// ones wait, then write to the new tables.
			if _, err := tx.ExecContext(ctx, `LOCK TABLE directory_entries, directory_terms, directory_vocab,
				directory_vocab_keys IN ACCESS EXCLUSIVE MODE`); err != nil {
				return err
			}
		}
		var v int64
		var prev sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT generation FROM directory_sources WHERE name = $1`+s.db.ForUpdate(),
			LocalSource).Scan(&v); err != nil {
			return err
		}
		if v != version {
			return fmt.Errorf("another import finished meanwhile: this one changed nothing, run it again")
		}
		err := tx.QueryRowContext(ctx, `SELECT entries FROM directory_sources WHERE name = $1`, opt.Source).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rep.Previous = int(prev.Int64)
		// The local entries, as they are now, and their words.
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+load.entries+` (`+entryInsertColumns+`)
			SELECT `+entryInsertColumns+` FROM directory_entries WHERE id < 0`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+load.terms+` (term, kind, entry_id)
			SELECT term, kind, entry_id FROM directory_terms WHERE entry_id < 0`); err != nil {
			return err
		}
		var local []string
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT term FROM directory_terms WHERE entry_id < 0`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return err
			}
			local = append(local, t)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		in := newInserter(s.db.Dialect, tx, load)
		defer in.close()
		if err := in.addVocab(ctx, local); err != nil {
			return err
		}
		// Local professionals take their place from their imported twin.
		if _, err := tx.ExecContext(ctx, `INSERT INTO directory_pending (account_id)
			SELECT a.id FROM accounts a WHERE a.role = 'professional' AND EXISTS (SELECT 1 FROM `+load.entries+` e
				WHERE e.address = a.address AND e.source = $1)
			ON CONFLICT (account_id) DO NOTHING`, opt.Source); err != nil {
			return err
		}
		args := []any{opt.Source, rep.File, rep.ExtractedAt, db.Now(), rep.Lines, rep.Entries, rep.Kinds[KindPharmacy], rep.Rejected}
		if prev.Valid {
			_, err = tx.ExecContext(ctx, `UPDATE directory_sources SET file = $2, extracted_at = $3,
				imported_at = $4, lines = $5, entries = $6, pharmacies = $7, rejected = $8 WHERE name = $1`, args...)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO directory_sources (name, generation, file, extracted_at, imported_at,
				lines, entries, pharmacies, rejected) VALUES ($1, 0, $2, $3, $4, $5, $6, $7, $8)`, args...)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE directory_sources SET generation = generation + 1 WHERE name = $1`, LocalSource); err != nil {
			return err
		}
		for i, cur := range current.list() {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE `+cur+` RENAME TO `+old.list()[i]); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `ALTER TABLE `+load.list()[i]+` RENAME TO `+cur); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("directory: import: %w", err)
	}
	swapped = true
	rep.SwapTime = time.Since(start) - rep.WriteTime - rep.VocabTime - rep.IndexTime
	if err := s.dropLoadTables(ctx, tag+"_old"); err != nil {
		return nil, err
	}
	rep.Duration = time.Since(start)
	rep.CleanupTime = rep.Duration - rep.WriteTime - rep.VocabTime - rep.IndexTime - rep.SwapTime
	return rep, nil
}

// readLine reads a line without its ending. A line longer than
// MaxExtractLine is consumed whole and reported as too long.
func readLine(br *bufio.Reader) (string, bool, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > MaxExtractLine+2 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil:
			return strings.TrimRight(string(buf), "\r\n"), tooLong, err
		}
		return strings.TrimRight(string(buf), "\r\n"), tooLong, nil
	}
}

// dropLoadTables drops the tables of the import tag ("": of every import:
// those an interrupted import left behind), one per transaction.
func (s *Store) dropLoadTables(ctx context.Context, tag string) error {
	pattern := "directory_load_%"
	if tag != "" {
		pattern = "directory_load_" + tag + "_%"
	}
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE $1 ORDER BY name`
	if s.db.Dialect == db.Postgres {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1 ORDER BY tablename`
	}
	rows, err := s.db.Write().QueryContext(ctx, q, pattern)
	if err != nil {
		return fmt.Errorf("directory: import: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("directory: import: %w", err)
	}
	for _, n := range names {
		if _, err := s.db.Write().ExecContext(ctx, `DROP TABLE IF EXISTS `+n); err != nil {
			return fmt.Errorf("directory: import: drop %s: %w", n, err)
		}
	}
	return nil
}

// ExtractSource describes an imported source.
type ExtractSource struct {
	Name        string
	File        string
	ExtractedAt string
	ImportedAt  time.Time
	Lines       int
	Entries     int
	Pharmacies  int
	Rejected    int
}

// ExtractSources lists the imported sources.
func (s *Store) ExtractSources(ctx context.Context) ([]ExtractSource, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT name, file, extracted_at, imported_at, lines, entries, pharmacies, rejected
		FROM directory_sources WHERE name <> $1 ORDER BY name`, LocalSource)
	if err != nil {
		return nil, fmt.Errorf("directory: sources: %w", err)
	}
	defer rows.Close()
	var out []ExtractSource
	for rows.Next() {
		var x ExtractSource
		var at int64
		if err := rows.Scan(&x.Name, &x.File, &x.ExtractedAt, &at, &x.Lines, &x.Entries, &x.Pharmacies, &x.Rejected); err != nil {
			return nil, err
		}
		x.ImportedAt = db.Time(at)
		out = append(out, x)
	}
	return out, rows.Err()
}
