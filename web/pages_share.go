package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"mssanted/directory"
	"mssanted/mailbox"
)

// "Partager" a document or a selection: into a message to the professional
// of an open conversation (a reply: only a professional starts one), or to
// a pharmacy through the pharmacy search and its compose page (the
// "documents" parameter travels along). The messaging rules apply:
// mailbox.Pipeline.Send decides, a refusal shows its sentence.

func (p *pages) registerShare(mux *http.ServeMux) {
	mux.HandleFunc("GET /documents/partager", p.auth(p.sharePage))
	mux.HandleFunc("POST /documents/partager", p.auth(p.shareSubmit))
}

type shareConversation struct {
	ID      int64
	With    string
	Subject string
}

type shareData struct {
	page
	Documents     []documentItem
	IDs           string // "1,2": the documents, for the pharmacy flow
	Conversations []shareConversation
	Chosen        int64
	Text          string
	Refused       string
	DraftKept     bool
}

// docIDs reads the documents to share: "doc" repeated, or "documents"
// as "1,2".
func docIDs(v url.Values) []int64 {
	var ids []int64
	seen := map[int64]bool{}
	add := func(s string) {
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && n > 0 && !seen[n] && len(ids) < 10 {
			seen[n] = true
			ids = append(ids, n)
		}
	}
	for _, s := range v["doc"] {
		add(s)
	}
	for _, s := range strings.Split(v.Get("documents"), ",") {
		add(s)
	}
	return ids
}

func joinIDs(ids []int64) string {
	var out []string
	for _, id := range ids {
		out = append(out, strconv.FormatInt(id, 10))
	}
	return strings.Join(out, ",")
}

// sharedDocs reads the documents the actor shares, as attachments; dmp
// decides whether the actor may read each.
func (p *pages) sharedDocs(ctx context.Context, actor *directory.Account, ids []int64) ([]documentItem, []mailbox.Attachment, error) {
	var items []documentItem
	var atts []mailbox.Attachment
	for _, id := range ids {
		d, rc, err := p.o.Docs.Open(ctx, actor, id)
		if err != nil {
			return nil, nil, err
		}
		data, err := io.ReadAll(io.LimitReader(rc, mailbox.MaxDraftBytes+1))
		rc.Close()
		if err != nil {
			return nil, nil, err
		}
		name := d.Filename
		if name == "" {
			name = d.Title
		}
		items = append(items, documentItemOf(d, nil))
		atts = append(atts, mailbox.Attachment{Name: name, ContentType: d.MimeType, Data: data})
	}
	return items, atts, nil
}

func (p *pages) shareOnly(w http.ResponseWriter, r *http.Request, s *websession) bool {
	if p.o.Docs == nil || s.Account.Role != directory.Patient {
		p.notFound(w, r, s)
		return false
	}
	return true
}

func (p *pages) sharePage(w http.ResponseWriter, r *http.Request, s *websession) {
	if !p.shareOnly(w, r, s) {
		return
	}
	ids := docIDs(r.URL.Query())
	if len(ids) == 0 {
		http.Redirect(w, r, "/documents?erreur=aucun", http.StatusSeeOther)
		return
	}
	p.renderShare(w, r, s, http.StatusOK, shareData{}, ids)
}

func (p *pages) renderShare(w http.ResponseWriter, r *http.Request, s *websession, status int, d shareData, ids []int64) {
	ctx := r.Context()
	pg := d.page
	d.page = p.newPage(s, "Partager des documents", "documents")
	d.Error = pg.Error
	if _, err := p.withPersons(r, s, &d.page); err != nil {
		p.fail(w, r, s, err)
		return
	}
	for _, id := range ids {
		doc, err := p.o.Docs.Get(ctx, s.Account, id)
		if err != nil {
			p.docFail(w, r, s, err)
			return
		}
		d.Documents = append(d.Documents, documentItemOf(doc, nil))
	}
	d.IDs = joinIDs(ids)
	cs, err := p.o.Mail.ConversationsOf(ctx, p.o.Dir, s.Account)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	for i := range cs {
		v, err := p.conversationView(ctx, s.Account, &cs[i].Conversation, cs[i].Messages, cs[i].Unread)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		if v.CanReply || v.ID == d.Chosen {
			d.Conversations = append(d.Conversations, shareConversation{ID: v.ID, With: v.With.Name, Subject: v.Subject})
		}
	}
	p.render(w, r, status, "share", d)
}

// shareSubmit sends the documents in a message of the conversation chosen.
func (p *pages) shareSubmit(w http.ResponseWriter, r *http.Request, s *websession) {
	if !p.shareOnly(w, r, s) {
		return
	}
	ids := docIDs(r.PostForm)
	if len(ids) == 0 {
		http.Redirect(w, r, "/documents?erreur=aucun", http.StatusSeeOther)
		return
	}
	d := shareData{Text: r.PostFormValue("texte")}
	conv, err := strconv.ParseInt(r.PostFormValue("conversation"), 10, 64)
	if err != nil || conv <= 0 {
		d.Error = "Choisissez le professionnel de santé à qui envoyer les documents."
		p.renderShare(w, r, s, http.StatusBadRequest, d, ids)
		return
	}
	d.Chosen = conv
	ctx := r.Context()
	_, atts, err := p.sharedDocs(ctx, s.Account, ids)
	if err != nil {
		p.docFail(w, r, s, err)
		return
	}
	text := strings.TrimSpace(d.Text)
	if text == "" {
		text = "Je vous transmets " + plural(len(ids), "un document", fmt.Sprintf("%d documents", len(ids))) + " de mon espace santé."
	}
	draft := mailbox.Draft{Text: text, Attachments: atts}
	if _, err := p.replyDraft(ctx, s.Account, conv, &draft); err != nil {
		p.fail(w, r, s, err)
		return
	}
	_, sendErr := p.send(ctx, s.Account, draft)
	if sendErr == nil {
		http.Redirect(w, r, fmt.Sprintf("/messagerie/%d?etat=envoye#dernier", conv), http.StatusSeeOther)
		return
	}
	status, ok := p.refusal(sendErr, &d.page, &d.Refused, &d.DraftKept)
	if !ok {
		p.fail(w, r, s, sendErr)
		return
	}
	p.renderShare(w, r, s, status, d, ids)
}

func plural(n int, one, many string) string {
	if n > 1 {
		return many
	}
	return one
}

// shareIDsOf keeps the documents of the pharmacy flow: "1,2" of ids the
// actor may read, or "".
func (p *pages) shareIDsOf(ctx context.Context, actor *directory.Account, v string) ([]documentItem, string) {
	ids := docIDs(url.Values{"documents": {v}})
	var items []documentItem
	var ok []int64
	for _, id := range ids {
		if d, err := p.o.Docs.Get(ctx, actor, id); err == nil {
			items = append(items, documentItemOf(d, nil))
			ok = append(ok, id)
		}
	}
	return items, joinIDs(ok)
}
