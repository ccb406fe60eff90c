package directory

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: the second OWASP recommendation (19 MiB, 2 passes,
// 1 lane). They travel inside each hash (PHC string format), so raising them
// later leaves old hashes verifiable.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// MinPasswordLength is the shortest password an account may have.
const MinPasswordLength = 12

// HashPassword returns the argon2id hash of pw in PHC string format:
// $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := idKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		argonMemoryKiB, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("directory: malformed password hash")

// CheckPassword reports whether pw matches the PHC-encoded argon2id hash, in
// constant time with respect to the hash.
func CheckPassword(hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	if m > 1<<20 || t > 16 || len(want) > 64 {
		return false, errBadHash // refuse parameters that would make one check a denial of service
	}
	got := idKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// argonSlots bounds the argon2id computations running at once to the
// number of cores: each takes 19 MiB and a core for tens of milliseconds,
// and a burst of logins beyond that only queues (and would otherwise grow
// memory without bound).
var argonSlots = make(chan struct{}, runtime.NumCPU())

// argonRuns counts argon2id computations (tests check the auth cache).
var argonRuns atomic.Int64

func idKey(pw, salt []byte, t, m uint32, p uint8, n uint32) []byte {
	argonRuns.Add(1)
	argonSlots <- struct{}{}
	defer func() { <-argonSlots }()
	return argon2.IDKey(pw, salt, t, m, p, n)
}

// dummyHash is checked against when an address is unknown, so that the
// answer takes as long as for a known address with a wrong password.
var dummyHash, _ = HashPassword("no such account, constant time")
