package mailbox

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"mssanted/db"
	"mssanted/directory"
)

// Draft is a message written in the web app or through the API, where
// there is no mail client to build the MIME and keep a Sent copy.
type Draft struct {
	// From is "" for the actor's own address, or an ORG mailbox the actor
	// is staff of (a pharmacist answering for the pharmacy).
	From    string
	To      string
	Subject string
	Text    string
	// InReplyTo and References thread a reply (RFC 5322 3.6.4).
	InReplyTo  string
	References []string
	// Closing marks the professional's closing message (X-MSS-MES: FIN,
	// reference.md).
	Closing     bool
	Attachments []Attachment
}

// Attachment is one file of a draft or of a stored message.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Limits of what the web app and the API accept in one message.
const (
	MaxDraftAttachments = 10
	MaxDraftBytes       = 20 << 20
	MaxSubjectRunes     = 255
)

// Send submits a draft from actor (a user of this instance) through the
// same pipeline, rules and checks as SMTP submission, and keeps the Sent
// copy in the same transaction. A *Refusal says why it was refused.
func (p *Pipeline) Send(ctx context.Context, actor *directory.Account, d Draft) (*Result, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	if d.Closing && actor.Role == directory.Patient {
		// Only the professional closes (domain.md rule 2); over SMTP a
		// patient's FIN is ignored (recordConversation), here it is refused.
		return nil, fmt.Errorf("%w: seul le professionnel peut clore la conversation / only the professional closes a conversation", ErrForbidden)
	}
	from := actor.Address
	if d.From != "" && !strings.EqualFold(d.From, actor.Address) {
		ok, err := p.Dir.MaySendAs(ctx, actor, d.From)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, refuse(553, 5, 7, 1, "Vous ne pouvez pas envoyer en tant que "+d.From, "You may not send as "+d.From)
		}
		from = strings.ToLower(d.From)
	}
	t := p.Begin(Envelope{Door: Submission, From: from, Auth: actor, TLS: "HTTPS", SaveSent: true})
	if err := t.AddRecipient(ctx, Recipient{Address: d.To}); err != nil {
		return nil, err
	}
	raw, _, err := d.build(from, actor.DisplayName, p.now(), p.Hostname)
	if err != nil {
		return nil, err
	}
	return t.Deliver(ctx, bytes.NewReader(raw))
}

