package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"mssanted/mailbox"
)

// cmdQueue is the administrator's view of the outbound queue (mail for
// other operators): list it, make an entry due now, or drop one. A running
// server picks a retried entry up at its next poll.
func cmdQueue(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("queue: list, retry or drop")
	}
	switch args[0] {
	case "list":
		return queueList(ctx, args[1:], stdout, stderr)
	case "retry", "drop":
		return queueAct(ctx, args[0], args[1:], stdout, stderr)
	}
	return usagef("queue: unknown subcommand %q", args[0])
}

func queueList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("queue list", stderr)
	state := fs.String("state", "", "only entries in this state: queued, sent or failed")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch *state {
	case "", mailbox.Queued, mailbox.Sent, mailbox.Failed:
	default:
		return usagef("queue list: --state must be queued, sent or failed, not %q", *state)
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	rows, err := in.mail.QueueList(ctx, *state)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tFROM\tTO\tSIZE\tQUEUED\tATTEMPTS\tNEXT ATTEMPT\tLAST ERROR")
	for _, r := range rows {
		from := r.EnvelopeFrom
		if from == "" {
			from = "<>" // a report
		}
		next := "-"
		if r.State == mailbox.Queued {
			next = r.NextAttemptAt.Local().Format(time.DateTime)
		}
		lastErr := strings.Join(strings.Fields(r.LastError), " ")
		if lastErr == "" {
			lastErr = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", r.ID, r.State, from, r.Rcpt, r.Size,
			r.CreatedAt.Local().Format(time.DateTime), r.Attempts, next, lastErr)
	}
	return tw.Flush()
}

// queueAct retries or drops one entry. Retrying a sent entry is refused:
// it would send the message a second time.
func queueAct(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("queue "+verb, stderr)
	id := fs.Int64("id", 0, "queue entry id (see queue list)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *id <= 0 {
		return usagef("queue %s: --id N is required", verb)
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	rows, err := in.mail.QueueList(ctx, "")
	if err != nil {
		return err
	}
	var entry *mailbox.Outbound
	for i := range rows {
		if rows[i].ID == *id {
			entry = &rows[i]
		}
	}
	if entry == nil {
		return usagef("queue %s: no queue entry %d", verb, *id)
	}
	switch verb {
	case "retry":
		if entry.State == mailbox.Sent {
			return usagef("queue retry: entry %d was already sent to %s", *id, entry.Rcpt)
		}
		err = in.mail.QueueRetry(ctx, *id, time.Now())
	case "drop":
		err = in.mail.QueueDrop(ctx, *id)
	}
	if errors.Is(err, mailbox.ErrNoSuchEntry) {
		return usagef("queue %s: no queue entry %d", verb, *id) // dropped meanwhile
	}
	if err != nil {
		return err
	}
	if verb == "retry" {
		fmt.Fprintf(stdout, "queue entry %d (%s) is due now\n", *id, entry.Rcpt)
	} else {
		fmt.Fprintf(stdout, "queue entry %d (%s) dropped, no report sent\n", *id, entry.Rcpt)
	}
	return nil
}
