// Command imapload is the IMAP load generator of bench/imap.sh. It runs the
// same phases against any IMAP server on the loopback interface (mssanted
// over implicit TLS or STARTTLS, the reference Dovecot in plain text) and
// writes one TSV row per measured value:
//
//	fill    APPEND -n deterministic messages (4-10 KB, some multipart with a
//	        small attachment) over -conns connections into one mailbox; with
//	        -append-n K only the first K are measured as "append", the rest is
//	        APPENDed as "fill_rest" or, with -maildir, written straight into a
//	        Dovecot maildir (whose APPEND costs O(messages) each)
//	select  SELECT latency of that mailbox, each on a fresh logged-in connection
//	fetch   random UID FETCH n (FLAGS BODY.PEEK[]) over -fetch-conns connections
//	sync    UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE), the full resync
//	search  UID SEARCH HEADER Subject, SINCE, UNSEEN, BODY: latency and hits
//	idle    -idle-conns connections logged in, SELECTed and in IDLE; the
//	        server's PSS before and during gives the memory per connection
//
//	imapload -addr 127.0.0.1:22993 -tls implicit -ca ca.pem -server-name mail.example.test \
//	    -user user0@example.test -pass-file F -n 100000 -phases fill,select,fetch,sync,search \
//	    -watch mssanted=PID -label mssanted -tsv imap.tsv
//	imapload -addr 127.0.0.1:1143 -tls none -user user0@example.test -pass pass ... -label dovecot
//	imapload report -in imap.tsv -ours mssanted -ref dovecot
//	imapload sample -n 3            # what fill appends (message i is the same for every seed run)
//
// Every loop is bounded (message counts, repetitions, per-phase deadlines,
// and a watchdog on every command that closes the connection when it
// expires). Only loopback addresses are accepted.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mssanted/bench/internal/loadgen"
	"mssanted/bench/internal/proc"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "report" {
		if err := report(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "imapload report:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "sample" {
		if err := sample(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "imapload sample:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "imapload:", err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------- configuration

type config struct {
	addr, label, tlsMode, caFile, serverName string
	user, pass, mailbox                      string
	idleUsers                                []string
	phases                                   map[string]bool
	n, conns, idleFill, appendN              int
	maildir, maildirOwner                    string
	metricsAddr                              string
	seed                                     uint64
	selectReps                               int
	fetchConns, fetchMax                     int
	fetchDur                                 time.Duration
	syncReps                                 int
	searchReps, searchSlowReps               int
	searchTimeout                            time.Duration
	sinceDays                                int
	idleConns, idleSetupConc                 int
	idleHold, idleSetupTimeout               time.Duration
	idleConnTimeout                          time.Duration
	opTimeout, fillTimeout                   time.Duration
	watches                                  proc.WatchList
	tsv                                      string

	tlsConf *tls.Config
	gen     *generator
}

var allPhases = []string{"fill", "select", "fetch", "sync", "search", "idle"}

func run(args []string) error {
	var c config
	fs := flag.NewFlagSet("imapload", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:1143", "server HOST:PORT (loopback only)")
	fs.StringVar(&c.label, "label", "", "target name in the TSV (default: the address)")
	fs.StringVar(&c.tlsMode, "tls", "none", "implicit (IMAPS), starttls, or none (plain LOGIN)")
	fs.StringVar(&c.caFile, "ca", "", "PEM file of the CA to trust (default: system roots)")
	fs.StringVar(&c.serverName, "server-name", "", "TLS server name to verify (default: the host of -addr)")
	fs.StringVar(&c.user, "user", "user0@example.test", "owner of the big mailbox (fill, select, fetch, sync, search)")
	fs.StringVar(&c.pass, "pass", "", "password of every user (prefer -pass-file)")
	passFile := fs.String("pass-file", "", "file whose first line is the password of every user")
	fs.StringVar(&c.mailbox, "mailbox", "INBOX", "the big mailbox")
	idleUsers := fs.String("idle-users", "user1@example.test,user2@example.test,user3@example.test,user4@example.test,user5@example.test,user6@example.test,user7@example.test,user8@example.test,user9@example.test",
		"comma-separated users of the IDLE connections (connection i logs in as user i mod len)")
	phases := fs.String("phases", strings.Join(allPhases, ","), "comma-separated subset of "+strings.Join(allPhases, ","))
	fs.IntVar(&c.n, "n", 100000, "messages in the big mailbox (fill appends them; search checks hits against them) (1..1000000)")
	fs.IntVar(&c.conns, "conns", 4, "concurrent APPEND connections (1..64)")
	fs.IntVar(&c.appendN, "append-n", 0, "APPEND (and measure) only the first N messages, then load the rest by -maildir import or more APPENDs, reported apart (0: all)")
	fs.StringVar(&c.maildir, "maildir", "", "Dovecot only: write the messages after -append-n straight into this maildir (DIR/cur) instead of APPENDing them")
	fs.StringVar(&c.maildirOwner, "maildir-owner", "", "UID:GID owning the files written with -maildir")
	fs.StringVar(&c.metricsAddr, "metrics", "", "HOST:PORT of a Prometheus /metrics endpoint with the Go collector (mssanted): the idle phase reports goroutines, heap and stacks per connection")
	fs.IntVar(&c.idleFill, "idle-fill", 200, "fill also appends this many messages to the INBOX of each -idle-users user (0..10000)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the message generator")
	fs.IntVar(&c.selectReps, "select-reps", 20, "SELECT repetitions (1..1000)")
	fs.IntVar(&c.fetchConns, "fetch-conns", 4, "concurrent random-FETCH connections (1..64)")
	fs.DurationVar(&c.fetchDur, "fetch-time", 15*time.Second, "length of the random-FETCH run")
	fs.IntVar(&c.fetchMax, "fetch-max", 200000, "at most this many random FETCHes")
	fs.IntVar(&c.syncReps, "sync-reps", 3, "UID FETCH 1:* repetitions (1..100)")
	fs.IntVar(&c.searchReps, "search-reps", 5, "repetitions of SINCE and UNSEEN (1..100)")
	fs.IntVar(&c.searchSlowReps, "search-slow-reps", 3, "repetitions of HEADER Subject and BODY (1..100)")
	fs.DurationVar(&c.searchTimeout, "search-timeout", 90*time.Second, "cap of one SEARCH: the connection is closed and the cap reported")
	fs.IntVar(&c.sinceDays, "since-days", 30, "UID SEARCH SINCE <newest date - this many days> (messages span 365 days)")
	fs.IntVar(&c.idleConns, "idle-conns", 2000, "IDLE connections (1..20000)")
	fs.IntVar(&c.idleSetupConc, "idle-setup-conc", 16, "IDLE connections being set up at once (1..256)")
	fs.DurationVar(&c.idleHold, "idle-hold", 10*time.Second, "how long the IDLE connections are held")
	fs.DurationVar(&c.idleSetupTimeout, "idle-setup-timeout", 4*time.Minute, "give up opening IDLE connections after this long; the rest counts as not held")
	fs.DurationVar(&c.idleConnTimeout, "idle-conn-timeout", 20*time.Second, "watchdog of connect+login, SELECT and IDLE of one IDLE connection")
	fs.DurationVar(&c.opTimeout, "op-timeout", 2*time.Minute, "watchdog of one command (and of connect+login)")
	fs.DurationVar(&c.fillTimeout, "fill-timeout", 20*time.Minute, "deadline of the fill phase; what is not appended then is reported")
	fs.Var(&c.watches, "watch", "name=PID: CPU seconds and PSS of this server process tree (repeatable)")
	fs.StringVar(&c.tsv, "tsv", "", "append the result rows to this TSV file (header written when new)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of imapload itself to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *passFile != "" {
		var err error
		if c.pass, err = loadgen.FirstLine(*passFile); err != nil {
			return err
		}
	}
	for _, u := range strings.Split(*idleUsers, ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.idleUsers = append(c.idleUsers, u)
		}
	}
	c.phases = map[string]bool{}
	for _, p := range strings.Split(*phases, ",") {
		p = strings.TrimSpace(p)
		ok := false
		for _, q := range allPhases {
			ok = ok || p == q
		}
		if !ok {
			return fmt.Errorf("unknown phase %q (want %s)", p, strings.Join(allPhases, ","))
		}
		c.phases[p] = true
	}
	if err := c.validate(); err != nil {
		return err
	}
	if c.label == "" {
		c.label = c.addr
	}
	if c.tlsMode != "none" {
		var err error
		if c.tlsConf, err = loadgen.TLSConfig(c.addr, c.serverName, c.caFile); err != nil {
			return err
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	c.gen = newGenerator(c.seed)
	logf("%s: %s, tls=%s, mailbox %s of %s, n=%d, phases %s", c.label, c.addr, c.tlsMode, c.mailbox, c.user, c.n, *phases)
	for _, p := range allPhases {
		if !c.phases[p] {
			continue
		}
		var rows []row
		var err error
		t0 := time.Now()
		switch p {
		case "fill":
			rows, err = c.fill()
		case "select":
			rows, err = c.selectPhase()
		case "fetch":
			rows, err = c.fetchPhase()
		case "sync":
			rows, err = c.syncPhase()
		case "search":
			rows, err = c.searchPhase()
		case "idle":
			rows, err = c.idlePhase()
		}
		for _, r := range rows {
			fmt.Printf("%s\t%s\t%s\t%s\t%s\t%s\n", c.label, p, r.metric, r.value, r.unit, r.note)
		}
		if c.tsv != "" && len(rows) > 0 {
			if werr := appendTSV(c.tsv, c.label, p, rows); werr != nil {
				return werr
			}
		}
		logf("%s: phase %s done in %.1fs", c.label, p, time.Since(t0).Seconds())
		if err != nil {
			return fmt.Errorf("%s: phase %s: %w", c.label, p, err)
		}
	}
	return nil
}

func (c *config) validate() error {
	switch {
	case c.tlsMode != "implicit" && c.tlsMode != "starttls" && c.tlsMode != "none":
		return fmt.Errorf("-tls must be implicit, starttls or none")
	case c.pass == "":
		return fmt.Errorf("-pass or -pass-file is required")
	case c.n < 1 || c.n > 1_000_000:
		return fmt.Errorf("-n must be 1..1000000")
	case c.conns < 1 || c.conns > 64 || c.fetchConns < 1 || c.fetchConns > 64:
		return fmt.Errorf("-conns and -fetch-conns must be 1..64")
	case c.idleFill < 0 || c.idleFill > 10000 || c.appendN < 0:
		return fmt.Errorf("-idle-fill must be 0..10000 and -append-n >= 0")
	case c.selectReps < 1 || c.selectReps > 1000 || c.syncReps < 1 || c.syncReps > 100 ||
		c.searchReps < 1 || c.searchReps > 100 || c.searchSlowReps < 1 || c.searchSlowReps > 100:
		return fmt.Errorf("repetition counts out of range")
	case c.fetchMax < 1 || c.fetchMax > 10_000_000 || c.fetchDur <= 0 || c.fetchDur > time.Hour:
		return fmt.Errorf("-fetch-max must be 1..10000000 and -fetch-time 0..1h")
	case c.idleConns < 1 || c.idleConns > 20000 || c.idleSetupConc < 1 || c.idleSetupConc > 256:
		return fmt.Errorf("-idle-conns must be 1..20000 and -idle-setup-conc 1..256")
	case c.idleHold <= 0 || c.idleHold > 10*time.Minute || c.idleSetupTimeout <= 0 || c.idleSetupTimeout > time.Hour ||
		c.idleConnTimeout <= 0 || c.idleConnTimeout > time.Hour:
		return fmt.Errorf("-idle-hold must be 0..10m and -idle-setup-timeout 0..1h")
	case c.searchTimeout <= 0 || c.searchTimeout > time.Hour || c.opTimeout <= 0 || c.opTimeout > time.Hour ||
		c.fillTimeout <= 0 || c.fillTimeout > 24*time.Hour:
		return fmt.Errorf("timeouts out of range")
	case c.sinceDays < 0 || c.sinceDays > 365:
		return fmt.Errorf("-since-days must be 0..365")
	case c.phases["idle"] && len(c.idleUsers) == 0:
		return fmt.Errorf("-idle-users is empty")
	}
	if c.metricsAddr != "" {
		if err := loadgen.CheckLoopback(c.metricsAddr); err != nil {
			return err
		}
	}
	return loadgen.CheckLoopback(c.addr)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[imapload %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// ---------------------------------------------------------------- connections

// noDeadlines hides the connection deadlines from imapclient: it arms a
// 30 s read deadline whenever it waits for a response, which would abort a
// long SEARCH. Every command here runs under its own watchdog instead
// (session.guard), which closes the connection when it expires.
type noDeadlines struct{ net.Conn }

func (noDeadlines) SetDeadline(time.Time) error      { return nil }
func (noDeadlines) SetReadDeadline(time.Time) error  { return nil }
func (noDeadlines) SetWriteDeadline(time.Time) error { return nil }

type session struct {
	c   *imapclient.Client
	raw net.Conn
}

// guard closes the connection if the returned stop function is not called
// within d; stop reports whether the watchdog had fired.
func (s *session) guard(d time.Duration) func() bool {
	t := time.AfterFunc(d, func() { s.raw.Close() })
	return func() bool { return !t.Stop() }
}

func (s *session) close() {
	if s != nil && s.c != nil {
		s.c.Close()
	}
}

// logout sends LOGOUT (bounded) and closes.
func (s *session) logout() {
	if s == nil || s.c == nil {
		return
	}
	stop := s.guard(5 * time.Second)
	s.c.Logout().Wait()
	stop()
	s.c.Close()
}

// connect dials, does TLS as configured, waits for the greeting and logs
// in, all under one watchdog of d.
func (c *config) connect(user string, d time.Duration) (*session, error) {
	dialer := net.Dialer{Timeout: min(d, 10*time.Second)}
	raw, err := dialer.Dial("tcp", c.addr)
	if err != nil {
		return nil, err
	}
	s := &session{raw: raw}
	fired := s.guard(d)
	var nc net.Conn = noDeadlines{raw}
	opts := &imapclient.Options{TLSConfig: c.tlsConf}
	switch c.tlsMode {
	case "implicit":
		tc := tls.Client(nc, c.tlsConf)
		if err = tc.Handshake(); err != nil {
			err = fmt.Errorf("TLS handshake: %w", err)
			break
		}
		s.c = imapclient.New(tc, opts)
	case "starttls":
		s.c, err = imapclient.NewStartTLS(nc, opts)
	default:
		s.c = imapclient.New(nc, opts)
	}
	if err == nil {
		err = s.c.WaitGreeting()
	}
	if err == nil {
		err = s.c.Login(user, c.pass).Wait()
		if err != nil {
			err = fmt.Errorf("LOGIN %s: %w", user, err)
		}
	}
	if fired() && err == nil {
		err = fmt.Errorf("connect+login: watchdog (%s) expired", d)
	}
	if err != nil {
		if fired() {
			err = fmt.Errorf("%w (watchdog %s expired)", err, d)
		}
		if s.c != nil {
			s.c.Close()
		}
		raw.Close()
		return nil, err
	}
	return s, nil
}

func (s *session) selectBox(name string, d time.Duration) (*imap.SelectData, error) {
	stop := s.guard(d)
	data, err := s.c.Select(name, nil).Wait()
	if stop() && err == nil {
		err = fmt.Errorf("SELECT: watchdog expired")
	}
	return data, err
}

// ---------------------------------------------------------------- messages

// generator makes message i of a seed deterministically: the same bytes for
// both servers, whatever the order in which the APPEND connections take them.
type generator struct{ seed uint64 }

func newGenerator(seed uint64) *generator { return &generator{seed: seed} }

// newest is the newest Date of the mailbox; messages span the 365 days
// before it, at 12:00 UTC +/- 3 h, so that the calendar day of a message is
// the same in any time zone a server may compare dates in (SINCE).
var newest = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

type meta struct {
	day       int // days before newest
	date      time.Time
	seen      bool
	flagged   bool
	subjHit   bool
	bodyHit   bool
	multipart bool
	size      int // target size
}

func (g *generator) rng(i int) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed, uint64(i)*0x9E3779B97F4A7C15+0x2545F4914F6CDD1D))
}

// meta draws the properties of message i first, so that expected search
// hits can be computed without building the bodies.
func (g *generator) meta(r *rand.Rand) meta {
	var m meta
	m.day = r.IntN(365)
	m.date = newest.AddDate(0, 0, -m.day).Add(time.Duration(r.IntN(6*3600)-3*3600) * time.Second).In(paris)
	m.seen = r.IntN(100) < 80
	m.flagged = r.IntN(100) < 5
	m.subjHit = r.IntN(100) < 5
	m.bodyHit = r.IntN(100) < 2
	m.multipart = r.IntN(100) < 30
	m.size = 4096 + r.IntN(10240-4096+1)
	return m
}

func (g *generator) metaOf(i int) meta { return g.meta(g.rng(i)) }

var paris = time.FixedZone("CET", 3600)

// The search words: the generator puts subjectWord in ~5 % of the subjects
// and bodyWord in ~2 % of the text parts, and nowhere else.
const (
	subjectWord = "echographie"
	bodyWord    = "tachycardie"
)

var firstNames = []string{"Camille", "Louis", "Chloé", "Hugo", "Léa", "Lucas", "Manon", "Jules", "Inès", "Gabriel", "Sarah", "Arthur",
	"Emma", "Nathan", "Zoé", "Paul", "Alice", "Thomas", "Julie", "Antoine"}
var lastNames = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
	"Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier"}
var orgs = []string{"chu-lyon", "chu-nantes", "ch-annecy", "clinique-pasteur", "cabinet-rivoli", "labo-biomed", "ch-valence", "ehpad-les-tilleuls"}

// topics: the subject word (-subject-word default) only ever appears in
// subjHit subjects; encoded-word subjects exercise RFC 2047 decoding.
var topics = []string{"Compte rendu de consultation", "Résultats de biologie", "Demande d'avis", "Lettre de liaison",
	"Ordonnance", "Compte rendu opératoire", "Courrier de sortie", "Bilan sanguin", "Suivi post-opératoire",
	"Demande de rendez-vous", "Dossier de transfert", "Compte rendu d'hospitalisation", "Résultats anatomopathologiques",
	"Avis de spécialiste", "Certificat médical", "Compte rendu de radiologie"}

// vocabulary of the bodies; neither the body word nor the subject word is in it.
var vocabulary = strings.Fields(`patient patiente consultation examen clinique antécédents traitement posologie
	comprimé matin soir pendant jours semaines surveillance tension artérielle fréquence cardiaque
	température normale stable amélioration douleur abdominale thoracique dyspnée toux fièvre
	bilan biologique hémoglobine plaquettes leucocytes créatinine clairance glycémie cholestérol
	radiographie scanner IRM injection contraste résultat compatible avec absence de signe
	infection inflammation contrôle dans mois rendez-vous prochain médecin traitant cordialement
	confraternellement merci pour votre adresse madame monsieur docteur service hôpital clinique
	allergie pénicilline diabète type hypertension insuffisance rénale chronique cardiaque
	hospitalisation sortie domicile kinésithérapie pansement cicatrisation ablation fils
	ordonnance renouvelable prescription arrêt travail reprise activité sport régime sans sel
	le la les un une des du de et ou mais donc car pour par sur sous avec sans dans chez`)

func mimeWord(s string) string {
	return "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
}

// message returns message i and its properties.
func (g *generator) message(i int) ([]byte, meta) {
	r := g.rng(i)
	m := g.meta(r)
	fromFirst, fromLast, fromOrg := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))], orgs[r.IntN(len(orgs))]
	toFirst, toLast := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	topic := topics[r.IntN(len(topics))]
	var subject string
	if m.subjHit {
		subject = "Resultats " + subjectWord + " abdominale - dossier " + strconv.Itoa(100000+r.IntN(900000))
	} else {
		subject = topic + " - dossier " + strconv.Itoa(100000+r.IntN(900000))
	}
	if r.IntN(100) < 30 {
		subject = mimeWord(subject)
	} else if !isASCII(subject) {
		subject = mimeWord(subject)
	}
	var b strings.Builder
	b.Grow(m.size + 512)
	fmt.Fprintf(&b, "Return-Path: <%s.%s@%s.mssante.fr>\r\n", lower(fromFirst), lower(fromLast), fromOrg)
	fmt.Fprintf(&b, "Received: from mta.%s.mssante.fr (mta.%s.mssante.fr [192.0.2.%d])\r\n\tby mx.example.test with ESMTPS id %08x\r\n\tfor <user0@example.test>; %s\r\n",
		fromOrg, fromOrg, 1+r.IntN(250), r.Uint32(), m.date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "From: %s <%s.%s@%s.mssante.fr>\r\n", mimeWord("Dr "+fromFirst+" "+fromLast), lower(fromFirst), lower(fromLast), fromOrg)
	fmt.Fprintf(&b, "To: %s <%s.%s@example.test>\r\n", mimeWord("Dr "+toFirst+" "+toLast), lower(toFirst), lower(toLast))
	fmt.Fprintf(&b, "Subject: %s\r\n", subject)
	fmt.Fprintf(&b, "Date: %s\r\n", m.date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%d.%08x.imapload@%s.mssante.fr>\r\n", i, r.Uint32(), fromOrg)
	b.WriteString("MIME-Version: 1.0\r\nX-Mailer: imapload\r\n")
	boundary := fmt.Sprintf("=_imapload_%016x", r.Uint64())
	var attach []byte
	if m.multipart {
		attach = make([]byte, 1024+r.IntN(2048))
		for k := range attach {
			attach[k] = byte(r.Uint32())
		}
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n--%s\r\n", boundary, boundary)
	}
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	// Text: lines of at most 76 bytes made of whole words, until the target size
	// (less the attachment) is reached.
	textSize := m.size - b.Len()
	if m.multipart {
		textSize -= base64.StdEncoding.EncodedLen(len(attach)) + len(attach)/57*2 + 300
	}
	textSize = max(textSize, 200)
	hitAt := -1
	if m.bodyHit {
		hitAt = r.IntN(max(textSize/8, 1))
	}
	written, words, line := 0, 0, 0
	for written < textSize {
		w := vocabulary[r.IntN(len(vocabulary))]
		if words == hitAt {
			w = bodyWord
		}
		words++
		if line > 0 && line+1+len(w) > 76 {
			b.WriteString("\r\n")
			written += 2
			line = 0
		}
		if line > 0 {
			b.WriteByte(' ')
			written++
			line++
		}
		b.WriteString(w)
		written += len(w)
		line += len(w)
	}
	if m.bodyHit && hitAt >= words { // text shorter than expected: put it at the end
		b.WriteString(" " + bodyWord)
	}
	b.WriteString("\r\n")
	if m.multipart {
		name := fmt.Sprintf("cr-%06d.pdf", r.IntN(1000000))
		fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: application/pdf; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
			boundary, name, name)
		enc := base64.StdEncoding.EncodeToString(attach)
		for len(enc) > 76 {
			b.WriteString(enc[:76])
			b.WriteString("\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc)
		fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	}
	return []byte(b.String()), m
}

// sample writes messages FROM..FROM+N-1 of a seed to stdout as an mbox-like
// stream (to look at what fill appends), and their size statistics to stderr.
func sample(args []string) error {
	fs := flag.NewFlagSet("imapload sample", flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "seed of the message generator")
	from := fs.Int("from", 0, "first message")
	n := fs.Int("n", 3, "number of messages (1..1000000)")
	quiet := fs.Bool("q", false, "statistics only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *n > 1_000_000 || *from < 0 {
		return fmt.Errorf("-n must be 1..1000000 and -from >= 0")
	}
	g := newGenerator(*seed)
	var total, lo, hi, multi, subj, body int
	lo = 1 << 30
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for i := *from; i < *from+*n; i++ {
		msg, m := g.message(i)
		total += len(msg)
		lo, hi = min(lo, len(msg)), max(hi, len(msg))
		for _, x := range []struct {
			b bool
			c *int
		}{{m.multipart, &multi}, {m.subjHit, &subj}, {m.bodyHit, &body}} {
			if x.b {
				*x.c++
			}
		}
		if !*quiet {
			fmt.Fprintf(w, "From imapload %s\r\n", m.date.Format(time.ANSIC))
			w.Write(msg)
			fmt.Fprintf(w, "\r\n")
		}
	}
	fmt.Fprintf(os.Stderr, "%d messages: size min %d mean %d max %d B; multipart %d, subject word %d, body word %d\n",
		*n, lo, total / *n, hi, multi, subj, body)
	return nil
}

func lower(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("é", "e", "è", "e", "ï", "i", "ô", "o").Replace(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (m meta) flags() []imap.Flag {
	var f []imap.Flag
	if m.seen {
		f = append(f, imap.FlagSeen)
	}
	if m.flagged {
		f = append(f, imap.FlagFlagged)
	}
	return f
}

// ---------------------------------------------------------------- results

type row struct{ metric, value, unit, note string }

func rowf(metric string, v float64, prec int, unit, note string) row {
	return row{metric, strconv.FormatFloat(v, 'f', prec, 64), unit, note}
}

func rowi(metric string, v int64, unit, note string) row {
	return row{metric, strconv.FormatInt(v, 10), unit, note}
}

type lats struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *lats) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *lats) pct(p int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return -1
	}
	sort.Slice(l.d, func(a, b int) bool { return l.d[a] < l.d[b] })
	return loadgen.Percentile(l.d, p)
}

func msf(d time.Duration) float64 { return float64(d) / 1e6 }

type firstErr struct {
	mu  sync.Mutex
	err string
	n   atomic.Int64
}

func (f *firstErr) set(err error) {
	f.n.Add(1)
	f.mu.Lock()
	if f.err == "" {
		f.err = strings.ReplaceAll(strings.ReplaceAll(err.Error(), "\t", " "), "\n", " ")
	}
	f.mu.Unlock()
}

func (f *firstErr) note() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == "" {
		return ""
	}
	return "first error: " + f.err
}

