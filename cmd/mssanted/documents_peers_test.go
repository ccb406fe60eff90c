package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mssanted/dmp/xdm/xdmtest"
)

// peerLetterScript sends, with Python's smtplib through submission, a
// letter with a PDF and an IHE_XDM.ZIP, as practice software does.
// argv: port, ca, password, from, to, pdf file, xdm file.
const peerLetterScript = `
import smtplib, ssl, sys
from email.message import EmailMessage
port, ca, pw, frm, to, pdf, zipf = sys.argv[1:8]
m = EmailMessage()
m["From"], m["To"] = frm, to
m["Subject"] = "XDM/1.0/DDM+Lettre de liaison PAT-TROIS DOMINIQUE 19790328"
m["X-MSS-CODECDA"] = "11490-0"
m.set_content("Bonjour,\nvoici la lettre de liaison.\n")
m.add_attachment(open(pdf, "rb").read(), maintype="application", subtype="pdf", filename="DOC0001.pdf")
m.add_attachment(open(zipf, "rb").read(), maintype="application", subtype="zip", filename="IHE_XDM.ZIP")
s = smtplib.SMTP("localhost", int(port), timeout=30)
s.starttls(context=ssl.create_default_context(cafile=ca))
s.login(frm, pw)
s.send_message(m)
s.quit()
print("sent")
`

// TestDocumentsThroughSMTP: a letter sent over SMTP by a real client is
// found, classified, in the patient's library through the API.
func TestDocumentsThroughSMTP(t *testing.T) {
	t.Parallel()
	python := peerTool(t, "python3")
	data := t.TempDir()
	mustMSS(t, "", "init", "--data", data, "--domain", "chu.example", "--patient-domain", "patient.example")
	add := func(args ...string) {
		mustMSS(t, testPassword+"\n", append([]string{"user", "add", "--data", data, "--password-stdin"}, args...)...)
	}
	add("--role", "professional", "--address", "dr@chu.example", "--name", "Dr Alice Martin", "--rpps", rpps("1000000042"), "--profession", "Médecin généraliste")
	add("--role", "patient", "--address", "dominique@patient.example", "--name", "Dominique", "--ins", xdmtest.PatientINS, "--birth-date", "1979-03-28", "--sex", "F")
	srv := startServe(t, data)

	dir := t.TempDir()
	pdf, zip := filepath.Join(dir, "DOC0001.pdf"), filepath.Join(dir, "IHE_XDM.ZIP")
	arch := xdmtest.MustBuild(t, xdmtest.Spec{Documents: []xdmtest.Doc{
		{File: "DOC0001.XML", Content: xdmtest.CDALevel1(xdmtest.CDA{Title: "Lettre de liaison"}), Title: "Lettre de liaison", Class: "10", Type: "11490-0"},
		{File: "DOC0002.XML", Content: xdmtest.CDALevel1(xdmtest.CDA{Title: "Note"}), Title: "Note interne", Class: "10", Type: "11488-4",
			Confidentiality: []string{"N", "INVISIBLE_PATIENT"}},
	}})
	for name, b := range map[string][]byte{pdf: xdmtest.TinyPDF, zip: arch} {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "letter.py")
	if err := os.WriteFile(script, []byte(peerLetterScript), 0o644); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(data, "pki", "ca.pem")
	if out, code := peerRun(t, "", python, script, peerPort(t, srv.addrs["smtp-submission"]), ca, testPassword,
		"dr@chu.example", "dominique@patient.example", pdf, zip); code != 0 {
		t.Fatalf("smtplib: %s", out)
	}

	// The patient, through the API.
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}}}
	base := "https://" + srv.addrs["https"]
	resp, err := hc.Post(base+"/api/v1/session", "application/json",
		strings.NewReader(`{"address":"dominique@patient.example","password":"`+testPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var sess struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&sess)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", base+"/api/v1/documents", nil)
	req.Header.Set("Authorization", "Bearer "+sess.Token)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Documents []struct {
			Title, Category, Origin, Author string
			MimeType                        string `json:"mime_type"`
			TwinID                          int64  `json:"twin_id"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var cda, twin bool
	for _, d := range list.Documents {
		if d.Title == "Note interne" {
			t.Fatal("an INVISIBLE_PATIENT document was shown to the patient")
		}
		if d.Title != "Lettre de liaison" || d.Category != "comptes-rendus" || d.TwinID == 0 || d.Author != "Charles DAVID" {
			t.Fatalf("document %+v", d)
		}
		cda = cda || d.Origin == "xdm"
		twin = twin || d.MimeType == "application/pdf"
	}
	if len(list.Documents) != 2 || !cda || !twin {
		t.Fatalf("library: %+v", list.Documents)
	}
}
