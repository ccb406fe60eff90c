package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/mailbox"
)

type documentJSON struct {
	ID               int64     `json:"id"`
	Title            string    `json:"title"`
	Category         string    `json:"category"`
	CategoryLabel    string    `json:"category_label"`
	ClassCode        string    `json:"class_code,omitempty"`
	TypeCode         string    `json:"type_code,omitempty"`
	Date             time.Time `json:"date"`
	FiledAt          time.Time `json:"filed_at"`
	Origin           string    `json:"origin"`
	Filename         string    `json:"filename,omitempty"`
	MimeType         string    `json:"mime_type"`
	Size             int64     `json:"size"`
	Author           string    `json:"author,omitempty"`
	AuthorProfession string    `json:"author_profession,omitempty"`
	Institution      string    `json:"institution,omitempty"`
	FolderID         int64     `json:"folder_id,omitempty"`
	Pinned           bool      `json:"pinned"`
	Masked           bool      `json:"masked"`
	Objected         bool      `json:"objected"`
	TwinID           int64     `json:"twin_id,omitempty"`
	MessageID        string    `json:"message_id,omitempty"`
	ContentURL       string    `json:"content_url"`
}

func documentView(d *dmp.Document) documentJSON {
	return documentJSON{ID: d.ID, Title: d.Title, Category: d.Category, CategoryLabel: dmp.CategoryLabel(d.Category), ClassCode: d.ClassCode, TypeCode: d.TypeCode,
		Date: d.Date, FiledAt: d.FiledAt, Origin: d.Origin, Filename: d.Filename, MimeType: d.MimeType, Size: d.Size,
		Author: d.AuthorName, AuthorProfession: d.AuthorProfession, Institution: d.Institution, FolderID: d.FolderID,
		Pinned: d.Pinned, Masked: d.Masked, Objected: d.Objected, TwinID: d.TwinID, MessageID: d.SourceMessageID,
		ContentURL: fmt.Sprintf("/api/v1/documents/%d/content", d.ID)}
}

func documentsView(ds []dmp.Document) []documentJSON {
	out := []documentJSON{}
	for i := range ds {
		out = append(out, documentView(&ds[i]))
	}
	return out
}

func documentQuery(r *http.Request) (dmp.Query, error) {
	v := r.URL.Query()
	q := dmp.Query{Text: v.Get("q"), Category: v.Get("category")}
	for name, t := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if s := v.Get(name); s != "" {
			d, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return q, bad("Date invalide (AAAA-MM-JJ)", name+" must be YYYY-MM-DD")
			}
			*t = d
		}
	}
	if s := v.Get("folder"); s != "" {
		if s == "root" {
			q.FolderID = -1
		} else if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			q.FolderID = n
		} else {
			return q, bad("Dossier invalide", "folder must be an id or root")
		}
	}
	return q, nil
}

func (a *api) listDocuments(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	if n := r.URL.Query().Get("latest"); n != "" {
		k, err := strconv.Atoi(n)
		if err != nil || k < 1 || k > 50 {
			return bad("latest doit être entre 1 et 50", "latest must be 1 to 50")
		}
		ds, err := a.o.Docs.Latest(r.Context(), s.Account, k)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"documents": documentsView(ds)})
	}
	q, err := documentQuery(r)
	if err != nil {
		return err
	}
	ds, err := a.o.Docs.List(r.Context(), s.Account, s.Account.ID, q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"documents": documentsView(ds)})
}

type uploadIn struct {
	Name     string `json:"name"`
	Data     []byte `json:"data"`
	Title    string `json:"title,omitempty"`
	Category string `json:"category,omitempty"`
	FolderID int64  `json:"folder_id,omitempty"`
	PersonID int64  `json:"person_id,omitempty"` // a person the caller represents; absent: self
}

func (a *api) addDocument(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	var in uploadIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	d, err := a.o.Docs.AddDocument(r.Context(), s.Account, dmp.Upload{Name: in.Name, Data: in.Data, Title: in.Title, Category: in.Category, FolderID: in.FolderID, PersonID: in.PersonID})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, documentView(d))
}

