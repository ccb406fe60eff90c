package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/classify"
)

// The document library's pages ("Documents" of domain.md): the list with
// its checkboxes and actions (move, pin, mask, delete after a
// confirmation), folders, a document's page (details, viewer, edit,
// download, "Signaler un problème", opposition), the upload with its
// progress bar (static/app.js; the form works without it) and the access
// history. The rooms decide: dmp says who may read, edit or delete what.

// documentItem is a document as the pages show it.
type documentItem struct {
	ID                  int64
	Title, Category     string
	CategoryID          string
	Date                time.Time
	Author, Profession  string
	Institution, Format string
	Folder              string
	FolderID            int64
	Size                int64
	Pinned, Masked      bool
	Objected            bool
	ObjectionReason     string
	Filename, MimeType  string
	Origin              string
	URL                 string // the content, as a download
	Inline              string // the content, shown in the page
	Viewer              string // "pdf", "image", "text" or "" (no preview)
	Page                string // the document's page
}

func documentItems(ds []dmp.Document, folders []dmp.Folder) []documentItem {
	names := map[int64]string{}
	for _, f := range folders {
		names[f.ID] = f.Name
	}
	out := make([]documentItem, 0, len(ds))
	for i := range ds {
		out = append(out, documentItemOf(&ds[i], names))
	}
	return out
}

func documentItemOf(d *dmp.Document, folders map[int64]string) documentItem {
	it := documentItem{ID: d.ID, Title: d.Title, Category: dmp.CategoryLabel(d.Category), CategoryID: d.Category, Date: d.Date,
		Author: d.AuthorName, Profession: d.AuthorProfession, Institution: d.Institution, Format: formatLabel(d.MimeType, d.Filename),
		Folder: folders[d.FolderID], FolderID: d.FolderID, Size: d.Size, Pinned: d.Pinned, Masked: d.Masked,
		Objected: d.Objected, ObjectionReason: d.ObjectionReason, Filename: d.Filename, MimeType: d.MimeType, Origin: originLabel(d.Origin),
		URL:  fmt.Sprintf("/api/v1/documents/%d/content", d.ID),
		Page: fmt.Sprintf("/documents/%d", d.ID)}
	it.Inline = it.URL + "?inline=1"
	switch {
	case d.MimeType == "application/pdf":
		it.Viewer = "pdf"
	case d.MimeType == "image/jpeg", d.MimeType == "image/png":
		it.Viewer = "image"
	case d.MimeType == "text/plain":
		it.Viewer = "text"
	}
	return it
}

// formatLabel names a file format as the patient knows it.
func formatLabel(mimeType, filename string) string {
	switch {
	case mimeType == "application/pdf":
		return "PDF"
	case strings.HasPrefix(mimeType, "image/"):
		return "Image " + strings.ToUpper(strings.TrimPrefix(mimeType, "image/"))
	case strings.Contains(mimeType, "xml"):
		return "Document structuré (XML)"
	case strings.Contains(mimeType, "rtf"):
		return "RTF"
	case strings.HasPrefix(mimeType, "text/"):
		return "Texte"
	}
	if i := strings.LastIndexByte(filename, '.'); i >= 0 {
		return strings.ToUpper(filename[i+1:])
	}
	return "Fichier"
}

func originLabel(o string) string {
	switch o {
	case "message":
		return "Pièce jointe d'un message"
	case "xdm":
		return "Dossier IHE XDM joint à un message"
	case "cda":
		return "Document médical structuré (CDA) joint à un message"
	case "upload":
		return "Ajouté par vous"
	case "summary":
		return "Synthèse de votre profil médical"
	}
	return o
}

type categoryOption struct{ ID, Label string }

func categoryOptions() []categoryOption {
	var out []categoryOption
	for _, c := range classify.Categories {
		out = append(out, categoryOption{string(c), c.Label()})
	}
	return out
}

