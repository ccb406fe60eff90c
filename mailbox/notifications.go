package mailbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"mssanted/db"
)

// Notification kinds.
const (
	NotifyMessage  = "message"  // a new message from a professional or a pharmacy
	NotifyClosed   = "closed"   // the professional closed the conversation
	NotifyDocument = "document" // a new document in the library (the DMP issue)
)

// Notification is one in-app notification of a patient.
type Notification struct {
	ID             int64
	Kind           string
	Title          string
	ConversationID int64
	MessageRow     int64
	Read           bool
	CreatedAt      time.Time
}

// notify records a notification in the delivery transaction, so that a
// delivered message always has its notification and never two.
func addNotification(ctx context.Context, tx *sql.Tx, accountID int64, kind, title string, conversationID, messageRow int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO notifications (account_id, kind, title, conversation_id, message_row, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, accountID, kind, title, conversationID, messageRow, db.Micros(now))
	if err != nil {
		return fmt.Errorf("mailbox: notification: %w", err)
	}
	// The e-mail to the personal address, when the patient gave one, is
	// queued in the same transaction: no notification is ever lost.
	_, err = tx.ExecContext(ctx, `INSERT INTO notify_outbox (account_id, email, kind, created_at, next_at)
		SELECT id, notify_email, $2, $3, $3 FROM accounts WHERE id = $1 AND notify_email <> ''`, accountID, kind, db.Micros(now))
	if err != nil {
		return fmt.Errorf("mailbox: notification e-mail: %w", err)
	}
	return nil
}

// Notifications lists an account's notifications, newest first (at most
// limit), with the number still unread. Callers pass the authenticated
// account's own id: a notification is only ever its owner's.
func (s *Store) Notifications(ctx context.Context, accountID int64, limit int) ([]Notification, int, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var unread int
	if err := s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE account_id = $1 AND read_at IS NULL`, accountID).Scan(&unread); err != nil {
		return nil, 0, fmt.Errorf("mailbox: notifications: %w", err)
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, kind, title, COALESCE(conversation_id, 0), COALESCE(message_row, 0), read_at IS NOT NULL, created_at
		FROM notifications WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("mailbox: notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var created int64
		if err := rows.Scan(&n.ID, &n.Kind, &n.Title, &n.ConversationID, &n.MessageRow, &n.Read, &created); err != nil {
			return nil, 0, err
		}
		n.CreatedAt = db.Time(created)
		out = append(out, n)
	}
	return out, unread, rows.Err()
}

// MarkNotificationsRead marks some (nil: all) of an account's
// notifications read; ids of another account are ignored.
func (s *Store) MarkNotificationsRead(ctx context.Context, accountID int64, ids []int64) error {
	now := db.Now()
	if ids == nil {
		_, err := s.db.Write().ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE account_id = $2 AND read_at IS NULL`, now, accountID)
		return err
	}
	for _, id := range ids {
		if _, err := s.db.Write().ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE id = $2 AND account_id = $3 AND read_at IS NULL`,
			now, id, accountID); err != nil {
			return fmt.Errorf("mailbox: mark read: %w", err)
		}
	}
	return nil
}
