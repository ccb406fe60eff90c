package directory

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"mssanted/db"
	"mssanted/directory/gazetteer"
)

// The directory searches: "Rechercher une pharmacie" for patients (and
// everyone), and the professional search for authenticated professionals.
// Both run here, in the store, over the index of search_index.go.
//
// Name matching, on folded text (case, accents, hyphens and apostrophes
// ignored):
//   - the query's significant words (stop words, and "pharmacie" in the
//     pharmacy search, are not required) must each match a word of the name:
//     exactly, as a prefix for the last word typed (autocompletion), or
//     within an edit distance of 1 (words of 4 to 7 letters) or 2 (8 and
//     more; for those, one edit on each side, or two in the query);
//   - results are ranked: exact name, then name starting with the query,
//     then same words with typos, then all words (any order), then all
//     words with the last one completed, then words with typos; ties by
//     fewer edits, shorter name, name, postal code.
//
// Places go through the gazetteer (commune, postal code, department or
// region: gazetteer.Resolve) and are required when given.

// Search bounds.
const (
	MaxSearchNameLength  = 100
	MaxSearchPlaceLength = 100
	DefaultPageSize      = 20
	MaxPageSize          = 50
	// MaxCandidates bounds the entries a name query ranks in memory; a
	// query matching more is answered from the first MaxCandidates, with
	// Truncated set.
	MaxCandidates = 5000
)

// ErrForbidden is returned when the actor may not run this search.
var ErrForbidden = errors.New("forbidden")

// PharmacyQuery is a pharmacy search. At least one of Name and Place.
type PharmacyQuery struct {
	Name  string // e.g. "Pharmacie de la Gare", at most 100 characters
	Place string // commune, postal code, department: "Moulins", "03000", "03", "Allier", "Paris - 75"
	// Page counts from 1 (0: 1); PageSize is at most 50 (0: 20).
	Page, PageSize int
}

// PharmacyPage is a page of results.
type PharmacyPage struct {
	Results  []PharmacyResult
	Total    int // matching pharmacies, all pages
	Page     int
	PageSize int
	// Place is how the place was understood, e.g. "Moulins (02, 03, 35)",
	// "Allier (03)"; empty without a place.
	Place string
	// Truncated: the name matched more than MaxCandidates pharmacies; Total
	// and the ranking cover the first MaxCandidates only.
	Truncated bool
}

// PharmacyResult is one pharmacy found.
type PharmacyResult struct {
	Name    string // "Pharmacie de la Gare"
	Kind    string // "Pharmacie d'officine"
	Address string // "38 AV Parmentier, 75011 Paris 11e Arrondissement"
	// Mailbox is the address to write to. The API returns it; the patient
	// UI shows the name only.
	Mailbox     string
	FINESS      string
	PostalCode  string
	Commune     string
	CommuneCode string // INSEE code, "" when the gazetteer did not place it
	Department  string
	Local       bool // a mailbox of this instance
	// Match is how the name matched: exact, prefix (the name starts with
	// the query), near (same words, typos), words (all words, any order),
	// partial (the last word completed), fuzzy (words with typos); ""
	// without a name.
	Match string
}

// ProfessionalQuery is a search of health professionals. Actor is the role
// of the authenticated user asking: professionals, pharmacies and admins
// may search; patients may search pharmacies only (ErrForbidden). At least
// one of Name, Profession, RPPS and Place.
type ProfessionalQuery struct {
	Actor      Role
	Name       string // "Alice Martin", "martin"
	Profession string // a word of the profession or speciality: "médecin", "infirmier", "cardiologie"; or a profession code ("10")
	RPPS       string // 11 digits
	Place      string
	Page       int
	PageSize   int
}

// ProfessionalPage is a page of professionals found.
type ProfessionalPage struct {
	Results   []ProfessionalResult
	Total     int
	Page      int
	PageSize  int
	Place     string
	Truncated bool
}

// ProfessionalResult is one professional mailbox.
type ProfessionalResult struct {
	Name        string // "Alice MARTIN"
	Civility    string
	Profession  string // "Médecin"
	Speciality  string // "Médecine générale"
	RPPS        string
	ADELI       string
	Mailbox     string
	MailboxType string
	Structure   string // the practice or establishment
	Address     string // "", or "12 RUE X, 03000 Moulins"
	PostalCode  string
	Commune     string
	CommuneCode string
	Department  string
	Local       bool
	Match       string
}

