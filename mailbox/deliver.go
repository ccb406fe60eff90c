package mailbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"

	"mssanted/db"
	"mssanted/directory"
)

// Door names where a message came in; it decides the checks.
type Door string

const (
	Submission Door = "submission" // an authenticated user of this instance
	MX         Door = "mx"         // another operator of the trust space
	System     Door = "system"     // generated here: MDN, DSN
)

// Envelope is what the door knows of a transaction before its data.
type Envelope struct {
	Door     Door
	From     string             // reverse path; "" for reports
	Auth     *directory.Account // the authenticated account (submission)
	RemoteIP string
	Helo     string
	TLS      string // e.g. "TLS1.3 TLS_AES_128_GCM_SHA256"; "" without TLS
	PeerCert string // MX: the client certificate's subject DN
	EnvID    string // DSN ENVID (RFC 3461)
	Ret      string // DSN RET: FULL or HDRS
	UTF8     bool
	// SaveSent files a copy in the sender's Sent folder in the delivery
	// transaction: the web app and the API have no client to do it, and
	// what a patient wrote is never lost (domain.md rule 2).
	SaveSent bool
}

// Recipient is one RCPT with its DSN parameters.
type Recipient struct {
	Address string
	Notify  []string // NEVER, or some of SUCCESS, FAILURE, DELAY
	ORCPT   string

	account *directory.Account // set for local recipients by AddRecipient
}

// Refusal is a permanent or temporary refusal with an SMTP reply code, an
// enhanced status code (RFC 3463) and a sentence for a person, French first.
// Doors translate it to their protocol.
type Refusal struct {
	Code     int
	Enhanced [3]int
	Message  string
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("%d %d.%d.%d %s", r.Code, r.Enhanced[0], r.Enhanced[1], r.Enhanced[2], r.Message)
}

func refuse(code int, class, subject, detail int, fr, en string) *Refusal {
	return &Refusal{Code: code, Enhanced: [3]int{class, subject, detail}, Message: fr + " / " + en}
}

// Limits bound what one message may carry.
const (
	maxHeaderBytes = 512 << 10
	MaxRecipients  = 100
)

// Pipeline delivers messages: checks at RCPT time, then for the data a
// single pass that spools the body into the blob store, parses the header
// once, applies the modifiers (trace headers, Message-ID), and commits every
// target (local mailboxes, the outbound queue, the reports it owes) in one
// database transaction. The door answers 250 only when Deliver returns nil.
type Pipeline struct {
	Store    *Store
	Dir      *directory.Store
	Hostname string
	Product  string // X-MSS-NIL: the sending software's reference
	Log      *slog.Logger
	Now      func() time.Time
	// OnQueued, when set, is called after a commit that queued mail for
	// another operator (the outbound sender's Kick).
	OnQueued func()
	// Filer, when set, files the documents of messages to patients in the
	// delivery transaction (the dmp library).
	Filer Filer
	// SMIME, when set, verifies and decrypts incoming S/MIME and seals
	// outgoing mail (Seal).
	SMIME *SMIME
}

// Transaction is one message on its way: Begin, AddRecipient for each RCPT,
// then Deliver with the data (or drop it to abort: nothing is written
// before Deliver).
type Transaction struct {
	p     *Pipeline
	env   Envelope
	rcpts []Recipient
	seen  map[string]bool
}

// Begin starts a transaction.
func (p *Pipeline) Begin(env Envelope) *Transaction {
	return &Transaction{p: p, env: env, seen: map[string]bool{}}
}

// Envelope returns the envelope of the transaction.
func (t *Transaction) Envelope() Envelope { return t.env }

// Recipients returns the recipients accepted so far.
func (t *Transaction) Recipients() []Recipient { return t.rcpts }

