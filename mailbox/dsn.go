package mailbox

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
)

// Delivery status notifications (RFC 3464, requested with the SMTP DSN
// extension of RFC 3461): the report the outbound sender owes the envelope
// sender when a remote recipient fails, is delayed, or (when asked) was
// relayed to a server that will not report itself.

// DSN actions (RFC 3464 2.3.3).
const (
	ActionFailed    = "failed"
	ActionDelayed   = "delayed"
	ActionDelivered = "delivered"
	ActionRelayed   = "relayed"
)

// DSN is one delivery status notification to build.
type DSN struct {
	Hostname   string    // the reporting MTA: Reporting-MTA and the MAILER-DAEMON address
	To         string    // the original envelope sender, who gets the report
	EnvID      string    // ENVID of the original transaction, if it had one
	Arrival    time.Time // when the original arrived here (Arrival-Date)
	Date       time.Time // of the report
	Recipients []DSNRecipient
	// Ret is the RET parameter of the original: FULL returns the whole
	// message, HDRS its header only. Without RET we return the header only:
	// RFC 3461 4.3 leaves the choice to the MTA, the sender keeps the
	// message in their Sent folder, and a bounce must not double a 25 MB
	// set of health documents in their mailbox just to say "not delivered".
	Ret string
	// Original is the original message as it was sent on (trace headers
	// included), or at least its header; see ReturnsFull.
	Original []byte
}

// DSNRecipient is the report on one recipient (RFC 3464 2.3).
type DSNRecipient struct {
	OriginalRecipient string    // ORCPT as stored ("rfc822;addr"), "" when none was given
	FinalRecipient    string    // the address
	Action            string    // ActionFailed, ActionDelayed, ActionDelivered or ActionRelayed
	Status            string    // RFC 3463 code: 5.x.x, 4.x.x or 2.0.0
	RemoteMTA         string    // host name of the remote server, "" if none answered
	Reply             string    // the remote server's SMTP reply ("550 5.1.1 …"), "" if none
	Reason            string    // what went wrong in words, when there is no reply (TLS, network)
	LastAttempt       time.Time // Last-Attempt-Date
	WillRetryUntil    time.Time // for delayed: when we give up
}

// ReturnsFull says whether the report carries the whole original rather
// than its header: only when the sender asked with RET=FULL and the report
// announces a failure (RFC 3461 4.3: a report without any failure returns
// the header only).
func (d *DSN) ReturnsFull() bool {
	if !strings.EqualFold(d.Ret, "FULL") {
		return false
	}
	for _, r := range d.Recipients {
		if r.Action == ActionFailed {
			return true
		}
	}
	return false
}

