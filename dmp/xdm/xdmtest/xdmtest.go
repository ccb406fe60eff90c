// Package xdmtest builds IHE XDM archives (IHE_XDM.ZIP) for tests: valid ones
// in the layout of shared/reference.md and ITI TF-3 §4.2.1.1 (INDEX.HTM,
// README.TXT, IHE_XDM/<subset>/METADATA.XML and the documents beside it),
// and hostile variants (wrong hash, path traversal, nested zip, zip bomb,
// broken XML…) through the Hostile knobs.
//
// The zero Spec gives a valid archive with one CDA R2 level 1 document for
// the test patient PAT-TROIS Dominique (INS-NIR de test 279035121518989,
// the identity of the public ANS CDA examples).
package xdmtest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io/fs"
	"strings"
	"testing"
	"time"

	"mssanted/dmp/xdm"
)

// Test identities of the public ANS examples (shared/samples).
const (
	PatientINS = "279035121518989"
	AuthorID   = "801234567897"
)

// Spec describes an archive. Zero fields take sensible defaults.
type Spec struct {
	Subset         string    // subset folder, default SUBSET01
	Title          string    // submission set title
	SubmissionTime time.Time // default 2024-01-16 14:11:12 UTC
	Patient        Patient
	Author         Author
	Documents      []Doc // default: one CDA R2 level 1 report
	// Envelope wraps the request in a SOAP 1.2 envelope and an xds-b
	// ProvideAndRegisterDocumentSetRequest, as the DRIMbox sample does;
	// otherwise METADATA.XML is a bare lcm:SubmitObjectsRequest.
	Envelope bool
	BOM      bool // start METADATA.XML with a UTF-8 byte order mark, as the ASIP examples do
	// URIWithSubset writes URI slots as SUBSET01/DOC00001.XML (DRIMbox)
	// instead of DOC00001.XML (ASIP).
	URIWithSubset bool
	Hostile       Hostile
}

// Patient is the patient the archive concerns.
type Patient struct {
	INS       string // default PatientINS
	OID       string // default xdm.OIDINSNIRTest
	Type      string // CX.5, default NH; "-" for none
	Family    string // default PAT-TROIS
	Given     string // default DOMINIQUE
	BirthDate string // YYYYMMDD, default 19790328
	Sex       string // default F
}

// Author is the professional who sends the documents.
type Author struct {
	ID            string // RPPS-based id, default AuthorID
	Family        string // default DAVID
	Given         string // default Charles
	Institution   string // default Hôpital Européen Georges Pompidou
	InstitutionID string // default 1750803447
	Specialty     string // code^display^system, default G15_10/SM27^Médecine interne^1.2.250.1.213.1.1.4.5
}

// Doc is one document of the archive.
type Doc struct {
	File            string // file name in the subset folder, default DOC0000n.XML
	Content         []byte // default: a small CDA R2 level 1 document
	MimeType        string // default text/xml
	Title           string // default "Compte rendu"
	Class           string // classCode, default 10
	ClassDisplay    string
	Type            string // typeCode (LOINC), default 11490-0
	TypeDisplay     string
	Format          string    // formatCode, default urn:ihe:iti:xds-sd:pdf:2008
	Confidentiality []string  // default N; MASQUE_PS, INVISIBLE_PATIENT… are French flags
	CreationTime    time.Time // default SubmissionTime
	ServiceStart    time.Time
	ServiceStop     time.Time
	PatientINS      string // overrides the patient id of this entry (mismatch tests)
	// Hostile per-document knobs.
	WrongHash bool   // metadata hash of other bytes
	WrongSize bool   // metadata size one byte off
	NoHash    bool   // no hash slot
	OmitFile  bool   // the metadata names a file the archive lacks
	URI       string // the URI slot as written, overriding the default
}

// Entry is a raw zip entry added as is.
type Entry struct {
	Name    string
	Content []byte
	Mode    fs.FileMode // 0: a regular file 0644
	Store   bool        // store instead of deflate
	// DeclaredSize, when > 0, is written in the headers as the
	// uncompressed size instead of the real one: a lying header.
	DeclaredSize uint64
}

