package dmp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"mssanted/db"
	"mssanted/directory"
	"mssanted/dmp/classify"
)

// Generated is a document the space produces for a person from their own
// data: the synthèse of the medical profile (SYNTH_PML), the advance
// directives written online (DIR_ANT), a health questionnaire
// (QUEST_SANTE). These are the categories no upload may choose
// (shared/mes-model.md §2).
type Generated struct {
	Title     string
	Category  string // synthese-medicale, directives-anticipees or questionnaire-sante
	ClassCode string // DMP class, e.g. "11" for a synthèse
	TypeCode  string // LOINC, e.g. "60591-5" (patient summary)
	Filename  string
	MimeType  string // "": application/pdf
	Data      []byte
	Date      time.Time // "": now
}

// FileGenerated files a generated document in the library of personID,
// whom actor must act for. Like the patient's uploads, it takes the
// person's default confidentiality (masked or not); the filing is traced.
func (s *Store) FileGenerated(ctx context.Context, actor *directory.Account, personID int64, g Generated) (*Document, error) {
	person, err := s.ActFor(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	cat, ok := classify.ParseCategory(g.Category)
	if !ok || cat.PatientMayChoose() {
		return nil, fmt.Errorf("dmp: generated document: category %q is not one of a dedicated flow", g.Category)
	}
	if len(g.Data) == 0 || len(g.Data) > 4*MaxUploadBytes {
		return nil, fmt.Errorf("dmp: generated document: %d bytes", len(g.Data))
	}
	title := strings.TrimSpace(g.Title)
	if title == "" {
		title = cat.Label()
	}
	if g.MimeType == "" {
		g.MimeType = "application/pdf"
	}
	now := s.now()
	if g.Date.IsZero() {
		g.Date = now
	}
	key, _, err := s.blobs.Put(ctx, bytes.NewReader(g.Data))
	if err != nil {
		return nil, fmt.Errorf("dmp: store generated document: %w", err)
	}
	sum := sha256.Sum256(g.Data)
	nonce := make([]byte, 8)
	rand.Read(nonce)
	var id int64
	err = s.db.Write().QueryRowContext(ctx, `INSERT INTO documents (patient_id, title, category, class_code, type_code, filename, mime_type, size,
		blob_key, sha256, doc_date, filed_at, origin, author_name, author_address, author_profession, source_key, masked)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'summary', $13, $14, 'Patient', $15,
		COALESCE((SELECT mask_new FROM record_settings WHERE patient_id = $1), FALSE)) RETURNING id`,
		person.ID, truncate(title, 200), string(cat), g.ClassCode, g.TypeCode, g.Filename, g.MimeType, int64(len(g.Data)),
		key, hex.EncodeToString(sum[:]), db.Micros(g.Date), db.Micros(now), person.DisplayName, person.Address,
		"generated:"+string(cat)+":"+hex.EncodeToString(nonce)).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("dmp: file generated document: %w", err)
	}
	if err := s.trace(ctx, s.db.Write(), person.ID, id, actor, "dépôt"); err != nil {
		return nil, err
	}
	d, _, err := s.load(ctx, s.db.Read(), actor, id)
	return d, err
}
