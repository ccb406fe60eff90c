package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// Notify publishes payload on channel to every node sharing this
// PostgreSQL database (NOTIFY; delivered at commit). On SQLite, which one
// process owns, it does nothing: in-process watchers are told directly.
func (d *DB) Notify(ctx context.Context, channel, payload string) error {
	if d.Dialect != Postgres {
		return nil
	}
	_, err := d.w.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, payload)
	return err
}

// Listen calls fn with the payload of every notification on channel until
// ctx ends, reconnecting after a failure. On SQLite it returns at once.
// ready, if set, is called each time the LISTEN is in place.
func (d *DB) Listen(ctx context.Context, channel string, fn func(payload string), ready func()) {
	if d.Dialect != Postgres {
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := d.listenOnce(ctx, channel, fn, ready)
		if ctx.Err() != nil {
			return
		}
		slog.Warn("db: LISTEN connection lost, reconnecting", "channel", channel, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (d *DB) listenOnce(ctx context.Context, channel string, fn func(string), ready func()) error {
	conn, err := d.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("db: not a pgx connection")
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+quoteIdent(channel)); err != nil {
			return fmt.Errorf("db: LISTEN %s: %w", channel, err)
		}
		if ready != nil {
			ready()
		}
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				// The connection is in an unknown state: drop it from the
				// pool rather than return it.
				return errors.Join(err, driver.ErrBadConn)
			}
			fn(n.Payload)
		}
	})
}

func quoteIdent(s string) string {
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}
