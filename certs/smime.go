package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// S/MIME 4.0 (RFC 8551) for the gateway, the way the US Direct Project
// applies it: sign then encrypt on the way out, decrypt then verify on the
// way in. Signatures use SHA-256 (SHA-384/512 for the larger curves);
// SHA-1 is accepted on input only. Content is encrypted with AES-256-GCM
// in AuthEnvelopedData (RFC 5083, the MUST of RFC 8551 section 2.7) or,
// for older correspondents, AES-CBC in EnvelopedData. Keys are RSA 2048+
// (PKCS #1 v1.5 or OAEP key transport) or ECDSA/ECDH on the NIST curves.
//
// The CMS pieces live in cms_*.go; this file is the API the delivery
// pipeline calls and the verification policy.

// Bounds on what Open accepts: a hostile message must not cost more than a
// legitimate large one.
const (
	// MaxMessageSize is the largest message Open, Sign and Encrypt take.
	MaxMessageSize = 50 << 20
	// MaxNesting is the number of S/MIME layers Open unwraps (a triple
	// wrap, RFC 2634 section 1.1: sign, encrypt, sign).
	MaxNesting = 3
)

// Errors of Open, Sign and Encrypt. Test them with errors.Is; the
// returned errors carry details (the algorithm OID, the recipient…).
var (
	// ErrNoKey: the message is encrypted, but for none of the keys given.
	// Store it as received, marked.
	ErrNoKey = errors.New("certs: S/MIME: encrypted for a key we do not hold")
	// ErrMalformed: the S/MIME structure or the CMS inside is invalid.
	ErrMalformed = errors.New("certs: S/MIME: malformed")
	// ErrDecrypt (which is also ErrMalformed): the message names one of
	// our keys but does not decrypt with it, or fails its integrity check.
	ErrDecrypt = fmt.Errorf("%w: decryption failed", ErrMalformed)
	// ErrUnsupported: a well-formed message or certificate uses an
	// algorithm this package does not implement; the error names its OID.
	ErrUnsupported = errors.New("certs: S/MIME: unsupported")
	// ErrTooLarge: the message exceeds MaxMessageSize.
	ErrTooLarge = errors.New("certs: S/MIME: message too large")
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Problems reported in Opened.Problem, for a person: French, then English.
// Some are followed by a technical detail in parentheses.
const (
	ProblemContentAltered  = "signature invalide : contenu modifié / invalid signature: content altered"
	ProblemBadSignature    = "signature invalide / invalid signature"
	ProblemNoSignerCert    = "certificat du signataire absent / signer certificate missing"
	ProblemUnsupportedAlg  = "algorithme non pris en charge / unsupported algorithm"
	ProblemExpired         = "certificat expiré / certificate expired"
	ProblemNotYetValid     = "certificat pas encore valide / certificate not yet valid"
	ProblemWeakKey         = "clé du signataire trop faible / signer key too weak"
	ProblemNotForEmail     = "certificat non prévu pour la messagerie / certificate not valid for e-mail protection"
	ProblemUntrusted       = "autorité de certification inconnue / certificate not issued by a trusted authority"
	ProblemChain           = "chaîne de certification invalide / invalid certificate chain"
	ProblemRevoked         = "certificat révoqué / certificate revoked"
	ProblemRevocationCheck = "révocation non vérifiable / revocation status unknown"
	ProblemSignerMismatch  = "signataire différent de l'expéditeur / signer does not match From"
	ProblemNoKey           = "message chiffré pour une autre clé / encrypted for a key we do not hold"
	ProblemDecrypt         = "déchiffrement impossible : message altéré / decryption failed: message altered"
	ProblemMalformed       = "S/MIME mal formé / malformed S/MIME"
	ProblemTooLarge        = "message trop volumineux / message too large"
)

// KeyPair is a certificate with its private key: a local mailbox's, to
// sign with and to decrypt for. Key is a crypto.Signer (as
// Registry.KeyPair returns it); RSA keys must also be crypto.Decrypter
// (*rsa.PrivateKey is) and EC keys *ecdsa.PrivateKey to decrypt.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// OpenOptions are what Open verifies and decrypts with.
type OpenOptions struct {
	// Keys of the local recipients: any of them may decrypt.
	Keys []KeyPair
	// Roots are the trust anchors signers must chain to (IGC-Santé, the
	// instance CA, the other operators' CAs). Nil trusts nobody: every
	// signature is then reported unverified.
	Roots *x509.CertPool
	// Intermediates help build chains, with the certificates the
	// message itself carries.
	Intermediates []*x509.Certificate
	// IsRevoked is asked about the signer and each intermediate of its
	// chain (not the anchor). An error fails verification: a status that
	// cannot be checked is not "good". Nil skips revocation checking.
	IsRevoked func(*x509.Certificate) (bool, error)
	// Now is the time certificates must be valid at; zero means now.
	Now time.Time
}

// Opened is what Open found.
type Opened struct {
	// Message is the message to store: the outer RFC 5322 header then
	// the decrypted inner entity. A multipart/signed entity is kept byte
	// for byte as received, so that mail clients can verify it again; an
	// opaque signed-data is replaced by its content. When the message is
	// not S/MIME or Open fails, Message is the input.
	Message []byte

	Encrypted    bool
	Cipher       string // "aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-128-cbc"…
	KeyTransport string // "rsa-oaep", "rsa-pkcs1v15" or "ecdh"
	DecryptedFor string // address of the certificate whose key decrypted it

	Signed          bool
	Verified        bool // signature, certificate and sender all checked out
	Signer          *x509.Certificate
	SignerAddresses []string
	Digest          string    // "sha-256"…
	SigAlg          string    // "rsa-pkcs1v15", "rsa-pss", "ecdsa" or "ed25519"
	SigningTime     time.Time // the signer's claim (signed attribute); zero if absent

	// Problem says, for a person, why verification or decryption failed
	// (one of the Problem constants, sometimes with a detail appended);
	// empty when all is well.
	Problem string
	// CMS is the outermost S/MIME object (application/pkcs7-mime:
	// encrypted or opaque-signed), DER or BER as received, kept as
	// evidence. Nil for a message only signed with multipart/signed, whose
	// signature stays inside Message.
	CMS []byte
}

// Open decrypts and verifies an S/MIME message (RFC 8551): multipart/signed
// and application/pkcs7-mime signed-data, enveloped-data and
// authEnveloped-data, nested up to MaxNesting layers, decrypting before
// verifying. A message that is not S/MIME is returned as is with Signed
// and Encrypted false and no error.
//
// The returned *Opened is never nil, even with an error: ErrNoKey (store
// the message as received, marked), ErrMalformed (ErrDecrypt among them),
// ErrUnsupported, ErrTooLarge. A signature that fails verification is not
// an error: Signed is true, Verified false and Problem says which rule
// failed. Open never panics.
func Open(raw []byte, o OpenOptions) (res *Opened, err error) {
	if len(raw) > MaxMessageSize {
		return &Opened{Message: raw, Problem: ProblemTooLarge},
			fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(raw), MaxMessageSize)
	}
	// Every parser below is bounded and fuzzed; this is the last line of
	// defence for the delivery pipeline, which must not crash on one
	// hostile message. The fuzz targets call open directly.
	defer func() {
		if r := recover(); r != nil {
			res = &Opened{Message: raw, Problem: ProblemMalformed}
			err = fmt.Errorf("%w: internal error: %v", ErrMalformed, r)
		}
	}()
	return open(raw, o)
}

