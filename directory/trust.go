package directory

import (
	"context"
	"database/sql"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"mssanted/db"
)

// The trust space: the published whitelist of operator domains and, for each,
// the subject DN of the operator's server certificate. An inbound
// server-to-server connection is trusted for a MAIL FROM domain when its
// client certificate's subject is listed for that domain.

// WhitelistNamespace is the namespace of the MSSanté list. The parser matches
// on local names only: the DRIM-M variants use other namespaces
// (https://github.com/ansforge/DRIM-M_DATA, https://listeblanche.mesimagesmedicales.fr/schema).
const WhitelistNamespace = "https://listeblanche.mssante.fr/schema"

// Bounds on a whitelist. The real list is about 6,500 entries and 3 MB;
// beyond these something is wrong with the file.
const (
	MaxWhitelistBytes   = 64 << 20
	MaxWhitelistEntries = 100_000
	maxTrustField       = 8 << 10
)

// Whitelist is a parsed list.
type Whitelist struct {
	Root        string // local name of the root element: ListeBlancheMSSante or ListeBlancheDRIM-M
	Namespace   string
	GeneratedAt string // DateDeGeneration as given, e.g. 2025-03-13T14:54:10Z
	// Entries are the valid entries, (domain, operator DN) pairs unique.
	Entries []TrustEntry
	// Rejected are the <Domaine> entries left out, with the reason.
	Rejected []RejectedEntry
	// Read counts the <Domaine> elements; Duplicates those that repeated a
	// (domain, DN) pair already read and were collapsed into it.
	Read, Duplicates int
	// Unterminated: the file ended without closing its root element, as the
	// published MSSanté list always does.
	Unterminated bool
}

// TrustEntry is one (domain, operator certificate) pair of the list.
type TrustEntry struct {
	Domain             string // lowercased
	Description        string // Description (MSSanté) or Denomination (DRIM-M)
	OperatorDN         string // DNCertificatOperateur as given
	ResponsableContact string
	SupportContact     string
	Updated            string // DateMAJ as given
}

// RejectedEntry is a <Domaine> left out of the import. Index counts the
// <Domaine> elements of the file from 1.
type RejectedEntry struct {
	Index  int
	Domain string
	Reason string
}

// ParseWhitelist reads an MSSanté or DRIM-M whitelist token by token.
//
// The published MSSanté list never closes its root element, so a file that
// ends after a complete <Domaine> (or after </ListeDomaines>) with only
// whitespace left is accepted, and Unterminated is set. A file that ends
// inside a <Domaine> is certainly cut short: it is an error, so that an
// import never replaces the list with a truncated one. Malformed XML
// anywhere else is an error. Elements the parser does not know, the
// enveloped ds:Signature of the signed DRIM-M list included, are skipped (the
// signature is not verified here).
//
// Entries with a missing or invalid domain or an unparsable DN go to
// Rejected. An entry repeating a (domain, DN) pair collapses into the first
// one, whose fields are replaced if the repeat has a later DateMAJ. Errors
// about the content wrap ErrInvalid; a failing reader's error is returned as
// is.
func ParseWhitelist(r io.Reader) (*Whitelist, error) {
	return parseWhitelist(r, MaxWhitelistBytes, MaxWhitelistEntries)
}

// parseWhitelist takes the bounds as arguments for the tests.
func parseWhitelist(r io.Reader, maxBytes int64, maxEntries int) (*Whitelist, error) {
	lr := &boundedReader{r: r, left: maxBytes}
	d := xml.NewDecoder(lr)
	d.CharsetReader = charsetReader
	p := &wlParser{d: d, wl: &Whitelist{}, seen: map[string]int{}, maxEntries: maxEntries}
	err := p.parse()
	switch {
	case errors.Is(err, errTooLarge):
		return nil, invalid("whitelist: larger than %d bytes", maxBytes)
	case lr.err != nil:
		return nil, fmt.Errorf("whitelist: read: %w", lr.err)
	case err != nil:
		return nil, err
	}
	return p.wl, nil
}

var errTooLarge = errors.New("input too large")

