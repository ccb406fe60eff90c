package certs

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os/exec"
	"testing"
)

// Fuzz targets for everything Open parses. They call open, not Open, so
// that a panic is not hidden by Open's recover. Seeds are real messages:
// ours and OpenSSL's (streamed BER included), so the mutations start from
// deep inside valid structures.

func fuzzFixture(f *testing.F) OpenOptions {
	if _, err := exec.LookPath("openssl"); err != nil {
		f.Skip("openssl not installed")
	}
	smimeFixture(f)
	o := openOpts(sfx.bob, sfx.carol)
	o.Intermediates = []*x509.Certificate{fix.ca.CA()}
	o.IsRevoked = func(*x509.Certificate) (bool, error) { return false, nil }
	return o
}

// fuzzSeeds returns valid messages of every shape Open handles.
func fuzzSeeds(f *testing.F) [][]byte {
	raw := testMessage(aliceAddr, bobAddr)
	signed, err := Sign(raw, sfx.alice, nil)
	if err != nil {
		f.Fatal(err)
	}
	out := [][]byte{raw, signed, bytes.ReplaceAll(signed, []byte("\r\n"), []byte("\n"))}
	if op, err := SignOpaque(raw, sfx.carol, nil); err == nil {
		out = append(out, op)
	}
	for _, o := range []EncryptOptions{{}, {Cipher: AES128CBC, OAEP: true}} {
		enc, err := Encrypt(signed, []*x509.Certificate{sfx.bob.Cert, sfx.carol.Cert}, o)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, enc)
	}
	for _, args := range [][]string{
		{"cms", "-sign", "-nodetach", "-signer", sfx.alicePEM, "-inkey", sfx.aliceKey, "-keyopt", "rsa_padding_mode:pss"},
		{"cms", "-sign", "-nodetach", "-stream", "-keyid", "-signer", sfx.carolPEM, "-inkey", sfx.carolKey},
		{"cms", "-encrypt", "-stream", "-aes-256-gcm", "-keyid", sfx.bobPEM},
		{"cms", "-encrypt", "-aes-128-cbc", sfx.carolPEM},
	} {
		cmd := exec.Command("openssl", args...)
		cmd.Stdin = bytes.NewReader([]byte(entityText))
		msg, err := cmd.Output()
		if err != nil {
			f.Fatalf("openssl %v: %v", args, err)
		}
		out = append(out, append([]byte(outerHeader(aliceAddr, bobAddr)), msg...))
	}
	return out
}

func checkOpenResult(t *testing.T, res *Opened, err error) {
	if res == nil {
		t.Fatal("nil result")
	}
	if res.Verified && (!res.Signed || res.Problem != "" || res.Signer == nil) {
		t.Fatalf("inconsistent result %+v", res)
	}
	if err != nil && !errors.Is(err, ErrNoKey) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
		t.Fatalf("error outside the documented classes: %v", err)
	}
	if err != nil && res.Problem == "" {
		t.Fatalf("error %v without Problem", err)
	}
}

func FuzzOpen(f *testing.F) {
	o := fuzzFixture(f)
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte("Content-Type: application/pkcs7-mime\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAxADAABgkqhkiG9w0BBwEAAAAAAAAAAA==\r\n"))
	f.Add([]byte("Content-Type: multipart/signed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b\r\n\r\nMA==\r\n--b--\r\n"))
	// Found by the fuzzer: base64 without padding whose decoded size
	// StdEncoding.DecodedLen underestimates.
	f.Add([]byte("Content-TYpe:multipArt/signed;BoundArY= ----=_b\n------=_b\n------=_b\nContent-TrAnsfer-EnCoding:BAse64\n00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := open(data, o)
		checkOpenResult(t, res, err)
	})
}

// FuzzAuthEnvelopedData feeds DER (or BER) straight to the ContentInfo,
// EnvelopedData/AuthEnvelopedData and recipient parsers and to decryption,
// where base64 and MIME would otherwise absorb most mutations.
func FuzzAuthEnvelopedData(f *testing.F) {
	o := fuzzFixture(f)
	for _, s := range fuzzSeeds(f) {
		if res, _ := open(s, o); res != nil && res.Encrypted && res.CMS != nil {
			f.Add(res.CMS)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ci, err := parseContentInfo(data)
		if err != nil {
			return
		}
		auth := ci.typ.Equal(oidAuthEnvelopedData)
		if !auth && !ci.typ.Equal(oidEnvelopedData) {
			return
		}
		env, err := parseEnvelope(ci.content, auth)
		if err != nil {
			return
		}
		d, err := env.decrypt(o.Keys)
		if err == nil && (d == nil || d.plaintext == nil && len(env.ciphertext) > 16) {
			t.Fatalf("decrypt returned %+v", d)
		}
	})
}

// FuzzSignedData does the same for SignedData and signature checking.
func FuzzSignedData(f *testing.F) {
	o := fuzzFixture(f)
	for _, s := range fuzzSeeds(f) {
		if res, _ := open(s, o); res != nil && res.Signed && !res.Encrypted && res.CMS != nil {
			f.Add(res.CMS)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ci, err := parseContentInfo(data)
		if err != nil || !ci.typ.Equal(oidSignedData) {
			return
		}
		sd, err := parseSignedData(ci.content)
		if err != nil {
			return
		}
		op := &opener{o: o, res: &Opened{}, verified: true}
		op.verify(sd, sd.content, false)
	})
}
