package directory

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"mssanted/db"
)

// ErrBadCredentials is the one answer to a wrong address, a wrong password
// or a disabled account: a client must not learn which it was.
var ErrBadCredentials = errors.New("invalid credentials")

// ErrLocked is returned while an account or a client address is locked out
// after repeated failures.
var ErrLocked = errors.New("too many failed attempts, try again later")

// Authenticate checks an address and a secret (the account password or one
// of its app passwords) for a client at remote (an IP address, no port). It
// is the single door check shared by SMTP, IMAP and the web login.
func (s *Store) Authenticate(ctx context.Context, address, secret, remote string) (*Account, error) {
	address = strings.ToLower(strings.TrimSpace(address))
	now := s.now()
	if err := s.Lockout.Check(now, address, remote); err != nil {
		return nil, err
	}
	if a, ok := s.authCache.check(ctx, s, address, secret, now); ok {
		s.Lockout.Succeed(address)
		return a, nil
	}
	a, ok, err := s.checkSecret(ctx, address, secret)
	if err != nil {
		return nil, err
	}
	if !ok {
		if locked := s.Lockout.Fail(now, address, remote); locked {
			slog.WarnContext(ctx, "authentication locked out", "address", address, "remote", remote)
		}
		return nil, ErrBadCredentials
	}
	s.Lockout.Succeed(address)
	s.authCache.put(address, secret, a.ID, now)
	return a, nil
}

// authCacheTTL is how long a successful check is remembered. A password
// change or a disabled account clears it on this node at once; another node
// sharing the database may accept the old password until the entry expires.
const authCacheTTL = 5 * time.Minute

// authCache remembers successful authentications for a short time, keyed by
// an HMAC of (address, secret) under a random per-process key, so that a
// mail client opening a connection per message (most do) does not pay an
// argon2id computation each time (Dovecot's auth cache does the same). The
// secret itself is never kept.
type authCache struct {
	mu      sync.Mutex
	key     [32]byte
	entries map[[32]byte]authEntry
}

type authEntry struct {
	address string
	id      int64
	until   time.Time
}

func newAuthCache() *authCache {
	c := &authCache{entries: map[[32]byte]authEntry{}}
	rand.Read(c.key[:])
	return c
}

func (c *authCache) mac(address, secret string) [32]byte {
	h := hmac.New(sha256.New, c.key[:])
	h.Write([]byte(address))
	h.Write([]byte{0})
	h.Write([]byte(secret))
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// check returns the account when (address, secret) succeeded recently and
// the account is still enabled.
func (c *authCache) check(ctx context.Context, s *Store, address, secret string, now time.Time) (*Account, bool) {
	k := c.mac(address, secret)
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if !ok || now.After(e.until) || e.address != address {
		return nil, false
	}
	a, err := s.ByID(ctx, e.id)
	if err != nil || a.Disabled || a.Address != address {
		c.forget(address)
		return nil, false
	}
	return a, true
}

func (c *authCache) put(address, secret string, id int64, now time.Time) {
	k := c.mac(address, secret)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= 10000 {
		for key, e := range c.entries {
			if now.After(e.until) {
				delete(c.entries, key)
			}
		}
		if len(c.entries) >= 10000 {
			c.entries = map[[32]byte]authEntry{}
		}
	}
	c.entries[k] = authEntry{address: address, id: id, until: now.Add(authCacheTTL)}
}

// forget drops every remembered secret of an address.
func (c *authCache) forget(address string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.address == address {
			delete(c.entries, k)
		}
	}
}

func (s *Store) checkSecret(ctx context.Context, address, secret string) (*Account, bool, error) {
	var id int64
	var hash string
	var disabled sql.NullInt64
	err := s.db.Read().QueryRowContext(ctx, `SELECT id, password_hash, disabled_at FROM accounts WHERE address = $1`, address).
		Scan(&id, &hash, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(dummyHash, secret) // same time as a wrong password
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("directory: authenticate: %w", err)
	}
	ok, err := CheckPassword(hash, secret)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		ok, err = s.checkAppPassword(ctx, id, secret)
		if err != nil {
			return nil, false, err
		}
	}
	if !ok || disabled.Valid {
		return nil, false, nil
	}
	a, err := s.ByID(ctx, id)
	return a, err == nil, err
}