// kindStopWords are words of the kind itself: a pharmacy search does not
// require "pharmacie" in the name, a professional search no title.
var kindStopWords = map[string]map[string]bool{
	KindPharmacy:     {"pharmacie": true, "pharmacies": true, "pharma": true, "officine": true},
	KindProfessional: {"dr": true, "docteur": true, "pr": true, "professeur": true, "m": true, "mme": true, "mlle": true, "madame": true, "monsieur": true},
}

// isKindWord reports whether t is a word of the kind, or a typo of one
// ("pharmacei"): such words are not required in names.
func isKindWord(kind, t string) bool {
	if kindStopWords[kind][t] {
		return true
	}
	if md := maxWordDist(len(t)); md > 0 {
		for w := range kindStopWords[kind] {
			if len(w) >= 4 && gazetteer.Distance(t, w, md) <= md {
				return true
			}
		}
	}
	return false
}

func pageBounds(page, size int) (int, int, error) {
	if page < 0 || size < 0 {
		return 0, 0, invalid("page and page size must be positive")
	}
	if page == 0 {
		page = 1
	}
	if size == 0 {
		size = DefaultPageSize
	}
	if size > MaxPageSize {
		return 0, 0, invalid("page size is at most %d", MaxPageSize)
	}
	if page > 1_000_000 {
		return 0, 0, invalid("page %d is out of range", page)
	}
	return page, size, nil
}

// SearchPharmacies finds the pharmacies patients may write to ("Pharmacie
// d'officine" with an organisational mailbox reachable by patients, in an
// imported directory or local to this instance and enabled). Open to every
// role: it is how a patient chooses where to send a prescription.
func (s *Store) SearchPharmacies(ctx context.Context, q PharmacyQuery) (*PharmacyPage, error) {
	name, place := strings.TrimSpace(q.Name), strings.TrimSpace(q.Place)
	if gazetteer.Fold(name) == "" && gazetteer.Fold(place) == "" {
		return nil, invalid("Saisissez au moins un champ / Enter at least one field")
	}
	if utf8.RuneCountInString(name) > MaxSearchNameLength {
		return nil, invalid("Le nom de la pharmacie ne peut dépasser %d caractères / The pharmacy name is at most %d characters", MaxSearchNameLength, MaxSearchNameLength)
	}
	page, size, err := pageBounds(q.Page, q.PageSize)
	if err != nil {
		return nil, err
	}
	sq, err := newSearch(KindPharmacy, q.Name, place)
	if err != nil {
		return nil, err
	}
	sq.where = append(sq.where, "e.reachable_by_patients = TRUE")
	hits, total, trunc, err := s.search(ctx, sq, page, size)
	if err != nil {
		return nil, err
	}
	out := &PharmacyPage{Total: total, Page: page, PageSize: size, Truncated: trunc, Results: []PharmacyResult{}}
	if sq.place != nil {
		out.Place = sq.place.Label
	}
	for _, h := range hits {
		out.Results = append(out.Results, PharmacyResult{
			Name: h.Name, Kind: PharmacyKindLabel, Address: fullAddress(h.PostalAddress, h.PostalCode, h.Commune),
			Mailbox: h.Address, FINESS: h.FINESS, PostalCode: h.PostalCode, Commune: h.Commune,
			CommuneCode: h.CommuneCode, Department: h.Department, Local: h.Source == LocalSource, Match: h.match,
		})
	}
	return out, nil
}

