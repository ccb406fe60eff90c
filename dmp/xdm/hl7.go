package xdm

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// HL7 v2 data types carried in XDS metadata slots (ITI TF-3 §4.2.3.1.7):
// XCN (authorPerson, legalAuthenticator), XON (authorInstitution), CX
// (patientId), and the DTM time stamps of §4.2.3.1.5.

// Person is an XCN: a professional with an identifier.
type Person struct {
	ID                 string // XCN.1, e.g. the RPPS-based IDNPS 899700367909
	Family             string // XCN.2
	Given              string // XCN.3
	OtherGiven         string // XCN.4
	Suffix, Prefix     string // XCN.5, XCN.6 ("DR", "M")
	AssigningAuthority string // XCN.9.2, an OID, e.g. 1.2.250.1.71.4.2.1 (RPPS/ADELI)
	IDType             string // XCN.13, e.g. IDNPS
	Raw                string // the slot value as found
}

// Name is "Given Family", as a patient sees it.
func (p Person) Name() string {
	return strings.TrimSpace(p.Given + " " + p.Family)
}

// Organization is an XON: a care structure.
type Organization struct {
	Name               string // XON.1
	ID                 string // XON.10, e.g. a FINESS or SIRET-based id
	AssigningAuthority string // XON.6.2, e.g. 1.2.250.1.71.4.2.2
	IDType             string // XON.7, e.g. IDNST
	Raw                string
}

// PatientID is a CX: <id>^^^&<oid>&ISO^<type>.
type PatientID struct {
	ID   string // the INS when qualified
	OID  string // assigning authority universal id
	Type string // identifier type code: NH (INS), PI (local), or empty
	Raw  string
}

// The INS-NIR assigning authorities (shared/reference.md, "Addresses and
// mailboxes"), and the older INS-C, which is not a qualified INS.
const (
	OIDINSNIR     = "1.2.250.1.213.1.4.8"
	OIDINSNIRTest = "1.2.250.1.213.1.4.10"
	OIDINSC       = "1.2.250.1.213.1.4.2"
)

// String is the CX form, <id>^^^&<oid>&ISO^<type>.
func (p PatientID) String() string {
	if p.ID == "" && p.OID == "" {
		return ""
	}
	s := escapeHL7(p.ID) + "^^^&" + p.OID + "&ISO"
	if p.Type != "" {
		s += "^" + p.Type
	}
	return s
}

// ParsePatientID reads a CX patient identifier. An empty ID or assigning
// authority is an error; the type code may be absent (the ASIP examples
// leave it out).
func ParsePatientID(s string) (PatientID, error) {
	p := PatientID{Raw: s}
	c := splitComponents(s)
	p.ID = compactID(c.at(0))
	hd := splitSub(c.raw(3))
	p.OID = compactID(hd.at(1))
	if p.OID == "" {
		p.OID = compactID(hd.at(0))
	}
	p.Type = compactID(c.at(4))
	if p.ID == "" {
		return p, fmt.Errorf("patient id %q has no identifier", s)
	}
	if p.OID == "" {
		return p, fmt.Errorf("patient id %q has no assigning authority", s)
	}
	return p, nil
}

// parseXCN reads an XCN. It never fails: a garbled value gives what it can,
// and Raw keeps the original.
func parseXCN(s string) Person {
	c := splitComponents(s)
	hd := splitSub(c.raw(8))
	return Person{
		ID:                 compactID(c.at(0)),
		Family:             c.at(1),
		Given:              c.at(2),
		OtherGiven:         c.at(3),
		Suffix:             c.at(4),
		Prefix:             c.at(5),
		AssigningAuthority: compactID(hd.at(1)),
		IDType:             compactID(c.at(12)),
		Raw:                s,
	}
}

// parseXON reads an XON.
func parseXON(s string) Organization {
	c := splitComponents(s)
	hd := splitSub(c.raw(5))
	return Organization{
		Name:               c.at(0),
		AssigningAuthority: compactID(hd.at(1)),
		IDType:             compactID(c.at(6)),
		ID:                 compactID(c.at(9)),
		Raw:                s,
	}
}

// parseCE reads a coded value written code^display^system, as the French
// authorSpecialty slot is (e.g. G15_10/SM26^Médecine générale^1.2.250.1.213.1.1.4.5).
func parseCE(s string) CodedValue {
	c := splitComponents(s)
	cv := CodedValue{Code: compactID(c.at(0)), Display: c.at(1), Scheme: compactID(c.at(2))}
	if len(c) == 1 {
		cv.Code = compactID(s)
	}
	return cv
}

