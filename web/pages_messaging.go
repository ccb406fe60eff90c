package web

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"mssanted/directory"
	"mssanted/mailbox"
)

// --- Messagerie: the list

type conversationsData struct {
	page
	Conversations []conversationJSON
}

func (p *pages) conversations(w http.ResponseWriter, r *http.Request, s *websession) {
	ctx := r.Context()
	cs, err := p.o.Mail.ConversationsOf(ctx, p.o.Dir, s.Account)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	d := conversationsData{page: p.newPage(s, "Messagerie", "messagerie")}
	for i := range cs {
		v, err := p.conversationView(ctx, s.Account, &cs[i].Conversation, cs[i].Messages, cs[i].Unread)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		d.Conversations = append(d.Conversations, v)
	}
	if r.URL.Query().Get("envoye") == "1" {
		d.Notice = "Votre message a été envoyé."
	}
	p.render(w, r, http.StatusOK, "conversations", d)
}

// --- Messagerie: one conversation

type attachmentView struct {
	Name, ContentType, URL string
	Size                   int64
}

type messageView struct {
	ID          int64
	From        partyJSON
	Date        time.Time
	Subject     string
	Text        string
	Closing     bool
	Signature   string // "Signé et vérifié", "Signature non vérifiée", "Non signé"
	Verified    bool
	Attachments []attachmentView
}

type conversationData struct {
	page
	Conv     conversationJSON
	Messages []messageView
	// Pro: the actor is the professional (or pharmacy) side, who may close.
	Pro bool
	// Refused is the sentence of a refused reply; DraftKept says that the
	// reply was kept in Drafts.
	Refused   string
	DraftKept bool
	Text      string // the reply being written, shown again after an error
}

func (p *pages) conversation(w http.ResponseWriter, r *http.Request, s *websession) {
	id, err := pathID(r, "id")
	if err != nil {
		p.notFound(w, r, s)
		return
	}
	d, err := p.conversationData(r.Context(), s, id)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	switch r.URL.Query().Get("etat") {
	case "envoye":
		d.Notice = "Votre message a été envoyé."
	case "cloture":
		d.Notice = "La conversation est clôturée : votre correspondant ne peut plus vous répondre."
	}
	// Reading the conversation reads its messages and their notifications.
	if err := p.o.Mail.MarkConversationRead(r.Context(), p.o.Dir, s.Account, id); err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.readNotificationsOf(r.Context(), s, id)
	p.render(w, r, http.StatusOK, "conversation", d)
}

// readNotificationsOf marks read the notifications about conversation id;
// a failure only leaves them unread.
func (p *pages) readNotificationsOf(ctx context.Context, s *websession, id int64) {
	ns, _, err := p.o.Mail.Notifications(ctx, s.Account.ID, 200)
	if err != nil {
		return
	}
	var ids []int64
	for _, n := range ns {
		if !n.Read && n.ConversationID == id {
			ids = append(ids, n.ID)
		}
	}
	if len(ids) > 0 {
		if err := p.o.Mail.MarkNotificationsRead(ctx, s.Account.ID, ids); err != nil {
			p.o.Logger.WarnContext(ctx, "web: mark notifications read", "err", err)
		}
	}
}

func (p *pages) conversationData(ctx context.Context, s *websession, id int64) (*conversationData, error) {
	c, msgs, err := p.o.Mail.ConversationMessages(ctx, p.o.Dir, s.Account, id)
	if err != nil {
		return nil, err
	}
	unread := 0
	for _, m := range msgs {
		if !m.Seen {
			unread++
		}
	}
	v, err := p.conversationView(ctx, s.Account, c, len(msgs), unread)
	if err != nil {
		return nil, err
	}
	pro, err := p.proParty(ctx, s.Account, c)
	if err != nil {
		return nil, err
	}
	pat, err := p.patientParty(ctx, s.Account, c)
	if err != nil {
		return nil, err
	}
	d := &conversationData{page: p.newPage(s, c.Subject, "messagerie"), Conv: v, Pro: s.Account.Role != directory.Patient}
	if d.Title == "" {
		d.Title = "Conversation"
	}
	for _, m := range msgs {
		mv := messageView{ID: m.Row, Date: m.Date, Subject: m.Subject, Text: m.Text, Closing: m.Closing, Verified: m.Verified}
		if m.FromPatient {
			mv.From = pat
		} else {
			mv.From = pro
		}
		switch {
		case m.Verified:
			mv.Signature = "Signé et vérifié"
		case m.Signed:
			mv.Signature = "Signature non vérifiée"
		default:
			mv.Signature = "Non signé"
		}
		for _, at := range m.Attachments {
			mv.Attachments = append(mv.Attachments, attachmentView{Name: at.Name, ContentType: at.ContentType, Size: at.Size,
				URL: fmt.Sprintf("/api/v1/conversations/%d/messages/%d/attachments/%d", c.ID, m.Row, at.Index)})
		}
		d.Messages = append(d.Messages, mv)
	}
	return d, nil
}