func open(raw []byte, o OpenOptions) (*Opened, error) {
	res := &Opened{Message: raw}
	top := parseEntity(raw)
	if smimeKind(top) == kindNone {
		return res, nil
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	op := &opener{o: o, res: res, from: fromAddresses(top), verified: true}
	stored, err := op.entity(top, 0)
	if err != nil {
		res.Message = raw
		res.Verified = false
		if res.Problem == "" {
			res.Problem = problemFor(err)
		}
		return res, err
	}
	res.Verified = res.Signed && op.verified
	if !sameSlice(stored, raw) {
		res.Message = joinOuter(top, stored)
	}
	return res, nil
}

type smimeType int

const (
	kindNone smimeType = iota
	kindSigned
	kindCMS
)

// smimeKind classifies an entity by its Content-Type (RFC 8551 section
// 3.2, with the x- types of older agents, and the .p7m octet-stream of
// section 3.2.1).
func smimeKind(e *entity) smimeType {
	mt, params := e.mediaType()
	switch mt {
	case "multipart/signed":
		switch strings.ToLower(params["protocol"]) {
		case "", "application/pkcs7-signature", "application/x-pkcs7-signature":
			return kindSigned
		}
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		return kindCMS
	case "application/octet-stream":
		name := params["name"]
		if d := e.get("Content-Disposition"); d != "" {
			if fn := looseParams(d)["filename"]; fn != "" {
				name = fn
			}
		}
		if strings.HasSuffix(strings.ToLower(name), ".p7m") {
			return kindCMS
		}
	}
	return kindNone
}

type opener struct {
	o        OpenOptions
	res      *Opened
	from     []string
	verified bool // no signature layer failed
}

// entity unwraps one S/MIME layer of ent and recurses into what it holds;
// it returns the entity to store.
func (op *opener) entity(ent *entity, depth int) ([]byte, error) {
	e := ent.raw
	kind := smimeKind(ent)
	if kind == kindNone {
		return e, nil
	}
	if depth >= MaxNesting {
		return nil, malformed("more than %d nested S/MIME layers", MaxNesting)
	}
	mt, params := ent.mediaType()

	if kind == kindSigned {
		body := ent.body()
		parts, _ := splitMultipart(body, params["boundary"], 2)
		if len(parts) < 2 {
			return nil, malformed("multipart/signed with %d parts", len(parts))
		}
		signed := body[parts[0].start:parts[0].end]
		der, err := parseEntity(body[parts[1].start:parts[1].end]).decodedBody()
		if err != nil {
			return nil, malformed("signature part body: %v", err)
		}
		ci, err := parseContentInfo(der)
		if err != nil {
			return nil, err
		}
		if !ci.typ.Equal(oidSignedData) {
			return nil, malformed("signature part holds %s, not signed-data", ci.typ)
		}
		sd, err := parseSignedData(ci.content)
		if err != nil {
			return nil, err
		}
		if len(sd.signers) == 0 {
			return nil, malformed("signature part without signer")
		}
		// A detached signature covers the first part exactly (RFC 1847
		// section 2.1); eContent, if a confused agent included it, is
		// ignored.
		op.verify(sd, signed, true)
		if inner := parseEntity(signed); smimeKind(inner) != kindNone {
			return op.entity(inner, depth+1) // encrypted, then signed
		}
		return e, nil
	}

	der, err := ent.decodedBody()
	var ci *contentInfo
	if err == nil {
		ci, err = parseContentInfo(der)
	}
	if err != nil {
		if mt == "application/octet-stream" {
			return e, nil // a file that happens to be named .p7m
		}
		if errors.Is(err, ErrMalformed) {
			return nil, err
		}
		return nil, malformed("application/pkcs7-mime body: %v", err)
	}
	if op.res.CMS == nil {
		op.res.CMS = der
	}
	switch {
	case ci.typ.Equal(oidSignedData):
		sd, err := parseSignedData(ci.content)
		if err != nil {
			return nil, err
		}
		if len(sd.signers) == 0 {
			// certs-only (RFC 8551 section 3.6): a certificate transfer,
			// neither signed nor encrypted.
			return e, nil
		}
		if !sd.attached {
			return nil, malformed("signed-data without content")
		}
		op.verify(sd, sd.content, false)
		return op.entity(parseEntity(sd.content), depth+1)

	case ci.typ.Equal(oidEnvelopedData), ci.typ.Equal(oidAuthEnvelopedData):
		op.res.Encrypted = true
		env, err := parseEnvelope(ci.content, ci.typ.Equal(oidAuthEnvelopedData))
		if err != nil {
			return nil, err
		}
		d, err := env.decrypt(op.o.Keys)
		if d != nil {
			op.res.Cipher = d.cipher
		}
		if err != nil {
			return nil, err
		}
		op.res.KeyTransport = d.transport
		if addrs := certAddresses(d.recipient); len(addrs) > 0 {
			op.res.DecryptedFor = addrs[0]
		}
		return op.entity(parseEntity(d.plaintext), depth+1)

	case ci.typ.Equal(oidCompressedData):
		return nil, fmt.Errorf("%w: compressed-data (RFC 3274) %s", ErrUnsupported, ci.typ)
	}
	return nil, fmt.Errorf("%w: CMS content type %s", ErrUnsupported, ci.typ)
}

// signerOutcome is the verdict on one SignerInfo.
type signerOutcome struct {
	cert    *x509.Certificate
	r       sigResult
	problem string
}

// verify applies the rules to each signer of sd until one passes them all.
// The innermost signature layer is the one reported (the author's, under a
// triple wrap); any failing layer makes the message unverified.
func (op *opener) verify(sd *signedData, content []byte, detached bool) {
	op.res.Signed = true
	first := &signerOutcome{problem: ProblemNoSignerCert}
	for i := range sd.signers {
		out := op.checkSigner(sd, &sd.signers[i], content, detached)
		if out.problem == "" {
			op.record(out)
			return
		}
		if i == 0 {
			first = out
		}
	}
	op.record(first)
	op.verified = false
	if op.res.Problem == "" {
		op.res.Problem = first.problem
	}
}

func (op *opener) record(out *signerOutcome) {
	op.res.Signer = out.cert
	op.res.SignerAddresses = certAddresses(out.cert)
	op.res.Digest = out.r.digest
	op.res.SigAlg = out.r.sigAlg
	op.res.SigningTime = out.r.signingTime
}

func (op *opener) checkSigner(sd *signedData, si *signerInfo, content []byte, detached bool) *signerOutcome {
	out := &signerOutcome{}
	for _, set := range [][]*x509.Certificate{sd.certs, op.o.Intermediates} {
		for _, c := range set {
			if out.cert == nil && si.sid.matches(c) {
				out.cert = c
			}
		}
	}
	if out.cert == nil {
		out.problem = ProblemNoSignerCert
		return out
	}
	r := si.check(sd, content, out.cert)
	if errors.Is(r.err, errSigAltered) && detached && hasBareLF(content) {
		// Signed in canonical form (CRLF, RFC 8551 section 3.1.1), then
		// stored with bare LF by some relay or tool: check the canonical
		// form too. The stored bytes stay as received.
		if r2 := si.check(sd, canonicalCRLF(content), out.cert); r2.err == nil {
			r = r2
		}
	}
	out.r = r
	switch {
	case r.err == nil:
		out.problem = op.checkCert(out.cert, sd.certs)
	case errors.Is(r.err, errSigAltered):
		out.problem = ProblemContentAltered
	case errors.Is(r.err, errSigUnsupported):
		out.problem = fmt.Sprintf("%s (%v)", ProblemUnsupportedAlg, r.err)
	case errors.Is(r.err, errSigInvalid):
		out.problem = ProblemBadSignature
	default:
		out.problem = fmt.Sprintf("%s (%v)", ProblemMalformed, r.err)
	}
	return out
}

// checkCert applies the certificate rules to a signer whose signature is
// good, in the order a person would ask: is the certificate valid today,
// fit for e-mail, from an authority we trust, not revoked, and the
// sender's own?
func (op *opener) checkCert(cert *x509.Certificate, carried []*x509.Certificate) string {
	now := op.o.Now
	switch {
	case now.After(cert.NotAfter):
		return ProblemExpired
	case now.Before(cert.NotBefore):
		return ProblemNotYetValid
	}
	if k, ok := cert.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
		return ProblemWeakKey
	}
	if !fitForEmail(cert) {
		return ProblemNotForEmail
	}
	if op.o.Roots == nil {
		return ProblemUntrusted + " (aucune ancre de confiance / no trust anchors configured)"
	}
	pool := x509.NewCertPool()
	for _, c := range op.o.Intermediates {
		pool.AddCert(c)
	}
	for _, c := range carried {
		pool.AddCert(c)
	}
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots:         op.o.Roots,
		Intermediates: pool,
		CurrentTime:   now,
		// x509 also enforces EKU nesting up the chain (an intermediate
		// limited to TLS cannot vouch for a mailbox).
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	})
	if err != nil {
		var ua x509.UnknownAuthorityError
		var ci x509.CertificateInvalidError
		switch {
		case errors.As(err, &ua):
			return ProblemUntrusted
		case errors.As(err, &ci) && ci.Reason == x509.IncompatibleUsage:
			return ProblemNotForEmail
		}
		return fmt.Sprintf("%s (%v)", ProblemChain, err)
	}
	if op.o.IsRevoked != nil {
		chain := chains[0]
		for _, c := range chain[:len(chain)-1] { // the anchor is trusted by configuration
			revoked, err := op.o.IsRevoked(c)
			if err != nil {
				return fmt.Sprintf("%s (%v)", ProblemRevocationCheck, err)
			}
			if revoked {
				return ProblemRevoked
			}
		}
	}
	// RFC 8550 section 3: the sender's address must be in the signer's
	// certificate, or anyone trusted could sign in anyone's name.
	for _, a := range certAddresses(cert) {
		for _, f := range op.from {
			if strings.EqualFold(a, f) {
				return ""
			}
		}
	}
	return ProblemSignerMismatch
}

