package certs

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestInitFiles(t *testing.T) {
	a := shared(t)
	modes := map[string]fs.FileMode{
		CAFile: 0o644, CAKeyFile: 0o600, TLSFile: 0o644, TLSKeyFile: 0o600,
	}
	for name, want := range modes {
		st, err := os.Stat(filepath.Join(fix.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", name, got, want)
		}
	}
	st, err := os.Stat(fix.dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o700 {
		t.Errorf("pki dir mode %o, want 700", got)
	}
	ents, _ := os.ReadDir(fix.dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}

	ca := a.CA()
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.MaxPathLen != 0 || !ca.MaxPathLenZero {
		t.Errorf("CA basic constraints: IsCA=%v MaxPathLen=%d", ca.IsCA, ca.MaxPathLen)
	}
	if ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("CA key usage %b", ca.KeyUsage)
	}
	if n := ca.PublicKey.(*rsa.PublicKey).N.BitLen(); n != 3072 {
		t.Errorf("CA key %d bits", n)
	}
	if ca.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("CA signature %v", ca.SignatureAlgorithm)
	}
	if ca.Subject.CommonName != "Hôpital Test mssanted CA" {
		t.Errorf("CA CN %q", ca.Subject.CommonName)
	}
	if err := ca.CheckSignatureFrom(ca); err != nil {
		t.Errorf("CA not self-signed: %v", err)
	}
	if y := ca.NotAfter.Sub(ca.NotBefore).Hours() / 24 / 365; y < 9.9 || y > 10.1 {
		t.Errorf("CA validity %.1f years", y)
	}
}

func TestInitServerCertificate(t *testing.T) {
	a := shared(t)
	pemData, err := os.ReadFile(filepath.Join(fix.dir, TLSFile))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := parseCertPEM(pemData)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(pemData, certPEM(a.CA())) {
		t.Error("tls.pem does not end with the CA")
	}
	tc, err := a.ServerCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if len(tc.Certificate) != 2 || !bytes.Equal(tc.Certificate[0], leaf.Raw) {
		t.Fatalf("ServerCertificate chain: %d certificates", len(tc.Certificate))
	}
	if want := []string{"mx.operateur.example", "localhost"}; !slices.Equal(leaf.DNSNames, want) {
		t.Errorf("DNS names %v, want %v", leaf.DNSNames, want)
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	if want := []string{"192.0.2.10", "127.0.0.1"}; !slices.Equal(ips, want) {
		t.Errorf("IP addresses %v, want %v", ips, want)
	}
	if leaf.Subject.CommonName != "mx.operateur.example" {
		t.Errorf("CN %q", leaf.Subject.CommonName)
	}
	if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) {
		t.Errorf("EKU %v", leaf.ExtKeyUsage)
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d > 397*24*time.Hour {
		t.Errorf("TLS validity %v exceeds 397 days", d)
	}
	if n := leaf.PublicKey.(*rsa.PublicKey).N.BitLen(); n != 2048 {
		t.Errorf("TLS key %d bits", n)
	}
	if leaf.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("TLS signature %v", leaf.SignatureAlgorithm)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: a.CAPool(), DNSName: "mx.operateur.example"}); err != nil {
		t.Error(err)
	}
}

func TestInitTwice(t *testing.T) {
	shared(t)
	_, err := Init(fix.dir, "Other", nil)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second Init: %v, want fs.ErrExist", err)
	}
	// The existing authority is untouched.
	b, err := Load(fix.dir)
	if err != nil {
		t.Fatal(err)
	}
	if !b.CA().Equal(fix.ca.CA()) {
		t.Error("CA changed")
	}
}

func TestLoad(t *testing.T) {
	a := shared(t)
	b, err := Load(fix.dir)
	if err != nil {
		t.Fatal(err)
	}
	if !b.CA().Equal(a.CA()) || b.org != a.org {
		t.Error("Load does not round-trip the CA")
	}
	if !publicKeyMatches(b.CA(), b.key) {
		t.Error("loaded key does not match")
	}
	if _, err := Load(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of an empty dir: %v", err)
	}
	// A key that is not the CA's is refused.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, CAFile), certPEM(a.CA()), 0o644)
	os.WriteFile(filepath.Join(bad, CAKeyFile), fix.bob.KeyPEM, 0o600)
	if _, err := Load(bad); err == nil {
		t.Error("Load accepted a mismatched key")
	}
}

func TestIssueMailbox(t *testing.T) {
	a := shared(t)
	c := fix.alice.Cert
	if fix.alice.Kind != KindSMIME {
		t.Errorf("kind %q", fix.alice.Kind)
	}
	if !slices.Equal(c.EmailAddresses, []string{aliceAddr}) {
		t.Errorf("addresses %v", c.EmailAddresses)
	}
	if c.Subject.CommonName != "Dr Alice Martin" || fix.bob.Cert.Subject.CommonName != bobAddr {
		t.Errorf("CN %q / %q", c.Subject.CommonName, fix.bob.Cert.Subject.CommonName)
	}
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}) {
		t.Errorf("EKU %v", c.ExtKeyUsage)
	}
	want := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageContentCommitment
	if c.KeyUsage != want {
		t.Errorf("key usage %b, want %b", c.KeyUsage, want)
	}
	if y := c.NotAfter.Sub(c.NotBefore).Hours() / 24 / 365; y < 2.99 || y > 3.01 {
		t.Errorf("validity %.2f years", y)
	}
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 || c.SerialNumber.BitLen() < 64 {
		t.Errorf("serial %x", c.SerialNumber)
	}
	if c.SerialNumber.Cmp(fix.bob.Cert.SerialNumber) == 0 {
		t.Error("two certificates share a serial")
	}
	if len(c.SubjectKeyId) != 20 || !bytes.Equal(c.AuthorityKeyId, a.CA().SubjectKeyId) {
		t.Errorf("key ids: subject %x authority %x", c.SubjectKeyId, c.AuthorityKeyId)
	}
	if !publicKeyMatches(c, fix.alice.Key) {
		t.Error("key does not match")
	}
	k, err := parseKeyPEM(fix.alice.KeyPEM)
	if err != nil || !publicKeyMatches(c, k) {
		t.Errorf("KeyPEM: %v", err)
	}
	if got, _ := parseCertPEM(fix.alice.CertPEM); got == nil || !got.Equal(c) {
		t.Error("CertPEM is not Cert")
	}

	for _, bad := range []string{"", "Alice <a@b.example>", "no-at-sign", "élise@b.example", "a b@c.example"} {
		if _, err := a.IssueMailbox(bad, "x"); err == nil {
			t.Errorf("IssueMailbox(%q) accepted", bad)
		}
	}
}

func TestVerifyMailbox(t *testing.T) {
	a := shared(t)
	c := fix.alice.Cert
	if err := VerifyMailbox(c, a.CAPool(), time.Time{}); err != nil {
		t.Errorf("fresh mailbox certificate: %v", err)
	}
	if err := VerifyMailbox(c, a.CAPool(), c.NotAfter.Add(time.Hour)); err == nil {
		t.Error("expired certificate accepted")
	}
	if err := VerifyMailbox(c, x509.NewCertPool(), time.Time{}); err == nil {
		t.Error("certificate accepted without its root")
	}
	if err := VerifyMailbox(c, nil, time.Time{}); err == nil {
		t.Error("nil roots accepted (system roots?)")
	}
	tc, err := a.ServerCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyMailbox(tc.Leaf, a.CAPool(), time.Time{}); err == nil {
		t.Error("TLS certificate accepted for e-mail protection")
	}
}