func (a *api) getDocument(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	id, err := docID(r)
	if err != nil {
		return err
	}
	d, err := a.o.Docs.Get(r.Context(), s.Account, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, documentView(d))
}

func docID(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		return 0, dmp.ErrNotFound
	}
	return n, nil
}

type patchIn struct {
	Title    *string `json:"title"`
	Date     *string `json:"date"`
	Category *string `json:"category"`
	FolderID *int64  `json:"folder_id"`
	Pinned   *bool   `json:"pinned"`
	Masked   *bool   `json:"masked"`
}

func (a *api) patchDocument(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	id, err := docID(r)
	if err != nil {
		return err
	}
	var in patchIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	p := dmp.Patch{Title: in.Title, Category: in.Category, FolderID: in.FolderID, Pinned: in.Pinned, Masked: in.Masked}
	if in.Date != nil {
		t, err := time.Parse(time.DateOnly, *in.Date)
		if err != nil {
			return bad("Date invalide (AAAA-MM-JJ)", "date must be YYYY-MM-DD")
		}
		p.Date = &t
	}
	d, err := a.o.Docs.Update(r.Context(), s.Account, id, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, documentView(d))
}

func (a *api) deleteDocument(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	id, err := docID(r)
	if err != nil {
		return err
	}
	if err := a.o.Docs.Delete(r.Context(), s.Account, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) documentContent(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	id, err := docID(r)
	if err != nil {
		return err
	}
	d, rc, err := a.o.Docs.Open(r.Context(), s.Account, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", d.MimeType)
	disp := "attachment"
	if r.URL.Query().Get("inline") == "1" {
		disp = "inline" // the viewer shows PDFs and images in the page
	}
	name := d.Filename
	if name == "" {
		name = d.Title
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.FormatInt(d.Size, 10))
	_, err = io.Copy(w, rc)
	return err
}

type reasonIn struct {
	Reason string `json:"reason"`
}

// documentReason serves the patient's acts on a document that take a
// reason: the objection, "signaler un problème".
func (a *api) documentReason(act func(*dmp.Store, context.Context, *directory.Account, int64, string) error) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
		id, err := docID(r)
		if err != nil {
			return err
		}
		var in reasonIn
		if err := readJSON(w, r, &in); err != nil {
			return err
		}
		if err := act(a.o.Docs, r.Context(), s.Account, id, in.Reason); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (a *api) documentReports(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	rs, err := a.o.Docs.ReportsForAuthor(r.Context(), s.Account)
	if err != nil {
		return err
	}
	type reportJSON struct {
		DocumentID int64     `json:"document_id"`
		Title      string    `json:"title"`
		Reason     string    `json:"reason"`
		At         time.Time `json:"at"`
	}
	out := []reportJSON{}
	for _, x := range rs {
		out = append(out, reportJSON{x.DocumentID, x.Title, x.Reason, x.At})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"reports": out})
}

type shareIn struct {
	Documents      []int64 `json:"documents"`
	ConversationID int64   `json:"conversation_id,omitempty"`
	To             string  `json:"to,omitempty"` // a pharmacy's mailbox from the directory
	Subject        string  `json:"subject,omitempty"`
	Text           string  `json:"text"`
}

// shareDocuments sends documents in a new message: to the professional of
// a conversation or to a pharmacy; the messaging rules decide, as for any
// message.
func (a *api) shareDocuments(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	var in shareIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	if len(in.Documents) == 0 || len(in.Documents) > mailbox.MaxDraftAttachments {
		return bad(fmt.Sprintf("Choisissez de 1 à %d documents", mailbox.MaxDraftAttachments), "choose 1 to 10 documents")
	}
	ctx := r.Context()
	d := mailbox.Draft{To: strings.TrimSpace(in.To), Subject: strings.TrimSpace(in.Subject), Text: in.Text}
	for _, id := range in.Documents {
		doc, rc, err := a.o.Docs.Open(ctx, s.Account, id)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		name := doc.Filename
		if name == "" {
			name = doc.Title
		}
		d.Attachments = append(d.Attachments, mailbox.Attachment{Name: name, ContentType: doc.MimeType, Data: data})
	}
	var convID int64
	if in.ConversationID != 0 {
		if d.To != "" {
			return bad("Choisissez une conversation ou un destinataire, pas les deux", "conversation_id or to, not both")
		}
		c, err := a.replyDraft(ctx, s.Account, in.ConversationID, &d)
		if err != nil {
			return err
		}
		convID = c.ID
	}
	if d.Subject == "" {
		d.Subject = "Documents partagés"
	}
	res, err := a.send(ctx, s.Account, d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, sentJSON{ConversationID: convID, MessageID: res.MessageID})
}

type folderJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Documents int    `json:"documents"`
}

