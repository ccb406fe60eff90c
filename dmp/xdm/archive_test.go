package xdm_test

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mssanted/dmp/xdm"
	"mssanted/dmp/xdm/xdmtest"
)

// zipDir zips a testdata folder the way a sender would: paths relative to
// the folder, forward slashes, deflate.
func zipDir(tb testing.TB, dir string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func open(b []byte) (*xdm.Archive, error) {
	return xdm.Open(bytes.NewReader(b), int64(len(b)), xdm.DefaultLimits)
}

// The real DRIMbox archive: the KOS is accepted, the signature whose
// metadata announce 6102 bytes and another hash is refused on its own.
func TestOpenDRIMbox(t *testing.T) {
	a, err := open(zipDir(t, "testdata/KA202401"))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Sets) != 1 || a.Sets[0].Folder != "IHE_XDM/SS000001" {
		t.Fatalf("sets %+v", a.Sets)
	}
	if got := a.Sets[0].Unreferenced; len(got) != 1 || got[0] != "IHE_XDM/SS000001/CR.TXT" {
		t.Errorf("unreferenced %q", got)
	}
	if len(a.Files) != 6 {
		t.Errorf("files %q", a.Files)
	}
	ok, refused := a.Accepted(), a.Refused()
	if len(ok) != 1 || len(refused) != 1 {
		t.Fatalf("accepted %v refused %v", ok, refused)
	}
	kos := ok[0]
	if kos.Path != "IHE_XDM/SS000001/KOS_1_1.DCM" || len(kos.Content) != 5164 || string(kos.Content[128:132]) != "DICM" {
		t.Errorf("kos %s %d", kos.Path, len(kos.Content))
	}
	if kos.SHA1 != "5a4009cca445f28810fd34dc8e3526cbe9814664" || kos.Entry.ID != "DocumentKOS" {
		t.Errorf("kos sha1 %s", kos.SHA1)
	}
	sig := refused[0]
	if sig.Problem.Code != xdm.CodeHashMismatch || sig.Content != nil || sig.Path != "IHE_XDM/SS000001/SIGN_1.XML" || sig.Problem.MDN != xdm.MDNOther {
		t.Errorf("signature %+v", sig.Problem)
	}
	if !strings.Contains(sig.Problem.Reason, "empreinte SHA-1") || !strings.Contains(sig.Problem.Error(), "SHA-1") {
		t.Errorf("reason %q / %q", sig.Problem.Reason, sig.Problem.Error())
	}
	if p := a.CheckPatient("162018885045327"); p != nil {
		t.Errorf("patient: %v", p)
	}
	if p := a.CheckPatient(xdmtest.PatientINS); p == nil || p.MDN != xdm.MDNINSMismatch {
		t.Errorf("other patient: %v", p)
	}
}

