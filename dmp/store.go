// Package dmp is the patient space: the document library filled from
// messages (attachments, IHE XDM, CDA), its access rules and traces, and
// the patient's own records. Authorization lives here: every method takes
// the actor (the authenticated account) and decides what it may see, so
// that the web app, the API and any other door cannot disagree.
package dmp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"mssanted/db"
	"mssanted/directory"
)

// Errors callers map to their protocol.
var (
	ErrNotFound  = errors.New("no such document")
	ErrForbidden = errors.New("not allowed")
	ErrInvalid   = errors.New("invalid")
)

func invalid(fr, en string) error { return fmt.Errorf("%w: %s / %s", ErrInvalid, fr, en) }

// Store is the document library.
type Store struct {
	db    *db.DB
	blobs db.BlobStore
	dir   *directory.Store
	now   func() time.Time
}

// New returns the library over the database and the blob store.
func New(d *db.DB, blobs db.BlobStore, dir *directory.Store) *Store {
	return &Store{db: d, blobs: blobs, dir: dir, now: time.Now}
}

// Document is one document of a patient's library.
type Document struct {
	ID               int64
	PatientID        int64
	FolderID         int64 // 0: at the root
	Title            string
	Category         string // a classify category id, e.g. "ordonnances"
	ClassCode        string // DMP classCode (reference.md), e.g. "42"
	TypeCode         string // LOINC or local typeCode
	FormatCode       string
	Filename         string
	MimeType         string
	Size             int64
	Date             time.Time // the date shown: creation or service time, else filing
	FiledAt          time.Time
	Origin           string // message, xdm, cda, upload, summary
	AuthorName       string
	AuthorID         string // RPPS/ADELI when known
	AuthorAddress    string
	AuthorProfession string
	Institution      string
	Confidentiality  string
	Masked           bool // hidden from professionals (MASQUE_PS or the patient's choice)
	InvisiblePatient bool
	InvisibleReps    bool
	Pinned           bool
	SourceMessageRow int64
	SourceMessageID  string
	TwinID           int64
	Objected         bool
	ObjectionReason  string

	blobKey string
	sha256  string
	// set at filing only
	serviceStart, serviceStop time.Time
	uniqueID                  string
}

const docColumns = `id, patient_id, folder_id, title, category, class_code, type_code, format_code, filename, mime_type, size,
	doc_date, filed_at, origin, author_name, author_id, author_address, author_profession, institution, confidentiality,
	masked, invisible_patient, invisible_reps, pinned, source_message_row, source_message_id, twin_id,
	objected_at, objection_reason, blob_key, sha256`

func scanDoc(sc interface{ Scan(...any) error }) (*Document, error) {
	var d Document
	var folder, msgRow, twin, objected sql.NullInt64
	var date, filed int64
	err := sc.Scan(&d.ID, &d.PatientID, &folder, &d.Title, &d.Category, &d.ClassCode, &d.TypeCode, &d.FormatCode, &d.Filename, &d.MimeType, &d.Size,
		&date, &filed, &d.Origin, &d.AuthorName, &d.AuthorID, &d.AuthorAddress, &d.AuthorProfession, &d.Institution, &d.Confidentiality,
		&d.Masked, &d.InvisiblePatient, &d.InvisibleReps, &d.Pinned, &msgRow, &d.SourceMessageID, &twin,
		&objected, &d.ObjectionReason, &d.blobKey, &d.sha256)
	if err != nil {
		return nil, err
	}
	d.FolderID, d.SourceMessageRow, d.TwinID = folder.Int64, msgRow.Int64, twin.Int64
	d.Date, d.FiledAt, d.Objected = db.Time(date), db.Time(filed), objected.Valid
	return &d, nil
}

// Actor types written in the access trace.
const (
	ActorPatient      = "patient"
	ActorProfessional = "professionnel"
	ActorPharmacy     = "pharmacie"
	ActorSystem       = "système"
)

func actorType(a *directory.Account) string {
	switch a.Role {
	case directory.Patient:
		return ActorPatient
	case directory.Pharmacy:
		return ActorPharmacy
	case directory.Professional:
		return ActorProfessional
	}
	return ActorSystem
}