func appendTSV(path, label, phase string, rows []row) error {
	var cells [][]string
	for _, r := range rows {
		cells = append(cells, []string{label, phase, r.metric, loadgen.OrDash(r.value), loadgen.OrDash(r.unit), loadgen.OrDash(r.note)})
	}
	return loadgen.AppendTSV(path, []string{"target", "phase", "metric", "value", "unit", "note"}, cells)
}

// ---------------------------------------------------------------- phase: fill

func (c *config) fill() ([]row, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.fillTimeout)
	defer cancel()
	k := c.appendN
	if k <= 0 || k > c.n {
		k = c.n
	}
	rows, err := c.appendRange(ctx, 0, k, "append")
	if err != nil {
		return rows, err
	}
	if k < c.n {
		var more []row
		if c.maildir != "" {
			more, err = c.importMaildir(ctx, k, c.n)
		} else {
			more, err = c.appendRange(ctx, k, c.n, "fill_rest")
		}
		rows = append(rows, more...)
		if err != nil {
			return rows, err
		}
	}
	if c.idleFill > 0 {
		t1 := time.Now()
		var smallDone atomic.Int64
		var sfe firstErr
		var wg sync.WaitGroup
		for u, user := range c.idleUsers {
			wg.Go(func() {
				s, err := c.connect(user, c.opTimeout)
				if err != nil {
					sfe.set(err)
					return
				}
				defer s.logout()
				for j := 0; j < c.idleFill && ctx.Err() == nil; j++ {
					msg, m := c.gen.message(1_000_000_000 + u*100_000 + j)
					if err := s.append("INBOX", msg, m, c.opTimeout); err != nil {
						sfe.set(err)
						return
					}
					smallDone.Add(1)
				}
			})
		}
		wg.Wait()
		rows = append(rows, rowi("idle_users_fill", smallDone.Load(), "msgs",
			strings.TrimSpace(fmt.Sprintf("APPENDed, %d per IDLE user, in %.1fs %s", c.idleFill, time.Since(t1).Seconds(), sfe.note()))))
	}
	return rows, nil
}

