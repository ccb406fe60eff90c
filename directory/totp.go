package directory

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// An optional second factor for the web app: a time-based one-time
// password (TOTP, RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits), the
// kind every authenticator app reads from an otpauth:// QR code. Mail
// clients keep using app passwords.

// ErrTOTPRequired is returned by a login without the code of an account
// that has the second factor; ErrBadCredentials when the code is wrong.
var ErrTOTPRequired = errors.New("a one-time code is required")

const (
	totpStep   = 30 * time.Second
	totpDigits = 6
	totpSkew   = 1 // steps accepted either side, for clocks that drift
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpCode is the RFC 6238 code of secret at counter (RFC 4226 5.3).
func totpCode(secret []byte, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}

// TOTPCode is the current code of a base32 secret (for tests and tools).
func TOTPCode(secret string, at time.Time) (string, error) {
	key, err := b32.DecodeString(strings.ToUpper(secret))
	if err != nil {
		return "", fmt.Errorf("directory: TOTP secret: %w", err)
	}
	return totpCode(key, uint64(at.Unix())/uint64(totpStep/time.Second)), nil
}

func totpValid(secret, code string, at time.Time) bool {
	key, err := b32.DecodeString(strings.ToUpper(secret))
	code = strings.TrimSpace(code)
	if err != nil || len(code) != totpDigits {
		return false
	}
	now := int64(at.Unix()) / int64(totpStep/time.Second)
	ok := 0
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		ok |= subtle.ConstantTimeCompare([]byte(totpCode(key, uint64(now+d))), []byte(code))
	}
	return ok == 1
}

// NewTOTPSecret makes a secret for an account to confirm: it is not active
// until ConfirmTOTP sees a code made from it. It returns the base32 secret
// and the otpauth:// URL authenticator apps read.
func (s *Store) NewTOTPSecret(a *Account, issuer string) (string, string) {
	k := make([]byte, 20)
	rand.Read(k)
	secret := b32.EncodeToString(k)
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + a.Address}
	q := url.Values{"secret": {secret}, "issuer": {issuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	u.RawQuery = q.Encode()
	return secret, u.String()
}

// ConfirmTOTP turns the second factor on once the user proves their app
// has the secret.
func (s *Store) ConfirmTOTP(ctx context.Context, a *Account, secret, code string) error {
	if !totpValid(secret, code, s.now()) {
		return invalid("Code incorrect : vérifiez l'heure de votre téléphone et réessayez / wrong code")
	}
	return s.update(ctx, a.Address, `totp_secret = $2`, strings.ToUpper(secret))
}

// DisableTOTP turns the second factor off; it takes a current code.
func (s *Store) DisableTOTP(ctx context.Context, a *Account, code string) error {
	secret, err := s.totpSecret(ctx, a.ID)
	if err != nil {
		return err
	}
	if secret != "" && !totpValid(secret, code, s.now()) {
		return invalid("Code incorrect / wrong code")
	}
	return s.update(ctx, a.Address, `totp_secret = $2`, "")
}

func (s *Store) totpSecret(ctx context.Context, id int64) (string, error) {
	var secret string
	if err := s.db.Read().QueryRowContext(ctx, `SELECT totp_secret FROM accounts WHERE id = $1`, id).Scan(&secret); err != nil {
		return "", fmt.Errorf("directory: TOTP: %w", err)
	}
	return secret, nil
}

// checkSecondFactor is the login's second step: nothing without TOTP; with
// it, a valid code, a wrong one counting as a failed attempt (lockout).
func (s *Store) checkSecondFactor(ctx context.Context, a *Account, code, remote string) error {
	secret, err := s.totpSecret(ctx, a.ID)
	if err != nil || secret == "" {
		return err
	}
	if strings.TrimSpace(code) == "" {
		return ErrTOTPRequired
	}
	now := s.now()
	if err := s.Lockout.Check(now, a.Address, remote); err != nil {
		return err
	}
	if !totpValid(secret, code, now) {
		s.Lockout.Fail(now, a.Address, remote)
		return ErrBadCredentials
	}
	return nil
}
