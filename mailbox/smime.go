package mailbox

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/emersion/go-message/textproto"

	"mssanted/certs"
	"mssanted/directory"
)

// SMIME is the S/MIME policy of the pipeline (reference.md, S/MIME; the
// US Direct Project's way): decrypt then verify on the way in, sign then
// encrypt on the way out.
type SMIME struct {
	Certs *certs.Registry
	// Roots are the anchors signers must chain to: the instance CA, the
	// trust space's CAs (tls.anchors).
	Roots *x509.CertPool
	// RejectInvalid says, per sender domain, whether a message from the
	// trust space whose signature does not verify is refused (5.7.x) or
	// stored and marked.
	RejectInvalid func(domain string) bool
	// Operator, when set, signs outbound mail whose sender has no mailbox
	// key, or all outbound mail when SignWithOperator is set.
	Operator         *certs.KeyPair
	SignWithOperator bool
	Cipher           certs.Cipher
	OAEP             bool
	// RequireEncryption says, per recipient domain, that mail must never
	// leave in clear: without a recipient certificate it bounces.
	RequireEncryption func(domain string) bool
}

// ErrEncryptionRequired: the recipient's domain requires encryption and
// its certificate is unknown.
var ErrEncryptionRequired = errors.New("encryption required and no certificate known for the recipient")

// smimeResult is what the pipeline records of S/MIME for one message.
type smimeResult struct {
	signed, verified, encrypted bool
	signer, problem             string
	evidence                    []byte
	header                      string // X-MSS-SMIME value
}

// isSMIME tells from the top-level Content-Type whether a message is
// S/MIME (RFC 8551 3.2, 3.5; x-pkcs7 is the old spelling).
func isSMIME(h *textproto.Header) bool {
	t, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return false
	}
	switch t {
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		return true
	case "multipart/signed":
		p := strings.ToLower(params["protocol"])
		return p == "application/pkcs7-signature" || p == "application/x-pkcs7-signature"
	}
	return false
}

// openSMIME decrypts and verifies a whole message for the local
// recipients of t. It returns the message to store and what was found, or
// a Refusal when the policy refuses it.
func (t *Transaction) openSMIME(ctx context.Context, full []byte) ([]byte, *smimeResult, error) {
	pol := t.p.SMIME
	var keys []certs.KeyPair
	for _, r := range t.rcpts {
		if r.account == nil {
			continue
		}
		c, k, err := pol.Certs.KeyPair(ctx, r.Address)
		if errors.Is(err, certs.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, certs.KeyPair{Cert: c, Key: k})
	}
	op, err := certs.Open(full, certs.OpenOptions{Keys: keys, Roots: pol.Roots,
		IsRevoked: func(c *x509.Certificate) (bool, error) { return pol.Certs.IsRevoked(ctx, c) }})
	res := &smimeResult{signed: op.Signed, verified: op.Verified, encrypted: op.Encrypted, problem: op.Problem, evidence: op.CMS}
	if op.Signer != nil {
		res.signer = op.Signer.Subject.CommonName
		if len(op.SignerAddresses) > 0 {
			res.signer += " <" + op.SignerAddresses[0] + ">"
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, certs.ErrNoKey):
		// Stored as it came, marked: a client holding the key can read it.
		res.encrypted = true
		if res.problem == "" {
			res.problem = certs.ProblemNoKey
		}
		res.evidence = nil
		op.Message = full
	default:
		if res.problem == "" {
			res.problem = certs.ProblemMalformed
		}
		op.Message = full
		res.evidence = nil
		if errors.Is(err, certs.ErrDecrypt) && t.rejects() {
			return nil, nil, refuse(550, 5, 7, 7, "Message chiffré altéré, refusé", "Encrypted message altered, refused: "+err.Error())
		}
	}
	if res.signed && !res.verified && t.rejects() {
		return nil, nil, refuse(550, 5, 7, 7, "Signature S/MIME refusée : "+res.problem, "S/MIME signature refused")
	}
	res.header = smimeHeader(op, res)
	return op.Message, res, nil
}

// rejects tells whether the policy refuses an invalid signature from this
// transaction's sender: only from the trust space (users of this instance
// are told by their own client).
func (t *Transaction) rejects() bool {
	return t.env.Door == MX && t.p.SMIME.RejectInvalid != nil && t.p.SMIME.RejectInvalid(directory.Domain(strings.ToLower(t.env.From)))
}

// smimeHeader renders the X-MSS-SMIME trace field.
func smimeHeader(op *certs.Opened, r *smimeResult) string {
	var parts []string
	if r.encrypted {
		e := "encrypted"
		if op.Cipher != "" {
			e += "=" + op.Cipher + "/" + op.KeyTransport
		}
		parts = append(parts, e)
	}
	if r.signed {
		if r.verified {
			parts = append(parts, "signed=verified")
		} else {
			parts = append(parts, "signed=invalid")
		}
		if r.signer != "" {
			parts = append(parts, "signer="+mime.QEncoding.Encode("utf-8", r.signer))
		}
		if op.Digest != "" {
			parts = append(parts, "digest="+op.Digest+"/"+op.SigAlg)
		}
	}
	if r.problem != "" {
		parts = append(parts, "problem="+mime.QEncoding.Encode("utf-8", r.problem))
	}
	return strings.Join(parts, "; ")
}

// Seal prepares a message for another operator: signed with the sender's
// mailbox certificate (or the operator's), then encrypted to the
// recipient's certificate when the directory holds one. A message the
// client already encrypted or signed opaquely goes as it is; one it
// already signed is only encrypted.
func (p *Pipeline) Seal(ctx context.Context, from, rcpt string, raw []byte) ([]byte, error) {
	pol := p.SMIME
	if pol == nil {
		return raw, nil
	}
	hdr, err := textproto.ReadHeader(bufioReader(raw))
	if err != nil {
		return nil, fmt.Errorf("mailbox: seal: %w", err)
	}
	t, params, _ := mime.ParseMediaType(hdr.Get("Content-Type"))
	if t == "application/pkcs7-mime" || t == "application/x-pkcs7-mime" {
		return raw, nil
	}
	out := raw
	if !(t == "multipart/signed" && strings.Contains(strings.ToLower(params["protocol"]), "pkcs7-signature")) {
		signer, err := p.signer(ctx, from)
		if err != nil {
			return nil, err
		}
		if signer != nil {
			if out, err = certs.Sign(raw, *signer, nil); err != nil {
				return nil, fmt.Errorf("mailbox: sign: %w", err)
			}
		}
	}
	cert, err := pol.Certs.EncryptionCert(ctx, rcpt)
	if errors.Is(err, certs.ErrNotFound) {
		if pol.RequireEncryption != nil && pol.RequireEncryption(directory.Domain(strings.ToLower(rcpt))) {
			return nil, fmt.Errorf("%w: %s", ErrEncryptionRequired, rcpt)
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	sealed, err := certs.Encrypt(out, []*x509.Certificate{cert}, certs.EncryptOptions{Cipher: pol.Cipher, OAEP: pol.OAEP})
	if err != nil {
		return nil, fmt.Errorf("mailbox: encrypt: %w", err)
	}
	return sealed, nil
}

func (p *Pipeline) signer(ctx context.Context, from string) (*certs.KeyPair, error) {
	pol := p.SMIME
	if !pol.SignWithOperator && from != "" {
		c, k, err := pol.Certs.KeyPair(ctx, from)
		if err == nil {
			return &certs.KeyPair{Cert: c, Key: k}, nil
		}
		if !errors.Is(err, certs.ErrNotFound) {
			return nil, err
		}
	}
	return pol.Operator, nil
}
