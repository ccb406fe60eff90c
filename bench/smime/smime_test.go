// Package smime_test benchmarks the S/MIME layer of mssanted/certs: the
// outbound path (Sign then Encrypt) and the inbound one (Open: decrypt
// then verify, chain and sender checks included), for RSA-2048 mailboxes,
// 10 KB and 1 MB messages, AES-256-GCM and AES-256-CBC. run.sh puts the
// results next to OpenSSL's ceilings on the same machine.
package smime_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"mssanted/certs"
)

var (
	setupOnce  sync.Once
	setupErr   error
	tmpDir     string
	alice, bob certs.KeyPair
	chain      []*x509.Certificate
	roots      *x509.CertPool
)

const (
	aliceAddr = "alice@hopital.bench.example"
	bobAddr   = "bob@pharmacie.bench.example"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	os.Exit(code)
}

// setup makes a CA and two RSA-2048 mailboxes with the same code the
// server uses (certs.Init, IssueMailbox).
func setup(b *testing.B) {
	setupOnce.Do(func() {
		if tmpDir, setupErr = os.MkdirTemp("", "bench-smime-"); setupErr != nil {
			return
		}
		a, err := certs.Init(filepath.Join(tmpDir, "pki"), "Bench", []string{"mx.bench.example"})
		if err != nil {
			setupErr = err
			return
		}
		for _, m := range []struct {
			addr string
			kp   *certs.KeyPair
		}{{aliceAddr, &alice}, {bobAddr, &bob}} {
			iss, err := a.IssueMailbox(m.addr, "")
			if err != nil {
				setupErr = err
				return
			}
			*m.kp = certs.KeyPair{Cert: iss.Cert, Key: iss.Key}
		}
		chain, roots = []*x509.Certificate{a.CA()}, a.CAPool()
	})
	if setupErr != nil {
		b.Fatal(setupErr)
	}
}

// message is a message of about size bytes: a short text and a base64
// attachment (a lab report PDF, say), as the gateway carries them.
func message(size int) []byte {
	var s strings.Builder
	s.WriteString("From: Dr Alice <" + aliceAddr + ">\r\nTo: <" + bobAddr + ">\r\n" +
		"Subject: Compte rendu\r\nDate: Wed, 25 Nov 2026 10:00:00 +0100\r\n" +
		"Message-ID: <bench@hopital.bench.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nBonjour, voici le compte rendu.\r\n" +
		"--b1\r\nContent-Type: application/pdf; name=\"cr.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	raw := make([]byte, (size-s.Len())*3/4*76/78)
	rand.Read(raw)
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 76 {
		s.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	s.WriteString(enc + "\r\n--b1--\r\n")
	return []byte(s.String())
}

var (
	sizes = []struct {
		name string
		n    int
	}{{"10KB", 10 << 10}, {"1MB", 1 << 20}}
	ciphers = []certs.Cipher{certs.AES256GCM, certs.AES256CBC}
)

func BenchmarkSignEncrypt(b *testing.B) {
	setup(b)
	for _, sz := range sizes {
		for _, c := range ciphers {
			b.Run(fmt.Sprintf("%s/%s", sz.name, c), func(b *testing.B) {
				msg := message(sz.n)
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for b.Loop() {
					s, err := certs.Sign(msg, alice, chain)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := certs.Encrypt(s, []*x509.Certificate{bob.Cert}, certs.EncryptOptions{Cipher: c}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkDecryptVerify(b *testing.B) {
	setup(b)
	opts := certs.OpenOptions{
		Keys:      []certs.KeyPair{bob},
		Roots:     roots,
		IsRevoked: func(*x509.Certificate) (bool, error) { return false, nil },
	}
	for _, sz := range sizes {
		for _, c := range ciphers {
			b.Run(fmt.Sprintf("%s/%s", sz.name, c), func(b *testing.B) {
				msg := message(sz.n)
				s, err := certs.Sign(msg, alice, chain)
				if err != nil {
					b.Fatal(err)
				}
				enc, err := certs.Encrypt(s, []*x509.Certificate{bob.Cert}, certs.EncryptOptions{Cipher: c})
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for b.Loop() {
					res, err := certs.Open(enc, opts)
					if err != nil || !res.Verified {
						b.Fatalf("%v %q", err, res.Problem)
					}
				}
			})
		}
	}
}

// BenchmarkGoRSA2048 is the ceiling of Go's own crypto/rsa on this
// machine: the one private-key operation each S/MIME message costs
// (signing outbound, unwrapping the content key inbound), without the
// S/MIME work around it. run.sh sets it beside OpenSSL's.
func BenchmarkGoRSA2048(b *testing.B) {
	setup(b)
	key := bob.Key.(*rsa.PrivateKey)
	digest := sha256.Sum256([]byte("S/MIME"))
	b.Run("sign", func(b *testing.B) {
		for b.Loop() {
			if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &key.PublicKey, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decrypt", func(b *testing.B) {
		for b.Loop() {
			if _, err := key.Decrypt(rand.Reader, ct, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: 32}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
