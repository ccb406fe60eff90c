package certs

import (
	"crypto"
	"crypto/aes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ECDH recipients: KeyAgreeRecipientInfo with ephemeral-static ECDH on the
// NIST curves (RFC 5753 section 3.1), the ANSI X9.63 KDF and AES key wrap
// (RFC 3394, RFC 3565 section 2.3.2). This is what `openssl cms -encrypt`
// does for an EC recipient certificate. Static-static ECDH (originator
// named by certificate), ECMQV and X25519/X448 (RFC 8418, which OpenSSL 3.0
// cannot do either) are refused with ErrUnsupported naming the OID.

type kariInfo struct {
	originatorKey []byte // the ephemeral public point; nil when not originatorKey
	originatorAlg algID
	ukm           []byte
	keyAlg        algID // the key agreement scheme, with the key wrap as parameters
	recipients    []kariRecipient
}

type kariRecipient struct {
	rid          certID
	encryptedKey []byte
}

// parseKARI reads the [1] element of a KeyAgreeRecipientInfo
// (RFC 5652 section 6.2.2).
func parseKARI(el []byte) (*kariInfo, error) {
	k := &kariInfo{}
	bad := malformed("KeyAgreeRecipientInfo")
	s := cryptobyte.String(el)
	var seq, orig, reks cryptobyte.String
	var v int64
	if !s.ReadASN1(&seq, tagCtx1Cons) || !seq.ReadASN1Integer(&v) || !seq.ReadASN1(&orig, tagCtx0Cons) {
		return nil, bad
	}
	if orig.PeekASN1Tag(tagCtx1Cons) { // originatorKey [1] OriginatorPublicKey
		var opk cryptobyte.String
		var bits asn1.BitString
		if !orig.ReadASN1(&opk, tagCtx1Cons) || !readAlgID(&opk, &k.originatorAlg) ||
			!opk.ReadASN1BitString(&bits) || bits.BitLength%8 != 0 {
			return nil, bad
		}
		k.originatorKey = bits.Bytes
	}
	var ukm cryptobyte.String
	var has bool
	if !seq.ReadOptionalASN1(&ukm, &has, tagCtx1Cons) {
		return nil, bad
	}
	if has {
		var u cryptobyte.String
		if !ukm.ReadASN1(&u, cbasn1.OCTET_STRING) {
			return nil, bad
		}
		k.ukm = u
	}
	if !readAlgID(&seq, &k.keyAlg) || !seq.ReadASN1(&reks, cbasn1.SEQUENCE) {
		return nil, bad
	}
	for !reks.Empty() {
		if len(k.recipients) >= maxCMSRecipients {
			return nil, bad
		}
		var r, ek cryptobyte.String
		var rk kariRecipient
		if !reks.ReadASN1(&r, cbasn1.SEQUENCE) {
			return nil, bad
		}
		if r.PeekASN1Tag(cbasn1.SEQUENCE) {
			if !readIssuerAndSerial(&r, &rk.rid) {
				return nil, bad
			}
		} else {
			// rKeyId [0] IMPLICIT RecipientKeyIdentifier: the subject key
			// identifier, then an optional date and other attribute.
			var rkid, ski cryptobyte.String
			if !r.ReadASN1(&rkid, tagCtx0Cons) || !rkid.ReadASN1(&ski, cbasn1.OCTET_STRING) {
				return nil, bad
			}
			rk.rid.ski = append([]byte{}, ski...)
		}
		if !r.ReadASN1(&ek, cbasn1.OCTET_STRING) {
			return nil, bad
		}
		rk.encryptedKey = ek
		k.recipients = append(k.recipients, rk)
	}
	return k, nil
}

// ecdhScheme is the KDF hash of a dhSinglePass scheme. The cofactor
// variants equal the standard ones on the NIST curves, whose cofactor is 1
// (RFC 5753 section 3.1: "the cofactor ... is 1").
func ecdhScheme(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidStdDHSHA1KDF), oid.Equal(oidCofactorDHSHA1KDF):
		return crypto.SHA1, true // RFC 5753 section 8 / OpenSSL's default: accepted on input only
	case oid.Equal(oidStdDHSHA224KDF), oid.Equal(oidCofactorDHSHA224KDF):
		return crypto.SHA224, true
	case oid.Equal(oidStdDHSHA256KDF), oid.Equal(oidCofactorDHSHA256KDF):
		return crypto.SHA256, true
	case oid.Equal(oidStdDHSHA384KDF), oid.Equal(oidCofactorDHSHA384KDF):
		return crypto.SHA384, true
	case oid.Equal(oidStdDHSHA512KDF), oid.Equal(oidCofactorDHSHA512KDF):
		return crypto.SHA512, true
	}
	return 0, false
}

