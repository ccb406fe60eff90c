package cda

import (
	"bytes"
	"errors"
	"testing"

	"mssanted/dmp/xdm/xdmtest"
)

// FuzzParseHeader: no panic; errors wrap ErrCDA; a level 1 header has a
// body within the limit, a level 3 one none.
func FuzzParseHeader(f *testing.F) {
	f.Add(readTestdata(f, level1))
	f.Add(readTestdata(f, level3))
	f.Add(xdmtest.CDALevel1(xdmtest.CDA{}))
	f.Add(xdmtest.CDALevel1(xdmtest.CDA{MediaType: "text/plain", Body: []byte("Bonjour")}))
	f.Add([]byte(`<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><ClinicalDocument xmlns="urn:hl7-org:v3"><title>t</title></ClinicalDocument></xsl:stylesheet>`))
	f.Add([]byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"><component><nonXMLBody><text representation="B64">QUI</text></nonXMLBody></component></ClinicalDocument>`))
	f.Add([]byte{})
	lim := Limits{MaxDocumentBytes: 1 << 20, MaxBodyBytes: 64 << 10}
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := Parse(in, lim)
		if err != nil {
			if !errors.Is(err, ErrCDA) {
				t.Fatalf("error not ErrCDA: %v", err)
			}
			return
		}
		switch h.Level {
		case 1:
			if h.Body == nil || int64(len(h.Body.Content)) > lim.MaxBodyBytes {
				t.Fatalf("level 1 body %v", h.Body != nil)
			}
		case 0, 3:
			if h.Body != nil {
				t.Fatal("body without level 1")
			}
		default:
			t.Fatalf("level %d", h.Level)
		}
		if !h.EffectiveTime.IsZero() && h.EffectiveTime.Location().String() != "UTC" {
			t.Fatalf("time %v", h.EffectiveTime)
		}
	})
}

// The generator of dmp/xdm/xdmtest writes CDA this package reads.
func TestXDMTestCDA(t *testing.T) {
	pdf := xdmtest.TinyPDF
	h, err := ParseHeader(xdmtest.CDALevel1(xdmtest.CDA{Code: "57833-6", Title: "Ordonnance", Body: pdf}))
	if err != nil {
		t.Fatal(err)
	}
	if h.Code.Code != "57833-6" || h.Title != "Ordonnance" || h.Patient.INS != xdmtest.PatientINS || !bytes.Equal(h.Body.Content, pdf) {
		t.Errorf("%+v", h)
	}
	if h.Authors[0].ID.Extension != xdmtest.AuthorID || h.Custodian.Name == "" {
		t.Errorf("author %+v custodian %+v", h.Authors, h.Custodian)
	}
}
