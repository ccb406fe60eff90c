package smtpd

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/textproto"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"mssanted/mailbox"
)

// The outbound sender: it takes rows from the durable queue (mailbox
// queue.go) and delivers each to the other operator's server over SMTP with
// STARTTLS and mutual TLS, as the trust space requires: our operator
// certificate goes to them, and their server certificate must chain to our
// anchors. It never sends in clear: a server without STARTTLS, or whose
// certificate does not verify, is a temporary failure.
//
// One connection per queued recipient: simple, and a failure of one
// recipient never touches another. Grouping by domain would save
// handshakes, not correctness; it is not done.

// OutboundConfig configures the outbound sender.
type OutboundConfig struct {
	Store    *mailbox.Store
	Pipeline *mailbox.Pipeline // delivers the DSNs we owe
	Hostname string            // EHLO name, Reporting-MTA
	// ClientCert is the operator certificate presented to the other
	// operators: the instance TLS certificate, which has the clientAuth EKU.
	ClientCert tls.Certificate
	// RootCAs are the anchors a remote server certificate must chain to; it
	// is checked against the host name of the route or MX.
	RootCAs *x509.CertPool
	// Routes maps a domain to "host:port" (port 25 when absent).
	Routes map[string]string
	// DNS looks up MX records (port 25, preference order) for domains
	// without a route; without it an unrouted domain fails permanently.
	DNS              bool
	RetryFor         time.Duration // give up (final DSN) after this long; default 96h
	DelayNoticeAfter time.Duration // send the "delayed" DSN once after this long; default 4h
	Workers          int           // concurrent deliveries; default 4
	// Lease is how long a claimed row is ours. An attempt is cut at 4/5 of
	// it, so that no other worker claims a row still being sent; default 15m.
	Lease time.Duration
	Poll  time.Duration    // how often to look for due rows without a Kick; default 30s
	Now   func() time.Time // default time.Now
	// Seal, when set, signs and encrypts each message for its recipient
	// before it leaves (mailbox.Pipeline.Seal).
	Seal func(ctx context.Context, from, rcpt string, raw []byte) ([]byte, error)
	Log  *slog.Logger
}

// Outbound delivers the outbound queue. Start it with Run.
type Outbound struct {
	cfg    OutboundConfig
	routes map[string]string
	kick   chan struct{}
	more   atomic.Bool // the last claim took all it could: claim again when a worker frees up

	// lookupMX is net.DefaultResolver.LookupMX; a variable for tests.
	lookupMX func(ctx context.Context, domain string) ([]*net.MX, error)
}

// Timeouts of one attempt. RFC 5321 4.5.3.2 recommends 5 minutes for the
// greeting and commands and 10 for the reply to the final dot; the attempt
// as a whole is also bounded by the lease.
const (
	outDialTimeout       = 30 * time.Second
	outCommandTimeout    = 5 * time.Minute
	outSubmissionTimeout = 10 * time.Minute
	outSettleTimeout     = 30 * time.Second
)