// Hostile knobs make the archive broken or dangerous.
type Hostile struct {
	Traversal        bool  // adds an entry ../../etc/passwd
	Absolute         bool  // adds an entry /etc/passwd
	Backslash        bool  // adds an entry IHE_XDM\..\evil.txt
	NestedZip        bool  // adds IHE_XDM/<subset>/INNER.ZIP, an archive
	HiddenZip        bool  // the first document's content is a zip archive (by magic, not by name)
	Symlink          bool  // adds IHE_XDM/<subset>/LINK.XML, a symlink to /etc/passwd
	Bomb             int64 // adds a document of this many zero bytes (hash and size right)
	BombLies         bool  // with Bomb: the zip headers understate the bomb's size
	BrokenXML        bool  // METADATA.XML cut in the middle
	UndeclaredPrefix bool  // METADATA.XML uses the ns3: prefix without declaring it (the stripped DRIM-M file)
	NoMetadata       bool  // no METADATA.XML
	Duplicate        bool  // the first document's file appears twice (different case)
	Entries          []Entry
}

// Build writes the archive.
func Build(s Spec) ([]byte, error) {
	s = s.withDefaults()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(e Entry) error {
		return addEntry(zw, e)
	}
	if err := add(Entry{Name: "INDEX.HTM", Content: []byte(indexHTM(s))}); err != nil {
		return nil, err
	}
	if err := add(Entry{Name: "README.TXT", Content: []byte(readme(s))}); err != nil {
		return nil, err
	}
	dir := "IHE_XDM/" + s.Subset + "/"
	if !s.Hostile.NoMetadata {
		meta := metadata(s)
		if s.Hostile.BrokenXML {
			meta = meta[:len(meta)/2]
		}
		if err := add(Entry{Name: dir + "METADATA.XML", Content: meta}); err != nil {
			return nil, err
		}
	}
	for i, d := range s.Documents {
		if d.OmitFile {
			continue
		}
		e := Entry{Name: dir + d.File, Content: d.Content}
		if s.Hostile.Bomb > 0 && i == len(s.Documents)-1 && s.Hostile.BombLies {
			e.DeclaredSize = 1000
		}
		if err := add(e); err != nil {
			return nil, err
		}
		if i == 0 && s.Hostile.Duplicate {
			if err := add(Entry{Name: dir + strings.ToLower(d.File), Content: d.Content}); err != nil {
				return nil, err
			}
		}
	}
	h := s.Hostile
	var extra []Entry
	if h.Traversal {
		extra = append(extra, Entry{Name: "../../etc/passwd", Content: []byte("root:x:0:0::/root:/bin/sh\n")})
	}
	if h.Absolute {
		extra = append(extra, Entry{Name: "/etc/passwd", Content: []byte("root:x:0:0::/root:/bin/sh\n")})
	}
	if h.Backslash {
		extra = append(extra, Entry{Name: `IHE_XDM\..\evil.txt`, Content: []byte("evil")})
	}
	if h.NestedZip {
		extra = append(extra, Entry{Name: dir + "INNER.ZIP", Content: innerZip(), Store: true})
	}
	if h.Symlink {
		extra = append(extra, Entry{Name: dir + "LINK.XML", Content: []byte("/etc/passwd"), Mode: fs.ModeSymlink | 0o777})
	}
	extra = append(extra, h.Entries...)
	for _, e := range extra {
		if err := add(e); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MustBuild is Build for tests.
func MustBuild(tb testing.TB, s Spec) []byte {
	tb.Helper()
	b, err := Build(s)
	if err != nil {
		tb.Fatalf("xdmtest: %v", err)
	}
	return b
}

// Open builds the archive and opens it with xdm.Open and the default
// limits.
func Open(tb testing.TB, s Spec) (*xdm.Archive, error) {
	tb.Helper()
	b := MustBuild(tb, s)
	return xdm.Open(bytes.NewReader(b), int64(len(b)), xdm.DefaultLimits)
}

func addEntry(zw *zip.Writer, e Entry) error {
	mode := e.Mode
	if mode == 0 {
		mode = 0o644
	}
	hdr := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: time.Date(2024, 1, 16, 14, 11, 12, 0, time.UTC)}
	if e.Store {
		hdr.Method = zip.Store
	}
	hdr.SetMode(mode)
	if e.DeclaredSize == 0 {
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("zip entry %s: %w", e.Name, err)
		}
		_, err = w.Write(e.Content)
		return err
	}
	// A lying header: compress ourselves and write the sizes we like.
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	fw.Write(e.Content)
	fw.Close()
	hdr.Method = zip.Deflate
	hdr.CRC32 = crc32.ChecksumIEEE(e.Content)
	hdr.CompressedSize64 = uint64(comp.Len())
	hdr.UncompressedSize64 = e.DeclaredSize
	w, err := zw.CreateRaw(hdr)
	if err != nil {
		return fmt.Errorf("zip entry %s: %w", e.Name, err)
	}
	_, err = w.Write(comp.Bytes())
	return err
}

