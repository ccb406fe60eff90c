package smtpd_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mssanted/certs"
	"mssanted/directory"
	"mssanted/mailbox"
	"mssanted/smtpd"
)

// smimeEnv is an instance whose pipeline opens S/MIME, with the patient's
// mailbox key in its registry and another operator listed in the trust
// space, whose mailbox certificates chain to an anchor.
type smimeEnv struct {
	*env
	reg    *certs.Registry
	op     *operator
	dir    string // PEM files for openssl
	reject bool
}

func newSMIMEEnv(t *testing.T) *smimeEnv {
	t.Helper()
	ctx := context.Background()
	e := newEnv(t, nil)
	se := &smimeEnv{env: e, dir: t.TempDir(), reject: true}
	se.reg = certs.NewRegistry(e.d, filepath.Join(sharedCA.dir, "pki"), e.ca)
	iss, err := e.ca.IssueMailbox(e.pat.Address, "Jeanne")
	must(t, err)
	must(t, se.reg.Record(ctx, nil, iss, e.pat.Address))
	se.writePEM("patient.pem", iss.CertPEM)
	se.op = newOperator(t, "mx.autre-operateur.example")
	e.cfg.Anchors.AddCert(se.op.ca.CA())
	roots := x509.NewCertPool()
	roots.AddCert(e.ca.CA())
	roots.AddCert(se.op.ca.CA())
	_, err = e.dir.ImportTrust(ctx, &directory.Whitelist{Entries: []directory.TrustEntry{
		{Domain: "autre-operateur.example", OperatorDN: se.op.dn}}}, "test")
	must(t, err)
	e.cfg.Pipeline.SMIME = &mailbox.SMIME{Certs: se.reg, Roots: roots, RejectInvalid: func(string) bool { return se.reject }}
	return se
}

func (se *smimeEnv) writePEM(name string, data []byte) string {
	path := filepath.Join(se.dir, name)
	must(se.t, os.WriteFile(path, data, 0o600))
	return path
}

// signerFiles writes a signer's certificate and key for openssl.
func (se *smimeEnv) signerFiles(name string, cert *x509.Certificate, key any) (string, string) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	must(se.t, err)
	return se.writePEM(name+".pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
		se.writePEM(name+".key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func openssl(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes()
}

const smimeEntity = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nR=C3=A9sultats : h=C3=A9moglobine normale.\r\n"

func smimeOuter(from, to string) string {
	return "From: Dr Confrere <" + from + ">\r\nTo: <" + to + ">\r\nSubject: Compte rendu chiffre\r\nDate: Wed, 25 Nov 2026 10:00:00 +0100\r\nMessage-ID: <" + randID() + "@autre-operateur.example>\r\n"
}

func randID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return strings.ToLower(big.NewInt(0).SetBytes(b).Text(36))
}

// viaMX sends a message through the MX as the listed operator.
func (se *smimeEnv) viaMX(from string, data []byte) error {
	s := se.mxSession(&se.op.cert)
	if err := s.Mail(from, nil); err != nil {
		return err
	}
	if err := s.Rcpt(se.pat.Address, nil); err != nil {
		return err
	}
	w, err := s.Data()
	if err != nil {
		return err
	}
	w.Write(data)
	return w.Close()
}

// OpenSSL signs and encrypts; the message enters through the MX and is
// stored decrypted and verified, with the CMS kept as evidence.
func TestSMIMEInboundFromOpenSSL(t *testing.T) {
	se := newSMIMEEnv(t)
	from := "dr@autre-operateur.example"
	iss, err := se.op.ca.IssueMailbox(from, "Dr Confrère")
	must(t, err)
	certF, keyF := se.signerFiles("signer", iss.Cert, iss.Key)
	patient := filepath.Join(se.dir, "patient.pem")
	signed := openssl(t, []byte(smimeEntity), "cms", "-sign", "-signer", certF, "-inkey", keyF, "-crlfeol")
	for i, enc := range [][]string{
		{"-aes-256-cbc", patient},
		{"-aes-256-gcm", "-recip", patient, "-keyopt", "rsa_padding_mode:oaep"},
		{"-aes-128-gcm", patient},
	} {
		sealed := openssl(t, signed, append([]string{"cms", "-encrypt", "-crlfeol"}, enc...)...)
		must(t, se.viaMX(from, append([]byte(smimeOuter(from, se.pat.Address)), sealed...)))
		in := se.inbox(se.pat)
		if len(in) != i+1 {
			t.Fatalf("%v: inbox has %d messages", enc, len(in))
		}
		m := in[i]
		if !m.SMIMEEncrypted || !m.SMIMESigned || !m.SMIMEVerified || m.SMIMEProblem != "" || !strings.Contains(m.SMIMESigner, from) || m.EvidenceBlob == "" {
			t.Errorf("%v: stored S/MIME state %+v", enc, m)
		}
		body := readBlobString(t, se.store, m.BlobKey)
		for _, want := range []string{"X-MSS-SMIME: encrypted=aes-", "signed=verified", "multipart/signed", "R=C3=A9sultats"} {
			if !strings.Contains(body, want) {
				t.Errorf("%v: stored message lacks %q:\n%.1500s", enc, want, body)
			}
		}
		if strings.Contains(body, "application/pkcs7-mime") {
			t.Errorf("%v: stored message still encrypted", enc)
		}
		if ev := readBlobString(t, se.store, m.EvidenceBlob); len(ev) == 0 {
			t.Errorf("%v: no evidence kept", enc)
		}
	}
}

