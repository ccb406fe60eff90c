package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A remote operator's mailbox certificate is imported so mail to it can be
// encrypted; it must name the address and chain to an anchor.
func TestCertsImportRecipient(t *testing.T) {
	here, there := t.TempDir(), t.TempDir()
	mustMSS(t, "", "init", "--data", here, "--domain", "chu.example", "--patient-domain", "patient.example")
	mustMSS(t, "", "init", "--data", there, "--domain", "autre.example", "--patient-domain", "patient.autre.example")
	mustMSS(t, testPassword+"\n", "user", "add", "--data", there, "--password-stdin", "--role", "professional",
		"--address", "confrere@autre.example", "--name", "Dr Confrère", "--rpps", rpps("1000000042"), "--profession", "Cardiologue")
	pemFile := filepath.Join(t.TempDir(), "confrere.pem")
	if err := os.WriteFile(pemFile, []byte(mustMSS(t, "", "certs", "export", "--data", there, "--address", "confrere@autre.example")), 0o600); err != nil {
		t.Fatal(err)
	}
	// Not an anchor yet: refused.
	if out, errs, code := mss(t, "", "certs", "import-recipient", "--data", here, "--address", "confrere@autre.example", pemFile); code != 2 {
		t.Fatalf("import without the remote CA as anchor: exit %d\n%s%s", code, out, errs)
	}
	conf := filepath.Join(here, ConfigFile)
	body, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	body = []byte(strings.Replace(string(body), "anchors = []", `anchors = ["`+filepath.Join(there, "pki", "ca.pem")+`"]`, 1))
	if err := os.WriteFile(conf, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := mss(t, "", "certs", "import-recipient", "--data", here, "--address", "autre@autre.example", pemFile); code != 2 || !strings.Contains(errs, "does not name") {
		t.Fatalf("import for another address: exit %d\n%s%s", code, out, errs)
	}
	out := mustMSS(t, "", "certs", "import-recipient", "--data", here, "--address", "confrere@autre.example", pemFile)
	if !strings.Contains(out, "will be encrypted") {
		t.Fatalf("import: %s", out)
	}
	mustMSS(t, "", "certs", "import-recipient", "--data", here, "--address", "Confrere@autre.example", pemFile) // again: no change
}
