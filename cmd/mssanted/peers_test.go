package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mssanted/certs"
	"mssanted/db"
)

// These tests put real, independently written peers in front of the real
// binary: swaks and Python's smtplib as the mail clients of professionals,
// Postfix as the MTA of another operator of the trust space. They fail,
// never skip, when a peer is missing: scripts/test.sh installs them.

const (
	peerPro     = "dr@chu.example"
	peerPatient = "p@patient.example"
)

// peerTool finds a peer program, in PATH or in the sbin directories a
// non-root PATH may lack.
func peerTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Fatalf("%s is not installed: these tests use it as a real peer (scripts/test.sh installs it)", name)
	return ""
}

// peerRun runs a peer program and returns its combined output and exit
// code; a program that cannot run at all fails the test.
func peerRun(t *testing.T, stdin string, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %s: timed out\n%s", name, strings.Join(args, " "), out)
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", name, err)
	}
	return string(out), 0
}

// peerInstance initialises an instance with a professional and a patient.
func peerInstance(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	mustMSS(t, "", "init", "--data", data, "--domain", "chu.example", "--patient-domain", "patient.example")
	mustMSS(t, testPassword+"\n", "user", "add", "--data", data, "--password-stdin", "--role", "professional",
		"--address", peerPro, "--name", "Dr A", "--rpps", rpps("1000000042"), "--profession", "Médecin généraliste")
	mustMSS(t, testPassword+"\n", "user", "add", "--data", data, "--password-stdin", "--role", "patient",
		"--address", peerPatient, "--name", "P", "--ins", ins("2850375123456"), "--birth-date", "1985-03-14", "--sex", "F")
	return data
}

type peerMessage struct{ from, subject, trace string }