// fitForEmail: emailProtection among the extended key usages, or no EKU
// at all (RFC 8550 section 4.4.4; anyExtendedKeyUsage alone is refused as
// OpenSSL's smimesign purpose does), and a key usage, if any, that allows
// signing (section 4.4.2).
func fitForEmail(c *x509.Certificate) bool {
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return false
	}
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageEmailProtection {
			return true
		}
	}
	return false
}

// certAddresses lists the mail addresses of c: subjectAltName rfc822Name
// first, then the legacy emailAddress attribute of the subject (RFC 8550
// section 3 asks receivers to look at both).
func certAddresses(c *x509.Certificate) []string {
	if c == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(a string) {
		if k := strings.ToLower(a); a != "" && !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	for _, a := range c.EmailAddresses {
		add(a)
	}
	for _, atv := range c.Subject.Names {
		if atv.Type.Equal(oidEmailAddress) {
			if s, ok := atv.Value.(string); ok {
				add(s)
			}
		}
	}
	return out
}

func problemFor(err error) string {
	switch {
	case errors.Is(err, ErrNoKey):
		return ProblemNoKey
	case errors.Is(err, ErrDecrypt):
		return ProblemDecrypt
	case errors.Is(err, ErrUnsupported):
		return fmt.Sprintf("%s (%v)", ProblemUnsupportedAlg, err)
	case errors.Is(err, ErrTooLarge):
		return ProblemTooLarge
	}
	return ProblemMalformed
}

func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// joinOuter puts the message header of top (all but the Content-* fields,
// which described the S/MIME wrapper) in front of the unwrapped entity.
func joinOuter(top *entity, inner []byte) []byte {
	in := parseEntity(inner)
	innerMIMEVersion := in.has("MIME-Version")
	out := make([]byte, 0, top.bodyStart+len(inner)+2)
	for _, f := range top.fields {
		if isContentField(f.name) || (innerMIMEVersion && strings.EqualFold(f.name, "MIME-Version")) {
			continue
		}
		out = append(out, top.raw[f.start:f.end]...)
		if !bytes.HasSuffix(top.raw[f.start:f.end], []byte("\n")) {
			out = append(out, '\r', '\n')
		}
	}
	if len(in.fields) == 0 && in.bodyStart == 0 {
		out = append(out, '\r', '\n') // content without header: keep it the body
	}
	return append(out, inner...)
}

// Cipher names a content-encryption algorithm for Encrypt.
type Cipher string

// The ciphers Encrypt offers. GCM goes in AuthEnvelopedData (RFC 5083,
// RFC 5084); CBC in EnvelopedData, for correspondents without GCM.
const (
	AES256GCM Cipher = "aes-256-gcm"
	AES128GCM Cipher = "aes-128-gcm"
	AES256CBC Cipher = "aes-256-cbc"
	AES128CBC Cipher = "aes-128-cbc"
)

// EncryptOptions choose the algorithms of Encrypt.
type EncryptOptions struct {
	Cipher Cipher // "" means AES256GCM
	// OAEP: RSA recipients get RSAES-OAEP with SHA-256 (RFC 8551 section
	// 2.3 prefers it) instead of PKCS #1 v1.5. EC recipients always get
	// ECDH (RFC 5753).
	OAEP bool
}

// Sign signs the MIME entity of raw (its Content-* fields and body) with a
// detached SHA-256 signature (RFC 8551 section 3.5) and returns the
// message as multipart/signed; protocol="application/pkcs7-signature";
// micalg=sha-256. The other header fields (From, To, Subject, Date,
// Message-ID…) stay outside, unchanged but for CRLF line endings. The
// entity is canonicalised to CRLF and its 8-bit parts re-encoded as
// quoted-printable or base64 first, so no relay needs to touch it. chain
// holds the certificates above the signer's to include (its CA…).
func Sign(raw []byte, signer KeyPair, chain []*x509.Certificate) ([]byte, error) {
	if err := checkSignerKey(signer); err != nil {
		return nil, err
	}
	outer, ent, err := prepare(raw, true)
	if err != nil {
		return nil, err
	}
	der, micalg, err := signCMS(ent, signer, chain, true)
	if err != nil {
		return nil, fmt.Errorf("certs: sign: %w", err)
	}
	boundary, err := newBoundary(ent)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(outer) + len(ent) + base64Len(len(der)) + 512)
	b.Write(outer)
	b.WriteString("MIME-Version: 1.0\r\n")
	fmt.Fprintf(&b, "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n\tmicalg=%s; boundary=\"%s\"\r\n\r\n", micalg, boundary)
	b.WriteString("This is an S/MIME signed message\r\n\r\n")
	fmt.Fprintf(&b, "--%s\r\n", boundary)
	b.Write(ent)
	fmt.Fprintf(&b, "\r\n--%s\r\n", boundary)
	b.WriteString("Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n")
	b.Write(appendBase64(b.AvailableBuffer(), der))
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes(), nil
}