// BuildDSN renders a DSN as RFC 3464 multipart/report;
// report-type=delivery-status (RFC 6522): a text in French then English, the
// machine-readable message/delivery-status, and the original (message/rfc822
// whole, or text/rfc822-headers). It is sent automatically (Auto-Submitted:
// auto-replied, RFC 3834 5) and must go with an empty envelope sender
// (RFC 5321 4.5.5, RFC 3461 6.2) so that it never causes another report.
func BuildDSN(d DSN) []byte {
	boundary := randomToken()
	host := dsnLine(d.Hostname)
	date := d.Date
	if date.IsZero() {
		date = time.Now()
	}
	origHdr := dsnHeaderBlock(d.Original)
	var subject, msgID string
	if h, err := textproto.ReadHeader(bufioReader(origHdr)); err == nil {
		subject = decodeHeader(h.Get("Subject"))
		msgID = strings.TrimSpace(h.Get("Message-Id"))
	}

	failed, delayed, ok := dsnSplit(d.Recipients)
	var subj string
	switch {
	case len(failed) > 0:
		subj = "Non distribué / Undelivered mail"
	case len(delayed) > 0:
		subj = "Distribution retardée / Delivery delayed"
	default:
		subj = "Distribué / Delivery report"
	}
	if subject != "" {
		subj += " : " + subject
	}

	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", "Mail Delivery System <MAILER-DAEMON@"+host+">")
	h("To", "<"+dsnLine(d.To)+">")
	h("Date", date.Format(time.RFC1123Z))
	h("Message-ID", newMessageID(host))
	h("Subject", mimeWord(dsnLine(subj)))
	if msgID != "" {
		h("In-Reply-To", dsnLine(msgID))
		h("References", dsnLine(msgID))
	}
	h("Auto-Submitted", "auto-replied")
	h("MIME-Version", "1.0")
	h("Content-Type", `multipart/report; report-type=delivery-status; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	b.WriteString("Ceci est un message au format MIME. / This is a MIME-formatted message.\r\n")

	// Part 1: for a person, French first.
	fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", boundary)
	dsnHuman(&b, host, subject, failed, delayed, ok)

	// Part 2: for programs (RFC 3464 2.1: per-message fields, then a blank
	// line before each recipient's fields).
	fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary)
	fmt.Fprintf(&b, "Reporting-MTA: dns;%s\r\n", host)
	if d.EnvID != "" {
		fmt.Fprintf(&b, "Original-Envelope-Id: %s\r\n", dsnLine(d.EnvID))
	}
	if !d.Arrival.IsZero() {
		fmt.Fprintf(&b, "Arrival-Date: %s\r\n", d.Arrival.Format(time.RFC1123Z))
	}
	for _, r := range d.Recipients {
		b.WriteString("\r\n")
		if r.OriginalRecipient != "" {
			fmt.Fprintf(&b, "Original-Recipient: %s\r\n", dsnTyped(r.OriginalRecipient))
		}
		fmt.Fprintf(&b, "Final-Recipient: rfc822;%s\r\n", dsnLine(r.FinalRecipient))
		fmt.Fprintf(&b, "Action: %s\r\n", dsnLine(r.Action))
		fmt.Fprintf(&b, "Status: %s\r\n", dsnStatus(r))
		if r.RemoteMTA != "" {
			fmt.Fprintf(&b, "Remote-MTA: dns;%s\r\n", dsnLine(r.RemoteMTA))
		}
		if r.Reply != "" {
			fmt.Fprintf(&b, "Diagnostic-Code: smtp; %s\r\n", dsnLine(r.Reply))
		}
		if !r.LastAttempt.IsZero() {
			fmt.Fprintf(&b, "Last-Attempt-Date: %s\r\n", r.LastAttempt.Format(time.RFC1123Z))
		}
		if r.Action == ActionDelayed && !r.WillRetryUntil.IsZero() {
			fmt.Fprintf(&b, "Will-Retry-Until: %s\r\n", r.WillRetryUntil.Format(time.RFC1123Z))
		}
	}

	// Part 3: the original, whole or its header (RFC 3462/6522 text/rfc822-headers).
	if len(d.Original) > 0 {
		if d.ReturnsFull() {
			cte := "7bit"
			if !dsnASCII(d.Original) {
				cte = "8bit"
			}
			fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: %s\r\n\r\n", boundary, cte)
			b.Write(d.Original)
			if !bytes.HasSuffix(d.Original, []byte("\r\n")) {
				b.WriteString("\r\n")
			}
		} else {
			cte := "7bit"
			if !dsnASCII(origHdr) {
				cte = "8bit" // RFC 6532 headers
			}
			fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: %s\r\n\r\n", boundary, cte)
			b.Write(bytes.TrimRight(origHdr, "\r\n"))
			b.WriteString("\r\n")
		}
	}
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes()
}

func dsnSplit(rs []DSNRecipient) (failed, delayed, ok []DSNRecipient) {
	for _, r := range rs {
		switch r.Action {
		case ActionFailed:
			failed = append(failed, r)
		case ActionDelayed:
			delayed = append(delayed, r)
		default:
			ok = append(ok, r)
		}
	}
	return
}

func dsnHuman(b *bytes.Buffer, host, subject string, failed, delayed, ok []DSNRecipient) {
	about := ""
	if subject != "" {
		about = " « " + subject + " »"
	}
	aboutEN := ""
	if subject != "" {
		aboutEN = " \"" + subject + "\""
	}
	list := func(rs []DSNRecipient) {
		for _, r := range rs {
			why := r.Reply
			if why == "" {
				why = r.Reason
			}
			if why != "" {
				fmt.Fprintf(b, "  <%s> : %s\r\n", dsnLine(r.FinalRecipient), dsnLine(why))
			} else {
				fmt.Fprintf(b, "  <%s>\r\n", dsnLine(r.FinalRecipient))
			}
		}
	}
	until := func(rs []DSNRecipient, layout string) string {
		for _, r := range rs {
			if !r.WillRetryUntil.IsZero() {
				return r.WillRetryUntil.Format(layout)
			}
		}
		return ""
	}
	fmt.Fprintf(b, "Ceci est le système de distribution du courrier de %s.\r\n\r\n", host)
	if len(failed) > 0 {
		fmt.Fprintf(b, "Votre message%s n'a pas pu être remis aux destinataires suivants, définitivement :\r\n", about)
		list(failed)
		b.WriteString("\r\n")
	}
	if len(delayed) > 0 {
		fmt.Fprintf(b, "Votre message%s n'a pas encore pu être remis aux destinataires suivants :\r\n", about)
		list(delayed)
		if u := until(delayed, "02/01/2006 15:04 MST"); u != "" {
			fmt.Fprintf(b, "Nous continuons d'essayer jusqu'au %s ; vous n'avez rien à faire pour l'instant.\r\n", u)
		}
		b.WriteString("\r\n")
	}
	if len(ok) > 0 {
		fmt.Fprintf(b, "Votre message%s a été transmis aux destinataires suivants :\r\n", about)
		list(ok)
		b.WriteString("\r\n")
	}
	b.WriteString("Le détail technique et votre message (ou son en-tête) sont joints.\r\n\r\n")

	fmt.Fprintf(b, "This is the mail delivery system at %s.\r\n\r\n", host)
	if len(failed) > 0 {
		fmt.Fprintf(b, "Your message%s could not be delivered to the following recipients, permanently:\r\n", aboutEN)
		list(failed)
		b.WriteString("\r\n")
	}
	if len(delayed) > 0 {
		fmt.Fprintf(b, "Your message%s has not yet been delivered to the following recipients:\r\n", aboutEN)
		list(delayed)
		if u := until(delayed, time.RFC1123Z); u != "" {
			fmt.Fprintf(b, "We will keep trying until %s; you need not do anything yet.\r\n", u)
		}
		b.WriteString("\r\n")
	}
	if len(ok) > 0 {
		fmt.Fprintf(b, "Your message%s was passed on to the following recipients:\r\n", aboutEN)
		list(ok)
		b.WriteString("\r\n")
	}
	b.WriteString("The technical details and your message (or its header) are attached.\r\n")
}

// dsnStatus is the recipient's status, or the generic code of its action.
func dsnStatus(r DSNRecipient) string {
	if s := dsnLine(r.Status); s != "" {
		return s
	}
	switch r.Action {
	case ActionFailed:
		return "5.0.0"
	case ActionDelayed:
		return "4.0.0"
	}
	return "2.0.0"
}

// dsnTyped renders an ORCPT as stored ("RFC822;addr", the type as the
// client spelled it) the way RFC 3464 2.3.1 shows it: "rfc822;addr".
func dsnTyped(s string) string {
	s = dsnLine(s)
	typ, addr, ok := strings.Cut(s, ";")
	if !ok {
		return "rfc822;" + s
	}
	if strings.EqualFold(typ, "rfc822") {
		typ = "rfc822"
	}
	return typ + ";" + addr
}

// dsnHeaderBlock returns the header section of a message, up to and including
// the blank line that ends it (the whole of m when it has no body).
func dsnHeaderBlock(m []byte) []byte {
	if i := bytes.Index(m, []byte("\r\n\r\n")); i >= 0 {
		return m[:i+4]
	}
	if i := bytes.Index(m, []byte("\n\n")); i >= 0 {
		return m[:i+2]
	}
	return m
}

// dsnLine keeps a value from breaking out of its header line.
func dsnLine(s string) string {
	return strings.TrimSpace(strings.Join(strings.Fields(dsnSanitize(s)), " "))
}

func dsnSanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func dsnASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// OriginalForReport reads a queued message back for a DSN: the whole of it
// when full, else only its header section (read up to the blank line, so
// that a bounce for a large message does not load its body).
func (s *Store) OriginalForReport(ctx context.Context, blobKey string, full bool) ([]byte, error) {
	rc, err := s.blobs.Open(ctx, blobKey)
	if err != nil {
		return nil, fmt.Errorf("mailbox: original %s: %w", blobKey, err)
	}
	defer rc.Close()
	if full {
		b, err := io.ReadAll(rc)
		if err != nil {
			return nil, fmt.Errorf("mailbox: original %s: %w", blobKey, err)
		}
		return b, nil
	}
	b, err := readHeaderBlock(bufio.NewReaderSize(rc, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("mailbox: original header %s: %w", blobKey, err)
	}
	return b, nil
}
