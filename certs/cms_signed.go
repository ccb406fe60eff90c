package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/smallstep/pkcs7"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// signedData is a parsed SignedData (RFC 5652 section 5.1).
type signedData struct {
	contentType asn1.ObjectIdentifier
	content     []byte // eContent; nil when detached
	attached    bool
	certs       []*x509.Certificate
	signers     []signerInfo
}

// signerInfo is one SignerInfo (RFC 5652 section 5.3).
type signerInfo struct {
	sid         certID
	digestAlg   algID
	signedAttrs []byte // the [0] IMPLICIT element exactly as received
	sigAlg      algID
	signature   []byte
}

func parseSignedData(der []byte) (*signedData, error) {
	s := cryptobyte.String(der)
	var seq, digestAlgs, eci, certs, signers cryptobyte.String
	var version int64
	sd := &signedData{}
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&version) ||
		!seq.ReadASN1(&digestAlgs, cbasn1.SET) || !seq.ReadASN1(&eci, cbasn1.SEQUENCE) ||
		!eci.ReadASN1ObjectIdentifier(&sd.contentType) {
		return nil, malformed("SignedData")
	}
	var ec cryptobyte.String
	if !eci.ReadOptionalASN1(&ec, &sd.attached, tagCtx0Cons) {
		return nil, malformed("SignedData: eContent")
	}
	if sd.attached {
		var oct cryptobyte.String
		if ec.PeekASN1Tag(cbasn1.OCTET_STRING) {
			if !ec.ReadASN1(&oct, cbasn1.OCTET_STRING) {
				return nil, malformed("SignedData: eContent")
			}
			sd.content = oct
		} else {
			// PKCS #7 v1.5 carried non-data content as the bare element;
			// RFC 5652 section 5.2.1 asks receivers to accept it.
			sd.content = ec
		}
		if sd.content == nil {
			sd.content = []byte{}
		}
	}
	var hasCerts bool
	if !seq.ReadOptionalASN1(&certs, &hasCerts, tagCtx0Cons) {
		return nil, malformed("SignedData: certificates")
	}
	for hasCerts && !certs.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !certs.ReadAnyASN1Element(&el, &tag) {
			return nil, malformed("SignedData: certificates")
		}
		// Only plain certificates matter here; attribute certificates
		// and the other CertificateChoices are skipped. A certificate
		// Go cannot parse is skipped too: the signer may not need it.
		if tag != cbasn1.SEQUENCE || len(sd.certs) >= maxCMSCerts {
			continue
		}
		if c, err := x509.ParseCertificate(el); err == nil {
			sd.certs = append(sd.certs, c)
		}
	}
	var crls cryptobyte.String
	var hasCRLs bool
	if !seq.ReadOptionalASN1(&crls, &hasCRLs, tagCtx1Cons) || !seq.ReadASN1(&signers, cbasn1.SET) {
		return nil, malformed("SignedData: signerInfos")
	}
	for !signers.Empty() {
		if len(sd.signers) >= maxCMSSigners {
			return nil, malformed("SignedData: more than %d signers", maxCMSSigners)
		}
		var si signerInfo
		var sis, sig cryptobyte.String
		var v int64
		if !signers.ReadASN1(&sis, cbasn1.SEQUENCE) || !sis.ReadASN1Integer(&v) ||
			!readCertID(&sis, &si.sid) || !readAlgID(&sis, &si.digestAlg) {
			return nil, malformed("SignerInfo")
		}
		var attrs cryptobyte.String
		var hasAttrs bool
		if !readOptionalElement(&sis, &attrs, &hasAttrs, tagCtx0Cons) {
			return nil, malformed("SignerInfo: signedAttrs")
		}
		if hasAttrs {
			si.signedAttrs = attrs
		}
		if !readAlgID(&sis, &si.sigAlg) || !sis.ReadASN1(&sig, cbasn1.OCTET_STRING) {
			return nil, malformed("SignerInfo: signature")
		}
		si.signature = sig
		sd.signers = append(sd.signers, si)
	}
	return sd, nil
}

// Reasons a signature fails its cryptographic check; the Problem shown to
// people is chosen from them in smime.go.
var (
	errSigAltered     = errors.New("message digest does not match the content")
	errSigInvalid     = errors.New("signature does not verify with the signer's key")
	errSigUnsupported = errors.New("unsupported signature algorithm")
)

