package mailbox

import (
	"context"
	"database/sql"
	"time"

	"mssanted/directory"
)

// Filing hands the documents a message carries to the patient's library
// (dmp) inside the delivery transaction (DESIGN.md, "One message, end to
// end", step 3): a delivered message always has its documents, and none is
// filed twice. mailbox defines the interface; dmp implements it, so that
// the mail store does not depend on the library.

// FilingMessage is the message being delivered, as the filer sees it.
type FilingMessage struct {
	BlobKey   string // the stored message (S/MIME already opened)
	MessageID string
	Subject   string
	From      string             // envelope sender
	Sender    *directory.Account // the local account writing, nil for another operator
}

// Filer prepares the filing of a message, once, before the transaction.
type Filer interface {
	Prepare(ctx context.Context, m FilingMessage) (FilingPlan, error)
}

// FilingPlan files a prepared message for each patient recipient.
type FilingPlan interface {
	// Check tells, before the transaction, the integration error the
	// message owes this patient in an MDN (reference.md: "904^…"), or "".
	Check(patient *directory.Account) string
	// File records the documents in the patient's library, in tx.
	File(ctx context.Context, tx *sql.Tx, patient *directory.Account, msgRow int64, now time.Time) ([]FiledDocument, error)
}

// FiledDocument is a document filed for a patient.
type FiledDocument struct {
	ID    int64
	Title string
	// Visible is false for INVISIBLE_PATIENT documents: no notification.
	Visible bool
}
