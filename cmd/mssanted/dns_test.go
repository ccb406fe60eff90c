package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDNSRecords runs `mssanted dns` and reads its zone-file lines.
func TestDNSRecords(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	mustMSS(t, "", "init", "--data", data, "--domain", "chu.example", "--patient-domain", "patient.example")
	out := mustMSS(t, "", "dns", "--data", data)
	got := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || strings.HasPrefix(line, ";") {
			continue
		}
		if f[1] != "3600" || f[2] != "IN" {
			t.Fatalf("record %q: want TTL 3600, class IN", line)
		}
		got[f[0]+" "+f[3]] = strings.Join(f[4:], " ")
	}
	want := map[string]string{
		"chu.example. MX":                    "10 mail.chu.example.",
		"_submissions._tcp.chu.example. SRV": "0 1 5465 mail.chu.example.",
		"_submission._tcp.chu.example. SRV":  "10 1 5587 mail.chu.example.",
		"_imaps._tcp.chu.example. SRV":       "0 1 1993 mail.chu.example.",
		"_imap._tcp.chu.example. SRV":        "10 1 1143 mail.chu.example.",
		"_pop3._tcp.chu.example. SRV":        "0 0 0 .",
		"_pop3s._tcp.chu.example. SRV":       "0 0 0 .",
		"autoconfig.chu.example. CNAME":      "mail.chu.example.",
		"patient.example. MX":                "10 mail.chu.example.",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q\n%s", k, got[k], v, out)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d records, want %d:\n%s", len(got), len(want), out)
	}
	if !strings.Contains(out, "port 25") {
		t.Errorf("no word about the MX port 2525:\n%s", out)
	}
	if _, errs, code := mss(t, "", "dns"); code != 2 || !strings.Contains(errs, "--data") {
		t.Errorf("dns without --data: exit %d %s", code, errs)
	}
	if out, _, _ := mss(t, "", "help"); !strings.Contains(out, "mssanted dns --data DIR") {
		t.Errorf("usage lacks dns:\n%s", out)
	}
}

// TestAutoconfigServed reads Thunderbird's autoconfig from the running
// binary: the host name of the configuration, the ports really bound.
func TestAutoconfigServed(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	mustMSS(t, "", "init", "--data", data, "--domain", "chu.example", "--patient-domain", "patient.example")
	srv := startServe(t, data)
	caPEM, err := os.ReadFile(filepath.Join(data, "pki", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}}}
	resp, err := hc.Get("https://" + srv.addrs["https"] + "/mail/config-v1.1.xml?emailaddress=dr%40chu.example")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("autoconfig: %d %s", resp.StatusCode, raw)
	}
	type server struct {
		Type       string `xml:"type,attr"`
		Hostname   string `xml:"hostname"`
		Port       int    `xml:"port"`
		SocketType string `xml:"socketType"`
	}
	var cfg struct {
		Provider struct {
			ID       string   `xml:"id,attr"`
			Incoming []server `xml:"incomingServer"`
			Outgoing []server `xml:"outgoingServer"`
		} `xml:"emailProvider"`
	}
	if err := xml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	port := func(name string) int { n, _ := strconv.Atoi(peerPort(t, srv.addrs[name])); return n }
	want := []server{
		{"imap", "mail.chu.example", port("imaps"), "SSL"}, {"imap", "mail.chu.example", port("imap"), "STARTTLS"},
		{"smtp", "mail.chu.example", port("smtp-submissions"), "SSL"}, {"smtp", "mail.chu.example", port("smtp-submission"), "STARTTLS"},
	}
	got := append(cfg.Provider.Incoming, cfg.Provider.Outgoing...)
	if cfg.Provider.ID != "chu.example" || len(got) != len(want) {
		t.Fatalf("autoconfig: %+v\n%s", cfg, raw)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("server %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	srv.stop(t)
}