// appendRange APPENDs messages lo..hi-1 over -conns connections; its rows
// are named prefix_*.
func (c *config) appendRange(ctx context.Context, lo, hi int, prefix string) ([]row, error) {
	var next, done atomic.Int64
	var bytes atomic.Int64
	var lat lats
	var fe firstErr
	next.Store(int64(lo))
	w := startWatch(c.watches, time.Second)
	t0 := time.Now()
	stopProgress := progress(func() string {
		d := done.Load()
		return fmt.Sprintf("%s: %s: %d/%d appended (%.0f msg/s)", c.label, prefix, d, hi-lo, float64(d)/time.Since(t0).Seconds())
	})
	var wg sync.WaitGroup
	for range min(c.conns, hi-lo) {
		wg.Go(func() {
			var s *session
			defer func() { s.logout() }()
			failures, i := 0, -1 // i: the message in hand, retried after a failure
			for ctx.Err() == nil && failures < 3 {
				if s == nil {
					var err error
					if s, err = c.connect(c.user, c.opTimeout); err != nil {
						fe.set(err)
						failures++
						continue
					}
				}
				if i < 0 {
					if i = int(next.Add(1) - 1); i >= hi {
						return
					}
				}
				msg, m := c.gen.message(i)
				t := time.Now()
				if err := s.append(c.mailbox, msg, m, c.opTimeout); err != nil {
					fe.set(fmt.Errorf("message %d: %w", i, err))
					failures++
					s.close()
					s = nil
					continue
				}
				failures, i = 0, -1
				lat.add(time.Since(t))
				done.Add(1)
				bytes.Add(int64(len(msg)))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	stopProgress()
	cpu, pss := w.stop()
	n := done.Load()
	name := func(s string) string {
		if prefix == "append" {
			return "append" + s
		}
		return prefix + s
	}
	rows := []row{
		rowi(map[bool]string{true: "appended", false: prefix + "_n"}[prefix == "append"], n, "msgs",
			fmt.Sprintf("messages %d..%d by APPEND, %d connections", lo, hi-1, min(c.conns, hi-lo))),
		rowf(name("_s"), elapsed.Seconds(), 1, "s", ""),
		rowf(name("_rate"), float64(n)/elapsed.Seconds(), 0, "msg/s", ""),
		rowf(name("_MBs"), float64(bytes.Load())/1e6/elapsed.Seconds(), 2, "MB/s", fmt.Sprintf("mean message %.0f B", float64(bytes.Load())/float64(max(n, 1)))),
		rowf(name("_p50"), msf(lat.pct(50)), 1, "ms", ""),
		rowf(name("_p99"), msf(lat.pct(99)), 1, "ms", ""),
		rowi(name("_fail"), fe.n.Load(), "", fe.note()),
	}
	rows = append(rows, w.rows(prefix, cpu, pss, n)...)
	if n < int64(hi-lo) {
		return rows, fmt.Errorf("only %d of %d messages appended (%s)", n, hi-lo, fe.note())
	}
	return rows, nil
}

// importMaildir writes messages lo..hi-1 straight into a maildir's cur/, as
// an import tool would: LF line ends (what Dovecot stores for an APPEND),
// S= and W= sizes and the flags in the name, the internal date as mtime,
// owned by -maildir-owner. The server indexes them at the next SELECT.
func (c *config) importMaildir(ctx context.Context, lo, hi int) ([]row, error) {
	cur := c.maildir + "/cur"
	if st, err := os.Stat(cur); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("-maildir: %s is not a directory (the APPEND step creates it)", cur)
	}
	uid, gid := -1, -1
	if c.maildirOwner != "" {
		u, g, ok := strings.Cut(c.maildirOwner, ":")
		var err1, err2 error
		uid, err1 = strconv.Atoi(u)
		gid, err2 = strconv.Atoi(g)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("-maildir-owner wants UID:GID, got %q", c.maildirOwner)
		}
	}
	t0 := time.Now()
	var bytes int64
	pid := os.Getpid()
	for i := lo; i < hi; i++ {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("import: fill deadline reached at message %d", i)
		}
		msg, m := c.gen.message(i)
		lf := []byte(strings.ReplaceAll(string(msg), "\r\n", "\n"))
		flags := ""
		if m.flagged {
			flags += "F"
		}
		if m.seen {
			flags += "S"
		}
		name := fmt.Sprintf("%d.M%dP%dQ%d.imapload,S=%d,W=%d:2,%s", m.date.Unix(), i%1000000, pid, i, len(lf), len(msg), flags)
		tmp := c.maildir + "/tmp/" + name
		if err := os.WriteFile(tmp, lf, 0o600); err != nil {
			return nil, err
		}
		if uid >= 0 {
			if err := os.Chown(tmp, uid, gid); err != nil {
				return nil, err
			}
		}
		if err := os.Chtimes(tmp, m.date, m.date); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, cur+"/"+name); err != nil {
			return nil, err
		}
		bytes += int64(len(msg))
	}
	elapsed := time.Since(t0)
	return []row{
		rowi("import_n", int64(hi-lo), "msgs", fmt.Sprintf("messages %d..%d written straight into %s (not IMAP: APPEND is O(n) per message in Dovecot maildir)", lo, hi-1, cur)),
		rowf("import_s", elapsed.Seconds(), 1, "s", "file writes only; the server indexes them at the next SELECT (select_first)"),
	}, nil
}

