package smtpd_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"
	mtextproto "github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"

	"mssanted/certs"
	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/mailbox"
	"mssanted/smtpd"
)

// The outbound sender against a real "remote operator": go-smtp's server
// on 127.0.0.1 with its own CA, requiring and verifying our client
// certificate. Time moves with a fake clock, never with sleeps.

func TestOutbound(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{
		{Name: "delivered-mutual-tls", Run: testOutDelivered},
		{Name: "relayed-to-non-dsn-remote", Run: testOutRelayed},
		{Name: "4xx-then-2xx", Run: testOutRetryThenSent},
		{Name: "5xx-failure-dsn", Run: testOutFailureDSN},
		{Name: "delay-notice-then-give-up", Run: testOutDelayThenGiveUp},
		{Name: "no-starttls", Run: testOutNoSTARTTLS},
		{Name: "untrusted-server-cert", Run: testOutUntrustedServer},
		{Name: "queue-survives-restart", Run: testOutSurvives},
		{Name: "shutdown-requeues-in-flight", Run: testOutShutdown},
	})
}

// --- PKI: three CAs made once (RSA key generation is the slow part) ---

type obPKI struct {
	ours       tls.Certificate // our operator certificate (serverAuth + clientAuth)
	oursPool   *x509.CertPool
	remote     tls.Certificate // the remote operator's server certificate
	remotePool *x509.CertPool
	rogue      tls.Certificate // a server certificate from a CA nobody trusts
}

var (
	obPKIOnce sync.Once
	obPKIVal  *obPKI
	obPKIErr  error
)

func obCerts(t *testing.T) *obPKI {
	t.Helper()
	obPKIOnce.Do(func() {
		dir, err := os.MkdirTemp("", "outbound-pki-")
		if err != nil {
			obPKIErr = err
			return
		}
		defer os.RemoveAll(dir) // everything is loaded into memory below
		mk := func(name, org, host string) (tls.Certificate, *x509.CertPool) {
			if obPKIErr != nil {
				return tls.Certificate{}, nil
			}
			a, err := certs.Init(filepath.Join(dir, name), org, []string{host})
			if err != nil {
				obPKIErr = err
				return tls.Certificate{}, nil
			}
			c, err := a.ServerCertificate()
			if err != nil {
				obPKIErr = err
			}
			return c, a.CAPool()
		}
		p := &obPKI{}
		var wg sync.WaitGroup
		wg.Add(3)
		var mu sync.Mutex
		go func() {
			defer wg.Done()
			c, pool := mk("ours", "Hopital Test", "mail.hopital.example")
			mu.Lock()
			p.ours, p.oursPool = c, pool
			mu.Unlock()
		}()
		go func() {
			defer wg.Done()
			c, pool := mk("remote", "Autre Operateur", "mx.autre.example")
			mu.Lock()
			p.remote, p.remotePool = c, pool
			mu.Unlock()
		}()
		go func() {
			defer wg.Done()
			c, _ := mk("rogue", "Rogue", "mx.autre.example")
			mu.Lock()
			p.rogue = c
			mu.Unlock()
		}()
		wg.Wait()
		obPKIVal = p
	})
	if obPKIErr != nil {
		t.Fatal(obPKIErr)
	}
	return obPKIVal
}

// --- the remote operator ---

type obMail struct {
	from  string
	mopts smtp.MailOptions
	rcpts []string
	ropts []smtp.RcptOptions
	data  []byte
	peer  *x509.Certificate // the client certificate it verified
}

type obRemote struct {
	addr string

	mu        sync.Mutex
	mailCalls int                         // MAIL commands seen, delivered or not
	rcptCalls int                         // RCPT commands seen
	rcptReply func(n int) *smtp.SMTPError // nil: accept; n counts from 1
	mails     []obMail
}

func (r *obRemote) reply(f func(n int) *smtp.SMTPError) {
	r.mu.Lock()
	r.rcptReply = f
	r.mu.Unlock()
}

