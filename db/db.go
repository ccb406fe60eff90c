// Package db is the SQL plumbing shared by the stores: it opens the embedded
// SQLite database or a PostgreSQL server behind one type, applies the ordered
// migrations of each dialect, and runs write transactions.
//
// Every query of the stores is written once, with $N placeholders, which both
// modernc.org/sqlite and pgx understand; what differs between the dialects
// lives in the migrations and in the few helpers of this package.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Querier is what *sql.DB and *sql.Tx have in common: stores take it so that
// the same function runs inside or outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open database. With SQLite it holds two pools: one connection
// for writes (SQLite has a single writer; serialising in the pool avoids
// SQLITE_BUSY storms) and several read connections, which WAL lets run beside
// the writer. With PostgreSQL both are the same pool.
type DB struct {
	Dialect Dialect
	w, r    *sql.DB
}

// SQLiteFile is the name of the embedded database inside the data directory.
const SQLiteFile = "mssanted.db"

// Open opens PostgreSQL when dsn is set, else the embedded SQLite database in
// dataDir. It does not migrate: call Migrate.
func Open(ctx context.Context, dataDir, dsn string) (*DB, error) {
	if dsn != "" {
		return OpenPostgres(ctx, dsn)
	}
	return OpenSQLite(ctx, filepath.Join(dataDir, SQLiteFile))
}

// sqliteDSN builds the connection string. synchronous(FULL): a message
// acknowledged with 250 must survive a power loss, which NORMAL does not
// promise in WAL mode.
func sqliteDSN(path string, write bool) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	if write {
		// BEGIN IMMEDIATE: a read-then-write transaction takes the write lock
		// up front instead of failing with SQLITE_BUSY on upgrade.
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}

// OpenSQLite opens (creating if needed) the SQLite database at path.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	w, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	// The first connection creates the file and switches it to WAL before
	// any reader opens it read-only.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open sqlite %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		w.Close()
		return nil, fmt.Errorf("db: %w", err)
	}
	r, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open sqlite readers %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	return &DB{Dialect: SQLite, w: w, r: r}, nil
}

// OpenPostgres connects to PostgreSQL through pgx.
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("db: open postgres: %w", err)
	}
	p.SetMaxOpenConns(20)
	p.SetConnMaxIdleTime(5 * time.Minute)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("db: connect postgres: %w", err)
	}
	return &DB{Dialect: Postgres, w: p, r: p}, nil
}

// Close closes every pool.
func (d *DB) Close() error {
	err := d.w.Close()
	if d.r != d.w {
		err = errors.Join(err, d.r.Close())
	}
	return err
}

// Read is the pool for queries that change nothing.
func (d *DB) Read() Querier { return d.r }

// Write is the pool for single statements that change data; several
// statements that must stand or fall together go through Tx.
func (d *DB) Write() Querier { return d.w }

// Tx runs fn in a write transaction and commits when fn returns nil. On
// PostgreSQL a serialization failure or deadlock is retried a few times,
// since the transaction did nothing visible.
func (d *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	const attempts = 4
	var err error
	for i := 0; i < attempts; i++ {
		err = d.tx(ctx, fn)
		if err == nil || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(i+1) * 10 * time.Millisecond):
		}
	}
	return err
}

func (d *DB) tx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	// The transaction itself is not bound to ctx: database/sql would roll
	// it back (and pgx cancel a COMMIT already on its way, leaving it
	// applied while reporting failure) the moment ctx ends. Statements in
	// fn still use ctx and stop there; whether to commit is decided once,
	// below, so the caller always learns the truth.
	tx, err := d.w.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = ctx.Err(); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// IsUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY conflict,
// in either dialect.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Now is the time as the stores keep it: microseconds since the Unix epoch,
// UTC, in a BIGINT column. One integer representation sorts and compares the
// same way in both dialects.
func Now() int64 { return Micros(time.Now()) }

// Micros converts t to the stores' integer time.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// Time converts the stores' integer time back, in UTC.
func Time(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Placeholders returns "$from, $from+1, …" n times, for IN lists.
func Placeholders(from, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	return b.String()
}

// ForUpdate is the row-locking suffix of a SELECT that a transaction will
// update: FOR UPDATE on PostgreSQL; nothing on SQLite, whose write
// transactions (BEGIN IMMEDIATE) already hold the database's write lock.
func (d *DB) ForUpdate() string {
	if d.Dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}