func (s *session) append(mailbox string, msg []byte, m meta, d time.Duration) error {
	stop := s.guard(d)
	cmd := s.c.Append(mailbox, int64(len(msg)), &imap.AppendOptions{Flags: m.flags(), Time: m.date})
	_, err := cmd.Write(msg)
	if cerr := cmd.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		_, err = cmd.Wait()
	}
	if stop() {
		return fmt.Errorf("APPEND: watchdog (%s) expired: %v", d, err)
	}
	return err
}

// progress logs f() every 10 s until stopped.
func progress(f func() string) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				logf("%s", f())
			}
		}
	}()
	return func() { close(done); <-finished }
}

// ---------------------------------------------------------------- phase: select

func (c *config) selectPhase() ([]row, error) {
	var sel, login lats
	var fe firstErr
	exists := uint32(0)
	firstSel := time.Duration(-1)
	w := startWatch(c.watches, time.Second)
	// The first SELECT after the fill is reported apart: it is where a
	// server catches up with messages it has not indexed yet (Dovecot after
	// a maildir import); p50/p99 are over the others.
	for k := 0; k <= c.selectReps; k++ {
		t := time.Now()
		s, err := c.connect(c.user, c.opTimeout)
		if err != nil {
			fe.set(err)
			continue
		}
		login.add(time.Since(t))
		t = time.Now()
		data, err := s.selectBox(c.mailbox, c.opTimeout)
		d := time.Since(t)
		switch {
		case err != nil:
			fe.set(err)
		case k == 0:
			firstSel = d
			exists = data.NumMessages
		default:
			sel.add(d)
			exists = data.NumMessages
		}
		s.logout()
	}
	cpu, pss := w.stop()
	sel.mu.Lock()
	all := make([]float64, len(sel.d))
	for i, d := range sel.d {
		all[i] = msf(d)
	}
	sel.mu.Unlock()
	logf("%s: SELECT ms: first %.1f, then %v", c.label, msf(firstSel), all)
	rows := []row{
		rowf("select_first", msf(firstSel), 1, "ms", "first SELECT after the fill"),
		rowf("select_p50", msf(sel.pct(50)), 1, "ms", fmt.Sprintf("%d more, each on a fresh connection", c.selectReps)),
		rowf("select_p99", msf(sel.pct(99)), 1, "ms", ""),
		rowi("select_exists", int64(exists), "msgs", ""),
		rowf("login_p50", msf(login.pct(50)), 1, "ms", map[bool]string{true: "TCP+TLS+LOGIN", false: "TCP+LOGIN (plain text)"}[c.tlsMode != "none"]),
		rowi("select_fail", fe.n.Load(), "", fe.note()),
	}
	rows = append(rows, w.rows("select", cpu, pss, int64(c.selectReps+1))...)
	if sel.pct(50) < 0 {
		return rows, fmt.Errorf("no SELECT succeeded: %s", fe.note())
	}
	return rows, nil
}

