package mailbox_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"

	"mssanted/db"
	"mssanted/mailbox"
)

const dsnOriginal = "Received: by mail.hopital.example (mssanted) with ESMTPSA;\r\n\tMon, 2 Jun 2025 10:00:00 +0200\r\n" +
	"From: Dr A <dr@hopital.example>\r\nTo: <b@autre.example>\r\nSubject: Compte rendu\r\nMessage-ID: <cr1@hopital.example>\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\nle compte rendu est joint.\r\n"

// dsnParts is a parsed DSN: its header, the human text, the per-message
// fields, the per-recipient field blocks, and the third part.
type dsnParts struct {
	hdr       gomessage.Header
	text      string
	perMsg    textproto.Header
	perRcpt   []textproto.Header
	origType  string
	origBytes []byte
}

func parseDSN(t *testing.T, raw []byte) *dsnParts {
	t.Helper()
	e, err := gomessage.Read(bytes.NewReader(raw))
	must(t, err)
	ct, params, err := e.Header.ContentType()
	must(t, err)
	if ct != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("Content-Type %s %v", ct, params)
	}
	p := &dsnParts{hdr: e.Header}
	mr := e.MultipartReader()
	var types []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		must(t, err)
		pt, _, _ := part.Header.ContentType()
		types = append(types, pt)
		body, err := io.ReadAll(part.Body)
		must(t, err)
		switch len(types) {
		case 1:
			p.text = string(body)
		case 2:
			br := bufio.NewReader(bytes.NewReader(body))
			p.perMsg, err = textproto.ReadHeader(br)
			must(t, err)
			for {
				if _, err := br.Peek(1); err == io.EOF {
					break
				}
				h, err := textproto.ReadHeader(br)
				must(t, err)
				p.perRcpt = append(p.perRcpt, h)
			}
		case 3:
			p.origType, p.origBytes = pt, body
		}
	}
	if len(types) < 2 || types[0] != "text/plain" || types[1] != "message/delivery-status" {
		t.Fatalf("parts %v", types)
	}
	return p
}