// Each refusal case: the MX answers 5.7.7 with the reason, and nothing is
// stored; with the "mark" policy the same message is stored and flagged.
func TestSMIMERefusals(t *testing.T) {
	se := newSMIMEEnv(t)
	ctx := context.Background()
	from := "dr@autre-operateur.example"
	good, err := se.op.ca.IssueMailbox(from, "Dr Confrère")
	must(t, err)
	goodCert, goodKey := se.signerFiles("good", good.Cert, good.Key)
	other, err := se.op.ca.IssueMailbox("autre@autre-operateur.example", "Dr Autre")
	must(t, err)
	otherCert, otherKey := se.signerFiles("other", other.Cert, other.Key)
	// Revoked: a certificate of our own CA, known to the registry, revoked.
	rev, err := se.ca.IssueMailbox(from, "Dr Révoqué")
	must(t, err)
	must(t, se.reg.Record(ctx, nil, rev, from))
	must(t, se.reg.Revoke(ctx, rev.Serial(), certs.ReasonKeyCompromise))
	revCert, revKey := se.signerFiles("revoked", rev.Cert, rev.Key)
	// Expired: a CA of our own making, trusted, with an expired leaf.
	expCert, expKey, expCA := expiredSigner(t, from)
	se.cfg.Pipeline.SMIME.Roots.AddCert(expCA)
	expCertF, expKeyF := se.signerFiles("expired", expCert, expKey)

	sign := func(cert, key string) []byte {
		return openssl(t, []byte(smimeEntity), "cms", "-sign", "-signer", cert, "-inkey", key, "-crlfeol")
	}
	tampered := bytes.Replace(sign(goodCert, goodKey), []byte("normale"), []byte("anormale"), 1)
	cases := []struct {
		name, problem string
		data          []byte
	}{
		{"tampered content", "contenu modifi", tampered},
		{"wrong signer", "signataire diff", sign(otherCert, otherKey)},
		{"revoked certificate", "voqu", sign(revCert, revKey)},
		{"expired certificate", "expir", sign(expCertF, expKeyF)},
	}
	for _, c := range cases {
		before := len(se.inbox(se.pat))
		err := se.viaMX(from, append([]byte(smimeOuter(from, se.pat.Address)), c.data...))
		if n, enh := code(err); n != 550 || enh != [3]int{5, 7, 7} {
			t.Errorf("%s: reply %v, want 550 5.7.7", c.name, err)
		}
		if after := len(se.inbox(se.pat)); after != before {
			t.Errorf("%s: a refused message was stored", c.name)
		}
	}
	// The "mark" policy stores them, flagged with the reason.
	se.reject = false
	for _, c := range cases {
		must(t, se.viaMX(from, append([]byte(smimeOuter(from, se.pat.Address)), c.data...)))
		in := se.inbox(se.pat)
		m := in[len(in)-1]
		if !m.SMIMESigned || m.SMIMEVerified || !strings.Contains(m.SMIMEProblem, c.problem) {
			t.Errorf("%s marked: %+v (want problem containing %q)", c.name, m, c.problem)
		}
	}
	// Encrypted to a key the gateway does not hold: stored as it came, marked.
	sealed := openssl(t, sign(goodCert, goodKey), "cms", "-encrypt", "-aes-256-gcm", "-crlfeol", goodCert)
	must(t, se.viaMX(from, append([]byte(smimeOuter(from, se.pat.Address)), sealed...)))
	in := se.inbox(se.pat)
	m := in[len(in)-1]
	if !m.SMIMEEncrypted || !strings.Contains(m.SMIMEProblem, "autre cl") || !strings.Contains(readBlobString(t, se.store, m.BlobKey), "application/pkcs7-mime") {
		t.Errorf("undecryptable message: %+v", m)
	}
}

// expiredSigner makes a CA and a mailbox certificate that expired
// yesterday, with crypto/x509 directly (certs never issues such a thing).
func expiredSigner(t *testing.T, address string) (*x509.Certificate, *rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Expired Test CA"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(t, err)
	ca, _ := x509.ParseCertificate(caDER)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Dr Périmé"}, EmailAddresses: []string{address},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	must(t, err)
	leaf, _ := x509.ParseCertificate(der)
	return leaf, key, ca
}