// ---------------------------------------------------------------- phase: fetch

var bodyFetch = &imap.FetchOptions{UID: true, Flags: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}

// fetchUID fetches one message and returns the body bytes read (0: no such UID).
func (s *session) fetchUID(uid imap.UID, d time.Duration) (int64, error) {
	stop := s.guard(d)
	cmd := s.c.Fetch(imap.UIDSetNum(uid), bodyFetch)
	var n int64
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			if bs, ok := item.(imapclient.FetchItemDataBodySection); ok && bs.Literal != nil {
				k, _ := io.Copy(io.Discard, bs.Literal)
				n += k
			}
		}
	}
	err := cmd.Close()
	if stop() {
		return n, fmt.Errorf("UID FETCH %d: watchdog expired: %v", uid, err)
	}
	return n, err
}

func (c *config) fetchPhase() ([]row, error) {
	// Set up every connection first (LOGIN and SELECT are not timed here).
	sessions := make([]*session, c.fetchConns)
	var uidNext imap.UID
	var fe firstErr
	for k := range sessions {
		s, err := c.connect(c.user, c.opTimeout)
		if err != nil {
			fe.set(err)
			continue
		}
		data, err := s.selectBox(c.mailbox, c.opTimeout)
		if err != nil {
			fe.set(err)
			s.close()
			continue
		}
		uidNext = data.UIDNext
		sessions[k] = s
	}
	if uidNext < 2 {
		for _, s := range sessions {
			s.logout()
		}
		return nil, fmt.Errorf("no usable connection or empty mailbox (%s)", fe.note())
	}
	var ops, misses, bytes atomic.Int64
	var lat lats
	deadline := time.Now().Add(c.fetchDur)
	w := startWatch(c.watches, time.Second)
	t0 := time.Now()
	var wg sync.WaitGroup
	for k, s := range sessions {
		if s == nil {
			continue
		}
		wg.Go(func() {
			defer s.logout()
			r := rand.New(rand.NewPCG(c.seed, uint64(1000+k)))
			for time.Now().Before(deadline) {
				if ops.Add(1) > int64(c.fetchMax) {
					ops.Add(-1)
					return
				}
				uid := imap.UID(1 + r.IntN(int(uidNext-1)))
				t := time.Now()
				n, err := s.fetchUID(uid, c.opTimeout)
				if err != nil {
					ops.Add(-1)
					fe.set(err)
					return
				}
				lat.add(time.Since(t))
				if n == 0 {
					misses.Add(1)
				}
				bytes.Add(n)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	cpu, pss := w.stop()
	n := ops.Load()
	rows := []row{
		rowf("fetch_rate", float64(n)/elapsed.Seconds(), 0, "msg/s", fmt.Sprintf("%d random UID FETCH n (FLAGS BODY.PEEK[]) in %.1fs over %d connections", n, elapsed.Seconds(), c.fetchConns)),
		rowf("fetch_MBs", float64(bytes.Load())/1e6/elapsed.Seconds(), 2, "MB/s", ""),
		rowf("fetch_p50", msf(lat.pct(50)), 2, "ms", ""),
		rowf("fetch_p99", msf(lat.pct(99)), 2, "ms", ""),
		rowi("fetch_miss", misses.Load(), "", "UIDs that returned no message"),
		rowi("fetch_fail", fe.n.Load(), "", fe.note()),
	}
	rows = append(rows, w.rows("fetch", cpu, pss, n)...)
	return rows, nil
}

// ---------------------------------------------------------------- phase: sync

var syncFetch = &imap.FetchOptions{UID: true, Flags: true, RFC822Size: true, InternalDate: true}

func (c *config) syncPhase() ([]row, error) {
	s, err := c.connect(c.user, c.opTimeout)
	if err != nil {
		return nil, err
	}
	defer func() { s.logout() }()
	if _, err := s.selectBox(c.mailbox, c.opTimeout); err != nil {
		return nil, err
	}
	var times []float64
	var count int64
	var fe firstErr
	w := startWatch(c.watches, time.Second)
	for k := 0; k < c.syncReps; k++ {
		t := time.Now()
		stop := s.guard(c.opTimeout)
		cmd := s.c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, syncFetch)
		var n int64
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			for item := msg.Next(); item != nil; item = msg.Next() {
			}
			n++
		}
		err := cmd.Close()
		if stop() {
			err = fmt.Errorf("UID FETCH 1:*: watchdog (%s) expired: %v", c.opTimeout, err)
		}
		if err != nil {
			fe.set(err)
			break
		}
		times = append(times, time.Since(t).Seconds())
		count = n
	}
	cpu, pss := w.stop()
	rows := []row{
		rowf("sync_first_s", first(times), 2, "s", fmt.Sprintf("UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE), %d messages", count)),
		rowf("sync_p50_s", median(times), 2, "s", fmt.Sprintf("%d repetitions", len(times))),
		rowf("sync_rate", float64(count)/median(times), 0, "msg/s", ""),
		rowi("sync_fail", fe.n.Load(), "", fe.note()),
	}
	rows = append(rows, w.rows("sync", cpu, pss, int64(len(times)))...)
	return rows, nil
}

func fmtMB(kb []float64) string {
	var b strings.Builder
	for i, x := range kb {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f", x/1024)
	}
	return b.String()
}

func first(xs []float64) float64 {
	if len(xs) == 0 {
		return -1
	}
	return xs[0]
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return -1
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ---------------------------------------------------------------- phase: search

type query struct {
	name     string
	criteria *imap.SearchCriteria
	reps     int
	expected int64
}

func (c *config) queries() []query {
	since := newest.AddDate(0, 0, -c.sinceDays)
	var subj, sinceN, unseen, body int64
	for i := 0; i < c.n; i++ {
		m := c.gen.metaOf(i)
		if m.subjHit {
			subj++
		}
		if m.day <= c.sinceDays {
			sinceN++
		}
		if !m.seen {
			unseen++
		}
		if m.bodyHit {
			body++
		}
	}
	return []query{
		{"header_subject", &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: subjectWord}}}, c.searchSlowReps, subj},
		{"since", &imap.SearchCriteria{Since: since}, c.searchReps, sinceN},
		{"unseen", &imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, c.searchReps, unseen},
		{"body", &imap.SearchCriteria{Body: []string{bodyWord}}, c.searchSlowReps, body},
	}
}