// docMessage is the French sentence of a dmp or directory refusal
// ("invalid: <French> / <English>").
func docMessage(err error) string {
	msg := err.Error()
	for _, prefix := range []string{dmp.ErrInvalid.Error() + ": ", directory.ErrInvalid.Error() + ": "} {
		if i := strings.Index(msg, prefix); i >= 0 {
			msg = msg[i+len(prefix):]
		}
	}
	fr, _, _ := strings.Cut(msg, " / ")
	fr = strings.TrimSpace(fr)
	if fr != "" && !strings.HasSuffix(fr, ".") {
		fr += "."
	}
	return fr
}

// docFail answers a refusal of the library: not found, not allowed, or
// anything else.
func (p *pages) docFail(w http.ResponseWriter, r *http.Request, s *websession, err error) {
	switch {
	case errors.Is(err, dmp.ErrNotFound):
		p.notFound(w, r, s)
	case errors.Is(err, dmp.ErrForbidden):
		pg := p.newPage(s, "Action non autorisée", "")
		pg.Error = "Cette action ne vous est pas permise."
		p.render(w, r, http.StatusForbidden, "error", pg)
	case errors.Is(err, dmp.ErrInvalid):
		pg := p.newPage(s, "Action impossible", "")
		pg.Error = docMessage(err)
		p.render(w, r, http.StatusBadRequest, "error", pg)
	default:
		p.fail(w, r, s, err)
	}
}

// notices are the confirmations a redirect names in "ok".
var docNotices = map[string]string{
	"ajoute":       "Le document a été ajouté à votre espace.",
	"deplace":      "Les documents ont été déplacés.",
	"epingle":      "Les documents sont épinglés en tête de liste.",
	"desepingle":   "Les documents ne sont plus épinglés.",
	"masque":       "Les documents sont masqués aux professionnels de santé.",
	"demasque":     "Les documents sont à nouveau visibles des professionnels de santé autorisés.",
	"supprime":     "Les documents ont été supprimés.",
	"modifie":      "Les informations du document ont été modifiées.",
	"signale":      "Votre signalement a été transmis à l'auteur du document.",
	"opposition":   "Votre opposition est enregistrée : le document n'est plus visible des professionnels de santé.",
	"dossier":      "Le dossier a été créé.",
	"renomme":      "Le dossier a été renommé.",
	"dossier-supp": "Le dossier a été supprimé ; ses documents sont revenus hors dossier.",
	"synthese":     "Votre synthèse est enregistrée dans vos documents : les professionnels de santé autorisés peuvent la consulter.",
}

var docErrors = map[string]string{
	"aucun":  "Cochez au moins un document.",
	"action": "Choisissez une action.",
}

type documentsData struct {
	page
	Soon       bool // no document library in this instance
	Own        bool // the patient's own library (not a represented person's)
	Documents  []documentItem
	Folders    []dmp.Folder
	Folder     int64 // the folder shown; 0: all, -1: outside any folder
	Total      int
	Categories []categoryOption
	MaxUpload  string
	Added      int64 // the document just added
}

// documents lists the library of the person acted for: pinned first then
// newest, by folder, with the actions of the checkboxes and the upload.
func (p *pages) documents(w http.ResponseWriter, r *http.Request, s *websession) {
	p.renderDocuments(w, r, s, http.StatusOK, "")
}

