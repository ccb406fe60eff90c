// Package cda reads the header of an HL7 CDA R2 document (ANSI/HL7 CDA R2
// 2005, POCD_HD000040) as the French CI-SIS uses it: what the document is
// (code, title, date, confidentiality), whom it concerns (the patient's
// INS-NIR in recordTarget/patientRole/id), who wrote it (author, custodian),
// and its body: level 1 (nonXMLBody, an embedded PDF or other file, decoded
// here within a size limit) or level 3 (structuredBody, whose top-level
// sections are listed).
//
// Sources: CDA R2 §4.2 (header), §4.3.2 (nonXMLBody), §4.3.3
// (structuredBody); IHE XDS-SD (ITI TF-3 §5.2) for level 1 bodies; the
// ANS examples in shared/samples/cda and the "auto-présentable" documents
// of shared/samples/README.md, whose root is an xsl:stylesheet holding the
// ClinicalDocument.
package cda

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// NS is the HL7 v3 namespace of a ClinicalDocument.
const NS = "urn:hl7-org:v3"

// OIDs of the patient identifiers (shared/reference.md): INS-NIR and its
// test authority.
const (
	OIDINSNIR     = "1.2.250.1.213.1.4.8"
	OIDINSNIRTest = "1.2.250.1.213.1.4.10"
)

// Limits bound Parse. A zero field takes its DefaultLimits value.
type Limits struct {
	MaxDocumentBytes int64 // the XML document
	MaxBodyBytes     int64 // the decoded level 1 body
}

// DefaultLimits suit a document attached to a mail.
var DefaultLimits = Limits{MaxDocumentBytes: 96 << 20, MaxBodyBytes: 64 << 20}

// Errors of Parse, all wrapping ErrCDA.
var (
	ErrCDA      = errors.New("cda")
	ErrNotCDA   = fmt.Errorf("%w: no ClinicalDocument", ErrCDA)
	ErrSyntax   = fmt.Errorf("%w: XML", ErrCDA)
	ErrTooLarge = fmt.Errorf("%w: too large", ErrCDA)
	ErrBody     = fmt.Errorf("%w: body", ErrCDA)
)

// Header is what the rest of the gateway needs from a CDA document.
type Header struct {
	ID              II
	Title           string
	Code            Code // the document type, e.g. LOINC 18748-4
	EffectiveTime   time.Time
	Confidentiality Code // N, R, V (2.16.840.1.113883.5.25)
	Language        string
	SetID           II
	Version         int
	Templates       []string // templateId roots
	Patient         Patient
	Authors         []Author
	Custodian       Organization
	Level           int // 1: nonXMLBody, 3: structuredBody, 0: no body
	Body            *Body
	Sections        []Section // level 3: the top-level sections
	// AutoPresentable: the ClinicalDocument was found inside another root
	// (an xsl:stylesheet carrying its own rendering).
	AutoPresentable bool
}

// II is an instance identifier.
type II struct{ Root, Extension string }

// Code is a coded value (CD/CE).
type Code struct {
	Code, System, SystemName, Display string
	Translations                      []Code
}

// Name is a person's name. Family is the name in use (qualifier CL, else
// the first family), BirthFamily the birth name (qualifier BR).
type Name struct {
	Prefix, Given, Family, BirthFamily, Suffix string
}

// Full is "Given Family".
func (n Name) Full() string { return strings.TrimSpace(n.Given + " " + n.Family) }

// Patient is recordTarget/patientRole.
type Patient struct {
	IDs       []II
	INS       string // the INS-NIR (extension), when an id has an INS-NIR root
	INSRoot   string // OIDINSNIR or OIDINSNIRTest
	Name      Name
	BirthDate string // as given, YYYYMMDD
	Sex       string // administrativeGenderCode: F, M, U
}

// Author is one author of the document.
type Author struct {
	Time         time.Time
	ID           II   // e.g. root 1.2.250.1.71.4.2.1 (RPPS/ADELI), extension 801234567897
	Code         Code // profession/specialty, e.g. G15_10/SM44
	Name         Name
	Organization Organization
}

// Organization is a represented organisation or the custodian.
type Organization struct {
	ID   II
	Name string
}

