package directory

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// AVA is one attribute of a distinguished name: its type under its
// canonical short name (CN, OU, O, C, ST, L, E, SERIALNUMBER…, or the dotted
// OID when the type has no known name) and its value as written, unescaped.
type AVA struct {
	Type  string
	Value string
}

// RDN is one relative distinguished name: usually one AVA, several when
// joined with '+'.
type RDN []AVA

// DN is a distinguished name in RFC 4514 string order: the most specific RDN
// (CN) first, the way the whitelist writes it and pkix.Name.String() prints it.
// The ASN.1 order inside a certificate is the reverse; DNFromRDNSequence
// turns it around.
type DN []RDN

// Bounds on a DN string: real subjects have a handful of attributes and a
// few hundred bytes.
const (
	maxDNLength = 4096
	maxDNAVAs   = 64
)

// dnTypes maps each accepted spelling of an attribute type, uppercased, and
// each OID to its canonical short name. Aliases are those of RFC 4514/4519,
// OpenSSL and Microsoft (S for ST, E for emailAddress).
var dnTypes = map[string]string{}

func init() {
	for _, t := range []struct {
		oid, name string
		aliases   []string
	}{
		{"2.5.4.3", "CN", []string{"COMMONNAME"}},
		{"2.5.4.4", "SN", []string{"SURNAME"}},
		{"2.5.4.5", "SERIALNUMBER", nil},
		{"2.5.4.6", "C", []string{"COUNTRYNAME"}},
		{"2.5.4.7", "L", []string{"LOCALITYNAME"}},
		{"2.5.4.8", "ST", []string{"S", "STATEORPROVINCENAME"}},
		{"2.5.4.9", "STREET", []string{"STREETADDRESS"}},
		{"2.5.4.10", "O", []string{"ORGANIZATIONNAME"}},
		{"2.5.4.11", "OU", []string{"ORGANIZATIONALUNITNAME"}},
		{"2.5.4.12", "TITLE", nil},
		{"2.5.4.17", "POSTALCODE", nil},
		{"2.5.4.42", "GIVENNAME", []string{"GN", "G"}},
		{"2.5.4.46", "DNQUALIFIER", nil},
		{"2.5.4.97", "ORGANIZATIONIDENTIFIER", nil},
		{"1.2.840.113549.1.9.1", "E", []string{"EMAIL", "EMAILADDRESS"}},
		{"0.9.2342.19200300.100.1.1", "UID", []string{"USERID"}},
		{"0.9.2342.19200300.100.1.25", "DC", []string{"DOMAINCOMPONENT"}},
	} {
		dnTypes[t.oid] = t.name
		dnTypes[t.name] = t.name
		for _, a := range t.aliases {
			dnTypes[a] = t.name
		}
	}
}

// canonicalType returns the canonical name of an attribute type written as
// a keyword or a (possibly "OID."-prefixed) dotted OID. An unknown keyword is
// kept, uppercased: it can still match the same keyword elsewhere.
func canonicalType(t string) (string, error) {
	u := strings.ToUpper(t)
	if strings.HasPrefix(u, "OID.") {
		u = u[4:]
	}
	if n, ok := dnTypes[u]; ok {
		return n, nil
	}
	if u == "" {
		return "", errors.New("empty attribute type")
	}
	if u[0] >= '0' && u[0] <= '9' {
		if !isOID(u) {
			return "", fmt.Errorf("attribute type %q is not an OID", t)
		}
		return u, nil
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !(c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '-')) {
			return "", fmt.Errorf("attribute type %q is not a name", t)
		}
	}
	return u, nil
}

