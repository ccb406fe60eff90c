package cda

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

const (
	level1    = "testdata/IMG_CR_IMG_2023.11_CDA-R2-Niveau-1.xml"
	level1PDF = "testdata/IMG_CR_IMG_2023.11_Doc_metier.pdf"
	level3    = "testdata/LDL-SES_2022.01.xml"
)

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// The ANS imaging report, level 1: its base64 body is the published PDF,
// byte for byte. The file has CRLF line ends.
func TestLevel1Sample(t *testing.T) {
	data := readTestdata(t, level1)
	if !bytes.Contains(data, []byte("\r\n")) {
		t.Fatal("the sample should have CRLF line ends")
	}
	h, err := ParseHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	if h.Level != 1 || h.Body == nil || h.Body.MediaType != "application/pdf" || h.AutoPresentable {
		t.Fatalf("level %d body %v", h.Level, h.Body != nil)
	}
	pdf := readTestdata(t, level1PDF)
	if !bytes.Equal(h.Body.Content, pdf) {
		t.Errorf("embedded PDF differs: %d bytes, want %d", len(h.Body.Content), len(pdf))
	}
	sum := sha1.Sum(h.Body.Content)
	if !strings.HasPrefix(hex.EncodeToString(sum[:]), "f89adb0a") {
		t.Errorf("sha1 %x", sum)
	}
	if h.Code.Code != "18748-4" || h.Code.System != "2.16.840.1.113883.6.1" || h.Code.Display != "CR d’imagerie médicale" || len(h.Code.Translations) != 3 {
		t.Errorf("code %+v", h.Code)
	}
	if h.Title != "CR d’imagerie médicale - Scanner Tête + Cou + Thorax avec injection" {
		t.Errorf("title %q", h.Title)
	}
	if !h.EffectiveTime.Equal(time.Date(2021, 1, 8, 10, 17, 0, 0, time.UTC)) {
		t.Errorf("effective time %v", h.EffectiveTime)
	}
	if h.Confidentiality.Code != "N" || h.Language != "fr-FR" || h.Version != 2 || h.SetID.Root != "D52DE737-001D-4031-B571-0A0ED7C42300" {
		t.Errorf("conf %+v lang %q version %d set %+v", h.Confidentiality, h.Language, h.Version, h.SetID)
	}
	if h.ID.Root != "1.2.250.1.213.1.1.1.45.2" || len(h.Templates) != 3 || h.Templates[2] != "1.3.6.1.4.1.19376.1.2.20" {
		t.Errorf("id %+v templates %q", h.ID, h.Templates)
	}
	p := h.Patient
	if p.INS != "279035121518989" || p.INSRoot != OIDINSNIRTest || len(p.IDs) != 2 {
		t.Errorf("patient ids %+v", p)
	}
	if p.Name.Family != "PAT-TROIS" || p.Name.BirthFamily != "PAT-TROIS" || p.Name.Given != "DOMINIQUE" || p.BirthDate != "19790328" || p.Sex != "F" {
		t.Errorf("patient %+v", p)
	}
	if len(h.Authors) != 1 {
		t.Fatalf("authors %+v", h.Authors)
	}
	a := h.Authors[0]
	if a.ID != (II{"1.2.250.1.71.4.2.1", "801234560801"}) || a.Code.Code != "G15_10/SM44" || a.Name.Full() != "Jacques BIDEAULT" || a.Name.Prefix != "M" || a.Name.Suffix != "DR" {
		t.Errorf("author %+v", a)
	}
	if a.Organization.Name != "Centre de radiologie Ambroise" || a.Organization.ID.Extension != "101235555" {
		t.Errorf("organisation %+v", a.Organization)
	}
	if !a.Time.Equal(time.Date(2021, 1, 8, 10, 17, 0, 0, time.UTC)) {
		t.Errorf("author time %v", a.Time)
	}
	if h.Custodian.Name != "Centre de radiologie Ambroise" || h.Custodian.ID.Root != "1.2.250.1.71.4.2.2" {
		t.Errorf("custodian %+v", h.Custodian)
	}
}

// The ANS discharge letter, level 3: 9 sections, no body bytes.
func TestLevel3Sample(t *testing.T) {
	h, err := ParseHeader(readTestdata(t, level3))
	if err != nil {
		t.Fatal(err)
	}
	if h.Level != 3 || h.Body != nil {
		t.Fatalf("level %d", h.Level)
	}
	if h.Code.Code != "11490-0" || h.Confidentiality.Code != "N" {
		t.Errorf("code %+v conf %+v", h.Code, h.Confidentiality)
	}
	if h.Patient.INS != "279035121518989" || h.Patient.Name.Given != "DOMINIQUE" {
		t.Errorf("patient %+v", h.Patient)
	}
	if len(h.Authors) != 1 || h.Authors[0].Name.Full() != "Charles DAVID" || h.Authors[0].Organization.Name != "Hôpital Européen Georges Pompidou" {
		t.Errorf("authors %+v", h.Authors)
	}
	found := false
	for _, tpl := range h.Templates {
		found = found || tpl == "1.2.250.1.213.1.1.1.29"
	}
	if !found {
		t.Errorf("templates %q", h.Templates)
	}
	if len(h.Sections) != 9 {
		t.Errorf("%d sections: %+v", len(h.Sections), h.Sections)
	}
	for _, s := range h.Sections {
		if s.Title == "" || s.Code.Code == "" {
			t.Errorf("section %+v", s)
		}
	}
}

// An "auto-présentable" document: the root is an xsl:stylesheet and the
// ClinicalDocument sits inside it.
func TestAutoPresentable(t *testing.T) {
	doc := string(readTestdata(t, level3))
	doc = doc[strings.Index(doc, "<ClinicalDocument"):]
	wrapped := "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n" +
		`<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:n1="urn:hl7-org:v3">` +
		`<xsl:template match="/"><html><body><xsl:value-of select="n1:ClinicalDocument/n1:title"/></body></html></xsl:template>` +
		`<xsl:template name="data">` + doc + `</xsl:template></xsl:stylesheet>`
	h, err := ParseHeader([]byte(wrapped))
	if err != nil {
		t.Fatal(err)
	}
	if !h.AutoPresentable || h.Code.Code != "11490-0" || h.Patient.INS != "279035121518989" || h.Level != 3 {
		t.Errorf("auto-présentable %+v", h)
	}
}

func TestPrefixedAndPlainNames(t *testing.T) {
	in := `<?xml version="1.0" encoding="ISO-8859-1"?><v3:ClinicalDocument xmlns:v3="urn:hl7-org:v3">` +
		"<v3:title>Compte rendu op\xe9ratoire\r\n   (suite)</v3:title>" +
		`<v3:code code="34112-3"/><v3:effectiveTime value="20240116"/>` +
		`<v3:recordTarget><v3:patientRole><v3:id root="1.2.250.1.213.1.4.10" extension="111111111111111"/><v3:id root="1.2.250.1.213.1.4.8" extension="279035121518989"/>` +
		`<v3:patient><v3:name>Jean Dupont</v3:name></v3:patient></v3:patientRole></v3:recordTarget>` +
		`<v3:author><v3:assignedAuthor><v3:assignedAuthoringDevice><v3:softwareName>Logiciel X</v3:softwareName></v3:assignedAuthoringDevice></v3:assignedAuthor></v3:author>` +
		`<v3:component><v3:nonXMLBody><v3:text mediaType="text/plain">Bonjour</v3:text></v3:nonXMLBody></v3:component></v3:ClinicalDocument>`
	h, err := ParseHeader([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if h.Title != "Compte rendu opératoire (suite)" || h.Patient.Name.Family != "Jean Dupont" {
		t.Errorf("title %q name %+v", h.Title, h.Patient.Name)
	}
	if h.Patient.INS != "279035121518989" || h.Patient.INSRoot != OIDINSNIR {
		t.Errorf("INS %q %q: the production authority wins", h.Patient.INS, h.Patient.INSRoot)
	}
	if h.Level != 1 || string(h.Body.Content) != "Bonjour" || h.Body.MediaType != "text/plain" {
		t.Errorf("body %+v", h.Body)
	}
	if h.Authors[0].Name.Family != "Logiciel X" {
		t.Errorf("device author %+v", h.Authors[0])
	}
	if !h.EffectiveTime.Equal(time.Date(2024, 1, 16, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("time %v", h.EffectiveTime)
	}
}

func TestRefusals(t *testing.T) {
	body := func(attrs, data string) string {
		return `<ClinicalDocument xmlns="urn:hl7-org:v3"><component><nonXMLBody><text ` + attrs + `>` + data + `</text></nonXMLBody></component></ClinicalDocument>`
	}
	for _, c := range []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrNotCDA},
		{"other root", `<html><body/></html>`, ErrNotCDA},
		{"wrong namespace", `<ClinicalDocument xmlns="urn:other"/>`, ErrNotCDA},
		{"no namespace", `<ClinicalDocument/>`, ErrNotCDA},
		{"truncated", `<ClinicalDocument xmlns="urn:hl7-org:v3"><title>x`, ErrSyntax},
		{"entity", `<!DOCTYPE x [<!ENTITY e "boom">]><ClinicalDocument xmlns="urn:hl7-org:v3"><title>&e;</title></ClinicalDocument>`, ErrSyntax},
		{"bad base64", body(`representation="B64"`, "@@@@"), ErrBody},
		{"compressed", body(`representation="B64" compression="DF"`, "AAAA"), ErrBody},
		{"representation", body(`representation="HEX"`, "00"), ErrBody},
		{"body too large", body(`representation="B64"`, strings.Repeat("QUFB", 100)), ErrTooLarge},
	} {
		_, err := Parse([]byte(c.in), Limits{MaxBodyBytes: 200})
		if !errors.Is(err, c.want) || !errors.Is(err, ErrCDA) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := Parse(readTestdata(t, level1), Limits{MaxDocumentBytes: 1000}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("document limit: %v", err)
	}
	if _, err := Parse(readTestdata(t, level1), Limits{MaxBodyBytes: 60000}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("body limit: %v", err)
	}
	// Unpadded base64 is read too.
	h, err := ParseHeader([]byte(body(`representation="B64" mediaType="text/plain"`, "QUI")))
	if err != nil || string(h.Body.Content) != "AB" {
		t.Errorf("unpadded: %v", err)
	}
}

func TestParseTS(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2021":                  time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC),
		"20210108":              time.Date(2021, 1, 8, 0, 0, 0, 0, time.UTC),
		"20210108111700+0100":   time.Date(2021, 1, 8, 10, 17, 0, 0, time.UTC),
		"20210108111700.5-0500": time.Date(2021, 1, 8, 16, 17, 0, 0, time.UTC),
		"202101081117":          time.Date(2021, 1, 8, 11, 17, 0, 0, time.UTC),
	} {
		got, err := ParseTS(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "2021-01-08", "202101081", "20210108+01", "20211308"} {
		if _, err := ParseTS(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
