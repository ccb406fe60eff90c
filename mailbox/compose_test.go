package mailbox_test

import (
	"context"
	"errors"
	"testing"

	"mssanted/db"
	"mssanted/mailbox"
)

func TestComposeConformance(t *testing.T) {
	dbtestSuite(t, "reply-and-close-from-the-app", testCompose)
}

// testCompose: a reply written in the app goes to the other party,
// threaded, with the conversation's subject; only the professional closes.
func testCompose(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	res, err := f.p.Send(ctx, f.doc, mailbox.Draft{To: f.pat.Address, Subject: "Vos résultats", Text: "Bonjour"})
	must(t, err)
	c, err := f.store.ConversationBetween(ctx, f.doc.Address, f.pat.ID)
	must(t, err)
	var r mailbox.Draft
	got, err := f.store.AddressReply(ctx, f.dir, f.pat, c.ID, &r)
	must(t, err)
	if got.ID != c.ID || r.To != f.doc.Address || r.InReplyTo != res.MessageID || r.Subject != "Re: Vos résultats" || len(r.References) != 1 {
		t.Fatalf("addressed reply: %+v", r)
	}
	if _, err := f.store.AddressReply(ctx, f.dir, f.ph, c.ID, &r); !errors.Is(err, mailbox.ErrNoSuchConversation) {
		t.Fatalf("a stranger addressed a reply: %v", err)
	}
	r.Text, r.Closing = "fin", true
	if _, err := f.p.Send(ctx, f.pat, r); !errors.Is(err, mailbox.ErrForbidden) {
		t.Fatalf("a patient closed: %v", err)
	}
	r.Closing = false
	if _, err := f.p.Send(ctx, f.pat, r); err != nil {
		t.Fatalf("the reply: %v", err)
	}
}
