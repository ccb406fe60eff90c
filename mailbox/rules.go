package mailbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"mssanted/db"
	"mssanted/directory"
)

// The messaging rules (domain.md, "Messaging rules"), enforced here so that
// SMTP, the web app and the API cannot disagree:
//
//  1. only a professional starts a conversation with a patient;
//  2. the patient replies while the professional has not closed it;
//  3. a patient never writes to a patient;
//  4. a patient may write first to a pharmacy reachable by patients;
//  5. professionals write to each other freely.

// Conversation states.
const (
	ConversationOpen   = "open"
	ConversationClosed = "closed"
)

// party is who a rule looks at: a local account, or an address of
// another operator (a professional: the trust space joins operators of
// professionals).
type party struct {
	address string
	account *directory.Account
}

func (p party) isPatient() bool { return p.account != nil && p.account.Role == directory.Patient }

func (p party) name() string {
	if p.account != nil {
		return p.account.DisplayName
	}
	return p.address
}

// sender resolves who is writing: the account the From belongs to (the
// authenticated user, or the ORG mailbox its staff sends as), or a remote
// professional on the MX.
func (t *Transaction) sender(ctx context.Context) (party, error) {
	from := strings.ToLower(t.env.From)
	if t.env.Auth != nil && from == t.env.Auth.Address {
		return party{address: from, account: t.env.Auth}, nil
	}
	if local, err := t.p.Dir.IsLocal(ctx, from); err != nil || !local {
		return party{address: from}, err
	}
	a, err := t.p.Dir.ByAddress(ctx, from)
	if errors.Is(err, directory.ErrNotFound) {
		return party{address: from}, nil
	}
	return party{address: from, account: a}, err
}

// checkRules refuses a recipient the rules forbid for this sender, with a
// 5.7.1 reply a person understands.
func (t *Transaction) checkRules(ctx context.Context, r *Recipient) error {
	if t.env.Door == System || t.env.From == "" {
		return nil // reports (MDN, DSN) answer a message; they start nothing
	}
	s, err := t.sender(ctx)
	if err != nil {
		return err
	}
	if !s.isPatient() {
		return nil // rule 5, and rule 1 from the professional's side
	}
	to := party{address: r.Address, account: r.account}
	switch {
	case to.isPatient():
		return refuse(550, 5, 7, 1, "Un patient ne peut pas écrire à un autre patient",
			"A patient cannot write to another patient")
	case to.account != nil && to.account.Role == directory.Pharmacy:
		if to.account.Pharmacy == nil || !to.account.Pharmacy.ReachableByPatients {
			return refuse(550, 5, 7, 1, "Cette pharmacie ne reçoit pas de messages des patients",
				"This pharmacy does not accept messages from patients")
		}
		return nil // rule 4: a patient may write first to a pharmacy
	}
	c, err := t.p.Store.conversation(ctx, t.p.Store.db.Read(), to.address, s.account.ID)
	switch {
	case errors.Is(err, errNoConversation):
		return refuse(550, 5, 7, 1, "Seul un professionnel de santé peut commencer une conversation avec vous",
			"Only a health professional can start a conversation with you")
	case err != nil:
		return err
	case c.State == ConversationClosed:
		name := c.ProName
		if name == "" {
			name = to.name()
		}
		return refuse(550, 5, 7, 1, name+" a mis fin à vos échanges", name+" has closed this conversation")
	}
	return nil
}

