package smtpd_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/mailbox"
	"mssanted/smtpd"
)

func TestNotifier(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "email-notifications", Run: testNotifier}})
}

func testNotifier(t *testing.T, d *db.DB) {
	ctx := context.Background()
	pki := obCerts(t)
	relay := obStartRemote(t, &pki.remote, nil, false)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := directory.New(d, nil, nil, nil)
	must(t, dir.AddDomain(ctx, "hopital.example", directory.ProfessionalDomain))
	must(t, dir.AddDomain(ctx, "patient.example", directory.PatientDomain))
	k, _ := directory.INSKey("2850375123456")
	doc := create(t, dir, directory.NewAccount{Address: "dr@hopital.example", Role: directory.Professional, DisplayName: "Dr Alice Martin",
		Professional: &directory.ProfessionalInfo{RPPS: "1000000001" + string(directory.LuhnKey("1000000001")), Profession: "Médecin généraliste"}})
	pat := create(t, dir, directory.NewAccount{Address: "jeanne@patient.example", Role: directory.Patient, DisplayName: "Jeanne",
		NotifyEmail: "Jeanne.Perso@Example.org",
		Patient:     &directory.PatientInfo{INS: "2850375123456" + k, BirthDate: time.Date(1985, 3, 14, 0, 0, 0, 0, time.UTC), Sex: "F"}})
	blobs, err := db.NewFSBlobs(t.TempDir())
	must(t, err)
	store := mailbox.New(d, blobs)
	p := &mailbox.Pipeline{Store: store, Dir: dir, Hostname: "mail.hopital.example", Log: quiet}
	send := func(subject string) {
		t.Helper()
		tx := p.Begin(mailbox.Envelope{Door: mailbox.Submission, From: doc.Address, Auth: doc})
		must(t, tx.AddRecipient(ctx, mailbox.Recipient{Address: pat.Address}))
		_, err := tx.Deliver(ctx, strings.NewReader("From: <dr@hopital.example>\r\nSubject: "+subject+"\r\n\r\nRésultats de biologie\r\n"))
		must(t, err)
	}
	send("Résultats HIV")
	send("[FIN]")

	run := func(relayAddr string, now time.Time) {
		t.Helper()
		n := smtpd.NewNotifier(smtpd.NotifyConfig{Store: store, Relay: relayAddr, TLS: &tls.Config{RootCAs: pki.remotePool, ServerName: "mx.autre.example"},
			From: "Messagerie santé <ne-pas-repondre@hopital.example>", Hostname: "mail.hopital.example", AppURL: "https://sante.example/",
			Now: func() time.Time { return now }, Log: quiet})
		n.Flush(ctx)
	}

	// A relay that does not answer: nothing is lost, the rows wait.
	run("127.0.0.1:1", time.Now())
	if _, mails := relay.snapshot(); len(mails) != 0 {
		t.Fatal("sent to the wrong relay?")
	}
	var waiting, tried int
	must(t, d.Read().QueryRowContext(ctx, `SELECT count(*), sum(CASE WHEN attempts = 1 AND last_error <> '' THEN 1 ELSE 0 END)
		FROM notify_outbox WHERE sent_at IS NULL AND failed_at IS NULL`).Scan(&waiting, &tried))
	if waiting != 2 || tried != 2 {
		t.Fatalf("after a failed attempt: %d waiting, %d with the attempt recorded", waiting, tried)
	}
	// The relay: one mail for both notifications, saying how many things
	// and where, never who or what.
	run(relay.addr, time.Now().Add(time.Hour))
	_, mails := relay.snapshot()
	if len(mails) != 1 || len(mails[0].rcpts) != 1 || mails[0].rcpts[0] != "jeanne.perso@example.org" || mails[0].from != "ne-pas-repondre@hopital.example" {
		t.Fatalf("relayed: %+v", mails)
	}
	body := mails[0].data
	for _, want := range []string{"2 nouveaux messages", "https://sante.example/", "Auto-Submitted: auto-generated"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("notification lacks %q:\n%s", want, body)
		}
	}
	for _, secret := range []string{"HIV", "Alice", "Martin", "biologie", "dr@hopital.example", "FIN"} {
		if bytes.Contains(body, []byte(secret)) {
			t.Errorf("notification leaks %q:\n%s", secret, body)
		}
	}
	// Sent once: a second pass sends nothing.
	run(relay.addr, time.Now().Add(2*time.Hour))
	if _, mails := relay.snapshot(); len(mails) != 1 {
		t.Fatalf("%d mails after a second pass", len(mails))
	}
}
