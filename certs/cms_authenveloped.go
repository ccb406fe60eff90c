package certs

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"sort"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// EnvelopedData (RFC 5652 section 6) and AuthEnvelopedData (RFC 5083), in
// both directions. No Go CMS library writes AuthEnvelopedData, and the one
// used for signatures (github.com/smallstep/pkcs7) keeps its types
// unexported and its cipher choice in package globals, so both are built
// here with cryptobyte; the recipient infos are shared by the two.
//
// AuthEnvelopedData ::= SEQUENCE {               -- RFC 5083 section 2.1
//     version CMSVersion,                        -- always 0
//     originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
//     recipientInfos RecipientInfos,
//     authEncryptedContentInfo EncryptedContentInfo,
//     authAttrs [1] IMPLICIT AuthAttributes OPTIONAL,
//     mac MessageAuthenticationCode,             -- the GCM tag
//     unauthAttrs [2] IMPLICIT UnauthAttributes OPTIONAL }

// contentCipher describes a content-encryption algorithm.
type contentCipher struct {
	name   string
	oid    asn1.ObjectIdentifier
	keyLen int
	gcm    bool
}

var contentCiphers = []contentCipher{
	{"aes-256-gcm", oidAES256GCM, 32, true},
	{"aes-128-gcm", oidAES128GCM, 16, true},
	{"aes-192-gcm", oidAES192GCM, 24, true},
	{"aes-256-cbc", oidAES256CBC, 32, false},
	{"aes-128-cbc", oidAES128CBC, 16, false},
	{"aes-192-cbc", oidAES192CBC, 24, false},
}

// cipherByOID accepts AES only: RFC 8551 section 2.7 makes AES-128-CBC
// and AES-GCM the algorithms to support, and the Direct Project refuses
// anything weaker (DES, 3DES, RC2 are reported as ErrUnsupported).
func cipherByOID(oid asn1.ObjectIdentifier) (contentCipher, bool) {
	for _, c := range contentCiphers {
		if c.oid.Equal(oid) {
			return c, true
		}
	}
	return contentCipher{}, false
}

func cipherByName(name Cipher) (contentCipher, error) {
	if name == "" {
		name = AES256GCM
	}
	for _, c := range contentCiphers {
		if c.name == string(name) && c.keyLen != 24 {
			return c, nil
		}
	}
	return contentCipher{}, fmt.Errorf("%w: cipher %q", ErrUnsupported, name)
}

// envelope is a parsed EnvelopedData or AuthEnvelopedData.
type envelope struct {
	auth       bool
	recipients []recipientInfo
	cea        algID
	ciphertext []byte
	authAttrs  []byte // the [1] element as received, for the AAD
	mac        []byte
}

// recipientInfo is one RecipientInfo (RFC 5652 section 6.2).
type recipientInfo struct {
	kind         string // "ktri", "kari", "kekri", "pwri", "ori"
	rid          certID // ktri
	keyAlg       algID  // ktri and kari
	encryptedKey []byte // ktri
	kari         *kariInfo
}

func parseEnvelope(der []byte, auth bool) (*envelope, error) {
	env := &envelope{auth: auth}
	name := "EnvelopedData"
	if auth {
		name = "AuthEnvelopedData"
	}
	s := cryptobyte.String(der)
	var seq, skip, ris, eci cryptobyte.String
	var version int64
	var has bool
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&version) ||
		!seq.ReadOptionalASN1(&skip, &has, tagCtx0Cons) || !seq.ReadASN1(&ris, cbasn1.SET) {
		return nil, malformed("%s", name)
	}
	for !ris.Empty() {
		if len(env.recipients) >= maxCMSRecipients {
			return nil, malformed("%s: more than %d recipients", name, maxCMSRecipients)
		}
		ri, err := parseRecipientInfo(&ris)
		if err != nil {
			return nil, err
		}
		env.recipients = append(env.recipients, ri)
	}
	var ct asn1.ObjectIdentifier
	if !seq.ReadASN1(&eci, cbasn1.SEQUENCE) || !eci.ReadASN1ObjectIdentifier(&ct) || !readAlgID(&eci, &env.cea) {
		return nil, malformed("%s: EncryptedContentInfo", name)
	}
	content, present, ok := readImplicitOctets(&eci, 0)
	if !ok {
		return nil, malformed("%s: encryptedContent", name)
	}
	if !present {
		return nil, fmt.Errorf("%w: %s with detached encrypted content", ErrUnsupported, name)
	}
	env.ciphertext = content
	if auth {
		var attrs, mac cryptobyte.String
		if !readOptionalElement(&seq, &attrs, &has, tagCtx1Cons) || !seq.ReadASN1(&mac, cbasn1.OCTET_STRING) {
			return nil, malformed("%s: mac", name)
		}
		if has {
			env.authAttrs = attrs
		}
		env.mac = mac
	}
	return env, nil
}