func keyWrapLen(oid asn1.ObjectIdentifier) int {
	switch {
	case oid.Equal(oidAES128Wrap):
		return 16
	case oid.Equal(oidAES192Wrap):
		return 24
	case oid.Equal(oidAES256Wrap):
		return 32
	}
	return 0
}

func (k *kariInfo) unwrap(kp KeyPair, rek *kariRecipient, keyLen int) ([]byte, string, error) {
	const name = "ecdh"
	h, ok := ecdhScheme(k.keyAlg.oid)
	if !ok {
		return nil, name, fmt.Errorf("%w: key agreement %s", ErrUnsupported, k.keyAlg.oid)
	}
	var wrap algID
	ps := cryptobyte.String(k.keyAlg.params)
	if !readAlgID(&ps, &wrap) {
		return nil, name, malformed("KeyAgreeRecipientInfo: key wrap algorithm")
	}
	kekLen := keyWrapLen(wrap.oid)
	if kekLen == 0 {
		return nil, name, fmt.Errorf("%w: key wrap %s", ErrUnsupported, wrap.oid)
	}
	if k.originatorKey == nil {
		return nil, name, fmt.Errorf("%w: static-static ECDH (originator named by certificate)", ErrUnsupported)
	}
	if !k.originatorAlg.oid.Equal(oidECPublicKey) {
		return nil, name, fmt.Errorf("%w: originator key %s", ErrUnsupported, k.originatorAlg.oid)
	}
	priv, ok := kp.Key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, name, fmt.Errorf("%w: key agreement %s to a %T key", ErrUnsupported, k.keyAlg.oid, kp.Key)
	}
	ep, err := priv.ECDH()
	if err != nil {
		return nil, name, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	peer, err := ep.Curve().NewPublicKey(k.originatorKey)
	if err != nil {
		return nil, name, malformed("originator public key: %v", err)
	}
	z, err := ep.ECDH(peer)
	if err != nil {
		return nil, name, fmt.Errorf("%w: ECDH: %v", ErrDecrypt, err)
	}
	kek := x963KDF(h, z, eccSharedInfo(wrap.oid, k.ukm, kekLen), kekLen)
	cek, err := aesKeyUnwrap(kek, rek.encryptedKey)
	if err != nil {
		return nil, name, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return cek, name, nil
}

// eccSharedInfo is the DER of ECC-CMS-SharedInfo (RFC 5753 section 7.2):
// the key wrap algorithm (AES wraps have absent parameters), the ukm if
// any, and the KEK length in bits as a 32-bit big-endian integer.
func eccSharedInfo(wrap asn1.ObjectIdentifier, ukm []byte, kekLen int) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(wrap) })
		if ukm != nil {
			b.AddASN1(tagCtx0Cons, func(b *cryptobyte.Builder) { b.AddASN1OctetString(ukm) })
		}
		b.AddASN1(tagCtx2Cons, func(b *cryptobyte.Builder) {
			var n [4]byte
			binary.BigEndian.PutUint32(n[:], uint32(kekLen*8))
			b.AddASN1OctetString(n[:])
		})
	})
	return b.BytesOrPanic()
}

// x963KDF is the ANSI X9.63 key derivation (SEC 1 section 3.6.1):
// Hash(Z || counter || SharedInfo) for counter = 1, 2, ...
func x963KDF(h crypto.Hash, z, info []byte, n int) []byte {
	var out []byte
	var ctr [4]byte
	for i := uint32(1); len(out) < n; i++ {
		hh := h.New()
		hh.Write(z)
		binary.BigEndian.PutUint32(ctr[:], i)
		hh.Write(ctr[:])
		hh.Write(info)
		out = hh.Sum(out)
	}
	return out[:n]
}