// replySubmit sends the reply form (text and attachments) into the
// conversation; a refusal (the conversation was closed meanwhile) shows
// the sentence and that the draft was kept.
func (p *pages) replySubmit(w http.ResponseWriter, r *http.Request, s *websession) {
	id, err := pathID(r, "id")
	if err != nil {
		p.notFound(w, r, s)
		return
	}
	form, ferr := readMessageForm(r, s)
	ctx := r.Context()
	var sendErr error
	if ferr == nil {
		d := mailbox.Draft{Text: form.text, Attachments: form.attachments}
		if _, err := p.replyDraft(ctx, s.Account, id, &d); err != nil {
			p.fail(w, r, s, err)
			return
		}
		if _, sendErr = p.send(ctx, s.Account, d); sendErr == nil {
			http.Redirect(w, r, fmt.Sprintf("/messagerie/%d?etat=envoye#dernier", id), http.StatusSeeOther)
			return
		}
	} else {
		sendErr = ferr
	}
	d, err := p.conversationData(ctx, s, id)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	status, ok := p.refusal(sendErr, &d.page, &d.Refused, &d.DraftKept)
	if !ok {
		p.fail(w, r, s, sendErr)
		return
	}
	d.Text = form.text
	p.render(w, r, status, "conversation", d)
}

// refusal explains a refused send on the page; ok is false for an error
// that is not the user's to fix.
func (p *pages) refusal(err error, pg *page, sentence *string, kept *bool) (int, bool) {
	var rf *refusedError
	var re *mailbox.Refusal
	var br *badRequest
	switch {
	case errors.As(err, &rf):
		*sentence = frenchPart(rf.r.Message)
		*kept = rf.draft != 0
		return refusalProblem(rf.r, rf.draft).Status, true
	case errors.As(err, &re):
		pg.Error = frenchPart(re.Message)
		return refusalProblem(re, 0).Status, true
	case errors.As(err, &br):
		pg.Error = br.fr
		return http.StatusBadRequest, true
	}
	return 0, false
}

// frenchPart is the French half of "Phrase française / English sentence".
func frenchPart(msg string) string {
	fr, _, _ := strings.Cut(msg, " / ")
	return fr
}