func parseRecipientInfo(s *cryptobyte.String) (recipientInfo, error) {
	var ri recipientInfo
	var el cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1Element(&el, &tag) {
		return ri, malformed("RecipientInfo")
	}
	switch tag {
	case cbasn1.SEQUENCE: // KeyTransRecipientInfo, RFC 5652 section 6.2.1
		ri.kind = "ktri"
		var seq, ek cryptobyte.String
		var v int64
		if !el.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&v) || !readCertID(&seq, &ri.rid) ||
			!readAlgID(&seq, &ri.keyAlg) || !seq.ReadASN1(&ek, cbasn1.OCTET_STRING) {
			return ri, malformed("KeyTransRecipientInfo")
		}
		ri.encryptedKey = ek
	case tagCtx1Cons: // KeyAgreeRecipientInfo, RFC 5652 section 6.2.2
		ri.kind = "kari"
		k, err := parseKARI(el)
		if err != nil {
			return ri, err
		}
		ri.kari = k
		ri.keyAlg = k.keyAlg
	case tagCtx2Cons:
		ri.kind = "kekri"
	case tagCtx3Cons:
		ri.kind = "pwri"
	case tagCtx4Cons:
		ri.kind = "ori"
	default:
		return ri, malformed("RecipientInfo: tag %d", tag)
	}
	return ri, nil
}

// decrypted is the outcome of opening an envelope.
type decrypted struct {
	plaintext []byte
	cipher    string
	transport string
	recipient *x509.Certificate
}

// decrypt finds the first of keys that a recipient info names and opens
// the content with it. ErrNoKey when none is named; ErrUnsupported when
// one is named with an algorithm this package cannot run; ErrDecrypt
// when the key or the content does not decrypt.
func (env *envelope) decrypt(keys []KeyPair) (*decrypted, error) {
	cc, ok := cipherByOID(env.cea.oid)
	if !ok {
		return nil, fmt.Errorf("%w: content encryption %s", ErrUnsupported, env.cea.oid)
	}
	if env.auth && !cc.gcm {
		// RFC 5083 section 2.1 requires an authenticated cipher.
		return nil, fmt.Errorf("%w: AuthEnvelopedData with %s", ErrUnsupported, cc.name)
	}
	var lastErr error
	for _, kp := range keys {
		if kp.Cert == nil || kp.Key == nil {
			continue
		}
		for _, ri := range env.recipients {
			cek, transport, matched, err := ri.unwrap(kp, cc.keyLen)
			if !matched {
				continue
			}
			if err == nil {
				var pt []byte
				if pt, err = env.open(cc, cek); err == nil {
					return &decrypted{plaintext: pt, cipher: cc.name, transport: transport, recipient: kp.Cert}, nil
				}
			}
			lastErr = err
			break // one attempt per key: more would only multiply RSA operations
		}
	}
	if lastErr != nil {
		return &decrypted{cipher: cc.name}, lastErr
	}
	return &decrypted{cipher: cc.name}, fmt.Errorf("%w (%d recipients, none of our %d keys)", ErrNoKey, len(env.recipients), len(keys))
}

// unwrap recovers the content-encryption key if ri names kp.
func (ri *recipientInfo) unwrap(kp KeyPair, keyLen int) (cek []byte, transport string, matched bool, err error) {
	switch ri.kind {
	case "ktri":
		if !ri.rid.matches(kp.Cert) {
			return nil, "", false, nil
		}
		cek, transport, err = ri.unwrapKTRI(kp, keyLen)
	case "kari":
		var rek *kariRecipient
		for i := range ri.kari.recipients {
			if ri.kari.recipients[i].rid.matches(kp.Cert) {
				rek = &ri.kari.recipients[i]
				break
			}
		}
		if rek == nil {
			return nil, "", false, nil
		}
		cek, transport, err = ri.kari.unwrap(kp, rek, keyLen)
	default:
		return nil, "", false, nil
	}
	if err == nil && len(cek) != keyLen {
		err = fmt.Errorf("%w: content key of %d bytes for a %d-byte cipher", ErrDecrypt, len(cek), keyLen)
	}
	return cek, transport, true, err
}