func (p *pages) renderDocuments(w http.ResponseWriter, r *http.Request, s *websession, status int, errMsg string) {
	if s.Account.Role != directory.Patient {
		p.notFound(w, r, s)
		return
	}
	d := documentsData{page: p.newPage(s, "Documents", "documents"), Categories: categoryOptions(), MaxUpload: "5 Mo"}
	d.Error = errMsg
	if p.o.Docs == nil {
		d.Soon = true
		p.render(w, r, status, "documents", d)
		return
	}
	ctx := r.Context()
	person, err := p.withPersons(r, s, &d.page)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	d.Own = person.ID == s.Account.ID
	v := r.URL.Query()
	d.Notice = docNotices[v.Get("ok")]
	if e := docErrors[v.Get("erreur")]; e != "" && d.Error == "" {
		d.Error = e
	}
	d.Added, _ = strconv.ParseInt(v.Get("doc"), 10, 64)
	folders, err := p.o.Docs.FoldersFor(ctx, s.Account, person.ID)
	if err != nil {
		p.docFail(w, r, s, err)
		return
	}
	q := dmp.Query{}
	switch f := v.Get("dossier"); f {
	case "":
	case "racine":
		q.FolderID = -1
	default:
		if n, err := strconv.ParseInt(f, 10, 64); err == nil && n > 0 {
			q.FolderID = n
		}
	}
	ds, err := p.o.Docs.List(ctx, s.Account, person.ID, q)
	if err != nil {
		p.docFail(w, r, s, err)
		return
	}
	d.Folders, d.Folder, d.Total = folders, q.FolderID, len(ds)
	d.Documents = documentItems(ds, folders)
	p.render(w, r, status, "documents", d)
}

// selectedDocs reads the checked documents of a form.
func selectedDocs(r *http.Request) []int64 {
	var ids []int64
	for _, v := range r.PostForm["doc"] {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			ids = append(ids, n)
		}
	}
	return ids
}

// back is where an action returns: the page it came from, if it is one of
// the library's.
func back(r *http.Request) string {
	b := safeNext(r.PostFormValue("retour"))
	if b != "/documents" && !strings.HasPrefix(b, "/documents/") && !strings.HasPrefix(b, "/documents?") {
		return "/documents"
	}
	return b
}