// peerMailbox reads the messages of address from the store; the server may
// be running (SQLite in WAL mode lets a second process read).
func peerMailbox(t *testing.T, data, address string) []peerMessage {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, data, "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rows, err := d.Read().QueryContext(ctx, `SELECT m.envelope_from, m.subject, m.trace FROM messages m
		JOIN accounts a ON a.id = m.account_id WHERE a.address = $1 ORDER BY m.id`, address)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []peerMessage
	for rows.Next() {
		var m peerMessage
		if err := rows.Scan(&m.from, &m.subject, &m.trace); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// peerSubjects checks that the mailbox holds exactly the given subjects,
// once each, and returns the messages by subject.
func peerSubjects(t *testing.T, data, address string, want ...string) map[string]peerMessage {
	t.Helper()
	msgs := peerMailbox(t, data, address)
	got := map[string]peerMessage{}
	for _, m := range msgs {
		if _, dup := got[m.subject]; dup {
			t.Errorf("%q is in the mailbox twice", m.subject)
		}
		got[m.subject] = m
	}
	for _, s := range want {
		if _, ok := got[s]; !ok {
			t.Errorf("%q is not in the mailbox of %s", s, address)
		}
	}
	if len(msgs) != len(want) {
		t.Errorf("the mailbox of %s holds %d messages, want %d: %+v", address, len(msgs), len(want), msgs)
	}
	return got
}

// peerOtherCA writes a self-signed CA that has nothing to do with the
// instance, for checking that a peer really verifies the server.
func peerOtherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Unrelated CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func peerPort(t *testing.T, addr string) string {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		t.Fatalf("no port in %q", addr)
	}
	return addr[i+1:]
}

// TestSwaksSubmission submits with swaks, over STARTTLS (AUTH PLAIN) and
// implicit TLS (AUTH LOGIN), verifying the server certificate against the
// instance CA, and checks the refusals a client sees without TLS.
func TestSwaksSubmission(t *testing.T) {
	t.Parallel()
	swaks := peerTool(t, "swaks")
	if out, _ := peerRun(t, "", swaks, "--support"); !strings.Contains(out, "TLS supported") {
		t.Fatalf("swaks has no TLS support (install libnet-ssleay-perl; scripts/test.sh does):\n%s", out)
	}
	data := peerInstance(t)
	ca := filepath.Join(data, "pki", "ca.pem")
	srv := startServe(t, data)
	sub, subs := peerPort(t, srv.addrs["smtp-submission"]), peerPort(t, srv.addrs["smtp-submissions"])
	peerPEM := filepath.Join(t.TempDir(), "peer.pem")
	base := []string{"--to", peerPatient, "--from", peerPro, "--server", "127.0.0.1", "--helo", "client.example",
		"--timeout", "30"}
	swaksRun := func(args ...string) (string, int) {
		t.Helper()
		return peerRun(t, "", swaks, append(append([]string{}, base...), args...)...)
	}
	creds := func(mech, password string) []string {
		return []string{"--auth", mech, "--auth-user", peerPro, "--auth-password", password}
	}

	// STARTTLS, AUTH PLAIN, the server certificate verified with ca.pem.
	out, code := swaksRun(append([]string{"--port", sub, "--tls", "--tls-verify", "--tls-ca-path", ca, "--tls-sni", "localhost",
		"--tls-get-peer-cert", peerPEM, "--header", "Subject: swaks STARTTLS PLAIN"}, creds("PLAIN", testPassword)...)...)
	if code != 0 || !strings.Contains(out, "=== TLS started") || !strings.Contains(out, "<~  235 ") {
		t.Fatalf("swaks STARTTLS + AUTH PLAIN: exit %d\n%s", code, out)
	}
	// swaks 20201014 checks the chain (--tls-verify) but not the host name:
	// check the certificate it received against "localhost" here.
	raw, err := os.ReadFile(peerPEM)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(raw)
	if blk == nil {
		t.Fatalf("swaks saved no peer certificate:\n%s", raw)
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost"}); err != nil {
		t.Errorf("the certificate swaks received is not valid for localhost under ca.pem: %v", err)
	}

	// Implicit TLS, AUTH LOGIN (Username:/Password: challenges).
	out, code = swaksRun(append([]string{"--port", subs, "--tlsc", "--tls-verify", "--tls-ca-path", ca, "--tls-sni", "localhost",
		"--header", "Subject: swaks implicit TLS LOGIN"}, creds("LOGIN", testPassword)...)...)
	if code != 0 || !strings.Contains(out, "<~  334 VXNlcm5hbWU6") || !strings.Contains(out, "<~  235 ") {
		t.Fatalf("swaks implicit TLS + AUTH LOGIN: exit %d\n%s", code, out)
	}

	// --tls-verify really verifies: under an unrelated CA the handshake fails.
	out, code = swaksRun(append([]string{"--port", subs, "--tlsc", "--tls-verify", "--tls-ca-path", peerOtherCA(t),
		"--header", "Subject: swaks unverified"}, creds("LOGIN", testPassword)...)...)
	if code == 0 || !strings.Contains(out, "certificate verify failed") {
		t.Errorf("swaks under an unrelated CA: exit %d (want a failed verification)\n%s", code, out)
	}

	// Without TLS: AUTH is not even offered (swaks exits 28 before sending
	// it), and MAIL gets the 530 reply.
	out, code = swaksRun(append([]string{"--port", sub, "--header", "Subject: swaks plain auth"}, creds("PLAIN", testPassword)...)...)
	if code != 28 || !strings.Contains(out, "Host did not advertise authentication") || strings.Contains(out, "-> AUTH") {
		t.Errorf("swaks AUTH without TLS: exit %d (want 28, AUTH not advertised)\n%s", code, out)
	}
	out, code = swaksRun("--port", sub, "--auth-optional", "--auth-user", peerPro, "--auth-password", testPassword,
		"--header", "Subject: swaks plain")
	if code != 23 || !regexp.MustCompile(`<\*\* 530 5\.7\.0 .*Must issue a STARTTLS command first`).MatchString(out) {
		t.Errorf("swaks MAIL without TLS: exit %d (want 23 and the 530 reply)\n%s", code, out)
	}

	// A wrong password over TLS: 535 5.7.8, exit 28.
	out, code = swaksRun(append([]string{"--port", sub, "--tls", "--tls-verify", "--tls-ca-path", ca,
		"--header", "Subject: swaks wrong password"}, creds("PLAIN", "not the password")...)...)
	if code != 28 || !strings.Contains(out, "535 5.7.8") {
		t.Errorf("swaks wrong password: exit %d (want 28 and 535 5.7.8)\n%s", code, out)
	}

	peerSubjects(t, data, peerPatient, "swaks STARTTLS PLAIN", "swaks implicit TLS LOGIN")
	srv.stop(t)
	peerSubjects(t, data, peerPatient, "swaks STARTTLS PLAIN", "swaks implicit TLS LOGIN")
}

// peerSMTPLib is run by python3 with: submission port, submissions port,
// CA file, user, password, recipient. It prints what it checked and exits
// non-zero on the first failure.
const peerSMTPLib = `
import base64, smtplib, socket, ssl, sys
from email.message import EmailMessage
from email.utils import make_msgid

sub, subs, cafile, user, password, rcpt = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context(cafile=cafile)

def message(subject):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = user, rcpt, subject
    m["Message-ID"] = make_msgid(domain="chu.example")
    m.set_content("Bonjour, voici le compte rendu.\n")
    return m

def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)