// NewOutbound returns the sender; zero fields get their defaults.
func NewOutbound(c OutboundConfig) *Outbound {
	if c.RetryFor <= 0 {
		c.RetryFor = 96 * time.Hour
	}
	if c.DelayNoticeAfter <= 0 {
		c.DelayNoticeAfter = 4 * time.Hour
	}
	if c.Workers < 1 {
		c.Workers = 4
	}
	if c.Lease <= 0 {
		c.Lease = 15 * time.Minute
	}
	if c.Poll <= 0 {
		c.Poll = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	routes := map[string]string{}
	for d, hp := range c.Routes {
		routes[strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")] = strings.TrimSpace(hp)
	}
	return &Outbound{cfg: c, routes: routes, kick: make(chan struct{}, 1), lookupMX: net.DefaultResolver.LookupMX}
}

// Kick makes Run look for due rows now (call it after a delivery queued
// something); it never blocks.
func (o *Outbound) Kick() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// Run delivers due rows until ctx ends: at start (rows a previous run
// left), on Kick, and every Poll. When ctx ends it stops claiming, the
// connections of in-flight attempts are closed, their rows are put back
// as due (at-least-once: a message whose final reply was lost in the cut
// is sent again), and Run returns nil once every worker has recorded its
// outcome. Close the store only after Run has returned.
func (o *Outbound) Run(ctx context.Context) error {
	sem := make(chan struct{}, o.cfg.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-o.kick:
		case <-timer.C:
		}
		o.dispatch(ctx, sem, &wg)
		timer.Reset(o.cfg.Poll)
	}
}

// dispatch claims as many due rows as there are free workers, until none
// is left or every worker is busy.
func (o *Outbound) dispatch(ctx context.Context, sem chan struct{}, wg *sync.WaitGroup) {
	for ctx.Err() == nil {
		free := cap(sem) - len(sem) // only this goroutine takes slots: free can only grow meanwhile
		if free == 0 {
			o.more.Store(true)
			if cap(sem)-len(sem) == 0 {
				return // the next worker to finish kicks
			}
			continue // one finished before it could see the flag
		}
		rows, err := o.cfg.Store.ClaimDue(ctx, o.cfg.Now(), o.cfg.Lease, free)
		if err != nil {
			if ctx.Err() == nil {
				o.cfg.Log.Error("outbound: claim", "err", err)
			}
			return
		}
		for _, row := range rows {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					<-sem
					if o.more.CompareAndSwap(true, false) {
						o.Kick()
					}
				}()
				o.deliver(ctx, row)
			}()
		}
		if len(rows) < free {
			return
		}
	}
}

// outcome is what one attempt came to.
type outcome struct {
	kind      int    // outSent, outPermanent or outTemporary
	status    string // RFC 3463 code for the DSN
	reply     string // the remote reply, "550 5.1.1 …"; "" if the failure was not a reply
	reason    string // words for a failure that is not a reply (network, TLS, route)
	remoteMTA string
	remoteDSN bool // the remote advertised DSN (RFC 3461): it takes over the reports
	early     bool // failed before the SMTP transaction: another MX may do better
}

const (
	outSent = iota
	outPermanent
	outTemporary
)

func (r *outcome) text() string {
	s := r.reply
	if s == "" {
		s = r.reason
	}
	if r.remoteMTA != "" {
		s = r.remoteMTA + ": " + s
	}
	return s
}

func (o *Outbound) deliver(ctx context.Context, row mailbox.Outbound) {
	actx, cancel := context.WithTimeout(ctx, o.cfg.Lease*4/5)
	out := o.attempt(actx, &row)
	cancel()
	// The outcome is recorded even when ctx has just ended: that is what
	// keeps a shutdown from leaving rows leased.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), outSettleTimeout)
	defer scancel()
	o.settle(sctx, ctx.Err() != nil, &row, &out)
}

// attempt tries the hosts of the route in order; a host that fails before
// the transaction starts (connection, greeting, TLS) passes the turn to the
// next one (RFC 5321 5.1).
func (o *Outbound) attempt(ctx context.Context, row *mailbox.Outbound) outcome {
	hosts, fail := o.route(ctx, row.Domain)
	if fail != nil {
		return *fail
	}
	var out outcome
	for _, h := range hosts {
		out = o.try(ctx, h, row)
		if out.kind != outTemporary || !out.early || ctx.Err() != nil {
			break
		}
	}
	return out
}

type outTarget struct{ host, addr string }