type components []string

func splitComponents(s string) components { return strings.Split(s, "^") }
func splitSub(s string) components        { return strings.Split(s, "&") }

// raw is component i undecoded (to split subcomponents).
func (c components) raw(i int) string {
	if i < len(c) {
		return c[i]
	}
	return ""
}

// at is component i, unescaped, with line breaks folded: the ASIP
// authorInstitution values break lines inside the value.
func (c components) at(i int) string {
	return foldSpace(unescapeHL7(c.raw(i)))
}

// foldSpace turns every run of white space, line breaks included, into one
// space, and trims.
func foldSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// compactID removes all white space: an identifier or an OID broken across
// lines is one token.
func compactID(s string) string {
	if strings.IndexFunc(s, unicode.IsSpace) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// unescapeHL7 decodes the HL7 v2 escape sequences (HL7 v2.5 §2.7):
// \F\ | , \S\ ^ , \T\ & , \R\ ~ , \E\ \ , \Xhh..\ hex bytes, \.br\ line
// break. An unknown or unterminated sequence is kept as written.
func unescapeHL7(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		end := strings.IndexByte(s[i+1:], '\\')
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		seq := s[i+1 : i+1+end]
		switch {
		case seq == "F":
			b.WriteByte('|')
		case seq == "S":
			b.WriteByte('^')
		case seq == "T":
			b.WriteByte('&')
		case seq == "R":
			b.WriteByte('~')
		case seq == "E":
			b.WriteByte('\\')
		case seq == ".br":
			b.WriteByte('\n')
		case len(seq) > 1 && seq[0] == 'X' && len(seq)%2 == 1 && isHex(seq[1:]):
			for j := 1; j < len(seq); j += 2 {
				v, _ := strconv.ParseUint(seq[j:j+2], 16, 8)
				b.WriteByte(byte(v))
			}
		default:
			b.WriteString(s[i : i+end+2])
		}
		i += end + 1
	}
	return b.String()
}

// escapeHL7 is the inverse of unescapeHL7 for the delimiters.
func escapeHL7(s string) string {
	if !strings.ContainsAny(s, `\|^&~`) {
		return s
	}
	r := strings.NewReplacer(`\`, `\E\`, `|`, `\F\`, `^`, `\S\`, `&`, `\T\`, `~`, `\R\`)
	return r.Replace(s)
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return s != ""
}

// ParseTime reads an HL7 time stamp YYYY[MM[DD[hh[mm[ss]]]]], which XDS
// metadata gives in UTC (ITI TF-3 §4.2.3.1.5). A trailing fraction is
// ignored; a trailing offset (+hhmm/-hhmm, CDA style, tolerated though XDS
// forbids it) is applied. The result is in UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	body, zone := s, ""
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		body, zone = s[:i], s[i:]
	}
	if i := strings.IndexByte(body, '.'); i >= 0 {
		if !allDigits(body[i+1:]) {
			return time.Time{}, fmt.Errorf("time %q: bad fraction", s)
		}
		body = body[:i]
	}
	layouts := map[int]string{4: "2006", 6: "200601", 8: "20060102", 10: "2006010215", 12: "200601021504", 14: "20060102150405"}
	layout, ok := layouts[len(body)]
	if !ok || !allDigits(body) {
		return time.Time{}, fmt.Errorf("time %q is not YYYY[MM[DD[hh[mm[ss]]]]]", s)
	}
	t, err := time.Parse(layout, body)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %v", s, err)
	}
	if zone != "" {
		if len(zone) != 5 || !allDigits(zone[1:]) {
			return time.Time{}, fmt.Errorf("time %q: bad offset", s)
		}
		h, _ := strconv.Atoi(zone[1:3])
		m, _ := strconv.Atoi(zone[3:5])
		if h > 14 || m > 59 {
			return time.Time{}, fmt.Errorf("time %q: bad offset", s)
		}
		off := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
		if zone[0] == '+' {
			t = t.Add(-off)
		} else {
			t = t.Add(off)
		}
	}
	return t.UTC(), nil
}

// FormatTime writes t as the 14-digit UTC HL7 time stamp.
func FormatTime(t time.Time) string { return t.UTC().Format("20060102150405") }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
