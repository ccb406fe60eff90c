package smtpd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"mssanted/certs"
	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/mailbox"
	"mssanted/smtpd"
)

const pw = "correct horse battery"

// env is an instance with its three SMTP listeners on ephemeral ports.
type env struct {
	t                   testing.TB
	d                   *db.DB
	ca                  *certs.Authority
	dir                 *directory.Store
	store               *mailbox.Store
	sub, subs, mx       string
	roots               *x509.CertPool
	doc, pat, ph, staff *directory.Account
	cfg                 smtpd.Config
}

var sharedCA struct {
	dir string
	ca  *certs.Authority
}

// authority is made once per test binary: RSA key generation dominates.
func authority(t testing.TB) *certs.Authority {
	t.Helper()
	if sharedCA.ca == nil {
		dir, err := makeTempDir()
		if err != nil {
			t.Fatal(err)
		}
		ca, err := certs.Init(dir+"/pki", "Test instance", []string{"localhost", "mail.hopital.example"})
		if err != nil {
			t.Fatal(err)
		}
		sharedCA.dir, sharedCA.ca = dir, ca
	}
	return sharedCA.ca
}

func newEnv(t testing.TB, lock *directory.Lockout) *env {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, db.SQLite)
	ca := authority(t)
	dir := directory.New(d, nil, nil, lock)
	must(t, dir.AddDomain(ctx, "hopital.example", directory.ProfessionalDomain))
	must(t, dir.AddDomain(ctx, "patient.example", directory.PatientDomain))
	blobs, err := db.NewFSBlobs(t.TempDir())
	must(t, err)
	store := mailbox.New(d, blobs)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cert, err := ca.ServerCertificate()
	must(t, err)
	e := &env{t: t, d: d, ca: ca, dir: dir, store: store, roots: ca.CAPool()}
	e.cfg = smtpd.Config{
		Hostname: "mail.hopital.example",
		TLS:      &tls.Config{Certificates: []tls.Certificate{cert}},
		Pipeline: &mailbox.Pipeline{Store: store, Dir: dir, Hostname: "mail.hopital.example", Product: "mssanted/test", Log: log},
		Dir:      dir, Anchors: ca.CAPool(), MaxMessageBytes: 1 << 20, Log: log,
	}
	e.sub = serve(t, smtpd.NewSubmission(e.cfg), nil)
	e.subs = serve(t, smtpd.NewSubmission(e.cfg), e.cfg.TLS)
	e.mx = serve(t, smtpd.NewMX(e.cfg), nil)

	k, _ := directory.INSKey("2850375123456")
	rpps := func(p string) string { return p + string(directory.LuhnKey(p)) }
	e.doc = create(t, dir, directory.NewAccount{Address: "dr@hopital.example", Role: directory.Professional, DisplayName: "Dr A",
		Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000001"), Profession: "Médecin généraliste"}})
	e.pat = create(t, dir, directory.NewAccount{Address: "jeanne@patient.example", Role: directory.Patient, DisplayName: "Jeanne",
		Patient: &directory.PatientInfo{INS: "2850375123456" + k, BirthDate: time.Date(1985, 3, 14, 0, 0, 0, 0, time.UTC), Sex: "F"}})
	e.ph = create(t, dir, directory.NewAccount{Address: "gare@hopital.example", Role: directory.Pharmacy, DisplayName: "Pharmacie de la Gare",
		Pharmacy: &directory.PharmacyInfo{FINESS: "030001230", PostalAddress: "1 pl de la Gare", PostalCode: "03000", Commune: "Moulins", ReachableByPatients: true}})
	e.staff = create(t, dir, directory.NewAccount{Address: "pharmacien@hopital.example", Role: directory.Professional, DisplayName: "M. Pharmacien",
		StaffOf: "gare@hopital.example", Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000002"), Profession: "Pharmacien"}})
	return e
}

func create(t testing.TB, dir *directory.Store, n directory.NewAccount) *directory.Account {
	t.Helper()
	n.Password = pw
	a, err := dir.Create(context.Background(), n)
	must(t, err)
	return a
}

type server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

func serve(t testing.TB, s server, tc *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v after Shutdown", err)
		}
	})
	return addr
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) tlsConfig() *tls.Config {
	return &tls.Config{RootCAs: e.roots, ServerName: "localhost"}
}

// dial opens a submission session over STARTTLS, authenticated when user
// is set.
func (e *env) dial(user string) *smtp.Client {
	e.t.Helper()
	c, err := smtp.DialStartTLS(e.sub, e.tlsConfig())
	must(e.t, err)
	e.t.Cleanup(func() { c.Close() })
	if user != "" {
		must(e.t, c.Auth(sasl.NewPlainClient("", user, pw)))
	}
	return c
}