// withParam sets one notice of path's query ("ok" or "erreur"), dropping
// those of the page it came from.
func withParam(path, k, v string) string {
	u, err := url.Parse(path)
	if err != nil {
		return "/documents?" + k + "=" + url.QueryEscape(v)
	}
	q := u.Query()
	q.Del("ok")
	q.Del("erreur")
	q.Del("doc")
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

// documentsAction applies the action of the list's checkboxes (or of a
// document's page) to the chosen documents.
func (p *pages) documentsAction(w http.ResponseWriter, r *http.Request, s *websession) {
	if p.o.Docs == nil || s.Account.Role != directory.Patient {
		p.notFound(w, r, s)
		return
	}
	ids := selectedDocs(r)
	ret := back(r)
	if len(ids) == 0 {
		http.Redirect(w, r, withParam(ret, "erreur", "aucun"), http.StatusSeeOther)
		return
	}
	yes, no := true, false
	var patch dmp.Patch
	var ok string
	switch r.PostFormValue("action") {
	case "deplacer":
		f := r.PostFormValue("dossier")
		n, err := strconv.ParseInt(f, 10, 64)
		if f == "racine" {
			n, err = 0, nil
		}
		if err != nil || n < 0 {
			p.renderDocuments(w, r, s, http.StatusBadRequest, "Choisissez le dossier où déplacer les documents.")
			return
		}
		patch.FolderID, ok = &n, "deplace"
	case "epingler":
		patch.Pinned, ok = &yes, "epingle"
	case "desepingler":
		patch.Pinned, ok = &no, "desepingle"
	case "masquer":
		patch.Masked, ok = &yes, "masque"
	case "demasquer":
		patch.Masked, ok = &no, "demasque"
	case "supprimer":
		p.confirmDelete(w, r, s, ids, ret)
		return
	case "partager":
		v := url.Values{}
		for _, id := range ids {
			v.Add("doc", strconv.FormatInt(id, 10))
		}
		http.Redirect(w, r, "/documents/partager?"+v.Encode(), http.StatusSeeOther)
		return
	default:
		http.Redirect(w, r, withParam(ret, "erreur", "action"), http.StatusSeeOther)
		return
	}
	for _, id := range ids {
		if _, err := p.o.Docs.Update(r.Context(), s.Account, id, patch); err != nil {
			p.docFail(w, r, s, err)
			return
		}
	}
	http.Redirect(w, r, withParam(ret, "ok", ok), http.StatusSeeOther)
}

type confirmData struct {
	page
	Documents []documentItem
	Return    string
}

// confirmDelete asks before deleting: the titles, "Supprimer
// définitivement" or "Annuler".
func (p *pages) confirmDelete(w http.ResponseWriter, r *http.Request, s *websession, ids []int64, ret string) {
	d := confirmData{page: p.newPage(s, "Supprimer des documents", "documents"), Return: ret}
	for _, id := range ids {
		doc, err := p.o.Docs.Get(r.Context(), s.Account, id)
		if err != nil {
			p.docFail(w, r, s, err)
			return
		}
		d.Documents = append(d.Documents, documentItemOf(doc, nil))
	}
	if strings.HasPrefix(ret, "/documents/") {
		d.Return = "/documents" // the document will be gone
	}
	p.render(w, r, http.StatusOK, "documents_delete", d)
}

// documentsDelete deletes the documents once confirmed.
func (p *pages) documentsDelete(w http.ResponseWriter, r *http.Request, s *websession) {
	if p.o.Docs == nil || s.Account.Role != directory.Patient {
		p.notFound(w, r, s)
		return
	}
	ids := selectedDocs(r)
	if len(ids) == 0 {
		http.Redirect(w, r, "/documents?erreur=aucun", http.StatusSeeOther)
		return
	}
	if r.PostFormValue("confirme") != "oui" {
		p.confirmDelete(w, r, s, ids, back(r))
		return
	}
	for _, id := range ids {
		if err := p.o.Docs.Delete(r.Context(), s.Account, id); err != nil {
			p.docFail(w, r, s, err)
			return
		}
	}
	ret := back(r)
	if strings.HasPrefix(ret, "/documents/") {
		ret = "/documents"
	}
	http.Redirect(w, r, withParam(ret, "ok", "supprime"), http.StatusSeeOther)
}

// documentsUpload adds the patient's own document: the multipart form of
// the list, posted by the browser or by the progress bar's script.
func (p *pages) documentsUpload(w http.ResponseWriter, r *http.Request, s *websession) {
	if p.o.Docs == nil || s.Account.Role != directory.Patient {
		p.notFound(w, r, s)
		return
	}
	limit := "Le fichier dépasse 5 Mo."
	if s.tooLarge {
		p.renderDocuments(w, r, s, http.StatusRequestEntityTooLarge, limit)
		return
	}
	if r.MultipartForm == nil || len(r.MultipartForm.File["fichier"]) == 0 {
		p.renderDocuments(w, r, s, http.StatusBadRequest, "Choisissez le fichier à ajouter.")
		return
	}
	fh := r.MultipartForm.File["fichier"][0]
	if fh.Size > dmp.MaxUploadBytes {
		p.renderDocuments(w, r, s, http.StatusRequestEntityTooLarge, limit)
		return
	}
	f, err := fh.Open()
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, dmp.MaxUploadBytes+1))
	f.Close()
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	u := dmp.Upload{Name: fh.Filename, Data: data, Title: strings.TrimSpace(r.PostFormValue("titre")), Category: r.PostFormValue("categorie")}
	var pg page
	person, err := p.withPersons(r, s, &pg)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	if person.ID != s.Account.ID {
		u.PersonID = person.ID
	}
	if n, err := strconv.ParseInt(r.PostFormValue("dossier"), 10, 64); err == nil && n > 0 {
		u.FolderID = n
	}
	doc, err := p.o.Docs.AddDocument(r.Context(), s.Account, u)
	if errors.Is(err, dmp.ErrInvalid) {
		p.renderDocuments(w, r, s, http.StatusBadRequest, docMessage(err))
		return
	}
	if err != nil {
		p.docFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/documents?ok=ajoute&doc=%d", doc.ID), http.StatusSeeOther)
}