// SearchProfessionals finds professionals (personal mailboxes) by name,
// profession, RPPS number and place. For authenticated professionals,
// pharmacies and admins; refused to patients and to nobody.
func (s *Store) SearchProfessionals(ctx context.Context, q ProfessionalQuery) (*ProfessionalPage, error) {
	switch q.Actor {
	case Professional, Pharmacy, Admin:
	case Patient:
		return nil, fmt.Errorf("%w: patients may search pharmacies only", ErrForbidden)
	default:
		return nil, fmt.Errorf("%w: the professional directory is for authenticated professionals", ErrForbidden)
	}
	name, place := strings.TrimSpace(q.Name), strings.TrimSpace(q.Place)
	prof, rpps := strings.TrimSpace(q.Profession), strings.TrimSpace(q.RPPS)
	if gazetteer.Fold(name) == "" && gazetteer.Fold(place) == "" && gazetteer.Fold(prof) == "" && rpps == "" {
		return nil, invalid("Saisissez au moins un champ / Enter at least one field")
	}
	for _, f := range []string{name, prof} {
		if utf8.RuneCountInString(f) > MaxSearchNameLength {
			return nil, invalid("a search field is at most %d characters", MaxSearchNameLength)
		}
	}
	page, size, err := pageBounds(q.Page, q.PageSize)
	if err != nil {
		return nil, err
	}
	sq, err := newSearch(KindProfessional, q.Name, place)
	if err != nil {
		return nil, err
	}
	if rpps != "" {
		if err := ValidRPPS(rpps); err != nil {
			return nil, invalid("%v", err)
		}
		sq.where = append(sq.where, "e.rpps = "+sq.arg(rpps))
	}
	if prof != "" {
		f := gazetteer.Fold(prof)
		if f == "" {
			return nil, invalid("profession %q has no letters", prof)
		}
		// A word (or the start of one) of the profession or speciality,
		// or the profession code.
		sq.where = append(sq.where, "((' ' || e.profession_search || ' ') LIKE "+sq.arg("% "+f+"%")+
			" OR e.profession_code = "+sq.arg(prof)+")")
	}
	hits, total, trunc, err := s.search(ctx, sq, page, size)
	if err != nil {
		return nil, err
	}
	out := &ProfessionalPage{Total: total, Page: page, PageSize: size, Truncated: trunc, Results: []ProfessionalResult{}}
	if sq.place != nil {
		out.Place = sq.place.Label
	}
	for _, h := range hits {
		addr := ""
		if h.PostalCode != "" || h.PostalAddress != "" {
			addr = fullAddress(h.PostalAddress, h.PostalCode, h.Commune)
		}
		out.Results = append(out.Results, ProfessionalResult{
			Name: h.Name, Civility: h.Civility, Profession: h.Profession, Speciality: h.Speciality,
			RPPS: h.RPPS, ADELI: h.ADELI, Mailbox: h.Address, MailboxType: h.MailboxType,
			Structure: h.StructureName, Address: addr, PostalCode: h.PostalCode, Commune: h.Commune,
			CommuneCode: h.CommuneCode, Department: h.Department, Local: h.Source == LocalSource, Match: h.match,
		})
	}
	return out, nil
}

// fullAddress renders "38 AV Parmentier, 75011 Paris 11e Arrondissement".
func fullAddress(street, postalCode, commune string) string {
	city := strings.TrimSpace(postalCode + " " + commune)
	switch {
	case street == "":
		return city
	case city == "":
		return street
	}
	return street + ", " + city
}

// queryWord is a significant word of the name query.
type queryWord struct {
	text    string
	maxDist int
	prefix  bool // the last word, still being typed: a prefix matches
	terms   map[string]int
}

// maxWordDist is the edit distance a word of the query may be off by.
func maxWordDist(n int) int {
	switch {
	case n >= 8:
		return 2
	case n >= 4:
		return 1
	}
	return 0
}

// searchQuery is a search being built: SQL conditions on the entries
// (alias e) with their arguments, and the name words.
type searchQuery struct {
	kind   string
	folded string   // the whole name query, folded
	tokens []string // its words
	words  []*queryWord
	place  *gazetteer.Place
	where  []string
	args   []any
}

func (q *searchQuery) arg(v any) string {
	q.args = append(q.args, v)
	return fmt.Sprintf("$%d", len(q.args))
}

func (q *searchQuery) in(vs []string) string {
	ph := make([]string, len(vs))
	for i, v := range vs {
		ph[i] = q.arg(v)
	}
	return "(" + strings.Join(ph, ", ") + ")"
}