// SaveDraft keeps a draft in the actor's Drafts folder, with the reason it
// was not sent (domain.md rule 2: "nothing the patient wrote is lost").
// It returns the UID of the draft in Drafts.
func (p *Pipeline) SaveDraft(ctx context.Context, actor *directory.Account, d Draft, reason string) (uint32, error) {
	raw, msgID, err := d.build(actor.Address, actor.DisplayName, p.now(), p.Hostname)
	if err != nil {
		return 0, err
	}
	if reason != "" {
		raw = append([]byte("X-MSS-Refus: "+mimeWord(reason)+"\r\n"), raw...)
	}
	key, size, err := p.Store.blobs.Put(ctx, bytes.NewReader(raw))
	if err != nil {
		return 0, fmt.Errorf("mailbox: store draft: %w", err)
	}
	m := stored{accountID: actor.ID, flags: FlagDraft + " " + FlagSeen, blobKey: key, size: size, internalDate: db.Micros(p.now()),
		envelopeFrom: actor.Address, messageID: msgID, inReplyTo: d.InReplyTo, subject: d.Subject, from: actor.DisplayName}
	var uid uint32
	var mb int64
	err = p.Store.db.Tx(ctx, func(tx *sql.Tx) error {
		var row int64
		var err error
		if mb, row, err = appendToSpecial(ctx, tx, p.Store.db, &m, `\Drafts`); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT uid FROM messages WHERE id = $1`, row).Scan(&uid)
	})
	if err != nil {
		return 0, err
	}
	p.Store.notify(mb)
	return uid, nil
}

func (d *Draft) validate() error {
	bad := func(fr, en string) error { return refuse(554, 5, 6, 0, fr, en) }
	switch {
	case strings.TrimSpace(d.To) == "":
		return refuse(554, 5, 1, 3, "Choisissez un destinataire", "No recipient")
	case strings.TrimSpace(d.Subject) == "" && !d.Closing:
		return bad("Saisissez un objet", "The subject is empty")
	case len([]rune(d.Subject)) > MaxSubjectRunes:
		return bad("L'objet est trop long (255 caractères au plus)", "The subject is too long")
	case strings.ContainsAny(d.Subject, "\r\n"):
		return bad("L'objet tient sur une ligne", "The subject holds on one line")
	case strings.TrimSpace(d.Text) == "" && len(d.Attachments) == 0 && !d.Closing:
		return bad("Le message est vide", "The message is empty")
	case len(d.Attachments) > MaxDraftAttachments:
		return bad(fmt.Sprintf("%d pièces jointes au plus", MaxDraftAttachments), "Too many attachments")
	}
	total := len(d.Text)
	for _, a := range d.Attachments {
		total += len(a.Data)
		if strings.TrimSpace(a.Name) == "" || strings.ContainsAny(a.Name, "/\\\r\n\x00") {
			return bad("Nom de pièce jointe invalide", "Invalid attachment name")
		}
		if len(a.Data) == 0 {
			return bad("La pièce jointe "+a.Name+" est vide", "Empty attachment "+a.Name)
		}
	}
	if total > MaxDraftBytes {
		return refuse(552, 5, 3, 4, "Le message dépasse 20 Mo", "The message exceeds 20 MB")
	}
	return nil
}

// build writes the draft as an RFC 5322 message: text/plain UTF-8, then the
// attachments, each base64 with its name (RFC 2183, RFC 2231).
func (d *Draft) build(from, name string, now time.Time, host string) ([]byte, string, error) {
	var h mail.Header
	h.SetDate(now)
	h.SetAddressList("From", []*mail.Address{{Name: name, Address: from}})
	h.SetAddressList("To", []*mail.Address{{Address: d.To}})
	subject := d.Subject
	if d.Closing && strings.TrimSpace(subject) == "" {
		subject = "[FIN]"
	}
	h.SetSubject(subject)
	msgID := newMessageID(host)
	h.Set("Message-Id", msgID)
	if d.InReplyTo != "" {
		h.Set("In-Reply-To", d.InReplyTo)
	}
	if len(d.References) > 0 {
		h.Set("References", strings.Join(d.References, " "))
	}
	if d.Closing {
		h.Set("X-Mss-Mes", "FIN")
	}
	var buf bytes.Buffer
	text := strings.ReplaceAll(strings.ReplaceAll(d.Text, "\r\n", "\n"), "\n", "\r\n")
	if len(d.Attachments) == 0 {
		h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
		w, err := mail.CreateSingleInlineWriter(&buf, h)
		if err != nil {
			return nil, "", err
		}
		io.WriteString(w, text)
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), msgID, nil
	}
	mw, err := mail.CreateWriter(&buf, h)
	if err != nil {
		return nil, "", err
	}
	var th mail.InlineHeader
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	tw, err := mw.CreateSingleInline(th)
	if err != nil {
		return nil, "", err
	}
	io.WriteString(tw, text)
	tw.Close()
	for _, a := range d.Attachments {
		var ah mail.AttachmentHeader
		ct := a.ContentType
		if ct == "" {
			ct = mime.TypeByExtension(strings.ToLower(path.Ext(a.Name)))
		}
		if mt, _, err := mime.ParseMediaType(ct); err == nil && ct != "" {
			ah.SetContentType(mt, nil)
		} else {
			ah.SetContentType("application/octet-stream", nil)
		}
		ah.SetFilename(a.Name)
		aw, err := mw.CreateAttachment(ah)
		if err != nil {
			return nil, "", err
		}
		aw.Write(a.Data)
		aw.Close()
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), msgID, nil
}