var queryText = map[string]func(c *config) string{
	"header_subject": func(c *config) string { return "UID SEARCH HEADER Subject " + subjectWord },
	"since": func(c *config) string {
		return "UID SEARCH SINCE " + newest.AddDate(0, 0, -c.sinceDays).Format("2-Jan-2006")
	},
	"unseen": func(c *config) string { return "UID SEARCH UNSEEN" },
	"body":   func(c *config) string { return "UID SEARCH BODY " + bodyWord },
}

func (c *config) searchPhase() ([]row, error) {
	var s *session
	defer func() { s.logout() }()
	open := func() error {
		var err error
		if s, err = c.connect(c.user, c.opTimeout); err != nil {
			return err
		}
		if _, err = s.selectBox(c.mailbox, c.opTimeout); err != nil {
			s.close()
			s = nil
		}
		return err
	}
	var rows []row
	for _, q := range c.queries() {
		var times []float64
		hits := int64(-1)
		capped := false
		var fe firstErr
		w := startWatch(c.watches, time.Second)
		for k := 0; k < q.reps; k++ {
			if s == nil {
				if err := open(); err != nil {
					return rows, err
				}
			}
			t := time.Now()
			stop := s.guard(c.searchTimeout)
			data, err := s.c.UIDSearch(q.criteria, nil).Wait()
			d := time.Since(t)
			if stop() {
				// The server may still be searching: wait until its CPU use
				// drops, so that the next measurement is not disturbed.
				capped = true
				times = append(times, c.searchTimeout.Seconds())
				s.close()
				s = nil
				waited := waitQuiet(c.watches, 3*time.Minute)
				logf("%s: %s hit the %s cap; the server was busy for %.0fs more", c.label, q.name, c.searchTimeout, waited.Seconds())
				break // no more repetitions of a query over the cap
			}
			if err != nil {
				fe.set(err)
				s.close()
				s = nil
				continue
			}
			times = append(times, d.Seconds())
			if data.Count > 0 || data.All == nil {
				hits = int64(data.Count)
			} else {
				hits = int64(len(data.AllUIDs()))
			}
		}
		cpu, pss := w.stop()
		note := fmt.Sprintf("%s; %d runs", queryText[q.name](c), len(times))
		if capped {
			note += fmt.Sprintf("; CAP %s HIT (value is the cap)", c.searchTimeout)
		}
		hitNote := fmt.Sprintf("expected %d", q.expected)
		if hits >= 0 && hits != q.expected {
			hitNote += " (MISMATCH: the mailbox does not hold exactly the -n generated messages, or a server searches differently)"
		}
		rows = append(rows,
			rowf("search_"+q.name+"_first", 1000*first(times), 0, "ms", note),
			rowf("search_"+q.name+"_p50", 1000*median(times), 0, "ms", ""),
			rowi("search_"+q.name+"_hits", hits, "msgs", hitNote),
		)
		if fe.n.Load() > 0 {
			rows = append(rows, rowi("search_"+q.name+"_fail", fe.n.Load(), "", fe.note()))
		}
		rows = append(rows, w.rows("search_"+q.name, cpu, pss, int64(len(times)))...)
	}
	return rows, nil
}

// ---------------------------------------------------------------- phase: idle

type idler struct {
	s    *session
	idle *imapclient.IdleCommand
}

