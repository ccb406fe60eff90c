package certs

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"time"
)

// LoadAnchors reads the trust anchors in the PEM files at paths (the
// IGC-Santé roots, other operators' CAs). A file may hold several
// certificates, and blocks other than CERTIFICATE are skipped; a file with
// no certificate at all is an error naming it, as it is surely a wrong path
// or a DER file, and silently trusting nothing from it would be confusing.
func LoadAnchors(paths ...string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("certs: anchors: %w", err)
		}
		n := 0
		for {
			var b *pem.Block
			b, data = pem.Decode(data)
			if b == nil {
				break
			}
			if b.Type != pemCertificate {
				continue
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certs: anchors: %s: certificate %d: %w", p, n+1, err)
			}
			out = append(out, c)
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("certs: anchors: %s: no PEM CERTIFICATE block", p)
		}
	}
	return out, nil
}

// Pool returns a new pool holding certs.
func Pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// VerifyMailbox checks that cert chains to one of roots (through
// intermediates, e.g. those a signed message carries), is valid at at (now
// if zero), and may protect e-mail (extended key usage emailProtection).
// Matching the certificate's address with a message's sender is the
// caller's business.
func VerifyMailbox(cert *x509.Certificate, roots *x509.CertPool, at time.Time, intermediates ...*x509.Certificate) error {
	if roots == nil {
		// x509 would fall back to the system roots, which have no say in
		// who may send health data.
		return fmt.Errorf("certs: verify %s: no trust anchors", cert.Subject)
	}
	opts := x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: at,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	if len(intermediates) > 0 {
		opts.Intermediates = Pool(intermediates...)
	}
	if _, err := cert.Verify(opts); err != nil {
		return fmt.Errorf("certs: verify %s: %w", cert.Subject, err)
	}
	return nil
}