type documentData struct {
	page
	Doc        documentItem
	Owner      bool // the patient (or their representative): the actions
	Folders    []dmp.Folder
	Categories []categoryOption
	Message    string // the conversation the document came from
	DateValue  string // AAAA-MM-JJ for the edit form
	Back       string
}

// document is a document's page: details, viewer, and the patient's
// actions. A professional sees the details and the viewer of what dmp
// lets them read.
func (p *pages) document(w http.ResponseWriter, r *http.Request, s *websession) {
	p.renderDocument(w, r, s, http.StatusOK, "")
}

func (p *pages) renderDocument(w http.ResponseWriter, r *http.Request, s *websession, status int, errMsg string) {
	if p.o.Docs == nil {
		p.notFound(w, r, s)
		return
	}
	id, err := docID(r)
	if err != nil {
		p.notFound(w, r, s)
		return
	}
	ctx := r.Context()
	doc, err := p.o.Docs.Get(ctx, s.Account, id)
	if err != nil {
		p.docFail(w, r, s, err)
		return
	}
	nav := "documents"
	if s.Account.Role != directory.Patient {
		nav = "patients"
	}
	d := documentData{page: p.newPage(s, doc.Title, nav), Owner: s.Account.Role == directory.Patient, Categories: categoryOptions(), Back: "/documents"}
	d.Error = errMsg
	if errMsg == "" {
		d.Notice = docNotices[r.URL.Query().Get("ok")]
		d.Error = docErrors[r.URL.Query().Get("erreur")]
	}
	names := map[int64]string{}
	if d.Owner && doc.PatientID == s.Account.ID {
		if d.Folders, err = p.o.Docs.Folders(ctx, s.Account); err != nil {
			p.fail(w, r, s, err)
			return
		}
		for _, f := range d.Folders {
			names[f.ID] = f.Name
		}
	}
	if !d.Owner {
		if pat, err := p.o.Dir.ByID(ctx, doc.PatientID); err == nil && pat.Patient != nil {
			d.Back = "/patients?ins=" + pat.Patient.INS
		}
	}
	d.Doc = documentItemOf(doc, names)
	d.DateValue = doc.Date.In(paris).Format(time.DateOnly)
	if doc.AuthorAddress != "" && doc.SourceMessageRow != 0 && p.o.Mail != nil {
		if c, err := p.o.Mail.ConversationBetween(ctx, doc.AuthorAddress, doc.PatientID); err == nil && c != nil {
			d.Message = fmt.Sprintf("/messagerie/%d", c.ID)
		}
	}
	p.render(w, r, status, "document", d)
}

// documentEdit changes the title, the date and the category.
func (p *pages) documentEdit(w http.ResponseWriter, r *http.Request, s *websession) {
	id, err := docID(r)
	if err != nil || p.o.Docs == nil {
		p.notFound(w, r, s)
		return
	}
	title := strings.TrimSpace(r.PostFormValue("titre"))
	cat := r.PostFormValue("categorie")
	patch := dmp.Patch{Title: &title, Category: &cat}
	if v := strings.TrimSpace(r.PostFormValue("date")); v != "" {
		t, err := parseFrDate(v)
		if err != nil {
			p.renderDocument(w, r, s, http.StatusBadRequest, "Date invalide : saisissez-la au format JJ/MM/AAAA.")
			return
		}
		patch.Date = &t
	}
	if _, err := p.o.Docs.Update(r.Context(), s.Account, id, patch); err != nil {
		if errors.Is(err, dmp.ErrInvalid) {
			p.renderDocument(w, r, s, http.StatusBadRequest, docMessage(err))
			return
		}
		p.docFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/documents/%d?ok=modifie", id), http.StatusSeeOther)
}

// parseFrDate reads a date typed as JJ/MM/AAAA, or AAAA-MM-JJ as a date
// field sends it.
func parseFrDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Parse("02/01/2006", v)
}

