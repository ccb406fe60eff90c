// Package mailbox is the mail store: every account's folders, their
// messages (bodies in the blob store), UIDs, flags and the MODSEQ changelog,
// and the delivery pipeline that fills them. It knows nothing of SMTP or
// IMAP: the doors call it with its own types.
package mailbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"mssanted/db"
)

// The folders every account has (RFC 6154 special-use attributes).
var DefaultFolders = []struct{ Name, SpecialUse string }{
	{"INBOX", ""},
	{"Sent", `\Sent`},
	{"Drafts", `\Drafts`},
	{"Trash", `\Trash`},
	{"Archive", `\Archive`},
	{"Junk", `\Junk`},
}

// Store is the mail store over the database and the blob store.
type Store struct {
	db    *db.DB
	blobs db.BlobStore

	mu      sync.Mutex
	watches map[int64]map[chan struct{}]struct{}
}

// New returns the store.
func New(d *db.DB, blobs db.BlobStore) *Store {
	return &Store{db: d, blobs: blobs, watches: map[int64]map[chan struct{}]struct{}{}}
}

// Blobs is the blob store holding message bodies.
func (s *Store) Blobs() db.BlobStore { return s.blobs }

// ensureFolders creates the default folders of an account if it has none,
// and returns the id of its INBOX. Two deliveries racing to create them both
// succeed: ON CONFLICT lets the second one find the first one's rows.
func ensureFolders(ctx context.Context, tx *sql.Tx, accountID int64) (int64, error) {
	var inbox int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'`, accountID).Scan(&inbox)
	if err == nil {
		return inbox, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("mailbox: inbox of %d: %w", accountID, err)
	}
	for _, f := range DefaultFolders {
		var special *string
		if f.SpecialUse != "" {
			special = &f.SpecialUse
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO mailboxes (account_id, name, special_use, uidvalidity, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, name) DO NOTHING`, accountID, f.Name, special, newUIDValidity(), db.Now())
		if err != nil {
			return 0, fmt.Errorf("mailbox: create %s for %d: %w", f.Name, accountID, err)
		}
	}
	if err := tx.QueryRowContext(ctx, `SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'`, accountID).Scan(&inbox); err != nil {
		return 0, fmt.Errorf("mailbox: inbox of %d: %w", accountID, err)
	}
	return inbox, nil
}

// newUIDValidity returns a non-zero 32-bit value (RFC 3501 2.3.1.1); a
// folder recreated under the same name gets another one.
func newUIDValidity() int64 { return int64(rand.Uint32N(1<<31-1)) + 1 }

// appendMessage stores one message row in a folder: next UID, next MODSEQ,
// and the changelog row, in the caller's transaction.
func appendMessage(ctx context.Context, tx *sql.Tx, d *db.DB, m *stored) (int64, error) {
	var uid, modseq int64
	err := tx.QueryRowContext(ctx, `SELECT uidnext, highest_modseq FROM mailboxes WHERE id = $1`+d.ForUpdate(), m.mailboxID).Scan(&uid, &modseq)
	if err != nil {
		return 0, fmt.Errorf("mailbox: lock folder %d: %w", m.mailboxID, err)
	}
	modseq++
	if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET uidnext = $1, highest_modseq = $2 WHERE id = $3`, uid+1, modseq, m.mailboxID); err != nil {
		return 0, fmt.Errorf("mailbox: bump folder %d: %w", m.mailboxID, err)
	}
	var id int64
	flags := splitFlags(m.flags)
	err = tx.QueryRowContext(ctx, `INSERT INTO messages (account_id, mailbox_id, uid, modseq, flags, seen, deleted, blob_key, size, internal_date,
		envelope_from, message_id, in_reply_to, subject, from_header, trace,
		smime_signed, smime_verified, smime_encrypted, smime_signer, smime_problem, evidence_blob)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) RETURNING id`,
		m.accountID, m.mailboxID, uid, modseq, m.flags, hasFlag(flags, FlagSeen), hasFlag(flags, FlagDeleted), m.blobKey, m.size, m.internalDate,
		m.envelopeFrom, m.messageID, m.inReplyTo, m.subject, m.from, m.trace,
		m.smimeSigned, m.smimeVerified, m.smimeEncrypted, m.smimeSigner, m.smimeProblem, m.evidence).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("mailbox: insert message: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO changes (mailbox_id, modseq, uid, kind, at) VALUES ($1, $2, $3, 'append', $4)`,
		m.mailboxID, modseq, uid, db.Now()); err != nil {
		return 0, fmt.Errorf("mailbox: changelog: %w", err)
	}
	return id, nil
}

// appendToSpecial files m in the account's folder of that special use
// (RFC 6154), e.g. \Sent or \Drafts, creating the default folders first.
func appendToSpecial(ctx context.Context, tx *sql.Tx, d *db.DB, m *stored, specialUse string) (int64, int64, error) {
	if _, err := ensureFolders(ctx, tx, m.accountID); err != nil {
		return 0, 0, err
	}
	err := tx.QueryRowContext(ctx, `SELECT id FROM mailboxes WHERE account_id = $1 AND special_use = $2 ORDER BY id LIMIT 1`,
		m.accountID, specialUse).Scan(&m.mailboxID)
	if err != nil {
		return 0, 0, fmt.Errorf("mailbox: %s folder of %d: %w", specialUse, m.accountID, err)
	}
	row, err := appendMessage(ctx, tx, d, m)
	return m.mailboxID, row, err
}