// AddRecipient checks one recipient at RCPT time and keeps it, or returns a
// *Refusal saying why not.
func (t *Transaction) AddRecipient(ctx context.Context, r Recipient) error {
	addr, err := directory.NormalizeAddress(r.Address)
	if err != nil {
		return refuse(501, 5, 1, 3, "Adresse de destinataire invalide", "Bad recipient address syntax")
	}
	r.Address = addr
	if t.seen[addr] {
		return nil
	}
	if len(t.rcpts) >= MaxRecipients {
		return refuse(452, 4, 5, 3, "Trop de destinataires", "Too many recipients")
	}
	local, err := t.p.Dir.IsLocal(ctx, addr)
	if err != nil {
		return err
	}
	if local {
		a, err := t.p.Dir.ByAddress(ctx, addr)
		if errors.Is(err, directory.ErrNotFound) || err == nil && a.Disabled {
			return refuse(550, 5, 1, 1, "Adresse inconnue : "+addr, "No such mailbox here: "+addr)
		}
		if err != nil {
			return err
		}
		r.account = a
		if err := t.checkRules(ctx, &r); err != nil {
			return err
		}
	} else if t.env.Door == MX {
		// RFC 5321 3.6.2: an MX relays for nobody. Only our own
		// authenticated users (and our own reports) go to other operators.
		return refuse(550, 5, 7, 1, "Relais refusé : "+addr+" n'est pas servi ici", "Relaying denied: "+addr+" is not served here")
	}
	if r.account == nil {
		if err := t.checkRules(ctx, &r); err != nil {
			return err
		}
	}
	t.seen[addr] = true
	t.rcpts = append(t.rcpts, r)
	return nil
}

// Result says what Deliver did.
type Result struct {
	Delivered  []string // local recipients given a new copy
	Duplicates []string // local recipients that already had this exact message
	Queued     []string // remote recipients queued for another operator
	MessageID  string
}