func (c *config) idlePhase() ([]row, error) {
	// Warm-up: one login per user, so that one-off costs (a server's auth
	// cache filling, with mssanted one argon2id of 19 MiB per user; index
	// files opened) are not counted per connection; then a pause for the
	// server to settle.
	for _, u := range c.idleUsers {
		s, err := c.connect(u, c.opTimeout)
		if err != nil {
			return nil, fmt.Errorf("warm-up login of %s: %w", u, err)
		}
		if _, err := s.selectBox("INBOX", c.opTimeout); err != nil {
			s.close()
			return nil, fmt.Errorf("warm-up SELECT of %s: %w", u, err)
		}
		s.logout()
	}
	// Settle: a Go server keeps the garbage of the warm-up (argon2id) in its
	// heap until a collection, which only allocation (or the 2-minute forced
	// GC) triggers. Three SELECTs of the big mailbox allocate enough to run
	// a few collections; then the scavenger has 10 s to return the pages.
	for range 3 {
		s, err := c.connect(c.user, c.opTimeout)
		if err != nil {
			return nil, fmt.Errorf("settle login: %w", err)
		}
		_, err = s.selectBox(c.mailbox, c.opTimeout)
		s.logout()
		if err != nil {
			return nil, fmt.Errorf("settle SELECT: %w", err)
		}
	}
	time.Sleep(10 * time.Second)
	// PSS before: the mean of 3 samples, 1 s apart.
	before := 0.0
	for k := 0; k < 3; k++ {
		before += proc.TreesPSS(c.watches) / 3
		if k < 2 {
			time.Sleep(time.Second)
		}
	}
	procsBefore := proc.TreesProcs(c.watches)
	goBefore := c.goMetrics()
	cpu0 := proc.TreesCPU(c.watches)
	deadline := time.Now().Add(c.idleSetupTimeout)
	held := make([]*idler, c.idleConns)
	var fe firstErr
	var next, ok, inARow atomic.Int64
	var setup lats
	var gaveUp atomic.Pointer[string] // why the setup stopped early
	giveUp := func(why string) { gaveUp.CompareAndSwap(nil, &why) }
	t0 := time.Now()
	stopProgress := progress(func() string {
		return fmt.Sprintf("%s: idle: %d/%d connections in IDLE, %d failed", c.label, ok.Load(), c.idleConns, fe.n.Load())
	})
	var wg sync.WaitGroup
	for range c.idleSetupConc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= c.idleConns {
					return
				}
				left := time.Until(deadline)
				if left <= 0 {
					giveUp(fmt.Sprintf("setup deadline (%s) reached", c.idleSetupTimeout))
				}
				// A server that refused the last few connections in a row
				// has reached a limit: stop asking rather than time out
				// on every remaining connection.
				if inARow.Load() >= int64(3*c.idleSetupConc) {
					giveUp(fmt.Sprintf("stopped after %d failed connections in a row", inARow.Load()))
				}
				if gaveUp.Load() != nil {
					continue
				}
				t := time.Now()
				d := min(left, c.idleConnTimeout)
				fail := func(err error) {
					fe.set(fmt.Errorf("connection %d: %w", i, err))
					inARow.Add(1)
				}
				s, err := c.connect(c.idleUsers[i%len(c.idleUsers)], d)
				if err != nil {
					fail(err)
					continue
				}
				if _, err := s.selectBox("INBOX", d); err != nil {
					fail(fmt.Errorf("SELECT: %w", err))
					s.close()
					continue
				}
				stop := s.guard(d)
				idle, err := s.c.Idle()
				if stop() && err == nil {
					err = fmt.Errorf("IDLE: watchdog expired")
				}
				if err != nil {
					fail(fmt.Errorf("IDLE: %w", err))
					s.close()
					continue
				}
				inARow.Store(0)
				setup.add(time.Since(t))
				held[i] = &idler{s: s, idle: idle}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	setupS := time.Since(t0).Seconds()
	stopProgress()
	cpuSetup := proc.TreesCPU(c.watches) - cpu0
	// Connections the server dropped while we were opening the others.
	alive := func() int64 {
		var n int64
		for _, h := range held {
			if h == nil {
				continue
			}
			select {
			case <-h.s.c.Closed():
			default:
				n++
			}
		}
		return n
	}
	logf("%s: idle: %d connections in IDLE after %.1fs; holding %s", c.label, alive(), setupS, c.idleHold)
	time.Sleep(time.Second)
	var samples []float64
	var goDuring map[string]float64
	procs := 0
	holdEnd := time.Now().Add(c.idleHold)
	for time.Now().Before(holdEnd) {
		samples = append(samples, proc.TreesPSS(c.watches))
		procs = max(procs, proc.TreesProcs(c.watches))
		if goDuring == nil && time.Until(holdEnd) < c.idleHold/2 {
			goDuring = c.goMetrics()
		}
		time.Sleep(min(time.Second, max(time.Until(holdEnd), 0)))
	}
	during := median(samples)
	logf("%s: idle: PSS before %.1f MB, during (MB) %s", c.label, before/1024, fmtMB(samples))
	n := alive()
	cpuHold := proc.TreesCPU(c.watches) - cpu0 - cpuSetup
	// DONE, LOGOUT and close, bounded.
	t1 := time.Now()
	var closeErr firstErr
	work := make(chan *idler)
	var cw sync.WaitGroup
	for range 64 {
		cw.Go(func() {
			for h := range work {
				stop := h.s.guard(10 * time.Second)
				err := h.idle.Close()
				if err == nil {
					err = h.idle.Wait()
				}
				if err == nil {
					err = h.s.c.Logout().Wait()
				}
				if stop() || err != nil {
					closeErr.set(fmt.Errorf("DONE/LOGOUT: %v", err))
				}
				h.s.c.Close()
			}
		})
	}
	for _, h := range held {
		if h != nil {
			work <- h
		}
	}
	close(work)
	cw.Wait()
	time.Sleep(3 * time.Second)
	after := proc.TreesPSS(c.watches)
	why := ""
	if p := gaveUp.Load(); p != nil {
		why = *p
	}
	perConn := -1.0
	if n > 0 {
		perConn = (during - before) / float64(n)
	}
	rows := []row{
		rowi("idle_held", n, "conns", strings.TrimSuffix(fmt.Sprintf("of %d asked; %d failed to open, %d not tried; %s",
			c.idleConns, fe.n.Load(), int64(c.idleConns)-ok.Load()-fe.n.Load(), why), "; ")),
		rowf("idle_pss_before", before/1024, 1, "MB", fmt.Sprintf("%d processes", procsBefore)),
		rowf("idle_pss_during", during/1024, 1, "MB", fmt.Sprintf("median of %d samples over %s; up to %d processes", len(samples), c.idleHold, procs)),
		rowf("idle_per_conn", perConn, 1, "KB", "(PSS during - PSS before) / connections held"),
		rowf("idle_pss_after", after/1024, 1, "MB", "3 s after the last LOGOUT"),
		rowf("idle_setup_s", setupS, 1, "s", fmt.Sprintf("connect+login+SELECT+IDLE of all, %d at a time", c.idleSetupConc)),
		rowf("idle_setup_p50", msf(setup.pct(50)), 1, "ms", ""),
		rowf("idle_setup_cpu_ms", 1000*cpuSetup/float64(max(ok.Load(), 1)), 2, "ms/conn", "server CPU per connection opened"),
		rowf("idle_hold_cpu_s", cpuHold, 2, "s", "server CPU while holding"),
		rowi("idle_fail", fe.n.Load(), "", fe.note()),
		rowf("idle_close_s", time.Since(t1).Seconds(), 1, "s", closeErr.note()),
	}
	if goBefore != nil && goDuring != nil && n > 0 {
		per := func(k string) float64 { return (goDuring[k] - goBefore[k]) / float64(n) }
		rows = append(rows,
			rowf("idle_go_goroutines_per_conn", per("go_goroutines"), 2, "", "from /metrics, (during - before) / held"),
			rowf("idle_go_heap_inuse_per_conn", per("go_memstats_heap_inuse_bytes")/1024, 1, "KB",
				fmt.Sprintf("heap in use %.1f -> %.1f MB; next GC at %.1f MB", goBefore["go_memstats_heap_inuse_bytes"]/1e6,
					goDuring["go_memstats_heap_inuse_bytes"]/1e6, goDuring["go_memstats_next_gc_bytes"]/1e6)),
			rowf("idle_go_stack_per_conn", per("go_memstats_stack_inuse_bytes")/1024, 1, "KB", ""),
		)
	}
	return rows, nil
}

