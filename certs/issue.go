package certs

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net"
	"net/mail"
	"strings"
	"time"
)

// Kinds of certificate, as stored in the certificates table.
const (
	KindTLS      = "tls"
	KindSMIME    = "smime"
	KindOperator = "operator"
)

// Issued is a freshly issued certificate with its private key, not yet
// recorded anywhere: the caller passes it to Registry.Record.
type Issued struct {
	Cert    *x509.Certificate
	Key     *rsa.PrivateKey
	CertPEM []byte
	KeyPEM  []byte // PKCS #8
	Kind    string // KindTLS, KindSMIME or KindOperator
}

// Serial is the certificate's serial number as the registry names it:
// lowercase hexadecimal without leading zeros.
func (i *Issued) Serial() string { return SerialString(i.Cert.SerialNumber) }

// SerialString formats a serial number the way the registry stores it.
func SerialString(n *big.Int) string { return n.Text(16) }

// IssueMailbox issues the S/MIME certificate of a mailbox: the address as an
// rfc822Name in subjectAltName (where RFC 5280 and S/MIME agents look for it;
// it is deliberately not repeated as a deprecated emailAddress attribute of
// the subject), displayName as the common name, usable to sign (with
// non-repudiation) and to receive encrypted mail, valid three years.
func (a *Authority) IssueMailbox(address, displayName string) (*Issued, error) {
	address = strings.TrimSpace(address)
	if err := checkAddress(address); err != nil {
		return nil, err
	}
	cn := strings.TrimSpace(displayName)
	if cn == "" {
		cn = address
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		Subject:        a.subject(cn),
		NotBefore:      now.Add(-backdate),
		NotAfter:       now.Add(-backdate).AddDate(mailboxYrs, 0, 0),
		EmailAddresses: []string{address},
		KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageContentCommitment,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	return a.issue(tmpl, KindSMIME)
}

// IssueTLS issues a server certificate for hosts: DNS names, and IP
// addresses for the entries that parse as one; localhost and 127.0.0.1 are
// always added so that local tools and tests can connect. It carries both
// serverAuth and clientAuth because the same certificate authenticates this
// instance as a client of the other operators (mutual TLS between
// operators). The common name is the first DNS name given.
func (a *Authority) IssueTLS(hosts []string) (*Issued, error) {
	var dns []string
	var ips []net.IP
	seen := map[string]bool{}
	for _, h := range append(append([]string{}, hosts...), "localhost", "127.0.0.1") {
		h = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, h)
		}
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		Subject:     a.subject(dns[0]),
		NotBefore:   now.Add(-backdate),
		NotAfter:    now.Add(-backdate).Add(tlsValidity),
		DNSNames:    dns,
		IPAddresses: ips,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	return a.issue(tmpl, KindTLS)
}

// subject is CN=cn, O=the CA's organisation.
func (a *Authority) subject(cn string) pkix.Name {
	n := pkix.Name{CommonName: cn}
	if a.org != "" {
		n.Organization = []string{a.org}
	}
	return n
}

// issue completes tmpl with a fresh key, serial and key identifier, signs it
// with the CA and returns the result.
func (a *Authority) issue(tmpl *x509.Certificate, kind string) (*Issued, error) {
	key, err := rsa.GenerateKey(rand.Reader, leafKeyBits)
	if err != nil {
		return nil, fmt.Errorf("certs: key: %w", err)
	}
	if tmpl.SerialNumber, err = randomSerial(); err != nil {
		return nil, err
	}
	if tmpl.SubjectKeyId, err = subjectKeyID(&key.PublicKey); err != nil {
		return nil, err
	}
	tmpl.SignatureAlgorithm = x509.SHA256WithRSA
	tmpl.BasicConstraintsValid = true
	tmpl.NotBefore = tmpl.NotBefore.UTC().Truncate(time.Second)
	tmpl.NotAfter = tmpl.NotAfter.UTC().Truncate(time.Second)
	// A leaf never outlives its issuer: it would fail to verify anyway.
	if tmpl.NotAfter.After(a.cert.NotAfter) {
		tmpl.NotAfter = a.cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, fmt.Errorf("certs: issue %s: %w", kind, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: issue %s: %w", kind, err)
	}
	kp, err := keyPEM(key)
	if err != nil {
		return nil, err
	}
	return &Issued{Cert: cert, Key: key, CertPEM: certPEM(cert), KeyPEM: kp, Kind: kind}, nil
}

// randomSerial returns a positive 128-bit random serial number: unique
// without coordination, and unpredictable as the CA/Browser rules ask.
func randomSerial() (*big.Int, error) {
	for {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("certs: serial: %w", err)
		}
		if n := new(big.Int).SetBytes(b[:]); n.Sign() > 0 {
			return n, nil
		}
	}
}

// subjectKeyID is the truncated SHA-256 of the subjectPublicKey bits
// (RFC 7093, method 1). Go sets it on CAs only; leaves get one too because
// CMS may name a recipient or signer by it instead of issuer and serial.
func subjectKeyID(pub *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("certs: key id: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("certs: key id: %w", err)
	}
	sum := sha256.Sum256(spki.PublicKey.Bytes)
	return sum[:20], nil
}

// checkAddress accepts a bare ASCII mail address: an rfc822Name is an
// IA5String, and a display name or angle brackets have no place in it.
func checkAddress(address string) error {
	p, err := mail.ParseAddress(address)
	if err != nil || p.Name != "" || p.Address != address {
		return fmt.Errorf("certs: %q is not a bare mail address", address)
	}
	for _, r := range address {
		if r > 0x7e || r < 0x21 {
			return fmt.Errorf("certs: %q: only ASCII addresses fit in a certificate", address)
		}
	}
	return nil
}
