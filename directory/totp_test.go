package directory

import (
	"encoding/base32"
	"testing"
	"time"
)

// RFC 6238 appendix B, SHA-1 rows (8 digits there; the last 6 here).
func TestTOTPVectors(t *testing.T) {
	key := []byte("12345678901234567890")
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)
	for _, c := range []struct {
		at   int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		got, err := TOTPCode(secret, time.Unix(c.at, 0))
		if err != nil || got != c.want {
			t.Errorf("T=%d: %s %v, want %s", c.at, got, err, c.want)
		}
		if !totpValid(secret, c.want, time.Unix(c.at+30, 0)) || totpValid(secret, c.want, time.Unix(c.at+95, 0)) {
			t.Errorf("T=%d: the window is one step either side", c.at)
		}
	}
}