func (ri *recipientInfo) unwrapKTRI(kp KeyPair, keyLen int) ([]byte, string, error) {
	dec, ok := kp.Key.(crypto.Decrypter)
	if _, isRSA := kp.Cert.PublicKey.(*rsa.PublicKey); !ok || !isRSA {
		return nil, "", fmt.Errorf("%w: key transport %s to a %T key", ErrUnsupported, ri.keyAlg.oid, kp.Key)
	}
	switch {
	case ri.keyAlg.oid.Equal(oidRSAEncryption):
		// RFC 3218 section 2.3: on a padding error, go on with a random
		// key so that the failure shows only as a content that does not
		// decrypt, never as a distinct error (Bleichenbacher's oracle).
		cek, err := dec.Decrypt(rand.Reader, ri.encryptedKey, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: keyLen})
		if err != nil {
			return nil, "rsa-pkcs1v15", fmt.Errorf("%w: RSA: %v", ErrDecrypt, err)
		}
		return cek, "rsa-pkcs1v15", nil
	case ri.keyAlg.oid.Equal(oidRSAESOAEP):
		opts, err := parseOAEPParams(ri.keyAlg.params)
		if err != nil {
			return nil, "rsa-oaep", err
		}
		cek, err := dec.Decrypt(rand.Reader, ri.encryptedKey, opts)
		if err != nil {
			return nil, "rsa-oaep", fmt.Errorf("%w: RSA-OAEP: %v", ErrDecrypt, err)
		}
		return cek, "rsa-oaep", nil
	}
	return nil, "", fmt.Errorf("%w: key transport %s", ErrUnsupported, ri.keyAlg.oid)
}

// parseOAEPParams reads RSAES-OAEP-params (RFC 4055 section 4.1; defaults
// SHA-1, MGF1-SHA-1, empty label: what `-keyopt rsa_padding_mode:oaep`
// alone gives, accepted on input).
func parseOAEPParams(params []byte) (*rsa.OAEPOptions, error) {
	opts := &rsa.OAEPOptions{Hash: crypto.SHA1, MGFHash: crypto.SHA1}
	if len(params) == 0 || bytes.Equal(params, []byte{0x05, 0x00}) {
		return opts, nil
	}
	bad := malformed("RSAES-OAEP parameters")
	s := cryptobyte.String(params)
	var seq, el cryptobyte.String
	var has bool
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadOptionalASN1(&el, &has, tagCtx0Cons) {
		return nil, bad
	}
	if has {
		var a algID
		var ok bool
		if !readAlgID(&el, &a) {
			return nil, bad
		}
		if opts.Hash, _, ok = digestByOID(a.oid); !ok {
			return nil, fmt.Errorf("%w: RSA-OAEP hash %s", ErrUnsupported, a.oid)
		}
	}
	if !seq.ReadOptionalASN1(&el, &has, tagCtx1Cons) {
		return nil, bad
	}
	if has {
		var mgf, mh algID
		var ok bool
		if !readAlgID(&el, &mgf) {
			return nil, bad
		}
		if !mgf.oid.Equal(oidMGF1) {
			return nil, fmt.Errorf("%w: RSA-OAEP mask generation %s", ErrUnsupported, mgf.oid)
		}
		ps := cryptobyte.String(mgf.params)
		if !readAlgID(&ps, &mh) {
			return nil, bad
		}
		if opts.MGFHash, _, ok = digestByOID(mh.oid); !ok {
			return nil, fmt.Errorf("%w: MGF1 hash %s", ErrUnsupported, mh.oid)
		}
	}
	if !seq.ReadOptionalASN1(&el, &has, tagCtx2Cons) {
		return nil, bad
	}
	if has {
		var src algID
		var label cryptobyte.String
		if !readAlgID(&el, &src) || !src.oid.Equal(oidPSpecified) {
			return nil, fmt.Errorf("%w: RSA-OAEP label source %s", ErrUnsupported, src.oid)
		}
		ps := cryptobyte.String(src.params)
		if !ps.ReadASN1(&label, cbasn1.OCTET_STRING) {
			return nil, bad
		}
		opts.Label = append([]byte{}, label...)
	}
	return opts, nil
}

