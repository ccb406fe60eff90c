package mailbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/directory"
	"mssanted/mailbox"
)

func TestRulesConformance(t *testing.T) {
	dbtestSuite(t, "messaging-rules", testRules)
}

func testRules(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	k, _ := directory.INSKey("1850775123456")
	other, err := f.dir.Create(ctx, directory.NewAccount{Address: "paul@patient.example", Role: directory.Patient, DisplayName: "Paul", Password: pw,
		Patient: &directory.PatientInfo{INS: "1850775123456" + k, BirthDate: time.Date(1985, 7, 1, 0, 0, 0, 0, time.UTC), Sex: "M"}})
	must(t, err)
	closed, err := f.dir.Create(ctx, directory.NewAccount{Address: "fermee@hopital.example", Role: directory.Pharmacy, DisplayName: "Pharmacie Fermée", Password: pw,
		Pharmacy: &directory.PharmacyInfo{FINESS: "030001248", PostalAddress: "2 rue X", PostalCode: "03000", Commune: "Moulins"}})
	must(t, err)
	rpps := "1000000009" + string(directory.LuhnKey("1000000009"))
	doc2, err := f.dir.Create(ctx, directory.NewAccount{Address: "dr2@hopital.example", Role: directory.Professional, DisplayName: "Dr B", Password: pw,
		Professional: &directory.ProfessionalInfo{RPPS: rpps, Profession: "Cardiologue"}})
	must(t, err)

	send := func(from *directory.Account, to string, subject, extra string) error {
		t.Helper()
		_, err := f.send(t, submission(from), []string{to}, "From: <"+from.Address+">\r\nSubject: "+subject+"\r\n"+extra+"\r\ncorps\r\n")
		return err
	}
	refused := func(err error, sentence string) {
		t.Helper()
		var ref *mailbox.Refusal
		if !errors.As(err, &ref) || ref.Code != 550 || ref.Enhanced != [3]int{5, 7, 1} || !strings.Contains(ref.Message, sentence) {
			t.Fatalf("got %v, want 550 5.7.1 with %q", err, sentence)
		}
	}
	state := func(pro string) string {
		t.Helper()
		cs, err := f.store.Conversations(ctx, f.pat.ID)
		must(t, err)
		for _, c := range cs {
			if c.ProAddress == pro {
				return c.State
			}
		}
		return "none"
	}

	// Rule 1: the patient cannot start; the professional can.
	refused(send(f.pat, f.doc.Address, "Bonjour", ""), "Seul un professionnel de santé peut commencer")
	must(t, send(f.doc, f.pat.Address, "Vos résultats", ""))
	if state(f.doc.Address) != mailbox.ConversationOpen {
		t.Fatalf("conversation after the professional's message: %s", state(f.doc.Address))
	}
	// Rule 2: the patient replies while open, only to that professional.
	must(t, send(f.pat, f.doc.Address, "Re: Vos résultats", ""))
	refused(send(f.pat, doc2.Address, "Bonjour", ""), "Seul un professionnel")
	// Closing with [FIN]: delivered, then replies are refused with the name.
	must(t, send(f.doc, f.pat.Address, "[FIN]", ""))
	if state(f.doc.Address) != mailbox.ConversationClosed {
		t.Fatal("[FIN] did not close the conversation")
	}
	in, _ := f.store.Inbox(ctx, f.pat.ID)
	if in[len(in)-1].Subject != "[FIN]" {
		t.Fatal("the closing message was not delivered")
	}
	refused(send(f.pat, f.doc.Address, "Re: encore", ""), "Dr A a mis fin à vos échanges")
	// Writing again reopens; X-MSS-MES: FIN closes too.
	must(t, send(f.doc, f.pat.Address, "Nouveau rendez-vous", ""))
	must(t, send(f.pat, f.doc.Address, "Re: Nouveau rendez-vous", ""))
	must(t, send(f.doc, f.pat.Address, "Au revoir", "X-MSS-MES: FIN\r\n"))
	refused(send(f.pat, f.doc.Address, "Re: Au revoir", ""), "a mis fin à vos échanges")
	// Rule 6: each message to the patient is notified; the closing one
	// with the sentence the app shows.
	notes, unread, err := f.store.Notifications(ctx, f.pat.ID, 0)
	must(t, err)
	if unread != 4 || len(notes) != 4 || notes[0].Kind != mailbox.NotifyClosed || notes[0].Title != "Dr A a mis fin à vos échanges" ||
		notes[1].Kind != mailbox.NotifyMessage || notes[1].Title != "Nouveau message de Dr A" {
		t.Fatalf("notifications (%d unread): %+v", unread, notes)
	}
	must(t, f.store.MarkNotificationsRead(ctx, f.pat.ID, []int64{notes[0].ID}))
	must(t, f.store.MarkNotificationsRead(ctx, f.doc.ID, nil)) // another account's call touches nothing of hers
	if _, unread, _ = f.store.Notifications(ctx, f.pat.ID, 0); unread != 3 {
		t.Fatalf("after reading one: %d unread", unread)
	}
	// Rule 3: never patient to patient.
	refused(send(f.pat, other.Address, "Coucou", ""), "Un patient ne peut pas écrire à un autre patient")
	// Rule 4: first to a reachable pharmacy only; the pharmacy replies and closes.
	must(t, send(f.pat, f.ph.Address, "Ordonnance", ""))
	refused(send(f.pat, closed.Address, "Ordonnance", ""), "ne reçoit pas de messages des patients")
	must(t, send(f.ph, f.pat.Address, "Re: Ordonnance", ""))
	must(t, send(f.ph, f.pat.Address, "[FIN]", ""))
	if state(f.ph.Address) != mailbox.ConversationClosed {
		t.Fatal("the pharmacy's [FIN] did not close")
	}
	must(t, send(f.pat, f.ph.Address, "Nouvelle ordonnance", "")) // writing first again is allowed
	if state(f.ph.Address) != mailbox.ConversationOpen {
		t.Fatal("a patient's new message to a pharmacy did not reopen the conversation")
	}
	// Rule 5: professionals write to each other freely, [FIN] there is only a subject.
	must(t, send(f.doc, doc2.Address, "Avis", ""))
	must(t, send(doc2, f.doc.Address, "[FIN]", ""))
	// A patient's reply to a remote professional needs that professional to have written first.
	refused(send(f.pat, "dr@autre-operateur.example", "Bonjour", ""), "Seul un professionnel")
	mx := f.p.Begin(mailbox.Envelope{Door: mailbox.MX, From: "dr@autre-operateur.example", TLS: "x", PeerCert: "CN=mx"})
	must(t, mx.AddRecipient(ctx, mailbox.Recipient{Address: f.pat.Address}))
	_, err = mx.Deliver(ctx, strings.NewReader("Subject: depuis un autre opérateur\r\n\r\nx\r\n"))
	must(t, err)
	must(t, send(f.pat, "dr@autre-operateur.example", "Re: depuis un autre opérateur", ""))
}