// SignOpaque is Sign with the entity inside the signature: an
// application/pkcs7-mime; smime-type=signed-data message (RFC 8551
// section 3.5.2), for correspondents whose relays damage multipart/signed.
// Only S/MIME agents can read it.
func SignOpaque(raw []byte, signer KeyPair, chain []*x509.Certificate) ([]byte, error) {
	if err := checkSignerKey(signer); err != nil {
		return nil, err
	}
	outer, ent, err := prepare(raw, true)
	if err != nil {
		return nil, err
	}
	der, _, err := signCMS(ent, signer, chain, false)
	if err != nil {
		return nil, fmt.Errorf("certs: sign: %w", err)
	}
	return pkcs7MIME(outer, "signed-data", der), nil
}

// Encrypt encrypts the MIME entity of raw (typically the output of Sign)
// for recipients and returns the message as application/pkcs7-mime;
// smime-type=authEnveloped-data (GCM) or enveloped-data (CBC);
// name=smime.p7m, base64. The other header fields stay outside in clear,
// the Subject included: keep it free of health data. Include the sender's
// own certificate in recipients to keep a readable copy.
func Encrypt(raw []byte, recipients []*x509.Certificate, o EncryptOptions) ([]byte, error) {
	cc, err := cipherByName(o.Cipher)
	if err != nil {
		return nil, err
	}
	outer, ent, err := prepare(raw, false)
	if err != nil {
		return nil, err
	}
	der, err := encryptCMS(ent, recipients, o)
	if err != nil {
		return nil, err
	}
	typ := "enveloped-data"
	if cc.gcm {
		typ = "authEnveloped-data" // RFC 8551 section 3.2.2
	}
	return pkcs7MIME(outer, typ, der), nil
}

