package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"mssanted/db/dbtest"
	"mssanted/directory"
)

// These tests build the real binary and drive it as a user and a script
// would: through its command line, its exit codes and its listeners.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mssanted-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "mssanted")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// mss runs the binary and returns its stdout, stderr and exit code.
func mss(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func mustMSS(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errs, code := mss(t, stdin, args...)
	if code != 0 {
		t.Fatalf("mssanted %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func ins(body string) string {
	k, _ := directory.INSKey(body)
	return body + k
}

func rpps(p string) string { return p + string(directory.LuhnKey(p)) }

const testPassword = "a long enough password"

func TestBinaryEndToEnd(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testBinary(t, "") })
	t.Run("postgres", func(t *testing.T) { testBinary(t, dbtest.SchemaDSN(t)) })
}

func testBinary(t *testing.T, dsn string) {
	data := t.TempDir()
	initArgs := []string{"init", "--data", data, "--domain", "chu.example", "--patient-domain", "patient.example"}
	if dsn != "" {
		initArgs = append(initArgs, "--dsn", dsn)
	}
	mustMSS(t, "", initArgs...)

	// The configuration has every key, each with a comment.
	conf, err := os.ReadFile(filepath.Join(data, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"domains", "patient_domain", "hostname", "dsn", "smtp_mx", "smtp_submission",
		"smtp_submissions", "imap", "imaps", "http", "metrics", "format", "level", "lockout_failures", "anchors", "grace"} {
		re := regexp.MustCompile(`(?m)^# .+\n` + key + ` = `)
		if !re.Match(conf) {
			t.Errorf("config key %s missing or without a comment", key)
		}
	}
	for _, f := range []string{"pki/ca-key.pem", "pki/tls-key.pem"} {
		if fi, err := os.Stat(filepath.Join(data, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v", f, fi.Mode(), err)
		}
	}
	if _, _, code := mss(t, "", initArgs...); code != 2 {
		t.Errorf("init twice: exit %d, want 2", code)
	}

	// user add, one per role.
	add := func(stdin string, args ...string) (string, string, int) {
		return mss(t, stdin, append([]string{"user", "add", "--data", data, "--password-stdin"}, args...)...)
	}
	for _, args := range [][]string{
		{"--role", "professional", "--address", "dr.house@chu.example", "--name", "Dr Grégoire House", "--rpps", rpps("1000000042"), "--profession", "Médecin généraliste"},
		{"--role", "patient", "--address", "jeanne@patient.example", "--name", "Jeanne Durand", "--ins", ins("2850375123456"), "--birth-date", "1985-03-14", "--sex", "F"},
		{"--role", "pharmacy", "--address", "officine@chu.example", "--name", "Pharmacie de la Gare", "--finess", "030001230",
			"--postal-address", "12 AV de la Gare", "--postal-code", "03000", "--commune", "Moulins", "--reachable-by-patients"},
		{"--role", "admin", "--address", "admin@chu.example", "--name", "Admin"},
	} {
		if out, errs, code := add(testPassword+"\n", args...); code != 0 {
			t.Fatalf("user add %v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	// Bad input: exit 2, a reason on stderr, nothing written.
	for name, args := range map[string][]string{
		"unknown role":   {"--role", "nurse", "--address", "x@chu.example", "--name", "X"},
		"malformed INS":  {"--role", "patient", "--address", "p2@patient.example", "--name", "P", "--ins", "2850375123457", "--birth-date", "1985-03-14", "--sex", "F"},
		"wrong INS key":  {"--role", "patient", "--address", "p3@patient.example", "--name", "P", "--ins", ins("2850375123456")[:13] + "00", "--birth-date", "1985-03-14", "--sex", "F"},
		"duplicate":      {"--role", "professional", "--address", "DR.HOUSE@chu.example", "--name", "Dr Bis", "--rpps", rpps("1000000043"), "--profession", "Cardiologue"},
		"duplicate INS":  {"--role", "patient", "--address", "p4@patient.example", "--name", "P", "--ins", ins("2850375123456"), "--birth-date", "1985-03-14", "--sex", "F"},
		"foreign flag":   {"--role", "professional", "--address", "y@chu.example", "--name", "Y", "--rpps", rpps("1000000044"), "--profession", "X", "--ins", ins("2850375123456")},
		"no profession":  {"--role", "professional", "--address", "z@chu.example", "--name", "Z", "--rpps", rpps("1000000045")},
		"bad birth date": {"--role", "patient", "--address", "p5@patient.example", "--name", "P", "--ins", ins("1850375123456"), "--birth-date", "14/03/1985", "--sex", "M"},
	} {
		out, errs, code := add(testPassword+"\n", args...)
		if code != 2 || !strings.Contains(errs, "mssanted:") {
			t.Errorf("%s: exit %d (want 2)\n%s%s", name, code, out, errs)
		}
	}
	list := mustMSS(t, "", "user", "list", "--data", data)
	if n := strings.Count(list, "\n"); n != 5 {
		t.Errorf("user list has %d lines, want header + 4 accounts:\n%s", n, list)
	}
	for _, want := range []string{`dr\.house@chu\.example\s+professional\s+PER`, "Médecin généraliste", `jeanne@patient\.example\s+patient`,
		`officine@chu\.example\s+pharmacy\s+ORG`, "reachable by patients"} {
		if !regexp.MustCompile(want).MatchString(list) {
			t.Errorf("user list lacks %q:\n%s", want, list)
		}
	}

	// Each mailbox got an S/MIME certificate chaining to the CA, with its
	// address in the SAN.
	caPEM, err := os.ReadFile(filepath.Join(data, "pki", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	exported := mustMSS(t, "", "certs", "export", "--data", data, "--address", "jeanne@patient.example")
	blk, _ := pem.Decode([]byte(exported))
	if blk == nil {
		t.Fatalf("certs export printed no PEM:\n%s", exported)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
		t.Errorf("mailbox certificate does not chain: %v", err)
	}
	if len(cert.EmailAddresses) != 1 || cert.EmailAddresses[0] != "jeanne@patient.example" {
		t.Errorf("SAN emails %v", cert.EmailAddresses)
	}
	mustMSS(t, "", "certs", "revoke", "--data", data, "--address", "jeanne@patient.example")
	if _, _, code := mss(t, "", "certs", "export", "--data", data, "--address", "jeanne@patient.example"); code != 2 {
		t.Errorf("export after revoke: exit %d, want 2", code)
	}
	if _, err := os.Stat(filepath.Join(data, "pki", "crl.pem")); err != nil {
		t.Errorf("no CRL after revoke: %v", err)
	}
	mustMSS(t, "", "certs", "issue", "--data", data, "--address", "jeanne@patient.example")
	mustMSS(t, "", "certs", "export", "--data", data, "--address", "jeanne@patient.example")

	if out := mustMSS(t, "", "migrate", "--data", data); !strings.Contains(out, "applied 0 migrations") {
		t.Errorf("migrate on a migrated database: %s", out)
	}

	// serve: HTTPS verified with the CA file, metrics, clean SIGTERM.
	srv := startServe(t, data)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}}}
	resp, err := client.Get("https://" + srv.addrs["https"] + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS with the instance CA: %v", err)
	}
	var health map[string]string
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if health["status"] != "ok" || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("healthz: %v %v", health, resp.Header)
	}
	if resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("TLS version %x", resp.TLS.Version)
	}
	// TLS 1.1 is refused.
	if c, err := tls.Dial("tcp", srv.addrs["https"], &tls.Config{RootCAs: roots, ServerName: "localhost", MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Error("TLS 1.1 handshake accepted")
	}
	mresp, err := http.Get("http://" + srv.addrs["metrics"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, m := range []string{"mssanted_build_info", "mssanted_outbound_queued 0", "mssanted_imap_connections", "mssanted_smtp_auth_failures_total"} {
		if !bytes.Contains(metrics, []byte(m)) {
			t.Errorf("metrics lack %s", m)
		}
	}
	srv.stop(t)
}

type served struct {
	cmd   *exec.Cmd
	addrs map[string]string
	logs  *bytes.Buffer
	done  chan error
}

// startServe runs `mssanted serve` on ephemeral ports and waits until
// every listener is bound (read from its log lines).
func startServe(t *testing.T, data string, extra ...string) *served {
	t.Helper()
	args := append([]string{"serve", "--data", data, "--http", "127.0.0.1:0", "--metrics", "127.0.0.1:0",
		"--smtp-mx", "127.0.0.1:0", "--smtp-submission", "127.0.0.1:0", "--smtp-submissions", "127.0.0.1:0",
		"--imap", "127.0.0.1:0", "--imaps", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(binary, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, addrs: map[string]string{}, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`msg=listening listener=(\S+) addr=(\S+)`)
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteString(line + "\n")
			if m := re.FindStringSubmatch(line); m != nil {
				s.addrs[m[1]] = m[2]
			}
			if strings.Contains(line, `msg="mssanted started"`) {
				close(started)
			}
		}
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	select {
	case <-started:
	case err := <-s.done:
		t.Fatalf("serve exited early: %v\n%s", err, s.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start:\n%s", s.logs)
	}
	return s
}

func (s *served) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s", err, s.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop after SIGTERM:\n%s", s.logs)
	}
	if !strings.Contains(s.logs.String(), "mssanted stopped") {
		t.Errorf("no clean stop in the logs:\n%s", s.logs)
	}
	// The listeners are closed.
	for name, addr := range s.addrs {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts on %s after exit", name, addr)
		}
	}
}