// Body is the decoded nonXMLBody of a level 1 document.
type Body struct {
	MediaType string // e.g. application/pdf
	Content   []byte
}

// Section is a top-level section of a level 3 body.
type Section struct {
	Code  Code
	Title string
}

// ParseHeader parses data with DefaultLimits.
func ParseHeader(data []byte) (*Header, error) { return Parse(data, DefaultLimits) }

// Parse finds the ClinicalDocument element (the root, or anywhere below
// another root) and reads its header and body. A UTF-8 byte order mark and
// CRLF line ends are fine (XML 1.0 §2.11 folds CRLF).
func Parse(data []byte, lim Limits) (*Header, error) {
	if lim.MaxDocumentBytes <= 0 {
		lim.MaxDocumentBytes = DefaultLimits.MaxDocumentBytes
	}
	if lim.MaxBodyBytes <= 0 {
		lim.MaxBodyBytes = DefaultLimits.MaxBodyBytes
	}
	if int64(len(data)) > lim.MaxDocumentBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(data), lim.MaxDocumentBytes)
	}
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	d.Strict = true
	d.CharsetReader = charsetReader
	first := true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil, ErrNotCDA
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local != "ClinicalDocument" || se.Name.Space != NS {
			first = false
			continue
		}
		var x xDoc
		if err := d.DecodeElement(&x, &se); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		h, err := x.header(lim)
		if err != nil {
			return nil, err
		}
		h.AutoPresentable = !first
		return h, nil
	}
}

// The document as encoding/xml sees it. Tags carry local names only, so
// any prefix bound to the HL7 namespace matches.
type xDoc struct {
	ID              xII      `xml:"id"`
	Code            xCode    `xml:"code"`
	Title           string   `xml:"title"`
	EffectiveTime   xValue   `xml:"effectiveTime"`
	Confidentiality xCode    `xml:"confidentialityCode"`
	Language        xCode    `xml:"languageCode"`
	SetID           xII      `xml:"setId"`
	Version         xValue   `xml:"versionNumber"`
	Templates       []xII    `xml:"templateId"`
	RecordTarget    xPatRole `xml:"recordTarget>patientRole"`
	Authors         []struct {
		Time     xValue `xml:"time"`
		Assigned struct {
			ID     xII    `xml:"id"`
			Code   xCode  `xml:"code"`
			Person xName  `xml:"assignedPerson>name"`
			Org    xOrg   `xml:"representedOrganization"`
			Device string `xml:"assignedAuthoringDevice>softwareName"`
		} `xml:"assignedAuthor"`
	} `xml:"author"`
	Custodian xOrg `xml:"custodian>assignedCustodian>representedCustodianOrganization"`
	Component struct {
		NonXML *struct {
			Text struct {
				MediaType      string `xml:"mediaType,attr"`
				Representation string `xml:"representation,attr"`
				Compression    string `xml:"compression,attr"`
				Data           string `xml:",chardata"`
			} `xml:"text"`
		} `xml:"nonXMLBody"`
		Structured *struct {
			Components []struct {
				Section struct {
					Code  xCode  `xml:"code"`
					Title string `xml:"title"`
				} `xml:"section"`
			} `xml:"component"`
		} `xml:"structuredBody"`
	} `xml:"component"`
}

type xII struct {
	Root      string `xml:"root,attr"`
	Extension string `xml:"extension,attr"`
}

type xCode struct {
	Code         string  `xml:"code,attr"`
	System       string  `xml:"codeSystem,attr"`
	SystemName   string  `xml:"codeSystemName,attr"`
	Display      string  `xml:"displayName,attr"`
	Translations []xCode `xml:"translation"`
}

type xValue struct {
	Value string `xml:"value,attr"`
}

type xPart struct {
	Qualifier string `xml:"qualifier,attr"`
	Value     string `xml:",chardata"`
}

type xName struct {
	Prefix []xPart `xml:"prefix"`
	Given  []xPart `xml:"given"`
	Family []xPart `xml:"family"`
	Suffix []xPart `xml:"suffix"`
	Text   string  `xml:",chardata"`
}