func TestOpenGenerated(t *testing.T) {
	pdf := xdmtest.TinyPDF
	spec := xdmtest.Spec{
		Subset: "SS000001", Envelope: true, BOM: true, URIWithSubset: true,
		Documents: []xdmtest.Doc{
			{Title: "Lettre de liaison", Class: "10", Type: "11490-0"},
			{File: "DOC00002.PDF", Content: pdf, MimeType: "application/pdf", Title: "Ordonnance", Class: "42", Type: "57833-6",
				Confidentiality: []string{"N", xdm.ConfMasquePS, xdm.ConfInvisibleLegalReps}},
		},
	}
	a, err := xdmtest.Open(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	docs := a.Accepted()
	if len(docs) != 2 || len(a.Refused()) != 0 {
		t.Fatalf("accepted %v refused %v", docs, a.Refused())
	}
	if !bytes.Equal(docs[1].Content, pdf) || docs[1].Entry.Class.Code != "42" || docs[1].Entry.Type.Code != "57833-6" {
		t.Errorf("ordonnance %+v", docs[1].Entry)
	}
	if !docs[1].Entry.MaskedFromProfessionals() || !docs[1].Entry.InvisibleToLegalRepresentatives() || docs[1].Entry.InvisibleToPatient() {
		t.Errorf("confidentiality %+v", docs[1].Entry.Confidentiality)
	}
	if !bytes.Contains(docs[0].Content, []byte("<ClinicalDocument")) {
		t.Errorf("cda %q", docs[0].Content[:80])
	}
	m := a.Sets[0].Metadata
	if !m.Enveloped || m.SubmissionSet.Authors[0].Institutions[0].Name != "Hôpital Européen Georges Pompidou" {
		t.Errorf("metadata %+v", m.SubmissionSet)
	}
	if p := a.CheckPatient(xdmtest.PatientINS); p != nil {
		t.Error(p)
	}
	// Bare request, bare URIs, lower-case folder: still found.
	a, err = xdmtest.Open(t, xdmtest.Spec{Subset: "subset01"})
	if err != nil || len(a.Accepted()) != 1 {
		t.Fatalf("lower case: %v", err)
	}
}

// Each hostile archive is refused as a whole with its code, or loses only
// the document concerned.
func TestOpenHostile(t *testing.T) {
	one := func(d xdmtest.Doc) []xdmtest.Doc { return []xdmtest.Doc{{Title: "bon"}, d} }
	for _, c := range []struct {
		name string
		spec xdmtest.Spec
		code xdm.Code // archive-level refusal
		doc  xdm.Code // else: the second document's refusal
	}{
		{"traversal", xdmtest.Spec{Hostile: xdmtest.Hostile{Traversal: true}}, xdm.CodeUnsafePath, ""},
		{"absolute", xdmtest.Spec{Hostile: xdmtest.Hostile{Absolute: true}}, xdm.CodeUnsafePath, ""},
		{"backslash", xdmtest.Spec{Hostile: xdmtest.Hostile{Backslash: true}}, xdm.CodeUnsafePath, ""},
		{"duplicate", xdmtest.Spec{Hostile: xdmtest.Hostile{Duplicate: true}}, xdm.CodeUnsafePath, ""},
		{"control char", xdmtest.Spec{Hostile: xdmtest.Hostile{Entries: []xdmtest.Entry{{Name: "IHE_XDM/a\x00b"}}}}, xdm.CodeUnsafePath, ""},
		{"drive", xdmtest.Spec{Hostile: xdmtest.Hostile{Entries: []xdmtest.Entry{{Name: "C:/x"}}}}, xdm.CodeUnsafePath, ""},
		{"dot segment", xdmtest.Spec{Hostile: xdmtest.Hostile{Entries: []xdmtest.Entry{{Name: "IHE_XDM/./x"}}}}, xdm.CodeUnsafePath, ""},
		{"nested zip by name", xdmtest.Spec{Hostile: xdmtest.Hostile{NestedZip: true}}, xdm.CodeNestedArchive, ""},
		{"nested zip by content", xdmtest.Spec{Hostile: xdmtest.Hostile{HiddenZip: true}}, xdm.CodeNestedArchive, ""},
		{"symlink", xdmtest.Spec{Hostile: xdmtest.Hostile{Symlink: true}}, xdm.CodeSpecialFile, ""},
		{"bomb", xdmtest.Spec{Hostile: xdmtest.Hostile{Bomb: 3 << 20}}, xdm.CodeBomb, ""},
		{"broken XML", xdmtest.Spec{Hostile: xdmtest.Hostile{BrokenXML: true}}, xdm.CodeMetadataXML, ""},
		{"undeclared prefix", xdmtest.Spec{Hostile: xdmtest.Hostile{UndeclaredPrefix: true}}, xdm.CodeMetadataXML, ""},
		{"no metadata", xdmtest.Spec{Hostile: xdmtest.Hostile{NoMetadata: true}}, xdm.CodeNoMetadata, ""},
		{"wrong hash", xdmtest.Spec{Documents: one(xdmtest.Doc{WrongHash: true})}, "", xdm.CodeHashMismatch},
		{"no hash", xdmtest.Spec{Documents: one(xdmtest.Doc{NoHash: true})}, "", xdm.CodeHashMismatch},
		{"wrong size", xdmtest.Spec{Documents: one(xdmtest.Doc{WrongSize: true})}, "", xdm.CodeSizeMismatch},
		{"missing file", xdmtest.Spec{Documents: one(xdmtest.Doc{OmitFile: true})}, "", xdm.CodeMissingFile},
		{"URI traversal", xdmtest.Spec{Documents: one(xdmtest.Doc{URI: "../../README.TXT"})}, "", xdm.CodeUnsafePath},
		{"URI absolute", xdmtest.Spec{Documents: one(xdmtest.Doc{URI: "/IHE_XDM/SUBSET01/DOC00001.XML"})}, "", xdm.CodeUnsafePath},
		{"URI empty", xdmtest.Spec{Documents: one(xdmtest.Doc{URI: " "})}, "", xdm.CodeMissingFile},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := xdmtest.Open(t, c.spec)
			if c.code != "" {
				p, ok := xdm.AsProblem(err)
				if a != nil || !ok || p.Code != c.code || p.Reason == "" || p.English == "" || p.MDN != xdm.MDNOther {
					t.Fatalf("got %v, %#v; want %s", a, err, c.code)
				}
				if !strings.HasPrefix(p.MDNText(), "906^") {
					t.Errorf("mdn %q", p.MDNText())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			docs := a.Documents()
			if len(docs) != 2 || docs[0].Problem != nil || docs[1].Problem == nil || docs[1].Problem.Code != c.doc || docs[1].Content != nil {
				t.Fatalf("documents %v", docs)
			}
		})
	}
}

// The sizes in the zip headers are never trusted: a bomb whose headers
// understate it, and one whose headers overstate it, are refused.
func TestOpenLyingHeaders(t *testing.T) {
	_, err := xdmtest.Open(t, xdmtest.Spec{Hostile: xdmtest.Hostile{Bomb: 3 << 20, BombLies: true}})
	if p, ok := xdm.AsProblem(err); !ok || (p.Code != xdm.CodeNotZip && p.Code != xdm.CodeBomb) {
		t.Errorf("understated bomb: %v", err)
	}
	b := xdmtest.MustBuild(t, xdmtest.Spec{Documents: []xdmtest.Doc{{Content: bytes.Repeat([]byte("x"), 1000)}}})
	// Same archive, limits so low that the document is over them.
	_, err = xdm.Open(bytes.NewReader(b), int64(len(b)), xdm.Limits{MaxFileBytes: 999})
	if p, ok := xdm.AsProblem(err); !ok || p.Code != xdm.CodeTooLarge {
		t.Errorf("per-file limit: %v", err)
	}
	_, err = xdm.Open(bytes.NewReader(b), int64(len(b)), xdm.Limits{MaxTotalBytes: 1500})
	if p, ok := xdm.AsProblem(err); !ok || p.Code != xdm.CodeTooLarge {
		t.Errorf("total limit: %v", err)
	}
	_, err = xdm.Open(bytes.NewReader(b), int64(len(b)), xdm.Limits{MaxEntries: 3})
	if p, ok := xdm.AsProblem(err); !ok || p.Code != xdm.CodeTooManyEntries {
		t.Errorf("entries limit: %v", err)
	}
	_, err = xdm.Open(bytes.NewReader(b), int64(len(b)), xdm.Limits{MaxRatio: 2, RatioFloor: 100})
	if p, ok := xdm.AsProblem(err); !ok || p.Code != xdm.CodeBomb {
		t.Errorf("ratio limit: %v", err)
	}
	if _, err := xdm.Open(bytes.NewReader(b), int64(len(b)), xdm.Limits{}); err != nil {
		t.Errorf("zero limits are the defaults: %v", err)
	}
}

func TestOpenNotZip(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("not a zip"), []byte("PK\x03\x04garbage")} {
		_, err := open(in)
		if p, ok := xdm.AsProblem(err); !ok || p.Code != xdm.CodeNotZip {
			t.Errorf("%q: %v", in, err)
		}
	}
	// A zip with no document entries.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("IHE_XDM/SUBSET01/METADATA.XML")
	w.Write([]byte(`<lcm:SubmitObjectsRequest xmlns:lcm="` + xdm.NSLcm + `"><RegistryObjectList xmlns="` + xdm.NSRim + `"/></lcm:SubmitObjectsRequest>`))
	zw.Close()
	_, err := open(buf.Bytes())
	if p, ok := xdm.AsProblem(err); !ok || p.Code != xdm.CodeNoDocument {
		t.Errorf("empty: %v", err)
	}
}