# Before STARTTLS: no AUTH advertised, login() refuses, a forced AUTH and
# MAIL get 5.7.x replies.
s = smtplib.SMTP("127.0.0.1", sub, local_hostname="client.example", timeout=30)
s.ehlo()
if not s.has_extn("starttls"):
    fail("STARTTLS not advertised")
if s.has_extn("auth"):
    fail("AUTH advertised before STARTTLS")
try:
    s.login(user, password)
    fail("login() before STARTTLS succeeded")
except smtplib.SMTPNotSupportedError as e:
    print("ok: login before STARTTLS:", e)
code, resp = s.docmd("AUTH", "PLAIN " + base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode())
if code // 100 != 5 or not resp.startswith(b"5.7."):
    fail("forced AUTH before STARTTLS: %d %r" % (code, resp))
print("ok: forced AUTH before STARTTLS:", code, resp.decode())
code, resp = s.mail(user)
if code != 530:
    fail("MAIL before STARTTLS: %d %r" % (code, resp))
print("ok: MAIL before STARTTLS:", code, resp.decode())
s.quit()

# STARTTLS on port 587 style: the certificate is checked for "localhost".
s = smtplib.SMTP("localhost", sub, local_hostname="client.example", timeout=30)
s.starttls(context=ctx)
s.ehlo()
if not s.has_extn("auth"):
    fail("AUTH not advertised after STARTTLS")
try:
    s.login(user, "not the password")
    fail("login with a wrong password succeeded")
except smtplib.SMTPAuthenticationError as e:
    if e.smtp_code != 535:
        fail("wrong password: %d %r" % (e.smtp_code, e.smtp_error))
    print("ok: wrong password:", e.smtp_code, e.smtp_error.decode())
s.login(user, password)
refused = s.send_message(message("python STARTTLS login"))
if refused:
    fail("refused recipients: %r" % refused)
s.quit()
print("ok: STARTTLS + login + send_message")

# Implicit TLS on port 465 style, AUTH LOGIN explicitly.
s = smtplib.SMTP_SSL("localhost", subs, local_hostname="client.example", timeout=30, context=ctx)
s.ehlo()
s.user, s.password = user, password
code, resp = s.auth("LOGIN", s.auth_login)
if code != 235:
    fail("AUTH LOGIN: %d %r" % (code, resp))
s.send_message(message("python SMTP_SSL LOGIN"))
s.quit()
print("ok: SMTP_SSL + AUTH LOGIN + send_message")

# The client really verifies: a name the certificate does not carry, and
# the system store (which does not hold the instance CA), both fail.
for name, c, host in (("wrong host name", ctx, "mail.elsewhere.example"), ("system CAs", ssl.create_default_context(), "localhost")):
    raw = socket.create_connection(("127.0.0.1", subs), timeout=30)
    try:
        c.wrap_socket(raw, server_hostname=host).close()
        fail("TLS accepted with " + name)
    except ssl.SSLCertVerificationError as e:
        print("ok: %s refused: %s" % (name, e.verify_message))
    finally:
        raw.close()
