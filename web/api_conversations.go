package web

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mssanted/directory"
	"mssanted/mailbox"
)

// partyJSON is a correspondent as the API shows it. For a patient the
// professional is a name and a profession, never an address (reference.md);
// professionals see addresses.
type partyJSON struct {
	Name       string `json:"name"`
	Profession string `json:"profession,omitempty"`
	Address    string `json:"address,omitempty"`
	Me         bool   `json:"me,omitempty"`
}

type conversationJSON struct {
	ID        int64     `json:"id"`
	With      partyJSON `json:"with"`
	Subject   string    `json:"subject"`
	State     string    `json:"state"`
	StartedBy string    `json:"started_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Messages  int       `json:"message_count"`
	Unread    int       `json:"unread"`
	// CanReply says whether the actor may write in it now; when not,
	// Closed is the sentence to show in place of the reply box.
	CanReply bool   `json:"can_reply"`
	Closed   string `json:"closed_message,omitempty"`
}

type attachmentJSON struct {
	Index       int    `json:"index"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
}

type messageJSON struct {
	ID          int64            `json:"id"`
	Date        time.Time        `json:"date"`
	From        partyJSON        `json:"from"`
	Subject     string           `json:"subject"`
	Text        string           `json:"text"`
	Closing     bool             `json:"closing,omitempty"`
	Attachments []attachmentJSON `json:"attachments"`
	Read        bool             `json:"read"`
	Signature   string           `json:"signature"` // "verified", "unverified", "none"
}

type conversationDetailJSON struct {
	conversationJSON
	Messages []messageJSON `json:"messages"`
}

// closedSentence is what the patient sees when the professional closed the
// conversation (domain.md rule 2, reference.md).
func closedSentence(name string) string { return name + " a mis fin à vos échanges" }

// proParty describes the professional side of a conversation for actor.
func (a *api) proParty(ctx context.Context, actor *directory.Account, c *mailbox.Conversation) (partyJSON, error) {
	card, err := a.o.Dir.CardOf(ctx, c.ProAddress, c.ProName)
	if err != nil {
		return partyJSON{}, err
	}
	if c.ProName != "" {
		card.Name = c.ProName
	}
	p := partyJSON{Name: card.Name, Profession: card.Profession}
	if actor.Role != directory.Patient {
		p.Address, p.Me = c.ProAddress, true // only the parties read a conversation
	}
	return p, nil
}

func (a *api) patientParty(ctx context.Context, actor *directory.Account, c *mailbox.Conversation) (partyJSON, error) {
	if actor.Role == directory.Patient {
		return partyJSON{Name: actor.DisplayName, Me: true}, nil
	}
	p, err := a.o.Dir.ByID(ctx, c.PatientID)
	if err != nil {
		return partyJSON{}, err
	}
	return partyJSON{Name: p.DisplayName, Address: p.Address, Profession: "Patient"}, nil
}

func (a *api) conversationView(ctx context.Context, actor *directory.Account, c *mailbox.Conversation, messages, unread int) (conversationJSON, error) {
	v := conversationJSON{ID: c.ID, Subject: c.Subject, State: c.State, StartedBy: c.StartedBy,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Messages: messages, Unread: unread, CanReply: true}
	var err error
	if actor.Role == directory.Patient {
		v.With, err = a.proParty(ctx, actor, c)
		if c.State == mailbox.ConversationClosed {
			v.CanReply, v.Closed = false, closedSentence(v.With.Name)
		}
	} else {
		v.With, err = a.patientParty(ctx, actor, c)
	}
	return v, err
}

func (a *api) listConversations(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	cs, err := a.o.Mail.ConversationsOf(r.Context(), a.o.Dir, s.Account)
	if err != nil {
		return err
	}
	out := []conversationJSON{}
	for i := range cs {
		v, err := a.conversationView(r.Context(), s.Account, &cs[i].Conversation, cs[i].Messages, cs[i].Unread)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"conversations": out})
}

func pathID(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, mailbox.ErrNoSuchConversation
	}
	return n, nil
}

func (a *api) getConversation(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	c, msgs, err := a.o.Mail.ConversationMessages(ctx, a.o.Dir, s.Account, id)
	if err != nil {
		return err
	}
	unread := 0
	for _, m := range msgs {
		if !m.Seen {
			unread++
		}
	}
	v, err := a.conversationView(ctx, s.Account, c, len(msgs), unread)
	if err != nil {
		return err
	}
	pro, err := a.proParty(ctx, s.Account, c)
	if err != nil {
		return err
	}
	pat, err := a.patientParty(ctx, s.Account, c)
	if err != nil {
		return err
	}
	out := conversationDetailJSON{conversationJSON: v, Messages: []messageJSON{}}
	for _, m := range msgs {
		mj := messageJSON{ID: m.Row, Date: m.Date, Subject: m.Subject, Text: m.Text, Closing: m.Closing,
			Read: m.Seen, Attachments: []attachmentJSON{}, Signature: "none"}
		if m.FromPatient {
			mj.From = pat
		} else {
			mj.From = pro
		}
		switch {
		case m.Verified:
			mj.Signature = "verified"
		case m.Signed:
			mj.Signature = "unverified"
		}
		for _, at := range m.Attachments {
			mj.Attachments = append(mj.Attachments, attachmentJSON{Index: at.Index, Name: at.Name, ContentType: at.ContentType, Size: at.Size,
				URL: fmt.Sprintf("/api/v1/conversations/%d/messages/%d/attachments/%d", c.ID, m.Row, at.Index)})
		}
		out.Messages = append(out.Messages, mj)
	}
	// Reading the conversation reads its messages, as a mail client would.
	if err := a.o.Mail.MarkConversationRead(ctx, a.o.Dir, s.Account, id); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

type attachmentIn struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"` // base64 in JSON
}