// route returns where a domain's mail goes: the configured route, else
// its MX hosts in preference order, else (no MX) the domain itself.
func (o *Outbound) route(ctx context.Context, domain string) ([]outTarget, *outcome) {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	if hp, ok := o.routes[domain]; ok {
		host, _, err := net.SplitHostPort(hp)
		if err != nil {
			host, hp = hp, net.JoinHostPort(hp, "25")
		}
		return []outTarget{{host, hp}}, nil
	}
	if !o.cfg.DNS {
		return nil, &outcome{kind: outPermanent, status: "5.4.4",
			reason: "aucune route vers " + domain + " (outbound.routes, dns = false) / no route to " + domain}
	}
	mxs, err := o.lookupMX(ctx, domain)
	var de *net.DNSError
	if err != nil && !(errors.As(err, &de) && de.IsNotFound) {
		return nil, &outcome{kind: outTemporary, status: "4.4.3",
			reason: "recherche DNS des MX de " + domain + " impossible / MX lookup failed: " + err.Error()}
	}
	if len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == "") {
		// RFC 7505: a null MX says the domain accepts no mail at all.
		return nil, &outcome{kind: outPermanent, status: "5.1.10", reason: domain + " n'accepte pas de courrier (null MX) / " + domain + " accepts no mail (null MX)"}
	}
	if len(mxs) == 0 {
		// RFC 5321 5.1: without MX records the domain is its own host.
		return []outTarget{{domain, net.JoinHostPort(domain, "25")}}, nil
	}
	sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Pref < mxs[j].Pref })
	var out []outTarget
	for _, mx := range mxs {
		h := strings.TrimSuffix(mx.Host, ".")
		if h != "" {
			out = append(out, outTarget{h, net.JoinHostPort(h, "25")})
		}
	}
	return out, nil
}