// closeSubmit is the professional's "Clôturer la conversation": the same
// path as the API's close, a message marked X-MSS-MES: FIN.
func (p *pages) closeSubmit(w http.ResponseWriter, r *http.Request, s *websession) {
	id, err := pathID(r, "id")
	if err != nil {
		p.notFound(w, r, s)
		return
	}
	// mailbox refuses a patient's closing (ErrForbidden).
	d := mailbox.Draft{Subject: "[FIN]", Text: "Cette conversation est terminée.", Closing: true}
	ctx := r.Context()
	if _, err := p.replyDraft(ctx, s.Account, id, &d); err != nil {
		p.fail(w, r, s, err)
		return
	}
	if _, err := p.o.Pipeline.Send(ctx, s.Account, d); err != nil {
		cd, derr := p.conversationData(ctx, s, id)
		if derr != nil {
			p.fail(w, r, s, derr)
			return
		}
		status, ok := p.refusal(err, &cd.page, &cd.Refused, &cd.DraftKept)
		if !ok {
			p.fail(w, r, s, err)
			return
		}
		p.render(w, r, status, "conversation", cd)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/messagerie/%d?etat=cloture", id), http.StatusSeeOther)
}

// --- The message form: text and attachments, multipart/form-data

type messageForm struct {
	subject, text string
	attachments   []mailbox.Attachment
}

// Accepted attachments: what the document library files (domain.md: pdf,
// rtf, tiff, jpg, png) and any photo a phone takes.
func acceptedType(ct string) bool {
	return strings.HasPrefix(ct, "image/") || ct == "application/pdf" || ct == "application/rtf" || ct == "text/rtf"
}

// readMessageForm reads a message form, parsed and its CSRF token checked
// by authUpload. The error is what to show when the input is refused.
func readMessageForm(r *http.Request, s *websession) (*messageForm, error) {
	f := &messageForm{}
	if s.tooLarge {
		return f, &mailbox.Refusal{Code: 552, Enhanced: [3]int{5, 3, 4}, Message: "Le message dépasse 20 Mo / The message exceeds 20 MB"}
	}
	f.subject = strings.TrimSpace(r.PostFormValue("objet"))
	f.text = strings.ReplaceAll(r.PostFormValue("texte"), "\r\n", "\n")
	if r.MultipartForm == nil {
		return f, nil
	}
	var files []*multipart.FileHeader
	for _, name := range []string{"pieces", "photo"} {
		for _, fh := range r.MultipartForm.File[name] {
			if fh.Filename == "" && fh.Size == 0 {
				continue // an empty file input
			}
			files = append(files, fh)
		}
	}
	if len(files) > mailbox.MaxDraftAttachments {
		return f, bad(fmt.Sprintf("Joignez %d fichiers au plus.", mailbox.MaxDraftAttachments), "too many attachments")
	}
	for _, fh := range files {
		fd, err := fh.Open()
		if err != nil {
			return f, err
		}
		data, err := io.ReadAll(fd)
		fd.Close()
		if err != nil {
			return f, err
		}
		name := path.Base(strings.ReplaceAll(fh.Filename, "\\", "/"))
		ct := fh.Header.Get("Content-Type")
		if ct == "" || ct == "application/octet-stream" {
			ct = http.DetectContentType(data)
		}
		if i := strings.IndexByte(ct, ';'); i >= 0 {
			ct = strings.TrimSpace(ct[:i])
		}
		if !acceptedType(ct) {
			return f, bad("Le fichier "+name+" n'est pas accepté : joignez une photo, un PDF ou un fichier RTF.", "attachment type not accepted")
		}
		f.attachments = append(f.attachments, mailbox.Attachment{Name: name, ContentType: ct, Data: data})
	}
	return f, nil
}

// --- Nouveau message: "Rechercher une pharmacie", then the message

type pharmacyView struct {
	Name, Kind, Address string
	Token               string // the sealed choice (see sealPharmacy)
}

type searchData struct {
	page
	Name, Place string
	Searched    bool
	Results     []pharmacyView
	Total       int
	PlaceLabel  string // how the place was understood
	Next, Prev  string // links to the other pages of results
	EditLink    string // "Modifier ma recherche"
	// Documents ("1,2") are shared from the library (pages_share.go):
	// they travel to the compose page.
	Documents string
	Shared    []documentItem
}

func (p *pages) searchPharmacy(w http.ResponseWriter, r *http.Request, s *websession) {
	if s.Account.Role != directory.Patient {
		p.notFound(w, r, s)
		return
	}
	q := r.URL.Query()
	d := searchData{page: p.newPage(s, "Nouveau message", "nouveau"), Name: strings.TrimSpace(q.Get("nom")), Place: strings.TrimSpace(q.Get("lieu"))}
	if v := q.Get("documents"); v != "" && p.o.Docs != nil {
		d.Shared, d.Documents = p.shareIDsOf(r.Context(), s.Account, v)
	}
	if q.Get("recherche") == "" {
		p.render(w, r, http.StatusOK, "search", d)
		return
	}
	d.Title = "Rechercher une pharmacie"
	if d.Name == "" && d.Place == "" {
		d.Error = "Saisissez au moins un champ"
		p.render(w, r, http.StatusBadRequest, "search", d)
		return
	}
	pageNo, _ := strconv.Atoi(q.Get("page"))
	if pageNo < 1 {
		pageNo = 1
	}
	res, err := p.o.Dir.SearchPharmacies(r.Context(), directory.PharmacyQuery{Name: d.Name, Place: d.Place, Page: pageNo, PageSize: 10})
	if errors.Is(err, directory.ErrInvalid) {
		msg := strings.TrimPrefix(err.Error(), directory.ErrInvalid.Error()+": ")
		d.Error = frenchPart(msg)
		p.render(w, r, http.StatusBadRequest, "search", d)
		return
	}
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	d.Searched, d.Total, d.PlaceLabel = true, res.Total, res.Place
	for _, ph := range res.Results {
		tok, err := sealPharmacy(s.token, pharmacyChoice{Mailbox: ph.Mailbox, Name: ph.Name, Address: ph.Address})
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		d.Results = append(d.Results, pharmacyView{Name: ph.Name, Kind: ph.Kind, Address: ph.Address, Token: tok})
	}
	link := func(page int) string {
		v := url.Values{"nom": {d.Name}, "lieu": {d.Place}, "recherche": {"1"}}
		if d.Documents != "" {
			v.Set("documents", d.Documents)
		}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		return "/messagerie/nouveau?" + v.Encode()
	}
	if pageNo > 1 {
		d.Prev = link(pageNo - 1)
	}
	if res.PageSize > 0 && pageNo*res.PageSize < res.Total {
		d.Next = link(pageNo + 1)
	}
	edit := url.Values{"nom": {d.Name}, "lieu": {d.Place}}
	if d.Documents != "" {
		edit.Set("documents", d.Documents)
	}
	d.EditLink = "/messagerie/nouveau?" + edit.Encode() + "#recherche"
	p.render(w, r, http.StatusOK, "search", d)
}

// pharmacyChoice is the pharmacy a patient selected. The page carries it
// sealed (AES-GCM under a key derived from the session token): the
// patient UI shows names, never mailbox addresses, and a sealed choice
// means nothing to another session or another node's restart.
type pharmacyChoice struct {
	Mailbox string `json:"m"`
	Name    string `json:"n"`
	Address string `json:"a"`
}

func choiceAEAD(sessionToken string) (cipher.AEAD, error) {
	key := sha256.Sum256([]byte("mssanted pharmacy choice\x00" + sessionToken))
	b, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func sealPharmacy(sessionToken string, c pharmacyChoice) (string, error) {
	aead, err := choiceAEAD(sessionToken)
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, nil)), nil
}

