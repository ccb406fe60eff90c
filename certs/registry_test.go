package certs

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
)

func TestRegistryRollback(t *testing.T) {
	a := shared(t)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		r := NewRegistry(d, t.TempDir(), a)
		abort := errors.New("account creation failed")
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			if err := r.Record(ctx, tx, fix.alice, aliceAddr); err != nil {
				return err
			}
			return abort
		})
		if !errors.Is(err, abort) {
			t.Fatalf("Tx: %v", err)
		}
		if l, err := r.List(ctx); err != nil || len(l) != 0 {
			t.Errorf("List after rollback: %v, %v", l, err)
		}
		if _, err := r.ByAddress(ctx, aliceAddr); !errors.Is(err, ErrNotFound) {
			t.Errorf("ByAddress after rollback: %v", err)
		}
	})
}

func TestRegistry(t *testing.T) {
	a := shared(t)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		r := NewRegistry(d, dir, a)
		// alice2 (the renewal, newer NotBefore) is recorded first: the
		// newest certificate wins by validity, not by insertion order.
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			for _, iss := range []*Issued{fix.alice2, fix.alice, fix.bob} {
				if err := r.Record(ctx, tx, iss, iss.Cert.EmailAddresses[0]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Record(ctx, nil, fix.bob, bobAddr); !db.IsUniqueViolation(err) {
			t.Errorf("recording twice: %v", err)
		}
		if err := r.Record(ctx, nil, fix.bob, aliceAddr); err == nil {
			t.Error("Record accepted an address not in the certificate")
		}
		st, err := os.Stat(filepath.Join(dir, KeysDir, fix.alice.Serial()+".key"))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("key file: %v %v", st, err)
		}
		if st, err := os.Stat(filepath.Join(dir, KeysDir)); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("keys dir: %v %v", st, err)
		}

		l, err := r.List(ctx)
		if err != nil || len(l) != 3 {
			t.Fatalf("List: %v %v", l, err)
		}
		e := l[1]
		if e.Serial != fix.alice.Serial() || e.Kind != KindSMIME || e.Address != strings.ToLower(aliceAddr) ||
			e.Subject != fix.alice.Cert.Subject.String() || e.Revoked ||
			!e.NotBefore.Equal(fix.alice.Cert.NotBefore) || !e.NotAfter.Equal(fix.alice.Cert.NotAfter) {
			t.Errorf("entry %+v", e)
		}

		got, err := r.ByAddress(ctx, strings.ToUpper(aliceAddr))
		if err != nil || !got.Equal(fix.alice2.Cert) {
			t.Fatalf("ByAddress: %v (want the renewal)", err)
		}
		cert, key, err := r.KeyPair(ctx, bobAddr)
		if err != nil || !cert.Equal(fix.bob.Cert) || !publicKeyMatches(cert, key) {
			t.Fatalf("KeyPair: %v", err)
		}
		if _, err := r.ByAddress(ctx, "nobody@x.example"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown address: %v", err)
		}

		// Revoke the renewal: the older certificate becomes current.
		if err := r.Revoke(ctx, fix.alice2.Serial(), ReasonKeyCompromise); err != nil {
			t.Fatal(err)
		}
		if got, err := r.ByAddress(ctx, aliceAddr); err != nil || !got.Equal(fix.alice.Cert) {
			t.Errorf("ByAddress after revoking the renewal: %v", err)
		}
		// OpenSSL's spelling of the serial: uppercase with colons.
		if err := r.Revoke(ctx, opensslSerial(fix.alice.Serial()), ReasonSuperseded); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ByAddress(ctx, aliceAddr); !errors.Is(err, ErrNotFound) {
			t.Errorf("ByAddress after Revoke: %v", err)
		}
		if _, _, err := r.KeyPair(ctx, aliceAddr); !errors.Is(err, ErrNotFound) {
			t.Errorf("KeyPair after Revoke: %v", err)
		}
		first := revokedAt(t, r, fix.alice.Serial())
		time.Sleep(2 * time.Millisecond)
		if err := r.Revoke(ctx, fix.alice.Serial(), ReasonUnspecified); err != nil {
			t.Errorf("second Revoke: %v", err)
		}
		if again := revokedAt(t, r, fix.alice.Serial()); !again.Equal(first) {
			t.Errorf("second Revoke moved the date: %v -> %v", first, again)
		}
		if err := r.Revoke(ctx, "abcdef0123", ReasonUnspecified); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown serial: %v", err)
		}
		if err := r.Revoke(ctx, "not hex", ReasonUnspecified); !errors.Is(err, ErrNotFound) {
			t.Errorf("bad serial: %v", err)
		}
		if err := r.Revoke(ctx, fix.bob.Serial(), 8); err == nil {
			t.Error("removeFromCRL accepted")
		}

		// The CRL lists both alice certificates, not bob's.
		der, err := r.CRL(ctx, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		rl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		if len(rl.RevokedCertificateEntries) != 2 {
			t.Fatalf("CRL lists %d certificates", len(rl.RevokedCertificateEntries))
		}
		for _, e := range rl.RevokedCertificateEntries {
			switch SerialString(e.SerialNumber) {
			case fix.alice.Serial():
				if e.ReasonCode != ReasonSuperseded || !e.RevocationTime.Equal(first.Truncate(time.Second)) {
					t.Errorf("alice entry: reason %d at %v", e.ReasonCode, e.RevocationTime)
				}
			case fix.alice2.Serial():
				if e.ReasonCode != ReasonKeyCompromise {
					t.Errorf("alice2 reason %d", e.ReasonCode)
				}
			default:
				t.Errorf("unexpected serial %s", SerialString(e.SerialNumber))
			}
		}
		onDisk, err := os.ReadFile(filepath.Join(dir, CRLFile))
		if b, _ := pem.Decode(onDisk); err != nil || b == nil || b.Type != "X509 CRL" || string(b.Bytes) != string(der) {
			t.Errorf("crl.pem does not hold the CRL: %v", err)
		}
		checkRevoked(t, fix.alice.Cert, der, true)
		checkRevoked(t, fix.alice2.Cert, der, true)
		checkRevoked(t, fix.bob.Cert, der, false)

		needOpenSSL(t)
		out, err := openssl(t, "crl", "-inform", "DER", "-in", writeTemp(t, "crl.der", der),
			"-CAfile", filepath.Join(fix.dir, CAFile), "-noout")
		if err != nil || !strings.Contains(out, "verify OK") {
			t.Errorf("openssl crl: %v\n%s", err, out)
		}

		// A closed mailbox: every certificate of bob goes, and the next CRL
		// has a higher number.
		if err := r.RevokeAddress(ctx, strings.ToUpper(bobAddr), ReasonCessationOfOperation); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ByAddress(ctx, bobAddr); !errors.Is(err, ErrNotFound) {
			t.Errorf("ByAddress after RevokeAddress: %v", err)
		}
		der2, err := r.CRL(ctx, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		rl2, _ := x509.ParseRevocationList(der2)
		if rl2.Number.Cmp(rl.Number) <= 0 {
			t.Errorf("CRL number did not increase: %v then %v", rl.Number, rl2.Number)
		}
		checkRevoked(t, fix.bob.Cert, der2, true)
		l, _ = r.List(ctx)
		for _, e := range l {
			if !e.Revoked || e.RevokedAt.IsZero() {
				t.Errorf("not revoked: %+v", e)
			}
		}
	})
}