func readBlobString(t *testing.T, s *mailbox.Store, key string) string {
	t.Helper()
	rc, err := s.Blobs().Open(context.Background(), key)
	must(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	must(t, err)
	return string(b)
}

// A message the gateway signs and encrypts for another operator is
// decrypted and verified by OpenSSL; a domain that requires encryption
// without a known certificate bounces.
func TestSMIMEOutboundReadByOpenSSL(t *testing.T) {
	se := newSMIMEEnv(t)
	ctx := context.Background()
	// The doctor's mailbox key, as account creation would record it.
	iss, err := se.ca.IssueMailbox(se.doc.Address, "Dr A")
	must(t, err)
	must(t, se.reg.Record(ctx, nil, iss, se.doc.Address))
	// The remote recipient's certificate, imported.
	remote := "confrere@autre-operateur.example"
	riss, err := se.op.ca.IssueMailbox(remote, "Dr Confrère")
	must(t, err)
	_, err = se.reg.ImportRecipient(ctx, remote, riss.CertPEM, se.cfg.Pipeline.SMIME.Roots, "test")
	must(t, err)
	rCert, rKey := se.signerFiles("remote", riss.Cert, riss.Key)
	caFile := se.writePEM("ourca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: se.ca.CA().Raw}))
	p := se.cfg.Pipeline
	p.SMIME.RequireEncryption = func(d string) bool { return d == "exige.example" }
	raw := []byte("From: Dr A <dr@hopital.example>\r\nTo: <" + remote + ">\r\nSubject: Courrier\r\nMessage-ID: <out1@hopital.example>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nCher confrère, voici le compte rendu.\r\n")
	for _, c := range []struct {
		cipher certs.Cipher
		oaep   bool
	}{{certs.AES256GCM, false}, {certs.AES256GCM, true}, {certs.AES256CBC, false}, {certs.AES128CBC, true}} {
		p.SMIME.Cipher, p.SMIME.OAEP = c.cipher, c.oaep
		sealed, err := p.Seal(ctx, se.doc.Address, remote, raw)
		must(t, err)
		if !bytes.Contains(sealed, []byte("application/pkcs7-mime")) {
			t.Fatalf("%s: not encrypted:\n%.500s", c.cipher, sealed)
		}
		plain := openssl(t, sealed, "cms", "-decrypt", "-recip", rCert, "-inkey", rKey)
		content := openssl(t, plain, "cms", "-verify", "-CAfile", caFile)
		if !strings.Contains(strings.ReplaceAll(string(content), "=\r\n", ""), "Cher confr") {
			t.Errorf("%s oaep=%v: OpenSSL read %q", c.cipher, c.oaep, content)
		}
		openssl(t, plain, "smime", "-verify", "-CAfile", caFile) // the older command agrees
	}
	// A message already signed by the client is encrypted, not signed twice.
	signed, err := certs.Sign(raw, certs.KeyPair{Cert: iss.Cert, Key: iss.Key}, nil)
	must(t, err)
	sealed, err := p.Seal(ctx, se.doc.Address, remote, signed)
	must(t, err)
	plain := openssl(t, sealed, "cms", "-decrypt", "-recip", rCert, "-inkey", rKey)
	if bytes.Count(plain, []byte("application/pkcs7-signature")) != 2 { // the header parameter and the part
		t.Errorf("signed twice or not at all:\n%.800s", plain)
	}
	// Unknown certificate: sent signed only, or refused where encryption is required.
	out, err := p.Seal(ctx, se.doc.Address, "x@inconnu.example", raw)
	must(t, err)
	if !bytes.Contains(out, []byte("multipart/signed")) || bytes.Contains(out, []byte("pkcs7-mime")) {
		t.Errorf("to an unknown certificate: %.300s", out)
	}
	if _, err := p.Seal(ctx, se.doc.Address, "x@exige.example", raw); err == nil || !strings.Contains(err.Error(), "encryption required") {
		t.Errorf("require-encryption domain without certificate: %v", err)
	}
	// Through the outbound sender: the row fails with 5.7.10 and a DSN
	// reaches the doctor.
	tx := p.Begin(mailbox.Envelope{Door: mailbox.Submission, From: se.doc.Address, Auth: se.doc, TLS: "x"})
	must(t, tx.AddRecipient(ctx, mailbox.Recipient{Address: "x@exige.example"}))
	_, err = tx.Deliver(ctx, bytes.NewReader(raw))
	must(t, err)
	ob := smtpd.NewOutbound(smtpd.OutboundConfig{Store: se.store, Pipeline: p, Hostname: "mail.hopital.example",
		Routes: map[string]string{"exige.example": "127.0.0.1:1"}, RetryFor: time.Hour, DelayNoticeAfter: time.Hour,
		Workers: 1, Lease: time.Minute, Poll: 20 * time.Millisecond, Seal: p.Seal, RootCAs: se.roots,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	octx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- ob.Run(octx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		q, _ := se.store.QueueList(ctx, mailbox.Failed)
		if len(q) == 1 {
			if !strings.Contains(q[0].LastError, "encryption required") {
				t.Errorf("failed row: %+v", q[0])
			}
			break
		}
		if time.Now().After(deadline) {
			all, _ := se.store.QueueList(ctx, "")
			t.Fatalf("the row never failed: %+v", all)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	found := false
	for _, m := range se.inbox(se.doc) {
		if strings.Contains(readBlobString(t, se.store, m.BlobKey), "Status: 5.7.10") {
			found = true
		}
	}
	if !found {
		t.Error("no DSN with Status 5.7.10 for the doctor")
	}
}
