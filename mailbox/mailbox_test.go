package mailbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/mailbox"
)

const pw = "correct horse battery"

type fixture struct {
	d     *db.DB
	dir   *directory.Store
	store *mailbox.Store
	p     *mailbox.Pipeline
	doc   *directory.Account
	pat   *directory.Account
	ph    *directory.Account
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := directory.New(d, nil, nil, nil)
	must(t, dir.AddDomain(ctx, "hopital.example", directory.ProfessionalDomain))
	must(t, dir.AddDomain(ctx, "patient.example", directory.PatientDomain))
	k, _ := directory.INSKey("2850375123456")
	rpps := "1000000001" + string(directory.LuhnKey("1000000001"))
	doc, err := dir.Create(ctx, directory.NewAccount{Address: "dr@hopital.example", Role: directory.Professional, DisplayName: "Dr A", Password: pw,
		Professional: &directory.ProfessionalInfo{RPPS: rpps, Profession: "Médecin généraliste"}})
	must(t, err)
	pat, err := dir.Create(ctx, directory.NewAccount{Address: "jeanne@patient.example", Role: directory.Patient, DisplayName: "Jeanne", Password: pw,
		Patient: &directory.PatientInfo{INS: "2850375123456" + k, BirthDate: time.Date(1985, 3, 14, 0, 0, 0, 0, time.UTC), Sex: "F"}})
	must(t, err)
	ph, err := dir.Create(ctx, directory.NewAccount{Address: "gare@hopital.example", Role: directory.Pharmacy, DisplayName: "Pharmacie de la Gare", Password: pw,
		Pharmacy: &directory.PharmacyInfo{FINESS: "030001230", PostalAddress: "1 pl de la Gare", PostalCode: "03000", Commune: "Moulins", ReachableByPatients: true}})
	must(t, err)
	blobs, err := db.NewFSBlobs(t.TempDir())
	must(t, err)
	store := mailbox.New(d, blobs)
	return &fixture{d: d, dir: dir, store: store, doc: doc, pat: pat, ph: ph,
		p: &mailbox.Pipeline{Store: store, Dir: dir, Hostname: "mail.hopital.example", Product: "mssanted/test",
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func message(subject, extra string) string {
	return "From: Dr A <dr@hopital.example>\r\nTo: <jeanne@patient.example>\r\nSubject: " + subject + "\r\n" + extra +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\nvoici vos résultats.\r\n"
}

func (f *fixture) send(t *testing.T, env mailbox.Envelope, rcpts []string, data string) (*mailbox.Result, error) {
	t.Helper()
	ctx := context.Background()
	tx := f.p.Begin(env)
	for _, r := range rcpts {
		if err := tx.AddRecipient(ctx, mailbox.Recipient{Address: r}); err != nil {
			return nil, err
		}
	}
	return tx.Deliver(ctx, strings.NewReader(data))
}

func submission(a *directory.Account) mailbox.Envelope {
	return mailbox.Envelope{Door: mailbox.Submission, From: a.Address, Auth: a, RemoteIP: "127.0.0.1", Helo: "client", TLS: "TLS 1.3 TLS_AES_128_GCM_SHA256"}
}

func TestConformance(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{
		{Name: "deliver-local-and-remote", Run: testDeliver},
		{Name: "refusals", Run: testRefusals},
		{Name: "dedupe", Run: testDedupe},
		{Name: "concurrent-uids", Run: testConcurrentUIDs},
		{Name: "mdn-processed", Run: testMDN},
		{Name: "queue-lifecycle", Run: testQueue},
	})
}

func testDeliver(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	watch, stop := f.store.Watch(inboxID(t, f, f.pat.ID))
	defer stop()
	res, err := f.send(t, submission(f.doc), []string{"Jeanne@patient.example", "gare@hopital.example", "dr@other-operator.example"}, message("Résultats", ""))
	must(t, err)
	if len(res.Delivered) != 2 || len(res.Queued) != 1 || res.MessageID == "" {
		t.Fatalf("result %+v", res)
	}
	select {
	case <-watch:
	case <-time.After(5 * time.Second):
		t.Fatal("no change notification for the INBOX")
	}
	in, err := f.store.Inbox(ctx, f.pat.ID)
	must(t, err)
	if len(in) != 1 || in[0].UID != 1 || in[0].Subject != "Résultats" || !strings.Contains(in[0].Trace, "auth=dr@hopital.example") {
		t.Fatalf("inbox %+v", in)
	}
	body := readBlob(t, f, in[0].BlobKey)
	for _, want := range []string{"Received: from client ([127.0.0.1])", "by mail.hopital.example (mssanted) with ESMTPSA", "X-MSS-Trace: door=submission",
		"Message-ID: " + res.MessageID, "X-MSS-NIL: mssanted/test", "voici vos résultats.\r\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("stored message lacks %q:\n%s", want, body)
		}
	}
	q, err := f.store.QueueList(ctx, mailbox.Queued)
	must(t, err)
	if len(q) != 1 || q[0].Rcpt != "dr@other-operator.example" || q[0].Domain != "other-operator.example" || q[0].BlobKey != in[0].BlobKey {
		t.Fatalf("queue %+v", q)
	}
}

func inboxID(t *testing.T, f *fixture, account int64) int64 {
	t.Helper()
	id, err := f.store.EnsureFolders(context.Background(), account)
	must(t, err)
	return id
}

func readBlob(t testing.TB, f *fixture, key string) string {
	t.Helper()
	rc, err := f.store.Blobs().Open(context.Background(), key)
	must(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	must(t, err)
	return string(b)
}

func testRefusals(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	var ref *mailbox.Refusal
	tx := f.p.Begin(submission(f.doc))
	if err := tx.AddRecipient(ctx, mailbox.Recipient{Address: "nobody@patient.example"}); !errors.As(err, &ref) || ref.Code != 550 || ref.Enhanced != [3]int{5, 1, 1} {
		t.Fatalf("unknown local: %v", err)
	}
	mx := f.p.Begin(mailbox.Envelope{Door: mailbox.MX, From: "a@other.example", TLS: "x"})
	if err := mx.AddRecipient(ctx, mailbox.Recipient{Address: "b@third.example"}); !errors.As(err, &ref) || ref.Enhanced != [3]int{5, 7, 1} {
		t.Fatalf("MX relay: %v (an MX must never relay)", err)
	}
	must(t, f.dir.SetDisabled(ctx, f.ph.Address, true))
	if err := tx.AddRecipient(ctx, mailbox.Recipient{Address: f.ph.Address}); !errors.As(err, &ref) || ref.Code != 550 {
		t.Fatalf("disabled account: %v", err)
	}
	if _, err := tx.Deliver(ctx, strings.NewReader(message("x", ""))); !errors.As(err, &ref) || ref.Code != 554 {
		t.Fatalf("deliver without recipients: %v", err)
	}
	// A malformed header changes nothing.
	tx2 := f.p.Begin(submission(f.doc))
	must(t, tx2.AddRecipient(ctx, mailbox.Recipient{Address: f.pat.Address}))
	if _, err := tx2.Deliver(ctx, strings.NewReader("this is not a header line\r\n\r\nbody\r\n")); err == nil {
		t.Fatal("malformed header accepted")
	}
	in, _ := f.store.Inbox(ctx, f.pat.ID)
	if len(in) != 0 {
		t.Fatalf("refused message stored: %+v", in)
	}
}

func testDedupe(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	data := message("Ordonnance", "Message-ID: <fixed@hopital.example>\r\n")
	r1, err := f.send(t, submission(f.doc), []string{f.pat.Address}, data)
	must(t, err)
	r2, err := f.send(t, submission(f.doc), []string{f.pat.Address, f.ph.Address}, data)
	must(t, err)
	if len(r1.Delivered) != 1 || len(r2.Duplicates) != 1 || len(r2.Delivered) != 1 || r2.Delivered[0] != f.ph.Address {
		t.Fatalf("first %+v, second %+v", r1, r2)
	}
	in, _ := f.store.Inbox(context.Background(), f.pat.ID)
	if len(in) != 1 {
		t.Fatalf("patient has %d copies of one message", len(in))
	}
}

func testConcurrentUIDs(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.send(t, submission(f.doc), []string{f.pat.Address, f.ph.Address}, message(fmt.Sprint("m", i), ""))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	for _, acct := range []int64{f.pat.ID, f.ph.ID} {
		in, err := f.store.Inbox(context.Background(), acct)
		must(t, err)
		if len(in) != n {
			t.Fatalf("account %d has %d messages, want %d", acct, len(in), n)
		}
		for i, m := range in {
			if m.UID != int64(i+1) {
				t.Fatalf("UIDs not dense and ascending: position %d has UID %d", i, m.UID)
			}
		}
	}
}

func testMDN(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	_, err := f.send(t, submission(f.doc), []string{f.pat.Address},
		message("Compte rendu", "Message-ID: <cr1@hopital.example>\r\nDisposition-Notification-To: Dr A <dr@hopital.example>\r\n"))
	must(t, err)
	in, err := f.store.Inbox(ctx, f.doc.ID)
	must(t, err)
	if len(in) != 1 {
		t.Fatalf("sender has %d messages, want the MDN", len(in))
	}
	mdn := readBlob(t, f, in[0].BlobKey)
	for _, want := range []string{"Content-Type: multipart/report; report-type=disposition-notification",
		"Final-Recipient: rfc822;jeanne@patient.example", "Original-Message-ID: <cr1@hopital.example>",
		"Disposition: automatic-action/MDN-sent-automatically; processed", "Auto-Submitted: auto-replied"} {
		if !strings.Contains(mdn, want) {
			t.Errorf("MDN lacks %q:\n%s", want, mdn)
		}
	}
	// A professional recipient sends no MDN (only patients and pharmacies).
	_, err = f.send(t, submission(f.ph), []string{f.doc.Address},
		message("Question", "Disposition-Notification-To: <gare@hopital.example>\r\n"))
	must(t, err)
	ph, _ := f.store.Inbox(ctx, f.ph.ID)
	if len(ph) != 0 {
		t.Fatalf("MDN sent for a professional recipient: %+v", ph)
	}
}

func testQueue(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	_, err := f.send(t, submission(f.doc), []string{"a@remote.example", "b@remote.example"}, message("x", ""))
	must(t, err)
	now := time.Now()
	got, err := f.store.ClaimDue(ctx, now, time.Minute, 10)
	must(t, err)
	if len(got) != 2 {
		t.Fatalf("claimed %d", len(got))
	}
	again, err := f.store.ClaimDue(ctx, now, time.Minute, 10)
	must(t, err)
	if len(again) != 0 {
		t.Fatalf("leased rows claimed twice: %d", len(again))
	}
	must(t, f.store.MarkSent(ctx, got[0].ID, now))
	must(t, f.store.MarkRetry(ctx, got[1].ID, now.Add(time.Hour), "421 try later", false))
	if due, _ := f.store.ClaimDue(ctx, now.Add(time.Minute), time.Minute, 10); len(due) != 0 {
		t.Fatalf("retry claimed before its time: %d", len(due))
	}
	must(t, f.store.QueueRetry(ctx, got[1].ID, now))
	due, _ := f.store.ClaimDue(ctx, now.Add(time.Second), time.Minute, 10)
	if len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "421 try later" {
		t.Fatalf("after retry: %+v", due)
	}
	must(t, f.store.MarkFailed(ctx, due[0].ID, now, "550 no such user"))
	failed, _ := f.store.QueueList(ctx, mailbox.Failed)
	if len(failed) != 1 {
		t.Fatalf("failed list %+v", failed)
	}
	must(t, f.store.QueueDrop(ctx, failed[0].ID))
	if err := f.store.QueueDrop(ctx, failed[0].ID); !errors.Is(err, mailbox.ErrNoSuchEntry) {
		t.Fatalf("drop twice: %v", err)
	}
}

// dbtestSuite runs one case on both backends.
func dbtestSuite(t *testing.T, name string, run func(*testing.T, *db.DB)) {
	dbtest.Suite(t, []dbtest.Case{{Name: name, Run: run}})
}