func code(err error) (int, [3]int) {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code, [3]int(se.EnhancedCode)
	}
	return 0, [3]int{}
}

func msg(from, to, subject string) string {
	return fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: Wed, 25 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour, voici l'ordonnance.\r\n", from, to, subject)
}

func send(c *smtp.Client, from string, to []string, data string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	io.WriteString(w, data)
	return w.Close()
}

func (e *env) inbox(a *directory.Account) []mailbox.Summary {
	e.t.Helper()
	in, err := e.store.Inbox(context.Background(), a.ID)
	must(e.t, err)
	return in
}

func TestBeforeTLS(t *testing.T) {
	e := newEnv(t, nil)
	c, err := smtp.Dial(e.sub)
	must(t, err)
	defer c.Close()
	must(t, c.Hello("client.example"))
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not offered")
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Fatal("AUTH offered before TLS")
	}
	if err := c.Auth(sasl.NewPlainClient("", e.doc.Address, pw)); err == nil {
		t.Fatal("AUTH accepted before TLS")
	}
	if err := c.Mail(e.doc.Address, nil); err == nil {
		t.Fatal("MAIL accepted before TLS")
	} else if n, enh := code(err); n != 530 || enh != [3]int{5, 7, 0} {
		t.Fatalf("MAIL before TLS: %v", err)
	}
	// TLS 1.1 is refused on the implicit-TLS port.
	if c, err := tls.Dial("tcp", e.subs, &tls.Config{RootCAs: e.roots, ServerName: "localhost", MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Fatal("TLS 1.1 accepted")
	}
}

func TestExtensions(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial("")
	for ext, param := range map[string]string{"AUTH": "PLAIN LOGIN", "PIPELINING": "", "8BITMIME": "", "SMTPUTF8": "",
		"ENHANCEDSTATUSCODES": "", "SIZE": "1048576", "CHUNKING": "", "DSN": ""} {
		ok, got := c.Extension(ext)
		if !ok || param != "" && got != param {
			t.Errorf("EHLO %s: offered %v with %q, want %q", ext, ok, got, param)
		}
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered inside TLS")
	}
}

func TestSubmissionPolicy(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial("")
	if err := c.Auth(sasl.NewPlainClient("", e.doc.Address, "wrong password")); err == nil {
		t.Fatal("wrong password accepted")
	} else if n, enh := code(err); n != 535 || enh != [3]int{5, 7, 8} {
		t.Fatalf("wrong password: %v", err)
	}
	if err := c.Mail(e.doc.Address, nil); err == nil {
		t.Fatal("MAIL without AUTH accepted")
	}
	must(t, c.Auth(sasl.NewPlainClient("", e.doc.Address, pw)))
	if err := c.Mail(e.ph.Address, nil); err == nil {
		t.Fatal("MAIL FROM someone else accepted")
	} else if n, enh := code(err); n != 553 || enh != [3]int{5, 7, 1} || !strings.Contains(err.Error(), "envoyer en tant que") {
		t.Fatalf("MAIL FROM someone else: %v", err)
	}
	must(t, c.Mail(e.doc.Address, &smtp.MailOptions{Return: smtp.DSNReturnHeaders, EnvelopeID: "ENV-1"}))
	if err := c.Rcpt("nobody@patient.example", nil); err == nil {
		t.Fatal("unknown local recipient accepted")
	} else if n, enh := code(err); n != 550 || enh != [3]int{5, 1, 1} || !strings.Contains(err.Error(), "Adresse inconnue") || !strings.Contains(err.Error(), "No such mailbox") {
		t.Fatalf("unknown recipient: %v", err)
	}
	must(t, c.Rcpt(e.pat.Address, &smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifyFailure}}))
	must(t, c.Rcpt("confrere@autre-operateur.example", &smtp.RcptOptions{OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: "confrere@autre-operateur.example"}))
	w, err := c.Data()
	must(t, err)
	io.WriteString(w, msg(e.doc.Address, e.pat.Address, "Ordonnance"))
	must(t, w.Close())
	in := e.inbox(e.pat)
	if len(in) != 1 || in[0].Subject != "Ordonnance" || !strings.Contains(in[0].Trace, "auth=dr@hopital.example") || !strings.Contains(in[0].Trace, "tls=TLS") {
		t.Fatalf("patient inbox %+v", in)
	}
	q, err := e.store.QueueList(context.Background(), mailbox.Queued)
	must(t, err)
	if len(q) != 1 || q[0].EnvID != "ENV-1" || q[0].Ret != "HDRS" || q[0].ORCPT != "rfc822;confrere@autre-operateur.example" {
		t.Fatalf("queued %+v", q)
	}

	// Staff of an ORG mailbox may send as the ORG, over implicit TLS and LOGIN.
	tc, err := tls.Dial("tcp", e.subs, e.tlsConfig())
	must(t, err)
	c2 := smtp.NewClient(tc)
	defer c2.Close()
	must(t, c2.Hello("client.example"))
	must(t, c2.Auth(&loginClient{user: e.staff.Address, pass: pw}))
	must(t, send(c2, e.ph.Address, []string{e.doc.Address}, msg(e.ph.Address, e.doc.Address, "Délivrance")))
	if in := e.inbox(e.doc); len(in) != 1 || in[0].EnvelopeFrom != e.ph.Address {
		t.Fatalf("doctor inbox %+v", in)
	}
}