func (r *obRemote) snapshot() (mailCalls int, mails []obMail) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mailCalls, slices.Clone(r.mails)
}

type obBackend struct{ r *obRemote }

func (b obBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &obSession{r: b.r, c: c}, nil
}

type obSession struct {
	r   *obRemote
	c   *smtp.Conn
	cur *obMail
}

func (s *obSession) Mail(from string, opts *smtp.MailOptions) error {
	s.r.mu.Lock()
	s.r.mailCalls++
	s.r.mu.Unlock()
	m := &obMail{from: from}
	if opts != nil {
		m.mopts = *opts
	}
	if st, ok := s.c.TLSConnectionState(); ok && len(st.PeerCertificates) > 0 {
		m.peer = st.PeerCertificates[0]
	}
	s.cur = m
	return nil
}

func (s *obSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	s.r.mu.Lock()
	s.r.rcptCalls++
	n, hook := s.r.rcptCalls, s.r.rcptReply
	s.r.mu.Unlock()
	if hook != nil {
		if e := hook(n); e != nil {
			return e
		}
	}
	s.cur.rcpts = append(s.cur.rcpts, to)
	if opts != nil {
		s.cur.ropts = append(s.cur.ropts, *opts)
	}
	return nil
}

func (s *obSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.r.mu.Lock()
	s.r.mails = append(s.r.mails, *s.cur)
	s.r.mu.Unlock()
	return nil
}

func (s *obSession) Reset()        { s.cur = nil }
func (s *obSession) Logout() error { return nil }

// obStartRemote starts the remote operator's MX. cert nil: no STARTTLS.
func obStartRemote(t *testing.T, cert *tls.Certificate, clientCAs *x509.CertPool, dsn bool) *obRemote {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &obRemote{addr: ln.Addr().String()}
	s := smtp.NewServer(obBackend{r})
	s.Domain = "mx.autre.example"
	s.EnableDSN = dsn
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	if cert != nil {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12,
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
		if clientCAs == nil { // a plain relay, not an operator of the trust space
			s.TLSConfig.ClientAuth = tls.NoClientCert
		}
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return r
}

// --- our side ---

type obClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *obClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *obClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type obFix struct {
	store *mailbox.Store
	p     *mailbox.Pipeline
	doc   *directory.Account
	clock *obClock
	pki   *obPKI
}

const (
	obRetryFor = 10 * time.Minute
	obDelayAt  = 3 * time.Minute
)

func obNewFix(t *testing.T, d *db.DB) *obFix {
	t.Helper()
	ctx := context.Background()
	dir := directory.New(d, nil, nil, nil)
	obMust(t, dir.AddDomain(ctx, "hopital.example", directory.ProfessionalDomain))
	rpps := "1000000001" + string(directory.LuhnKey("1000000001"))
	doc, err := dir.Create(ctx, directory.NewAccount{Address: "dr@hopital.example", Role: directory.Professional, DisplayName: "Dr A",
		Password: "correct horse battery", Professional: &directory.ProfessionalInfo{RPPS: rpps, Profession: "Médecin généraliste"}})
	obMust(t, err)
	blobs, err := db.NewFSBlobs(t.TempDir())
	obMust(t, err)
	store := mailbox.New(d, blobs)
	clock := &obClock{now: time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)}
	return &obFix{store: store, doc: doc, clock: clock, pki: obCerts(t),
		p: &mailbox.Pipeline{Store: store, Dir: dir, Hostname: "mail.hopital.example", Product: "mssanted/test",
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock.Now}}
}

func obMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func obMessage(subject string) string {
	return "From: Dr A <dr@hopital.example>\r\nTo: <b@autre.example>\r\nSubject: " + subject + "\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n.ligne qui commence par un point\r\nvoici le compte rendu.\r\n"
}