// try delivers the row through one host.
func (o *Outbound) try(ctx context.Context, t outTarget, row *mailbox.Outbound) (out outcome) {
	out.remoteMTA = t.host
	temp := func(status, reason string) outcome {
		return outcome{kind: outTemporary, status: status, reason: reason, remoteMTA: t.host, early: true}
	}
	blob, err := o.cfg.Store.Blobs().Open(ctx, row.BlobKey)
	if errors.Is(err, fs.ErrNotExist) {
		return outcome{kind: outPermanent, status: "5.3.0", reason: "message introuvable dans le stockage / message body lost from the blob store"}
	}
	if err != nil {
		return temp("4.3.0", "lecture du message impossible / cannot read the message: "+err.Error())
	}
	defer blob.Close()
	var body io.Reader = blob
	if o.cfg.Seal != nil {
		raw, err := io.ReadAll(blob)
		if err != nil {
			return temp("4.3.0", "lecture du message impossible / cannot read the message: "+err.Error())
		}
		sealed, err := o.cfg.Seal(ctx, row.EnvelopeFrom, row.Rcpt, raw)
		if errors.Is(err, mailbox.ErrEncryptionRequired) {
			// RFC 3463 X.7.10: the domain's policy forbids sending in clear.
			return outcome{kind: outPermanent, status: "5.7.10",
				reason: "chiffrement exigé pour ce domaine et certificat du destinataire inconnu / encryption required and the recipient's certificate is unknown"}
		}
		if err != nil {
			return temp("4.7.0", "signature ou chiffrement impossible / cannot sign or encrypt: "+err.Error())
		}
		body = bytes.NewReader(sealed)
	}

	d := net.Dialer{Timeout: outDialTimeout}
	conn, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		if ctx.Err() != nil {
			return outInterrupted(t, ctx)
		}
		return temp("4.4.1", "connexion impossible / cannot connect to "+t.addr+": "+err.Error())
	}
	defer conn.Close()
	// Whatever the step, the end of ctx (lease, shutdown) cuts the connection.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	// Before TLS, by hand: go-smtp v0.25's client has no exported STARTTLS
	// for an open session (only NewClientStartTLS, which says EHLO
	// localhost and leaves the handshake, and its error, to the next
	// command). Here EHLO carries our name (RFC 5321 4.1.1.1) and the
	// handshake is explicit, so a certificate problem is named as such.
	tc := textproto.NewConn(conn)
	step := func(expect int, cmd string) (string, error) {
		conn.SetDeadline(time.Now().Add(outCommandTimeout))
		if cmd != "" {
			if err := tc.PrintfLine("%s", cmd); err != nil {
				return "", err
			}
		}
		_, msg, err := tc.ReadResponse(expect)
		return msg, err
	}
	if _, err := step(220, ""); err != nil {
		return o.early(ctx, t, "greeting", err)
	}
	ehlo, err := step(250, "EHLO "+o.cfg.Hostname)
	if err != nil {
		return o.early(ctx, t, "EHLO", err)
	}
	if !outEHLOHas(ehlo, "STARTTLS") {
		return temp("4.7.10", "le serveur n'offre pas STARTTLS, rien n'est envoyé en clair / "+
			"the server does not offer STARTTLS; nothing is sent in clear")
	}
	if _, err := step(220, "STARTTLS"); err != nil {
		return o.early(ctx, t, "STARTTLS", err)
	}
	if tc.R.Buffered() > 0 {
		// RFC 3207 5 / CVE-2011-0411: bytes sent before the handshake must
		// not be read as if they came over TLS.
		return temp("4.7.0", "données en clair reçues après STARTTLS / plaintext injected after STARTTLS")
	}
	tlsConn := tls.Client(conn, &tls.Config{
		ServerName:   t.host,
		RootCAs:      o.cfg.RootCAs,
		Certificates: []tls.Certificate{o.cfg.ClientCert},
		MinVersion:   tls.VersionTLS12, // reference.md, trust space
	})
	hctx, hcancel := context.WithTimeout(ctx, outCommandTimeout)
	err = tlsConn.HandshakeContext(hctx)
	hcancel()
	if err != nil {
		if ctx.Err() != nil {
			return outInterrupted(t, ctx)
		}
		return temp("4.7.5", "échec de la négociation TLS / TLS handshake failed: "+err.Error())
	}
	conn.SetDeadline(time.Time{})

	// After TLS, go-smtp: a server sends no second greeting (RFC 3207 4.2),
	// so its client is fed the one it expects, and says EHLO again, since
	// nothing learnt before TLS may be trusted.
	c := smtp.NewClient(&outGreetedConn{Conn: tlsConn, pending: []byte("220 " + t.host + " TLS\r\n")})
	c.CommandTimeout = outCommandTimeout
	c.SubmissionTimeout = outSubmissionTimeout
	defer c.Close()
	fail := func(err error) outcome {
		r := o.classify(ctx, t, err)
		r.early = false
		return r
	}
	if err := c.Hello(o.cfg.Hostname); err != nil {
		r := fail(err)
		r.early = r.kind == outTemporary
		return r
	}
	out.remoteDSN, _ = c.Extension("DSN")
	if (!outASCII(row.EnvelopeFrom) || !outASCII(row.Rcpt)) && !outClientHas(c, "SMTPUTF8") {
		// RFC 6531 3.2: an internationalised address may not be downgraded.
		return outcome{kind: outPermanent, status: "5.6.7", remoteMTA: t.host,
			reason: "le serveur n'accepte pas les adresses internationalisées / the server does not support SMTPUTF8"}
	}
	// BODY=8BITMIME is added by go-smtp when the remote offers it; every
	// server of the trust space does (RFC 6152), so no downgrade is done.
	mopts, ropts := dsnParams(row)
	mopts.UTF8 = !outASCII(row.EnvelopeFrom) || !outASCII(row.Rcpt)
	// RET/ENVID/NOTIFY/ORCPT go only to a server that advertises DSN
	// (go-smtp leaves them out otherwise, RFC 3461 4); without it the
	// reports stay ours (RFC 3461 5.2.3: "relayed").
	if err := c.Mail(row.EnvelopeFrom, mopts); err != nil {
		return fail(err)
	}
	if err := c.Rcpt(row.Rcpt, ropts); err != nil {
		return fail(err)
	}
	w, err := c.Data()
	if err != nil {
		return fail(err)
	}
	if _, err := io.Copy(w, body); err != nil {
		return fail(err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return fail(err)
	}
	c.Quit()
	out.kind, out.status = outSent, "2.0.0"
	out.reply = "250 " + strings.ReplaceAll(resp.StatusText, "\n", " ")
	return out
}