func TestCheckRevokedRejects(t *testing.T) {
	a := shared(t)
	d := dbtest.Open(t, db.SQLite)
	r := NewRegistry(d, t.TempDir(), a)
	ctx := context.Background()
	der, err := r.CRL(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	checkRevoked(t, fix.bob.Cert, der, false)

	// Tampering anywhere breaks the signature (or the encoding).
	for _, i := range []int{len(der) / 3, len(der) - 5} {
		bad := append([]byte(nil), der...)
		bad[i] ^= 0x01
		if _, err := CheckRevoked(fix.bob.Cert, bad, a.CA()); err == nil {
			t.Errorf("tampered CRL (byte %d) accepted", i)
		}
	}
	// A CRL verified against the wrong issuer proves nothing.
	if _, err := CheckRevoked(fix.bob.Cert, der, fix.alice.Cert); err == nil {
		t.Error("CRL accepted with the wrong issuer")
	}
	// A stale CRL is refused.
	stale, err := r.CRL(ctx, time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // CRL times have one-second resolution
	if _, err := CheckRevoked(fix.bob.Cert, stale, a.CA()); !errors.Is(err, ErrCRLExpired) {
		t.Errorf("stale CRL: %v", err)
	}
	if _, err := r.CRL(ctx, 0); err == nil {
		t.Error("zero validity accepted")
	}
	if _, err := os.Stat(filepath.Join(r.dir, CRLFile)); errors.Is(err, fs.ErrNotExist) {
		t.Error("crl.pem missing")
	}
}

func checkRevoked(t *testing.T, c *x509.Certificate, der []byte, want bool) {
	t.Helper()
	got, err := CheckRevoked(c, der, fix.ca.CA())
	if err != nil || got != want {
		t.Errorf("CheckRevoked(%s) = %v, %v; want %v", c.Subject.CommonName, got, err, want)
	}
}

func revokedAt(t *testing.T, r *Registry, serial string) time.Time {
	t.Helper()
	l, err := r.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l {
		if e.Serial == serial {
			if !e.Revoked {
				t.Fatalf("%s not revoked", serial)
			}
			return e.RevokedAt
		}
	}
	t.Fatalf("%s not listed", serial)
	return time.Time{}
}

// opensslSerial spells a serial as OpenSSL prints it: even number of
// uppercase digits, colon-separated.
func opensslSerial(s string) string {
	if len(s)%2 == 1 {
		s = "0" + s
	}
	var parts []string
	for i := 0; i < len(s); i += 2 {
		parts = append(parts, strings.ToUpper(s[i:i+2]))
	}
	return strings.Join(parts, ":")
}