// personParam is the ?person= a library call acts for: 0 (self) when absent.
func personParam(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("person")
	if v == "" || v == "me" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, bad("Personne invalide", "person must be me or an id")
	}
	return n, nil
}

func (a *api) listFolders(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	person, err := personParam(r)
	if err != nil {
		return err
	}
	fs, err := a.o.Docs.FoldersFor(r.Context(), s.Account, person)
	if err != nil {
		return err
	}
	out := []folderJSON{}
	for _, f := range fs {
		out = append(out, folderJSON{f.ID, f.Name, f.Documents})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"folders": out})
}

type folderIn struct {
	Name string `json:"name"`
}

func (a *api) createFolder(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	person, err := personParam(r)
	if err != nil {
		return err
	}
	var in folderIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	f, err := a.o.Docs.CreateFolderFor(r.Context(), s.Account, person, in.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, folderJSON{ID: f.ID, Name: f.Name})
}

func (a *api) renameFolder(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	id, err := docID(r)
	if err != nil {
		return err
	}
	var in folderIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	person, err := personParam(r)
	if err != nil {
		return err
	}
	if err := a.o.Docs.RenameFolderFor(r.Context(), s.Account, person, id, in.Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) deleteFolder(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	id, err := docID(r)
	if err != nil {
		return err
	}
	person, err := personParam(r)
	if err != nil {
		return err
	}
	if err := a.o.Docs.DeleteFolderFor(r.Context(), s.Account, person, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) accessTraces(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	person, err := personParam(r)
	if err != nil {
		return err
	}
	ts, err := a.o.Docs.TracesFor(r.Context(), s.Account, person, 500)
	if err != nil {
		return err
	}
	type traceJSON struct {
		At         time.Time `json:"at"`
		Actor      string    `json:"actor"`
		ActorType  string    `json:"actor_type"`
		Action     string    `json:"action"`
		DocumentID int64     `json:"document_id,omitempty"`
		Document   string    `json:"document,omitempty"`
	}
	out := []traceJSON{}
	for _, t := range ts {
		out = append(out, traceJSON{t.At, t.ActorName, t.ActorType, t.Action, t.DocumentID, t.Document})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"traces": out})
}

type recordSettingsIn struct {
	MaskNew *bool `json:"mask_new"`
	Block   *struct {
		Professional string `json:"professional"`
		Blocked      bool   `json:"blocked"`
	} `json:"block"`
}

func (a *api) recordSettings(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	var in recordSettingsIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	if in.MaskNew != nil {
		if err := a.o.Docs.SetMaskNew(r.Context(), s.Account, *in.MaskNew); err != nil {
			return err
		}
	}
	if in.Block != nil {
		if err := a.o.Docs.Block(r.Context(), s.Account, in.Block.Professional, in.Block.Blocked); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// patientDocuments is the professional's view of a patient's record, by
// INS: the access matrix, blocks and masks are applied in dmp.
func (a *api) patientDocuments(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	p, err := a.o.Docs.PatientByINS(r.Context(), r.PathValue("ins"))
	if err != nil {
		return err
	}
	q, err := documentQuery(r)
	if err != nil {
		return err
	}
	ds, err := a.o.Docs.List(r.Context(), s.Account, p.ID, q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"documents": documentsView(ds)})
}

func isDocErr(err error) (int, bool) {
	switch {
	case errors.Is(err, dmp.ErrNotFound):
		return http.StatusNotFound, true
	case errors.Is(err, dmp.ErrForbidden):
		return http.StatusForbidden, true
	case errors.Is(err, dmp.ErrInvalid):
		return http.StatusBadRequest, true
	}
	return 0, false
}
