// Package dbtest runs a store test against both backends: the embedded
// SQLite database and PostgreSQL. It is how the store conformance suite runs
// the same test functions on both on every test run.
//
// PostgreSQL comes from MSSANTED_TEST_PG_DSN (scripts/test.sh starts a
// throwaway cluster and sets it). Each test gets a schema of its own, dropped
// when it ends. Without the variable the PostgreSQL half fails, loudly: a
// backend that was not exercised is not a pass. Set MSSANTED_TEST_PG_DSN=off
// to run the SQLite half alone on purpose, during development.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"mssanted/db"
)

// EnvDSN names the environment variable holding the test PostgreSQL DSN.
const EnvDSN = "MSSANTED_TEST_PG_DSN"

// Each runs fn once per backend, as subtests named "sqlite" and "postgres",
// each with a freshly migrated database.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, dialect := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			fn(t, Open(t, dialect))
		})
	}
}

// Case is one test of a conformance suite.
type Case struct {
	Name string
	Run  func(t *testing.T, d *db.DB)
}

// Suite runs every case on each backend, each case on a fresh database, as
// subtests named "<backend>/<case>".
func Suite(t *testing.T, cases []Case) {
	t.Helper()
	for _, dialect := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.Name, func(t *testing.T) { c.Run(t, Open(t, dialect)) })
			}
		})
	}
}

// Open returns a migrated, empty database of the dialect, closed (and on
// PostgreSQL dropped) when the test ends.
func Open(t testing.TB, dialect db.Dialect) *db.DB {
	t.Helper()
	ctx := context.Background()
	var d *db.DB
	var err error
	switch dialect {
	case db.SQLite:
		d, err = db.OpenSQLite(ctx, t.TempDir()+"/"+db.SQLiteFile)
	case db.Postgres:
		d, err = db.OpenPostgres(ctx, SchemaDSN(t))
	}
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", dialect, err)
	}
	return d
}

// SchemaDSN creates a schema of its own for the test in the test cluster
// and returns a DSN whose search_path points at it. The schema is dropped
// when the test ends.
func SchemaDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDSN)
	switch base {
	case "":
		t.Fatalf("%s is not set: run the tests with `make test`, which starts PostgreSQL (or set it to off to skip the PostgreSQL half on purpose)", EnvDSN)
	case "off":
		t.Skipf("%s=off: PostgreSQL half not run", EnvDSN)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	schema := "t_" + hex.EncodeToString(rnd[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	return withParam(base, "search_path", schema)
}

// withParam adds a run-time parameter to a URL or keyword/value DSN.
func withParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set(key, value)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " " + key + "=" + value
}
