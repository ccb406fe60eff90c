package xdm

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const drimboxMetadata = "testdata/KA202401/IHE_XDM/SS000001/METADATA.XML"

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.FromSlash(name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// The real DRIMbox METADATA: a SOAP 1.2 envelope around
// ProvideAndRegisterDocumentSetRequest, on one line.
func TestParseMetadataDRIMbox(t *testing.T) {
	m, err := ParseMetadata(readTestdata(t, drimboxMetadata))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Enveloped {
		t.Error("not seen as enveloped")
	}
	ss := m.SubmissionSet
	if ss.ID != "SubmissionSet01" || ss.Title != "submissionset title" || ss.Comments != "submissionset comments" {
		t.Errorf("submission set %q %q %q", ss.ID, ss.Title, ss.Comments)
	}
	if want := time.Date(2024, 1, 16, 15, 11, 12, 0, time.UTC); !ss.SubmissionTime.Equal(want) {
		t.Errorf("submissionTime %v", ss.SubmissionTime)
	}
	if ss.PatientID.ID != "162018885045327" || ss.PatientID.OID != OIDINSNIRTest || ss.PatientID.Type != "NH" {
		t.Errorf("patient %+v", ss.PatientID)
	}
	if ss.SourceID != "1.2.250.1.999.1.1.8121" || ss.UniqueID != "1.2.250.1.999.1.1.8121.4.9618" {
		t.Errorf("ids %q %q", ss.SourceID, ss.UniqueID)
	}
	if ss.ContentType.Code != "04" || ss.ContentType.Display != "Hospitalisation de jour" {
		t.Errorf("content type %+v", ss.ContentType)
	}
	if len(ss.Authors) != 1 || ss.Authors[0].Person.Family != "DOC0036790" || ss.Authors[0].Institutions[0].ID != "499700367909006" {
		t.Errorf("authors %+v", ss.Authors)
	}
	if len(m.Documents) != 2 {
		t.Fatalf("%d documents", len(m.Documents))
	}
	kos, sig := m.Documents[0], m.Documents[1]
	if kos.ID != "DocumentKOS" || kos.MimeType != "application/dicom" || kos.ObjectType != ObjectTypeStable {
		t.Errorf("kos %q %q %q", kos.ID, kos.MimeType, kos.ObjectType)
	}
	if kos.Title != "Reference d'Objets d'un Examen d'Imagerie" || kos.Comments != "KOS" {
		t.Errorf("kos title %q %q", kos.Title, kos.Comments)
	}
	if kos.Class != (CodedValue{"31", "1.2.250.1.213.1.1.4.1", "Imagerie médicale"}) {
		t.Errorf("class %+v", kos.Class)
	}
	if kos.Type.Code != "IMG-KOS" || kos.Format.Code != "1.2.840.10008.5.1.4.1.1.88.59" || kos.FacilityType.Code != "SA25" || kos.PracticeSetting.Code != "AMBULATOIRE" {
		t.Errorf("codes %+v %+v %+v %+v", kos.Type, kos.Format, kos.FacilityType, kos.PracticeSetting)
	}
	if len(kos.EventCodes) != 2 || kos.EventCodes[1].Code != "MR" {
		t.Errorf("event codes %+v", kos.EventCodes)
	}
	if kos.Hash != "5a4009cca445f28810fd34dc8e3526cbe9814664" || kos.Size != 5164 || kos.URI != "SS000001/KOS_1_1.DCM" {
		t.Errorf("hash %q size %d uri %q", kos.Hash, kos.Size, kos.URI)
	}
	if !kos.CreationTime.Equal(time.Date(2024, 1, 16, 15, 11, 12, 0, time.UTC)) ||
		!kos.ServiceStartTime.Equal(time.Date(2021, 1, 4, 9, 22, 0, 0, time.UTC)) ||
		!kos.ServiceStopTime.Equal(time.Date(2021, 1, 4, 16, 5, 0, 0, time.UTC)) {
		t.Errorf("times %v %v %v", kos.CreationTime, kos.ServiceStartTime, kos.ServiceStopTime)
	}
	if kos.LanguageCode != "fr-FR" || kos.UniqueID != "1.3.2.751468943.3.1234.99352.240116151112.1.1.1" {
		t.Errorf("lang %q uid %q", kos.LanguageCode, kos.UniqueID)
	}
	if kos.PatientID.ID != "162018885045327" || kos.SourcePatientID != "162018885045327^^^&1.2.250.1.213.1.4.10&ISO^PI" {
		t.Errorf("patient %+v source %q", kos.PatientID, kos.SourcePatientID)
	}
	if sp := kos.SourcePatient; sp.Family != "PAT-SIX" || sp.Given != "Alain" || sp.BirthDate != "19960124" || sp.Sex != "M" {
		t.Errorf("source patient %+v", sp)
	}
	if len(kos.Authors) != 1 {
		t.Fatalf("authors %+v", kos.Authors)
	}
	p := kos.Authors[0].Person
	if p.ID != "899700367909" || p.Family != "DOC0036790" || p.Given != "KIT" || p.AssigningAuthority != "1.2.250.1.71.4.2.1" || p.IDType != "IDNPS" {
		t.Errorf("author %+v", p)
	}
	if in := kos.Authors[0].Institutions; len(in) != 1 || in[0].Name != "BCOM" || in[0].AssigningAuthority != "1.2.250.1.71.4.2.2" || in[0].IDType != "IDNST" {
		t.Errorf("institution %+v", in)
	}
	if kos.LegalAuthent == nil || kos.LegalAuthent.ID != "899700367909" {
		t.Errorf("legal authenticator %+v", kos.LegalAuthent)
	}
	if len(kos.ReferenceIDs) != 3 {
		t.Errorf("reference ids %q", kos.ReferenceIDs)
	}
	if len(kos.Confidentiality) != 1 || kos.MaskedFromProfessionals() || kos.IsSignature() {
		t.Errorf("kos confidentiality %+v", kos.Confidentiality)
	}
	if !sig.MaskedFromProfessionals() || !sig.InvisibleToPatient() || sig.InvisibleToLegalRepresentatives() || !sig.HasConfidentiality("N") {
		t.Errorf("signature confidentiality %+v", sig.Confidentiality)
	}
	if !sig.IsSignature() || sig.URI != "SS000001/SIGN_1.XML" || sig.Size != 6102 || sig.LanguageCode != "art" {
		t.Errorf("signature %+v", sig)
	}
	if len(m.Associations) != 3 {
		t.Fatalf("associations %+v", m.Associations)
	}
	if a := m.Associations[2]; a.Type != AssociationSigns || a.Source != "Signature01" || a.Target != "SubmissionSet01" || a.Status != "Original" {
		t.Errorf("signs %+v", a)
	}
	if m.Associations[0].Type != AssociationHasMember || m.Associations[0].Target != "DocumentKOS" {
		t.Errorf("has member %+v", m.Associations[0])
	}
	if len(m.Warnings) != 0 {
		t.Errorf("warnings %q", m.Warnings)
	}
}

// asipMetadata is written after the ASIP examples as shared/samples/README.md
// describes them (they are not in the samples): a BOM, ns5:SubmitObjectsRequest,
// RegistryObjectList in the default rim namespace whose children re-declare
// it as ns2:, an INS-C patient id without type code, an authorInstitution
// with line breaks inside the value, an HL7 escape, objectType="Original"
// on the association, a bare URI.
const asipMetadata = "\xef\xbb\xbf" + `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ns5:SubmitObjectsRequest xmlns:ns5="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">
 <RegistryObjectList xmlns="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
  <ns2:RegistryPackage xmlns:ns2="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" id="urn:uuid:9a2c5f2e-0000-4000-8000-000000000001">
   <ns2:Slot name="submissionTime"><ns2:ValueList><ns2:Value>20121001</ns2:Value></ns2:ValueList></ns2:Slot>
   <ns2:Name><ns2:LocalizedString value="Envoi CR BIO"/></ns2:Name>
   <ns2:Classification classificationScheme="urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d" classifiedObject="urn:uuid:9a2c5f2e-0000-4000-8000-000000000001" id="c1" nodeRepresentation="">
    <ns2:Slot name="authorPerson"><ns2:ValueList><ns2:Value>801234567897^MEDECIN5729^PAUL^^^^^^&amp;1.2.250.1.71.4.2.1&amp;ISO^D^^^EI</ns2:Value></ns2:ValueList></ns2:Slot>
   </ns2:Classification>
   <ns2:ExternalIdentifier identificationScheme="urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446" value="0218805328320789819507^^^&amp;1.2.250.1.213.1.4.2&amp;ISO" id="e1" registryObject="urn:uuid:9a2c5f2e-0000-4000-8000-000000000001"/>
  </ns2:RegistryPackage>
  <ns2:Classification xmlns:ns2="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd" classifiedObject="urn:uuid:9a2c5f2e-0000-4000-8000-000000000001" id="c2"/>
  <ns2:ExtrinsicObject xmlns:ns2="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" id="urn:uuid:9a2c5f2e-0000-4000-8000-000000000002" mimeType="text/xml" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
   <ns2:Slot name="creationTime"><ns2:ValueList><ns2:Value>201210011201</ns2:Value></ns2:ValueList></ns2:Slot>
   <ns2:Slot name="hash"><ns2:ValueList><ns2:Value>DA39A3EE5E6B4B0D3255BFEF95601890AFD80709</ns2:Value></ns2:ValueList></ns2:Slot>
   <ns2:Slot name="size"><ns2:ValueList><ns2:Value>0</ns2:Value></ns2:ValueList></ns2:Slot>
   <ns2:Slot name="URI"><ns2:ValueList><ns2:Value>DOC00001.XML</ns2:Value></ns2:ValueList></ns2:Slot>
   <ns2:Slot name="serviceStartTime"><ns2:ValueList><ns2:Value>yesterday</ns2:Value></ns2:ValueList></ns2:Slot>
   <ns2:Slot name="sourcePatientInfo"><ns2:ValueList><ns2:Value>PID-5|SAUVEUR^Sylvaine^^^^^L</ns2:Value><ns2:Value>PID-7|19650315</ns2:Value><ns2:Value>PID-8|F</ns2:Value></ns2:ValueList></ns2:Slot>
   <ns2:Name><ns2:LocalizedString value="CR de biologie"/></ns2:Name>
   <ns2:Classification classificationScheme="urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d" classifiedObject="urn:uuid:9a2c5f2e-0000-4000-8000-000000000002" id="c3" nodeRepresentation="">
    <ns2:Slot name="authorPerson"><ns2:ValueList><ns2:Value>801234567897^MEDECIN5729^PAUL^^^^^^&amp;1.2.250.1.71.4.2.1&amp;ISO^D^^^EI</ns2:Value></ns2:ValueList></ns2:Slot>
    <ns2:Slot name="authorInstitution"><ns2:ValueList><ns2:Value>LABORATOIRE
       D\T\ANALYSES^^^^^&amp;1.2.250.1.71.4.2.2&amp;ISO^IDNST^^^3
       750803447</ns2:Value></ns2:ValueList></ns2:Slot>
    <ns2:Slot name="authorSpecialty"><ns2:ValueList><ns2:Value>G15_10/SM26^Qualifié en Médecine Générale (SM)^1.2.250.1.213.1.1.4.5</ns2:Value></ns2:ValueList></ns2:Slot>
   </ns2:Classification>
   <ns2:Classification classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a" classifiedObject="urn:uuid:9a2c5f2e-0000-4000-8000-000000000002" id="c4" nodeRepresentation="10">
    <ns2:Slot name="codingScheme"><ns2:ValueList><ns2:Value>1.2.250.1.213.1.1.4.1</ns2:Value></ns2:ValueList></ns2:Slot>
    <ns2:Name><ns2:LocalizedString value="Compte rendu"/></ns2:Name>
   </ns2:Classification>
   <ns2:Classification classificationScheme="urn:uuid:f0306f51-975f-434e-a61c-c59651d33983" classifiedObject="urn:uuid:9a2c5f2e-0000-4000-8000-000000000002" id="c5" nodeRepresentation="11502-2"/>
   <ns2:ExternalIdentifier identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" value="0218805328320789819507^^^&amp;1.2.250.1.213.1.4.2&amp;ISO" id="e2" registryObject="urn:uuid:9a2c5f2e-0000-4000-8000-000000000002"/>
  </ns2:ExtrinsicObject>
  <ns2:Association xmlns:ns2="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" objectType="Original" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="urn:uuid:9a2c5f2e-0000-4000-8000-000000000001" targetObject="urn:uuid:9a2c5f2e-0000-4000-8000-000000000002" id="a1"/>
 </RegistryObjectList>
</ns5:SubmitObjectsRequest>
`

func TestParseMetadataASIPStyle(t *testing.T) {
	m, err := ParseMetadata([]byte(asipMetadata))
	if err != nil {
		t.Fatal(err)
	}
	if m.Enveloped {
		t.Error("bare request seen as enveloped")
	}
	if m.SubmissionSet.Title != "Envoi CR BIO" || !m.SubmissionSet.SubmissionTime.Equal(time.Date(2012, 10, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("submission set %+v", m.SubmissionSet)
	}
	if pid := m.SubmissionSet.PatientID; pid.ID != "0218805328320789819507" || pid.OID != OIDINSC || pid.Type != "" {
		t.Errorf("patient %+v", pid)
	}
	if len(m.Documents) != 1 {
		t.Fatalf("documents %d", len(m.Documents))
	}
	e := m.Documents[0]
	if e.Hash != "da39a3ee5e6b4b0d3255bfef95601890afd80709" || e.Size != 0 || e.URI != "DOC00001.XML" {
		t.Errorf("hash %q size %d uri %q", e.Hash, e.Size, e.URI)
	}
	if e.Class.Code != "10" || e.Type.Code != "11502-2" || e.Title != "CR de biologie" {
		t.Errorf("entry %+v", e)
	}
	if !e.CreationTime.Equal(time.Date(2012, 10, 1, 12, 1, 0, 0, time.UTC)) || !e.ServiceStartTime.IsZero() {
		t.Errorf("times %v %v", e.CreationTime, e.ServiceStartTime)
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "serviceStartTime") {
		t.Errorf("warnings %q", m.Warnings)
	}
	in := e.Authors[0].Institutions[0]
	if in.Name != "LABORATOIRE D&ANALYSES" || in.ID != "3750803447" || in.AssigningAuthority != "1.2.250.1.71.4.2.2" {
		t.Errorf("institution %+v", in)
	}
	if sp := e.Authors[0].Specialties; len(sp) != 1 || sp[0].Code != "G15_10/SM26" || sp[0].Scheme != "1.2.250.1.213.1.1.4.5" {
		t.Errorf("specialties %+v", sp)
	}
	if e.SourcePatient.Family != "SAUVEUR" || e.SourcePatient.Given != "Sylvaine" {
		t.Errorf("source patient %+v", e.SourcePatient)
	}
	if len(m.Associations) != 1 || m.Associations[0].Target != e.ID {
		t.Errorf("associations %+v", m.Associations)
	}
}

func TestParseMetadataRefusals(t *testing.T) {
	real := string(readTestdata(t, drimboxMetadata))
	// The stripped DRIM-M METADATA (samples/README.md, "Not kept"): the
	// envelope removed, ns3 left undeclared.
	start := strings.Index(real, "<ns3:SubmitObjectsRequest>")
	end := strings.Index(real, "</ns3:SubmitObjectsRequest>") + len("</ns3:SubmitObjectsRequest>")
	stripped := `<?xml version="1.0" encoding="UTF-8"?>` + real[start:end]
	for _, c := range []struct {
		name, in string
		syntax   bool
	}{
		{"undeclared prefix (stripped DRIM-M)", stripped, true},
		{"undeclared attribute prefix", `<lcm:SubmitObjectsRequest xmlns:lcm="` + NSLcm + `" x:a="1"/>`, true},
		{"truncated", real[:len(real)/2], true},
		{"mismatched end tag", `<a><b></a></b>`, true},
		{"two roots", `<a/><b/>`, true},
		{"DTD", `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`, true},
		{"text outside root", `<a/>junk`, true},
		{"empty", ``, true},
		{"unknown encoding", `<?xml version="1.0" encoding="EBCDIC"?><a/>`, true},
		{"deep", strings.Repeat("<a>", 200) + strings.Repeat("</a>", 200), true},
		{"not ebRIM", `<html/>`, false},
		{"no RegistryObjectList", `<SubmitObjectsRequest xmlns="` + NSLcm + `"/>`, false},
		{"wrong namespace", `<x:SubmitObjectsRequest xmlns:x="urn:other"/>`, false},
	} {
		_, err := ParseMetadata([]byte(c.in))
		if err == nil || !errors.Is(err, ErrMetadata) || errors.Is(err, ErrMetadataSyntax) != c.syntax {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// The same stripped request with its prefix declared is fine.
	fixed := strings.Replace(stripped, "<ns3:SubmitObjectsRequest>", `<ns3:SubmitObjectsRequest xmlns:ns3="`+NSLcm+`" xmlns="`+NSRim+`">`, 1)
	m, err := ParseMetadata([]byte(fixed))
	if err != nil || len(m.Documents) != 2 || m.Enveloped {
		t.Fatalf("declared: %v", err)
	}
}

func TestParseMetadataLatin1(t *testing.T) {
	in := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><lcm:SubmitObjectsRequest xmlns:lcm=\"" + NSLcm + "\"><RegistryObjectList xmlns=\"" + NSRim + "\">" +
		"<ExtrinsicObject id=\"d\"><Name><LocalizedString value=\"Compte rendu op\xe9ratoire\"/></Name></ExtrinsicObject></RegistryObjectList></lcm:SubmitObjectsRequest>"
	m, err := ParseMetadata([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if m.Documents[0].Title != "Compte rendu opératoire" {
		t.Errorf("title %q", m.Documents[0].Title)
	}
}

func TestParseTime(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2024", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"202401", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"20240116", time.Date(2024, 1, 16, 0, 0, 0, 0, time.UTC)},
		{"2024011615", time.Date(2024, 1, 16, 15, 0, 0, 0, time.UTC)},
		{"202401161511", time.Date(2024, 1, 16, 15, 11, 0, 0, time.UTC)},
		{"20240116151112", time.Date(2024, 1, 16, 15, 11, 12, 0, time.UTC)},
		{" 20240116151112 ", time.Date(2024, 1, 16, 15, 11, 12, 0, time.UTC)},
		{"20240116151112.123", time.Date(2024, 1, 16, 15, 11, 12, 0, time.UTC)},
		{"20210108111700+0100", time.Date(2021, 1, 8, 10, 17, 0, 0, time.UTC)},
		{"20210108111700-0230", time.Date(2021, 1, 8, 13, 47, 0, 0, time.UTC)},
	} {
		got, err := ParseTime(c.in)
		if err != nil || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("%q: %v %v", c.in, got, err)
		}
	}
	for _, bad := range []string{"", "24", "2024011", "20241301", "20240230", "2024-01-16", "20240116+1", "20240116+2500", "20240116.", "abcd"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if s := FormatTime(time.Date(2024, 1, 16, 16, 11, 12, 0, time.FixedZone("CET", 3600))); s != "20240116151112" {
		t.Errorf("format %s", s)
	}
}

func TestHL7Types(t *testing.T) {
	p := parseXCN(`899700367909^DOC\S\0036790^KIT^Marie^^DR^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS`)
	if p.ID != "899700367909" || p.Family != "DOC^0036790" || p.Given != "KIT" || p.OtherGiven != "Marie" || p.Prefix != "DR" ||
		p.AssigningAuthority != "1.2.250.1.71.4.2.1" || p.IDType != "IDNPS" || p.Name() != "KIT DOC^0036790" {
		t.Errorf("xcn %+v", p)
	}
	if p := parseXCN("just a name"); p.ID != "justaname" || p.Family != "" {
		t.Errorf("garbled xcn %+v", p)
	}
	o := parseXON("Clinique\r\n   du Parc^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1234\n56789")
	if o.Name != "Clinique du Parc" || o.ID != "123456789" || o.IDType != "IDNST" {
		t.Errorf("xon %+v", o)
	}
	for _, c := range []struct{ in, out string }{
		{`a\F\b`, "a|b"}, {`a\T\b`, "a&b"}, {`a\R\b`, "a~b"}, {`a\E\b`, `a\b`}, {`a\.br\b`, "a\nb"},
		{`\X4C61\`, "La"}, {`\Xzz\`, `\Xzz\`}, {`a\Qb\c`, `a\Qb\c`}, {`tail\`, `tail\`}, {`\X4\`, `\X4\`},
	} {
		if got := unescapeHL7(c.in); got != c.out {
			t.Errorf("unescape %q = %q, want %q", c.in, got, c.out)
		}
	}
	if got := unescapeHL7(escapeHL7(`a|b^c&d~e\f`)); got != `a|b^c&d~e\f` {
		t.Errorf("escape round trip %q", got)
	}
	for _, c := range []struct {
		in   string
		want PatientID
		ok   bool
	}{
		{"279035121518989^^^&1.2.250.1.213.1.4.8&ISO^NH", PatientID{ID: "279035121518989", OID: OIDINSNIR, Type: "NH"}, true},
		{"279035121518989^^^&1.2.250.1.213.1.4.10&ISO", PatientID{ID: "279035121518989", OID: OIDINSNIRTest}, true},
		{"279035121518989^^^1.2.250.1.213.1.4.8^NH", PatientID{ID: "279035121518989", OID: OIDINSNIR, Type: "NH"}, true},
		{"^^^&1.2.250.1.213.1.4.8&ISO^NH", PatientID{OID: OIDINSNIR, Type: "NH"}, false},
		{"279035121518989", PatientID{ID: "279035121518989"}, false},
		{"", PatientID{}, false},
	} {
		got, err := ParsePatientID(c.in)
		got.Raw = ""
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("%q: %+v %v", c.in, got, err)
		}
	}
	pid := PatientID{ID: "279035121518989", OID: OIDINSNIR, Type: "NH"}
	if s := pid.String(); s != "279035121518989^^^&1.2.250.1.213.1.4.8&ISO^NH" {
		t.Errorf("cx %s", s)
	}
	if ce := parseCE("SA07"); ce.Code != "SA07" {
		t.Errorf("ce %+v", ce)
	}
}
