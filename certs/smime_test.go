package certs

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// S/MIME tests, with the real OpenSSL 3 as the peer in both directions.
// They reuse the package's shared authority (alice and bob, RSA-2048) and
// add, once: carol, an EC P-256 mailbox whose key and request OpenSSL
// makes; an expired certificate for alice's address; and a mailbox of
// another, untrusted authority.

const carolAddr = "carol@clinique.mssante.example"

var (
	smimeOnce sync.Once
	smimeErr  error
	sfx       struct {
		dir                string // PEM files for openssl
		caPEM              string
		roots              *x509.CertPool
		alice, bob, carol  KeyPair
		expired, foreign   KeyPair
		alicePEM, aliceKey string
		bobPEM, bobKey     string
		carolPEM, carolKey string
		foreignCA          *x509.Certificate
		x25519             *x509.Certificate
	}
)

func smimeFixture(t testing.TB) {
	t.Helper()
	a := shared(t)
	smimeOnce.Do(func() { smimeErr = buildSMIMEFixture(a) })
	if smimeErr != nil {
		t.Fatalf("S/MIME fixture: %v", smimeErr)
	}
}

func buildSMIMEFixture(a *Authority) error {
	dir := filepath.Join(filepath.Dir(fix.dir), "smime")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	sfx.dir = dir
	sfx.caPEM = filepath.Join(fix.dir, CAFile)
	sfx.roots = a.CAPool()
	write := func(name string, data []byte) (string, error) {
		p := filepath.Join(dir, name)
		return p, os.WriteFile(p, data, 0o600)
	}
	kp := func(iss *Issued) KeyPair { return KeyPair{Cert: iss.Cert, Key: iss.Key} }
	var err error
	sfx.alice, sfx.bob = kp(fix.alice), kp(fix.bob)
	if sfx.alicePEM, err = write("alice.pem", fix.alice.CertPEM); err != nil {
		return err
	}
	if sfx.aliceKey, err = write("alice.key", fix.alice.KeyPEM); err != nil {
		return err
	}
	if sfx.bobPEM, err = write("bob.pem", fix.bob.CertPEM); err != nil {
		return err
	}
	if sfx.bobKey, err = write("bob.key", fix.bob.KeyPEM); err != nil {
		return err
	}

	// carol: key and request by OpenSSL, certificate by the test CA
	// (through OpenSSL too, with the extensions a mailbox needs).
	sfx.carolKey = filepath.Join(dir, "carol.key")
	csr := filepath.Join(dir, "carol.csr")
	ext, err := write("carol.ext", []byte("subjectAltName=email:"+carolAddr+"\n"+
		"extendedKeyUsage=emailProtection\nkeyUsage=digitalSignature,keyAgreement,nonRepudiation\n"+
		"subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nbasicConstraints=CA:FALSE\n"))
	if err != nil {
		return err
	}
	sfx.carolPEM = filepath.Join(dir, "carol.pem")
	for _, args := range [][]string{
		{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", sfx.carolKey},
		{"req", "-new", "-key", sfx.carolKey, "-subj", "/CN=Clinique Carol", "-out", csr},
		{"x509", "-req", "-in", csr, "-CA", sfx.caPEM, "-CAkey", filepath.Join(fix.dir, CAKeyFile),
			"-set_serial", "0x" + hex.EncodeToString(randBytes(8)), "-days", "30", "-sha256", "-extfile", ext, "-out", sfx.carolPEM},
	} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("openssl %s: %v\n%s", args[0], err, out)
		}
	}
	if sfx.carol.Cert, err = readCertFile(sfx.carolPEM); err != nil {
		return err
	}
	if sfx.carol.Key, err = readKeyFile(sfx.carolKey); err != nil {
		return err
	}

	// An expired certificate for alice's address and key, signed by the
	// test CA: Authority has no option for a past NotAfter.
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:   big.NewInt(now.UnixNano()),
		Subject:        pkix.Name{CommonName: "Dr Alice Martin (expired)"},
		NotBefore:      now.Add(-60 * 24 * time.Hour),
		NotAfter:       now.Add(-24 * time.Hour),
		EmailAddresses: []string{aliceAddr},
		KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, fix.alice.Key.Public(), a.key)
	if err != nil {
		return err
	}
	if sfx.expired.Cert, err = x509.ParseCertificate(der); err != nil {
		return err
	}
	sfx.expired.Key = fix.alice.Key

	// A mailbox certificate for alice's address from an authority nobody
	// configured.
	other, err := Init(filepath.Join(filepath.Dir(fix.dir), "pki-foreign"), "Autre Opérateur", []string{"mx.autre.example"})
	if err != nil {
		return err
	}
	iss, err := other.IssueMailbox(aliceAddr, "Fausse Alice")
	if err != nil {
		return err
	}
	sfx.foreign, sfx.foreignCA = kp(iss), other.CA()

	// An X25519 recipient (crypto/x509 cannot certify X25519 keys:
	// OpenSSL does it), which no S/MIME agent here can encrypt to.
	xKey, xPub, xPEM := filepath.Join(dir, "x25519.key"), filepath.Join(dir, "x25519.pub"), filepath.Join(dir, "x25519.pem")
	for _, args := range [][]string{
		{"genpkey", "-algorithm", "X25519", "-out", xKey},
		{"pkey", "-in", xKey, "-pubout", "-out", xPub},
		{"x509", "-new", "-force_pubkey", xPub, "-subj", "/CN=x25519", "-days", "1",
			"-CA", sfx.caPEM, "-CAkey", filepath.Join(fix.dir, CAKeyFile), "-out", xPEM},
	} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("openssl %s: %v\n%s", args[0], err, out)
		}
	}
	sfx.x25519, err = readCertFile(xPEM)
	return err
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// ossl runs openssl with stdin and returns its standard output; the error
// carries the standard error.
func ossl(t *testing.T, stdin []byte, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("openssl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

func mustOSSL(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	out, err := ossl(t, stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const testBody = "Bonjour,\r\n\r\nVoici le compte rendu de biologie de Mme Dupont (née le 03/05/1951).\r\nHémoglobine : 13,2 g/dL.\r\n\r\nDr Alice Martin\r\n"

// qpLine is a line of testBody as Sign re-encodes it (8-bit text becomes
// quoted-printable before signing, RFC 8551 section 3.1.2).
const qpLine = "H=C3=A9moglobine : 13,2 g/dL.\r\n"

// outerHeader is the RFC 5322 header a gateway adds around OpenSSL's output.
func outerHeader(from, to string) string {
	return "From: Sender <" + from + ">\r\nTo: <" + to + ">\r\nSubject: Compte rendu\r\n" +
		"Date: Wed, 25 Nov 2026 10:00:00 +0100\r\nMessage-ID: <" + hex.EncodeToString(randBytes(8)) + "@test>\r\n"
}

// entityText is the MIME entity OpenSSL signs: Content-* fields and body.
const entityText = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + testBody

// testMessage is a whole message as a mail client submits it.
func testMessage(from, to string) []byte {
	return []byte(outerHeader(from, to) + "MIME-Version: 1.0\r\n" + entityText)
}

func openOpts(keys ...KeyPair) OpenOptions {
	return OpenOptions{Keys: keys, Roots: sfx.roots}
}

func mustOpen(t *testing.T, raw []byte, o OpenOptions) *Opened {
	t.Helper()
	res, err := Open(raw, o)
	if err != nil {
		t.Fatalf("Open: %v (problem %q)", err, res.Problem)
	}
	return res
}

func wantVerified(t *testing.T, res *Opened, sigAlg string) {
	t.Helper()
	wantVerifiedDigest(t, res, sigAlg, "sha-256")
}

func wantVerifiedDigest(t *testing.T, res *Opened, sigAlg, digest string) {
	t.Helper()
	if !res.Signed || !res.Verified || res.Problem != "" {
		t.Fatalf("Signed=%v Verified=%v Problem=%q", res.Signed, res.Verified, res.Problem)
	}
	if res.SigAlg != sigAlg {
		t.Errorf("SigAlg %q, want %q", res.SigAlg, sigAlg)
	}
	if res.Digest != digest {
		t.Errorf("Digest %q, want %q", res.Digest, digest)
	}
}

func wantBody(t *testing.T, msg []byte) {
	t.Helper()
	if !bytes.Contains(msg, []byte(testBody)) && !bytes.Contains(msg, []byte(qpLine)) {
		t.Errorf("message lost its body:\n%s", msg)
	}
	if !bytes.HasPrefix(msg, []byte("From: ")) || !bytes.Contains(msg, []byte("Subject: Compte rendu\r\n")) {
		t.Errorf("message lost its outer header:\n%.300s", msg)
	}
}

// TestOpenFromOpenSSL: every shape OpenSSL writes, opened by Open.
func TestOpenFromOpenSSL(t *testing.T) {
	needOpenSSL(t)
	smimeFixture(t)
	t.Parallel()
	hdrA := outerHeader(aliceAddr, bobAddr)
	signArgs := []string{"cms", "-sign", "-signer", sfx.alicePEM, "-inkey", sfx.aliceKey}
	signed := mustOSSL(t, []byte(entityText), signArgs...)

	cases := []struct {
		name, cipher, transport, sigAlg string
		digest                          string
		encrypt                         []string // nil: signed only
		sign                            []string
		opaque                          bool
	}{
		{name: "detached", sign: signArgs, sigAlg: "rsa-pkcs1v15"},
		{name: "nodetach", sign: append(signArgs[:len(signArgs):len(signArgs)], "-nodetach"), sigAlg: "rsa-pkcs1v15", opaque: true},
		{name: "keyid-stream", sign: append(signArgs[:len(signArgs):len(signArgs)], "-keyid", "-stream", "-nodetach"), sigAlg: "rsa-pkcs1v15", opaque: true},
		{name: "pss", sign: append(signArgs[:len(signArgs):len(signArgs)], "-keyopt", "rsa_padding_mode:pss"), sigAlg: "rsa-pss"},
		{name: "sha384", sign: append(signArgs[:len(signArgs):len(signArgs)], "-md", "sha384"), sigAlg: "rsa-pkcs1v15", digest: "sha-384"},
		{name: "sha1-on-input", sign: append(signArgs[:len(signArgs):len(signArgs)], "-md", "sha1"), sigAlg: "rsa-pkcs1v15", digest: "sha-1"},
		{name: "cbc-pkcs1", encrypt: []string{"-aes-256-cbc", sfx.bobPEM}, cipher: "aes-256-cbc", transport: "rsa-pkcs1v15"},
		{name: "cbc128-oaep", encrypt: []string{"-aes-128-cbc", "-recip", sfx.bobPEM, "-keyopt", "rsa_padding_mode:oaep"}, cipher: "aes-128-cbc", transport: "rsa-oaep"},
		{name: "oaep-sha256", encrypt: []string{"-aes-256-cbc", "-recip", sfx.bobPEM, "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256"}, cipher: "aes-256-cbc", transport: "rsa-oaep"},
		{name: "gcm256", encrypt: []string{"-aes-256-gcm", sfx.bobPEM}, cipher: "aes-256-gcm", transport: "rsa-pkcs1v15"},
		{name: "gcm128", encrypt: []string{"-aes-128-gcm", sfx.bobPEM}, cipher: "aes-128-gcm", transport: "rsa-pkcs1v15"},
		{name: "gcm256-oaep-keyid-stream", encrypt: []string{"-aes-256-gcm", "-keyid", "-stream", "-recip", sfx.bobPEM, "-keyopt", "rsa_padding_mode:oaep"}, cipher: "aes-256-gcm", transport: "rsa-oaep"},
		{name: "two-recipients", encrypt: []string{"-aes-256-gcm", sfx.alicePEM, sfx.bobPEM}, cipher: "aes-256-gcm", transport: "rsa-pkcs1v15"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := signed
			if c.sign != nil {
				msg = mustOSSL(t, []byte(entityText), c.sign...)
			}
			if c.encrypt != nil {
				msg = mustOSSL(t, msg, append([]string{"cms", "-encrypt"}, c.encrypt...)...)
			}
			raw := append([]byte(hdrA), msg...)
			res := mustOpen(t, raw, openOpts(sfx.bob))
			if c.sigAlg == "" {
				c.sigAlg = "rsa-pkcs1v15"
			}
			if c.digest == "" {
				c.digest = "sha-256"
			}
			wantVerifiedDigest(t, res, c.sigAlg, c.digest)
			if res.Signer == nil || !res.Signer.Equal(sfx.alice.Cert) || len(res.SignerAddresses) != 1 {
				t.Errorf("Signer %v %v", res.Signer, res.SignerAddresses)
			}
			wantBody(t, res.Message)
			if res.Encrypted != (c.encrypt != nil) || res.Cipher != c.cipher || res.KeyTransport != c.transport {
				t.Errorf("Encrypted=%v Cipher=%q KeyTransport=%q", res.Encrypted, res.Cipher, res.KeyTransport)
			}
			if c.encrypt != nil && res.DecryptedFor != bobAddr {
				t.Errorf("DecryptedFor %q", res.DecryptedFor)
			}
			if (c.encrypt != nil || c.opaque) != (res.CMS != nil) {
				t.Errorf("CMS evidence: %d bytes", len(res.CMS))
			}
			switch {
			case c.encrypt == nil && !c.opaque:
				if !bytes.Equal(res.Message, raw) {
					t.Error("a multipart/signed message must be stored as received")
				}
			case c.encrypt != nil:
				// The stored message is the outer header and the inner
				// multipart/signed exactly as OpenSSL signed it.
				if !bytes.Contains(res.Message, []byte("multipart/signed")) || !bytes.HasPrefix(res.Message, []byte(hdrA)) {
					t.Errorf("stored message:\n%.600s", res.Message)
				}
				again := mustOpen(t, res.Message, openOpts())
				wantVerifiedDigest(t, again, c.sigAlg, c.digest)
			}
		})
	}

	t.Run("ecdsa-signer", func(t *testing.T) {
		msg := mustOSSL(t, []byte(entityText), "cms", "-sign", "-signer", sfx.carolPEM, "-inkey", sfx.carolKey)
		res := mustOpen(t, append([]byte(outerHeader(carolAddr, bobAddr)), msg...), openOpts())
		wantVerified(t, res, "ecdsa")
	})
	t.Run("ecdh-recipient", func(t *testing.T) {
		for _, args := range [][]string{
			{"-aes-128-gcm"}, // OpenSSL's defaults: SHA-1 KDF, AES-128 wrap
			{"-aes-256-gcm", "-recip", sfx.carolPEM, "-keyopt", "ecdh_kdf_md:sha256"},
			{"-aes-256-cbc", "-keyid", "-recip", sfx.carolPEM, "-keyopt", "ecdh_kdf_md:sha384"},
		} {
			if args[len(args)-1] == "-aes-128-gcm" {
				args = append(args, sfx.carolPEM)
			}
			enc := mustOSSL(t, signed, append([]string{"cms", "-encrypt"}, args...)...)
			res := mustOpen(t, append([]byte(hdrA), enc...), openOpts(sfx.bob, sfx.carol))
			wantVerified(t, res, "rsa-pkcs1v15")
			if res.KeyTransport != "ecdh" || res.DecryptedFor != carolAddr {
				t.Errorf("%v: KeyTransport %q DecryptedFor %q", args, res.KeyTransport, res.DecryptedFor)
			}
		}
	})
	t.Run("large-stream", func(t *testing.T) {
		// 300 KB through -stream: indefinite lengths and chunked
		// OCTET STRINGs at every level (BER, RFC 5652 section 1.1.1).
		big := "Content-Type: text/plain\r\n\r\n" + strings.Repeat("Ligne de résultat 0123456789 abcdefghij\r\n", 7500)
		s := mustOSSL(t, []byte(big), "cms", "-sign", "-stream", "-nodetach", "-signer", sfx.alicePEM, "-inkey", sfx.aliceKey)
		enc := mustOSSL(t, s, "cms", "-encrypt", "-stream", "-aes-256-gcm", sfx.bobPEM)
		res := mustOpen(t, append([]byte(hdrA), enc...), openOpts(sfx.bob))
		wantVerified(t, res, "rsa-pkcs1v15")
		if !bytes.HasSuffix(res.Message, []byte(big[len(big)-200:])) {
			t.Error("large content lost")
		}
	})
}

// TestOpenSSLReadsOurs: Sign then Encrypt, decrypted and verified by OpenSSL.
func TestOpenSSLReadsOurs(t *testing.T) {
	needOpenSSL(t)
	smimeFixture(t)
	t.Parallel()
	raw := testMessage(aliceAddr, bobAddr)
	signed, err := Sign(raw, sfx.alice, []*x509.Certificate{fix.ca.CA()})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(signed, []byte(outerHeader(aliceAddr, bobAddr)[:40])) ||
		!bytes.Contains(signed, []byte("micalg=sha-256")) || !bytes.Contains(signed, []byte(`protocol="application/pkcs7-signature"`)) {
		t.Fatalf("Sign output:\n%.800s", signed)
	}
	// Both OpenSSL verifiers, CMS and the PKCS #7 one of `openssl smime`.
	for _, tool := range []string{"cms", "smime"} {
		wantOriginal(t, mustOSSL(t, signed, tool, "-verify", "-CAfile", sfx.caPEM))
	}

	for _, c := range []struct {
		cipher Cipher
		oaep   bool
	}{{AES256GCM, false}, {AES256GCM, true}, {AES128GCM, false}, {AES128GCM, true},
		{AES256CBC, false}, {AES256CBC, true}, {AES128CBC, false}, {AES128CBC, true}} {
		t.Run(fmt.Sprintf("%s-oaep=%v", c.cipher, c.oaep), func(t *testing.T) {
			enc, err := Encrypt(signed, []*x509.Certificate{sfx.bob.Cert}, EncryptOptions{Cipher: c.cipher, OAEP: c.oaep})
			if err != nil {
				t.Fatal(err)
			}
			wantType := "smime-type=enveloped-data"
			if strings.Contains(string(c.cipher), "gcm") {
				wantType = "smime-type=authEnveloped-data"
			}
			if !bytes.Contains(enc, []byte(wantType)) || !bytes.Contains(enc, []byte(`name="smime.p7m"`)) {
				t.Fatalf("Encrypt output:\n%.500s", enc)
			}
			inner := mustOSSL(t, enc, "cms", "-decrypt", "-recip", sfx.bobPEM, "-inkey", sfx.bobKey)
			for _, tool := range []string{"cms", "smime"} {
				wantOriginal(t, mustOSSL(t, inner, tool, "-verify", "-CAfile", sfx.caPEM))
			}
			// And our own Open agrees.
			res := mustOpen(t, enc, openOpts(sfx.bob))
			wantVerified(t, res, "rsa-pkcs1v15")
			if res.Cipher != string(c.cipher) || (res.KeyTransport == "rsa-oaep") != c.oaep {
				t.Errorf("Cipher %q KeyTransport %q", res.Cipher, res.KeyTransport)
			}
			// The stored message carries the multipart/signed entity
			// exactly as Sign produced it.
			_, ent := splitAtMIME(signed)
			if !bytes.HasSuffix(res.Message, ent) {
				t.Error("inner multipart/signed not stored byte for byte")
			}
		})
	}

	t.Run("ecdh-and-rsa-recipients", func(t *testing.T) {
		enc, err := Encrypt(signed, []*x509.Certificate{sfx.bob.Cert, sfx.carol.Cert}, EncryptOptions{OAEP: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, who := range [][2]string{{sfx.bobPEM, sfx.bobKey}, {sfx.carolPEM, sfx.carolKey}} {
			inner := mustOSSL(t, enc, "cms", "-decrypt", "-recip", who[0], "-inkey", who[1])
			mustOSSL(t, inner, "cms", "-verify", "-CAfile", sfx.caPEM)
		}
		res := mustOpen(t, enc, openOpts(sfx.carol))
		if res.KeyTransport != "ecdh" || !res.Verified {
			t.Errorf("KeyTransport %q Verified %v %q", res.KeyTransport, res.Verified, res.Problem)
		}
		cbc, err := Encrypt(signed, []*x509.Certificate{sfx.carol.Cert}, EncryptOptions{Cipher: AES128CBC})
		if err != nil {
			t.Fatal(err)
		}
		mustOSSL(t, cbc, "cms", "-decrypt", "-recip", sfx.carolPEM, "-inkey", sfx.carolKey)
	})
	t.Run("ecdsa-signer", func(t *testing.T) {
		s, err := Sign(testMessage(carolAddr, bobAddr), sfx.carol, nil)
		if err != nil {
			t.Fatal(err)
		}
		mustOSSL(t, s, "cms", "-verify", "-CAfile", sfx.caPEM)
		wantVerified(t, mustOpen(t, s, openOpts()), "ecdsa")
	})
	t.Run("opaque", func(t *testing.T) {
		s, err := SignOpaque(raw, sfx.alice, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantOriginal(t, mustOSSL(t, s, "cms", "-verify", "-CAfile", sfx.caPEM))
		res := mustOpen(t, s, openOpts())
		wantVerified(t, res, "rsa-pkcs1v15")
		wantBody(t, res.Message)
	})
	t.Run("8bit-multipart", func(t *testing.T) {
		// 8-bit parts are made 7-bit before signing (RFC 8551 3.1.2);
		// the signature still verifies in OpenSSL and the text survives.
		mp := outerHeader(aliceAddr, bobAddr) + "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n" +
			"preamble\n--b1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nÉchographie réalisée.\n" +
			"--b1\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b1--\n"
		s, err := Sign([]byte(mp), sfx.alice, nil)
		if err != nil {
			t.Fatal(err)
		}
		if needsEncoding(s) || hasBareLF(s) {
			t.Error("signed output is not 7-bit CRLF")
		}
		out := mustOSSL(t, s, "cms", "-verify", "-CAfile", sfx.caPEM)
		if !bytes.Contains(out, []byte("=C3=89chographie r=C3=A9alis=C3=A9e.")) || !bytes.Contains(out, []byte("JVBERi0xLjQK")) {
			t.Errorf("openssl cms -verify gave:\n%s", out)
		}
		wantVerified(t, mustOpen(t, s, openOpts()), "rsa-pkcs1v15")
	})
}

// wantOriginal checks that out, the content OpenSSL verified and gave
// back, is the entity of testMessage: text/plain, and once the
// quoted-printable Sign applied is undone, the very same text.
func wantOriginal(t *testing.T, out []byte) {
	t.Helper()
	e := parseEntity(canonicalCRLF(out))
	body, err := e.decodedBody()
	if mt, p := e.mediaType(); err != nil || mt != "text/plain" || p["charset"] != "utf-8" || string(body) != testBody {
		t.Errorf("OpenSSL gave back (%v):\n%s", err, out)
	}
}

// splitAtMIME returns the outer header and the MIME entity of a message
// made by Sign or Encrypt (the entity starts at MIME-Version).
func splitAtMIME(msg []byte) ([]byte, []byte) {
	i := bytes.Index(msg, []byte("MIME-Version: 1.0\r\n"))
	return msg[:i], msg[i+len("MIME-Version: 1.0\r\n"):]
}

// TestOpenRefusals: each verification rule, failing alone.
func TestOpenRefusals(t *testing.T) {
	needOpenSSL(t)
	smimeFixture(t)
	t.Parallel()
	fromAlice := testMessage(aliceAddr, bobAddr)
	sign := func(t *testing.T, raw []byte, kp KeyPair) []byte {
		t.Helper()
		s, err := Sign(raw, kp, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	wantProblem := func(t *testing.T, raw []byte, o OpenOptions, problem string) *Opened {
		t.Helper()
		res, err := Open(raw, o)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !res.Signed || res.Verified || !strings.HasPrefix(res.Problem, problem) {
			t.Fatalf("Signed=%v Verified=%v Problem=%q, want %q", res.Signed, res.Verified, res.Problem, problem)
		}
		return res
	}
	good := sign(t, fromAlice, sfx.alice)

	t.Run("tampered", func(t *testing.T) {
		bad := bytes.Replace(good, []byte("13,2 g/dL"), []byte("18,2 g/dL"), 1)
		if bytes.Equal(bad, good) {
			t.Fatal("nothing replaced")
		}
		wantProblem(t, bad, openOpts(), ProblemContentAltered)
		// The same through OpenSSL's signature and encryption.
		osig := mustOSSL(t, []byte(entityText), "cms", "-sign", "-signer", sfx.alicePEM, "-inkey", sfx.aliceKey)
		enc := mustOSSL(t, bytes.Replace(osig, []byte("Dupont"), []byte("Dupond"), 1), "cms", "-encrypt", "-aes-256-gcm", sfx.bobPEM)
		res := wantProblem(t, append([]byte(outerHeader(aliceAddr, bobAddr)), enc...), openOpts(sfx.bob), ProblemContentAltered)
		if !res.Encrypted || res.Signer == nil {
			t.Errorf("Encrypted=%v Signer=%v", res.Encrypted, res.Signer)
		}
		// Opaque signed-data: change one byte of the content inside.
		op, err := SignOpaque(fromAlice, sfx.alice, nil)
		if err != nil {
			t.Fatal(err)
		}
		res = mustOpen(t, op, openOpts())
		cms := bytes.Replace(res.CMS, []byte("Dupont"), []byte("Dupond"), 1)
		h, _ := splitAtMIME(op)
		wantProblem(t, pkcs7MIME(h, "signed-data", cms), openOpts(), ProblemContentAltered)
	})
	t.Run("line-endings", func(t *testing.T) {
		// Stored with LF by a relay: still verifies, over the CRLF form.
		lf := bytes.ReplaceAll(good, []byte("\r\n"), []byte("\n"))
		wantVerified(t, mustOpen(t, lf, openOpts()), "rsa-pkcs1v15")
	})
	t.Run("wrong-signer", func(t *testing.T) {
		res := wantProblem(t, sign(t, fromAlice, sfx.bob), openOpts(), ProblemSignerMismatch)
		if len(res.SignerAddresses) != 1 || res.SignerAddresses[0] != bobAddr {
			t.Errorf("SignerAddresses %v", res.SignerAddresses)
		}
	})
	t.Run("expired", func(t *testing.T) {
		wantProblem(t, sign(t, fromAlice, sfx.expired), openOpts(), ProblemExpired)
		// A certificate not yet valid at Now.
		o := openOpts()
		o.Now = sfx.alice.Cert.NotBefore.Add(-time.Minute)
		wantProblem(t, good, o, ProblemNotYetValid)
	})
	t.Run("revoked", func(t *testing.T) {
		// A real CRL from the test CA listing alice, read by CheckRevoked.
		crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
			RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: sfx.alice.Cert.SerialNumber, RevocationTime: time.Now()}},
		}, fix.ca.cert, fix.ca.key)
		if err != nil {
			t.Fatal(err)
		}
		o := openOpts()
		o.IsRevoked = func(c *x509.Certificate) (bool, error) { return CheckRevoked(c, crl, fix.ca.CA()) }
		wantProblem(t, good, o, ProblemRevoked)
		if res := mustOpen(t, sign(t, testMessage(bobAddr, aliceAddr), sfx.bob), o); !res.Verified {
			t.Errorf("bob is not revoked: %q", res.Problem)
		}
		o.IsRevoked = func(*x509.Certificate) (bool, error) { return false, ErrCRLExpired }
		wantProblem(t, good, o, ProblemRevocationCheck)
	})
	t.Run("unknown-ca", func(t *testing.T) {
		wantProblem(t, sign(t, fromAlice, sfx.foreign), openOpts(), ProblemUntrusted)
		// Trusting that CA makes it pass.
		o := openOpts()
		o.Roots = Pool(sfx.foreignCA)
		wantVerified(t, mustOpen(t, sign(t, fromAlice, sfx.foreign), o), "rsa-pkcs1v15")
		o.Roots = nil
		wantProblem(t, good, o, ProblemUntrusted)
	})
	t.Run("no-key", func(t *testing.T) {
		enc, err := Encrypt(good, []*x509.Certificate{sfx.bob.Cert}, EncryptOptions{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := Open(enc, openOpts(sfx.alice, sfx.carol))
		if !errors.Is(err, ErrNoKey) || res == nil || !res.Encrypted || res.Problem != ProblemNoKey ||
			!bytes.Equal(res.Message, enc) || res.CMS == nil || res.Cipher != "aes-256-gcm" {
			t.Fatalf("err %v, res %+v", err, res)
		}
		osslEnc := mustOSSL(t, []byte(entityText), "cms", "-encrypt", "-aes-256-cbc", sfx.bobPEM)
		if _, err := Open(osslEnc, openOpts()); !errors.Is(err, ErrNoKey) {
			t.Errorf("no keys at all: %v", err)
		}
	})
	t.Run("altered-ciphertext", func(t *testing.T) {
		for _, c := range []Cipher{AES256GCM, AES256CBC} {
			enc, err := Encrypt(good, []*x509.Certificate{sfx.bob.Cert}, EncryptOptions{Cipher: c})
			if err != nil {
				t.Fatal(err)
			}
			res := mustOpen(t, enc, openOpts(sfx.bob))
			cms := append([]byte{}, res.CMS...)
			if c == AES256GCM {
				cms[len(cms)-40] ^= 1 // in the ciphertext (the tag is the last 18 bytes)
			} else {
				// CBC has no integrity: flip the padding length through
				// the previous block, which always breaks the padding.
				cms[len(cms)-17] ^= 1
			}
			h, _ := splitAtMIME(enc)
			_, err = Open(pkcs7MIME(h, "enveloped-data", cms), openOpts(sfx.bob))
			if !errors.Is(err, ErrDecrypt) || !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: %v", c, err)
			}
		}
	})
	t.Run("garbage", func(t *testing.T) {
		h := []byte(outerHeader(aliceAddr, bobAddr))
		for name, body := range map[string][]byte{
			"random":     encodeBase64(randBytes(700)),
			"not-base64": []byte("@@@@ not base64 @@@@\r\n"),
			"truncated":  encodeBase64(mustOpen(t, mustEncrypt(t, good), openOpts(sfx.bob)).CMS[:300]),
			"empty":      nil,
		} {
			raw := append(append(append([]byte{}, h...), "MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: base64\r\n\r\n"...), body...)
			res, err := Open(raw, openOpts(sfx.bob))
			if !errors.Is(err, ErrMalformed) || res.Problem != ProblemMalformed || !bytes.Equal(res.Message, raw) {
				t.Errorf("%s: err %v problem %q", name, err, res.Problem)
			}
		}
		// A multipart/signed whose signature part is not CMS.
		bad := bytes.Replace(good, []byte("MII"), []byte("XXX"), 1)
		if _, err := Open(bad, openOpts()); !errors.Is(err, ErrMalformed) {
			t.Errorf("bad signature part: %v", err)
		}
	})
	t.Run("ecdh-unsupported", func(t *testing.T) {
		// ECMQV is the same message as dhSinglePass-stdDH-sha256kdf with
		// one byte of the OID changed (1.3.132.1.11.1 -> 1.3.132.1.15.1):
		// nobody implements it, and it must fail cleanly, naming the OID.
		enc := mustOSSL(t, []byte(entityText), "cms", "-encrypt", "-aes-256-gcm", "-recip", sfx.carolPEM, "-keyopt", "ecdh_kdf_md:sha256", "-outform", "DER")
		std := []byte{0x06, 0x06, 0x2b, 0x81, 0x04, 0x01, 0x0b, 0x01}
		if !bytes.Contains(enc, std) {
			t.Fatal("stdDH-sha256kdf OID not found")
		}
		mqv := bytes.Replace(enc, std, []byte{0x06, 0x06, 0x2b, 0x81, 0x04, 0x01, 0x0f, 0x01}, 1)
		res, err := Open(pkcs7MIME([]byte(outerHeader(aliceAddr, carolAddr)), "authEnveloped-data", mqv), openOpts(sfx.carol))
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "1.3.132.1.15.1") || !strings.HasPrefix(res.Problem, ProblemUnsupportedAlg) {
			t.Errorf("ECMQV: %v (%q)", err, res.Problem)
		}
		// X25519 (RFC 8418) recipients are refused when encrypting.
		_, err = Encrypt(good, []*x509.Certificate{sfx.x25519}, EncryptOptions{})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "1.3.101.110") {
			t.Errorf("X25519: %v", err)
		}
	})
	t.Run("not-smime", func(t *testing.T) {
		for _, raw := range [][]byte{fromAlice, nil, []byte("garbage without header"),
			[]byte("Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=x\r\n\r\n--x--\r\n")} {
			res, err := Open(raw, openOpts())
			if err != nil || res.Signed || res.Encrypted || res.Problem != "" || !bytes.Equal(res.Message, raw) {
				t.Errorf("%q: %v %+v", raw, err, res)
			}
		}
	})
	t.Run("nesting", func(t *testing.T) {
		m := fromAlice
		for i := 0; i < MaxNesting; i++ {
			m = sign(t, m, sfx.alice)
		}
		wantVerified(t, mustOpen(t, m, openOpts()), "rsa-pkcs1v15")
		m, err := SignOpaque(m, sfx.alice, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Open(m, openOpts()); !errors.Is(err, ErrMalformed) {
			t.Errorf("%d layers: %v", MaxNesting+1, err)
		}
	})
	t.Run("too-large", func(t *testing.T) {
		if _, err := Open(make([]byte, MaxMessageSize+1), openOpts()); !errors.Is(err, ErrTooLarge) {
			t.Errorf("Open: %v", err)
		}
	})
	t.Run("bad-signer-key", func(t *testing.T) {
		if _, err := Sign(fromAlice, KeyPair{Cert: sfx.alice.Cert, Key: sfx.bob.Key}, nil); err == nil {
			t.Error("signed with a key that is not the certificate's")
		}
	})
}

func mustEncrypt(t *testing.T, raw []byte) []byte {
	t.Helper()
	enc, err := Encrypt(raw, []*x509.Certificate{sfx.bob.Cert}, EncryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// TestSignEncryptRoundTrip: Go only, triple wrap included.
func TestSignEncryptRoundTrip(t *testing.T) {
	smimeFixture(t)
	t.Parallel()
	raw := testMessage(aliceAddr, bobAddr)
	s, err := Sign(raw, sfx.alice, []*x509.Certificate{fix.ca.CA()})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := Encrypt(s, []*x509.Certificate{sfx.bob.Cert, sfx.alice.Cert}, EncryptOptions{OAEP: true})
	if err != nil {
		t.Fatal(err)
	}
	// Triple wrap (RFC 2634): a list agent signs the encrypted message.
	tw, err := SignOpaque(enc, sfx.bob, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range [][]byte{enc, tw} {
		res := mustOpen(t, m, openOpts(sfx.alice))
		// The innermost (author's) signature is reported; the outer
		// one is bob's, who is not the From: the message is unverified.
		if !res.Signed || !res.Encrypted || res.DecryptedFor != aliceAddr || !res.Signer.Equal(sfx.alice.Cert) {
			t.Errorf("res %+v", res)
		}
		if bytes.Equal(m, tw) != (res.Problem == ProblemSignerMismatch) {
			t.Errorf("Problem %q", res.Problem)
		}
		if !bytes.Equal(res.Message, s) {
			t.Errorf("stored:\n%s\nwant:\n%s", res.Message, s)
		}
	}
}

func TestAESKeyWrap(t *testing.T) {
	// RFC 3394 section 4.1 and 4.6.
	kek, _ := hex.DecodeString("000102030405060708090A0B0C0D0E0F")
	key, _ := hex.DecodeString("00112233445566778899AABBCCDDEEFF")
	want, _ := hex.DecodeString("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5")
	got, err := aesKeyWrap(kek, key)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("wrap: %x %v", got, err)
	}
	kek256, _ := hex.DecodeString("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
	key256, _ := hex.DecodeString("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F")
	want256, _ := hex.DecodeString("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21")
	if got, err = aesKeyWrap(kek256, key256); err != nil || !bytes.Equal(got, want256) {
		t.Fatalf("wrap 256: %x %v", got, err)
	}
	if back, err := aesKeyUnwrap(kek256, want256); err != nil || !bytes.Equal(back, key256) {
		t.Fatalf("unwrap: %x %v", back, err)
	}
	want256[3] ^= 1
	if _, err := aesKeyUnwrap(kek256, want256); err == nil {
		t.Fatal("unwrap accepted an altered key")
	}
}

func TestBERToDER(t *testing.T) {
	// SEQUENCE (indefinite) { OCTET STRING (constructed, indefinite)
	// { "ab", "c" }, [0] (indefinite) { NULL } }
	ber, _ := hex.DecodeString("3080" + "2480" + "04026162" + "040163" + "0000" + "a080" + "0500" + "0000" + "0000")
	der, rest, err := berToDER(append(ber, 0xff))
	if err != nil || hex.EncodeToString(der) != "3009"+"0403616263"+"a0020500" || !bytes.Equal(rest, []byte{0xff}) {
		t.Fatalf("%x %x %v", der, rest, err)
	}
	// DER input comes back as the same slice.
	if d2, _, err := berToDER(der); err != nil || &d2[0] != &der[0] {
		t.Fatal("DER input copied")
	}
	deep := bytes.Repeat([]byte{0x30, 0x80}, maxBERDepth+2)
	if _, _, err := berToDER(deep); err == nil {
		t.Fatal("unbounded nesting accepted")
	}
}

// TestOpenHostileShapes: inputs built to make a parser allocate or loop
// too much. Each must fail (or pass as not S/MIME) quickly.
func TestOpenHostileShapes(t *testing.T) {
	t.Parallel()
	n := 8 << 20
	ct := "Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: binary\r\n\r\n"
	for name, raw := range map[string][]byte{
		"folded-header":  append([]byte("Content-Type: application/pkcs7-mime;\r\n"), bytes.Repeat([]byte(" x\r\n"), n/4)...),
		"many-fields":    bytes.Repeat([]byte("a:b\n"), n/4),
		"tiny-ber-nodes": append([]byte(ct+"0\x80"), bytes.Repeat([]byte{4, 0}, n/2)...),
		"deep-ber":       append([]byte(ct), bytes.Repeat([]byte{0x30, 0x80}, n/2)...),
		"many-parts":     append([]byte("Content-Type: multipart/signed; boundary=b\r\n\r\n"), bytes.Repeat([]byte("--b\r\n"), n/5)...),
		"huge-length":    []byte(ct + "\x30\x84\x7f\xff\xff\xff\x06\x09"),
	} {
		start := time.Now()
		res, err := Open(raw, OpenOptions{})
		if res == nil || (err != nil && !errors.Is(err, ErrMalformed)) {
			t.Errorf("%s: %v", name, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: %v", name, d)
		}
	}
}

// TestPKCS7LibraryInterop: the other Go peers, built on go.mozilla.org/pkcs7
// or its smallstep fork. Not parallel: it sets the library's globals.
func TestPKCS7LibraryInterop(t *testing.T) {
	smimeFixture(t)
	// Its EnvelopedData with AES-GCM (tag appended, not RFC 5084) and its
	// OAEP, which deps.md says must be SHA-1 to satisfy OpenSSL.
	defer func(c int, a asn1.ObjectIdentifier, h crypto.Hash) {
		pkcs7.ContentEncryptionAlgorithm, pkcs7.KeyEncryptionAlgorithm, pkcs7.KeyEncryptionHash = c, a, h
	}(pkcs7.ContentEncryptionAlgorithm, pkcs7.KeyEncryptionAlgorithm, pkcs7.KeyEncryptionHash)
	for _, c := range []struct {
		alg    int
		oaep   bool
		cipher string
	}{{pkcs7.EncryptionAlgorithmAES256GCM, false, "aes-256-gcm"}, {pkcs7.EncryptionAlgorithmAES128CBC, true, "aes-128-cbc"}} {
		pkcs7.ContentEncryptionAlgorithm = c.alg
		pkcs7.KeyEncryptionAlgorithm, pkcs7.KeyEncryptionHash = pkcs7.OIDEncryptionAlgorithmRSA, crypto.SHA256
		if c.oaep {
			pkcs7.KeyEncryptionAlgorithm, pkcs7.KeyEncryptionHash = pkcs7.OIDEncryptionAlgorithmRSAESOAEP, crypto.SHA1
		}
		der, err := pkcs7.Encrypt([]byte(entityText), []*x509.Certificate{sfx.bob.Cert})
		if err != nil {
			t.Fatal(err)
		}
		res := mustOpen(t, pkcs7MIME([]byte(outerHeader(aliceAddr, bobAddr)), "enveloped-data", der), openOpts(sfx.bob))
		if res.Cipher != c.cipher || !bytes.HasSuffix(res.Message, []byte(testBody)) {
			t.Errorf("%s: %+v", c.cipher, res)
		}
	}
	// And the library verifies what Sign makes.
	s, err := SignOpaque(testMessage(aliceAddr, bobAddr), sfx.alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	p7, err := pkcs7.Parse(mustOpen(t, s, openOpts()).CMS)
	if err != nil {
		t.Fatal(err)
	}
	if err := p7.VerifyWithChain(sfx.roots); err != nil {
		t.Errorf("pkcs7 VerifyWithChain: %v", err)
	}
}