// sigResult is what checking one SignerInfo found.
type sigResult struct {
	digest      string // "sha-256"
	sigAlg      string // "rsa-pkcs1v15", "rsa-pss", "ecdsa", "ed25519"
	signingTime time.Time
	err         error
}

// check verifies si over content with cert's public key: the message
// digest and content type in the signed attributes (RFC 5652 section 5.4
// and 11.1, 11.2), then the signature over the DER of the signed
// attributes with their IMPLICIT [0] replaced by the SET OF tag (RFC 5652
// section 5.4), or over the content itself when there are none.
func (si *signerInfo) check(sd *signedData, content []byte, cert *x509.Certificate) sigResult {
	var r sigResult
	h, name, ok := digestByOID(si.digestAlg.oid)
	if !ok {
		r.err = fmt.Errorf("%w: digest %s", errSigUnsupported, si.digestAlg.oid)
		return r
	}
	r.digest = name
	hh := h.New()
	hh.Write(content)
	sum := hh.Sum(nil)

	signed := content
	if si.signedAttrs != nil {
		s := cryptobyte.String(si.signedAttrs)
		var set cryptobyte.String
		if !s.ReadASN1(&set, tagCtx0Cons) {
			r.err = malformed("signedAttrs")
			return r
		}
		attrs, ok := parseAttributes(set)
		if !ok {
			r.err = malformed("signedAttrs")
			return r
		}
		md, found, err := singleAttr(attrs, oidAttrMessageDigest)
		if err != nil || !found {
			r.err = malformed("signedAttrs: message-digest")
			return r
		}
		ct, found, err := singleAttr(attrs, oidAttrContentType)
		if err != nil || !found {
			r.err = malformed("signedAttrs: content-type")
			return r
		}
		var mdv cryptobyte.String
		mds := cryptobyte.String(md)
		if !mds.ReadASN1(&mdv, cbasn1.OCTET_STRING) {
			r.err = malformed("signedAttrs: message-digest")
			return r
		}
		var cto asn1.ObjectIdentifier
		cts := cryptobyte.String(ct)
		if !cts.ReadASN1ObjectIdentifier(&cto) || !cto.Equal(sd.contentType) {
			// RFC 5652 11.1: the attribute must name the content type
			// that was signed; a mismatch means a substituted content.
			r.err = fmt.Errorf("%w (content-type attribute %s, content %s)", errSigAltered, cto, sd.contentType)
			return r
		}
		if st, found, err := singleAttr(attrs, oidAttrSigningTime); err == nil && found {
			r.signingTime = parseTime(st)
		}
		if subtle.ConstantTimeCompare(mdv, sum) != 1 {
			r.err = errSigAltered
			return r
		}
		signed = append([]byte{0x31}, si.signedAttrs[1:]...)
	} else if !sd.contentType.Equal(oidData) {
		// RFC 5652 section 5.3: signed attributes are mandatory when the
		// content is not id-data.
		r.err = malformed("signedAttrs missing for content type %s", sd.contentType)
		return r
	}
	r.sigAlg, r.err = verifySignature(cert.PublicKey, si.sigAlg, h, signed, sum, si.signedAttrs != nil, si.signature)
	return r
}

// parseTime reads a UTCTime or GeneralizedTime element; zero on failure.
func parseTime(el []byte) time.Time {
	s := cryptobyte.String(el)
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if s.ReadASN1UTCTime(&t) {
			return t
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if s.ReadASN1GeneralizedTime(&t) {
			return t
		}
	}
	return time.Time{}
}

