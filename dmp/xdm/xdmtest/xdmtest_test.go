package xdmtest

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"

	"mssanted/dmp/xdm"
)

// The archive has the layout of shared/reference.md: INDEX.HTM, README.TXT,
// IHE_XDM/<subset>/METADATA.XML and the documents beside it.
func TestLayout(t *testing.T) {
	b := MustBuild(t, Spec{Documents: []Doc{{}, {File: "DOC00002.PDF", Content: TinyPDF, MimeType: "application/pdf"}}})
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, " "); got != "INDEX.HTM README.TXT IHE_XDM/SUBSET01/METADATA.XML IHE_XDM/SUBSET01/DOC00001.XML IHE_XDM/SUBSET01/DOC00002.PDF" {
		t.Errorf("entries %s", got)
	}
	rc, _ := zr.File[1].Open()
	readme, _ := io.ReadAll(rc)
	if !strings.Contains(string(readme), "DOC00002.PDF") {
		t.Errorf("readme %s", readme)
	}
	a, err := xdm.Open(bytes.NewReader(b), int64(len(b)), xdm.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !a.HasQualifiedINS() || a.CheckPatient(PatientINS) != nil {
		t.Error("patient")
	}
	e := a.Documents()[0].Entry
	if e.Authors[0].Person.ID != AuthorID || e.SourcePatient.Family != "PAT-TROIS" || e.Class.Code != "10" || e.PatientID.Type != "NH" {
		t.Errorf("entry %+v", e)
	}
	// The same spec gives the same bytes: tests may compare archives.
	if !bytes.Equal(b, MustBuild(t, Spec{Documents: []Doc{{}, {File: "DOC00002.PDF", Content: TinyPDF, MimeType: "application/pdf"}}})) {
		t.Error("not deterministic")
	}
	a, err = Open(t, Spec{Patient: Patient{OID: xdm.OIDINSC, Type: "-"}})
	if err != nil || a.HasQualifiedINS() {
		t.Errorf("INS-C: %v", err)
	}
}