func pkcs7MIME(outer []byte, smimeType string, der []byte) []byte {
	head := "MIME-Version: 1.0\r\n" +
		"Content-Type: application/pkcs7-mime; smime-type=" + smimeType + "; name=\"smime.p7m\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n"
	out := make([]byte, 0, len(outer)+len(head)+base64Len(len(der)))
	out = append(append(out, outer...), head...)
	return appendBase64(out, der)
}

// checkSignerKey refuses what RFC 8551 section 2.2 and the trust space do
// not accept: RSA under 2048 bits, keys other than RSA and ECDSA on the
// NIST curves, a key that is not the certificate's.
func checkSignerKey(s KeyPair) error {
	if s.Cert == nil || s.Key == nil {
		return errors.New("certs: sign: no certificate or key")
	}
	if !publicKeyMatches(s.Cert, s.Key) {
		return errors.New("certs: sign: the key does not match the certificate")
	}
	switch k := s.Cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("%w: RSA key of %d bits (2048 at least)", ErrUnsupported, k.N.BitLen())
		}
	case *ecdsa.PublicKey:
	default:
		return fmt.Errorf("%w: signing with a %s key", ErrUnsupported, spkiAlgorithm(s.Cert))
	}
	return nil
}

// prepare splits raw into the message header fields that stay outside
// (CRLF) and the MIME entity to protect, in canonical form. sevenBitSafe
// re-encodes 8-bit parts (for signing: the entity may travel in clear).
func prepare(raw []byte, sevenBitSafe bool) (outer, ent []byte, err error) {
	if len(raw) > MaxMessageSize {
		return nil, nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(raw), MaxMessageSize)
	}
	e := parseEntity(raw)
	var content []byte
	hasType := false
	for _, f := range e.fields {
		line := raw[f.start:f.end]
		if !bytes.HasSuffix(line, []byte("\n")) {
			line = append(append([]byte{}, line...), '\r', '\n')
		}
		switch {
		case isContentField(f.name):
			content = append(content, line...)
			hasType = hasType || strings.EqualFold(f.name, "Content-Type")
		case strings.EqualFold(f.name, "MIME-Version"):
		default:
			outer = append(outer, line...)
		}
	}
	body := e.body()
	if !hasType {
		// Explicit rather than the RFC 2045 default, so the signed part
		// says what it is on its own.
		cs := "us-ascii"
		if needsEncoding(body) {
			cs = "utf-8"
		}
		content = append([]byte("Content-Type: text/plain; charset="+cs+"\r\n"), content...)
	}
	ent = make([]byte, 0, len(content)+2+len(body))
	ent = append(append(append(ent, content...), '\r', '\n'), body...)
	if sevenBitSafe {
		ent = sevenBit(ent, 0)
	}
	// A binary body (only possible when encrypting) must not gain CRs.
	if !strings.EqualFold(parseEntity(ent).get("Content-Transfer-Encoding"), "binary") {
		ent = canonicalCRLF(ent)
	}
	return canonicalCRLF(outer), ent, nil
}

// newBoundary returns a random boundary absent from ent (RFC 2046
// section 5.1.1).
func newBoundary(ent []byte) (string, error) {
	for {
		var r [16]byte
		if _, err := rand.Read(r[:]); err != nil {
			return "", err
		}
		b := "----=_smime_" + hex.EncodeToString(r[:])
		if !bytes.Contains(ent, []byte(b)) {
			return b, nil
		}
	}
}
