package certs

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"mssanted/db"
)

// ErrCRLExpired is returned by CheckRevoked when the CRL's NextUpdate has
// passed: a stale list may be missing recent revocations.
var ErrCRLExpired = errors.New("certs: CRL is past its next update")

// CRL builds a revocation list of every revoked certificate, signed by the
// CA and valid for validity, writes it to pkiDir/crl.pem and returns it in
// DER. Its number is the current time in microseconds, raised above the
// number of the previous crl.pem if the clock went back, so relying parties
// always see it increase (RFC 5280, 5.2.3).
func (r *Registry) CRL(ctx context.Context, validity time.Duration) ([]byte, error) {
	if validity <= 0 {
		return nil, fmt.Errorf("certs: CRL validity %v must be positive", validity)
	}
	r.crlMu.Lock()
	defer r.crlMu.Unlock()

	entries, err := r.revokedEntries(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	number := big.NewInt(db.Micros(now))
	path := filepath.Join(r.dir, CRLFile)
	prev, err := previousCRLNumber(path)
	if err != nil {
		return nil, err
	}
	if prev != nil && number.Cmp(prev) <= 0 {
		number = new(big.Int).Add(prev, big.NewInt(1))
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		SignatureAlgorithm:        x509.SHA256WithRSA,
		Number:                    number,
		ThisUpdate:                now,
		NextUpdate:                now.Add(validity),
		RevokedCertificateEntries: entries,
	}, r.ca.cert, r.ca.key)
	if err != nil {
		return nil, fmt.Errorf("certs: CRL: %w", err)
	}
	if err := mkdirPrivate(r.dir); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: pemCRL, Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	return der, nil
}

func (r *Registry) revokedEntries(ctx context.Context) ([]x509.RevocationListEntry, error) {
	rows, err := r.db.Read().QueryContext(ctx, `SELECT serial, revoked_at, revocation_reason
		FROM certificates WHERE revoked_at IS NOT NULL ORDER BY revoked_at, serial`)
	if err != nil {
		return nil, fmt.Errorf("certs: CRL: %w", err)
	}
	defer rows.Close()
	var out []x509.RevocationListEntry
	for rows.Next() {
		var serial string
		var at int64
		var reason *int64
		if err := rows.Scan(&serial, &at, &reason); err != nil {
			return nil, fmt.Errorf("certs: CRL: %w", err)
		}
		n, ok := new(big.Int).SetString(serial, 16)
		if !ok {
			return nil, fmt.Errorf("certs: CRL: bad serial %q in the registry", serial)
		}
		e := x509.RevocationListEntry{SerialNumber: n, RevocationTime: db.Time(at).Truncate(time.Second)}
		if reason != nil {
			e.ReasonCode = int(*reason)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("certs: CRL: %w", err)
	}
	return out, nil
}

// previousCRLNumber is the number of the CRL at path, nil if there is none.
func previousCRLNumber(path string) (*big.Int, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != pemCRL {
		return nil, fmt.Errorf("certs: %s: no %s block", path, pemCRL)
	}
	rl, err := x509.ParseRevocationList(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", path, err)
	}
	return rl.Number, nil
}

// CheckRevoked reports whether cert is listed in the DER CRL crlDER. It
// first checks that the CRL was signed by issuer, is the CRL of cert's
// issuer, and is not past its NextUpdate (ErrCRLExpired): a CRL that fails
// any of these proves nothing, so an error is returned rather than false.
func CheckRevoked(cert *x509.Certificate, crlDER []byte, issuer *x509.Certificate) (bool, error) {
	rl, err := x509.ParseRevocationList(crlDER)
	if err != nil {
		return false, fmt.Errorf("certs: CRL: %w", err)
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		return false, fmt.Errorf("certs: CRL: %w", err)
	}
	if !bytes.Equal(rl.RawIssuer, cert.RawIssuer) {
		return false, errors.New("certs: CRL: not issued by the certificate's issuer")
	}
	if !rl.NextUpdate.IsZero() && time.Now().After(rl.NextUpdate) {
		return false, fmt.Errorf("%w (%s)", ErrCRLExpired, rl.NextUpdate.Format(time.RFC3339))
	}
	for _, e := range rl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			return true, nil
		}
	}
	return false, nil
}
