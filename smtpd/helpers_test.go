package smtpd_test

import (
	"encoding/base64"
	"os"
	"testing"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func makeTempDir() (string, error) { return os.MkdirTemp("", "smtpd-test-") }

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedCA.dir != "" {
		os.RemoveAll(sharedCA.dir)
	}
	os.Exit(code)
}