func innerZip() []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("inner.txt")
	w.Write([]byte("an archive in the archive"))
	zw.Close()
	return b.Bytes()
}

var defaultTime = time.Date(2024, 1, 16, 14, 11, 12, 0, time.UTC)

func (s Spec) withDefaults() Spec {
	if s.Subset == "" {
		s.Subset = "SUBSET01"
	}
	if s.Title == "" {
		s.Title = "Documents de santé"
	}
	if s.SubmissionTime.IsZero() {
		s.SubmissionTime = defaultTime
	}
	s.Patient = s.Patient.withDefaults()
	s.Author = s.Author.withDefaults()
	docs := append([]Doc(nil), s.Documents...)
	if len(docs) == 0 {
		docs = []Doc{{}}
	}
	if s.Hostile.Bomb > 0 {
		docs = append(docs, Doc{File: "BOMB.XML", Content: make([]byte, s.Hostile.Bomb), Title: "Bombe", Type: "11490-0"})
	}
	for i := range docs {
		d := &docs[i]
		def(&d.File, fmt.Sprintf("DOC%05d.XML", i+1))
		def(&d.MimeType, "text/xml")
		def(&d.Title, "Compte rendu")
		def(&d.Class, "10")
		def(&d.ClassDisplay, "Compte rendu")
		def(&d.Type, "11490-0")
		def(&d.TypeDisplay, "CR d'hospitalisation")
		def(&d.Format, "urn:ihe:iti:xds-sd:pdf:2008")
		if len(d.Confidentiality) == 0 {
			d.Confidentiality = []string{xdm.ConfNormal}
		}
		if d.CreationTime.IsZero() {
			d.CreationTime = s.SubmissionTime
		}
		if d.Content == nil {
			d.Content = CDALevel1(CDA{Code: d.Type, Title: d.Title, Patient: s.Patient, Author: s.Author, Time: d.CreationTime})
		}
		if i == 0 && s.Hostile.HiddenZip {
			d.Content = innerZip()
		}
	}
	s.Documents = docs
	return s
}

func (p Patient) withDefaults() Patient {
	def(&p.INS, PatientINS)
	def(&p.OID, xdm.OIDINSNIRTest)
	def(&p.Type, "NH")
	def(&p.Family, "PAT-TROIS")
	def(&p.Given, "DOMINIQUE")
	def(&p.BirthDate, "19790328")
	def(&p.Sex, "F")
	return p
}

func (a Author) withDefaults() Author {
	def(&a.ID, AuthorID)
	def(&a.Family, "DAVID")
	def(&a.Given, "Charles")
	def(&a.Institution, "Hôpital Européen Georges Pompidou")
	def(&a.InstitutionID, "1750803447")
	def(&a.Specialty, "G15_10/SM27^Médecine interne (SM)^1.2.250.1.213.1.1.4.5")
	return a
}

