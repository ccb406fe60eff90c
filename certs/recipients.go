package certs

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"mssanted/db"
)

// ImportRecipient records the certificate of a remote mailbox, read from
// PEM, so that mail to it is encrypted. The certificate must name the
// address (SAN rfc822Name or subject emailAddress), carry the
// emailProtection EKU (or none), and chain to roots when roots is not nil.
// Importing the same certificate again changes nothing.
func (r *Registry) ImportRecipient(ctx context.Context, address string, pemData []byte, roots *x509.CertPool, source string) (*x509.Certificate, error) {
	address = strings.ToLower(strings.TrimSpace(address))
	c, err := parseCertPEM(pemData)
	if err != nil {
		return nil, fmt.Errorf("certs: %w: %v", ErrInvalidCert, err)
	}
	if !hasAddress(c, address) {
		return nil, fmt.Errorf("certs: %w: the certificate does not name %s (it names %v)", ErrInvalidCert, address, c.EmailAddresses)
	}
	ekuOK := len(c.ExtKeyUsage) == 0
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageEmailProtection || u == x509.ExtKeyUsageAny {
			ekuOK = true
		}
	}
	if !ekuOK {
		return nil, fmt.Errorf("certs: %w: no emailProtection usage", ErrInvalidCert)
	}
	if roots != nil {
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
			return nil, fmt.Errorf("certs: %w: %v", ErrInvalidCert, err)
		}
	}
	if time.Now().After(c.NotAfter) {
		return nil, fmt.Errorf("certs: %w: expired on %s", ErrInvalidCert, c.NotAfter.Format(time.DateOnly))
	}
	fp := sha256.Sum256(c.Raw)
	_, err = r.db.Write().ExecContext(ctx, `INSERT INTO recipient_certs (fingerprint, address, subject, not_before, not_after, cert_pem, source, imported_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (fingerprint) DO NOTHING`,
		hex.EncodeToString(fp[:]), address, c.Subject.String(), db.Micros(c.NotBefore), db.Micros(c.NotAfter), string(certPEM(c)), source, db.Now())
	if err != nil {
		return nil, fmt.Errorf("certs: import recipient: %w", err)
	}
	return c, nil
}

// ErrInvalidCert is returned for a certificate that cannot serve.
var ErrInvalidCert = errors.New("unusable certificate")

// EncryptionCert returns the certificate to encrypt mail to address: the
// local mailbox's own (issued here) or the newest imported one still valid.
func (r *Registry) EncryptionCert(ctx context.Context, address string) (*x509.Certificate, error) {
	if c, err := r.ByAddress(ctx, address); err == nil {
		return c, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	var pemText string
	err := r.db.Read().QueryRowContext(ctx, `SELECT cert_pem FROM recipient_certs WHERE address = $1 AND not_after > $2 AND not_before <= $2
		ORDER BY not_after DESC LIMIT 1`, strings.ToLower(address), db.Now()).Scan(&pemText)
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", address, ErrNotFound)
	}
	return parseCertPEM([]byte(pemText))
}

// Expiring lists the certificates (issued or imported) that expire before
// the deadline and are not revoked, for the warnings an operator must see.
func (r *Registry) Expiring(ctx context.Context, before time.Time) ([]Entry, error) {
	var out []Entry
	rows, err := r.db.Read().QueryContext(ctx, `SELECT serial, kind, subject, COALESCE(address, ''), not_before, not_after FROM certificates
		WHERE revoked_at IS NULL AND not_after < $1
		UNION ALL SELECT fingerprint, 'recipient', subject, address, not_before, not_after FROM recipient_certs WHERE not_after < $1
		ORDER BY 6`, db.Micros(before))
	if err != nil {
		return nil, fmt.Errorf("certs: expiring: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Entry
		var nb, na int64
		if err := rows.Scan(&e.Serial, &e.Kind, &e.Subject, &e.Address, &nb, &na); err != nil {
			return nil, err
		}
		e.NotBefore, e.NotAfter = db.Time(nb), db.Time(na)
		out = append(out, e)
	}
	return out, rows.Err()
}

// IsRevoked reports whether a certificate issued by this instance's CA is
// revoked. Certificates of other CAs are not known here (their CRLs are
// the anchors' business) and are reported as not revoked.
func (r *Registry) IsRevoked(ctx context.Context, c *x509.Certificate) (bool, error) {
	if r.ca == nil || !bytesEqual(c.RawIssuer, r.ca.CA().RawSubject) {
		return false, nil
	}
	var n int
	err := r.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM certificates WHERE serial = $1 AND revoked_at IS NOT NULL`,
		SerialString(c.SerialNumber)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("certs: revocation of %s: %w", SerialString(c.SerialNumber), err)
	}
	return n > 0, nil
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }
