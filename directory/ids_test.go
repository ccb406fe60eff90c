package directory

import (
	"strings"
	"testing"
	"time"
)

func TestINS(t *testing.T) {
	// The patient address example of reference.md.
	if err := ValidINS("279035121518989"); err != nil {
		t.Fatalf("reference INS refused: %v", err)
	}
	for _, bad := range []string{"279035121518988", "27903512151898", "2790351215189890", "979035121518989", "27903X121518989"} {
		if ValidINS(bad) == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	// Corsica: 2A counts as 19 in the key.
	k, err := INSKey("185072A123456")
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidINS("185072A123456" + k); err != nil {
		t.Fatal(err)
	}
	if ValidINS("1850719123456"+k) != nil {
		t.Fatal("2A and 19 must give the same key")
	}
}

func TestRPPS(t *testing.T) {
	good := "1000000001" + string(LuhnKey("1000000001"))
	if err := ValidRPPS(good); err != nil {
		t.Fatal(err)
	}
	last := good[10] - '0'
	bad := good[:10] + string('0'+(last+1)%10)
	if ValidRPPS(bad) == nil || ValidRPPS("123") == nil {
		t.Fatal("bad RPPS accepted")
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("un mot de passe très long")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash format %s", h)
	}
	if ok, err := CheckPassword(h, "un mot de passe très long"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, _ := CheckPassword(h, "un mot de passe tres long"); ok {
		t.Fatal("wrong password accepted")
	}
	h2, _ := HashPassword("un mot de passe très long")
	if h2 == h {
		t.Fatal("two hashes of the same password share a salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", h[:len(h)-3] + "!!!"} {
		if _, err := CheckPassword(bad, "x"); err == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestLockout(t *testing.T) {
	l := NewLockout(LockoutPolicy{Failures: 3, Window: time.Minute, Duration: 10 * time.Minute})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Failures spread wider than the window never lock.
	for i := 0; i < 5; i++ {
		if l.Fail(t0.Add(time.Duration(i)*time.Minute), "a@x.example", "") {
			t.Fatal("locked by failures outside the window")
		}
	}
	// Three from one client across accounts lock the client.
	l.Fail(t0, "b@x.example", "198.51.100.7")
	l.Fail(t0, "c@x.example", "198.51.100.7")
	if !l.Fail(t0, "d@x.example", "198.51.100.7") {
		t.Fatal("client not locked after 3 failures")
	}
	if l.Check(t0.Add(time.Minute), "e@x.example", "198.51.100.7") == nil {
		t.Fatal("locked client let in")
	}
	if l.Check(t0.Add(time.Minute), "e@x.example", "198.51.100.8") != nil {
		t.Fatal("another client refused")
	}
	if l.Check(t0.Add(11*time.Minute), "e@x.example", "198.51.100.7") != nil {
		t.Fatal("lock did not expire")
	}
}