// early classifies a failure before TLS: always temporary, and another MX
// may be tried. Nothing said before the handshake is authenticated: a 5yz
// forged on the path must not be able to bounce a message.
func (o *Outbound) early(ctx context.Context, t outTarget, stage string, err error) outcome {
	if ctx.Err() != nil {
		return outInterrupted(t, ctx)
	}
	var pe *textproto.Error
	if errors.As(err, &pe) {
		r := o.classify(ctx, t, &smtp.SMTPError{Code: pe.Code, Message: pe.Msg})
		r.kind, r.early = outTemporary, true
		if r.status[0] != '4' {
			r.status = "4" + r.status[1:]
		}
		return r
	}
	return outcome{kind: outTemporary, status: "4.4.2", remoteMTA: t.host, early: true,
		reason: "connexion perdue / connection lost at " + stage + ": " + err.Error()}
}

// classify turns an error of the SMTP dialogue into an outcome: 5yz is
// permanent, 4yz temporary (RFC 5321 4.2.1), anything else (network,
// timeout) temporary.
func (o *Outbound) classify(ctx context.Context, t outTarget, err error) outcome {
	if ctx.Err() != nil {
		return outInterrupted(t, ctx)
	}
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return outcome{kind: outTemporary, status: "4.4.2", remoteMTA: t.host,
			reason: "connexion perdue / connection lost: " + err.Error()}
	}
	class := se.Code / 100
	enh := se.EnhancedCode
	// RFC 3463 2: the enhanced code's class is the reply's; a remote that
	// sent none (or a mismatched one) gets the generic X.0.0.
	status := fmt.Sprintf("%d.0.0", class)
	reply := fmt.Sprintf("%d %s", se.Code, se.Message)
	if enh != smtp.EnhancedCodeNotSet && enh != smtp.NoEnhancedCode {
		reply = fmt.Sprintf("%d %d.%d.%d %s", se.Code, enh[0], enh[1], enh[2], se.Message)
		if enh[0] == class {
			status = fmt.Sprintf("%d.%d.%d", enh[0], enh[1], enh[2])
		}
	}
	reply = strings.Join(strings.Fields(reply), " ")
	switch class {
	case 5:
		return outcome{kind: outPermanent, status: status, reply: reply, remoteMTA: t.host}
	case 4:
		return outcome{kind: outTemporary, status: status, reply: reply, remoteMTA: t.host}
	}
	return outcome{kind: outTemporary, status: "4.5.0", reply: reply, remoteMTA: t.host,
		reason: "réponse inattendue / unexpected reply"}
}

func outInterrupted(t outTarget, ctx context.Context) outcome {
	return outcome{kind: outTemporary, status: "4.4.2", remoteMTA: t.host,
		reason: "tentative interrompue / attempt interrupted: " + context.Cause(ctx).Error()}
}