`

// TestPythonSmtplib submits with Python's smtplib, the library most
// scripts and practice programs written in Python use.
func TestPythonSmtplib(t *testing.T) {
	t.Parallel()
	python := peerTool(t, "python3")
	data := peerInstance(t)
	srv := startServe(t, data)
	script := filepath.Join(t.TempDir(), "submit.py")
	if err := os.WriteFile(script, []byte(peerSMTPLib), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := peerRun(t, "", python, script, peerPort(t, srv.addrs["smtp-submission"]), peerPort(t, srv.addrs["smtp-submissions"]),
		filepath.Join(data, "pki", "ca.pem"), peerPro, testPassword, peerPatient)
	if code != 0 {
		t.Fatalf("python3 smtplib: exit %d\n%s", code, out)
	}
	t.Logf("python3 smtplib:\n%s", out)
	peerSubjects(t, data, peerPatient, "python STARTTLS login", "python SMTP_SSL LOGIN")
	srv.stop(t)
}

// TestPostfixOperatorPeer makes a private Postfix instance the MTA of
// another operator, "autre-operateur.example", with its own CA (listed in
// our tls.anchors), and relays three messages to our MX: one with a client
// certificate whose DN the whitelist lists for the sender's domain, one
// with a certificate of the same CA that is not listed, one with no client
// certificate. Postfix verifies our server certificate for "localhost"
// under our CA (TLS level "secure").
func TestPostfixOperatorPeer(t *testing.T) {
	t.Parallel()
	postfix := peerTool(t, "postfix")
	postconf := peerTool(t, "postconf")
	sendmail := peerTool(t, "sendmail")
	if os.Geteuid() != 0 {
		t.Fatal("Postfix starts as root only (its daemons then drop to mail_owner): run the tests as root, as scripts/test.sh does")
	}
	if _, err := user.Lookup("postfix"); err != nil {
		t.Fatalf("no postfix user (is the Debian postfix package installed?): %v", err)
	}
	if out, code := peerRun(t, "", postconf, "-d", "-h", "mail_version"); code != 0 {
		t.Fatalf("postconf: exit %d\n%s", code, out)
	} else {
		t.Logf("Postfix %s", strings.TrimSpace(out))
	}

	data := peerInstance(t)

	// The Postfix directory must be reachable by mail_owner: t.TempDir is
	// 0700, so it gets its own 0755 directory.
	pdir, err := os.MkdirTemp("", "mssanted-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pdir) })
	if err := os.Chmod(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Postfix creates the queue's subdirectories and data_directory with
	// their owners; the queue directory itself belongs to root.
	etc := filepath.Join(pdir, "etc")
	for _, d := range []string{etc, filepath.Join(pdir, "spool")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name string, b []byte, perm os.FileMode) string {
		t.Helper()
		p := filepath.Join(etc, name)
		if err := os.WriteFile(p, b, perm); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// The other operator's CA: its TLS certificate (serverAuth+clientAuth)
	// is the listed one; a second leaf of the same CA is not listed.
	ca2, err := certs.Init(filepath.Join(pdir, "ca2"), "Autre Opérateur", []string{"mx.autre-operateur.example"})
	if err != nil {
		t.Fatal(err)
	}
	ca2PEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca2.CA().Raw})
	listed, err := ca2.IssueTLS([]string{"mx.autre-operateur.example"})
	if err != nil {
		t.Fatal(err)
	}
	unlisted, err := ca2.IssueTLS([]string{"mx.inconnu.example"})
	if err != nil {
		t.Fatal(err)
	}
	anchor := write("ca2.pem", ca2PEM, 0o644)
	listedCert := write("listed.pem", append(append([]byte{}, listed.CertPEM...), ca2PEM...), 0o644)
	listedKey := write("listed-key.pem", listed.KeyPEM, 0o600)
	unlistedCert := write("unlisted.pem", append(append([]byte{}, unlisted.CertPEM...), ca2PEM...), 0o644)
	unlistedKey := write("unlisted-key.pem", unlisted.KeyPEM, 0o600)
	ourCA, err := os.ReadFile(filepath.Join(data, "pki", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ourCAFile := write("mssanted-ca.pem", ourCA, 0o644)

	// Our side: the second CA becomes an anchor, the whitelist lists the
	// listed certificate's DN for autre-operateur.example (and someone else
	// for another domain).
	confPath := filepath.Join(data, ConfigFile)
	conf, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(conf, []byte("\nanchors = []\n")); n != 1 {
		t.Fatalf("mssanted.toml has %d `anchors = []` lines, want 1:\n%s", n, conf)
	}
	conf = bytes.Replace(conf, []byte("\nanchors = []\n"), []byte(fmt.Sprintf("\nanchors = [%q]\n", anchor)), 1)
	if err := os.WriteFile(confPath, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	esc := func(s string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	whitelist := filepath.Join(t.TempDir(), "liste-blanche.xml")
	if err := os.WriteFile(whitelist, []byte(`<?xml version="1.0" encoding="UTF-8"?>
