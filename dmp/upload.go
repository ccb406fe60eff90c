package dmp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"mssanted/db"
	"mssanted/directory"
)

// MaxUploadBytes is the size of one document a patient adds (reference.md).
const MaxUploadBytes = 5 << 20

// Upload is a document the patient adds to their library.
type Upload struct {
	Name     string
	Data     []byte
	Title    string // "" : from the file name
	Category string // "" : "autres"
	FolderID int64
	// PersonID is whose library it goes to: 0 the actor's own, or a person
	// the actor represents.
	PersonID int64
}

// AddDocument files a patient's own document (class 90, "Document déposé
// par le patient"): pdf, txt, rtf, jpg, jpeg, png or tiff, 5 MB at most;
// anything else is refused with a sentence that says what is accepted.
func (s *Store) AddDocument(ctx context.Context, actor *directory.Account, u Upload) (*Document, error) {
	if actor.Role != directory.Patient {
		return nil, fmt.Errorf("%w: only the patient adds documents to their library", ErrForbidden)
	}
	person, err := s.ActFor(ctx, actor, u.PersonID)
	if err != nil {
		return nil, err
	}
	if len(u.Data) == 0 {
		return nil, invalid("Le fichier est vide", "the file is empty")
	}
	if len(u.Data) > MaxUploadBytes {
		return nil, invalid("Le fichier dépasse 5 Mo", "the file exceeds 5 MB")
	}
	mt, err := SniffUpload(u.Name, u.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if u.Category == "" {
		u.Category = CategoryFor("90", "", u.Name)
	}
	if !IsCategory(u.Category) {
		return nil, invalid("Catégorie inconnue", "unknown category")
	}
	title := u.Title
	if title == "" {
		title = titleFromName(u.Name)
	}
	key, _, err := s.blobs.Put(ctx, bytes.NewReader(u.Data))
	if err != nil {
		return nil, fmt.Errorf("dmp: store upload: %w", err)
	}
	sum := sha256.Sum256(u.Data)
	nonce := make([]byte, 8)
	rand.Read(nonce)
	now := db.Micros(s.now())
	var folder any
	if u.FolderID > 0 {
		var n int
		if err := s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM document_folders WHERE id = $1 AND patient_id = $2`, u.FolderID, person.ID).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, invalid("Dossier inconnu", "unknown folder")
		}
		folder = u.FolderID
	}
	var id int64
	err = s.db.Write().QueryRowContext(ctx, `INSERT INTO documents (patient_id, folder_id, title, category, class_code, filename, mime_type, size,
		blob_key, sha256, doc_date, filed_at, origin, author_name, author_address, author_profession, source_key,
		masked)
		VALUES ($1, $2, $3, $4, '90', $5, $6, $7, $8, $9, $10, $10, 'upload', $11, $12, 'Patient', $13,
		COALESCE((SELECT mask_new FROM record_settings WHERE patient_id = $1), FALSE)) RETURNING id`,
		person.ID, folder, truncate(title, 200), u.Category, u.Name, mt, int64(len(u.Data)), key, hex.EncodeToString(sum[:]), now,
		actor.DisplayName, actor.Address, "upload:"+hex.EncodeToString(nonce)).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("dmp: add document: %w", err)
	}
	if err := s.trace(ctx, s.db.Write(), person.ID, id, actor, "ajout d'un document"); err != nil {
		return nil, err
	}
	d, _, err := s.load(ctx, s.db.Read(), actor, id)
	return d, err
}