func (s *Store) checkAppPassword(ctx context.Context, accountID int64, secret string) (bool, error) {
	// App passwords are 24 lowercase base32 characters: anything else cannot
	// match, and skipping the hashes keeps a wrong password cheap to refuse.
	if len(secret) != 24 {
		return false, nil
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, hash FROM app_passwords WHERE account_id = $1`, accountID)
	if err != nil {
		return false, fmt.Errorf("directory: app passwords: %w", err)
	}
	type cand struct {
		id   int64
		hash string
	}
	var cands []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.hash); err != nil {
			rows.Close()
			return false, err
		}
		cands = append(cands, c)
	}
	rows.Close()
	for _, c := range cands {
		if ok, _ := CheckPassword(c.hash, secret); ok {
			_, err := s.db.Write().ExecContext(ctx, `UPDATE app_passwords SET last_used_at = $1 WHERE id = $2`, db.Now(), c.id)
			return true, err
		}
	}
	return false, nil
}

// LockoutPolicy says how many failures within Window lock a key (an account
// or a client address) for Duration.
type LockoutPolicy struct {
	Failures int
	Window   time.Duration
	Duration time.Duration
}

// DefaultLockoutPolicy: 10 failures in 5 minutes lock for 15 minutes.
var DefaultLockoutPolicy = LockoutPolicy{Failures: 10, Window: 5 * time.Minute, Duration: 15 * time.Minute}

// Lockout counts authentication failures per account and per client
// address. It is in memory: a node restart forgets the counts, which costs an
// attacker a restart they cannot cause.
type Lockout struct {
	policy LockoutPolicy
	mu     sync.Mutex
	keys   map[string]*lockState
}

type lockState struct {
	fails       []time.Time
	lockedUntil time.Time
}

// NewLockout returns an empty limiter.
func NewLockout(p LockoutPolicy) *Lockout {
	return &Lockout{policy: p, keys: map[string]*lockState{}}
}

func lockKeys(address, remote string) []string {
	keys := []string{"a:" + address}
	if remote != "" {
		keys = append(keys, "r:"+remote)
	}
	return keys
}

// Check returns ErrLocked when the account or the client is locked.
func (l *Lockout) Check(now time.Time, address, remote string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range lockKeys(address, remote) {
		if st := l.keys[k]; st != nil && now.Before(st.lockedUntil) {
			return ErrLocked
		}
	}
	return nil
}

// Fail records a failure and reports whether it locked a key.
func (l *Lockout) Fail(now time.Time, address, remote string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	locked := false
	for _, k := range lockKeys(address, remote) {
		st := l.keys[k]
		if st == nil {
			st = &lockState{}
			l.keys[k] = st
		}
		cut := 0
		for cut < len(st.fails) && now.Sub(st.fails[cut]) > l.policy.Window {
			cut++
		}
		st.fails = append(st.fails[cut:], now)
		if len(st.fails) >= l.policy.Failures {
			st.lockedUntil = now.Add(l.policy.Duration)
			st.fails = nil
			locked = true
		}
	}
	l.gc(now)
	return locked
}

// Succeed clears the account's failures (not the client's: one good
// password must not reset a spray across many accounts).
func (l *Lockout) Succeed(address string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, "a:"+address)
}

// gc drops stale keys once the map grows, so that a spray of random
// addresses cannot grow it without bound.
func (l *Lockout) gc(now time.Time) {
	if len(l.keys) < 10000 {
		return
	}
	for k, st := range l.keys {
		if now.After(st.lockedUntil) && (len(st.fails) == 0 || now.Sub(st.fails[len(st.fails)-1]) > l.policy.Window) {
			delete(l.keys, k)
		}
	}
}
