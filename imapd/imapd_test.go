package imapd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"mssanted/certs"
	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/imapd"
	"mssanted/mailbox"
)

const pw = "correct horse battery"

var ca struct {
	dir string
	a   *certs.Authority
}

func TestMain(m *testing.M) {
	code := m.Run()
	if ca.dir != "" {
		os.RemoveAll(ca.dir)
	}
	os.Exit(code)
}

func authority(t testing.TB) *certs.Authority {
	t.Helper()
	if ca.a == nil {
		dir, err := os.MkdirTemp("", "imapd-test-")
		must(t, err)
		a, err := certs.Init(dir+"/pki", "Test", []string{"localhost"})
		must(t, err)
		ca.dir, ca.a = dir, a
	}
	return ca.a
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type env struct {
	t                    testing.TB
	d                    *db.DB
	dir                  *directory.Store
	store                *mailbox.Store
	p                    *mailbox.Pipeline
	imap, imaps          string
	roots                *x509.CertPool
	doc, pat, ph, s1, s2 *directory.Account
}

func newEnv(t testing.TB, d *db.DB) *env {
	t.Helper()
	ctx := context.Background()
	a := authority(t)
	dir := directory.New(d, nil, nil, nil)
	must(t, dir.AddDomain(ctx, "hopital.example", directory.ProfessionalDomain))
	must(t, dir.AddDomain(ctx, "patient.example", directory.PatientDomain))
	blobs, err := db.NewFSBlobs(t.TempDir())
	must(t, err)
	store := mailbox.New(d, blobs)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &env{t: t, d: d, dir: dir, store: store, roots: a.CAPool(),
		p: &mailbox.Pipeline{Store: store, Dir: dir, Hostname: "mail.hopital.example", Log: log}}
	e.imap, e.imaps = e.serve(store)
	rpps := func(p string) string { return p + string(directory.LuhnKey(p)) }
	k, _ := directory.INSKey("2850375123456")
	e.doc = e.create(directory.NewAccount{Address: "dr@hopital.example", Role: directory.Professional, DisplayName: "Dr A",
		Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000001"), Profession: "Médecin généraliste"}})
	e.pat = e.create(directory.NewAccount{Address: "jeanne@patient.example", Role: directory.Patient, DisplayName: "Jeanne",
		Patient: &directory.PatientInfo{INS: "2850375123456" + k, BirthDate: time.Date(1985, 3, 14, 0, 0, 0, 0, time.UTC), Sex: "F"}})
	e.ph = e.create(directory.NewAccount{Address: "gare@hopital.example", Role: directory.Pharmacy, DisplayName: "Pharmacie de la Gare",
		Pharmacy: &directory.PharmacyInfo{FINESS: "030001230", PostalAddress: "1 pl de la Gare", PostalCode: "03000", Commune: "Moulins", ReachableByPatients: true}})
	e.s1 = e.create(directory.NewAccount{Address: "p1@hopital.example", Role: directory.Professional, DisplayName: "Pharmacien 1", StaffOf: "gare@hopital.example",
		Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000002"), Profession: "Pharmacien"}})
	e.s2 = e.create(directory.NewAccount{Address: "p2@hopital.example", Role: directory.Professional, DisplayName: "Pharmacien 2", StaffOf: "gare@hopital.example",
		Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000003"), Profession: "Pharmacien"}})
	return e
}

// serve starts the STARTTLS and implicit-TLS listeners over a store.
func (e *env) serve(store *mailbox.Store) (string, string) {
	cert, err := authority(e.t).ServerCertificate()
	must(e.t, err)
	conf := imapd.Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Dir: e.dir, Store: store,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var addrs []string
	for _, implicit := range []bool{false, true} {
		srv := imapd.New(conf)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		must(e.t, err)
		addrs = append(addrs, ln.Addr().String())
		if implicit {
			ln = tls.NewListener(ln, conf.TLS)
		}
		go srv.Serve(ln)
		e.t.Cleanup(func() { srv.Shutdown(context.Background()) })
	}
	return addrs[0], addrs[1]
}

func (e *env) create(n directory.NewAccount) *directory.Account {
	e.t.Helper()
	n.Password = pw
	a, err := e.dir.Create(context.Background(), n)
	must(e.t, err)
	return a
}

func (e *env) deliver(to *directory.Account, subject, extra, body string) {
	e.t.Helper()
	ctx := context.Background()
	tx := e.p.Begin(mailbox.Envelope{Door: mailbox.Submission, From: e.doc.Address, Auth: e.doc, TLS: "TLS1.3"})
	must(e.t, tx.AddRecipient(ctx, mailbox.Recipient{Address: to.Address}))
	_, err := tx.Deliver(ctx, strings.NewReader("From: Dr A <dr@hopital.example>\r\nTo: <"+to.Address+">\r\nSubject: "+subject+"\r\nDate: Wed, 25 Nov 2026 10:00:00 +0100\r\n"+extra+"\r\n"+body))
	must(e.t, err)
}

func (e *env) tlsConfig() *tls.Config { return &tls.Config{RootCAs: e.roots, ServerName: "localhost"} }

// client logs in over implicit TLS; authzid set: AUTHENTICATE PLAIN as
// staff of that mailbox.
func (e *env) client(user, authzid string, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	e.t.Helper()
	c, err := imapclient.DialTLS(e.imaps, &imapclient.Options{TLSConfig: e.tlsConfig(), UnilateralDataHandler: h})
	must(e.t, err)
	e.t.Cleanup(func() { c.Close() })
	if authzid != "" {
		must(e.t, c.Authenticate(sasl.NewPlainClient(authzid, user, pw)))
	} else {
		must(e.t, c.Login(user, pw).Wait())
	}
	return c
}

func sqliteEnv(t *testing.T) *env { return newEnv(t, dbtest.Open(t, db.SQLite)) }

func TestLoginNeedsTLS(t *testing.T) {
	e := sqliteEnv(t)
	conn, err := net.Dial("tcp", e.imap)
	must(t, err)
	c := imapclient.New(conn, nil)
	defer c.Close()
	caps, err := c.Capability().Wait()
	must(t, err)
	if !caps.Has(imap.CapLoginDisabled) || !caps.Has(imap.CapStartTLS) {
		t.Fatalf("before TLS: %v (want LOGINDISABLED and STARTTLS)", caps)
	}
	err = c.Login(e.pat.Address, pw).Wait()
	if err == nil || !strings.Contains(err.Error(), "PRIVACYREQUIRED") {
		t.Fatalf("LOGIN before TLS: %v", err)
	}
	sc, err := imapclient.DialStartTLS(e.imap, &imapclient.Options{TLSConfig: e.tlsConfig()})
	must(t, err)
	defer sc.Close()
	must(t, sc.Login(e.pat.Address, pw).Wait())
	if err := sc.Login(e.pat.Address, "wrong").Wait(); err == nil {
		t.Fatal("second LOGIN accepted")
	}
}

func TestCapabilitiesAndFolders(t *testing.T) {
	e := sqliteEnv(t)
	c := e.client(e.pat.Address, "", nil)
	caps, err := c.Capability().Wait()
	must(t, err)
	for _, want := range []imap.Cap{imap.CapIMAP4rev1, imap.CapIMAP4rev2, imap.CapIdle, imap.CapNamespace, imap.CapUIDPlus, imap.CapMove,
		imap.CapSpecialUse, imap.CapChildren, imap.CapListExtended, imap.CapListStatus, imap.CapESearch, imap.CapSearchRes, imap.CapBinary,
		imap.CapUnselect, imap.CapLiteralPlus, imap.CapEnable, imap.CapStatusSize, "APPENDLIMIT=26214400"} {
		if !caps.Has(want) {
			t.Errorf("capability %s missing", want)
		}
	}
	if caps.Has(imap.CapCondStore) || caps.Has(imap.CapQResync) {
		t.Error("CONDSTORE/QRESYNC advertised")
	}
	list, err := c.List("", "*", &imap.ListOptions{ReturnStatus: &imap.StatusOptions{NumMessages: true}}).Collect()
	must(t, err)
	special := map[string]imap.MailboxAttr{}
	for _, l := range list {
		for _, a := range l.Attrs {
			if a != imap.MailboxAttrHasNoChildren && a != imap.MailboxAttrHasChildren {
				special[l.Mailbox] = a
			}
		}
		if l.Status == nil || l.Status.NumMessages == nil {
			t.Errorf("LIST-STATUS missing for %s", l.Mailbox)
		}
	}
	for name, attr := range map[string]imap.MailboxAttr{"Sent": imap.MailboxAttrSent, "Drafts": imap.MailboxAttrDrafts, "Trash": imap.MailboxAttrTrash,
		"Archive": imap.MailboxAttrArchive, "Junk": imap.MailboxAttrJunk} {
		if special[name] != attr {
			t.Errorf("%s: special use %q, want %q", name, special[name], attr)
		}
	}
	must(t, c.Create("Suivi/Radiologie", nil).Wait())
	if err := c.Create("Suivi/Radiologie", nil).Wait(); err == nil || !strings.Contains(err.Error(), "ALREADYEXISTS") {
		t.Errorf("CREATE twice: %v", err)
	}
	must(t, c.Rename("Suivi", "Examens", nil).Wait())
	st, err := c.Status("Examens/Radiologie", &imap.StatusOptions{NumMessages: true, UIDValidity: true}).Wait()
	must(t, err)
	if st.UIDValidity == 0 {
		t.Error("renamed child has no UIDVALIDITY")
	}
	if err := c.Delete("INBOX").Wait(); err == nil {
		t.Error("DELETE INBOX accepted")
	}
	if _, err := c.Select("Nulle/Part", nil).Wait(); err == nil || !strings.Contains(err.Error(), "NONEXISTENT") {
		t.Errorf("SELECT missing folder: %v", err)
	}
}

func TestIdleSeesDelivery(t *testing.T) {
	e := sqliteEnv(t)
	testIdle(t, e, e.store, e.p)
}

// testIdle: an IDLE session on INBOX is told EXISTS when a message is
// delivered through pipeline p (possibly another node's).
func testIdle(t *testing.T, e *env, _ *mailbox.Store, p *mailbox.Pipeline) {
	exists := make(chan uint32, 10)
	c := e.client(e.pat.Address, "", &imapclient.UnilateralDataHandler{Mailbox: func(d *imapclient.UnilateralDataMailbox) {
		if d.NumMessages != nil {
			exists <- *d.NumMessages
		}
	}})
	_, err := c.Select("INBOX", nil).Wait()
	must(t, err)
	idle, err := c.Idle()
	must(t, err)
	time.Sleep(50 * time.Millisecond) // IDLE is in place on the server
	start := time.Now()
	ctx := context.Background()
	tx := p.Begin(mailbox.Envelope{Door: mailbox.Submission, From: e.doc.Address, Auth: e.doc, TLS: "TLS1.3"})
	must(t, tx.AddRecipient(ctx, mailbox.Recipient{Address: e.pat.Address}))
	_, err = tx.Deliver(ctx, strings.NewReader("Subject: pendant IDLE\r\n\r\nbonjour\r\n"))
	must(t, err)
	select {
	case n := <-exists:
		t.Logf("EXISTS %d after %v", n, time.Since(start))
		if n != 1 {
			t.Errorf("EXISTS %d, want 1", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no EXISTS during IDLE")
	}
	must(t, idle.Close())
	must(t, idle.Wait())
}

// raw logs in as the patient over implicit TLS, sends each tagged command
// and returns everything the server said.
func (e *env) raw(t *testing.T, cmds ...string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", e.imaps, e.tlsConfig())
	must(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	r.ReadString('\n')
	var all strings.Builder
	for _, cmd := range append([]string{fmt.Sprintf("l LOGIN %s %q", e.pat.Address, pw)}, cmds...) {
		tag, _, _ := strings.Cut(cmd, " ")
		fmt.Fprintf(conn, "%s\r\n", cmd)
		for {
			line, err := r.ReadString('\n')
			must(t, err)
			all.WriteString(line)
			if strings.HasPrefix(line, tag+" ") {
				break
			}
		}
	}
	return all.String()
}

// A client that sends DONE and its next commands in one write (iOS does)
// gets every answer.
func TestIdlePipelined(t *testing.T) {
	e := sqliteEnv(t)
	conn, err := tls.Dial("tcp", e.imaps, e.tlsConfig())
	must(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	readUntil := func(tag string) string {
		var all strings.Builder
		for {
			line, err := r.ReadString('\n')
			must(t, err)
			all.WriteString(line)
			if strings.HasPrefix(line, tag+" ") {
				return all.String()
			}
		}
	}
	r.ReadString('\n')
	fmt.Fprintf(conn, "a LOGIN %s %q\r\nb SELECT INBOX\r\n", e.pat.Address, pw)
	readUntil("b")
	fmt.Fprintf(conn, "c IDLE\r\n")
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "+") {
		t.Fatalf("IDLE: %q", line)
	}
	fmt.Fprintf(conn, "DONE\r\nd NOOP\r\ne STATUS INBOX (MESSAGES)\r\nf LOGOUT\r\n")
	out := readUntil("f")
	for _, want := range []string{"c OK", "d OK", "e OK", "STATUS INBOX (MESSAGES 0)", "f OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("pipelined after IDLE: %q missing in\n%s", want, out)
		}
	}
}

func TestExamineIsReadOnly(t *testing.T) {
	e := sqliteEnv(t)
	e.deliver(e.pat, "Lecture", "", "corps\r\n")
	c := e.client(e.pat.Address, "", nil)
	_, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	must(t, err)
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect()
	must(t, err)
	if len(msgs) != 1 {
		t.Fatalf("fetch %d", len(msgs))
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err == nil {
		t.Error("STORE in EXAMINE accepted")
	}
	if err := c.Expunge().Close(); err == nil {
		t.Error("EXPUNGE in EXAMINE accepted")
	}
	_, err = c.Select("INBOX", nil).Wait()
	must(t, err)
	got, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true}).Collect()
	must(t, err)
	if len(got[0].Flags) != 0 {
		t.Errorf("EXAMINE + FETCH BODY[] changed flags: %v", got[0].Flags)
	}
}

// Two staff sessions on the same organisational mailbox see each other's
// flag changes and expunges.
func TestOrgMailboxShared(t *testing.T) {
	e := sqliteEnv(t)
	e.deliver(e.ph, "Ordonnance 1", "", "x\r\n")
	e.deliver(e.ph, "Ordonnance 2", "", "y\r\n")
	var mu sync.Mutex
	var flagUpdates []uint32
	var expunged []uint32
	a := e.client(e.s1.Address, e.ph.Address, nil)
	b := e.client(e.s2.Address, e.ph.Address, &imapclient.UnilateralDataHandler{
		Fetch: func(m *imapclient.FetchMessageData) {
			mu.Lock()
			flagUpdates = append(flagUpdates, m.SeqNum)
			mu.Unlock()
		},
		Expunge: func(seq uint32) {
			mu.Lock()
			expunged = append(expunged, seq)
			mu.Unlock()
		},
	})
	for _, c := range []*imapclient.Client{a, b} {
		d, err := c.Select("INBOX", nil).Wait()
		must(t, err)
		if d.NumMessages != 2 {
			t.Fatalf("ORG INBOX has %d messages", d.NumMessages)
		}
	}
	must(t, a.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged, imap.FlagDeleted}}, nil).Close())
	must(t, b.Noop().Wait())
	must(t, a.Expunge().Close())
	must(t, b.Noop().Wait())
	mu.Lock()
	defer mu.Unlock()
	if len(flagUpdates) == 0 || flagUpdates[0] != 1 {
		t.Errorf("B saw flag updates %v, want message 1", flagUpdates)
	}
	if len(expunged) != 1 || expunged[0] != 1 {
		t.Errorf("B saw expunges %v, want [1]", expunged)
	}
	// Someone who is not staff cannot open it.
	c, err := imapclient.DialTLS(e.imaps, &imapclient.Options{TLSConfig: e.tlsConfig()})
	must(t, err)
	defer c.Close()
	if err := c.Authenticate(sasl.NewPlainClient(e.ph.Address, e.doc.Address, pw)); err == nil {
		t.Error("a non-staff account opened the ORG mailbox")
	}
}

func TestUIDsStableAcrossRestart(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEnv(t, d)
	e.deliver(e.pat, "un", "", "1\r\n")
	e.deliver(e.pat, "deux", "", "2\r\n")
	c := e.client(e.pat.Address, "", nil)
	d1, err := c.Select("INBOX", nil).Wait()
	must(t, err)
	c.Close()
	// A new store and server over the same database: a restart.
	blobs, _ := db.NewFSBlobs(t.TempDir())
	imapAddr, imapsAddr := e.serve(mailbox.New(d, blobs))
	e.imap, e.imaps = imapAddr, imapsAddr
	c2 := e.client(e.pat.Address, "", nil)
	d2, err := c2.Select("INBOX", nil).Wait()
	must(t, err)
	if d1.UIDValidity != d2.UIDValidity || d1.UIDNext != d2.UIDNext || d2.UIDNext != 3 {
		t.Fatalf("before restart %d/%d, after %d/%d", d1.UIDValidity, d1.UIDNext, d2.UIDValidity, d2.UIDNext)
	}
}

const nested = "From: =?utf-8?q?Dr_Andr=C3=A9_Martin?= <dr@hopital.example>\r\n" +
	"To: Equipe: a@hopital.example, b@hopital.example;, <jeanne@patient.example>\r\n" +
	"Subject: =?iso-8859-1?q?R=E9sultats_d=27analyse?=\r\n" +
	"Message-ID: <nested@hopital.example>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"sig\"\r\n\r\n" +
	"--sig\r\n" +
	"Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n" +
	"--mix\r\n" +
	"Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n" +
	"--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nH=C3=A9moglobine normale.\r\n" +
	"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>H&eacute;moglobine</p>\r\n" +
	"--alt--\r\n" +
	"--mix\r\nContent-Type: application/pdf; name=\"cr.pdf\"\r\nContent-Disposition: attachment; filename=\"cr.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" +
	"--mix--\r\n" +
	"--sig\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\nContent-Transfer-Encoding: base64\r\n\r\nMIIB\r\n" +
	"--sig--\r\n"

func TestFetchStructureAndSearch(t *testing.T) {
	e := sqliteEnv(t)
	e.deliver(e.pat, "Ordonnance", "", "Prendre du paracétamol.\r\n")
	ctx := context.Background()
	tx := e.p.Begin(mailbox.Envelope{Door: mailbox.Submission, From: e.doc.Address, Auth: e.doc, TLS: "x"})
	must(t, tx.AddRecipient(ctx, mailbox.Recipient{Address: e.pat.Address}))
	_, err := tx.Deliver(ctx, strings.NewReader(nested))
	must(t, err)
	c := e.client(e.pat.Address, "", nil)
	_, err = c.Select("INBOX", nil).Wait()
	must(t, err)
	msgs, err := c.Fetch(imap.SeqSetNum(2), &imap.FetchOptions{Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true}}).Collect()
	must(t, err)
	env := msgs[0].Envelope
	if env.Subject != "Résultats d'analyse" || len(env.From) != 1 || env.From[0].Name != "Dr André Martin" || env.MessageID != "nested@hopital.example" {
		t.Errorf("envelope %+v", env)
	}
	bs, ok := msgs[0].BodyStructure.(*imap.BodyStructureMultiPart)
	if !ok || bs.Subtype != "signed" || len(bs.Children) != 2 {
		t.Fatalf("body structure %#v", msgs[0].BodyStructure)
	}
	mixed, ok := bs.Children[0].(*imap.BodyStructureMultiPart)
	if !ok || mixed.Subtype != "mixed" || len(mixed.Children) != 2 {
		t.Fatalf("signed content %#v", bs.Children[0])
	}
	if alt, ok := mixed.Children[0].(*imap.BodyStructureMultiPart); !ok || alt.Subtype != "alternative" {
		t.Errorf("alternative part %#v", mixed.Children[0])
	}
	if sig, ok := bs.Children[1].(*imap.BodyStructureSinglePart); !ok || sig.Type != "application" || sig.Subtype != "pkcs7-signature" {
		t.Errorf("signature part %#v", bs.Children[1])
	}
	// BODY[1.1.1] is the quoted-printable text; BINARY decodes it.
	parts, err := c.Fetch(imap.SeqSetNum(2), &imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{{Part: []int{1, 1, 1}, Peek: true}}}).Collect()
	must(t, err)
	for _, b := range parts[0].BinarySection {
		if string(b.Bytes) != "Hémoglobine normale." {
			t.Errorf("BINARY[1.1.1] = %q", b.Bytes)
		}
	}
	search := func(cr *imap.SearchCriteria) []uint32 {
		t.Helper()
		d, err := c.UIDSearch(cr, nil).Wait()
		must(t, err)
		var out []uint32
		for _, u := range d.AllUIDs() {
			out = append(out, uint32(u))
		}
		return out
	}
	check := func(name string, cr *imap.SearchCriteria, want ...uint32) {
		t.Helper()
		if got := search(cr); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("SEARCH %s = %v, want %v", name, got, want)
		}
	}
	check("header subject", &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "résultats"}}}, 2)
	check("body qp", &imap.SearchCriteria{Body: []string{"hémoglobine"}}, 2)
	check("text", &imap.SearchCriteria{Text: []string{"paracétamol"}}, 1)
	check("larger", &imap.SearchCriteria{Larger: 1000}, 2)
	check("since", &imap.SearchCriteria{Since: time.Now().Add(-24 * time.Hour)}, 1, 2)
	check("before", &imap.SearchCriteria{Before: time.Now().Add(-24 * time.Hour)})
	check("sent before", &imap.SearchCriteria{SentBefore: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}, 1)
	must(t, c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged, "$Urgent"}}, nil).Close())
	check("flag", &imap.SearchCriteria{Flag: []imap.Flag{imap.FlagFlagged}}, 1)
	check("keyword", &imap.SearchCriteria{Flag: []imap.Flag{"$urgent"}}, 1)
	check("unflagged", &imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagFlagged}}, 2)
	var uid2 imap.UIDSet
	uid2.AddNum(2)
	check("uid", &imap.SearchCriteria{UID: []imap.UIDSet{uid2}}, 2)
	check("not", &imap.SearchCriteria{Not: []imap.SearchCriteria{{UID: []imap.UIDSet{uid2}}}}, 1)
	check("or", &imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Larger: 100000}, {Text: []string{"paracétamol"}}}}}, 1)
	// ESEARCH and SEARCHRES.
	d, err := c.UIDSearch(&imap.SearchCriteria{}, &imap.SearchOptions{ReturnMin: true, ReturnMax: true, ReturnCount: true}).Wait()
	must(t, err)
	if d.Min != 1 || d.Max != 2 || d.Count != 2 {
		t.Errorf("ESEARCH min/max/count = %d/%d/%d", d.Min, d.Max, d.Count)
	}
	// imapclient cannot send RETURN (SAVE): speak it by hand.
	out := e.raw(t, "s SELECT INBOX", "a UID SEARCH RETURN (SAVE) BODY hémoglobine", "b FETCH $ (UID)", "c UID SEARCH UID $")
	if !strings.Contains(out, "* 2 FETCH (UID 2)") || strings.Contains(out, "* 1 FETCH") || !strings.Contains(out, "* SEARCH 2") {
		t.Errorf("SEARCHRES:\n%s", out)
	}
	// MOVE with COPYUID.
	md, err := c.Move(imap.SeqSetNum(1), "Archive").Wait()
	must(t, err)
	if md.UIDValidity == 0 || md.DestUIDs == nil {
		t.Errorf("MOVE data %+v", md)
	}
	st, err := c.Status("Archive", &imap.StatusOptions{NumMessages: true, Size: true}).Wait()
	must(t, err)
	if *st.NumMessages != 1 || *st.Size == 0 {
		t.Errorf("Archive after MOVE: %d messages, size %d", *st.NumMessages, *st.Size)
	}
}