// goMetrics reads the Go collector's gauges from -metrics (nil without it
// or on error).
func (c *config) goMetrics() map[string]float64 {
	if c.metricsAddr == "" {
		return nil
	}
	conn, err := net.DialTimeout("tcp", c.metricsAddr, 5*time.Second)
	if err != nil {
		logf("%s: metrics: %v", c.label, err)
		return nil
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n", c.metricsAddr)
	out := map[string]float64{}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && strings.HasPrefix(f[0], "go_") {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				out[f[0]] = v
			}
		}
	}
	if len(out) == 0 {
		logf("%s: metrics: no go_* gauges at %s", c.label, c.metricsAddr)
		return nil
	}
	return out
}

// ---------------------------------------------------------------- server resources

// watcher samples the watched process trees: CPU seconds over the phase
// (utime+stime+cutime+cstime of every live process in the tree, children
// that exited included through their parent) and the peak summed PSS.
type watcher struct {
	ws           []proc.Watch
	cpu0         float64
	peak         float64
	stopSampling func()
}

func startWatch(ws []proc.Watch, every time.Duration) *watcher {
	w := &watcher{ws: ws, cpu0: proc.TreesCPU(ws)}
	w.stopSampling = proc.Every(every, func() { w.peak = max(w.peak, proc.TreesPSS(ws)) })
	return w
}

func (w *watcher) stop() (cpu, pssKB float64) {
	w.stopSampling()
	w.peak = max(w.peak, proc.TreesPSS(w.ws))
	return proc.TreesCPU(w.ws) - w.cpu0, w.peak
}

func (w *watcher) rows(prefix string, cpu, pss float64, ops int64) []row {
	if len(w.ws) == 0 {
		return nil
	}
	rows := []row{rowf(prefix+"_srv_cpu_s", cpu, 2, "s", "server process tree")}
	if ops > 0 {
		rows = append(rows, rowf(prefix+"_srv_cpu_ms_per_op", 1000*cpu/float64(ops), 3, "ms", ""))
	}
	return append(rows, rowf(prefix+"_srv_peak_pss", pss/1024, 1, "MB", ""))
}

// waitQuiet waits until the watched trees use less than 0.2 CPU over 1 s,
// at most max; it returns how long it waited.
func waitQuiet(ws []proc.Watch, limit time.Duration) time.Duration {
	t0 := time.Now()
	if len(ws) == 0 {
		time.Sleep(min(limit, 10*time.Second))
		return time.Since(t0)
	}
	last := proc.TreesCPU(ws)
	for time.Since(t0) < limit {
		time.Sleep(time.Second)
		cur := proc.TreesCPU(ws)
		if cur-last < 0.2 {
			break
		}
		last = cur
	}
	return time.Since(t0)
}

// ---------------------------------------------------------------- report

// better says, per metric suffix, whether a higher value is better.
func higherIsBetter(metric string) (bool, bool) {
	switch {
	case strings.HasSuffix(metric, "_rate"), strings.HasSuffix(metric, "_MBs"), metric == "idle_held":
		return true, true
	case strings.HasSuffix(metric, "_p50"), strings.HasSuffix(metric, "_p99"), strings.HasSuffix(metric, "_first"),
		strings.HasSuffix(metric, "_s"), strings.HasSuffix(metric, "_p50_s"), strings.HasSuffix(metric, "_first_s"),
		strings.HasSuffix(metric, "_per_op"), strings.HasSuffix(metric, "_per_conn"), strings.HasSuffix(metric, "_pss"),
		strings.HasSuffix(metric, "_cpu_ms"):
		return false, true
	}
	return false, false
}

// report prints the rows of a TSV side by side: one line per metric, one
// column per target, and the advantage of -ours over -ref (> 1: ours is
// better, whatever the direction of the metric).
func report(args []string) error {
	fs := flag.NewFlagSet("imapload report", flag.ContinueOnError)
	in := fs.String("in", "", "TSV written by -tsv")
	ours := fs.String("ours", "mssanted", "target whose advantage is computed")
	ref := fs.String("ref", "dovecot", "reference target")
	full := fs.Bool("all", false, "also print the CPU/PSS rows of every phase and the notes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	type key struct{ phase, metric string }
	var order []key
	vals := map[key]map[string]string{}
	units := map[key]string{}
	notes := map[key]map[string]string{}
	var targets []string
	seenT := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	header := true
	for sc.Scan() {
		if header {
			header = false
			continue
		}
		v := strings.Split(sc.Text(), "\t")
		if len(v) < 6 {
			continue
		}
		k := key{v[1], v[2]}
		if vals[k] == nil {
			order = append(order, k)
			vals[k] = map[string]string{}
			notes[k] = map[string]string{}
		}
		vals[k][v[0]] = v[3]
		units[k] = v[4]
		if v[5] != "-" {
			notes[k][v[0]] = v[5]
		}
		if !seenT[v[0]] {
			seenT[v[0]] = true
			targets = append(targets, v[0])
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	sort.SliceStable(targets, func(a, b int) bool { return targets[a] == *ours && targets[b] != *ours })
	head := []string{"phase", "metric", "unit"}
	head = append(head, targets...)
	head = append(head, *ours+" advantage")
	table := [][]string{head}
	var foot []string
	for _, k := range order {
		isRes := strings.Contains(k.metric, "_srv_")
		if isRes && !*full && !strings.HasSuffix(k.metric, "_per_op") {
			continue
		}
		// Failure counters only when something failed.
		if !*full && (strings.HasSuffix(k.metric, "_fail") || strings.HasSuffix(k.metric, "_miss")) {
			zero := true
			for _, t := range targets {
				zero = zero && (vals[k][t] == "0" || vals[k][t] == "")
			}
			if zero {
				continue
			}
		}
		r := []string{k.phase, k.metric, units[k]}
		for _, t := range targets {
			r = append(r, loadgen.OrDash(vals[k][t]))
		}
		adv := "-"
		if hib, ok := higherIsBetter(k.metric); ok {
			o, e1 := strconv.ParseFloat(vals[k][*ours], 64)
			x, e2 := strconv.ParseFloat(vals[k][*ref], 64)
			if e1 == nil && e2 == nil && o > 0 && x > 0 {
				a := x / o
				if hib {
					a = o / x
				}
				switch {
				case a >= 10:
					adv = strconv.FormatFloat(a, 'f', 0, 64)
				case a >= 0.1:
					adv = strconv.FormatFloat(a, 'f', 2, 64)
				default:
					adv = strconv.FormatFloat(a, 'g', 2, 64)
				}
			}
		}
		r = append(r, adv)
		table = append(table, r)
		for _, t := range targets {
			if n := notes[k][t]; n != "" && (*full || strings.Contains(n, "CAP") || strings.Contains(n, "MISMATCH") ||
				strings.Contains(n, "error") || strings.HasSuffix(k.metric, "_hits") || k.metric == "idle_held") {
				foot = append(foot, fmt.Sprintf("%s/%s, %s: %s", k.phase, k.metric, t, n))
			}
		}
	}
	loadgen.PrintTable(table)
	if len(foot) > 0 {
		fmt.Println()
		for _, l := range foot {
			fmt.Println("- " + l)
		}
	}
	return nil
}
