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

// The outbound queue: one row per remote recipient, written in the same
// transaction as the local copies, so an accepted message is never lost.
// Workers (smtpd's outbound sender) claim due rows with a lease, deliver,
// then mark them. A crash between the remote server's 250 and our mark
// sends the message again after the lease expires: that duplicate is the
// only one the queue can make (at-least-once; RFC 5321 6.1 prefers it).

type outboundRow struct {
	dedupe, from string
	rcpt         Recipient
	envID, ret   string
	blobKey      string
	size         int64
	now          time.Time
}

func enqueue(ctx context.Context, tx *sql.Tx, o *outboundRow) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO outbound (dedupe_key, envelope_from, rcpt, domain, orcpt, notify, ret, envid,
		blob_key, size, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
		ON CONFLICT (dedupe_key, rcpt) DO NOTHING`,
		o.dedupe, o.from, o.rcpt.Address, directory.Domain(o.rcpt.Address), o.rcpt.ORCPT, strings.Join(o.rcpt.Notify, ","),
		o.ret, o.envID, o.blobKey, o.size, db.Micros(o.now))
	if err != nil {
		return fmt.Errorf("mailbox: enqueue %s: %w", o.rcpt.Address, err)
	}
	return nil
}

// Queue states.
const (
	Queued = "queued"
	Sent   = "sent"
	Failed = "failed"
)

// Outbound is one queued remote recipient.
type Outbound struct {
	ID            int64
	EnvelopeFrom  string
	Rcpt          string
	Domain        string
	ORCPT         string
	Notify        []string
	Ret           string
	EnvID         string
	BlobKey       string
	Size          int64
	State         string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	DelayNotified bool
	CreatedAt     time.Time
}

const outboundColumns = `id, envelope_from, rcpt, domain, orcpt, notify, ret, envid, blob_key, size, state, attempts,
	next_attempt_at, last_error, delay_notified, created_at`

func scanOutbound(sc interface{ Scan(...any) error }) (*Outbound, error) {
	var o Outbound
	var notify string
	var next, created int64
	if err := sc.Scan(&o.ID, &o.EnvelopeFrom, &o.Rcpt, &o.Domain, &o.ORCPT, &notify, &o.Ret, &o.EnvID, &o.BlobKey, &o.Size,
		&o.State, &o.Attempts, &next, &o.LastError, &o.DelayNotified, &created); err != nil {
		return nil, err
	}
	if notify != "" {
		o.Notify = strings.Split(notify, ",")
	}
	o.NextAttemptAt, o.CreatedAt = db.Time(next), db.Time(created)
	return &o, nil
}

// ClaimDue leases up to limit due rows to the caller for lease, and returns
// them. Another worker (or node) will not claim them until the lease ends.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Outbound, error) {
	var out []Outbound
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		out = nil
		q := `SELECT ` + outboundColumns + ` FROM outbound WHERE state = 'queued' AND next_attempt_at <= $1 AND locked_until <= $1
			ORDER BY next_attempt_at LIMIT $2`
		if s.db.Dialect == db.Postgres {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		rows, err := tx.QueryContext(ctx, q, db.Micros(now), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			o, err := scanOutbound(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, *o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, o := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE outbound SET locked_until = $1 WHERE id = $2`, db.Micros(now.Add(lease)), o.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox: claim outbound: %w", err)
	}
	return out, nil
}

// MarkSent records a successful remote delivery.
func (s *Store) MarkSent(ctx context.Context, id int64, now time.Time) error {
	return s.setOutbound(ctx, id, `state = 'sent', attempts = attempts + 1, done_at = $2, locked_until = 0, last_error = ''`, db.Micros(now))
}

// MarkRetry records a failed attempt and when to try again.
func (s *Store) MarkRetry(ctx context.Context, id int64, next time.Time, reason string, delayNotified bool) error {
	return s.setOutbound(ctx, id, `attempts = attempts + 1, next_attempt_at = $2, locked_until = 0, last_error = $3, delay_notified = $4`,
		db.Micros(next), reason, delayNotified)
}

// MarkFailed records a final failure.
func (s *Store) MarkFailed(ctx context.Context, id int64, now time.Time, reason string) error {
	return s.setOutbound(ctx, id, `state = 'failed', attempts = attempts + 1, done_at = $2, locked_until = 0, last_error = $3`, db.Micros(now), reason)
}

func (s *Store) setOutbound(ctx context.Context, id int64, set string, args ...any) error {
	res, err := s.db.Write().ExecContext(ctx, `UPDATE outbound SET `+set+` WHERE id = $1`, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("mailbox: update outbound %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("mailbox: outbound %d: %w", id, ErrNoSuchEntry)
	}
	return nil
}

// ErrNoSuchEntry is returned for an unknown queue id.
var ErrNoSuchEntry = errors.New("no such queue entry")

// QueueList returns queue entries, all states when state is empty.
func (s *Store) QueueList(ctx context.Context, state string) ([]Outbound, error) {
	q := `SELECT ` + outboundColumns + ` FROM outbound`
	var args []any
	if state != "" {
		q += ` WHERE state = $1`
		args = append(args, state)
	}
	rows, err := s.db.Read().QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("mailbox: queue list: %w", err)
	}
	defer rows.Close()
	var out []Outbound
	for rows.Next() {
		o, err := scanOutbound(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *o)
	}
	return out, rows.Err()
}

// QueueRetry makes a queued or failed entry due now.
func (s *Store) QueueRetry(ctx context.Context, id int64, now time.Time) error {
	return s.setOutbound(ctx, id, `state = 'queued', next_attempt_at = $2, locked_until = 0`, db.Micros(now))
}

// QueueDrop removes an entry without sending it or any report.
func (s *Store) QueueDrop(ctx context.Context, id int64) error {
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM outbound WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("mailbox: drop %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("mailbox: outbound %d: %w", id, ErrNoSuchEntry)
	}
	return nil
}

// QueueLen counts the entries still to send.
func (s *Store) QueueLen(ctx context.Context) (int, error) {
	var n int
	err := s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM outbound WHERE state = 'queued'`).Scan(&n)
	return n, err
}
