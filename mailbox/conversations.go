package mailbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	_ "github.com/emersion/go-message/charset" // ISO-8859-1 and others in practice software mail
	"github.com/emersion/go-message/mail"

	"mssanted/db"
	"mssanted/directory"
)

// ErrNoSuchConversation is returned for a conversation that does not exist
// or that the actor is not a party to: the two are not told apart.
var ErrNoSuchConversation = errors.New("no such conversation")

// ConversationSummary is a conversation as listed for one of its parties.
type ConversationSummary struct {
	Conversation
	Messages int
	Unread   int // messages to the actor not yet read
}

// ConversationsOf lists the conversations the actor is a party to, latest
// first: a patient's own, a professional's, and those of the ORG mailboxes
// (pharmacies) the actor is staff of.
func (s *Store) ConversationsOf(ctx context.Context, dir *directory.Store, actor *directory.Account) ([]ConversationSummary, error) {
	where, args, err := s.partyFilter(ctx, dir, actor)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT c.id, c.pro_address, c.pro_name, c.patient_id, c.state, c.started_by, c.subject, c.created_at, c.updated_at,
		(SELECT count(DISTINCT m.message_id) FROM conversation_messages cm JOIN messages m ON m.id = cm.message_row WHERE cm.conversation_id = c.id),
		(SELECT count(*) FROM conversation_messages cm JOIN messages m ON m.id = cm.message_row
			WHERE cm.conversation_id = c.id AND m.account_id = $1 AND m.seen = FALSE)
		FROM conversations c WHERE `+where+` ORDER BY c.updated_at DESC, c.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("mailbox: conversations of %s: %w", actor.Address, err)
	}
	defer rows.Close()
	var out []ConversationSummary
	for rows.Next() {
		var c ConversationSummary
		var created, updated int64
		if err := rows.Scan(&c.ID, &c.ProAddress, &c.ProName, &c.PatientID, &c.State, &c.StartedBy, &c.Subject, &created, &updated,
			&c.Messages, &c.Unread); err != nil {
			return nil, err
		}
		c.CreatedAt, c.UpdatedAt = db.Time(created), db.Time(updated)
		out = append(out, c)
	}
	return out, rows.Err()
}