func TestCheckPatient(t *testing.T) {
	const ins = xdmtest.PatientINS
	nir := func(id string) xdm.PatientID { return xdm.PatientID{ID: id, OID: xdm.OIDINSNIR, Type: "NH"} }
	for _, c := range []struct {
		name string
		ids  []xdm.PatientID
		want int
	}{
		{"match", []xdm.PatientID{nir(ins), nir(ins)}, 0},
		{"test authority", []xdm.PatientID{{ID: ins, OID: xdm.OIDINSNIRTest}}, 0},
		{"mismatch", []xdm.PatientID{nir(ins), nir("162018885045327")}, xdm.MDNINSMismatch},
		{"mismatch beats incomplete", []xdm.PatientID{{ID: ins, OID: xdm.OIDINSC}, nir("162018885045327")}, xdm.MDNINSMismatch},
		{"INS-C", []xdm.PatientID{{ID: "0218805328320789819507", OID: xdm.OIDINSC}}, xdm.MDNINSIncomplete},
		{"local id", []xdm.PatientID{{ID: ins, OID: "1.2.3.4.567.8.9.10", Type: "PI"}}, xdm.MDNINSIncomplete},
		{"short", []xdm.PatientID{nir("27903512151898")}, xdm.MDNINSIncomplete},
		{"bad key", []xdm.PatientID{nir("279035121518988")}, xdm.MDNINSIncomplete},
		{"wrong type", []xdm.PatientID{{ID: ins, OID: xdm.OIDINSNIR, Type: "PI"}}, xdm.MDNINSIncomplete},
		{"one missing", []xdm.PatientID{nir(ins), {}}, xdm.MDNINSMissing},
		{"none", nil, xdm.MDNINSMissing},
	} {
		p := xdm.CheckPatientIDs(c.ids, ins)
		got := 0
		if p != nil {
			got = p.MDN
			if p.Reason == "" || !strings.HasPrefix(p.MDNText(), strings.TrimSpace(strings.Split(p.MDNText(), "^")[0])) {
				t.Errorf("%s: %+v", c.name, p)
			}
		}
		if got != c.want {
			t.Errorf("%s: got %d (%v), want %d", c.name, got, p, c.want)
		}
	}
	// Corsican INS: 2A counts as 19 in the key.
	corsica := "18505" + "2A" + "001" + "019"
	if p := xdm.CheckPatientIDs([]xdm.PatientID{nir(corsica + key(t, corsica))}, corsica+key(t, corsica)); p != nil {
		t.Errorf("corsica: %v", p)
	}
	if p := xdm.CheckPatientIDs([]xdm.PatientID{nir(ins)}, "123"); p == nil || p.MDN != xdm.MDNOther {
		t.Errorf("bad expected INS: %v", p)
	}
	// Through archives: a document for another patient, an INS-C archive.
	a, err := xdmtest.Open(t, xdmtest.Spec{Documents: []xdmtest.Doc{{}, {PatientINS: "162018885045327"}}})
	if err != nil {
		t.Fatal(err)
	}
	if p := a.CheckPatient(ins); p == nil || p.Code != xdm.CodePatientMismatch || p.MDNText() != "904^l'INS du patient dans les métadonnées ne correspond pas au destinataire" {
		t.Errorf("mixed: %v", p)
	}
	a, err = xdmtest.Open(t, xdmtest.Spec{Patient: xdmtest.Patient{OID: xdm.OIDINSC, Type: "-"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := a.CheckPatient(ins); p == nil || p.MDN != xdm.MDNINSIncomplete {
		t.Errorf("INS-C: %v", p)
	}
	if p := xdm.UnknownPatient(ins); p.MDN != xdm.MDNUnknownPatient || !strings.HasPrefix(p.MDNText(), "902^") {
		t.Errorf("unknown: %v", p)
	}
}

// key computes an INS key the long way, to build a Corsican test number.
func key(t *testing.T, body13 string) string {
	t.Helper()
	b := strings.Replace(body13, "2A", "19", 1)
	var n uint64
	for _, c := range b {
		n = n*10 + uint64(c-'0')
	}
	k := 97 - n%97
	return string([]byte{byte('0' + k/10), byte('0' + k%10)})
}