// open decrypts the content with cek.
func (env *envelope) open(cc contentCipher, cek []byte) ([]byte, error) {
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	if cc.gcm {
		// GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING,
		//     aes-ICVlen AES-GCM-ICVlen DEFAULT 12 }  (RFC 5084 section 3.2)
		s := cryptobyte.String(env.cea.params)
		var seq, nonce cryptobyte.String
		icv := int64(12)
		nonceTag := cbasn1.OCTET_STRING
		if !env.auth && s.PeekASN1Tag(cbasn1.Tag(16)) {
			// github.com/smallstep/pkcs7 (and go.mozilla.org/pkcs7) wrap
			// the parameters in a primitive-tagged SEQUENCE (0x10) and
			// tag the nonce [4] IMPLICIT: accepted from EnvelopedData,
			// where only they put GCM.
			var outer cryptobyte.String
			if !s.ReadASN1(&outer, cbasn1.Tag(16)) {
				return nil, malformed("GCM parameters")
			}
			s, nonceTag = outer, cbasn1.Tag(4).ContextSpecific()
		}
		if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
			return nil, malformed("GCM parameters")
		}
		if !seq.ReadASN1(&nonce, nonceTag) || (!seq.Empty() && !seq.ReadASN1Integer(&icv)) || !seq.Empty() {
			return nil, malformed("GCM parameters")
		}
		if len(nonce) != 12 || icv < 12 || icv > 16 {
			// RFC 5084 recommends a 12-octet nonce, which is all Go's
			// GCM and every agent seen in practice use.
			return nil, fmt.Errorf("%w: GCM nonce of %d bytes, tag of %d", ErrUnsupported, len(nonce), icv)
		}
		aead, err := cipher.NewGCMWithTagSize(block, int(icv))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
		}
		var sealed, aad []byte
		if env.auth {
			if len(env.mac) != int(icv) {
				return nil, malformed("mac of %d bytes, ICVlen %d", len(env.mac), icv)
			}
			sealed = make([]byte, 0, len(env.ciphertext)+len(env.mac))
			sealed = append(append(sealed, env.ciphertext...), env.mac...)
			if env.authAttrs != nil {
				// RFC 5083 section 2.2: the AAD is the DER of authAttrs
				// with the EXPLICIT SET OF tag in place of [1].
				aad = append([]byte{0x31}, env.authAttrs[1:]...)
			}
		} else {
			// GCM inside EnvelopedData, tag appended to the ciphertext:
			// not in any RFC, but what go.mozilla.org/pkcs7 and its forks
			// write (with their own parameter encoding, above); accepted
			// on input only.
			sealed = env.ciphertext
		}
		pt, err := aead.Open(nil, nonce, sealed, aad)
		if err != nil {
			return nil, fmt.Errorf("%w: GCM authentication failed", ErrDecrypt)
		}
		return pt, nil
	}
	var iv cryptobyte.String
	s := cryptobyte.String(env.cea.params)
	if !s.ReadASN1(&iv, cbasn1.OCTET_STRING) || len(iv) != aes.BlockSize {
		return nil, malformed("CBC parameters")
	}
	ct := env.ciphertext
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: ciphertext of %d bytes", ErrDecrypt, len(ct))
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	// PKCS #7 padding (RFC 5652 section 6.3), checked without branching
	// on the secret bytes.
	pad := int(pt[len(pt)-1])
	good := subtle.ConstantTimeLessOrEq(1, pad) & subtle.ConstantTimeLessOrEq(pad, aes.BlockSize)
	for i := 1; i <= aes.BlockSize; i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, pad)
		match := subtle.ConstantTimeByteEq(pt[len(pt)-i], byte(pad))
		good &= subtle.ConstantTimeSelect(inPad, match, 1)
	}
	if good != 1 {
		return nil, fmt.Errorf("%w: bad CBC padding", ErrDecrypt)
	}
	return pt[:len(pt)-pad], nil
}

