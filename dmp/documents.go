package dmp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"mssanted/db"
	"mssanted/directory"
)

// Query selects documents of a library.
type Query struct {
	Text     string    // words of the title
	Category string    // a category id
	From, To time.Time // document date bounds (zero: open)
	FolderID int64     // 0: every folder; -1: the root only
	Limit    int       // 0: 200
}

// List returns the documents of patientID the actor may read, pinned
// first then newest first, and traces the consultation.
func (s *Store) List(ctx context.Context, actor *directory.Account, patientID int64, q Query) ([]Document, error) {
	a, err := s.accessTo(ctx, actor, patientID)
	if err != nil {
		return nil, err
	}
	where := []string{"patient_id = $1", "deleted_at IS NULL"}
	args := []any{patientID}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if q.Category != "" {
		where = append(where, "category = "+arg(q.Category))
	}
	if !q.From.IsZero() {
		where = append(where, "doc_date >= "+arg(db.Micros(q.From)))
	}
	if !q.To.IsZero() {
		where = append(where, "doc_date < "+arg(db.Micros(q.To)))
	}
	switch {
	case q.FolderID > 0:
		where = append(where, "folder_id = "+arg(q.FolderID))
	case q.FolderID < 0:
		where = append(where, "folder_id IS NULL")
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 200
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+docColumns+` FROM documents WHERE `+strings.Join(where, " AND ")+
		` ORDER BY pinned DESC, doc_date DESC, id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("dmp: list: %w", err)
	}
	defer rows.Close()
	words := strings.Fields(fold(q.Text))
	var out []Document
	for rows.Next() {
		d, err := scanDoc(rows)
		if err != nil {
			return nil, err
		}
		if !a.mayRead(d) || !matchWords(fold(d.Title), words) {
			continue
		}
		out = append(out, *d)
		if len(out) == q.Limit {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !a.owner {
		if err := s.trace(ctx, s.db.Write(), patientID, 0, actor, "consultation de la liste des documents"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func matchWords(title string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(title, w) {
			return false
		}
	}
	return true
}

// Latest returns the patient's n newest documents (the home page's 3).
func (s *Store) Latest(ctx context.Context, actor *directory.Account, n int) ([]Document, error) {
	return s.LatestFor(ctx, actor, actor.ID, n)
}

// LatestFor is Latest for a person the actor acts for.
func (s *Store) LatestFor(ctx context.Context, actor *directory.Account, personID int64, n int) ([]Document, error) {
	docs, err := s.List(ctx, actor, personID, Query{Limit: 500})
	if err != nil {
		return nil, err
	}
	// List puts pinned first; the home page wants the newest filed.
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].FiledAt.After(docs[j].FiledAt) })
	return docs[:min(n, len(docs))], nil
}

// load reads one document and checks the actor may read it; a document
// the actor may not see is ErrNotFound, as one that does not exist.
func (s *Store) load(ctx context.Context, q db.Querier, actor *directory.Account, id int64) (*Document, *access, error) {
	d, err := scanDoc(q.QueryRowContext(ctx, `SELECT `+docColumns+` FROM documents WHERE id = $1 AND deleted_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("dmp: document %d: %w", id, err)
	}
	a, err := s.accessTo(ctx, actor, d.PatientID)
	if err != nil {
		if errors.Is(err, ErrForbidden) {
			return nil, nil, ErrNotFound
		}
		return nil, nil, err
	}
	if !a.mayRead(d) {
		return nil, nil, ErrNotFound
	}
	return d, a, nil
}

// Get returns one document's details, traced.
func (s *Store) Get(ctx context.Context, actor *directory.Account, id int64) (*Document, error) {
	d, _, err := s.load(ctx, s.db.Read(), actor, id)
	if err != nil {
		return nil, err
	}
	return d, s.trace(ctx, s.db.Write(), d.PatientID, d.ID, actor, "consultation")
}

// Open returns a document and its content, traced as a download.
func (s *Store) Open(ctx context.Context, actor *directory.Account, id int64) (*Document, io.ReadCloser, error) {
	d, _, err := s.load(ctx, s.db.Read(), actor, id)
	if err != nil {
		return nil, nil, err
	}
	if err := s.trace(ctx, s.db.Write(), d.PatientID, d.ID, actor, "téléchargement"); err != nil {
		return nil, nil, err
	}
	rc, err := s.blobs.Open(ctx, d.blobKey)
	if err != nil {
		return nil, nil, fmt.Errorf("dmp: content of %d: %w", id, err)
	}
	return d, rc, nil
}