// settle records the outcome and sends the reports it calls for. A report
// is committed before the row is marked: if the mark fails, the row comes
// back after its lease and the report may be sent twice, never lost (the
// queue's at-least-once).
func (o *Outbound) settle(ctx context.Context, stopping bool, row *mailbox.Outbound, out *outcome) {
	now := o.cfg.Now()
	log := o.cfg.Log.With("id", row.ID, "rcpt", row.Rcpt, "from", row.EnvelopeFrom, "attempt", row.Attempts+1)
	var err error
	switch {
	case out.kind == outSent:
		outboundTotal.WithLabelValues("sent").Inc()
		log.Info("outbound: sent", "host", out.remoteMTA, "reply", out.reply)
		// RFC 3461 5.2.2-5.2.3: a DSN-aware remote carries NOTIFY on and
		// reports success itself; one that is not gets our "relayed".
		if outWants(row, "SUCCESS") && !out.remoteDSN {
			if rerr := o.report(ctx, row, mailbox.ActionRelayed, out, now, time.Time{}); rerr != nil {
				log.Error("outbound: relayed DSN", "err", rerr)
			}
		}
		err = o.cfg.Store.MarkSent(ctx, row.ID, now)

	case out.kind == outPermanent:
		outboundTotal.WithLabelValues("failed").Inc()
		log.Warn("outbound: failed", "host", out.remoteMTA, "status", out.status, "error", out.text())
		if outWants(row, "FAILURE") {
			if rerr := o.report(ctx, row, mailbox.ActionFailed, out, now, time.Time{}); rerr != nil {
				log.Error("outbound: failure DSN, will retry the row", "err", rerr)
				err = o.cfg.Store.MarkRetry(ctx, row.ID, now.Add(o.backoff(row.Attempts)), out.text(), row.DelayNotified)
				break
			}
		}
		err = o.cfg.Store.MarkFailed(ctx, row.ID, now, out.text())

	case stopping:
		// Cut by shutdown: due again at once, no notice, no give-up.
		log.Info("outbound: interrupted, requeued", "error", out.text())
		err = o.cfg.Store.MarkRetry(ctx, row.ID, now, out.text(), row.DelayNotified)

	case !now.Before(row.CreatedAt.Add(o.cfg.RetryFor)):
		// Retried for RetryFor: give up (RFC 5321 4.5.4.1). The status
		// stays the last reply's, or X.4.7 "delivery time expired".
		if out.status == "" || out.status == "4.0.0" {
			out.status = "4.4.7"
		}
		out.reason = "abandon après " + o.cfg.RetryFor.String() + " d'essais / gave up after " + o.cfg.RetryFor.String() + ": " + out.reason
		outboundTotal.WithLabelValues("failed").Inc()
		log.Warn("outbound: gave up", "host", out.remoteMTA, "status", out.status, "error", out.text())
		if outWants(row, "FAILURE") {
			if rerr := o.report(ctx, row, mailbox.ActionFailed, out, now, time.Time{}); rerr != nil {
				log.Error("outbound: final DSN, will retry the row", "err", rerr)
				err = o.cfg.Store.MarkRetry(ctx, row.ID, now.Add(o.backoff(row.Attempts)), out.text(), row.DelayNotified)
				break
			}
		}
		err = o.cfg.Store.MarkFailed(ctx, row.ID, now, out.text())

	default:
		deadline := row.CreatedAt.Add(o.cfg.RetryFor)
		next := now.Add(o.backoff(row.Attempts))
		if next.After(deadline) {
			next = deadline // the last try is at the deadline, not up to an hour after it
		}
		notified := row.DelayNotified
		if !notified && !now.Before(row.CreatedAt.Add(o.cfg.DelayNoticeAfter)) {
			notified = true
			if outWants(row, "DELAY") {
				if rerr := o.report(ctx, row, mailbox.ActionDelayed, out, now, deadline); rerr != nil {
					log.Error("outbound: delay DSN", "err", rerr)
					notified = false // try the notice again next time
				}
			}
		}
		outboundTotal.WithLabelValues("retry").Inc()
		log.Warn("outbound: deferred", "host", out.remoteMTA, "status", out.status, "error", out.text(), "next", next)
		err = o.cfg.Store.MarkRetry(ctx, row.ID, next, out.text(), notified)
	}
	if err != nil {
		log.Error("outbound: record outcome (the row comes back after its lease)", "err", err)
	}
}