// encryptCMS builds the ContentInfo of an AuthEnvelopedData (GCM) or
// EnvelopedData (CBC) of content for recipients.
func encryptCMS(content []byte, recipients []*x509.Certificate, o EncryptOptions) ([]byte, error) {
	cc, err := cipherByName(o.Cipher)
	if err != nil {
		return nil, err
	}
	if len(recipients) == 0 {
		return nil, fmt.Errorf("certs: encrypt: no recipient")
	}
	cek := make([]byte, cc.keyLen)
	if _, err := rand.Read(cek); err != nil {
		return nil, err
	}
	var infos [][]byte
	allV0 := true
	for _, c := range recipients {
		if c == nil {
			return nil, fmt.Errorf("certs: encrypt: nil recipient certificate")
		}
		var ri []byte
		switch pub := c.PublicKey.(type) {
		case *rsa.PublicKey:
			ri, err = ktriFor(c, pub, cek, o.OAEP)
		case *ecdsa.PublicKey:
			ri, err = kariFor(c, pub, cek)
			allV0 = false
		default:
			err = fmt.Errorf("%w: recipient %s: public key algorithm %s", ErrUnsupported, c.Subject, spkiAlgorithm(c))
		}
		if err != nil {
			return nil, err
		}
		infos = append(infos, ri)
	}
	// DER orders a SET OF by its encodings (X.690 11.6).
	sort.Slice(infos, func(i, j int) bool { return bytes.Compare(infos[i], infos[j]) < 0 })

	var params, ct, mac []byte
	if cc.gcm {
		nonce := make([]byte, 12)
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		block, _ := aes.NewCipher(cek)
		aead, _ := cipher.NewGCM(block) // 16-byte tag: the strongest ICVlen
		sealed := aead.Seal(nil, nonce, content, nil)
		ct, mac = sealed[:len(sealed)-aead.Overhead()], sealed[len(sealed)-aead.Overhead():]
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(nonce)
			b.AddASN1Int64(int64(aead.Overhead()))
		})
		params = b.BytesOrPanic()
	} else {
		iv := make([]byte, aes.BlockSize)
		if _, err := rand.Read(iv); err != nil {
			return nil, err
		}
		block, _ := aes.NewCipher(cek)
		pad := aes.BlockSize - len(content)%aes.BlockSize
		ct = make([]byte, len(content)+pad)
		copy(ct, content)
		for i := len(content); i < len(ct); i++ {
			ct[i] = byte(pad)
		}
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, ct)
		var b cryptobyte.Builder
		b.AddASN1OctetString(iv)
		params = b.BytesOrPanic()
	}

	typ, version := oidEnvelopedData, int64(0)
	if cc.gcm {
		typ = oidAuthEnvelopedData // version stays 0: RFC 5083 section 2.1
	} else if !allV0 {
		version = 2 // RFC 5652 section 6.1: a kari (version 3) is present
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(typ)
		b.AddASN1(tagCtx0Cons, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(version)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					for _, ri := range infos {
						b.AddBytes(ri)
					}
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidData)
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(cc.oid)
						b.AddBytes(params)
					})
					b.AddASN1(tagCtx0Prim, func(b *cryptobyte.Builder) { b.AddBytes(ct) })
				})
				if cc.gcm {
					b.AddASN1OctetString(mac)
				}
			})
		})
	})
	return b.Bytes()
}

// ktriFor encrypts cek to an RSA recipient: RSAES-OAEP with SHA-256 and
// MGF1-SHA-256 (RFC 8551 section 2.3 recommends OAEP; SHA-1 is never
// produced), or PKCS #1 v1.5 for correspondents that lack OAEP.
func ktriFor(c *x509.Certificate, pub *rsa.PublicKey, cek []byte, oaep bool) ([]byte, error) {
	if pub.N.BitLen() < 2048 {
		return nil, fmt.Errorf("%w: recipient %s: RSA key of %d bits (2048 at least)", ErrUnsupported, c.Subject, pub.N.BitLen())
	}
	var ek []byte
	var err error
	if oaep {
		ek, err = rsa.EncryptOAEP(crypto.SHA256.New(), rand.Reader, pub, cek, nil)
	} else {
		ek, err = rsa.EncryptPKCS1v15(rand.Reader, pub, cek)
	}
	if err != nil {
		return nil, fmt.Errorf("certs: encrypt to %s: %w", c.Subject, err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0) // version 0: rid is issuerAndSerialNumber
		addIssuerAndSerial(b, c)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if !oaep {
				// RFC 3370 section 4.2.1: NULL parameters.
				b.AddASN1ObjectIdentifier(oidRSAEncryption)
				b.AddASN1NULL()
				return
			}
			b.AddASN1ObjectIdentifier(oidRSAESOAEP)
			// RFC 4055 section 4.1, written as OpenSSL writes it for
			// `-keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha256`.
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(tagCtx0Cons, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256) })
				})
				b.AddASN1(tagCtx1Cons, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidMGF1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256) })
					})
				})
			})
		})
		b.AddASN1OctetString(ek)
	})
	return b.Bytes()
}

func addIssuerAndSerial(b *cryptobyte.Builder, c *x509.Certificate) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(c.RawIssuer)
		b.AddASN1BigInt(c.SerialNumber)
	})
}

// spkiAlgorithm names the public-key algorithm of c by its OID, for errors.
func spkiAlgorithm(c *x509.Certificate) string {
	s := cryptobyte.String(c.RawSubjectPublicKeyInfo)
	var spki cryptobyte.String
	var a algID
	if s.ReadASN1(&spki, cbasn1.SEQUENCE) && readAlgID(&spki, &a) {
		return a.oid.String()
	}
	return c.PublicKeyAlgorithm.String()
}