var keyWrapIV = [8]byte{0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6}

// aesKeyWrap is RFC 3394 section 2.2.1 with the default IV.
func aesKeyWrap(kek, key []byte) ([]byte, error) {
	if len(key)%8 != 0 || len(key) < 16 {
		return nil, errors.New("key wrap: key length not a multiple of 8")
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(key) / 8
	out := make([]byte, 8+len(key))
	copy(out, keyWrapIV[:])
	copy(out[8:], key)
	var buf [16]byte
	for j := 0; j <= 5; j++ {
		for i := 1; i <= n; i++ {
			copy(buf[:8], out[:8])
			copy(buf[8:], out[8*i:8*i+8])
			block.Encrypt(buf[:], buf[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(out[:8], binary.BigEndian.Uint64(buf[:8])^t)
			copy(out[8*i:8*i+8], buf[8:])
		}
	}
	return out, nil
}

// aesKeyUnwrap is RFC 3394 section 2.2.2, with the integrity check of
// section 2.2.3.
func aesKeyUnwrap(kek, wrapped []byte) ([]byte, error) {
	if len(wrapped)%8 != 0 || len(wrapped) < 24 {
		return nil, errors.New("key unwrap: bad length")
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(wrapped)/8 - 1
	a := make([]byte, 8)
	copy(a, wrapped[:8])
	r := make([]byte, 8*n)
	copy(r, wrapped[8:])
	var buf [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(buf[:8], binary.BigEndian.Uint64(a)^t)
			copy(buf[8:], r[8*(i-1):8*i])
			block.Decrypt(buf[:], buf[:])
			copy(a, buf[:8])
			copy(r[8*(i-1):8*i], buf[8:])
		}
	}
	if subtle.ConstantTimeCompare(a, keyWrapIV[:]) != 1 {
		return nil, errors.New("key unwrap: integrity check failed")
	}
	return r, nil
}

// kariFor encrypts cek to an EC recipient: a fresh ephemeral key on the
// recipient's curve, dhSinglePass-stdDH with the KDF hash matching the
// curve strength, and the AES wrap matching the content key size
// (RFC 5753 section 8 pairs them this way).
func kariFor(c *x509.Certificate, pub *ecdsa.PublicKey, cek []byte) ([]byte, error) {
	var scheme asn1.ObjectIdentifier
	var h crypto.Hash
	switch pub.Curve {
	case elliptic.P256():
		scheme, h = oidStdDHSHA256KDF, crypto.SHA256
	case elliptic.P384():
		scheme, h = oidStdDHSHA384KDF, crypto.SHA384
	case elliptic.P521():
		scheme, h = oidStdDHSHA512KDF, crypto.SHA512
	default:
		return nil, fmt.Errorf("%w: recipient %s: curve %s", ErrUnsupported, c.Subject, pub.Curve.Params().Name)
	}
	wrapOID := oidAES256Wrap
	if len(cek) == 16 {
		wrapOID = oidAES128Wrap
	}
	recip, err := pub.ECDH()
	if err != nil {
		return nil, fmt.Errorf("%w: recipient %s: %v", ErrUnsupported, c.Subject, err)
	}
	eph, err := recip.Curve().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	z, err := eph.ECDH(recip)
	if err != nil {
		return nil, fmt.Errorf("certs: ECDH with %s: %w", c.Subject, err)
	}
	kek := x963KDF(h, z, eccSharedInfo(wrapOID, nil, len(cek)), len(cek))
	wrapped, err := aesKeyWrap(kek, cek)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(tagCtx1Cons, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(3) // RFC 5652 section 6.2.2: version is always 3
		b.AddASN1(tagCtx0Cons, func(b *cryptobyte.Builder) {
			b.AddASN1(tagCtx1Cons, func(b *cryptobyte.Builder) {
				// id-ecPublicKey with absent parameters: the curve is the
				// recipient's (RFC 5753 section 7.1.1 allows it; OpenSSL
				// writes the same).
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidECPublicKey) })
				b.AddASN1BitString(eph.PublicKey().Bytes())
			})
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(scheme)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(wrapOID) })
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				addIssuerAndSerial(b, c)
				b.AddASN1OctetString(wrapped)
			})
		})
	})
	return b.Bytes()
}