// Patch is a change the patient makes to a document; nil fields stay.
type Patch struct {
	Title    *string
	Date     *time.Time
	Category *string
	FolderID *int64 // 0: back to the root
	Pinned   *bool
	Masked   *bool
}

// Update applies a patch: only the patient edits their library.
func (s *Store) Update(ctx context.Context, actor *directory.Account, id int64, p Patch) (*Document, error) {
	var out *Document
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		d, a, err := s.load(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if !a.owner {
			return fmt.Errorf("%w: only the patient edits their documents", ErrForbidden)
		}
		var sets []string
		var args []any
		set := func(col string, v any) {
			args = append(args, v)
			sets = append(sets, fmt.Sprintf("%s = $%d", col, len(args)))
		}
		if p.Title != nil {
			t := strings.TrimSpace(*p.Title)
			if t == "" || utf8.RuneCountInString(t) > 200 || strings.ContainsAny(t, "\r\n") {
				return invalid("Le titre doit faire de 1 à 200 caractères sur une ligne", "the title must be 1 to 200 characters on one line")
			}
			set("title", t)
		}
		if p.Date != nil {
			if p.Date.IsZero() || p.Date.After(s.now().Add(24*time.Hour)) {
				return invalid("Date invalide (pas dans le futur)", "invalid date (not in the future)")
			}
			set("doc_date", db.Micros(*p.Date))
		}
		if p.Category != nil {
			if !IsCategory(*p.Category) {
				return invalid("Catégorie inconnue", "unknown category")
			}
			set("category", *p.Category)
		}
		if p.FolderID != nil {
			if *p.FolderID == 0 {
				set("folder_id", nil)
			} else {
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM document_folders WHERE id = $1 AND patient_id = $2`, *p.FolderID, d.PatientID).Scan(&n); err != nil {
					return err
				}
				if n == 0 {
					return invalid("Dossier inconnu", "unknown folder")
				}
				set("folder_id", *p.FolderID)
			}
		}
		if p.Pinned != nil {
			set("pinned", *p.Pinned)
		}
		if p.Masked != nil {
			set("masked", *p.Masked)
		}
		if len(sets) > 0 {
			args = append(args, id)
			if _, err := tx.ExecContext(ctx, `UPDATE documents SET `+strings.Join(sets, ", ")+fmt.Sprintf(` WHERE id = $%d`, len(args)), args...); err != nil {
				return fmt.Errorf("dmp: update %d: %w", id, err)
			}
			if err := s.trace(ctx, tx, d.PatientID, id, actor, "modification"); err != nil {
				return err
			}
		}
		out, _, err = s.load(ctx, tx, actor, id)
		return err
	})
	return out, err
}

// Delete removes a document from the library: the patient may delete any
// of theirs; a professional only what they deposited themself.
func (s *Store) Delete(ctx context.Context, actor *directory.Account, id int64) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		d, a, err := s.load(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if !a.owner && !strings.EqualFold(d.AuthorAddress, actor.Address) {
			return fmt.Errorf("%w: a professional deletes only what they deposited", ErrForbidden)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET deleted_at = $1 WHERE id = $2`, db.Micros(s.now()), id); err != nil {
			return fmt.Errorf("dmp: delete %d: %w", id, err)
		}
		return s.trace(ctx, tx, d.PatientID, id, actor, "suppression")
	})
}

// Object records the patient's objection to a document being kept
// (domain.md: "for a legitimate reason"); it is withdrawn from
// professionals' view at once.
func (s *Store) Object(ctx context.Context, actor *directory.Account, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 2000 {
		return invalid("Indiquez le motif de votre opposition", "give the reason of the objection")
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		d, a, err := s.load(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if !a.owner {
			return fmt.Errorf("%w: only the patient objects", ErrForbidden)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET objected_at = $1, objection_reason = $2 WHERE id = $3`, db.Micros(s.now()), reason, id); err != nil {
			return fmt.Errorf("dmp: objection %d: %w", id, err)
		}
		return s.trace(ctx, tx, d.PatientID, id, actor, "opposition")
	})
}

// Report is a problem the patient reported on a document.
type Report struct {
	DocumentID int64
	Title      string
	Reason     string
	At         time.Time
}

// ReportProblem records "signaler un problème"; the author sees it.
func (s *Store) ReportProblem(ctx context.Context, actor *directory.Account, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 2000 {
		return invalid("Décrivez le problème", "describe the problem")
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		d, a, err := s.load(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if !a.owner {
			return fmt.Errorf("%w: only the patient reports a problem", ErrForbidden)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO document_reports (document_id, patient_id, reason, at) VALUES ($1, $2, $3, $4)`,
			id, d.PatientID, reason, db.Micros(s.now())); err != nil {
			return fmt.Errorf("dmp: report %d: %w", id, err)
		}
		return s.trace(ctx, tx, d.PatientID, id, actor, "signalement d'un problème")
	})
}