// verifySignature checks sig over signed. contentSum is the digest of the
// content, which is what RSA signs when there are no signed attributes.
func verifySignature(pub crypto.PublicKey, alg algID, h crypto.Hash, signed, contentSum []byte, hasAttrs bool, sig []byte) (string, error) {
	digest := contentSum
	if hasAttrs {
		hh := h.New()
		hh.Write(signed)
		digest = hh.Sum(nil)
	}
	// The hash named by a combined OID must be the digestAlgorithm's
	// (RFC 5754 section 3): anything else is a substitution attempt.
	if want, ok := sigAlgHash(alg.oid); ok && want != h {
		return "", fmt.Errorf("%w: %s with digest %v", errSigUnsupported, alg.oid, h)
	}
	switch {
	case alg.oid.Equal(oidRSAEncryption), alg.oid.Equal(oidSHA1WithRSA), alg.oid.Equal(oidSHA224WithRSA),
		alg.oid.Equal(oidSHA256WithRSA), alg.oid.Equal(oidSHA384WithRSA), alg.oid.Equal(oidSHA512WithRSA):
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return "rsa-pkcs1v15", fmt.Errorf("%w: RSA signature from a %T key", errSigInvalid, pub)
		}
		if rsa.VerifyPKCS1v15(k, h, digest, sig) != nil {
			return "rsa-pkcs1v15", errSigInvalid
		}
		return "rsa-pkcs1v15", nil

	case alg.oid.Equal(oidRSASSAPSS):
		// RFC 4056: RSASSA-PSS in CMS. Go's rsa.VerifyPSS uses the same
		// hash for the message and MGF1, which is also all RFC 4056
		// section 3 recommends and all OpenSSL writes.
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return "rsa-pss", fmt.Errorf("%w: RSA-PSS signature from a %T key", errSigInvalid, pub)
		}
		p, err := parsePSSParams(alg.params)
		if err != nil {
			return "rsa-pss", err
		}
		if p.hash != h || p.mgfHash != h {
			return "rsa-pss", fmt.Errorf("%w: RSA-PSS with hash %v, MGF1 %v, digest %v", errSigUnsupported, p.hash, p.mgfHash, h)
		}
		if rsa.VerifyPSS(k, h, digest, sig, &rsa.PSSOptions{SaltLength: p.saltLen, Hash: h}) != nil {
			return "rsa-pss", errSigInvalid
		}
		return "rsa-pss", nil

	case alg.oid.Equal(oidECDSAWithSHA1), alg.oid.Equal(oidECDSAWithSHA224), alg.oid.Equal(oidECDSAWithSHA256),
		alg.oid.Equal(oidECDSAWithSHA384), alg.oid.Equal(oidECDSAWithSHA512), alg.oid.Equal(oidECPublicKey):
		// RFC 5753 section 7.1.3; some agents put id-ecPublicKey here and
		// let digestAlgorithm name the hash.
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return "ecdsa", fmt.Errorf("%w: ECDSA signature from a %T key", errSigInvalid, pub)
		}
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return "ecdsa", errSigInvalid
		}
		return "ecdsa", nil

	case alg.oid.Equal(oidEd25519):
		// RFC 8419 section 3: pure Ed25519 over the DER of the signed
		// attributes (or of the content), with SHA-512 as digest.
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return "ed25519", fmt.Errorf("%w: Ed25519 signature from a %T key", errSigInvalid, pub)
		}
		if h != crypto.SHA512 {
			return "ed25519", fmt.Errorf("%w: Ed25519 with digest %v", errSigUnsupported, h)
		}
		if !ed25519.Verify(k, signed, sig) {
			return "ed25519", errSigInvalid
		}
		return "ed25519", nil
	}
	return "", fmt.Errorf("%w: %s", errSigUnsupported, alg.oid)
}

// sigAlgHash is the hash a combined signature OID names.
func sigAlgHash(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidSHA1WithRSA), oid.Equal(oidECDSAWithSHA1):
		return crypto.SHA1, true
	case oid.Equal(oidSHA224WithRSA), oid.Equal(oidECDSAWithSHA224):
		return crypto.SHA224, true
	case oid.Equal(oidSHA256WithRSA), oid.Equal(oidECDSAWithSHA256):
		return crypto.SHA256, true
	case oid.Equal(oidSHA384WithRSA), oid.Equal(oidECDSAWithSHA384):
		return crypto.SHA384, true
	case oid.Equal(oidSHA512WithRSA), oid.Equal(oidECDSAWithSHA512):
		return crypto.SHA512, true
	}
	return 0, false
}

type pssParams struct {
	hash, mgfHash crypto.Hash
	saltLen       int
}