type draftIn struct {
	To          string         `json:"to,omitempty"`
	Subject     string         `json:"subject,omitempty"`
	Text        string         `json:"text"`
	Attachments []attachmentIn `json:"attachments,omitempty"`
}

func (d *draftIn) draft() mailbox.Draft {
	out := mailbox.Draft{To: strings.TrimSpace(d.To), Subject: strings.TrimSpace(d.Subject), Text: d.Text}
	for _, at := range d.Attachments {
		out.Attachments = append(out.Attachments, mailbox.Attachment{Name: at.Name, ContentType: at.ContentType, Data: at.Data})
	}
	return out
}

type sentJSON struct {
	ConversationID int64  `json:"conversation_id,omitempty"`
	MessageID      string `json:"message_id"`
}

// send submits a draft; a refusal keeps the draft in Drafts and says so.
func (a *api) send(ctx context.Context, actor *directory.Account, d mailbox.Draft) (*mailbox.Result, error) {
	res, err := a.o.Pipeline.Send(ctx, actor, d)
	var re *mailbox.Refusal
	if errors.As(err, &re) && re.Code >= 500 && d.To != "" {
		uid, derr := a.o.Pipeline.SaveDraft(ctx, actor, d, re.Message)
		if derr != nil {
			return nil, errors.Join(err, derr)
		}
		return nil, &refusedError{r: re, draft: uid}
	}
	return res, err
}

// startConversation writes a first message: a patient to a pharmacy
// (domain.md rule 4), a professional to a patient (rule 1). The rules in
// mailbox decide, exactly as over SMTP.
func (a *api) startConversation(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	var in draftIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	d := in.draft()
	res, err := a.send(ctx, s.Account, d)
	if err != nil {
		return err
	}
	out := sentJSON{MessageID: res.MessageID}
	var c *mailbox.Conversation
	if s.Account.Role == directory.Patient {
		c, err = a.o.Mail.ConversationBetween(ctx, d.To, s.Account.ID)
	} else if p, perr := a.o.Dir.ByAddress(ctx, d.To); perr == nil && p.Role == directory.Patient {
		c, err = a.o.Mail.ConversationBetween(ctx, s.Account.Address, p.ID)
	}
	if err != nil && !errors.Is(err, mailbox.ErrNoSuchConversation) {
		return err
	}
	if c != nil {
		out.ConversationID = c.ID
	}
	return writeJSON(w, http.StatusCreated, out)
}

// replyDraft addresses a draft inside a conversation (mailbox decides to
// whom, from which mailbox, and how it is threaded).
func (a *api) replyDraft(ctx context.Context, actor *directory.Account, id int64, d *mailbox.Draft) (*mailbox.Conversation, error) {
	return a.o.Mail.AddressReply(ctx, a.o.Dir, actor, id, d)
}

func (a *api) reply(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in draftIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	if in.To != "" {
		return bad("Une réponse va à votre correspondant : pas de destinataire à choisir", "A reply goes to the other party: no 'to'")
	}
	d := in.draft()
	ctx := r.Context()
	c, err := a.replyDraft(ctx, s.Account, id, &d)
	if err != nil {
		return err
	}
	res, err := a.send(ctx, s.Account, d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, sentJSON{ConversationID: c.ID, MessageID: res.MessageID})
}

type closeIn struct {
	Text string `json:"text,omitempty"`
}

// closeConversation is the professional's "Clôturer la conversation": a
// message marked X-MSS-MES: FIN, the same rule path as a [FIN] subject
// sent from a mail client.
func (a *api) closeConversation(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in closeIn
	if r.ContentLength != 0 {
		if err := readJSON(w, r, &in); err != nil {
			return err
		}
	}
	d := mailbox.Draft{Subject: "[FIN]", Text: in.Text, Closing: true}
	if strings.TrimSpace(d.Text) == "" {
		d.Text = "Cette conversation est terminée."
	}
	ctx := r.Context()
	c, err := a.replyDraft(ctx, s.Account, id, &d)
	if err != nil {
		return err
	}
	res, err := a.o.Pipeline.Send(ctx, s.Account, d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sentJSON{ConversationID: c.ID, MessageID: res.MessageID})
}

func (a *api) attachment(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	row, err := pathID(r, "row")
	if err != nil {
		return err
	}
	index, err := strconv.Atoi(r.PathValue("index"))
	if err != nil || index < 0 {
		return mailbox.ErrNoSuchConversation
	}
	at, err := a.o.Mail.ConversationAttachment(r.Context(), a.o.Dir, s.Account, id, row, index)
	if err != nil {
		return err
	}
	ct := at.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": at.Name}))
	w.Header().Set("Content-Length", strconv.Itoa(len(at.Data)))
	_, err = w.Write(at.Data)
	return err
}

type notificationJSON struct {
	ID             int64     `json:"id"`
	Kind           string    `json:"kind"`
	Title          string    `json:"title"`
	ConversationID int64     `json:"conversation_id,omitempty"`
	Read           bool      `json:"read"`
	CreatedAt      time.Time `json:"created_at"`
}

func (a *api) notifications(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ns, unread, err := a.o.Mail.Notifications(r.Context(), s.Account.ID, 50)
	if err != nil {
		return err
	}
	out := []notificationJSON{}
	for _, n := range ns {
		out = append(out, notificationJSON{ID: n.ID, Kind: n.Kind, Title: n.Title, ConversationID: n.ConversationID, Read: n.Read, CreatedAt: n.CreatedAt})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"unread": unread, "notifications": out})
}

type readIn struct {
	IDs []int64 `json:"ids"`
}

func (a *api) readNotifications(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	var in readIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.o.Mail.MarkNotificationsRead(r.Context(), s.Account.ID, in.IDs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