// trace appends one line to the access trace. It runs in q (a transaction
// or the writer), so an access and its trace stand or fall together.
func (s *Store) trace(ctx context.Context, q db.Querier, patientID, docID int64, actor *directory.Account, action string) error {
	var doc any
	if docID != 0 {
		doc = docID
	}
	_, err := q.ExecContext(ctx, `INSERT INTO access_traces (patient_id, document_id, actor_address, actor_name, actor_type, action, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, patientID, doc, actor.Address, actor.DisplayName, actorType(actor), action, db.Micros(s.now()))
	if err != nil {
		return fmt.Errorf("dmp: access trace: %w", err)
	}
	return nil
}

// access is what an actor may do on one patient's record.
type access struct {
	actor   *directory.Account
	patient int64
	owner   bool // the patient themself, or their legal representative
	// representative: acting for a represented person (a child)
	representative bool
	pro            string // the professional's profession (matrix), when not the owner
}

// accessTo decides whether actor may open patient's record at all: the
// patient; or a professional who cares for them (a conversation with them,
// or a document they deposited) and whom the patient has not blocked.
func (s *Store) accessTo(ctx context.Context, actor *directory.Account, patientID int64) (*access, error) {
	if actor.Role == directory.Patient {
		if actor.ID == patientID {
			return &access{actor: actor, patient: patientID, owner: true}, nil
		}
		// A legal representative manages the record of the person they
		// represent, without INVISIBLE_REPRESENTANTS_LEGAUX documents.
		ok, err := s.represents(ctx, s.db.Read(), actor.ID, patientID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: a patient reads their own record, and those of the persons they represent", ErrForbidden)
		}
		return &access{actor: actor, patient: patientID, owner: true, representative: true}, nil
	}
	if actor.Role != directory.Professional && actor.Role != directory.Pharmacy {
		return nil, fmt.Errorf("%w: %s has no access to records", ErrForbidden, actor.Role)
	}
	addrs := []string{actor.Address}
	orgs, err := s.dir.OrgsOf(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	addrs = append(addrs, orgs...)
	args := []any{patientID}
	var ph []string
	for _, a := range addrs {
		args = append(args, a)
		ph = append(ph, fmt.Sprintf("$%d", len(args)))
	}
	in := strings.Join(ph, ", ")
	var blocked, cares int
	err = s.db.Read().QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM record_blocks WHERE patient_id = $1 AND professional_address IN (`+in+`)),
		(SELECT count(*) FROM conversations WHERE patient_id = $1 AND pro_address IN (`+in+`))
		+ (SELECT count(*) FROM documents WHERE patient_id = $1 AND author_address IN (`+in+`))`, args...).Scan(&blocked, &cares)
	if err != nil {
		return nil, fmt.Errorf("dmp: access: %w", err)
	}
	if blocked > 0 {
		return nil, fmt.Errorf("%w: the patient has blocked %s", ErrForbidden, actor.Address)
	}
	if cares == 0 {
		return nil, fmt.Errorf("%w: %s does not care for this patient", ErrForbidden, actor.Address)
	}
	profession := ""
	if actor.Professional != nil {
		profession = actor.Professional.Profession
	}
	if actor.Role == directory.Pharmacy {
		profession = "Pharmacien"
	}
	return &access{actor: actor, patient: patientID, pro: profession}, nil
}

// mayRead is the per-document rule: the patient sees all but
// INVISIBLE_PATIENT documents; a professional sees what the matrix grants
// their profession, not masked (unless they are its author), not objected
// to.
func (a *access) mayRead(d *Document) bool {
	if d.PatientID != a.patient {
		return false
	}
	if a.owner {
		return !d.InvisiblePatient && !(a.representative && d.InvisibleReps)
	}
	author := d.AuthorAddress != "" && strings.EqualFold(d.AuthorAddress, a.actor.Address)
	if author {
		return true
	}
	if d.Masked || d.Objected {
		return false
	}
	return MayRead(a.pro, d.ClassCode)
}

// PatientByINS finds a patient of this instance by INS, for professionals
// asking for a record by the identifier they know.
func (s *Store) PatientByINS(ctx context.Context, ins string) (*directory.Account, error) {
	var id int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT id FROM accounts WHERE ins = $1 AND role = 'patient'`, strings.TrimSpace(ins)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("dmp: patient by INS: %w", err)
	}
	return s.dir.ByID(ctx, id)
}