// parsePSSParams reads RSASSA-PSS-params (RFC 4055 section 3.1), whose
// defaults are SHA-1, MGF1 with SHA-1, salt 20 and trailer 1.
func parsePSSParams(params []byte) (pssParams, error) {
	p := pssParams{hash: crypto.SHA1, mgfHash: crypto.SHA1, saltLen: 20}
	bad := malformed("RSASSA-PSS parameters")
	s := cryptobyte.String(params)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return p, bad
	}
	var el cryptobyte.String
	var has bool
	if !seq.ReadOptionalASN1(&el, &has, tagCtx0Cons) {
		return p, bad
	}
	if has {
		var a algID
		var ok bool
		if !readAlgID(&el, &a) {
			return p, bad
		}
		if p.hash, _, ok = digestByOID(a.oid); !ok {
			return p, fmt.Errorf("%w: RSA-PSS hash %s", errSigUnsupported, a.oid)
		}
	}
	if !seq.ReadOptionalASN1(&el, &has, tagCtx1Cons) {
		return p, bad
	}
	if has {
		var mgf, mh algID
		var ok bool
		if !readAlgID(&el, &mgf) || !mgf.oid.Equal(oidMGF1) {
			return p, fmt.Errorf("%w: RSA-PSS mask generation %s", errSigUnsupported, mgf.oid)
		}
		ps := cryptobyte.String(mgf.params)
		if !readAlgID(&ps, &mh) {
			return p, bad
		}
		if p.mgfHash, _, ok = digestByOID(mh.oid); !ok {
			return p, fmt.Errorf("%w: MGF1 hash %s", errSigUnsupported, mh.oid)
		}
	}
	if !seq.ReadOptionalASN1(&el, &has, tagCtx2Cons) {
		return p, bad
	}
	if has {
		var n int64
		if !el.ReadASN1Integer(&n) || n < 0 || n > 1024 {
			return p, bad
		}
		p.saltLen = int(n)
	}
	if !seq.ReadOptionalASN1(&el, &has, tagCtx3Cons) {
		return p, bad
	}
	if has {
		var n int64
		if !el.ReadASN1Integer(&n) || n != 1 {
			return p, fmt.Errorf("%w: RSA-PSS trailer field", errSigUnsupported)
		}
	}
	return p, nil
}

// signingHash picks the digest for a signer key: SHA-256, or the hash of
// matching strength for the larger NIST curves (RFC 5753 section 7.1.3,
// RFC 8551 section 2.1 leaves SHA-384/512 to the agent).
func signingHash(pub crypto.PublicKey) (crypto.Hash, asn1.ObjectIdentifier, string) {
	if k, ok := pub.(*ecdsa.PublicKey); ok {
		switch k.Curve {
		case elliptic.P384():
			return crypto.SHA384, oidSHA384, "sha-384"
		case elliptic.P521():
			return crypto.SHA512, oidSHA512, "sha-512"
		}
	}
	return crypto.SHA256, oidSHA256, "sha-256"
}

// smimeCapabilities is the DER of the SMIMECapabilities attribute value
// (RFC 8551 section 2.5.2): what we can decrypt, strongest first, so a
// correspondent picks AES-GCM and OAEP when it answers.
var smimeCapabilities = func() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, oid := range []asn1.ObjectIdentifier{oidAES256GCM, oidAES128GCM, oidAES256CBC, oidAES128CBC, oidRSAESOAEP, oidRSAEncryption} {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
		}
	})
	return b.BytesOrPanic()
}()

// signCMS makes a SignedData over content with github.com/smallstep/pkcs7,
// whose output OpenSSL 3 verifies for RSA and ECDSA. Only per-instance
// settings of the library are used (SetDigestAlgorithm), never its package
// globals, so concurrent calls are safe. With detached set the content is
// left out (RFC 5652 section 5.2: eContent absent).
func signCMS(content []byte, signer KeyPair, chain []*x509.Certificate, detached bool) ([]byte, string, error) {
	_, oid, micalg := signingHash(signer.Cert.PublicKey)
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, "", err
	}
	sd.SetDigestAlgorithm(oid)
	cfg := pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{
		{Type: oidAttrSMIMECapability, Value: asn1.RawValue{FullBytes: smimeCapabilities}},
	}}
	// AddSignerChain would re-verify the chain on every signature (an
	// RSA-3072 verification with our CA: 11% of a 10 KB Sign) and name
	// the issuer after chain[0]; AddSigner names it from the signer's own
	// issuer field, which is what the sid must match (RFC 5652 5.3), and
	// the chain goes in as plain certificates.
	if err := sd.AddSigner(signer.Cert, signer.Key, cfg); err != nil {
		return nil, "", err
	}
	for _, c := range chain {
		if c != nil && !bytes.Equal(c.Raw, signer.Cert.Raw) {
			sd.AddCertificate(c)
		}
	}
	if detached {
		sd.Detach()
	}
	der, err := sd.Finish()
	return der, micalg, err
}
