package smtpd

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"mime"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"mssanted/mailbox"
)

// The notifier tells a patient, at the personal address they gave, that
// something new waits in their space (domain.md rule 6). The mail leaves
// the secure space, so it says how many things and where to read them,
// never who wrote or what: no name, no subject, no document title.

// NotifyConfig configures the e-mail notifier.
type NotifyConfig struct {
	Store *mailbox.Store
	// Relay is the "host:port" of the SMTP relay that sends to the public
	// Internet. Implicit TLS when ImplicitTLS, else STARTTLS, required
	// either way: a relay that offers no TLS gets nothing.
	Relay       string
	ImplicitTLS bool
	TLS         *tls.Config // RootCAs and ServerName of the relay
	Username    string      // AUTH PLAIN when set
	Password    string
	From        string // e.g. "Messagerie santé <ne-pas-repondre@example.org>"
	Hostname    string // EHLO name and Message-ID domain
	AppURL      string // where the patient logs in: "https://sante.example.org/"
	Poll        time.Duration
	GiveUpAfter int // attempts; default 12 (about a day with the backoff below)
	Now         func() time.Time
	Log         *slog.Logger
}

// Notifier sends the notify outbox through the relay. Start it with Run.
type Notifier struct {
	cfg  NotifyConfig
	kick chan struct{}
}

// NewNotifier returns a notifier; Run starts it.
func NewNotifier(c NotifyConfig) *Notifier {
	if c.Poll <= 0 {
		c.Poll = 5 * time.Second
	}
	if c.GiveUpAfter <= 0 {
		c.GiveUpAfter = 12
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return &Notifier{cfg: c, kick: make(chan struct{}, 1)}
}

// Kick makes Run look at the outbox now.
func (n *Notifier) Kick() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Run sends due notifications until ctx ends.
func (n *Notifier) Run(ctx context.Context) error {
	t := time.NewTicker(n.cfg.Poll)
	defer t.Stop()
	for {
		n.Flush(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-n.kick:
		}
	}
}

// notifyBackoff is the wait before attempt n+1: 1, 2, 4 … minutes, at most
// 4 hours.
func notifyBackoff(attempts int) time.Duration {
	d := time.Minute << min(attempts, 8)
	return min(d, 4*time.Hour)
}

// Flush sends what is due now, once; Run calls it on every tick.
func (n *Notifier) Flush(ctx context.Context) {
	now := n.cfg.Now()
	batch, err := n.cfg.Store.ClaimNotifications(ctx, now, 5*time.Minute, 200)
	if err != nil {
		n.cfg.Log.Error("notify: claim", "err", err)
		return
	}
	for _, e := range batch {
		if ctx.Err() != nil {
			return
		}
		err := n.send(ctx, e)
		now := n.cfg.Now()
		switch {
		case err == nil:
			err = n.cfg.Store.NotificationsSent(ctx, e.IDs, now)
			n.cfg.Log.Info("notify: sent", "account", e.AccountID, "items", len(e.IDs))
		case e.Attempts+1 >= n.cfg.GiveUpAfter:
			n.cfg.Log.Warn("notify: giving up", "account", e.AccountID, "err", err)
			err = n.cfg.Store.NotificationsFailed(ctx, e.IDs, now, err.Error())
		default:
			n.cfg.Log.Warn("notify: will retry", "account", e.AccountID, "err", err)
			err = n.cfg.Store.NotificationsRetry(ctx, e.IDs, now.Add(notifyBackoff(e.Attempts)), err.Error())
		}
		if err != nil {
			n.cfg.Log.Error("notify: record", "err", err)
		}
	}
}

func (n *Notifier) send(ctx context.Context, e mailbox.NotifyEmail) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	tc := n.cfg.TLS.Clone()
	if tc == nil {
		tc = &tls.Config{}
	}
	if tc.ServerName == "" {
		tc.ServerName, _, _ = strings.Cut(n.cfg.Relay, ":")
	}
	tc.MinVersion = max(tc.MinVersion, tls.VersionTLS12)
	var c *smtp.Client
	var err error
	if n.cfg.ImplicitTLS {
		c, err = smtp.DialTLS(n.cfg.Relay, tc)
	} else {
		c, err = smtp.DialStartTLS(n.cfg.Relay, tc) // fails when the relay offers no STARTTLS
	}
	if err != nil {
		return fmt.Errorf("relay %s: %w", n.cfg.Relay, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.CommandTimeout, c.SubmissionTimeout = time.Until(dl), time.Until(dl)
	}
	if err := c.Hello(n.cfg.Hostname); err != nil {
		return fmt.Errorf("relay %s: EHLO: %w", n.cfg.Relay, err)
	}
	if n.cfg.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", n.cfg.Username, n.cfg.Password)); err != nil {
			return fmt.Errorf("relay %s: AUTH: %w", n.cfg.Relay, err)
		}
	}
	from := n.cfg.From
	if a, err := mail.ParseAddress(from); err == nil {
		from = a.Address
	}
	if err := c.SendMail(from, []string{e.Email}, bytes.NewReader(n.message(e))); err != nil {
		return fmt.Errorf("relay %s: %w", n.cfg.Relay, err)
	}
	return c.Quit()
}

// message writes the notification mail. Auto-Submitted (RFC 3834) keeps
// auto-responders quiet.
func (n *Notifier) message(e mailbox.NotifyEmail) []byte {
	var messages, documents int
	for _, k := range e.Kinds {
		if k == mailbox.NotifyDocument {
			documents++
		} else {
			messages++
		}
	}
	var what []string
	if messages > 0 {
		what = append(what, plural(messages, "nouveau message", "nouveaux messages"))
	}
	if documents > 0 {
		what = append(what, plural(documents, "nouveau document", "nouveaux documents"))
	}
	subject := "Du nouveau dans votre espace santé"
	b := make([]byte, 12)
	rand.Read(b)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "From: %s\r\n", n.cfg.From)
	fmt.Fprintf(&buf, "To: <%s>\r\n", e.Email)
	fmt.Fprintf(&buf, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&buf, "Date: %s\r\n", n.cfg.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&buf, "Message-ID: <notify.%s@%s>\r\n", hex.EncodeToString(b), n.cfg.Hostname)
	buf.WriteString("Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n")
	buf.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	fmt.Fprintf(&buf, "Bonjour,\r\n\r\nVous avez %s dans votre espace santé.\r\n", strings.Join(what, " et "))
	if n.cfg.AppURL != "" {
		fmt.Fprintf(&buf, "Pour les consulter, connectez-vous : %s\r\n", n.cfg.AppURL)
	}
	buf.WriteString("\r\nPour protéger vos données de santé, ce courriel ne dit ni qui vous a écrit ni ce qui vous a été envoyé.\r\n")
	buf.WriteString("Ce message est envoyé automatiquement : merci de ne pas y répondre.\r\n")
	return buf.Bytes()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
