package directory

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"mssanted/db"
)

// Session kinds: a browser's cookie, an app's bearer token.
const (
	SessionCookie = "cookie"
	SessionBearer = "bearer"
)

// Session lifetimes: a health service logs out an idle user quickly, and
// no session outlives a working day.
const (
	SessionIdle   = 30 * time.Minute
	SessionMaxAge = 12 * time.Hour
)

// ErrNoSession is returned for an unknown, expired or revoked token.
var ErrNoSession = errors.New("no such session")

// Session is an authenticated web or API session.
type Session struct {
	ID        int64
	Account   *Account
	Kind      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// tokenHash is what the database keeps of a token: its SHA-256, so that a
// copy of the database opens no session.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Login checks address and password (with the lockout of every door) and
// opens a session; it returns the token to hand to the client, once. An
// account with the second factor gets ErrTOTPRequired: use LoginWithCode.
func (s *Store) Login(ctx context.Context, address, password, remote, kind string) (string, *Session, error) {
	return s.LoginWithCode(ctx, address, password, "", remote, kind)
}

// LoginWithCode is Login with the one-time code of the second factor, for
// the accounts that have it (ignored otherwise).
func (s *Store) LoginWithCode(ctx context.Context, address, password, code, remote, kind string) (string, *Session, error) {
	if kind != SessionCookie && kind != SessionBearer {
		return "", nil, invalid("session kind %q", kind)
	}
	a, err := s.Authenticate(ctx, address, password, remote)
	if err != nil {
		return "", nil, err
	}
	if err := s.checkSecondFactor(ctx, a, code, remote); err != nil {
		return "", nil, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	sess := &Session{Account: a, Kind: kind, CreatedAt: now, ExpiresAt: now.Add(SessionMaxAge)}
	err = s.db.Write().QueryRowContext(ctx, `INSERT INTO sessions (token_hash, account_id, kind, created_at, last_seen, expires_at, remote)
		VALUES ($1, $2, $3, $4, $4, $5, $6) RETURNING id`, tokenHash(token), a.ID, kind, db.Micros(now), db.Micros(sess.ExpiresAt), remote).Scan(&sess.ID)
	if err != nil {
		return "", nil, fmt.Errorf("directory: open session: %w", err)
	}
	return token, sess, nil
}

// SessionOf returns the live session of a token and keeps it alive. A
// session idle for SessionIdle, past SessionMaxAge, or of a disabled
// account is gone.
func (s *Store) SessionOf(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrNoSession
	}
	var id, accountID, created, lastSeen, expires int64
	var kind string
	err := s.db.Read().QueryRowContext(ctx, `SELECT id, account_id, kind, created_at, last_seen, expires_at FROM sessions WHERE token_hash = $1`,
		tokenHash(token)).Scan(&id, &accountID, &kind, &created, &lastSeen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("directory: session: %w", err)
	}
	now := s.now()
	if now.After(db.Time(expires)) || now.Sub(db.Time(lastSeen)) > SessionIdle {
		s.db.Write().ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, id)
		return nil, ErrNoSession
	}
	a, err := s.ByID(ctx, accountID)
	if err != nil || a.Disabled {
		return nil, ErrNoSession
	}
	// Touch at most once a minute: reads should not all become writes.
	if now.Sub(db.Time(lastSeen)) > time.Minute {
		if _, err := s.db.Write().ExecContext(ctx, `UPDATE sessions SET last_seen = $1 WHERE id = $2`, db.Micros(now), id); err != nil {
			return nil, fmt.Errorf("directory: touch session: %w", err)
		}
	}
	return &Session{ID: id, Account: a, Kind: kind, CreatedAt: db.Time(created), ExpiresAt: db.Time(expires)}, nil
}

// Logout ends the session of a token.
func (s *Store) Logout(ctx context.Context, token string) error {
	_, err := s.db.Write().ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash(token))
	if err != nil {
		return fmt.Errorf("directory: logout: %w", err)
	}
	return nil
}