func openPharmacy(sessionToken, token string) (*pharmacyChoice, error) {
	aead, err := choiceAEAD(sessionToken)
	if err != nil {
		return nil, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < aead.NonceSize() {
		return nil, errors.New("bad pharmacy choice")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	if err != nil {
		return nil, errors.New("bad pharmacy choice")
	}
	var c pharmacyChoice
	if err := json.Unmarshal(plain, &c); err != nil || c.Mailbox == "" {
		return nil, errors.New("bad pharmacy choice")
	}
	return &c, nil
}

type composeData struct {
	page
	Pharmacy  pharmacyChoice
	Token     string
	Subject   string
	Text      string
	Refused   string
	DraftKept bool
	// Documents shared from the library, attached on sending.
	Shared    []documentItem
	Documents string
}

func (p *pages) newMessage(w http.ResponseWriter, r *http.Request, s *websession) {
	if s.Account.Role != directory.Patient {
		p.notFound(w, r, s)
		return
	}
	tok := r.URL.Query().Get("pharmacie")
	c, err := openPharmacy(s.token, tok)
	if err != nil {
		http.Redirect(w, r, "/messagerie/nouveau", http.StatusSeeOther)
		return
	}
	d := composeData{page: p.newPage(s, "Écrire à "+c.Name, "nouveau"), Pharmacy: *c, Token: tok}
	if v := r.URL.Query().Get("documents"); v != "" && p.o.Docs != nil {
		d.Shared, d.Documents = p.shareIDsOf(r.Context(), s.Account, v)
	}
	p.render(w, r, http.StatusOK, "compose", d)
}

func (p *pages) newMessageSubmit(w http.ResponseWriter, r *http.Request, s *websession) {
	if s.Account.Role != directory.Patient {
		p.notFound(w, r, s)
		return
	}
	form, ferr := readMessageForm(r, s)
	// The choice travels in the form's URL: it is read even when the body
	// is refused for its size.
	tok := r.URL.Query().Get("pharmacie")
	c, err := openPharmacy(s.token, tok)
	if err != nil {
		http.Redirect(w, r, "/messagerie/nouveau", http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	sendErr := ferr
	var shared []documentItem
	var docs string
	if v := r.URL.Query().Get("documents"); v != "" && p.o.Docs != nil {
		shared, docs = p.shareIDsOf(ctx, s.Account, v)
	}
	if sendErr == nil {
		d := mailbox.Draft{To: c.Mailbox, Subject: form.subject, Text: form.text, Attachments: form.attachments}
		if docs != "" {
			_, atts, err := p.sharedDocs(ctx, s.Account, docIDs(url.Values{"documents": {docs}}))
			if err != nil {
				p.docFail(w, r, s, err)
				return
			}
			d.Attachments = append(atts, d.Attachments...)
		}
		if _, sendErr = p.send(ctx, s.Account, d); sendErr == nil {
			target := "/messagerie?envoye=1"
			if conv, err := p.o.Mail.ConversationBetween(ctx, c.Mailbox, s.Account.ID); err == nil {
				target = fmt.Sprintf("/messagerie/%d?etat=envoye#dernier", conv.ID)
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
	}
	d := composeData{page: p.newPage(s, "Écrire à "+c.Name, "nouveau"), Pharmacy: *c, Token: tok, Subject: form.subject, Text: form.text,
		Shared: shared, Documents: docs}
	status, ok := p.refusal(sendErr, &d.page, &d.Refused, &d.DraftKept)
	if !ok {
		p.fail(w, r, s, sendErr)
		return
	}
	p.render(w, r, status, "compose", d)
}