// documentReason records "Signaler un problème" or an opposition, each
// with its reason.
func (p *pages) documentReason(report bool) pageHandler {
	return func(w http.ResponseWriter, r *http.Request, s *websession) {
		id, err := docID(r)
		if err != nil || p.o.Docs == nil {
			p.notFound(w, r, s)
			return
		}
		reason := strings.TrimSpace(r.PostFormValue("motif"))
		ok := "signale"
		if report {
			err = p.o.Docs.ReportProblem(r.Context(), s.Account, id, reason)
		} else {
			ok = "opposition"
			err = p.o.Docs.Object(r.Context(), s.Account, id, reason)
		}
		if errors.Is(err, dmp.ErrInvalid) {
			p.renderDocument(w, r, s, http.StatusBadRequest, docMessage(err))
			return
		}
		if err != nil {
			p.docFail(w, r, s, err)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/documents/%d?ok=%s", id, ok), http.StatusSeeOther)
	}
}

// --- Folders

type foldersData struct {
	page
	Folders []dmp.Folder
}

func (p *pages) folders(w http.ResponseWriter, r *http.Request, s *websession) {
	p.renderFolders(w, r, s, http.StatusOK, "")
}

func (p *pages) renderFolders(w http.ResponseWriter, r *http.Request, s *websession, status int, errMsg string) {
	if p.o.Docs == nil || s.Account.Role != directory.Patient {
		p.notFound(w, r, s)
		return
	}
	d := foldersData{page: p.newPage(s, "Mes dossiers", "documents")}
	person, err := p.withPersons(r, s, &d.page)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	if person.ID != s.Account.ID {
		d.Title = "Dossiers de " + person.DisplayName
	}
	if d.Folders, err = p.o.Docs.FoldersFor(r.Context(), s.Account, person.ID); err != nil {
		p.docFail(w, r, s, err)
		return
	}
	d.Error = errMsg
	if errMsg == "" {
		d.Notice = docNotices[r.URL.Query().Get("ok")]
	}
	p.render(w, r, status, "folders", d)
}

func (p *pages) folderCreate(w http.ResponseWriter, r *http.Request, s *websession) {
	if p.o.Docs == nil || s.Account.Role != directory.Patient {
		p.notFound(w, r, s)
		return
	}
	person, err := p.actedFor(r, s)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	_, err = p.o.Docs.CreateFolderFor(r.Context(), s.Account, person.ID, r.PostFormValue("nom"))
	if errors.Is(err, dmp.ErrInvalid) {
		p.renderFolders(w, r, s, http.StatusBadRequest, docMessage(err))
		return
	}
	if err != nil {
		p.docFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/documents/dossiers?ok=dossier", http.StatusSeeOther)
}

func (p *pages) folderRename(w http.ResponseWriter, r *http.Request, s *websession) {
	id, err := docID(r)
	if err != nil || p.o.Docs == nil {
		p.notFound(w, r, s)
		return
	}
	person, err := p.actedFor(r, s)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	err = p.o.Docs.RenameFolderFor(r.Context(), s.Account, person.ID, id, r.PostFormValue("nom"))
	if errors.Is(err, dmp.ErrInvalid) {
		p.renderFolders(w, r, s, http.StatusBadRequest, docMessage(err))
		return
	}
	if err != nil {
		p.docFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/documents/dossiers?ok=renomme", http.StatusSeeOther)
}

type folderDeleteData struct {
	page
	Folder dmp.Folder
}

// folderDelete asks first, then deletes; the documents go back to the
// root.
func (p *pages) folderDelete(w http.ResponseWriter, r *http.Request, s *websession) {
	id, err := docID(r)
	if err != nil || p.o.Docs == nil || s.Account.Role != directory.Patient {
		p.notFound(w, r, s)
		return
	}
	person, err := p.actedFor(r, s)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	if r.PostFormValue("confirme") != "oui" {
		fs, err := p.o.Docs.FoldersFor(r.Context(), s.Account, person.ID)
		if err != nil {
			p.docFail(w, r, s, err)
			return
		}
		for _, f := range fs {
			if f.ID == id {
				p.render(w, r, http.StatusOK, "folder_delete", folderDeleteData{page: p.newPage(s, "Supprimer un dossier", "documents"), Folder: f})
				return
			}
		}
		p.notFound(w, r, s)
		return
	}
	if err := p.o.Docs.DeleteFolderFor(r.Context(), s.Account, person.ID, id); err != nil {
		p.docFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/documents/dossiers?ok=dossier-supp", http.StatusSeeOther)
}

// --- Historique des accès

type tracesData struct {
	page
	Traces []dmp.Trace
}

func (p *pages) traces(w http.ResponseWriter, r *http.Request, s *websession) {
	if p.o.Docs == nil || s.Account.Role != directory.Patient {
		p.notFound(w, r, s)
		return
	}
	d := tracesData{page: p.newPage(s, "Historique des accès", "documents")}
	person, err := p.withPersons(r, s, &d.page)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	if d.Traces, err = p.o.Docs.TracesFor(r.Context(), s.Account, person.ID, 500); err != nil {
		p.docFail(w, r, s, err)
		return
	}
	p.render(w, r, http.StatusOK, "traces", d)
}

// --- Professionals: a patient's record by INS

type patientDocsData struct {
	page
	INS       string
	Patient   string
	Searched  bool
	Documents []documentItem
}

// patientRecord is the professional's page: the INS of a patient, then the
// documents dmp lets them see (matrix, masks, blocks), each to open.
func (p *pages) patientRecord(w http.ResponseWriter, r *http.Request, s *websession) {
	if p.o.Docs == nil || (s.Account.Role != directory.Professional && s.Account.Role != directory.Pharmacy) {
		p.notFound(w, r, s)
		return
	}
	d := patientDocsData{page: p.newPage(s, "Dossier d'un patient", "patients")}
	d.INS = strings.Join(strings.Fields(r.URL.Query().Get("ins")), "")
	if d.INS == "" {
		p.render(w, r, http.StatusOK, "patients", d)
		return
	}
	d.Searched = true
	status, err := p.patientDocs(r.Context(), s, &d)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, status, "patients", d)
}

func (p *pages) patientDocs(ctx context.Context, s *websession, d *patientDocsData) (int, error) {
	if directory.ValidINS(d.INS) != nil {
		d.Error = "Ce numéro INS n'est pas valide : vérifiez les 15 chiffres (13 chiffres et la clé)."
		return http.StatusBadRequest, nil
	}
	pat, err := p.o.Docs.PatientByINS(ctx, d.INS)
	if errors.Is(err, dmp.ErrNotFound) {
		d.Error = "Aucun patient de ce service n'a ce numéro INS."
		return http.StatusNotFound, nil
	}
	if err != nil {
		return 0, err
	}
	ds, err := p.o.Docs.List(ctx, s.Account, pat.ID, dmp.Query{})
	if errors.Is(err, dmp.ErrForbidden) {
		d.Error = "Vous n'avez pas accès au dossier de ce patient : il faut l'avoir pris en charge (un échange ou un document déposé), et qu'il ne vous ait pas bloqué."
		return http.StatusForbidden, nil
	}
	if err != nil {
		return 0, err
	}
	d.Patient = pat.DisplayName
	d.Documents = documentItems(ds, nil)
	return http.StatusOK, nil
}

// actedFor is the person a form acts for (the navigation's choice), without
// a page to fill.
func (p *pages) actedFor(r *http.Request, s *websession) (*directory.Account, error) {
	var pg page
	return p.withPersons(r, s, &pg)
}
