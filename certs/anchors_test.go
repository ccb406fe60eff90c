package certs

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLoadAnchors(t *testing.T) {
	a := shared(t)
	// A bundle: a certificate, a key block (skipped), another certificate.
	var bundle bytes.Buffer
	bundle.WriteString("# operator bundle\n")
	bundle.Write(certPEM(a.CA()))
	bundle.Write(fix.bob.KeyPEM)
	bundle.Write(fix.alice.CertPEM)
	p := writeTemp(t, "bundle.pem", bundle.Bytes())
	single := writeTemp(t, "ca.pem", certPEM(a.CA()))

	got, err := LoadAnchors(p, single)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[0].Equal(a.CA()) || !got[1].Equal(fix.alice.Cert) || !got[2].Equal(a.CA()) {
		t.Fatalf("LoadAnchors: %d certificates", len(got))
	}
	if err := VerifyMailbox(fix.alice.Cert, Pool(got[:1]...), fix.alice.Cert.NotBefore.Add(time.Minute)); err != nil {
		t.Errorf("Pool of anchors: %v", err)
	}

	noCert := writeTemp(t, "key-only.pem", fix.bob.KeyPEM)
	if _, err := LoadAnchors(single, noCert); err == nil || !strings.Contains(err.Error(), noCert) {
		t.Errorf("file without certificate: %v", err)
	}
	if _, err := LoadAnchors(writeTemp(t, "ca.der", a.CA().Raw)); err == nil {
		t.Error("DER file accepted")
	}
	if _, err := LoadAnchors(single + ".missing"); err == nil {
		t.Error("missing file accepted")
	}
}