// boundedReader fails, instead of cutting the input short, past its limit:
// a silently truncated list would parse as a shorter one.
type boundedReader struct {
	r    io.Reader
	left int64
	err  error // the underlying reader's failure, EOF aside
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One more byte tells a file of exactly the limit from a larger one.
		var one [1]byte
		if n, _ := io.ReadFull(b.r, one[:]); n > 0 {
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// charsetReader accepts the one-byte encodings an XML file may declare
// besides UTF-8; the published lists are UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf8":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii":
		return &latin1Reader{r: in}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

type latin1Reader struct {
	r   io.Reader
	buf []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(p) < 2 {
		return 0, io.ErrShortBuffer
	}
	if cap(l.buf) < len(p)/2 {
		l.buf = make([]byte, len(p)/2)
	}
	n, err := l.r.Read(l.buf[:len(p)/2])
	out := 0
	for _, c := range l.buf[:n] {
		out += utf8.EncodeRune(p[out:], rune(c))
	}
	return out, err
}

type wlParser struct {
	d       *xml.Decoder
	lastEnd int64 // input offset just after the last complete token
	wl      *Whitelist
	seen    map[string]int // domain + "\x00" + DN key → index in wl.Entries

	maxEntries int
}

// errCleanEOF: the input ended right after a complete token, with elements
// still open.
var errCleanEOF = errors.New("clean EOF")

func (p *wlParser) next() (xml.Token, error) {
	tok, err := p.d.Token()
	if err == nil {
		p.lastEnd = p.d.InputOffset()
		return tok, nil
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) && se.Msg == "unexpected EOF" && p.d.InputOffset() == p.lastEnd {
		return nil, errCleanEOF
	}
	return nil, err
}

func (p *wlParser) malformed(err error) error {
	if errors.Is(err, errTooLarge) {
		return err
	}
	return invalid("whitelist: malformed XML: %v", err)
}

func (p *wlParser) parse() error {
	var root xml.StartElement
	for {
		tok, err := p.next()
		if errors.Is(err, io.EOF) || errors.Is(err, errCleanEOF) {
			return invalid("whitelist: no root element: not a whitelist")
		}
		if err != nil {
			return p.malformed(err)
		}
		if cd, ok := tok.(xml.CharData); ok && strings.TrimLeft(string(cd), " \t\r\n\ufeff") != "" {
			return invalid("whitelist: text before the root element: not a whitelist")
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	if !strings.HasPrefix(root.Name.Local, "ListeBlanche") {
		return invalid("whitelist: root element is <%s>, not <ListeBlancheMSSante>: not a whitelist", root.Name.Local)
	}
	p.wl.Root, p.wl.Namespace = root.Name.Local, root.Name.Space
	err := p.children(func(el xml.StartElement) error {
		switch el.Name.Local {
		case "DateDeGeneration":
			v, _, err := p.text()
			p.wl.GeneratedAt = strings.TrimSpace(v)
			return err
		case "ListeDomaines":
			return p.children(func(el xml.StartElement) error {
				if el.Name.Local == "Domaine" {
					return p.domaine()
				}
				return p.skip()
			})
		case "Domaine": // tolerated without its ListeDomaines wrapper
			return p.domaine()
		}
		return p.skip()
	})
	switch {
	case errors.Is(err, errCleanEOF):
		p.wl.Unterminated = true
	case err != nil:
		return err
	}
	if p.wl.Read == 0 {
		return invalid("whitelist: no <Domaine> entry")
	}
	return nil
}

// children calls fn on each child element of the element just opened, until
// its end tag; fn must consume the child to its end tag.
func (p *wlParser) children(fn func(xml.StartElement) error) error {
	for {
		tok, err := p.next()
		if errors.Is(err, errCleanEOF) {
			return err
		}
		if err != nil {
			return p.malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// skip consumes the element just opened; an EOF inside it is not clean.
func (p *wlParser) skip() error {
	for depth := 1; depth > 0; {
		tok, err := p.next()
		if errors.Is(err, errCleanEOF) {
			return invalid("whitelist: the file ends inside an element: truncated")
		}
		if err != nil {
			return p.malformed(err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// text returns the character data of the element just opened (that of
// nested elements included), and whether it exceeded maxTrustField; what
// goes beyond is dropped.
func (p *wlParser) text() (string, bool, error) {
	var b strings.Builder
	long := false
	for depth := 1; depth > 0; {
		tok, err := p.next()
		if errors.Is(err, errCleanEOF) {
			return "", false, invalid("whitelist: the file ends inside an element: truncated")
		}
		if err != nil {
			return "", false, p.malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if b.Len()+len(t) > maxTrustField {
				long = true
				continue
			}
			b.Write(t)
		}
	}
	return b.String(), long, nil
}

// domaine reads one <Domaine> and files it as an entry, a duplicate or a
// rejection.
func (p *wlParser) domaine() error {
	p.wl.Read++
	index := p.wl.Read
	if index > p.maxEntries {
		return invalid("whitelist: more than %d entries", p.maxEntries)
	}
	var e TrustEntry
	var nom, host string
	var tooLong []string
	err := p.children(func(el xml.StartElement) error {
		var dst *string
		switch el.Name.Local {
		case "Nom":
			dst = &nom
		case "db": // DRIM-M: the DRIMbox host, the name its certificate carries
			dst = &host
		case "Description", "Denomination":
			dst = &e.Description
		case "DNCertificatOperateur":
			dst = &e.OperatorDN
		case "ResponsableContact":
			dst = &e.ResponsableContact
		case "SupportContact":
			dst = &e.SupportContact
		case "DateMAJ":
			dst = &e.Updated
		default:
			return p.skip()
		}
		v, long, err := p.text()
		if long {
			tooLong = append(tooLong, el.Name.Local)
		}
		*dst = strings.TrimSpace(v)
		return err
	})
	if errors.Is(err, errCleanEOF) {
		return invalid("whitelist: the file ends inside <Domaine> #%d: truncated", index)
	}
	if err != nil {
		return err
	}
	e.Domain = nom
	if e.Domain == "" {
		e.Domain = host
	}
	reject := func(format string, args ...any) error {
		p.wl.Rejected = append(p.wl.Rejected, RejectedEntry{Index: index, Domain: e.Domain, Reason: fmt.Sprintf(format, args...)})
		return nil
	}
	if len(tooLong) > 0 {
		return reject("%s longer than %d bytes", strings.Join(tooLong, ", "), maxTrustField)
	}
	key, err := e.normalize()
	if err != nil {
		return reject("%v", err)
	}
	if i, ok := p.seen[key]; ok {
		p.wl.Duplicates++
		if laterDate(e.Updated, p.wl.Entries[i].Updated) {
			p.wl.Entries[i] = e
		}
		return nil
	}
	p.seen[key] = len(p.wl.Entries)
	p.wl.Entries = append(p.wl.Entries, e)
	return nil
}

// normalize lowercases and checks the domain and parses the DN, and returns
// the entry's identity: domain and canonical DN key.
func (e *TrustEntry) normalize() (string, error) {
	d, err := normalizeTrustDomain(e.Domain)
	if err != nil {
		return "", err
	}
	e.Domain = d
	if strings.TrimSpace(e.OperatorDN) == "" {
		return "", errors.New("no DNCertificatOperateur")
	}
	dn, err := ParseDN(e.OperatorDN)
	if err != nil {
		return "", fmt.Errorf("DNCertificatOperateur %q: %v", e.OperatorDN, err)
	}
	return e.Domain + "\x00" + dn.Key(), nil
}

// laterDate reports whether DateMAJ a is after b; dates that do not parse
// compare as strings (RFC 3339 in one zone sorts as text).
func laterDate(a, b string) bool {
	ta, ea := time.Parse(time.RFC3339, a)
	tb, eb := time.Parse(time.RFC3339, b)
	if ea == nil && eb == nil {
		return ta.After(tb)
	}
	return a > b
}

// normalizeTrustDomain checks a host name of the list: LDH labels, at least
// two, none empty or over 63 bytes, 253 in all; a final dot is dropped.
// Internationalised names must come as A-labels (xn--), as in DNS.
func normalizeTrustDomain(s string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if d == "" {
		return "", errors.New("no domain (Nom)")
	}
	if len(d) > 253 {
		return "", fmt.Errorf("domain %q is longer than 253 bytes", s)
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", fmt.Errorf("%q is not a domain name (one label)", s)
	}
	for _, l := range labels {
		ok := l != "" && len(l) <= 63 && l[0] != '-' && l[len(l)-1] != '-'
		for i := 0; ok && i < len(l); i++ {
			c := l[i]
			ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
		}
		if !ok {
			return "", fmt.Errorf("%q is not a domain name", s)
		}
	}
	if strings.IndexFunc(labels[len(labels)-1], func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		return "", fmt.Errorf("%q is not a domain name (numeric top-level label)", s)
	}
	return d, nil
}

// ImportReport says what an import changed.
type ImportReport struct {
	Entries, Domains, Operators int // now in the list
	Previous, Added, Removed    int // (domain, DN) pairs before, new, gone
}

// TrustListInfo describes the list in force.
type TrustListInfo struct {
	GeneratedAt string
	Source      string
	Entries     int
	Rejected    int
	ImportedAt  time.Time
}

// ImportTrust replaces the whole trust list with wl's entries in one
// transaction: on any failure, the previous list stays in force. A list
// without entries is refused rather than emptying the trust space. The
// entries are checked again (a Whitelist may be built by hand); a repeated
// (domain, DN) pair is refused by the table's primary key.
func (s *Store) ImportTrust(ctx context.Context, wl *Whitelist, source string) (ImportReport, error) {
	var rep ImportReport
	if wl == nil || len(wl.Entries) == 0 {
		return rep, invalid("the whitelist has no valid entry: refusing to empty the trust list")
	}
	type row struct {
		e   TrustEntry
		key string
	}
	rows := make([]row, len(wl.Entries))
	domains, operators := map[string]bool{}, map[string]bool{}
	for i, e := range wl.Entries {
		if _, err := e.normalize(); err != nil {
			return rep, invalid("entry %d (%s): %v", i+1, e.Domain, err)
		}
		dn, _ := ParseDN(e.OperatorDN)
		rows[i] = row{e: e, key: dn.Key()}
		domains[e.Domain], operators[rows[i].key] = true, true
	}
	rep.Entries, rep.Domains, rep.Operators = len(rows), len(domains), len(operators)
	now := db.Micros(s.now())
	const batch = 200 // 7 parameters a row, well under both engines' limits
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if s.db.Dialect == db.Postgres {
			// Imports queue up here. Without it, under READ COMMITTED an
			// import's DELETE misses the rows of one committing meanwhile,
			// and its INSERTs then collide with them. Readers are not
			// blocked. (SQLite's write transactions are serialised already.)
			if _, err := tx.ExecContext(ctx, `LOCK TABLE trust_domains IN EXCLUSIVE MODE`); err != nil {
				return fmt.Errorf("directory: trust import: %w", err)
			}
		}
		old := map[string]bool{}
		q, err := tx.QueryContext(ctx, `SELECT domain, operator_dn FROM trust_domains`)
		if err != nil {
			return fmt.Errorf("directory: trust import: %w", err)
		}
		for q.Next() {
			var d, k string
			if err := q.Scan(&d, &k); err != nil {
				q.Close()
				return fmt.Errorf("directory: trust import: %w", err)
			}
			old[d+"\x00"+k] = true
		}
		if err := errors.Join(q.Err(), q.Close()); err != nil {
			return fmt.Errorf("directory: trust import: %w", err)
		}
		rep.Previous, rep.Added = len(old), 0
		for _, r := range rows {
			if !old[r.e.Domain+"\x00"+r.key] {
				rep.Added++
			}
		}
		rep.Removed = rep.Previous - (rep.Entries - rep.Added)
		if _, err := tx.ExecContext(ctx, `DELETE FROM trust_domains`); err != nil {
			return fmt.Errorf("directory: trust import: %w", err)
		}
		for start := 0; start < len(rows); start += batch {
			chunk := rows[start:min(start+batch, len(rows))]
			var sqlb strings.Builder
			sqlb.WriteString(`INSERT INTO trust_domains (domain, operator_dn, operator_dn_raw, description,
				responsable_contact, support_contact, updated) VALUES `)
			args := make([]any, 0, 7*len(chunk))
			for i, r := range chunk {
				if i > 0 {
					sqlb.WriteString(", ")
				}
				sqlb.WriteString("(" + db.Placeholders(len(args)+1, 7) + ")")
				args = append(args, r.e.Domain, r.key, r.e.OperatorDN, r.e.Description,
					r.e.ResponsableContact, r.e.SupportContact, r.e.Updated)
			}
			if _, err := tx.ExecContext(ctx, sqlb.String(), args...); err != nil {
				if db.IsUniqueViolation(err) {
					return invalid("the whitelist repeats a (domain, operator DN) pair")
				}
				return fmt.Errorf("directory: trust import: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM trust_list`); err != nil {
			return fmt.Errorf("directory: trust import: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO trust_list (id, generated_at, source, entries, rejected, imported_at)
			VALUES (1, $1, $2, $3, $4, $5)`, wl.GeneratedAt, source, len(rows), len(wl.Rejected), now)
		if err != nil {
			return fmt.Errorf("directory: trust import: %w", err)
		}
		return nil
	})
	if err != nil {
		return ImportReport{}, err
	}
	return rep, nil
}

// TrustedDNs returns the operator DNs listed for the domain, as written in
// the list.
func (s *Store) TrustedDNs(ctx context.Context, domain string) ([]DN, error) {
	es, err := s.TrustList(ctx, domain)
	if err != nil {
		return nil, err
	}
	out := make([]DN, 0, len(es))
	for _, e := range es {
		dn, err := ParseDN(e.OperatorDN)
		if err != nil { // checked at import: the row was not written by ImportTrust
			return nil, fmt.Errorf("directory: trusted DN %q of %s: %w", e.OperatorDN, e.Domain, err)
		}
		out = append(out, dn)
	}
	return out, nil
}

// IsTrustedOperator reports whether subject is listed as an operator
// certificate of domain: what the MX asks with the MAIL FROM domain and the
// client certificate's subject. A DN listed for another domain only is not
// trusted for this one.
func (s *Store) IsTrustedOperator(ctx context.Context, domain string, subject DN) (bool, error) {
	d, err := normalizeTrustDomain(domain)
	if err != nil || len(subject) == 0 {
		return false, nil
	}
	var n int
	err = s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM trust_domains WHERE domain = $1 AND operator_dn = $2`,
		d, subject.Key()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("directory: trusted operator: %w", err)
	}
	return n > 0, nil
}

// IsListedOperator reports whether subject is listed for at least one
// domain: for a message with a null reverse path (a report), which names no
// domain to check the certificate against.
func (s *Store) IsListedOperator(ctx context.Context, subject DN) (bool, error) {
	if len(subject) == 0 {
		return false, nil
	}
	var n int
	err := s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM trust_domains WHERE operator_dn = $1`, subject.Key()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("directory: listed operator: %w", err)
	}
	return n > 0, nil
}

// TrustList returns the list's entries, all of them when domain is empty,
// by domain then DN.
func (s *Store) TrustList(ctx context.Context, domain string) ([]TrustEntry, error) {
	query := `SELECT domain, description, operator_dn_raw, responsable_contact, support_contact, updated
		FROM trust_domains`
	var args []any
	if domain != "" {
		query += ` WHERE domain = $1`
		args = append(args, strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), "."))
	}
	rows, err := s.db.Read().QueryContext(ctx, query+` ORDER BY domain, operator_dn`, args...)
	if err != nil {
		return nil, fmt.Errorf("directory: trust list: %w", err)
	}
	defer rows.Close()
	var out []TrustEntry
	for rows.Next() {
		var e TrustEntry
		if err := rows.Scan(&e.Domain, &e.Description, &e.OperatorDN, &e.ResponsableContact, &e.SupportContact, &e.Updated); err != nil {
			return nil, fmt.Errorf("directory: trust list: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// TrustMeta describes the list in force; ok is false when none was imported.
func (s *Store) TrustMeta(ctx context.Context) (info TrustListInfo, ok bool, err error) {
	var at int64
	err = s.db.Read().QueryRowContext(ctx, `SELECT generated_at, source, entries, rejected, imported_at FROM trust_list WHERE id = 1`).
		Scan(&info.GeneratedAt, &info.Source, &info.Entries, &info.Rejected, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return TrustListInfo{}, false, nil
	}
	if err != nil {
		return TrustListInfo{}, false, fmt.Errorf("directory: trust meta: %w", err)
	}
	info.ImportedAt = db.Time(at)
	return info, true, nil
}