// Conversation is the state of a professional–patient pair.
type Conversation struct {
	ID         int64
	ProAddress string
	ProName    string
	PatientID  int64
	State      string
	StartedBy  string
	Subject    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

var errNoConversation = errors.New("no conversation")

func (s *Store) conversation(ctx context.Context, q db.Querier, proAddress string, patientID int64) (*Conversation, error) {
	var c Conversation
	var created, updated int64
	err := q.QueryRowContext(ctx, `SELECT id, pro_address, pro_name, patient_id, state, started_by, subject, created_at, updated_at
		FROM conversations WHERE pro_address = $1 AND patient_id = $2`, strings.ToLower(proAddress), patientID).
		Scan(&c.ID, &c.ProAddress, &c.ProName, &c.PatientID, &c.State, &c.StartedBy, &c.Subject, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoConversation
	}
	if err != nil {
		return nil, fmt.Errorf("mailbox: conversation: %w", err)
	}
	c.CreatedAt, c.UpdatedAt = db.Time(created), db.Time(updated)
	return &c, nil
}

// ConversationBetween returns the conversation of a professional (or ORG)
// address and a patient, or ErrNoSuchConversation.
func (s *Store) ConversationBetween(ctx context.Context, proAddress string, patientID int64) (*Conversation, error) {
	c, err := s.conversation(ctx, s.db.Read(), proAddress, patientID)
	if errors.Is(err, errNoConversation) {
		return nil, ErrNoSuchConversation
	}
	return c, err
}

// Conversations lists a patient's conversations, latest first.
func (s *Store) Conversations(ctx context.Context, patientID int64) ([]Conversation, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, pro_address, pro_name, patient_id, state, started_by, subject, created_at, updated_at
		FROM conversations WHERE patient_id = $1 ORDER BY updated_at DESC`, patientID)
	if err != nil {
		return nil, fmt.Errorf("mailbox: conversations: %w", err)
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		var c Conversation
		var created, updated int64
		if err := rows.Scan(&c.ID, &c.ProAddress, &c.ProName, &c.PatientID, &c.State, &c.StartedBy, &c.Subject, &created, &updated); err != nil {
			return nil, err
		}
		c.CreatedAt, c.UpdatedAt = db.Time(created), db.Time(updated)
		out = append(out, c)
	}
	return out, rows.Err()
}

// isClosing tells whether a professional's message ends the conversation
// (reference.md: subject exactly "[FIN]" or X-MSS-MES: FIN).
func isClosing(subject, mes string) bool {
	return strings.TrimSpace(subject) == "[FIN]" || strings.EqualFold(strings.TrimSpace(mes), "FIN")
}

// recordConversation updates the conversation a delivered message belongs
// to, in the delivery transaction: a professional's message opens (or
// reopens) it, or closes it; a patient's message to a pharmacy opens it.
//
// It returns the conversation (0 when the pair is not professional–patient)
// and the direction, so a sender's Sent copy can be linked to it too.
func recordConversation(ctx context.Context, tx *sql.Tx, s party, r party, msgRow int64, subject string, closing bool, now time.Time) (int64, string, error) {
	var pro, pat party
	direction := "to_patient"
	switch {
	case r.isPatient() && !s.isPatient():
		pro, pat = s, r
	case s.isPatient() && !r.isPatient():
		pro, pat, direction = r, s, "from_patient"
		closing = false // only the professional closes
	default:
		return 0, "", nil
	}
	state := ConversationOpen
	var closedAt *int64
	us := db.Micros(now)
	if closing {
		state, closedAt = ConversationClosed, &us
	}
	startedBy := "professional"
	if direction == "from_patient" {
		startedBy = "patient"
	}
	// A patient's message changes the state only when it is to a pharmacy
	// (rule 4: writing first reopens); a reply racing with the closing
	// must not reopen the conversation.
	onConflict := `UPDATE SET state = excluded.state, updated_at = excluded.updated_at, closed_at = excluded.closed_at, pro_name = excluded.pro_name`
	if direction == "from_patient" && !(pro.account != nil && pro.account.Role == directory.Pharmacy) {
		onConflict = `UPDATE SET updated_at = excluded.updated_at`
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO conversations (pro_address, pro_name, patient_id, state, started_by, subject, created_at, updated_at, closed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
		ON CONFLICT (pro_address, patient_id) DO `+onConflict+`
		RETURNING id`, pro.address, pro.name(), pat.account.ID, state, startedBy, subject, us, closedAt).Scan(&id)
	if err != nil {
		return 0, "", fmt.Errorf("mailbox: conversation: %w", err)
	}
	if msgRow == 0 {
		return id, direction, nil
	}
	if err := linkMessage(ctx, tx, id, msgRow, direction, closing, now); err != nil || direction != "to_patient" {
		return id, direction, err
	}
	// Rule 6: the patient is notified of each new message; the closing
	// one says so in the words the app shows.
	if closing {
		err = addNotification(ctx, tx, pat.account.ID, NotifyClosed, pro.name()+" a mis fin à vos échanges", id, msgRow, now)
	} else {
		err = addNotification(ctx, tx, pat.account.ID, NotifyMessage, "Nouveau message de "+pro.name(), id, msgRow, now)
	}
	return id, direction, err
}

// linkMessage joins a stored message (a recipient's copy or the sender's
// Sent copy) to its conversation.
func linkMessage(ctx context.Context, tx *sql.Tx, convID, msgRow int64, direction string, closing bool, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO conversation_messages (conversation_id, message_row, direction, closing, at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, convID, msgRow, direction, closing, db.Micros(now))
	if err != nil {
		return fmt.Errorf("mailbox: link message to conversation: %w", err)
	}
	return nil
}