// loginClient speaks SASL LOGIN, which go-sasl has no client for either.
type loginClient struct{ user, pass string }

func (l *loginClient) Start() (string, []byte, error) { return "LOGIN", nil, nil }
func (l *loginClient) Next(ch []byte) ([]byte, error) {
	switch string(ch) {
	case "Username:":
		return []byte(l.user), nil
	case "Password:":
		return []byte(l.pass), nil
	}
	return nil, fmt.Errorf("unexpected challenge %q", ch)
}

func TestLockout(t *testing.T) {
	e := newEnv(t, directory.NewLockout(directory.LockoutPolicy{Failures: 3, Window: time.Minute, Duration: time.Hour}))
	for i := 0; i < 3; i++ {
		c := e.dial("")
		if err := c.Auth(sasl.NewPlainClient("", e.doc.Address, "wrong password")); err == nil {
			t.Fatal("wrong password accepted")
		}
	}
	c := e.dial("")
	err := c.Auth(sasl.NewPlainClient("", e.doc.Address, pw))
	if n, enh := code(err); n != 454 || enh != [3]int{4, 7, 0} {
		t.Fatalf("right password while locked: %v", err)
	}
}

func TestSizeAndChunking(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(e.doc.Address)
	big := msg(e.doc.Address, e.pat.Address, "trop gros") + strings.Repeat("x", 2<<20) + "\r\n"
	// Declared with SIZE=: refused at MAIL (RFC 1870).
	if err := c.Mail(e.doc.Address, &smtp.MailOptions{Size: int64(len(big))}); err == nil {
		t.Fatal("MAIL with SIZE over the limit accepted")
	} else if n, enh := code(err); n != 552 || enh != [3]int{5, 3, 4} {
		t.Fatalf("oversized SIZE: %v", err)
	}
	// Undeclared: refused during DATA (the server may close the link).
	if err := send(c, e.doc.Address, []string{e.pat.Address}, big); err == nil {
		t.Fatal("message over SIZE accepted")
	}
	if len(e.inbox(e.pat)) != 0 {
		t.Fatal("oversized message stored")
	}

	// BDAT (RFC 3030), by hand, pipelined.
	tc, err := tls.Dial("tcp", e.subs, e.tlsConfig())
	must(t, err)
	defer tc.Close()
	r := bufio.NewReader(tc)
	expect := func(prefix string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			must(t, err)
			if !strings.HasPrefix(line, prefix) {
				t.Fatalf("got %q, want %s", line, prefix)
			}
			if len(line) > 3 && line[3] == ' ' {
				return
			}
		}
	}
	expect("220")
	body := msg(e.doc.Address, e.pat.Address, "Par morceaux")
	half := len(body) / 2
	fmt.Fprintf(tc, "EHLO client.example\r\n")
	expect("250")
	fmt.Fprintf(tc, "AUTH PLAIN %s\r\n", plain(e.doc.Address, pw))
	expect("235")
	fmt.Fprintf(tc, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nBDAT %d\r\n%sBDAT %d LAST\r\n%s", e.doc.Address, e.pat.Address, half, body[:half], len(body)-half, body[half:])
	expect("250")
	expect("250")
	expect("250")
	expect("250")
	fmt.Fprintf(tc, "QUIT\r\n")
	expect("221")
	if in := e.inbox(e.pat); len(in) != 1 || in[0].Subject != "Par morceaux" {
		t.Fatalf("BDAT message: %+v", in)
	}
}

func plain(u, p string) string {
	return b64("\x00" + u + "\x00" + p)
}

func TestRepliesAreASCII(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(e.doc.Address)
	must(t, c.Mail(e.doc.Address, nil))
	err := c.Rcpt("inconnu@patient.example", nil)
	if err == nil {
		t.Fatal("unknown recipient accepted")
	}
	for _, r := range err.Error() {
		if r > 0x7e {
			t.Fatalf("non-ASCII reply without SMTPUTF8: %q", err.Error())
		}
	}
	if !strings.Contains(err.Error(), "Adresse inconnue") {
		t.Fatalf("reply lost its French text: %q", err)
	}
}