func isOID(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 1 && p[0] == '0' {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

func oidType(oid asn1.ObjectIdentifier) string {
	s := oid.String()
	if n, ok := dnTypes[s]; ok {
		return n
	}
	return s
}

// ParseDN parses an RFC 4514 string such as
// "CN=mx.operateur.example,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR".
// It accepts what hand-written lists contain: spaces around '=', ',' and
// '+', attribute types in any case and under their usual aliases or OIDs,
// backslash escapes (\, or \2C), RFC 1779 quoted values and #hex BER values.
// ';' separates RDNs as ',' does (RFC 2253 §4). A ',', '+' or ';' inside a
// value must be escaped or quoted: guessing where an
// unescaped one belongs could make two different subjects look alike.
func ParseDN(s string) (DN, error) {
	if len(s) > maxDNLength {
		return nil, fmt.Errorf("DN longer than %d bytes", maxDNLength)
	}
	if !utf8.ValidString(s) {
		return nil, errors.New("DN is not valid UTF-8")
	}
	p := &dnParser{s: s}
	p.skipSpace()
	if p.end() {
		return nil, errors.New("empty DN")
	}
	var dn DN
	var rdn RDN
	n := 0
	for {
		ava, err := p.ava()
		if err != nil {
			return nil, err
		}
		if n++; n > maxDNAVAs {
			return nil, fmt.Errorf("DN has more than %d attributes", maxDNAVAs)
		}
		rdn = append(rdn, ava)
		p.skipSpace()
		if p.end() {
			return append(dn, rdn), nil
		}
		switch c := p.s[p.i]; c {
		case ',', ';': // ';': the RDN separator of RFC 1779/2253, still met
			dn, rdn = append(dn, rdn), nil
		case '+':
		default:
			return nil, fmt.Errorf("unexpected %q at offset %d of the DN", c, p.i)
		}
		p.i++
		p.skipSpace()
		if p.end() {
			return nil, errors.New("DN ends with a separator")
		}
	}
}

type dnParser struct {
	s string
	i int
}

func (p *dnParser) end() bool { return p.i >= len(p.s) }

func (p *dnParser) skipSpace() {
	for !p.end() && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\r' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *dnParser) ava() (AVA, error) {
	start := p.i
	for !p.end() && p.s[p.i] != '=' && p.s[p.i] != ',' && p.s[p.i] != '+' && p.s[p.i] != ';' {
		p.i++
	}
	if p.end() || p.s[p.i] != '=' {
		return AVA{}, fmt.Errorf("%q is not TYPE=value", strings.TrimSpace(p.s[start:p.i]))
	}
	typ, err := canonicalType(strings.TrimSpace(p.s[start:p.i]))
	if err != nil {
		return AVA{}, err
	}
	p.i++ // '='
	p.skipSpace()
	var val string
	switch {
	case !p.end() && p.s[p.i] == '#':
		// An unescaped '#' that does not start a valid #hex value is taken
		// as text: hand-typed lists write "O=#1 Santé" without the escape.
		save := p.i
		if val, err = p.hexValue(); err != nil || !p.atSeparator() {
			p.i = save
			val, err = p.stringValue()
		}
	case !p.end() && p.s[p.i] == '"':
		val, err = p.quotedValue()
	default:
		val, err = p.stringValue()
	}
	if err != nil {
		return AVA{}, fmt.Errorf("%s: %w", typ, err)
	}
	if !utf8.ValidString(val) {
		return AVA{}, fmt.Errorf("%s: value is not valid UTF-8", typ)
	}
	return AVA{Type: typ, Value: val}, nil
}

// atSeparator reports whether only spaces stand between p.i and the end
// or the next ',' or '+'.
func (p *dnParser) atSeparator() bool {
	j := p.i
	for j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t' || p.s[j] == '\r' || p.s[j] == '\n') {
		j++
	}
	return j == len(p.s) || p.s[j] == ',' || p.s[j] == '+' || p.s[j] == ';'
}

// escape reads the character or hex pair after a backslash at p.i.
func (p *dnParser) escape(b *strings.Builder) error {
	p.i++ // '\'
	if p.end() {
		return errors.New("DN ends with a lone backslash")
	}
	if p.i+1 < len(p.s) && isHex(p.s[p.i]) && isHex(p.s[p.i+1]) {
		v, _ := hex.DecodeString(p.s[p.i : p.i+2])
		b.WriteByte(v[0])
		p.i += 2
		return nil
	}
	_, size := utf8.DecodeRuneInString(p.s[p.i:])
	b.WriteString(p.s[p.i : p.i+size])
	p.i += size
	return nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// stringValue reads an unquoted value up to an unescaped ',', '+' or ';';
// unescaped spaces at its end are not part of it (RFC 4514 §3).
func (p *dnParser) stringValue() (string, error) {
	var b strings.Builder
	keep := 0 // length of b up to its last non-space or escaped byte
	for !p.end() {
		c := p.s[p.i]
		if c == ',' || c == '+' || c == ';' {
			break
		}
		if c == '\\' {
			if err := p.escape(&b); err != nil {
				return "", err
			}
			keep = b.Len()
			continue
		}
		b.WriteByte(c)
		p.i++
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			keep = b.Len()
		}
	}
	return b.String()[:keep], nil
}

func (p *dnParser) quotedValue() (string, error) {
	p.i++ // opening '"'
	var b strings.Builder
	for !p.end() {
		switch c := p.s[p.i]; c {
		case '"':
			p.i++
			return b.String(), nil
		case '\\':
			if err := p.escape(&b); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", errors.New("unterminated quoted value")
}

// hexValue reads "#" followed by the hex of a BER value. A string value is
// decoded, so that "E=#160f…" matches the address a certificate holds;
// anything else stays as "#hex", compared as such.
func (p *dnParser) hexValue() (string, error) {
	start := p.i
	p.i++
	for !p.end() && isHex(p.s[p.i]) {
		p.i++
	}
	raw, err := hex.DecodeString(p.s[start+1 : p.i])
	if err != nil || len(raw) == 0 {
		return "", errors.New("bad #hex value")
	}
	var v asn1.RawValue
	if rest, err := asn1.Unmarshal(raw, &v); err == nil && len(rest) == 0 {
		if s, ok := asn1String(v); ok {
			return s, nil
		}
	}
	return "#" + strings.ToLower(p.s[start+1:p.i]), nil
}

// asn1String decodes the directory string types found in certificates.
func asn1String(v asn1.RawValue) (string, bool) {
	if v.Class != asn1.ClassUniversal || v.IsCompound {
		return "", false
	}
	switch v.Tag {
	case asn1.TagUTF8String, asn1.TagPrintableString, asn1.TagIA5String, asn1.TagNumericString, asn1.TagT61String:
		return string(v.Bytes), true
	case asn1.TagBMPString:
		if len(v.Bytes)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(v.Bytes)/2)
		for i := range u {
			u[i] = uint16(v.Bytes[2*i])<<8 | uint16(v.Bytes[2*i+1])
		}
		return string(utf16.Decode(u)), true
	}
	return "", false
}

// DNFromRDNSequence converts a certificate subject as encoded (ASN.1 order,
// least specific first) into a DN in string order.
func DNFromRDNSequence(seq pkix.RDNSequence) DN {
	dn := make(DN, 0, len(seq))
	for i := len(seq) - 1; i >= 0; i-- {
		rdn := make(RDN, 0, len(seq[i]))
		for _, a := range seq[i] {
			rdn = append(rdn, AVA{Type: oidType(a.Type), Value: attrValue(a.Value)})
		}
		dn = append(dn, rdn)
	}
	return dn
}

// DNFromName converts a pkix.Name. A parsed subject's Names holds every
// attribute, emailAddress included, which the named fields drop; a name
// built by hand has only the fields (and ExtraNames).
func DNFromName(n pkix.Name) DN {
	if len(n.Names) == 0 {
		return DNFromRDNSequence(n.ToRDNSequence())
	}
	seq := make(pkix.RDNSequence, len(n.Names))
	for i, a := range n.Names {
		seq[i] = pkix.RelativeDistinguishedNameSET{a}
	}
	return DNFromRDNSequence(seq)
}

// DNFromCertificate is the certificate's subject, read from its raw
// encoding so that multi-valued RDNs and every attribute are kept.
func DNFromCertificate(c *x509.Certificate) DN {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(c.RawSubject, &seq); err != nil || len(rest) != 0 {
		return DNFromName(c.Subject)
	}
	return DNFromRDNSequence(seq)
}

func attrValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	der, err := asn1.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return "#" + hex.EncodeToString(der)
}

// String is the DN in RFC 4514 form, with canonical type names.
func (d DN) String() string {
	var b strings.Builder
	for i, rdn := range d {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, a := range rdn {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(a.Type)
			b.WriteByte('=')
			b.WriteString(escapeDNValue(a.Value))
		}
	}
	return b.String()
}

// Key is the canonical form two DNs are compared by, and the form the trust
// list stores: each attribute as TYPE=value with the value case-folded and
// its whitespace collapsed, sorted, joined by ','.
//
// Sorting makes the comparison ignore RDN order. Tools disagree on it:
// RFC 4514 and pkix.Name.String() write the most specific RDN first,
// OpenSSL's and some operators' displays write C first, and the list is typed
// by people from either. Two subjects with the same attributes in another
// order are not a realistic confusion once the certificate must also chain
// to the configured anchors, while refusing a legitimate operator over the
// order its DN was typed in is.
func (d DN) Key() string {
	var parts []string
	for _, rdn := range d {
		for _, a := range rdn {
			parts = append(parts, a.Type+"="+escapeDNValue(foldDNValue(a.Value)))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// Equal reports whether both DNs name the same subject (see Key).
func (d DN) Equal(o DN) bool { return d.Key() == o.Key() }

// Get returns the first value of the attribute type (a canonical name:
// "CN", "O"…), or "".
func (d DN) Get(typ string) string {
	for _, rdn := range d {
		for _, a := range rdn {
			if a.Type == typ {
				return a.Value
			}
		}
	}
	return ""
}

func foldDNValue(v string) string {
	return strings.ToLower(strings.Join(strings.FieldsFunc(v, unicode.IsSpace), " "))
}

// escapeDNValue escapes what RFC 4514 §2.4 requires, plus control bytes, so
// that ParseDN(dn.String()) gives dn back.
func escapeDNValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\' || c == '=':
			b.WriteByte('\\')
			b.WriteByte(c)
		case (c == ' ' || c == '\t') && (i == 0 || i == len(v)-1):
			fmt.Fprintf(&b, "\\%02X", c)
		case c == '#' && i == 0:
			b.WriteString("\\#")
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
