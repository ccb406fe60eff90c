package certs

import (
	"context"
	"crypto"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"mssanted/db"
)

// ErrNotFound is returned when no usable certificate matches.
var ErrNotFound = errors.New("certs: certificate not found")

// Registry is the list of the certificates the CA issued (the certificates
// table) with their private keys (files under pkiDir/keys). The database
// holds only public data, so a database dump or a replica never carries a
// key.
type Registry struct {
	db    *db.DB
	dir   string
	ca    *Authority
	crlMu sync.Mutex // serialises CRL numbering and the write of crl.pem
}

// NewRegistry returns the registry of a's certificates, keys kept under
// pkiDir.
func NewRegistry(d *db.DB, pkiDir string, a *Authority) *Registry {
	return &Registry{db: d, dir: pkiDir, ca: a}
}

// Entry is one row of the registry.
type Entry struct {
	Serial           string
	Kind             string
	Subject          string
	Address          string // lowercase; empty for a TLS certificate
	NotBefore        time.Time
	NotAfter         time.Time
	Revoked          bool
	RevokedAt        time.Time // zero unless Revoked
	RevocationReason int       // a Reason* code; meaningful only if Revoked
}

// Record stores iss: its private key in pkiDir/keys/<serial>.key, then its
// row through tx, so that a mailbox and its certificate are created together
// or not at all. The key is written first and durably: a committed row always
// has its key. If tx rolls back, the key file stays behind unreferenced,
// which is harmless. A nil tx writes the row on its own.
//
// address is the mailbox of an S/MIME certificate and must be one of the
// certificate's addresses; it is stored lowercase.
func (r *Registry) Record(ctx context.Context, tx *sql.Tx, iss *Issued, address string) error {
	switch iss.Kind {
	case KindTLS, KindSMIME, KindOperator:
	default:
		return fmt.Errorf("certs: record: unknown kind %q", iss.Kind)
	}
	address = strings.ToLower(strings.TrimSpace(address))
	if iss.Kind == KindSMIME {
		if !hasAddress(iss.Cert, address) {
			return fmt.Errorf("certs: record: %q is not an address of certificate %s", address, iss.Serial())
		}
	}
	serial := iss.Serial()
	keyFile := filepath.Join(KeysDir, serial+".key")
	if err := mkdirPrivate(filepath.Join(r.dir, KeysDir)); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(r.dir, keyFile), iss.KeyPEM, 0o600); err != nil {
		return err
	}
	var q db.Querier = r.db.Write()
	if tx != nil {
		q = tx
	}
	var addr any
	if address != "" {
		addr = address
	}
	_, err := q.ExecContext(ctx, `INSERT INTO certificates
		(serial, kind, subject, address, not_before, not_after, cert_pem, key_file, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		serial, iss.Kind, iss.Cert.Subject.String(), addr,
		db.Micros(iss.Cert.NotBefore), db.Micros(iss.Cert.NotAfter),
		string(iss.CertPEM), filepath.ToSlash(keyFile), db.Now())
	if err != nil {
		return fmt.Errorf("certs: record %s: %w", serial, err)
	}
	return nil
}

func hasAddress(c *x509.Certificate, address string) bool {
	for _, a := range c.EmailAddresses {
		if strings.EqualFold(a, address) {
			return true
		}
	}
	return false
}

// List returns every certificate of the registry, oldest first.
func (r *Registry) List(ctx context.Context) ([]Entry, error) {
	rows, err := r.db.Read().QueryContext(ctx, `SELECT serial, kind, subject, address,
		not_before, not_after, revoked_at, revocation_reason
		FROM certificates ORDER BY created_at, serial`)
	if err != nil {
		return nil, fmt.Errorf("certs: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var addr sql.NullString
		var nb, na int64
		var rat, reason sql.NullInt64
		if err := rows.Scan(&e.Serial, &e.Kind, &e.Subject, &addr, &nb, &na, &rat, &reason); err != nil {
			return nil, fmt.Errorf("certs: list: %w", err)
		}
		e.Address = addr.String
		e.NotBefore, e.NotAfter = db.Time(nb), db.Time(na)
		if rat.Valid {
			e.Revoked, e.RevokedAt = true, db.Time(rat.Int64)
			e.RevocationReason = int(reason.Int64)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("certs: list: %w", err)
	}
	return out, nil
}

// current finds the newest S/MIME certificate of address that is valid now
// and not revoked: the one to encrypt to and to sign with.
func (r *Registry) current(ctx context.Context, address string) (certPEM, keyFile string, err error) {
	address = strings.ToLower(strings.TrimSpace(address))
	now := db.Now()
	err = r.db.Read().QueryRowContext(ctx, `SELECT cert_pem, key_file FROM certificates
		WHERE address = $1 AND kind = $2 AND revoked_at IS NULL
		AND not_before <= $3 AND not_after > $3
		ORDER BY not_before DESC, created_at DESC, serial LIMIT 1`,
		address, KindSMIME, now).Scan(&certPEM, &keyFile)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("certs: %s: %w", address, ErrNotFound)
	}
	if err != nil {
		return "", "", fmt.Errorf("certs: %s: %w", address, err)
	}
	return certPEM, keyFile, nil
}

// ByAddress returns the current S/MIME certificate of address (compared
// lowercase), or an error wrapping ErrNotFound.
func (r *Registry) ByAddress(ctx context.Context, address string) (*x509.Certificate, error) {
	p, _, err := r.current(ctx, address)
	if err != nil {
		return nil, err
	}
	return parseCertPEM([]byte(p))
}

// KeyPair returns the current S/MIME certificate of address and its
// private key, read from its key file.
func (r *Registry) KeyPair(ctx context.Context, address string) (*x509.Certificate, crypto.Signer, error) {
	p, kf, err := r.current(ctx, address)
	if err != nil {
		return nil, nil, err
	}
	cert, err := parseCertPEM([]byte(p))
	if err != nil {
		return nil, nil, err
	}
	key, err := readKeyFile(filepath.Join(r.dir, filepath.FromSlash(kf)))
	if err != nil {
		return nil, nil, err
	}
	if !publicKeyMatches(cert, key) {
		return nil, nil, fmt.Errorf("certs: key file %s does not match certificate", kf)
	}
	return cert, key, nil
}

// normalizeSerial accepts a serial in hexadecimal as the registry, OpenSSL
// (uppercase, with or without colons) or a user may spell it.
func normalizeSerial(s string) (string, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ":", "")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	n, ok := new(big.Int).SetString(s, 16)
	if !ok || n.Sign() <= 0 {
		return "", false
	}
	return SerialString(n), true
}