// Deliver reads the message data and commits it for every recipient. When
// it returns nil the message is durable (blob fsynced, transaction
// committed); on error nothing is visible to anyone.
func (t *Transaction) Deliver(ctx context.Context, data io.Reader) (*Result, error) {
	if len(t.rcpts) == 0 {
		return nil, refuse(554, 5, 5, 1, "Aucun destinataire valide", "No valid recipients")
	}
	p := t.p
	now := p.now()
	br := bufio.NewReaderSize(data, 64<<10)
	rawHeader, err := readHeaderBlock(br)
	if err != nil {
		return nil, err
	}
	hdr, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(rawHeader)))
	if err != nil {
		return nil, refuse(554, 5, 6, 0, "En-tête du message illisible", "Malformed message header: "+err.Error())
	}
	msgID := strings.TrimSpace(hdr.Get("Message-Id"))
	var prepend bytes.Buffer
	t.writeTrace(&prepend, now)
	if msgID == "" && t.env.Door != MX {
		msgID = newMessageID(p.Hostname)
		fmt.Fprintf(&prepend, "Message-ID: %s\r\n", msgID)
	}
	if t.env.Door == Submission && hdr.Get("X-Mss-Nil") == "" && p.Product != "" {
		fmt.Fprintf(&prepend, "X-MSS-NIL: %s\r\n", p.Product)
	}

	dh := sha256.New()
	io.WriteString(dh, t.env.From+"\x00")
	dh.Write(rawHeader)
	var body io.Reader = io.TeeReader(br, dh)
	var sm *smimeResult
	if t.p.SMIME != nil && isSMIME(&hdr) {
		// S/MIME is opened whole (bounded by the SMTP size limit), then
		// stored decrypted; the original CMS is kept beside it as evidence.
		rest, err := io.ReadAll(body)
		if err != nil {
			return nil, fmt.Errorf("mailbox: read: %w", err)
		}
		msg, res, err := t.openSMIME(ctx, append(append([]byte{}, rawHeader...), rest...))
		if err != nil {
			return nil, err
		}
		sm = res
		fmt.Fprintf(&prepend, "X-MSS-SMIME: %s\r\n", res.header)
		rawHeader, body = nil, bytes.NewReader(msg)
	}

	// One pass over the data: into the blob store (fsynced there) and
	// through the de-duplication hash of exactly what the client sent.
	key, size, err := p.Store.blobs.Put(ctx, io.MultiReader(&prepend, bytes.NewReader(rawHeader), body))
	if err != nil {
		var re *Refusal
		if errors.As(err, &re) {
			return nil, re
		}
		return nil, fmt.Errorf("mailbox: spool: %w", err)
	}
	dedupe := hexSum(dh)

	meta := stored{
		flags: "", blobKey: key, size: size, internalDate: db.Micros(now),
		envelopeFrom: t.env.From, messageID: msgID,
		inReplyTo: strings.TrimSpace(hdr.Get("In-Reply-To")),
		subject:   decodeHeader(hdr.Get("Subject")),
		from:      decodeHeader(hdr.Get("From")),
		trace:     t.traceValue(),
	}
	if sm != nil {
		meta.smimeSigned, meta.smimeVerified, meta.smimeEncrypted = sm.signed, sm.verified, sm.encrypted
		meta.smimeSigner, meta.smimeProblem = sm.signer, sm.problem
		if len(sm.evidence) > 0 {
			ek, _, err := p.Store.blobs.Put(ctx, bytes.NewReader(sm.evidence))
			if err != nil {
				return nil, fmt.Errorf("mailbox: store S/MIME evidence: %w", err)
			}
			meta.evidence = ek
		}
	}
	snd := party{}
	if t.env.Door != System {
		if snd, err = t.sender(ctx); err != nil {
			return nil, err
		}
	}
	// The documents are read once, before the transaction; an integration
	// error (e.g. 904, the archive is for another patient) goes back in
	// the MDN, and the message is delivered all the same.
	var plan FilingPlan
	var filingErrs map[string]string
	if p.Filer != nil && t.env.Door != System && t.hasPatient() {
		plan, err = p.Filer.Prepare(ctx, FilingMessage{BlobKey: key, MessageID: msgID, Subject: meta.subject, From: t.env.From, Sender: snd.account})
		if err != nil {
			return nil, fmt.Errorf("mailbox: prepare filing: %w", err)
		}
		filingErrs = map[string]string{}
		for _, r := range t.rcpts {
			if r.account != nil && r.account.Role == directory.Patient {
				if e := plan.Check(r.account); e != "" {
					filingErrs[r.Address] = e
				}
			}
		}
	}
	reports, err := t.reportsOwed(ctx, &hdr, msgID, now, filingErrs)
	if err != nil {
		return nil, err
	}
	closing := isClosing(meta.subject, hdr.Get("X-Mss-Mes"))
	res := &Result{MessageID: msgID}
	var touched []int64
	err = p.Store.db.Tx(ctx, func(tx *sql.Tx) error {
		res.Delivered, res.Duplicates, res.Queued, touched = nil, nil, nil, nil
		type link struct {
			conv      int64
			direction string
		}
		var links []link
		for _, r := range t.rcpts {
			if r.account == nil {
				if err := enqueue(ctx, tx, &outboundRow{dedupe: dedupe, from: t.env.From, rcpt: r, envID: t.env.EnvID,
					ret: t.env.Ret, blobKey: key, size: size, now: now}); err != nil {
					return err
				}
				conv, dir, err := recordConversation(ctx, tx, snd, party{address: r.Address}, 0, meta.subject, false, now)
				if err != nil {
					return err
				}
				links = append(links, link{conv, dir})
				res.Queued = append(res.Queued, r.Address)
				continue
			}
			m := meta
			m.accountID = r.account.ID
			mb, row, dup, err := deliverLocal(ctx, tx, p.Store.db, &m, dedupe)
			if err != nil {
				return err
			}
			if dup {
				res.Duplicates = append(res.Duplicates, r.Address)
				continue
			}
			conv, dir, err := recordConversation(ctx, tx, snd, party{address: r.Address, account: r.account}, row, meta.subject, closing, now)
			if err != nil {
				return err
			}
			links = append(links, link{conv, dir})
			touched = append(touched, mb)
			if plan != nil && r.account.Role == directory.Patient {
				docs, err := plan.File(ctx, tx, r.account, row, now)
				if err != nil {
					return err
				}
				for _, d := range docs {
					if d.Visible { // rule 6: the patient is told of each new document
						if err := addNotification(ctx, tx, r.account.ID, NotifyDocument, "Nouveau document : "+d.Title, 0, row, now); err != nil {
							return err
						}
					}
				}
			}
			res.Delivered = append(res.Delivered, r.Address)
		}
		if t.env.SaveSent && snd.account != nil && len(res.Delivered)+len(res.Queued) > 0 {
			m := meta
			m.accountID, m.flags = snd.account.ID, FlagSeen
			mb, row, err := appendToSpecial(ctx, tx, p.Store.db, &m, `\Sent`)
			if err != nil {
				return err
			}
			touched = append(touched, mb)
			for _, l := range links {
				if l.conv != 0 {
					if err := linkMessage(ctx, tx, l.conv, row, l.direction, closing && l.direction == "to_patient", now); err != nil {
						return err
					}
				}
			}
		}
		for _, rep := range reports {
			if !contains(res.Delivered, rep.forRcpt) {
				continue // a duplicate owes no second report
			}
			mbs, err := p.commitSystem(ctx, tx, rep.msg, now)
			if err != nil {
				return err
			}
			touched = append(touched, mbs...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.Store.notify(touched...)
	if len(res.Queued) > 0 && p.OnQueued != nil {
		p.OnQueued()
	}
	p.log().InfoContext(ctx, "delivered", "door", t.env.Door, "from", t.env.From, "message_id", msgID, "size", size,
		"delivered", len(res.Delivered), "queued", len(res.Queued), "duplicates", len(res.Duplicates))
	return res, nil
}

func (t *Transaction) hasPatient() bool {
	for _, r := range t.rcpts {
		if r.account != nil && r.account.Role == directory.Patient {
			return true
		}
	}
	return false
}

// deliverLocal files one copy in the account's INBOX unless it already
// has this exact message; it returns the folder touched.
func deliverLocal(ctx context.Context, tx *sql.Tx, d *db.DB, m *stored, dedupe string) (int64, int64, bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE account_id = $1 AND dedupe_key = $2`, m.accountID, dedupe).Scan(&n); err != nil {
		return 0, 0, false, fmt.Errorf("mailbox: dedupe: %w", err)
	}
	if n > 0 {
		return 0, 0, true, nil
	}
	inbox, err := ensureFolders(ctx, tx, m.accountID)
	if err != nil {
		return 0, 0, false, err
	}
	m.mailboxID = inbox
	id, err := appendMessage(ctx, tx, d, m)
	if err != nil {
		return 0, 0, false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (account_id, dedupe_key, message_row, at) VALUES ($1, $2, $3, $4)`,
		m.accountID, dedupe, id, db.Now()); err != nil {
		return 0, 0, false, fmt.Errorf("mailbox: record delivery: %w", err)
	}
	return inbox, id, false, nil
}

// readHeaderBlock reads the header section, up to and including the blank
// line that ends it (or the whole message if it has no body).
func readHeaderBlock(br *bufio.Reader) ([]byte, error) {
	var buf bytes.Buffer
	for {
		line, err := br.ReadSlice('\n')
		buf.Write(line)
		if buf.Len() > maxHeaderBytes {
			return nil, refuse(552, 5, 3, 4, "En-tête du message trop long", "Message header too large")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		if len(line) == 2 && line[0] == '\r' || len(line) == 1 {
			return buf.Bytes(), nil
		}
	}
}

// writeTrace writes the Received header (RFC 5321 4.4, with RFC 3848
// protocol names) and the trace of the security facts.
func (t *Transaction) writeTrace(w *bytes.Buffer, now time.Time) {
	proto := "ESMTP"
	if t.env.TLS != "" {
		proto += "S"
	}
	if t.env.Auth != nil {
		proto += "A"
	}
	if t.env.Door == System {
		proto = "local"
	}
	from := ""
	if t.env.Helo != "" || t.env.RemoteIP != "" {
		from = fmt.Sprintf("from %s ([%s])\r\n\t", sanitize(t.env.Helo), t.env.RemoteIP)
	}
	tlsPart := ""
	if t.env.TLS != "" {
		tlsPart = "\r\n\t(" + t.env.TLS + ")"
	}
	fmt.Fprintf(w, "Received: %sby %s (mssanted) with %s%s;\r\n\t%s\r\n", from, t.p.Hostname, proto, tlsPart, now.Format(time.RFC1123Z))
	fmt.Fprintf(w, "X-MSS-Trace: %s\r\n", t.traceValue())
}

// traceValue is the security facts of the transaction, also kept on the
// message row for the web app.
func (t *Transaction) traceValue() string {
	parts := []string{"door=" + string(t.env.Door)}
	if t.env.TLS != "" {
		parts = append(parts, "tls="+strings.ReplaceAll(t.env.TLS, " ", "/"))
	} else if t.env.Door != System {
		parts = append(parts, "tls=none")
	}
	if t.env.Auth != nil {
		parts = append(parts, "auth="+t.env.Auth.Address)
	}
	if t.env.PeerCert != "" {
		parts = append(parts, `peer-cert="`+strings.ReplaceAll(sanitize(t.env.PeerCert), `"`, `'`)+`"`)
	}
	return strings.Join(parts, "; ")
}

// sanitize keeps a client-supplied string from breaking a header line.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pipeline) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.Default()
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