<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">
    <DateDeGeneration>2026-01-05T08:00:00Z</DateDeGeneration>
    <ListeDomaines>
        <Domaine>
            <Nom>autre-operateur.example</Nom>
            <Description>Autre Opérateur (test)</Description>
            <DNCertificatOperateur>`+esc(listed.Cert.Subject.String())+`</DNCertificatOperateur>
            <ResponsableContact>rssi@autre-operateur.example</ResponsableContact>
            <SupportContact>support@autre-operateur.example</SupportContact>
            <DateMAJ>2026-01-05T08:00:00Z</DateMAJ>
        </Domaine>
        <Domaine>
            <Nom>inconnu.example</Nom>
            <Description>Un autre</Description>
            <DNCertificatOperateur>CN=someone.else.example,O=Other,C=FR</DNCertificatOperateur>
            <ResponsableContact>rssi@inconnu.example</ResponsableContact>
            <SupportContact>support@inconnu.example</SupportContact>
            <DateMAJ>2026-01-05T08:00:00Z</DateMAJ>
        </Domaine>
    </ListeDomaines>
</ListeBlancheMSSante>
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := mustMSS(t, "", "trust", "import", "--data", data, whitelist); !strings.Contains(out, "imported 2 entries") {
		t.Fatalf("trust import: %s", out)
	}
	srv := startServe(t, data)
	mx := srv.addrs["smtp-mx"]

	// Postfix: no DNS, no local delivery, no chroot. Each sender goes out
	// through its own smtp transport, which presents (or not) its client
	// certificate; every transport requires TLS and verifies our
	// certificate for "localhost" under our CA.
	nexthop := "[127.0.0.1]:" + peerPort(t, mx)
	senders := map[string]string{ // case -> envelope sender
		"listed":   "dr.listed@autre-operateur.example",
		"unlisted": "dr.unlisted@autre-operateur.example",
		"nocert":   "dr.nocert@autre-operateur.example",
	}
	var maps []string
	for c, s := range senders {
		maps = append(maps, s+"=op-"+c+":"+nexthop)
	}
	logFile := filepath.Join(pdir, "postfix.log")
	write("main.cf", []byte(`compatibility_level = 3.6
queue_directory = `+filepath.Join(pdir, "spool")+`
data_directory = `+filepath.Join(pdir, "data")+`
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.autre-operateur.example
mydomain = autre-operateur.example
myorigin = $mydomain
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtputf8_enable = no
maillog_file = `+logFile+`
maillog_file_prefixes = `+pdir+`
relayhost = `+nexthop+`
sender_dependent_default_transport_maps = inline:{`+strings.Join(maps, ", ")+`}
smtp_connection_cache_on_demand = no
smtp_tls_security_level = secure
smtp_tls_secure_cert_match = localhost
smtp_tls_CAfile = `+ourCAFile+`
smtp_tls_mandatory_protocols = >=TLSv1.2
smtp_tls_loglevel = 1
`), 0o644)
	write("master.cf", []byte(`pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
smtp      unix  -       -       n       -       -       smtp
op-listed unix  -       -       n       -       -       smtp
  -o smtp_tls_cert_file=`+listedCert+`
  -o smtp_tls_key_file=`+listedKey+`
op-unlisted unix -      -       n       -       -       smtp
  -o smtp_tls_cert_file=`+unlistedCert+`
  -o smtp_tls_key_file=`+unlistedKey+`
op-nocert unix  -       -       n       -       -       smtp
  -o smtp_tls_cert_file=
  -o smtp_tls_key_file=
`), 0o644)
	postfixLog := func() string {
		b, _ := os.ReadFile(logFile)
		return string(b)
	}
	// Stopped whatever happens, even after a start that failed midway.
	t.Cleanup(func() {
		if out, code := peerRun(t, "", postfix, "-c", etc, "stop"); code != 0 && !strings.Contains(out, "not running") {
			t.Errorf("postfix stop: exit %d\n%s", code, out)
		}
	})
	if out, code := peerRun(t, "", postfix, "-c", etc, "start"); code != 0 {
		t.Fatalf("postfix start: exit %d\n%s\n%s", code, out, postfixLog())
	}

	subjects := map[string]string{ // case -> subject
		"listed":   "postfix: listed operator certificate",
		"unlisted": "postfix: certificate not whitelisted",
		"nocert":   "postfix: no client certificate",
	}
	for c, from := range senders {
		msg := "From: <" + from + ">\nTo: <" + peerPatient + ">\nSubject: " + subjects[c] + "\n\nBonjour.\n"
		if out, code := peerRun(t, msg, sendmail, "-C", etc, "-f", from, "--", peerPatient); code != 0 {
			t.Fatalf("sendmail (%s): exit %d\n%s\n%s", c, code, out, postfixLog())
		}
	}

	// Postfix's verdict for each message, from its log: the queue ID of
	// each sender, then the status of its delivery to our patient.
	picked := regexp.MustCompile(`(?m)\]: ([0-9A-F]+): uid=\d+ from=<([^>]*)>$`)
	status := regexp.MustCompile(`(?m)\]: ([0-9A-F]+): to=<` + regexp.QuoteMeta(peerPatient) + `>, .*status=(\w+) \((.*)\)$`)
	verdict := map[string][2]string{} // case -> status, reason
	deadline := time.Now().Add(30 * time.Second)
	for len(verdict) < len(senders) {
		log := postfixLog()
		qid := map[string]string{} // queue ID -> case
		for _, m := range picked.FindAllStringSubmatch(log, -1) {
			for c, s := range senders {
				if m[2] == s {
					qid[m[1]] = c
				}
			}
		}
		for _, m := range status.FindAllStringSubmatch(log, -1) {
			if c, ok := qid[m[1]]; ok {
				verdict[c] = [2]string{m[2], m[3]}
			}
		}
		if len(verdict) == len(senders) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Postfix did not finish with every message in 30 s (verdicts %v):\n%s", verdict, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	log := postfixLog()
	t.Logf("Postfix verdicts: %q", verdict)

	// (a) The listed certificate: delivered, after Postfix verified our
	// certificate.
	if v := verdict["listed"]; v[0] != "sent" || !strings.HasPrefix(v[1], "250 ") {
		t.Errorf("listed operator: status=%s (%s), want sent with 250", v[0], v[1])
	}
	if !strings.Contains(log, "Verified TLS connection established to 127.0.0.1[127.0.0.1]:"+peerPort(t, mx)) {
		t.Errorf("Postfix did not verify our server certificate:\n%s", log)
	}
	// (b) Chains to an anchor, DN not listed: bounced with our 5.7.1.
	if v := verdict["unlisted"]; v[0] != "bounced" || !strings.Contains(v[1], "550 5.7.1") ||
		!strings.Contains(v[1], `is not whitelisted for domain "autre-operateur.example"`) ||
		!strings.Contains(v[1], "mx.inconnu.example") || !strings.Contains(v[1], "in reply to MAIL FROM command") {
		t.Errorf("unlisted certificate: status=%s (%s), want bounced with our 550 5.7.1 reply to MAIL FROM", v[0], v[1])
	}
	// (c) No client certificate: bounced with our 5.7.1 "certificate is
	// required".
	if v := verdict["nocert"]; v[0] != "bounced" || !regexp.MustCompile(`5\d\d 5\.7\.\d .*certificate is required`).MatchString(v[1]) {
		t.Errorf("no client certificate: status=%s (%s), want bounced with our 5.7.x reply", v[0], v[1])
	}
	if t.Failed() {
		t.Logf("Postfix log:\n%s", log)
	}

	// Only the listed operator's message is in the mailbox, received by
	// the MX with the operator certificate in its trace.
	got := peerSubjects(t, data, peerPatient, subjects["listed"])
	if m := got[subjects["listed"]]; m.from != senders["listed"] || !strings.Contains(m.trace, "door=mx") ||
		!strings.Contains(m.trace, "mx.autre-operateur.example") {
		t.Errorf("delivered message: %+v", m)
	}
	srv.stop(t)
}