// ReportsForAuthor lists the problems patients reported on documents the
// actor deposited.
func (s *Store) ReportsForAuthor(ctx context.Context, actor *directory.Account) ([]Report, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT r.document_id, d.title, r.reason, r.at FROM document_reports r
		JOIN documents d ON d.id = r.document_id WHERE d.author_address = $1 ORDER BY r.at DESC`, actor.Address)
	if err != nil {
		return nil, fmt.Errorf("dmp: reports: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		var r Report
		var at int64
		if err := rows.Scan(&r.DocumentID, &r.Title, &r.Reason, &at); err != nil {
			return nil, err
		}
		r.At = db.Time(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Trace is one line of the access trace.
type Trace struct {
	DocumentID int64
	Document   string // its title, when it still exists
	ActorName  string
	ActorType  string
	Action     string
	At         time.Time
}

// Traces returns the access trace of the patient's own record, newest
// first: who (name and type), when, what, which document.
func (s *Store) Traces(ctx context.Context, actor *directory.Account, limit int) ([]Trace, error) {
	return s.TracesFor(ctx, actor, 0, limit)
}

// TracesFor is the access trace of a person the actor acts for (0: self).
func (s *Store) TracesFor(ctx context.Context, actor *directory.Account, personID int64, limit int) ([]Trace, error) {
	if actor.Role != directory.Patient {
		return nil, fmt.Errorf("%w: the trace is the patient's", ErrForbidden)
	}
	person, err := s.ActFor(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT t.document_id, d.title, t.actor_name, t.actor_type, t.action, t.at
		FROM access_traces t LEFT JOIN documents d ON d.id = t.document_id
		WHERE t.patient_id = $1 ORDER BY t.at DESC, t.id DESC LIMIT $2`, person.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("dmp: traces: %w", err)
	}
	defer rows.Close()
	var out []Trace
	for rows.Next() {
		var t Trace
		var doc sql.NullInt64
		var title sql.NullString
		var at int64
		if err := rows.Scan(&doc, &title, &t.ActorName, &t.ActorType, &t.Action, &at); err != nil {
			return nil, err
		}
		t.DocumentID, t.Document, t.At = doc.Int64, title.String, db.Time(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

// Block forbids (or, with on false, allows again) a professional to read
// the patient's record; they may still deposit documents.
func (s *Store) Block(ctx context.Context, actor *directory.Account, professional string, on bool) error {
	if actor.Role != directory.Patient {
		return fmt.Errorf("%w: only the patient blocks", ErrForbidden)
	}
	addr, err := directory.NormalizeAddress(professional)
	if err != nil {
		return invalid("Adresse de professionnel invalide", "invalid professional address")
	}
	if on {
		_, err = s.db.Write().ExecContext(ctx, `INSERT INTO record_blocks (patient_id, professional_address, at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, actor.ID, addr, db.Micros(s.now()))
	} else {
		_, err = s.db.Write().ExecContext(ctx, `DELETE FROM record_blocks WHERE patient_id = $1 AND professional_address = $2`, actor.ID, addr)
	}
	if err != nil {
		return fmt.Errorf("dmp: block: %w", err)
	}
	return nil
}

// SetMaskNew makes every new document masked from professionals by default.
func (s *Store) SetMaskNew(ctx context.Context, actor *directory.Account, on bool) error {
	if actor.Role != directory.Patient {
		return fmt.Errorf("%w: only the patient chooses", ErrForbidden)
	}
	_, err := s.db.Write().ExecContext(ctx, `INSERT INTO record_settings (patient_id, mask_new) VALUES ($1, $2)
		ON CONFLICT (patient_id) DO UPDATE SET mask_new = excluded.mask_new`, actor.ID, on)
	if err != nil {
		return fmt.Errorf("dmp: settings: %w", err)
	}
	return nil
}