// backoff is the wait after the given number of earlier attempts: 1m, 2m,
// 4m… capped at 1h, with ±10% jitter so that rows queued together (one
// remote down) do not all come back in the same second.
func (o *Outbound) backoff(attempts int) time.Duration {
	d := time.Hour
	if attempts < 6 {
		d = time.Minute << attempts
	}
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// wants says whether the sender asked for a report of this kind (RFC 3461
// 4.1). Without NOTIFY we send failures and delays (the default 4.1
// allows). A message with an empty envelope sender is itself a report:
// it never gets one (RFC 5321 4.5.5, RFC 3461 6.2).
func outWants(row *mailbox.Outbound, kind string) bool {
	if row.EnvelopeFrom == "" {
		return false
	}
	if len(row.Notify) == 0 {
		return kind == "FAILURE" || kind == "DELAY"
	}
	for _, n := range row.Notify {
		if strings.EqualFold(n, "NEVER") {
			return false
		}
	}
	for _, n := range row.Notify {
		if strings.EqualFold(n, kind) {
			return true
		}
	}
	return false
}

// report builds the DSN for the row and delivers it to the envelope
// sender through the pipeline (a local INBOX, or the queue).
func (o *Outbound) report(ctx context.Context, row *mailbox.Outbound, action string, out *outcome, now, until time.Time) error {
	status := out.status
	if action == mailbox.ActionRelayed || action == mailbox.ActionDelivered {
		status = "2.0.0"
	}
	d := mailbox.DSN{
		Hostname: o.cfg.Hostname, To: row.EnvelopeFrom, EnvID: row.EnvID, Arrival: row.CreatedAt, Date: now, Ret: row.Ret,
		Recipients: []mailbox.DSNRecipient{{
			OriginalRecipient: row.ORCPT, FinalRecipient: row.Rcpt, Action: action, Status: status,
			RemoteMTA: out.remoteMTA, Reply: out.reply, Reason: out.reason, LastAttempt: now, WillRetryUntil: until,
		}},
	}
	orig, err := o.cfg.Store.OriginalForReport(ctx, row.BlobKey, d.ReturnsFull())
	if err != nil {
		// A report without the original still tells the sender.
		o.cfg.Log.Warn("outbound: original unavailable for the DSN", "id", row.ID, "err", err)
	}
	d.Original = orig
	sm, err := o.cfg.Pipeline.PrepareSystem(ctx, row.EnvelopeFrom, mailbox.BuildDSN(d))
	if err != nil {
		return err
	}
	if sm == nil {
		o.cfg.Log.Info("outbound: DSN dropped, the sender no longer exists", "id", row.ID, "to", row.EnvelopeFrom)
		return nil
	}
	if err := o.cfg.Pipeline.CommitSystem(ctx, sm); err != nil {
		return err
	}
	o.Kick() // a report to a remote sender is itself a queue row
	o.cfg.Log.Info("outbound: DSN sent", "id", row.ID, "to", row.EnvelopeFrom, "action", action, "status", status)
	return nil
}

// dsnParams turns the row's DSN parameters back into go-smtp options,
// dropping any that go-smtp would refuse to send (which would otherwise
// fail every attempt).
func dsnParams(row *mailbox.Outbound) (*smtp.MailOptions, *smtp.RcptOptions) {
	m := &smtp.MailOptions{Size: row.Size}
	switch ret := strings.ToUpper(row.Ret); ret {
	case "FULL", "HDRS":
		m.Return = smtp.DSNReturn(ret)
	}
	if outPrintable(row.EnvID) {
		m.EnvelopeID = row.EnvID
	}
	r := &smtp.RcptOptions{}
	never := false
	for _, n := range row.Notify {
		switch n = strings.ToUpper(n); n {
		case "NEVER":
			never = true
		case "SUCCESS", "FAILURE", "DELAY":
			r.Notify = append(r.Notify, smtp.DSNNotify(n))
		}
	}
	if never {
		r.Notify = []smtp.DSNNotify{smtp.DSNNotifyNever}
	}
	if typ, addr, ok := strings.Cut(row.ORCPT, ";"); ok && addr != "" {
		switch strings.ToUpper(typ) {
		case "RFC822":
			if outPrintable(addr) {
				r.OriginalRecipientType, r.OriginalRecipient = smtp.DSNAddressTypeRFC822, addr
			}
		case "UTF-8":
			r.OriginalRecipientType, r.OriginalRecipient = smtp.DSNAddressTypeUTF8, addr
		}
	}
	return m, r
}

// hasExtension reads an EHLO reply (first line the greeting, then one
// keyword per line).
func outEHLOHas(ehlo, name string) bool {
	lines := strings.Split(ehlo, "\n")
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], name) {
			return true
		}
	}
	return false
}

func outClientHas(c *smtp.Client, name string) bool {
	ok, _ := c.Extension(name)
	return ok
}

func outASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func outPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// outGreetedConn hands go-smtp's client the greeting it reads first, then the
// TLS stream.
type outGreetedConn struct {
	net.Conn
	pending []byte
}

func (g *outGreetedConn) Read(p []byte) (int, error) {
	if len(g.pending) > 0 {
		n := copy(p, g.pending)
		g.pending = g.pending[n:]
		return n, nil
	}
	return g.Conn.Read(p)
}