// stored is a message row to insert.
type stored struct {
	accountID, mailboxID int64
	flags                string
	blobKey              string
	size                 int64
	internalDate         int64
	envelopeFrom         string
	messageID, inReplyTo string
	subject, from, trace string

	smimeSigned, smimeVerified, smimeEncrypted bool
	smimeSigner, smimeProblem                  string
	evidence                                   string // blob key of the original CMS
}

// Watch returns a channel that receives a value (coalesced) whenever a
// committed change touches the folder, and a function to stop watching.
// This is the in-process half of change notification; IDLE sessions use it.
func (s *Store) Watch(mailboxID int64) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	if s.watches[mailboxID] == nil {
		s.watches[mailboxID] = map[chan struct{}]struct{}{}
	}
	s.watches[mailboxID][ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.watches[mailboxID], ch)
		if len(s.watches[mailboxID]) == 0 {
			delete(s.watches, mailboxID)
		}
		s.mu.Unlock()
	}
}

// changesChannel is the PostgreSQL NOTIFY channel on which nodes sharing a
// database tell each other which folders changed.
const changesChannel = "mssanted_changes"

// notify wakes the watchers of the folders after a commit: in this process
// directly, and on the other nodes through PostgreSQL NOTIFY.
func (s *Store) notify(mailboxIDs ...int64) {
	if len(mailboxIDs) == 0 {
		return
	}
	s.notifyLocal(mailboxIDs...)
	if s.db.Dialect == db.Postgres {
		parts := make([]string, len(mailboxIDs))
		for i, id := range mailboxIDs {
			parts[i] = strconv.FormatInt(id, 10)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// A lost notification delays an IDLE client until its next poll;
		// it loses nothing.
		if err := s.db.Notify(ctx, changesChannel, strings.Join(parts, ",")); err != nil {
			slog.Warn("mailbox: notify other nodes", "err", err)
		}
	}
}

// ListenChanges relays the other nodes' change notifications to this
// node's watchers until ctx ends (PostgreSQL only; returns at once on
// SQLite). ready is called once the listener is in place.
func (s *Store) ListenChanges(ctx context.Context, ready func()) {
	s.db.Listen(ctx, changesChannel, func(payload string) {
		var ids []int64
		for _, p := range strings.Split(payload, ",") {
			if id, err := strconv.ParseInt(p, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
		s.notifyLocal(ids...)
	}, ready)
}

func (s *Store) notifyLocal(mailboxIDs ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range mailboxIDs {
		for ch := range s.watches[id] {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// Summary is one message as lists show it.
type Summary struct {
	ID           int64
	MailboxID    int64
	UID          int64
	Flags        string
	Size         int64
	InternalDate int64
	EnvelopeFrom string
	MessageID    string
	Subject      string
	From         string
	BlobKey      string
	Trace        string
	// What S/MIME said: the web app shows "signé par …, vérifié".
	SMIMESigned, SMIMEVerified, SMIMEEncrypted bool
	SMIMESigner, SMIMEProblem                  string
	EvidenceBlob                               string
}

// Inbox lists the messages of an account's INBOX in UID order. Callers are
// doors acting for the account itself: authorization is that accountID is
// the authenticated account (or an ORG mailbox it is staff of).
func (s *Store) Inbox(ctx context.Context, accountID int64) ([]Summary, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT m.id, m.mailbox_id, m.uid, m.flags, m.size, m.internal_date, m.envelope_from,
		m.message_id, m.subject, m.from_header, m.blob_key, m.trace,
		m.smime_signed, m.smime_verified, m.smime_encrypted, m.smime_signer, m.smime_problem, m.evidence_blob
		FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
		WHERE b.account_id = $1 AND b.name = 'INBOX' ORDER BY m.uid`, accountID)
	if err != nil {
		return nil, fmt.Errorf("mailbox: inbox: %w", err)
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var m Summary
		if err := rows.Scan(&m.ID, &m.MailboxID, &m.UID, &m.Flags, &m.Size, &m.InternalDate, &m.EnvelopeFrom,
			&m.MessageID, &m.Subject, &m.From, &m.BlobKey, &m.Trace,
			&m.SMIMESigned, &m.SMIMEVerified, &m.SMIMEEncrypted, &m.SMIMESigner, &m.SMIMEProblem, &m.EvidenceBlob); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// EnsureFolders creates the default folders of an account if needed and
// returns the id of its INBOX.
func (s *Store) EnsureFolders(ctx context.Context, accountID int64) (int64, error) {
	var inbox int64
	// Every login calls this: read first, so that only an account's first
	// use takes the (single, on SQLite) write lock.
	err := s.db.Read().QueryRowContext(ctx, `SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'`, accountID).Scan(&inbox)
	if err == nil {
		return inbox, nil
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		inbox, err = ensureFolders(ctx, tx, accountID)
		return err
	})
	return inbox, err
}