func TestAppendAndUIDs(t *testing.T) {
	e := sqliteEnv(t)
	c := e.client(e.doc.Address, "", nil)
	raw := "From: <dr@hopital.example>\r\nSubject: brouillon\r\n\r\nà compléter\r\n"
	cmd := c.Append("Drafts", int64(len(raw)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagDraft, imap.FlagSeen}})
	cmd.Write([]byte(raw))
	must(t, cmd.Close())
	ad, err := cmd.Wait()
	must(t, err)
	if ad.UID != 1 || ad.UIDValidity == 0 {
		t.Fatalf("APPENDUID %+v", ad)
	}
	_, err = c.Select("Drafts", nil).Wait()
	must(t, err)
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	must(t, err)
	for _, b := range msgs[0].BodySection {
		if string(b.Bytes) != raw {
			t.Errorf("APPENDed message changed: %q", b.Bytes)
		}
	}
	if fmt.Sprint(msgs[0].Flags) != fmt.Sprint([]imap.Flag{imap.FlagDraft, imap.FlagSeen}) {
		t.Errorf("flags %v", msgs[0].Flags)
	}
	cmd = c.Append("Nulle/Part", int64(len(raw)), nil)
	cmd.Write([]byte(raw))
	cmd.Close()
	if _, err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "TRYCREATE") {
		t.Errorf("APPEND to a missing folder: %v", err)
	}
}

// Two nodes share one PostgreSQL database: a message delivered by node B
// reaches an IDLE session on node A through LISTEN/NOTIFY.
func TestIdleAcrossNodesPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := dbtest.SchemaDSN(t)
	open := func() *db.DB {
		d, err := db.OpenPostgres(ctx, dsn)
		must(t, err)
		t.Cleanup(func() { d.Close() })
		_, err = d.Migrate(ctx)
		must(t, err)
		return d
	}
	e := newEnv(t, open()) // node A: its IMAP listeners and store
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan struct{})
	var once sync.Once
	go e.store.ListenChanges(lctx, func() { once.Do(func() { close(ready) }) })
	<-ready

	// Node B: its own connections, directory and store.
	dB := open()
	dirB := directory.New(dB, nil, nil, nil)
	blobsB, err := db.NewFSBlobs(t.TempDir())
	must(t, err)
	pB := &mailbox.Pipeline{Store: mailbox.New(dB, blobsB), Dir: dirB, Hostname: "node-b.hopital.example",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	testIdle(t, e, nil, pB)
}
