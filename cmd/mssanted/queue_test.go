package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"mssanted/directory"
	"mssanted/mailbox"
)

func TestQueueCommands(t *testing.T) {
	data := t.TempDir()
	mustMSS(t, "", "init", "--data", data, "--domain", "chu.example")

	out := mustMSS(t, "", "queue", "list", "--data", data)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("empty queue lists:\n%s", out)
	}
	for _, args := range [][]string{
		{"queue", "retry", "--data", data, "--id", "999"},
		{"queue", "drop", "--data", data, "--id", "999"},
		{"queue", "retry", "--data", data},
		{"queue", "list", "--data", data, "--state", "stuck"},
		{"queue", "purge", "--data", data},
	} {
		if _, errs, code := mss(t, "", args...); code != 2 {
			t.Errorf("mssanted %s: exit %d, want 2\n%s", strings.Join(args, " "), code, errs)
		}
	}

	// One queued message for another operator, put there through the
	// pipeline as the submission door would.
	ctx := context.Background()
	in, err := openInstance(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := in.dir.Create(ctx, directory.NewAccount{Address: "dr@chu.example", Role: directory.Professional, DisplayName: "Dr A",
		Password: testPassword, Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000001"), Profession: "Médecin"}})
	if err != nil {
		in.Close()
		t.Fatal(err)
	}
	pl, err := in.pipeline(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		in.Close()
		t.Fatal(err)
	}
	tx := pl.Begin(mailbox.Envelope{Door: mailbox.Submission, From: doc.Address, Auth: doc, TLS: "TLS 1.3"})
	if err := tx.AddRecipient(ctx, mailbox.Recipient{Address: "b@autre.example"}); err != nil {
		in.Close()
		t.Fatal(err)
	}
	if _, err := tx.Deliver(ctx, strings.NewReader("Subject: x\r\n\r\nbody\r\n")); err != nil {
		in.Close()
		t.Fatal(err)
	}
	rows, err := in.mail.QueueList(ctx, mailbox.Queued)
	in.Close()
	if err != nil || len(rows) != 1 {
		t.Fatalf("queue %+v, %v", rows, err)
	}
	id := fmt.Sprint(rows[0].ID)

	out = mustMSS(t, "", "queue", "list", "--data", data, "--state", "queued")
	if !strings.Contains(out, "b@autre.example") || !strings.Contains(out, "dr@chu.example") {
		t.Errorf("queue list:\n%s", out)
	}
	if out := mustMSS(t, "", "queue", "list", "--data", data, "--state", "sent"); strings.Contains(out, "b@autre.example") {
		t.Errorf("queue list --state sent:\n%s", out)
	}
	mustMSS(t, "", "queue", "retry", "--data", data, "--id", id)
	mustMSS(t, "", "queue", "drop", "--data", data, "--id", id)
	if _, _, code := mss(t, "", "queue", "drop", "--data", data, "--id", id); code != 2 {
		t.Errorf("drop twice: exit %d, want 2", code)
	}
}
