package certs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// RSA key generation dominates the run time under -race, so the tests share
// one authority and a few mailbox certificates, made once.

var (
	fixOnce sync.Once
	fixErr  error
	fix     struct {
		dir    string // the pki directory of the shared authority
		ca     *Authority
		alice  *Issued
		alice2 *Issued // a renewal of alice, issued after alice
		bob    *Issued
	}
)

const (
	aliceAddr = "Alice.Martin@hopital.mssante.example"
	bobAddr   = "bob@pharmacie.mssante.example"
)

var tlsHosts = []string{"mx.operateur.example", "192.0.2.10", "MX.operateur.example."}

func TestMain(m *testing.M) {
	root, err := os.MkdirTemp("", "certs-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fix.dir = filepath.Join(root, "pki")
	code := m.Run()
	os.RemoveAll(root)
	os.Exit(code)
}

// shared returns the authority the tests share, initialised on first use.
func shared(t testing.TB) *Authority {
	t.Helper()
	fixOnce.Do(func() {
		if fix.ca, fixErr = Init(fix.dir, "Hôpital Test", tlsHosts); fixErr != nil {
			return
		}
		// Issue from a loaded authority: it proves Load returns a usable key.
		a, err := Load(fix.dir)
		if err != nil {
			fixErr = err
			return
		}
		if fix.alice, fixErr = a.IssueMailbox(aliceAddr, "Dr Alice Martin"); fixErr != nil {
			return
		}
		if fix.bob, fixErr = a.IssueMailbox(bobAddr, ""); fixErr != nil {
			return
		}
		// Renewals are newer by NotBefore; make sure the second differs.
		time.Sleep(time.Until(fix.alice.Cert.NotBefore.Add(backdate + time.Second)))
		fix.alice2, fixErr = a.IssueMailbox(aliceAddr, "Dr Alice Martin")
	})
	if fixErr != nil {
		t.Fatalf("fixture: %v", fixErr)
	}
	return fix.ca
}

// writeTemp writes data to a new file in a test directory.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// openssl runs the real OpenSSL with args and returns its combined output.
func openssl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Stdin = nil // /dev/null: s_client quits after the handshake
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func needOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is not installed: it is the interop peer of these tests (scripts/test.sh installs it)")
	}
}
