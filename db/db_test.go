package db_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"mssanted/db"
	"mssanted/db/dbtest"
)

func TestMigrationsMatchAcrossDialects(t *testing.T) {
	lite, err := db.Migrations(db.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := db.Migrations(db.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %04d_%s, postgres %04d_%s", i, lite[i].Version, lite[i].Name, pg[i].Version, pg[i].Name)
		}
		if lite[i].Version != i+1 {
			t.Errorf("migration %s is numbered %d, want %d (no gaps)", lite[i].Name, lite[i].Version, i+1)
		}
	}
}

// The store conformance suite of the db package itself.
func TestConformance(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{
		{Name: "migrate-is-idempotent", Run: testMigrateIdempotent},
		{Name: "tx-rolls-back", Run: testTxRollsBack},
		{Name: "unique-violation", Run: testUniqueViolation},
		{Name: "concurrent-writers", Run: testConcurrentWriters},
	})
}

func testMigrateIdempotent(t *testing.T, d *db.DB) {
	ctx := context.Background()
	n, err := d.Migrate(ctx)
	if err != nil || n != 0 {
		t.Fatalf("second migrate applied %d, %v", n, err)
	}
	v, err := d.SchemaVersion(ctx)
	ms, _ := db.Migrations(d.Dialect)
	if err != nil || v != ms[len(ms)-1].Version {
		t.Fatalf("schema version %d, %v; want %d", v, err, ms[len(ms)-1].Version)
	}
}

func testTxRollsBack(t *testing.T, d *db.DB) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO domains (name, kind, created_at) VALUES ($1, $2, $3)`, "a.example", "professional", db.Now()); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx returned %v", err)
	}
	var n int
	if err := d.Read().QueryRowContext(ctx, `SELECT count(*) FROM domains`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rolled back row visible: %d, %v", n, err)
	}
}

func testUniqueViolation(t *testing.T, d *db.DB) {
	ctx := context.Background()
	ins := `INSERT INTO domains (name, kind, created_at) VALUES ($1, $2, $3)`
	if _, err := d.Write().ExecContext(ctx, ins, "b.example", "patient", db.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := d.Write().ExecContext(ctx, ins, "b.example", "patient", db.Now())
	if !db.IsUniqueViolation(err) {
		t.Fatalf("duplicate key: %v is not a unique violation", err)
	}
	_, err = d.Write().ExecContext(ctx, ins, "c.example", "nonsense", db.Now())
	if err == nil || db.IsUniqueViolation(err) {
		t.Fatalf("check violation: %v", err)
	}
}

// Read-then-write transactions from many goroutines all commit: on SQLite
// the single writer connection serialises them instead of SQLITE_BUSY.
func testConcurrentWriters(t *testing.T, d *db.DB) {
	ctx := context.Background()
	if _, err := d.Write().ExecContext(ctx, `INSERT INTO domains (name, kind, created_at) VALUES ('counter.example', 'professional', 0)`); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				errs <- d.Tx(ctx, func(tx *sql.Tx) error {
					var v int64
					if err := tx.QueryRowContext(ctx, `SELECT created_at FROM domains WHERE name = 'counter.example'`+d.ForUpdate()).Scan(&v); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `UPDATE domains SET created_at = $1 WHERE name = 'counter.example'`, v+1)
					return err
				})
				// Readers run beside the writers.
				var n int
				if err := d.Read().QueryRowContext(ctx, `SELECT count(*) FROM domains`).Scan(&n); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var v int64
	if err := d.Read().QueryRowContext(ctx, `SELECT created_at FROM domains WHERE name = 'counter.example'`).Scan(&v); err != nil || v != workers*each {
		t.Fatalf("counter = %d, %v; want %d (lost updates)", v, err, workers*each)
	}
}

func TestSQLiteFileIsPrivateAndWAL(t *testing.T) {
	dir := t.TempDir()
	d, err := db.Open(context.Background(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fi, err := os.Stat(filepath.Join(dir, db.SQLiteFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode %v, %v", fi.Mode(), err)
	}
	var mode string
	if err := d.Read().QueryRowContext(context.Background(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q, %v", mode, err)
	}
	if _, err := d.Read().ExecContext(context.Background(), `CREATE TABLE x (a INT)`); err == nil {
		t.Fatal("the read pool accepted a write")
	}
}

func TestFSBlobs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := db.NewFSBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("Compte rendu de consultation\r\n")
	key, n, err := b.Put(ctx, bytes.NewReader(body))
	if err != nil || n != int64(len(body)) {
		t.Fatalf("put: %v, %d", err, n)
	}
	// SHA-256 of body, computed by hand once.
	if len(key) != 64 || strings.ToLower(key) != key {
		t.Fatalf("key %q", key)
	}
	key2, _, err := b.Put(ctx, bytes.NewReader(body))
	if err != nil || key2 != key {
		t.Fatalf("same content, other key: %s %s %v", key, key2, err)
	}
	rc, err := b.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("read back %q", got)
	}
	if tmp, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(tmp) != 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	fi, _ := os.Stat(filepath.Join(dir, key[:2], key[2:4], key))
	if fi == nil || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("blob file readable by others: %v", fi)
	}
	if _, err := b.Open(ctx, "../../etc/passwd"); !errors.Is(err, db.ErrBadKey) {
		t.Fatalf("path traversal key: %v", err)
	}
	if err := b.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("deleted blob: %v", err)
	}
	if err := b.Delete(ctx, key); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	// A failing reader leaves nothing behind.
	if _, _, err := b.Put(ctx, io.MultiReader(bytes.NewReader(body), errReader{})); err == nil {
		t.Fatal("put of a failing reader succeeded")
	}
	if tmp, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(tmp) != 0 {
		t.Fatalf("temporary files left after a failed put: %v", tmp)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }
