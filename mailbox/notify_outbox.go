package mailbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"mssanted/db"
)

// NotifyEmail is a batch of e-mail notifications due to one personal
// address: one mail says that N new things are waiting.
type NotifyEmail struct {
	AccountID int64
	Email     string
	IDs       []int64  // the outbox rows this mail covers
	Kinds     []string // one per row: message, closed, document
	Attempts  int      // the most attempts among the rows
}

// ClaimNotifications leases the due e-mail notifications, grouped by
// address, for lease; another worker or node skips them meanwhile.
func (s *Store) ClaimNotifications(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]NotifyEmail, error) {
	var out []NotifyEmail
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		out = nil
		q := `SELECT id, account_id, email, kind, attempts FROM notify_outbox
			WHERE sent_at IS NULL AND failed_at IS NULL AND next_at <= $1 ORDER BY account_id, id LIMIT $2`
		if s.db.Dialect == db.Postgres {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		rows, err := tx.QueryContext(ctx, q, db.Micros(now), limit)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id, account int64
			var email, kind string
			var attempts int
			if err := rows.Scan(&id, &account, &email, &kind, &attempts); err != nil {
				rows.Close()
				return err
			}
			if n := len(out); n == 0 || out[n-1].AccountID != account || out[n-1].Email != email {
				out = append(out, NotifyEmail{AccountID: account, Email: email})
			}
			e := &out[len(out)-1]
			e.IDs, e.Kinds = append(e.IDs, id), append(e.Kinds, kind)
			e.Attempts = max(e.Attempts, attempts)
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE notify_outbox SET next_at = $1 WHERE id = $2`, db.Micros(now.Add(lease)), id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox: claim notifications: %w", err)
	}
	return out, nil
}

// NotificationsSent records that the mail covering these rows was relayed.
func (s *Store) NotificationsSent(ctx context.Context, ids []int64, now time.Time) error {
	return s.setNotify(ctx, ids, `sent_at = $2, attempts = attempts + 1, last_error = ''`, db.Micros(now))
}

// NotificationsRetry records a failed attempt and when to try again.
func (s *Store) NotificationsRetry(ctx context.Context, ids []int64, next time.Time, reason string) error {
	return s.setNotify(ctx, ids, `next_at = $2, attempts = attempts + 1, last_error = $3`, db.Micros(next), reason)
}

// NotificationsFailed gives up on these rows: the in-app notification
// stays, only the e-mail is abandoned.
func (s *Store) NotificationsFailed(ctx context.Context, ids []int64, now time.Time, reason string) error {
	return s.setNotify(ctx, ids, `failed_at = $2, attempts = attempts + 1, last_error = $3`, db.Micros(now), reason)
}

func (s *Store) setNotify(ctx context.Context, ids []int64, set string, args ...any) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE notify_outbox SET `+set+` WHERE id = $1`, append([]any{id}, args...)...); err != nil {
				return fmt.Errorf("mailbox: notify outbox %d: %w", id, err)
			}
		}
		return nil
	})
}