// partyFilter is the WHERE clause selecting the conversations the actor
// is a party to; $1 is the account whose copies count as the actor's.
func (s *Store) partyFilter(ctx context.Context, dir *directory.Store, actor *directory.Account) (string, []any, error) {
	switch actor.Role {
	case directory.Patient:
		return `c.patient_id = $2`, []any{actor.ID, actor.ID}, nil
	case directory.Professional, directory.Pharmacy:
		addrs := []string{actor.Address}
		orgs, err := dir.OrgsOf(ctx, actor.ID)
		if err != nil {
			return "", nil, err
		}
		addrs = append(addrs, orgs...)
		// Staff read the ORG mailbox's copies: with one ORG, its account
		// holds the unread copies; otherwise the actor's own.
		owner := actor.ID
		if len(orgs) == 1 && actor.MailboxType != directory.ORG {
			if o, err := dir.ByAddress(ctx, orgs[0]); err == nil {
				owner = o.ID
			}
		}
		args := []any{owner}
		var ph []string
		for _, a := range addrs {
			args = append(args, a)
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		return `c.pro_address IN (` + strings.Join(ph, ", ") + `)`, args, nil
	}
	return "", nil, fmt.Errorf("%w: %s has no conversations", ErrForbidden, actor.Role)
}

// ConversationOf returns one conversation if the actor is a party to it.
// Authorization lives here, not in the doors.
func (s *Store) ConversationOf(ctx context.Context, dir *directory.Store, actor *directory.Account, id int64) (*Conversation, error) {
	var c Conversation
	var created, updated int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT id, pro_address, pro_name, patient_id, state, started_by, subject, created_at, updated_at
		FROM conversations WHERE id = $1`, id).
		Scan(&c.ID, &c.ProAddress, &c.ProName, &c.PatientID, &c.State, &c.StartedBy, &c.Subject, &created, &updated)
	if err != nil {
		return nil, ErrNoSuchConversation
	}
	c.CreatedAt, c.UpdatedAt = db.Time(created), db.Time(updated)
	ok, err := s.isParty(ctx, dir, actor, &c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNoSuchConversation
	}
	return &c, nil
}

func (s *Store) isParty(ctx context.Context, dir *directory.Store, actor *directory.Account, c *Conversation) (bool, error) {
	if actor.Role == directory.Patient {
		return c.PatientID == actor.ID, nil
	}
	if actor.Role != directory.Professional && actor.Role != directory.Pharmacy {
		return false, nil
	}
	return dir.MaySendAs(ctx, actor, c.ProAddress)
}

// ConversationMessage is one message of a conversation as its parties
// read it.
type ConversationMessage struct {
	Row         int64 // the stored copy read (the actor's own when it has one)
	MessageID   string
	InReplyTo   string
	Date        time.Time
	FromPatient bool // written by the patient; else by the professional
	Closing     bool
	Subject     string
	Text        string
	Attachments []AttachmentInfo
	Seen        bool
	// S/MIME as checked at delivery.
	Signed, Verified, Encrypted bool
	Signer                      string
}

// AttachmentInfo describes an attachment without its content.
type AttachmentInfo struct {
	Index       int // position among the message's attachments, from 0
	Name        string
	ContentType string
	Size        int64
}

// ConversationMessages reads the messages of a conversation the actor is a
// party to, oldest first. A message stored twice (the recipient's copy and
// the sender's Sent copy) is shown once, from the actor's own copy.
func (s *Store) ConversationMessages(ctx context.Context, dir *directory.Store, actor *directory.Account, id int64) (*Conversation, []ConversationMessage, error) {
	c, err := s.ConversationOf(ctx, dir, actor, id)
	if err != nil {
		return nil, nil, err
	}
	own, err := s.ownAccounts(ctx, dir, actor)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT m.id, m.account_id, m.message_id, m.in_reply_to, m.internal_date, cm.direction, cm.closing,
		m.subject, m.seen, m.blob_key, m.smime_signed, m.smime_verified, m.smime_encrypted, m.smime_signer
		FROM conversation_messages cm JOIN messages m ON m.id = cm.message_row
		WHERE cm.conversation_id = $1 ORDER BY m.internal_date, m.id`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("mailbox: conversation %d: %w", id, err)
	}
	type row struct {
		ConversationMessage
		account int64
		blob    string
	}
	var all []row
	for rows.Next() {
		var r row
		var date int64
		var dir string
		if err := rows.Scan(&r.Row, &r.account, &r.MessageID, &r.InReplyTo, &date, &dir, &r.Closing, &r.Subject, &r.Seen, &r.blob,
			&r.Signed, &r.Verified, &r.Encrypted, &r.Signer); err != nil {
			rows.Close()
			return nil, nil, err
		}
		r.Date, r.FromPatient = db.Time(date), dir == "from_patient"
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	// One entry per Message-ID, preferring the actor's own copy.
	pick := map[string]int{}
	var order []string
	for i, r := range all {
		k := r.MessageID
		if k == "" {
			k = fmt.Sprint("row:", r.Row)
		}
		j, seen := pick[k]
		if !seen {
			order = append(order, k)
			pick[k] = i
			continue
		}
		if own[r.account] && !own[all[j].account] {
			pick[k] = i
		}
	}
	out := make([]ConversationMessage, 0, len(order))
	for _, k := range order {
		r := all[pick[k]]
		m := r.ConversationMessage
		if !own[r.account] {
			m.Seen = true // another party's copy: nothing for the actor to read
		}
		if err := s.readParts(ctx, r.blob, &m, -1, nil); err != nil {
			return nil, nil, err
		}
		out = append(out, m)
	}
	return c, out, nil
}

// ownAccounts are the accounts whose copies are the actor's: its own and
// the ORG mailboxes it is staff of.
func (s *Store) ownAccounts(ctx context.Context, dir *directory.Store, actor *directory.Account) (map[int64]bool, error) {
	own := map[int64]bool{actor.ID: true}
	if actor.Role == directory.Patient {
		return own, nil
	}
	orgs, err := dir.OrgsOf(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	for _, o := range orgs {
		a, err := dir.ByAddress(ctx, o)
		if err != nil {
			return nil, err
		}
		own[a.ID] = true
	}
	return own, nil
}

// AddressReply addresses a draft inside a conversation the actor is a
// party to: to the other party (a patient never chooses, nor sees, the
// professional's address), from the ORG mailbox when its staff answer,
// threaded after the latest message (RFC 5322 3.6.4), and with the
// conversation's subject when the draft has none. It reads the headers
// kept at delivery, not the bodies.
func (s *Store) AddressReply(ctx context.Context, dir *directory.Store, actor *directory.Account, id int64, d *Draft) (*Conversation, error) {
	c, err := s.ConversationOf(ctx, dir, actor, id)
	if err != nil {
		return nil, err
	}
	if actor.Role == directory.Patient {
		d.To = c.ProAddress
	} else {
		p, err := dir.ByID(ctx, c.PatientID)
		if err != nil {
			return nil, err
		}
		d.To = p.Address
		if !strings.EqualFold(c.ProAddress, actor.Address) {
			d.From = c.ProAddress // staff answer for their ORG mailbox
		}
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT m.message_id, m.subject, cm.closing
		FROM conversation_messages cm JOIN messages m ON m.id = cm.message_row
		WHERE cm.conversation_id = $1 ORDER BY m.internal_date, m.id`, id)
	if err != nil {
		return nil, fmt.Errorf("mailbox: thread of conversation %d: %w", id, err)
	}
	defer rows.Close()
	var refs []string
	seen := map[string]bool{}
	last := c.Subject
	for rows.Next() {
		var msgID, subject string
		var closing bool
		if err := rows.Scan(&msgID, &subject, &closing); err != nil {
			return nil, err
		}
		if msgID != "" && !seen[msgID] {
			seen[msgID] = true
			refs = append(refs, msgID)
		}
		if subject != "" && !closing {
			last = subject
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(refs) > 0 {
		d.InReplyTo = refs[len(refs)-1]
		d.References = refs[max(0, len(refs)-20):]
	}
	if d.Subject == "" && !d.Closing {
		d.Subject = last
		if !strings.HasPrefix(strings.ToLower(last), "re:") {
			d.Subject = "Re: " + last
		}
	}
	return c, nil
}

// ConversationAttachment returns attachment index of a message of a
// conversation the actor is a party to.
func (s *Store) ConversationAttachment(ctx context.Context, dir *directory.Store, actor *directory.Account, id, row int64, index int) (*Attachment, error) {
	if _, err := s.ConversationOf(ctx, dir, actor, id); err != nil {
		return nil, err
	}
	var blob string
	err := s.db.Read().QueryRowContext(ctx, `SELECT m.blob_key FROM conversation_messages cm JOIN messages m ON m.id = cm.message_row
		WHERE cm.conversation_id = $1 AND cm.message_row = $2`, id, row).Scan(&blob)
	if err != nil {
		return nil, ErrNoSuchConversation
	}
	var m ConversationMessage
	var a Attachment
	if err := s.readParts(ctx, blob, &m, index, &a); err != nil {
		return nil, err
	}
	if a.Name == "" {
		return nil, fmt.Errorf("%w: attachment %d", ErrNoSuchConversation, index)
	}
	return &a, nil
}

// MarkConversationRead sets \Seen on the actor's own unread copies of a
// conversation, through the same path as IMAP STORE so that mail clients
// see the change.
func (s *Store) MarkConversationRead(ctx context.Context, dir *directory.Store, actor *directory.Account, id int64) error {
	if _, err := s.ConversationOf(ctx, dir, actor, id); err != nil {
		return err
	}
	own, err := s.ownAccounts(ctx, dir, actor)
	if err != nil {
		return err
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT m.account_id, m.mailbox_id, m.uid FROM conversation_messages cm JOIN messages m ON m.id = cm.message_row
		WHERE cm.conversation_id = $1 AND m.seen = FALSE`, id)
	if err != nil {
		return fmt.Errorf("mailbox: unread of conversation %d: %w", id, err)
	}
	type key struct{ account, mailbox int64 }
	unread := map[key][]uint32{}
	for rows.Next() {
		var k key
		var uid uint32
		if err := rows.Scan(&k.account, &k.mailbox, &uid); err != nil {
			rows.Close()
			return err
		}
		if own[k.account] {
			unread[k] = append(unread[k], uid)
		}
	}
	rows.Close()
	for k, uids := range unread {
		owner, err := dir.ByID(ctx, k.account)
		if err != nil {
			return err
		}
		a := &Access{s: s, Actor: actor, Owner: owner}
		if _, err := a.StoreFlags(ctx, &Folder{ID: k.mailbox}, uids, FlagsAdd, []string{FlagSeen}); err != nil {
			return err
		}
	}
	return nil
}

// readParts walks a stored message: the first text/plain part becomes
// m.Text and every attachment is listed; when want >= 0 the content of
// that attachment is copied into a.
func (s *Store) readParts(ctx context.Context, blob string, m *ConversationMessage, want int, a *Attachment) error {
	rc, err := s.blobs.Open(ctx, blob)
	if err != nil {
		return fmt.Errorf("mailbox: open message: %w", err)
	}
	defer rc.Close()
	mr, err := mail.CreateReader(rc)
	if err != nil && !isUnknownCharset(err) {
		m.Text = "(message illisible)"
		return nil
	}
	defer mr.Close()
	n := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil && !isUnknownCharset(err) {
			return nil // a malformed part ends what can be shown, not the view
		}
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := h.ContentType()
			if m.Text == "" && (ct == "text/plain" || ct == "") {
				b, _ := io.ReadAll(io.LimitReader(p.Body, 1<<20))
				m.Text = strings.ReplaceAll(string(b), "\r\n", "\n")
			}
		case *mail.AttachmentHeader:
			name, _ := h.Filename()
			ct, _, _ := h.ContentType()
			if ct == "application/pkcs7-signature" || ct == "application/x-pkcs7-signature" {
				continue // the S/MIME signature was checked at delivery
			}
			if name == "" {
				name = fmt.Sprintf("piece-jointe-%d", n+1)
				if exts, _ := mime.ExtensionsByType(ct); len(exts) > 0 {
					name += exts[0]
				}
			}
			if n == want {
				data, err := io.ReadAll(io.LimitReader(p.Body, 64<<20))
				if err != nil {
					return fmt.Errorf("mailbox: read attachment: %w", err)
				}
				*a = Attachment{Name: name, ContentType: ct, Data: data}
				return nil
			}
			size, _ := io.Copy(io.Discard, p.Body)
			m.Attachments = append(m.Attachments, AttachmentInfo{Index: n, Name: name, ContentType: ct, Size: size})
			n++
		}
	}
}

func isUnknownCharset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "unknown charset")
}