// queue submits a message from the doctor to a remote recipient; it
// returns the queue row.
func (f *obFix) queue(t *testing.T, envID, ret string, rcpt mailbox.Recipient, subject string) mailbox.Outbound {
	t.Helper()
	ctx := context.Background()
	tx := f.p.Begin(mailbox.Envelope{Door: mailbox.Submission, From: f.doc.Address, Auth: f.doc, RemoteIP: "127.0.0.1",
		Helo: "client", TLS: "TLS 1.3 TLS_AES_128_GCM_SHA256", EnvID: envID, Ret: ret})
	obMust(t, tx.AddRecipient(ctx, rcpt))
	res, err := tx.Deliver(ctx, strings.NewReader(obMessage(subject)))
	obMust(t, err)
	if len(res.Queued) != 1 {
		t.Fatalf("not queued: %+v", res)
	}
	for _, r := range f.rows(t) {
		if r.Rcpt == rcpt.Address {
			return r
		}
	}
	t.Fatalf("no queue row for %s", rcpt.Address)
	return mailbox.Outbound{}
}

func (f *obFix) rows(t *testing.T) []mailbox.Outbound {
	t.Helper()
	rows, err := f.store.QueueList(context.Background(), "")
	obMust(t, err)
	return rows
}

// start runs an Outbound until the test ends (or stop is called).
func (f *obFix) start(t *testing.T, routes map[string]string, roots *x509.CertPool) (*smtpd.Outbound, func()) {
	t.Helper()
	o := smtpd.NewOutbound(smtpd.OutboundConfig{
		Store: f.store, Pipeline: f.p, Hostname: "mail.hopital.example",
		ClientCert: f.pki.ours, RootCAs: roots, Routes: routes,
		RetryFor: obRetryFor, DelayNoticeAfter: obDelayAt, Workers: 2,
		Lease: 5 * time.Minute, Poll: time.Hour, Now: f.clock.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return o, stop
}

// wait polls the queue until the row satisfies ok.
func (f *obFix) wait(t *testing.T, id int64, what string, ok func(mailbox.Outbound) bool) mailbox.Outbound {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, r := range f.rows(t) {
			if r.ID == id && ok(r) {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("row %d never %s: %+v", id, what, f.rows(t))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func attempts(n int) func(mailbox.Outbound) bool {
	return func(r mailbox.Outbound) bool { return r.Attempts >= n }
}

func state(s string) func(mailbox.Outbound) bool {
	return func(r mailbox.Outbound) bool { return r.State == s }
}

func (f *obFix) blob(t *testing.T, key string) []byte {
	t.Helper()
	rc, err := f.store.Blobs().Open(context.Background(), key)
	obMust(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	obMust(t, err)
	return b
}

// inbox returns the raw messages of the doctor's INBOX (the DSNs).
func (f *obFix) inbox(t *testing.T) []mailbox.Summary {
	t.Helper()
	in, err := f.store.Inbox(context.Background(), f.doc.ID)
	obMust(t, err)
	return in
}

// obDSN is a parsed DSN.
type obDSN struct {
	hdr      gomessage.Header
	text     string
	perMsg   mtextproto.Header
	rcpt     mtextproto.Header
	origType string
	orig     []byte
}

func obParseDSN(t *testing.T, raw []byte) *obDSN {
	t.Helper()
	e, err := gomessage.Read(bytes.NewReader(raw))
	obMust(t, err)
	ct, params, _ := e.Header.ContentType()
	if ct != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("not a DSN: %s %v\n%s", ct, params, raw)
	}
	d := &obDSN{hdr: e.Header}
	mr := e.MultipartReader()
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		obMust(t, err)
		pt, _, _ := p.Header.ContentType()
		body, err := io.ReadAll(p.Body)
		obMust(t, err)
		switch i {
		case 0:
			d.text = string(body)
		case 1:
			if pt != "message/delivery-status" {
				t.Fatalf("second part is %s", pt)
			}
			br := bufio.NewReader(bytes.NewReader(body))
			d.perMsg, err = mtextproto.ReadHeader(br)
			obMust(t, err)
			d.rcpt, err = mtextproto.ReadHeader(br)
			obMust(t, err)
		case 2:
			d.origType, d.orig = pt, body
		}
	}
	return d
}

func (f *obFix) dsns(t *testing.T) []*obDSN {
	t.Helper()
	var out []*obDSN
	for _, m := range f.inbox(t) {
		if m.EnvelopeFrom != "" {
			t.Errorf("DSN with envelope sender %q (must be empty)", m.EnvelopeFrom)
		}
		out = append(out, obParseDSN(t, f.blob(t, m.BlobKey)))
	}
	return out
}

func obRoutes(r *obRemote) map[string]string { return map[string]string{"autre.example": r.addr} }

// --- cases ---

func testOutDelivered(t *testing.T, d *db.DB) {
	f := obNewFix(t, d)
	remote := obStartRemote(t, &f.pki.remote, f.pki.oursPool, true)
	row := f.queue(t, "ENV-1", "HDRS", mailbox.Recipient{Address: "b@autre.example", Notify: []string{"SUCCESS", "FAILURE"},
		ORCPT: "RFC822;B@autre.example"}, "Compte rendu")
	o, _ := f.start(t, obRoutes(remote), f.pki.remotePool)
	o.Kick()
	got := f.wait(t, row.ID, "sent", state(mailbox.Sent))
	if got.Attempts != 1 || got.LastError != "" {
		t.Errorf("row %+v", got)
	}
	_, mails := remote.snapshot()
	if len(mails) != 1 {
		t.Fatalf("remote got %d messages", len(mails))
	}
	m := mails[0]
	if m.peer == nil || m.peer.Subject.CommonName != "mail.hopital.example" {
		t.Errorf("remote saw client certificate %v (mutual TLS)", m.peer)
	}
	if m.from != "dr@hopital.example" || m.mopts.Return != smtp.DSNReturnHeaders || m.mopts.EnvelopeID != "ENV-1" || m.mopts.Size != row.Size {
		t.Errorf("MAIL %q %+v", m.from, m.mopts)
	}
	if len(m.rcpts) != 1 || m.rcpts[0] != "b@autre.example" || len(m.ropts) != 1 {
		t.Fatalf("RCPT %v %+v", m.rcpts, m.ropts)
	}
	ro := m.ropts[0]
	if !slices.Equal(ro.Notify, []smtp.DSNNotify{smtp.DSNNotifySuccess, smtp.DSNNotifyFailure}) ||
		ro.OriginalRecipientType != smtp.DSNAddressTypeRFC822 || ro.OriginalRecipient != "B@autre.example" {
		t.Errorf("RCPT options %+v", ro)
	}
	if want := f.blob(t, row.BlobKey); !bytes.Equal(m.data, want) {
		t.Errorf("data differs from the queued message:\n%q\n%q", m.data, want)
	}
	// A DSN-aware remote carries NOTIFY=SUCCESS on: no report from us.
	if in := f.inbox(t); len(in) != 0 {
		t.Errorf("sender got %d reports", len(in))
	}
}

func testOutRelayed(t *testing.T, d *db.DB) {
	f := obNewFix(t, d)
	remote := obStartRemote(t, &f.pki.remote, f.pki.oursPool, false)
	row := f.queue(t, "ENV-2", "FULL", mailbox.Recipient{Address: "b@autre.example", Notify: []string{"SUCCESS"}}, "Relais")
	o, _ := f.start(t, obRoutes(remote), f.pki.remotePool)
	o.Kick()
	f.wait(t, row.ID, "sent", state(mailbox.Sent))
	_, mails := remote.snapshot()
	if len(mails) != 1 || mails[0].mopts.Return != "" || mails[0].mopts.EnvelopeID != "" || len(mails[0].ropts[0].Notify) != 0 {
		t.Fatalf("DSN parameters sent to a server without DSN: %+v", mails)
	}
	ds := f.dsns(t)
	if len(ds) != 1 {
		t.Fatalf("%d reports, want the relayed one", len(ds))
	}
	r := ds[0].rcpt
	if r.Get("Action") != "relayed" || r.Get("Status") != "2.0.0" || ds[0].perMsg.Get("Original-Envelope-Id") != "ENV-2" ||
		ds[0].origType != "text/rfc822-headers" {
		t.Errorf("relayed DSN: %v %v part %s", ds[0].perMsg, r, ds[0].origType)
	}
}

func testOutRetryThenSent(t *testing.T, d *db.DB) {
	f := obNewFix(t, d)
	remote := obStartRemote(t, &f.pki.remote, f.pki.oursPool, true)
	remote.reply(func(n int) *smtp.SMTPError {
		if n == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		}
		return nil
	})
	row := f.queue(t, "", "", mailbox.Recipient{Address: "b@autre.example"}, "Deux essais")
	o, _ := f.start(t, obRoutes(remote), f.pki.remotePool)
	o.Kick()
	got := f.wait(t, row.ID, "retried once", attempts(1))
	if got.State != mailbox.Queued || !strings.Contains(got.LastError, "451 4.3.0 Try again later") {
		t.Fatalf("after a 451: %+v", got)
	}
	if wait := got.NextAttemptAt.Sub(f.clock.Now()); wait < 50*time.Second || wait > 70*time.Second {
		t.Errorf("first retry in %v, want about a minute", wait)
	}
	f.clock.Advance(2 * time.Minute)
	o.Kick()
	got = f.wait(t, row.ID, "sent", state(mailbox.Sent))
	if got.Attempts != 2 {
		t.Errorf("attempts %d", got.Attempts)
	}
	if _, mails := remote.snapshot(); len(mails) != 1 {
		t.Errorf("remote got %d messages", len(mails))
	}
	if in := f.inbox(t); len(in) != 0 {
		t.Errorf("a retry that succeeded sent %d reports", len(in))
	}
}

func testOutFailureDSN(t *testing.T, d *db.DB) {
	f := obNewFix(t, d)
	remote := obStartRemote(t, &f.pki.remote, f.pki.oursPool, true)
	remote.reply(func(int) *smtp.SMTPError {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	})
	full := f.queue(t, "ENV-F", "FULL", mailbox.Recipient{Address: "b@autre.example", ORCPT: "rfc822;b@autre.example"}, "Complet")
	hdrs := f.queue(t, "", "HDRS", mailbox.Recipient{Address: "c@autre.example", Notify: []string{"FAILURE"}}, "Entete")
	never := f.queue(t, "", "", mailbox.Recipient{Address: "d@autre.example", Notify: []string{"NEVER"}}, "Jamais")
	o, _ := f.start(t, obRoutes(remote), f.pki.remotePool)
	o.Kick()
	for _, r := range []mailbox.Outbound{full, hdrs, never} {
		got := f.wait(t, r.ID, "failed", state(mailbox.Failed))
		if got.Attempts != 1 || !strings.Contains(got.LastError, "550 5.1.1 No such user here") {
			t.Errorf("row %+v", got)
		}
	}
	ds := f.dsns(t)
	if len(ds) != 2 {
		t.Fatalf("%d reports, want 2 (none for NOTIFY=NEVER)", len(ds))
	}
	by := map[string]*obDSN{}
	for _, x := range ds {
		by[x.rcpt.Get("Final-Recipient")] = x
	}
	b, c := by["rfc822;b@autre.example"], by["rfc822;c@autre.example"]
	if b == nil || c == nil {
		t.Fatalf("reports for %v", slices.Collect(maps.Keys(by)))
	}
	if got := b.hdr.Get("From"); got != "Mail Delivery System <MAILER-DAEMON@mail.hopital.example>" || b.hdr.Get("Auto-Submitted") != "auto-replied" {
		t.Errorf("From %q, Auto-Submitted %q", got, b.hdr.Get("Auto-Submitted"))
	}
	for k, want := range map[string]string{"Action": "failed", "Status": "5.1.1", "Original-Recipient": "rfc822;b@autre.example",
		"Diagnostic-Code": "smtp; 550 5.1.1 No such user here", "Remote-MTA": "dns;127.0.0.1"} {
		if got := b.rcpt.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if b.perMsg.Get("Original-Envelope-Id") != "ENV-F" || b.perMsg.Get("Reporting-MTA") != "dns;mail.hopital.example" {
		t.Errorf("per-message fields %v", b.perMsg)
	}
	if !strings.Contains(b.text, "n'a pas pu être remis") || !strings.Contains(b.text, "could not be delivered") {
		t.Errorf("text:\n%s", b.text)
	}
	if b.origType != "message/rfc822" || !bytes.Equal(b.orig, f.blob(t, full.BlobKey)) {
		t.Errorf("RET=FULL: part %s\n%s", b.origType, b.orig)
	}
	if c.origType != "text/rfc822-headers" || !strings.Contains(string(c.orig), "Subject: Entete") || strings.Contains(string(c.orig), "Bonjour") {
		t.Errorf("RET=HDRS: part %s\n%s", c.origType, c.orig)
	}
}

func testOutDelayThenGiveUp(t *testing.T, d *db.DB) {
	f := obNewFix(t, d)
	remote := obStartRemote(t, &f.pki.remote, f.pki.oursPool, true)
	remote.reply(func(int) *smtp.SMTPError {
		return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full"}
	})
	row := f.queue(t, "ENV-D", "FULL", mailbox.Recipient{Address: "b@autre.example"}, "Patience")
	o, _ := f.start(t, obRoutes(remote), f.pki.remotePool)
	step := func(n int, advance time.Duration) mailbox.Outbound {
		t.Helper()
		f.clock.Advance(advance)
		o.Kick()
		return f.wait(t, row.ID, "attempted", attempts(n))
	}
	if r := step(1, 0); r.DelayNotified || len(f.inbox(t)) != 0 {
		t.Fatalf("delay notice before %v: %+v", obDelayAt, r)
	}
	if r := step(2, 4*time.Minute); !r.DelayNotified || r.State != mailbox.Queued {
		t.Fatalf("after %v: %+v", obDelayAt, r)
	}
	ds := f.dsns(t)
	if len(ds) != 1 || ds[0].rcpt.Get("Action") != "delayed" || ds[0].rcpt.Get("Status") != "4.2.2" ||
		ds[0].rcpt.Get("Will-Retry-Until") != row.CreatedAt.Add(obRetryFor).Format(time.RFC1123Z) || ds[0].origType != "text/rfc822-headers" {
		t.Fatalf("delay notice: %d reports, %v", len(ds), ds[0].rcpt)
	}
	r := step(3, 3*time.Minute)
	if len(f.inbox(t)) != 1 {
		t.Fatal("a second delay notice")
	}
	if !r.NextAttemptAt.Equal(row.CreatedAt.Add(obRetryFor)) {
		t.Errorf("last retry at %v, want the deadline %v", r.NextAttemptAt, row.CreatedAt.Add(obRetryFor))
	}
	r = step(4, 4*time.Minute)
	f.wait(t, row.ID, "failed", state(mailbox.Failed))
	ds = f.dsns(t)
	if len(ds) != 2 {
		t.Fatalf("%d reports, want the delay notice and the final failure", len(ds))
	}
	last := ds[1]
	if last.rcpt.Get("Action") != "failed" || !strings.HasPrefix(last.rcpt.Get("Status"), "4.") ||
		!strings.Contains(last.rcpt.Get("Diagnostic-Code"), "452 4.2.2 Mailbox full") || last.origType != "message/rfc822" {
		t.Errorf("final DSN: %v part %s", last.rcpt, last.origType)
	}
}

func testOutNoSTARTTLS(t *testing.T, d *db.DB) {
	f := obNewFix(t, d)
	remote := obStartRemote(t, nil, nil, true)
	row := f.queue(t, "", "", mailbox.Recipient{Address: "b@autre.example"}, "Secret")
	o, _ := f.start(t, obRoutes(remote), f.pki.remotePool)
	o.Kick()
	got := f.wait(t, row.ID, "retried", attempts(1))
	t.Logf("last error: %s", got.LastError)
	if got.State != mailbox.Queued || !strings.Contains(got.LastError, "STARTTLS") {
		t.Errorf("row %+v", got)
	}
	if calls, mails := remote.snapshot(); calls != 0 || len(mails) != 0 {
		t.Errorf("sent in clear: %d MAIL, %d messages", calls, len(mails))
	}
}

func testOutUntrustedServer(t *testing.T, d *db.DB) {
	f := obNewFix(t, d)
	remote := obStartRemote(t, &f.pki.rogue, f.pki.oursPool, true)
	row := f.queue(t, "", "", mailbox.Recipient{Address: "b@autre.example"}, "Secret")
	o, _ := f.start(t, obRoutes(remote), f.pki.remotePool)
	o.Kick()
	got := f.wait(t, row.ID, "retried", attempts(1))
	t.Logf("last error: %s", got.LastError)
	if got.State != mailbox.Queued || !strings.Contains(got.LastError, "TLS") || !strings.Contains(got.LastError, "certificate") {
		t.Errorf("row %+v", got)
	}
	if calls, mails := remote.snapshot(); calls != 0 || len(mails) != 0 {
		t.Errorf("sent to an unverified server: %d MAIL, %d messages", calls, len(mails))
	}
}

func testOutSurvives(t *testing.T, d *db.DB) {
	f := obNewFix(t, d)
	ctx := context.Background()
	// A first sender whose route leads nowhere: one failed attempt.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	obMust(t, err)
	deadAddr := dead.Addr().String()
	dead.Close()
	first := f.queue(t, "", "", mailbox.Recipient{Address: "b@autre.example"}, "Premier")
	o1, stop1 := f.start(t, map[string]string{"autre.example": deadAddr}, f.pki.remotePool)
	o1.Kick()
	f.wait(t, first.ID, "retried", attempts(1))
	stop1()
	// A worker that claimed a row and died before marking it.
	second := f.queue(t, "", "", mailbox.Recipient{Address: "c@autre.example"}, "Second")
	claimed, err := f.store.ClaimDue(ctx, f.clock.Now(), 5*time.Minute, 10)
	obMust(t, err)
	if len(claimed) != 1 || claimed[0].ID != second.ID {
		t.Fatalf("claimed %+v", claimed)
	}
	// A new sender over the same store, after the backoff and the lease:
	// its first pass (no Kick) delivers both.
	f.clock.Advance(6 * time.Minute)
	remote := obStartRemote(t, &f.pki.remote, f.pki.oursPool, true)
	f.start(t, obRoutes(remote), f.pki.remotePool)
	for _, r := range []mailbox.Outbound{first, second} {
		f.wait(t, r.ID, "sent", state(mailbox.Sent))
	}
	_, mails := remote.snapshot()
	var got []string
	for _, m := range mails {
		got = append(got, m.rcpts...)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"b@autre.example", "c@autre.example"}) {
		t.Errorf("remote got %v", got)
	}
}

func testOutShutdown(t *testing.T, d *db.DB) {
	f := obNewFix(t, d)
	// A server that accepts and never greets: the attempt is in flight
	// when Run's context ends.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	obMust(t, err)
	defer silent.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := silent.Accept(); err == nil {
			accepted <- c
		}
	}()
	row := f.queue(t, "", "", mailbox.Recipient{Address: "b@autre.example"}, "Coupure")
	o, stop := f.start(t, map[string]string{"autre.example": silent.Addr().String()}, f.pki.remotePool)
	o.Kick()
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("no connection")
	}
	start := time.Now()
	stop() // fails the test if Run does not return
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Run took %v to return", el)
	}
	got := f.wait(t, row.ID, "requeued", attempts(1))
	if got.State != mailbox.Queued || !got.NextAttemptAt.Equal(f.clock.Now()) || !strings.Contains(got.LastError, "interrupted") {
		t.Errorf("after shutdown: %+v", got)
	}
}