// newSearch builds a search of kind by name (raw: as typed; a last word
// not followed by a space may be incomplete) and place.
func newSearch(kind, raw, place string) (*searchQuery, error) {
	q := &searchQuery{kind: kind}
	q.where = append(q.where, "e.kind = "+q.arg(kind))
	q.folded = gazetteer.Fold(raw)
	if q.folded != "" {
		q.tokens = strings.Split(q.folded, " ")
	}
	typing := raw != "" && !unicode.IsSpace(rune(raw[len(raw)-1]))
	for i, t := range q.tokens {
		if stopWords[t] || isKindWord(kind, t) {
			continue
		}
		q.words = append(q.words, &queryWord{text: t, maxDist: maxWordDist(len(t)),
			prefix: typing && i == len(q.tokens)-1 && len(t) >= 3, terms: map[string]int{}})
	}
	if place != "" {
		if utf8.RuneCountInString(place) > MaxSearchPlaceLength {
			return nil, invalid("the place is at most %d characters", MaxSearchPlaceLength)
		}
		g := gazetteer.Default()
		p, err := g.Resolve(place)
		if err != nil {
			return nil, invalid("Commune, code postal ou département inconnu / Unknown commune, postal code or department: %q", place)
		}
		q.place = p
		depts := p.DepartmentCodes(g)
		if len(depts) == 0 {
			return nil, invalid("Commune, code postal ou département inconnu / Unknown commune, postal code or department: %q", place)
		}
		cond := "e.department IN " + q.in(depts)
		switch {
		case len(p.PostalCodes) > 0:
			cond += " AND e.postal_code IN " + q.in(p.PostalCodes)
		case len(p.Communes) > 0:
			// Entries the gazetteer could not place fall back on their
			// postal code.
			cond += " AND (e.commune_code IN " + q.in(p.CommuneCodes())
			if pcs := p.CommunePostalCodes(); len(pcs) > 0 {
				cond += " OR e.commune_code = '' AND e.postal_code IN " + q.in(pcs)
			}
			cond += ")"
		}
		q.where = append(q.where, cond)
	}
	return q, nil
}

// hit is an entry found, with how its name matched.
type hit struct {
	entry
	match string
	tier  int
	dist  int
	ntok  int
}

const hitColumns = `e.id, e.source, e.address, e.mailbox_type, e.name, e.search_name, e.alt_name, e.civility,
	e.profession, e.speciality, e.rpps, e.adeli, e.finess, e.structure_name, e.postal_address, e.postal_code,
	e.commune, e.commune_code, e.department`

func scanHit(sc interface{ Scan(...any) error }) (*hit, error) {
	h := &hit{}
	e := &h.entry
	err := sc.Scan(&e.ID, &e.Source, &e.Address, &e.MailboxType, &e.Name, &e.SearchName, &e.AltName, &e.Civility,
		&e.Profession, &e.Speciality, &e.RPPS, &e.ADELI, &e.FINESS, &e.StructureName, &e.PostalAddress,
		&e.PostalCode, &e.Commune, &e.CommuneCode, &e.Department)
	return h, err
}

// search runs a built query: by the name words when there are any, else
// in SQL order (exact name, name prefix, then by name).
func (s *Store) search(ctx context.Context, q *searchQuery, page, size int) ([]*hit, int, bool, error) {
	if err := s.prepareSearch(ctx); err != nil {
		return nil, 0, false, err
	}
	q.where = append(q.where, visibleSQL)
	if len(q.words) == 0 {
		return s.browse(ctx, q, page, size)
	}
	if err := s.expandWords(ctx, q); err != nil {
		return nil, 0, false, err
	}
	for _, w := range q.words {
		if len(w.terms) == 0 {
			return nil, 0, false, nil // a word matches nothing
		}
	}
	// Candidates: driven by the word with the fewest entries, the others
	// checked by point lookups in the word index.
	df, err := s.wordFrequencies(ctx, q)
	if err != nil {
		return nil, 0, false, err
	}
	drive := q.words[0]
	for _, w := range q.words {
		if df[w] == 0 {
			return nil, 0, false, nil
		}
		if df[w] < df[drive] {
			drive = w
		}
	}
	kindArg := q.arg(termKind(q.kind))
	var cond []string
	for _, w := range q.words {
		if w == drive {
			continue
		}
		cond = append(cond, "EXISTS (SELECT 1 FROM directory_terms t WHERE t.term IN "+q.in(keys(w.terms))+
			" AND t.kind = "+kindArg+" AND t.entry_id = e.id)")
	}
	where := append(q.where, cond...)
	query := `SELECT ` + hitColumns + ` FROM (SELECT DISTINCT entry_id FROM directory_terms
		WHERE term IN ` + q.in(keys(drive.terms)) + ` AND kind = ` + kindArg + `) d
		CROSS JOIN directory_entries e WHERE e.id = d.entry_id AND ` + strings.Join(where, " AND ") +
		fmt.Sprintf(" LIMIT %d", MaxCandidates+1)
	rows, err := s.db.Read().QueryContext(ctx, query, q.args...)
	if err != nil {
		return nil, 0, false, fmt.Errorf("directory: search: %w", err)
	}
	var hits []*hit
	for rows.Next() {
		h, err := scanHit(rows)
		if err != nil {
			rows.Close()
			return nil, 0, false, fmt.Errorf("directory: search: %w", err)
		}
		if q.rank(h) {
			hits = append(hits, h)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, 0, false, fmt.Errorf("directory: search: %w", err)
	}
	truncated := false
	if len(hits) > MaxCandidates {
		hits, truncated = hits[:MaxCandidates], true
	}
	sort.Slice(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		switch {
		case a.tier != b.tier:
			return a.tier < b.tier
		case a.dist != b.dist:
			return a.dist < b.dist
		case a.ntok != b.ntok:
			return a.ntok < b.ntok
		case a.SearchName != b.SearchName:
			return a.SearchName < b.SearchName
		case a.PostalCode != b.PostalCode:
			return a.PostalCode < b.PostalCode
		}
		return a.Address < b.Address
	})
	total := len(hits)
	from := (page - 1) * size
	if from >= total {
		return nil, total, truncated, nil
	}
	return hits[from:min(from+size, total)], total, truncated, nil
}