func def(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

func indexHTM(s Spec) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html>
Emetteur : ` + esc(s.Author.Institution) + `
Voir le fichier <a href="README.TXT">ReadMe</a>
</html>`
}

func readme(s Spec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Emetteur :\r\n=============\r\n    . Nom : DR %s %s\r\n    . Organisme : %s\r\n\r\n", s.Author.Family, s.Author.Given, s.Author.Institution)
	b.WriteString("Application de l'emetteur :\r\n=========================\r\n    . Nom : mssanted xdmtest\r\n\r\n")
	b.WriteString("Arborescence :\r\n============\r\n     README.TXT\r\n     INDEX.HTM\r\n     IHE_XDM\r\n          " + s.Subset + "\r\n               METADATA.XML\r\n")
	for _, d := range s.Documents {
		b.WriteString("               " + d.File + "\r\n")
	}
	return b.String()
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), `"`, "&quot;")
}

// Metadata writes the METADATA.XML of the spec (after defaults).
func Metadata(s Spec) []byte { return metadata(s.withDefaults()) }

func metadata(s Spec) []byte {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	if s.BOM {
		b.WriteString("\xef\xbb\xbf")
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	sor := `<lcm:SubmitObjectsRequest xmlns:lcm="` + xdm.NSLcm + `">`
	sorEnd := `</lcm:SubmitObjectsRequest>`
	if s.Hostile.UndeclaredPrefix {
		sor, sorEnd = `<ns3:SubmitObjectsRequest>`, `</ns3:SubmitObjectsRequest>`
	}
	if s.Envelope {
		w(`<soap:Envelope xmlns:soap="%s"><soap:Header/><soap:Body><ns4:ProvideAndRegisterDocumentSetRequest xmlns:ns4="%s">`, xdm.NSSoap, xdm.NSXdsB)
	}
	b.WriteString(sor)
	w(`<RegistryObjectList xmlns="%s">`, xdm.NSRim)
	pid := patientCX(s.Patient, s.Patient.INS)
	// Submission set.
	w(`<RegistryPackage id="SubmissionSet01">`)
	slot(&b, "submissionTime", xdm.FormatTime(s.SubmissionTime))
	w(`<Name><LocalizedString value="%s"/></Name>`, esc(s.Title))
	classification(&b, "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d", "SubmissionSet01", "ssauthor", "", "", "", authorSlots(s.Author)...)
	classification(&b, "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500", "SubmissionSet01", "sscontent", "04", "1.2.250.1.213.2.2", "Hospitalisation de jour")
	w(`<ExternalIdentifier id="ss-pid" identificationScheme="urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446" registryObject="SubmissionSet01" value="%s"/>`, esc(pid))
	w(`<ExternalIdentifier id="ss-src" identificationScheme="urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832" registryObject="SubmissionSet01" value="1.2.250.1.999.1.1.8121"/>`)
	w(`<ExternalIdentifier id="ss-uid" identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8" registryObject="SubmissionSet01" value="1.2.250.1.999.1.1.8121.%d"/>`, s.SubmissionTime.Unix())
	w(`</RegistryPackage>`)
	w(`<Classification id="ss-node" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd" classifiedObject="SubmissionSet01"/>`)
	for i, d := range s.Documents {
		id := fmt.Sprintf("Document%02d", i+1)
		w(`<ExtrinsicObject id="%s" mimeType="%s" objectType="%s">`, id, esc(d.MimeType), xdm.ObjectTypeStable)
		slot(&b, "creationTime", xdm.FormatTime(d.CreationTime))
		slot(&b, "languageCode", "fr-FR")
		if !d.ServiceStart.IsZero() {
			slot(&b, "serviceStartTime", xdm.FormatTime(d.ServiceStart))
		}
		if !d.ServiceStop.IsZero() {
			slot(&b, "serviceStopTime", xdm.FormatTime(d.ServiceStop))
		}
		sum := sha1.Sum(d.Content)
		if d.WrongHash {
			sum = sha1.Sum(append([]byte("altered "), d.Content...))
		}
		if !d.NoHash {
			slot(&b, "hash", hex.EncodeToString(sum[:]))
		}
		size := len(d.Content)
		if d.WrongSize {
			size++
		}
		slot(&b, "size", fmt.Sprint(size))
		uri := d.File
		if s.URIWithSubset {
			uri = s.Subset + "/" + d.File
		}
		if d.URI != "" {
			uri = d.URI
		}
		slot(&b, "URI", uri)
		slot(&b, "sourcePatientId", patientCX(s.Patient, s.Patient.INS))
		slot(&b, "sourcePatientInfo", "PID-5|"+s.Patient.Family+"^"+s.Patient.Given+"^^^^^L", "PID-7|"+s.Patient.BirthDate, "PID-8|"+s.Patient.Sex)
		w(`<Name><LocalizedString value="%s"/></Name>`, esc(d.Title))
		classification(&b, "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d", id, id+"-author", "", "", "", authorSlots(s.Author)...)
		classification(&b, "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a", id, id+"-class", d.Class, "1.2.250.1.213.1.1.4.1", d.ClassDisplay)
		classification(&b, "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983", id, id+"-type", d.Type, "2.16.840.1.113883.6.1", d.TypeDisplay)
		classification(&b, "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d", id, id+"-format", d.Format, "1.3.6.1.4.1.19376.1.2.3", "")
		for j, c := range d.Confidentiality {
			scheme := xdm.OIDConfidentialityFrench
			if c == "N" || c == "R" || c == "V" {
				scheme = xdm.OIDConfidentialityHL7
			}
			classification(&b, "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f", id, fmt.Sprintf("%s-conf%d", id, j), c, scheme, "")
		}
		classification(&b, "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1", id, id+"-facility", "SA01", "1.2.250.1.71.4.2.4", "Etablissement public de santé")
		classification(&b, "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead", id, id+"-practice", "ETABLISSEMENT", "1.2.250.1.213.1.1.4.9", "Etablissement de santé")
		docPID := pid
		if d.PatientINS != "" {
			docPID = patientCX(s.Patient, d.PatientINS)
		}
		w(`<ExternalIdentifier id="%s-pid" identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" registryObject="%s" value="%s"/>`, id, id, esc(docPID))
		w(`<ExternalIdentifier id="%s-uid" identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" registryObject="%s" value="1.2.250.1.999.1.1.8121.%d.%d"/>`, id, id, s.SubmissionTime.Unix(), i+1)
		w(`</ExtrinsicObject>`)
		w(`<Association id="assoc%d" associationType="%s" sourceObject="SubmissionSet01" targetObject="%s">`, i+1, xdm.AssociationHasMember, id)
		slot(&b, "SubmissionSetStatus", "Original")
		w(`</Association>`)
	}
	w(`</RegistryObjectList>`)
	b.WriteString(sorEnd)
	if s.Envelope {
		w(`</ns4:ProvideAndRegisterDocumentSetRequest></soap:Body></soap:Envelope>`)
	}
	return []byte(b.String())
}

func patientCX(p Patient, ins string) string {
	s := ins + "^^^&" + p.OID + "&ISO"
	if p.Type != "-" {
		s += "^" + p.Type
	}
	return s
}

// authorSlots are the authorPerson, authorInstitution and authorSpecialty
// slots of the author, as name/value pairs.
func authorSlots(a Author) []string {
	return []string{
		"authorPerson", a.ID + "^" + a.Family + "^" + a.Given + "^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
		"authorInstitution", a.Institution + "^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^" + a.InstitutionID,
		"authorSpecialty", a.Specialty,
	}
}

func slot(b *strings.Builder, name string, values ...string) {
	fmt.Fprintf(b, `<Slot name="%s"><ValueList>`, esc(name))
	for _, v := range values {
		fmt.Fprintf(b, `<Value>%s</Value>`, esc(v))
	}
	b.WriteString(`</ValueList></Slot>`)
}

// classification writes a Classification; slots are name/value pairs.
func classification(b *strings.Builder, scheme, object, id, code, codingScheme, display string, slots ...string) {
	fmt.Fprintf(b, `<Classification classificationScheme="%s" classifiedObject="%s" id="%s" nodeRepresentation="%s">`, scheme, object, id, esc(code))
	if codingScheme != "" {
		slot(b, "codingScheme", codingScheme)
	}
	for i := 0; i+1 < len(slots); i += 2 {
		slot(b, slots[i], slots[i+1])
	}
	if display != "" {
		fmt.Fprintf(b, `<Name><LocalizedString value="%s"/></Name>`, esc(display))
	}
	b.WriteString(`</Classification>`)
}

// CDA is a minimal CDA R2 document for tests.
type CDA struct {
	Code      string // LOINC document type, default 11490-0
	Title     string
	Patient   Patient
	Author    Author
	Time      time.Time
	MediaType string // of the embedded body, default application/pdf
	Body      []byte // embedded (level 1) body, default a tiny PDF
}

// TinyPDF is a small PDF 1.4 file (one empty page), a body for tests.
var TinyPDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
	"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

// CDALevel1 writes a CDA R2 level 1 document (nonXMLBody, base64) in the
// French header layout of the ANS examples: INS-NIR recordTarget, author
// with RPPS id, custodian.
func CDALevel1(c CDA) []byte {
	p, a := c.Patient.withDefaults(), c.Author.withDefaults()
	def(&c.Code, "11490-0")
	def(&c.Title, "Compte rendu")
	def(&c.MediaType, "application/pdf")
	if c.Time.IsZero() {
		c.Time = defaultTime
	}
	if c.Body == nil {
		c.Body = TinyPDF
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <realmCode code="FR"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.2.8.2.1"/>
  <templateId root="1.2.250.1.213.1.1.1.1"/>
  <templateId root="1.3.6.1.4.1.19376.1.2.20"/>
  <id root="1.2.250.1.999.1.1.8121.%d"/>
  <code code="%s" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC"/>
  <title>%s</title>
  <effectiveTime value="%s"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="fr-FR"/>
  <recordTarget><patientRole>
    <id extension="%s" root="%s"/>
    <patient>
      <name><family qualifier="BR">%s</family><given>%s</given></name>
      <administrativeGenderCode code="%s" codeSystem="2.16.840.1.113883.5.1"/>
      <birthTime value="%s"/>
    </patient>
  </patientRole></recordTarget>
  <author>
    <time value="%s"/>
    <assignedAuthor>
      <id root="1.2.250.1.71.4.2.1" extension="%s"/>
      <assignedPerson><name><given>%s</given><family>%s</family></name></assignedPerson>
      <representedOrganization><id root="1.2.250.1.71.4.2.2" extension="%s"/><name>%s</name></representedOrganization>
    </assignedAuthor>
  </author>
  <custodian><assignedCustodian><representedCustodianOrganization>
    <id root="1.2.250.1.71.4.2.2" extension="%s"/><name>%s</name>
  </representedCustodianOrganization></assignedCustodian></custodian>
  <component>
    <nonXMLBody>
      <text mediaType="%s" representation="B64">`,
		c.Time.Unix(), esc(c.Code), esc(c.Title), xdm.FormatTime(c.Time),
		esc(p.INS), esc(p.OID), esc(p.Family), esc(p.Given), esc(p.Sex), esc(p.BirthDate),
		xdm.FormatTime(c.Time), esc(a.ID), esc(a.Given), esc(a.Family), esc(a.InstitutionID), esc(a.Institution),
		esc(a.InstitutionID), esc(a.Institution), esc(c.MediaType))
	enc := base64.StdEncoding.EncodeToString(c.Body)
	for len(enc) > 76 {
		b.WriteString("\n" + enc[:76])
		enc = enc[76:]
	}
	b.WriteString("\n" + enc + "\n</text>\n    </nonXMLBody>\n  </component>\n</ClinicalDocument>\n")
	return []byte(b.String())
}
