package mailbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/mailbox"
)

// FuzzDeliver feeds arbitrary message data to the pipeline: it is either
// refused with a reason and nothing stored, or stored with the data intact
// after the trace headers (a signed body must survive byte for byte).
func FuzzDeliver(f *testing.F) {
	for _, seed := range []string{
		message("Résultats", ""),
		"Subject: no body",
		"\r\n\r\nbody only",
		"X: y\n\nbare LF\n",
		"Subject: =?utf-8?b?w6k=?=\r\nDisposition-Notification-To: <dr@hopital.example>\r\n\r\nx",
		"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
		strings.Repeat("X-Long: "+strings.Repeat("a", 990)+"\r\n", 3) + "\r\n",
	} {
		f.Add(seed)
	}
	fx := newFixture(f, dbtest.Open(f, db.SQLite))
	f.Fuzz(func(t *testing.T, data string) {
		ctx := context.Background()
		tx := fx.p.Begin(submission(fx.doc))
		must(t, tx.AddRecipient(ctx, mailbox.Recipient{Address: fx.ph.Address}))
		before, _ := fx.store.Inbox(ctx, fx.ph.ID)
		res, err := tx.Deliver(ctx, strings.NewReader(data))
		after, _ := fx.store.Inbox(ctx, fx.ph.ID)
		if err != nil {
			var ref *mailbox.Refusal
			if !errors.As(err, &ref) {
				t.Fatalf("not a refusal: %v", err)
			}
			if len(after) != len(before) {
				t.Fatal("a refused message was stored")
			}
			return
		}
		if len(res.Delivered)+len(res.Duplicates) != 1 {
			t.Fatalf("result %+v", res)
		}
		if len(res.Delivered) == 1 {
			got := readBlob(t, fx, after[len(after)-1].BlobKey)
			if !strings.HasSuffix(got, data) {
				t.Fatalf("stored message does not end with the data as sent")
			}
		}
	})
}