type xOrg struct {
	ID   xII    `xml:"id"`
	Name string `xml:"name"`
}

type xPatRole struct {
	IDs     []xII `xml:"id"`
	Patient struct {
		Name      xName  `xml:"name"`
		Gender    xCode  `xml:"administrativeGenderCode"`
		BirthTime xValue `xml:"birthTime"`
	} `xml:"patient"`
}

func (x *xDoc) header(lim Limits) (*Header, error) {
	h := &Header{
		ID:              x.ID.ii(),
		Title:           clean(x.Title),
		Code:            x.Code.code(),
		Confidentiality: x.Confidentiality.code(),
		Language:        strings.TrimSpace(x.Language.Code),
		SetID:           x.SetID.ii(),
		Custodian:       x.Custodian.org(),
	}
	if v := strings.TrimSpace(x.EffectiveTime.Value); v != "" {
		// A bad date is not a reason to lose the document: it stays zero.
		h.EffectiveTime, _ = ParseTS(v)
	}
	h.Version, _ = strconv.Atoi(strings.TrimSpace(x.Version.Value))
	for _, t := range x.Templates {
		h.Templates = append(h.Templates, strings.TrimSpace(t.Root))
	}
	p := &h.Patient
	for _, id := range x.RecordTarget.IDs {
		ii := id.ii()
		p.IDs = append(p.IDs, ii)
		// Prefer the production authority over the test one.
		if ii.Extension != "" && (ii.Root == OIDINSNIR || ii.Root == OIDINSNIRTest && p.INSRoot != OIDINSNIR) {
			p.INS, p.INSRoot = ii.Extension, ii.Root
		}
	}
	p.Name = x.RecordTarget.Patient.Name.name()
	p.BirthDate = strings.TrimSpace(x.RecordTarget.Patient.BirthTime.Value)
	p.Sex = strings.TrimSpace(x.RecordTarget.Patient.Gender.Code)
	for _, a := range x.Authors {
		au := Author{
			ID:           a.Assigned.ID.ii(),
			Code:         a.Assigned.Code.code(),
			Name:         a.Assigned.Person.name(),
			Organization: a.Assigned.Org.org(),
		}
		if au.Name == (Name{}) && a.Assigned.Device != "" {
			au.Name.Family = clean(a.Assigned.Device)
		}
		au.Time, _ = ParseTS(strings.TrimSpace(a.Time.Value))
		h.Authors = append(h.Authors, au)
	}
	switch c := x.Component; {
	case c.NonXML != nil:
		h.Level = 1
		body, err := decodeBody(c.NonXML.Text.MediaType, c.NonXML.Text.Representation, c.NonXML.Text.Compression, c.NonXML.Text.Data, lim.MaxBodyBytes)
		if err != nil {
			return nil, err
		}
		h.Body = body
	case c.Structured != nil:
		h.Level = 3
		for _, comp := range c.Structured.Components {
			h.Sections = append(h.Sections, Section{Code: comp.Section.Code.code(), Title: clean(comp.Section.Title)})
		}
	}
	return h, nil
}

// decodeBody decodes nonXMLBody/text: base64 (representation B64) or plain
// text (TXT, the ED default). A compressed body (DF, GZ…) is refused: the
// French volumes never use one, and inflating it would need its own bomb
// guard.
func decodeBody(mediaType, repr, compression, data string, max int64) (*Body, error) {
	b := &Body{MediaType: strings.TrimSpace(mediaType)}
	if b.MediaType == "" {
		b.MediaType = "text/plain" // the ED default (HL7 v3 data types)
	}
	if compression != "" {
		return nil, fmt.Errorf("%w: compressed body (%s) not supported", ErrBody, compression)
	}
	switch strings.ToUpper(strings.TrimSpace(repr)) {
	case "B64":
		compact := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, data)
		if int64(len(compact))/4*3 > max {
			return nil, fmt.Errorf("%w: body over %d bytes", ErrTooLarge, max)
		}
		enc := base64.StdEncoding
		if len(compact)%4 != 0 {
			enc = base64.RawStdEncoding
		}
		out, err := enc.DecodeString(compact)
		if err != nil {
			return nil, fmt.Errorf("%w: base64: %v", ErrBody, err)
		}
		b.Content = out
	case "", "TXT":
		if int64(len(data)) > max {
			return nil, fmt.Errorf("%w: body over %d bytes", ErrTooLarge, max)
		}
		b.Content = []byte(data)
	default:
		return nil, fmt.Errorf("%w: representation %q", ErrBody, repr)
	}
	return b, nil
}