func TestBuildDSNFailedFull(t *testing.T) {
	arrival := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	raw := mailbox.BuildDSN(mailbox.DSN{
		Hostname: "mail.hopital.example", To: "dr@hopital.example", EnvID: "ENV-42", Arrival: arrival,
		Date: arrival.Add(time.Hour), Ret: "FULL", Original: []byte(dsnOriginal),
		Recipients: []mailbox.DSNRecipient{{
			OriginalRecipient: "RFC822;B@autre.example", FinalRecipient: "b@autre.example",
			Action: mailbox.ActionFailed, Status: "5.1.1", RemoteMTA: "mx.autre.example",
			Reply: "550 5.1.1 Unknown user\r\nInjected: yes", LastAttempt: arrival.Add(time.Hour),
		}},
	})
	p := parseDSN(t, raw)
	if got := p.hdr.Get("From"); got != "Mail Delivery System <MAILER-DAEMON@mail.hopital.example>" {
		t.Errorf("From %q", got)
	}
	if p.hdr.Get("Auto-Submitted") != "auto-replied" || p.hdr.Get("To") != "<dr@hopital.example>" || p.hdr.Get("In-Reply-To") != "<cr1@hopital.example>" {
		t.Errorf("header %v", p.hdr)
	}
	if subj, _ := p.hdr.Text("Subject"); !strings.Contains(subj, "Non distribué") || !strings.Contains(subj, "Compte rendu") {
		t.Errorf("Subject %q", subj)
	}
	fr, en := strings.Index(p.text, "n'a pas pu être remis"), strings.Index(p.text, "could not be delivered")
	if fr < 0 || en < 0 || fr > en || !strings.Contains(p.text, "550 5.1.1 Unknown user") {
		t.Errorf("text (French first, then English):\n%s", p.text)
	}
	for k, want := range map[string]string{"Reporting-MTA": "dns;mail.hopital.example", "Original-Envelope-Id": "ENV-42",
		"Arrival-Date": arrival.Format(time.RFC1123Z)} {
		if got := p.perMsg.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if len(p.perRcpt) != 1 {
		t.Fatalf("%d recipient blocks", len(p.perRcpt))
	}
	r := p.perRcpt[0]
	for k, want := range map[string]string{"Original-Recipient": "rfc822;B@autre.example", "Final-Recipient": "rfc822;b@autre.example",
		"Action": "failed", "Status": "5.1.1", "Remote-MTA": "dns;mx.autre.example",
		"Diagnostic-Code": "smtp; 550 5.1.1 Unknown user Injected: yes", "Last-Attempt-Date": arrival.Add(time.Hour).Format(time.RFC1123Z)} {
		if got := r.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if r.Has("Injected") || r.Has("Will-Retry-Until") {
		t.Errorf("unexpected fields: %v", r)
	}
	if p.origType != "message/rfc822" || string(p.origBytes) != dsnOriginal {
		t.Errorf("RET=FULL: third part %s:\n%q", p.origType, p.origBytes)
	}
}

func TestBuildDSNHeadersOnly(t *testing.T) {
	for _, ret := range []string{"HDRS", ""} { // "" is our default: headers only
		raw := mailbox.BuildDSN(mailbox.DSN{Hostname: "mail.hopital.example", To: "dr@hopital.example", Ret: ret,
			Original: []byte(dsnOriginal), Recipients: []mailbox.DSNRecipient{{FinalRecipient: "b@autre.example",
				Action: mailbox.ActionFailed, Reason: "no route"}}})
		p := parseDSN(t, raw)
		if p.origType != "text/rfc822-headers" || !strings.Contains(string(p.origBytes), "Subject: Compte rendu") ||
			strings.Contains(string(p.origBytes), "Bonjour") {
			t.Errorf("RET=%q: third part %s:\n%s", ret, p.origType, p.origBytes)
		}
		r := p.perRcpt[0]
		if r.Get("Status") != "5.0.0" || r.Has("Diagnostic-Code") || r.Has("Original-Recipient") || p.perMsg.Has("Original-Envelope-Id") {
			t.Errorf("RET=%q: fields %v %v", ret, p.perMsg, r)
		}
		if !strings.Contains(p.text, "no route") {
			t.Errorf("reason missing from the text:\n%s", p.text)
		}
	}
}

func TestBuildDSNDelayedAndRelayed(t *testing.T) {
	until := time.Date(2025, 6, 6, 10, 0, 0, 0, time.UTC)
	d := mailbox.DSN{Hostname: "mail.hopital.example", To: "dr@hopital.example", Ret: "FULL", Original: []byte(dsnOriginal),
		Recipients: []mailbox.DSNRecipient{{FinalRecipient: "b@autre.example", Action: mailbox.ActionDelayed, Status: "4.2.2",
			Reply: "452 4.2.2 Mailbox full", WillRetryUntil: until}}}
	if d.ReturnsFull() {
		t.Error("a delay report returns the whole message (RFC 3461 4.3: headers only without a failure)")
	}
	p := parseDSN(t, mailbox.BuildDSN(d))
	if p.perRcpt[0].Get("Action") != "delayed" || p.perRcpt[0].Get("Will-Retry-Until") != until.Format(time.RFC1123Z) || p.origType != "text/rfc822-headers" {
		t.Errorf("delayed: %v, part %s", p.perRcpt[0], p.origType)
	}
	if subj, _ := p.hdr.Text("Subject"); !strings.Contains(subj, "Delivery delayed") || !strings.Contains(p.text, "continuons d'essayer") {
		t.Errorf("delayed: subject %q text\n%s", subj, p.text)
	}
	d.Recipients = []mailbox.DSNRecipient{{FinalRecipient: "b@autre.example", Action: mailbox.ActionRelayed, Status: "2.0.0", RemoteMTA: "mx.autre.example"}}
	p = parseDSN(t, mailbox.BuildDSN(d))
	if p.perRcpt[0].Get("Action") != "relayed" || p.perRcpt[0].Get("Status") != "2.0.0" || p.perRcpt[0].Has("Will-Retry-Until") {
		t.Errorf("relayed: %v", p.perRcpt[0])
	}
}

func TestOriginalForReport(t *testing.T) {
	blobs, err := db.NewFSBlobs(t.TempDir())
	must(t, err)
	ctx := context.Background()
	key, _, err := blobs.Put(ctx, strings.NewReader(dsnOriginal))
	must(t, err)
	s := mailbox.New(nil, blobs)
	full, err := s.OriginalForReport(ctx, key, true)
	must(t, err)
	hdr, err := s.OriginalForReport(ctx, key, false)
	must(t, err)
	if string(full) != dsnOriginal || !strings.HasSuffix(string(hdr), "charset=utf-8\r\n\r\n") || strings.Contains(string(hdr), "Bonjour") {
		t.Fatalf("full %q\nheader %q", full, hdr)
	}
}