// wordFrequencies counts, for each query word, the index entries of its
// terms for the kind (to choose the word that drives the candidate query).
func (s *Store) wordFrequencies(ctx context.Context, q *searchQuery) (map[*queryWord]int, error) {
	all := map[string]bool{}
	for _, w := range q.words {
		for t := range w.terms {
			all[t] = true
		}
	}
	terms := make([]string, 0, len(all))
	for t := range all {
		terms = append(terms, t)
	}
	sort.Strings(terms)
	args := []any{termKind(q.kind)}
	for _, t := range terms {
		args = append(args, t)
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT term, count(*) FROM directory_terms WHERE kind = $1 AND term IN (`+
		db.Placeholders(2, len(terms))+`) GROUP BY term`, args...)
	if err != nil {
		return nil, fmt.Errorf("directory: search: %w", err)
	}
	defer rows.Close()
	perTerm := map[string]int{}
	for rows.Next() {
		var t string
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		perTerm[t] = n
	}
	out := map[*queryWord]int{}
	for _, w := range q.words {
		for t := range w.terms {
			out[w] += perTerm[t]
		}
	}
	return out, rows.Err()
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// expandWords finds, for each query word, the indexed words it matches:
// through the deletion keys (typos) and, for the word being typed, a
// prefix range of the vocabulary.
func (s *Store) expandWords(ctx context.Context, q *searchQuery) error {
	var args []any
	seen := map[string]bool{}
	addKey := func(k string) {
		if !seen[k] {
			seen[k] = true
			args = append(args, k)
		}
	}
	for _, w := range q.words {
		for _, k := range queryKeys(w.text, w.maxDist) {
			addKey(k)
		}
	}
	query := `SELECT DISTINCT term FROM directory_vocab_keys WHERE key IN (` + db.Placeholders(1, len(args)) + `)`
	for _, w := range q.words {
		if w.prefix {
			args = append(args, w.text, prefixEnd(w.text))
			query += fmt.Sprintf(` UNION SELECT term FROM (SELECT term FROM directory_vocab WHERE term >= $%d AND term < $%d ORDER BY term LIMIT 200) p%d`,
				len(args)-1, len(args), len(args))
		}
	}
	rows, err := s.db.Read().QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("directory: search: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return err
		}
		for _, w := range q.words {
			if w.prefix && strings.HasPrefix(t, w.text) {
				w.terms[t] = 0
			} else if d := gazetteer.Distance(w.text, t, w.maxDist); d <= w.maxDist {
				w.terms[t] = d
			}
		}
	}
	return rows.Err()
}

// queryKeys are the deletion keys a query word is looked up by: itself,
// with one letter deleted (maxDist 1), with two deleted (maxDist 2).
func queryKeys(t string, maxDist int) []string {
	keys := []string{t}
	if maxDist == 0 || len(t) > maxTermLength {
		return keys
	}
	one := deletionKeys(t)[1:]
	keys = append(keys, one...)
	if maxDist >= 2 {
		seen := map[string]bool{}
		for _, k := range one {
			for _, k2 := range deletionKeys(k)[1:] {
				if !seen[k2] {
					seen[k2] = true
					keys = append(keys, k2)
				}
			}
		}
	}
	return keys
}

// prefixEnd is the smallest string greater than every string starting
// with p (p is folded: its last byte is below 0xFF).
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xFF {
			b[i]++
			return string(b[:i+1])
		}
	}
	return p + "\xff"
}

// rank scores a candidate's name against the query; false if it does not
// match after all (the index is a superset).
func (q *searchQuery) rank(h *hit) bool {
	best := false
	for _, name := range []string{h.SearchName, h.AltName} {
		if name == "" {
			continue
		}
		tier, dist, ntok, ok := q.score(name)
		if ok && (!best || tier < h.tier || tier == h.tier && dist < h.dist) {
			best, h.tier, h.dist, h.ntok = true, tier, dist, ntok
		}
	}
	if best {
		h.match = [...]string{"exact", "prefix", "near", "words", "partial", "fuzzy"}[h.tier]
	}
	return best
}

func (q *searchQuery) score(name string) (tier, dist, ntok int, ok bool) {
	toks := strings.Split(name, " ")
	ntok = len(toks)
	// Every significant word must match a word of the name: the same word,
	// or the start of one for the word being typed, or within its distance.
	words, partial := 0, false
	for _, w := range q.words {
		bestD, bestPrefix := w.maxDist+1, false
		for _, t := range toks {
			switch {
			case t == w.text:
				bestD, bestPrefix = 0, false
			case w.prefix && strings.HasPrefix(t, w.text):
				if bestD > 0 {
					bestD, bestPrefix = 0, true
				}
			default:
				if d := gazetteer.Distance(w.text, t, w.maxDist); d < bestD {
					bestD, bestPrefix = d, false
				}
			}
		}
		if bestD > w.maxDist {
			return 0, 0, 0, false
		}
		words += bestD
		partial = partial || bestPrefix
	}
	switch {
	case name == q.folded:
		return 0, 0, ntok, true
	case strings.HasPrefix(name, q.folded):
		return 1, 0, ntok, true
	}
	// Same words in the same order, with typos.
	if len(toks) == len(q.tokens) {
		near := 0
		for i, t := range toks {
			md := maxWordDist(len(q.tokens[i]))
			d := gazetteer.Distance(q.tokens[i], t, md)
			if d > md {
				near = -1
				break
			}
			near += d
		}
		if near >= 0 {
			return 2, near, ntok, true
		}
	}
	switch {
	case words == 0 && !partial:
		return 3, 0, ntok, true
	case words == 0:
		return 4, 0, ntok, true
	}
	return 5, words, ntok, true
}

// browse answers a query without name words (a place only, a profession,
// an RPPS number, or a name of stop words such as "Pharmacie") in SQL:
// exact name first, then names starting with the query, then by name.
func (s *Store) browse(ctx context.Context, q *searchQuery, page, size int) ([]*hit, int, bool, error) {
	where := strings.Join(q.where, " AND ")
	var total int
	if err := s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM directory_entries e WHERE `+where, q.args...).Scan(&total); err != nil {
		return nil, 0, false, fmt.Errorf("directory: search: %w", err)
	}
	if total == 0 || (page-1)*size >= total {
		return nil, total, false, nil
	}
	order := "e.search_name, e.postal_code, e.address"
	if q.folded != "" {
		order = "CASE WHEN e.search_name = " + q.arg(q.folded) + " THEN 0 WHEN substr(e.search_name, 1, " +
			fmt.Sprint(len(q.folded)) + ") = " + q.arg(q.folded) + " THEN 1 ELSE 2 END, " + order
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+hitColumns+` FROM directory_entries e WHERE `+where+
		` ORDER BY `+order+fmt.Sprintf(` LIMIT %d OFFSET %d`, size, (page-1)*size), q.args...)
	if err != nil {
		return nil, 0, false, fmt.Errorf("directory: search: %w", err)
	}
	defer rows.Close()
	var hits []*hit
	for rows.Next() {
		h, err := scanHit(rows)
		if err != nil {
			return nil, 0, false, fmt.Errorf("directory: search: %w", err)
		}
		if q.folded != "" {
			switch {
			case h.SearchName == q.folded:
				h.match = "exact"
			case strings.HasPrefix(h.SearchName, q.folded):
				h.match = "prefix"
			default:
				h.match = "words"
			}
		}
		hits = append(hits, h)
	}
	return hits, total, false, rows.Err()
}