func (x xII) ii() II {
	return II{Root: strings.TrimSpace(x.Root), Extension: strings.TrimSpace(x.Extension)}
}

func (x xCode) code() Code {
	c := Code{Code: strings.TrimSpace(x.Code), System: strings.TrimSpace(x.System), SystemName: clean(x.SystemName), Display: clean(x.Display)}
	for _, t := range x.Translations {
		c.Translations = append(c.Translations, Code{Code: strings.TrimSpace(t.Code), System: strings.TrimSpace(t.System), SystemName: clean(t.SystemName), Display: clean(t.Display)})
	}
	return c
}

func (x xOrg) org() Organization { return Organization{ID: x.ID.ii(), Name: clean(x.Name)} }

func (x xName) name() Name {
	n := Name{Prefix: joinParts(x.Prefix, ""), Given: firstGiven(x.Given), Suffix: joinParts(x.Suffix, "")}
	for _, f := range x.Family {
		v := clean(f.Value)
		switch strings.ToUpper(strings.TrimSpace(f.Qualifier)) {
		case "BR":
			if n.BirthFamily == "" {
				n.BirthFamily = v
			}
		case "CL":
			n.Family = v
		}
	}
	if n.Family == "" {
		n.Family = n.BirthFamily
		if n.Family == "" {
			n.Family = joinParts(x.Family, "")
		}
	}
	if n == (Name{}) {
		n.Family = clean(x.Text) // a name given as plain text
	}
	return n
}

// firstGiven: the given name in use (CL), else the first one.
func firstGiven(parts []xPart) string {
	for _, p := range parts {
		if strings.EqualFold(strings.TrimSpace(p.Qualifier), "CL") {
			return clean(p.Value)
		}
	}
	if len(parts) > 0 {
		return clean(parts[0].Value)
	}
	return ""
}

func joinParts(parts []xPart, qualifier string) string {
	var out []string
	for _, p := range parts {
		if qualifier == "" || strings.EqualFold(p.Qualifier, qualifier) {
			if v := clean(p.Value); v != "" {
				out = append(out, v)
			}
		}
	}
	return strings.Join(out, " ")
}

// clean folds white space and line breaks into single spaces.
func clean(s string) string { return strings.Join(strings.Fields(s), " ") }

// ParseTS reads an HL7 v3 TS: YYYY[MM[DD[hh[mm[ss[.f]]]]]][+/-hhmm]. Without
// an offset the time is taken as UTC. The result is in UTC.
func ParseTS(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	body, zone := s, ""
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		body, zone = s[:i], s[i:]
	}
	if i := strings.IndexByte(body, '.'); i >= 0 {
		if !digits(body[i+1:]) {
			return time.Time{}, fmt.Errorf("time %q: bad fraction", s)
		}
		body = body[:i]
	}
	layout := map[int]string{4: "2006", 6: "200601", 8: "20060102", 10: "2006010215", 12: "200601021504", 14: "20060102150405"}[len(body)]
	if layout == "" || !digits(body) {
		return time.Time{}, fmt.Errorf("time %q is not an HL7 TS", s)
	}
	t, err := time.Parse(layout, body)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %v", s, err)
	}
	if zone != "" {
		if len(zone) != 5 || !digits(zone[1:]) {
			return time.Time{}, fmt.Errorf("time %q: bad offset", s)
		}
		hh, _ := strconv.Atoi(zone[1:3])
		mm, _ := strconv.Atoi(zone[3:])
		if hh > 14 || mm > 59 {
			return time.Time{}, fmt.Errorf("time %q: bad offset", s)
		}
		off := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute
		if zone[0] == '-' {
			off = -off
		}
		t = t.Add(-off)
	}
	return t.UTC(), nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "iso_8859-1":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return strings.NewReader(string(r)), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}
