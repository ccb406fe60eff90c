// Command smtpload is the SMTP load generator of bench/smtp.sh: it sends N
// messages of S bytes over C concurrent sessions to one SMTP server on the
// loopback interface, then waits until the messages are durably delivered
// (a pluggable count) and reports acceptance and delivery rates.
//
//	smtpload -addr 127.0.0.1:2525 -n 2000 -size 10240 -sessions 20 \
//	    [-starttls -ca ca.pem -server-name mail.example.test] \
//	    [-auth-user bench@example.test -auth-pass-file F] \
//	    [-deliver-cmd 'shell command printing a count' | -deliver-sqlite DATA/mssanted.db] \
//	    [-watch name=PID ...] [-label NAME] [-tsv results.tsv]
//
//	smtpload report -in results.tsv [-ours mssanted -ref postfix+dovecot -sink smtp-sink]
//
// Each session keeps its connection for its share of the messages (like a
// real MTA); -one-per-conn opens a connection (and, with -starttls and
// -auth-user, a TLS handshake and an AUTH) per message instead. Message i
// goes to user(i mod users)@domain and carries a unique Message-ID.
//
// Every loop is bounded: the number of messages, a per-message watchdog
// (-msg-timeout), the phase deadline (-timeout) and the delivery wait, which
// gives up after -stall without progress or at -deliver-timeout. Only
// loopback addresses are accepted.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	_ "modernc.org/sqlite"

	"mssanted/bench/internal/loadgen"
	"mssanted/bench/internal/proc"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "report" {
		if err := report(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "smtpload report:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "smtpload:", err)
		os.Exit(1)
	}
}

type config struct {
	addr, label, from, domain, userPrefix    string
	n, size, sessions, users                 int
	onePerConn, startTLS                     bool
	caFile, serverName, authUser, authPass   string
	deliverCmd, deliverSQLite, tsv           string
	timeout, msgTimeout, stall, deliverLimit time.Duration
	interval                                 time.Duration
	watches                                  proc.WatchList
	tag                                      string
}

func run(args []string) error {
	var c config
	fs := flag.NewFlagSet("smtpload", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:25", "server HOST:PORT (loopback only)")
	fs.StringVar(&c.label, "label", "", "target name for the report (default: the address)")
	fs.IntVar(&c.n, "n", 100, "messages to send (1..1000000)")
	fs.IntVar(&c.size, "size", 10240, "size of each message in bytes, header included (512..67108864)")
	fs.IntVar(&c.sessions, "sessions", 20, "concurrent sessions (1..1000)")
	fs.BoolVar(&c.onePerConn, "one-per-conn", false, "one message per connection (default: each session reuses its connection)")
	fs.StringVar(&c.from, "from", "bench@example.test", "envelope sender")
	fs.StringVar(&c.domain, "domain", "example.test", "recipient domain")
	fs.StringVar(&c.userPrefix, "user-prefix", "user", "recipients are PREFIX0..PREFIX(users-1)@domain")
	fs.IntVar(&c.users, "users", 10, "number of recipients (1..10000)")
	fs.BoolVar(&c.startTLS, "starttls", false, "STARTTLS before anything else")
	fs.StringVar(&c.caFile, "ca", "", "PEM file of the CA to trust with -starttls (default: system roots)")
	fs.StringVar(&c.serverName, "server-name", "", "TLS server name to verify (default: the host of -addr)")
	fs.StringVar(&c.authUser, "auth-user", "", "AUTH PLAIN as this user (needs -starttls)")
	fs.StringVar(&c.authPass, "auth-pass", "", "password for -auth-user (prefer -auth-pass-file)")
	authPassFile := fs.String("auth-pass-file", "", "file whose first line is the password for -auth-user")
	fs.StringVar(&c.deliverCmd, "deliver-cmd", "", "shell command printing the number of delivered messages; polled until it grows by the number accepted")
	fs.StringVar(&c.deliverSQLite, "deliver-sqlite", "", "mssanted SQLite database: count this run's rows in messages (opened read-only)")
	fs.DurationVar(&c.interval, "interval", 50*time.Millisecond, "delivery poll interval")
	fs.DurationVar(&c.stall, "stall", 60*time.Second, "give up the delivery wait after this long without progress")
	fs.DurationVar(&c.deliverLimit, "deliver-timeout", 15*time.Minute, "give up the delivery wait after this long in total")
	fs.DurationVar(&c.timeout, "timeout", 15*time.Minute, "deadline of the sending phase; unsent messages count as failures")
	fs.DurationVar(&c.msgTimeout, "msg-timeout", 2*time.Minute, "per-message watchdog (connection closed when exceeded)")
	fs.Var(&c.watches, "watch", "name=PID: report the CPU seconds and peak PSS of this process tree during the phase (repeatable)")
	fs.StringVar(&c.tsv, "tsv", "", "append one result row to this TSV file (header written when new)")
	fs.StringVar(&c.tag, "tag", "", "Message-ID tag of this run (default: random)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *authPassFile != "" {
		var err error
		if c.authPass, err = loadgen.FirstLine(*authPassFile); err != nil {
			return err
		}
	}
	if err := c.validate(); err != nil {
		return err
	}
	if c.label == "" {
		c.label = c.addr
	}
	if c.tag == "" {
		b := make([]byte, 6)
		rand.Read(b)
		c.tag = hex.EncodeToString(b)
	}
	var tlsConf *tls.Config
	if c.startTLS {
		var err error
		if tlsConf, err = loadgen.TLSConfig(c.addr, c.serverName, c.caFile); err != nil {
			return err
		}
	}
	counter, err := c.counter()
	if err != nil {
		return err
	}
	if counter != nil {
		defer counter.close()
	}
	return c.phase(tlsConf, counter)
}

func (c *config) validate() error {
	switch {
	case c.n < 1 || c.n > 1_000_000:
		return fmt.Errorf("-n must be 1..1000000")
	case c.size < 512 || c.size > 64<<20:
		return fmt.Errorf("-size must be 512..67108864")
	case c.sessions < 1 || c.sessions > 1000:
		return fmt.Errorf("-sessions must be 1..1000")
	case c.users < 1 || c.users > 10000:
		return fmt.Errorf("-users must be 1..10000")
	case c.authUser != "" && !c.startTLS:
		return fmt.Errorf("-auth-user needs -starttls (no password in clear text)")
	case c.authUser != "" && c.authPass == "":
		return fmt.Errorf("-auth-user needs -auth-pass or -auth-pass-file")
	case c.deliverCmd != "" && c.deliverSQLite != "":
		return fmt.Errorf("-deliver-cmd and -deliver-sqlite are exclusive")
	case c.interval < 10*time.Millisecond || c.stall <= 0 || c.deliverLimit <= 0 || c.timeout <= 0 || c.msgTimeout <= 0:
		return fmt.Errorf("durations must be positive (interval at least 10ms)")
	case c.timeout > 24*time.Hour || c.deliverLimit > 24*time.Hour:
		return fmt.Errorf("-timeout and -deliver-timeout are at most 24h")
	}
	return loadgen.CheckLoopback(c.addr)
}

// ---------------------------------------------------------------- messages

// bodyLine is one line of the filler body: 76 characters and CRLF, never a
// leading dot (so DATA needs no dot-stuffing).
const bodyLine = "The quick brown fox jumps over the lazy dog; Portez ce vieux whisky au juge.\r\n"

// message returns message i: a header with a unique Message-ID, then filler
// up to exactly size bytes.
func (c *config) message(i int, filler []byte) []byte {
	rcpt := c.rcpt(i)
	h := fmt.Sprintf("From: Bench <%s>\r\nTo: <%s>\r\nSubject: smtpload %s %d\r\nDate: %s\r\n"+
		"Message-ID: <%s.%d@smtpload.bench.test>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: text/plain; charset=us-ascii\r\n\r\n",
		c.from, rcpt, c.tag, i, time.Now().Format(time.RFC1123Z), c.tag, i)
	msg := make([]byte, 0, c.size)
	msg = append(msg, h...)
	rest := c.size - len(msg)
	if rest < 2 {
		rest = 2
	}
	// filler is long enough and made of whole lines; cut it so that it
	// still ends with CRLF.
	body := filler[len(filler)-rest:]
	for len(body) > 0 && body[0] == '.' {
		body = body[1:]
	}
	msg = append(msg, body...)
	if bytes.Contains(msg, []byte("\n.")) { // never with this filler; keep DATA transparent anyway
		msg = bytes.ReplaceAll(msg, []byte("\n."), []byte("\n.."))
	}
	return msg
}

func (c *config) rcpt(i int) string {
	return fmt.Sprintf("%s%d@%s", c.userPrefix, i%c.users, c.domain)
}

func filler(size int) []byte {
	var b strings.Builder
	for b.Len() < size+len(bodyLine) {
		b.WriteString(bodyLine)
	}
	return []byte(b.String())
}

// ---------------------------------------------------------------- sending

type result struct {
	ok, fail   atomic.Int64
	mu         sync.Mutex
	lat        []time.Duration // MAIL .. 250 after DATA (one-per-conn: connect .. 250)
	setup      []time.Duration // connect .. ready to send (greeting, EHLO, STARTTLS, AUTH)
	last250    time.Time
	firstError string
}

func (r *result) done(lat time.Duration, at time.Time) {
	r.ok.Add(1)
	r.mu.Lock()
	r.lat = append(r.lat, lat)
	if at.After(r.last250) {
		r.last250 = at
	}
	r.mu.Unlock()
}

func (r *result) failed(err error) {
	r.fail.Add(1)
	r.mu.Lock()
	if r.firstError == "" {
		r.firstError = err.Error()
	}
	r.mu.Unlock()
}

func (r *result) addSetup(d time.Duration) {
	r.mu.Lock()
	r.setup = append(r.setup, d)
	r.mu.Unlock()
}

// conn is one SMTP session ready for MAIL. It is a minimal client over
// net/textproto rather than go-smtp's: go-smtp writes DATA through
// textproto's dot-stuffing writer byte by byte, which cost the generator
// ~3.4 ms of CPU per MiB (72 % of its CPU with 1 MiB messages) on 2 cores
// shared with the servers; the messages built here never need stuffing, so
// DATA is written as it is.
type conn struct {
	raw net.Conn // TCP
	nc  net.Conn // raw, or the TLS connection over it after STARTTLS
	tp  *textproto.Conn
}

// replyError is an SMTP reply other than the expected one.
type replyError struct {
	cmd string
	err *textproto.Error
}

func (e *replyError) Error() string { return fmt.Sprintf("%s: %d %s", e.cmd, e.err.Code, e.err.Msg) }

// cmd sends one command and reads its reply, which must have code want.
func (s *conn) cmd(want int, name, format string, args ...any) (string, error) {
	id, err := s.tp.Cmd(format, args...)
	if err != nil {
		return "", err
	}
	s.tp.StartResponse(id)
	defer s.tp.EndResponse(id)
	return s.reply(want, name)
}

func (s *conn) reply(want int, name string) (string, error) {
	_, msg, err := s.tp.ReadResponse(want)
	var te *textproto.Error
	if errors.As(err, &te) {
		return msg, &replyError{cmd: name, err: te}
	}
	return msg, err
}

func (s *conn) close(quit bool) {
	if quit {
		s.nc.SetDeadline(time.Now().Add(5 * time.Second))
		s.cmd(221, "QUIT", "QUIT")
	}
	s.nc.Close()
}

const heloName = "smtpload.bench.test"

func (c *config) connect(ctx context.Context, tlsConf *tls.Config) (*conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	raw.SetDeadline(time.Now().Add(c.msgTimeout)) // bounds the whole setup
	s := &conn{raw: raw, nc: raw, tp: textproto.NewConn(raw)}
	fail := func(err error) (*conn, error) {
		raw.Close()
		return nil, err
	}
	if _, err := s.reply(220, "greeting"); err != nil {
		return fail(err)
	}
	ehlo, err := s.cmd(250, "EHLO", "EHLO %s", heloName)
	if err != nil {
		return fail(err)
	}
	if tlsConf != nil {
		if !hasExt(ehlo, "STARTTLS") {
			return fail(fmt.Errorf("server does not offer STARTTLS"))
		}
		if _, err := s.cmd(220, "STARTTLS", "STARTTLS"); err != nil {
			return fail(err)
		}
		tc := tls.Client(raw, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(fmt.Errorf("TLS handshake: %w", err))
		}
		s.nc, s.tp = tc, textproto.NewConn(tc)
		if ehlo, err = s.cmd(250, "EHLO", "EHLO %s", heloName); err != nil {
			return fail(err)
		}
	}
	if c.authUser != "" {
		if !hasExt(ehlo, "AUTH") {
			return fail(fmt.Errorf("server does not offer AUTH"))
		}
		mech, ir, err := sasl.NewPlainClient("", c.authUser, c.authPass).Start()
		if err != nil {
			return fail(err)
		}
		if _, err := s.cmd(235, "AUTH", "AUTH %s %s", mech, base64.StdEncoding.EncodeToString(ir)); err != nil {
			return fail(err)
		}
	}
	raw.SetDeadline(time.Time{})
	return s, nil
}

// hasExt reports whether an EHLO reply (lines after the first) names ext.
func hasExt(ehlo, ext string) bool {
	for _, l := range strings.Split(ehlo, "\n")[1:] {
		if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], ext) {
			return true
		}
	}
	return false
}

// send runs one transaction; it reports whether the session is still usable.
func (c *config) send(s *conn, i int, msg []byte) (bool, error) {
	s.nc.SetDeadline(time.Now().Add(c.msgTimeout))
	defer s.nc.SetDeadline(time.Time{})
	if _, err := s.cmd(250, "MAIL", "MAIL FROM:<%s>", c.from); err != nil {
		return usable(err), err
	}
	if _, err := s.cmd(250, "RCPT", "RCPT TO:<%s>", c.rcpt(i)); err != nil {
		return usable(err), err
	}
	if _, err := s.cmd(354, "DATA", "DATA"); err != nil {
		return usable(err), err
	}
	// msg ends with CRLF and has no line starting with a dot (message()).
	s.tp.W.Write(msg)
	s.tp.W.WriteString(".\r\n")
	if err := s.tp.W.Flush(); err != nil {
		return false, fmt.Errorf("DATA write: %w", err)
	}
	if _, err := s.reply(250, "end of DATA"); err != nil {
		return usable(err), err
	}
	return true, nil
}

// usable: after an SMTP reply error the session can go on (with RSET);
// after a network error or a 421 it cannot.
func usable(err error) bool {
	var re *replyError
	return errors.As(err, &re) && re.err.Code != 421
}

func (c *config) session(ctx context.Context, tlsConf *tls.Config, idx []int, filler []byte, res *result, track func(net.Conn) func()) {
	var s *conn
	closeS := func(quit bool) {
		if s != nil {
			s.close(quit)
			s = nil
		}
	}
	defer closeS(true)
	setupFailures := 0
	for k, i := range idx {
		if ctx.Err() != nil {
			for range idx[k:] {
				res.failed(fmt.Errorf("phase deadline (-timeout %s) reached", c.timeout))
			}
			return
		}
		msg := c.message(i, filler)
		start := time.Now()
		if s == nil {
			var err error
			s, err = c.connect(ctx, tlsConf)
			if err != nil {
				res.failed(fmt.Errorf("connect: %w", err))
				setupFailures++
				if setupFailures >= 3 { // do not hammer a server that refuses us
					for range idx[k+1:] {
						res.failed(fmt.Errorf("session gave up after 3 failed connections: %w", err))
					}
					return
				}
				continue
			}
			setupFailures = 0
			res.addSetup(time.Since(start))
		}
		untrack := track(s.raw)
		t0 := time.Now()
		if c.onePerConn {
			t0 = start
		}
		ok, err := c.send(s, i, msg)
		untrack()
		if err != nil {
			res.failed(err)
			if ok {
				s.nc.SetDeadline(time.Now().Add(c.msgTimeout))
				_, rerr := s.cmd(250, "RSET", "RSET")
				s.nc.SetDeadline(time.Time{})
				if rerr == nil {
					continue
				}
			}
			closeS(false)
			continue
		}
		now := time.Now()
		res.done(now.Sub(t0), now)
		if c.onePerConn {
			closeS(true)
		}
	}
}

func (c *config) phase(tlsConf *tls.Config, counter *counter) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	fill := filler(c.size)

	// Open connections are closed when the phase deadline passes, so that
	// no session outlives it.
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	track := func(nc net.Conn) func() {
		mu.Lock()
		open[nc] = true
		mu.Unlock()
		return func() { mu.Lock(); delete(open, nc); mu.Unlock() }
	}
	stopKill := context.AfterFunc(ctx, func() {
		mu.Lock()
		for nc := range open {
			nc.Close()
		}
		mu.Unlock()
	})
	defer stopKill()

	base := int64(0)
	if counter != nil {
		var err error
		if base, err = counter.count(); err != nil {
			return fmt.Errorf("delivery count before the phase: %w", err)
		}
	}
	w := startWatch(c.watches)
	selfCPU0 := proc.TreeCPU(os.Getpid())
	sessions := min(c.sessions, c.n)
	shares := make([][]int, sessions)
	for i := 0; i < c.n; i++ {
		shares[i%sessions] = append(shares[i%sessions], i)
	}
	res := &result{}
	fmt.Fprintf(os.Stderr, "smtpload: %s: %d x %d B over %d sessions (%s) -> %s\n", c.label, c.n, c.size, sessions,
		map[bool]string{true: "one message per connection", false: "connections reused"}[c.onePerConn], c.addr)
	t0 := time.Now()
	var wg sync.WaitGroup
	for _, share := range shares {
		wg.Go(func() { c.session(ctx, tlsConf, share, fill, res, track) })
	}
	wg.Wait()
	tEnd := time.Now()
	ok, fail := res.ok.Load(), res.fail.Load()
	acceptS := tEnd.Sub(t0).Seconds()
	if ok > 0 {
		acceptS = res.last250.Sub(t0).Seconds()
	}

	// Delivery: poll the count until it has grown by the number accepted.
	deliverS, delivered := -1.0, int64(-1)
	if counter != nil && ok > 0 {
		delivered, deliverS = c.waitDelivered(counter, base, ok, t0)
	}
	cpu, pss := w.stop()
	loadCPU := proc.TreeCPU(os.Getpid()) - selfCPU0

	sort.Slice(res.lat, func(a, b int) bool { return res.lat[a] < res.lat[b] })
	sort.Slice(res.setup, func(a, b int) bool { return res.setup[a] < res.setup[b] })
	row := map[string]string{
		"target": c.label, "size": strconv.Itoa(c.size), "msgs": strconv.Itoa(c.n), "sessions": strconv.Itoa(sessions),
		"mode":         map[bool]string{true: "per-conn", false: "reuse"}[c.onePerConn],
		"accepted":     strconv.FormatInt(ok, 10),
		"fail":         strconv.FormatInt(fail, 10),
		"accept_s":     f3(acceptS),
		"accept_msgs":  f1(float64(ok) / acceptS),
		"accept_MBs":   f1(float64(ok) * float64(c.size) / 1e6 / acceptS),
		"p50_ms":       ms(loadgen.Percentile(res.lat, 50)),
		"p99_ms":       ms(loadgen.Percentile(res.lat, 99)),
		"setup_p50_ms": ms(loadgen.Percentile(res.setup, 50)),
		"deliver_s":    "-", "deliver_msgs": "-", "delivered": "-",
		"srv_cpu_s": cpu, "srv_pss_MB": pss, "load_cpu_s": f2(loadCPU),
		"first_error": strings.ReplaceAll(strings.ReplaceAll(res.firstError, "\t", " "), "\n", " "),
	}
	if delivered >= 0 {
		row["delivered"] = strconv.FormatInt(delivered, 10)
		row["deliver_s"] = f3(deliverS)
		row["deliver_msgs"] = f1(float64(delivered) / deliverS)
	}
	var line []string
	for _, k := range columns {
		line = append(line, k+"="+loadgen.OrDash(row[k]))
	}
	fmt.Println(strings.Join(line, " "))
	if c.tsv != "" {
		if err := appendTSV(c.tsv, row); err != nil {
			return err
		}
	}
	if fail > 0 {
		fmt.Fprintf(os.Stderr, "smtpload: %s: %d of %d messages failed; first error: %s\n", c.label, fail, c.n, res.firstError)
	}
	if delivered >= 0 && delivered < ok {
		fmt.Fprintf(os.Stderr, "smtpload: %s: only %d of %d accepted messages delivered\n", c.label, delivered, ok)
	}
	return nil
}

func (c *config) waitDelivered(counter *counter, base, want int64, t0 time.Time) (int64, float64) {
	deadline := time.Now().Add(c.deliverLimit)
	last, lastChange := int64(-1), time.Now()
	for {
		n, err := counter.count()
		now := time.Now()
		if err != nil {
			fmt.Fprintf(os.Stderr, "smtpload: delivery count: %v\n", err)
		} else {
			if n-base >= want {
				return n - base, now.Sub(t0).Seconds()
			}
			if n != last {
				last, lastChange = n, now
			}
		}
		if now.Sub(lastChange) > c.stall || now.After(deadline) {
			fmt.Fprintf(os.Stderr, "smtpload: delivery wait gave up (no progress for %s, or %s in total)\n", c.stall, c.deliverLimit)
			got := max(last-base, 0)
			return got, now.Sub(t0).Seconds()
		}
		time.Sleep(c.interval)
	}
}

// ---------------------------------------------------------------- delivery counters

type counter struct {
	count func() (int64, error)
	close func()
}

func (c *config) counter() (*counter, error) {
	switch {
	case c.deliverCmd != "":
		return &counter{count: func() (int64, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, "sh", "-c", c.deliverCmd).Output()
			if err != nil {
				return 0, fmt.Errorf("%q: %w", c.deliverCmd, err)
			}
			n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%q printed %q, not a count", c.deliverCmd, out)
			}
			return n, nil
		}, close: func() {}}, nil
	case c.deliverSQLite != "":
		path, err := filepath.Abs(c.deliverSQLite)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)&_pragma=query_only(1)")
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		pattern := "<" + c.tag + ".%"
		return &counter{count: func() (int64, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var n int64
			err := db.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE message_id LIKE ?`, pattern).Scan(&n)
			return n, err
		}, close: func() { db.Close() }}, nil
	}
	return nil, nil
}

// ---------------------------------------------------------------- server resources

// watcher samples the process trees of the watched PIDs: CPU seconds over the
// phase (utime+stime+cutime+cstime of every live process in the tree, so that
// children that exit during the phase still count through their parent) and
// the peak of the summed PSS, sampled every 200 ms.
type watcher struct {
	ws           []proc.Watch
	cpu0         []float64
	peak         []float64
	stopSampling func()
}

func startWatch(ws []proc.Watch) *watcher {
	w := &watcher{ws: ws, peak: make([]float64, len(ws))}
	for _, x := range ws {
		w.cpu0 = append(w.cpu0, proc.TreeCPU(x.PID))
	}
	w.stopSampling = proc.Every(200*time.Millisecond, func() {
		for i, x := range w.ws {
			w.peak[i] = max(w.peak[i], proc.TreePSS(x.PID))
		}
	})
	return w
}

// stop returns "name:cpu,name:cpu" and "name:pss,..." (a single number when
// one tree is watched, "-" when none).
func (w *watcher) stop() (string, string) {
	w.stopSampling()
	if len(w.ws) == 0 {
		return "-", "-"
	}
	var cpu, pss []string
	var tc, tp float64
	for i, x := range w.ws {
		c := proc.TreeCPU(x.PID) - w.cpu0[i]
		tc += c
		tp += w.peak[i]
		cpu = append(cpu, fmt.Sprintf("%s:%.2f", x.Name, c))
		pss = append(pss, fmt.Sprintf("%s:%.1f", x.Name, w.peak[i]/1024))
	}
	if len(w.ws) == 1 {
		return f2(tc), f1(tp / 1024)
	}
	return f2(tc) + "(" + strings.Join(cpu, ",") + ")", f1(tp/1024) + "(" + strings.Join(pss, ",") + ")"
}

// ---------------------------------------------------------------- output

var columns = []string{"target", "size", "msgs", "sessions", "mode", "accepted", "fail", "accept_s", "accept_msgs", "accept_MBs",
	"p50_ms", "p99_ms", "setup_p50_ms", "deliver_s", "deliver_msgs", "delivered", "srv_cpu_s", "srv_pss_MB", "load_cpu_s", "first_error"}

func appendTSV(path string, row map[string]string) error {
	var vals []string
	for _, k := range columns {
		vals = append(vals, loadgen.OrDash(row[k]))
	}
	return loadgen.AppendTSV(path, columns, [][]string{vals})
}

func ms(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return f1(float64(d) / 1e6)
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
func f3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// ---------------------------------------------------------------- report

// report prints the result table of a TSV written by -tsv (medians when a
// target and size appear several times) and the ratios of -ours to -ref and
// to -sink.
func report(args []string) error {
	fs := flag.NewFlagSet("smtpload report", flag.ContinueOnError)
	in := fs.String("in", "", "TSV written by -tsv")
	ours := fs.String("ours", "mssanted", "target whose ratios are printed")
	ref := fs.String("ref", "postfix+dovecot", "reference target")
	sink := fs.String("sink", "smtp-sink", "accept-and-discard ceiling")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	type key struct{ target, size string }
	var order []key
	rows := map[key][]map[string]string{}
	sc := bufio.NewScanner(f)
	var hdr []string
	for sc.Scan() {
		vals := strings.Split(sc.Text(), "\t")
		if hdr == nil {
			hdr = vals
			continue
		}
		r := map[string]string{}
		for i, h := range hdr {
			if i < len(vals) {
				r[h] = vals[i]
			}
		}
		k := key{r["target"], r["size"]}
		if _, ok := rows[k]; !ok {
			order = append(order, k)
		}
		rows[k] = append(rows[k], r)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	// median of a numeric column ("-" when absent); for "12.3(a:1,b:2)"
	// the leading number counts.
	med := func(rs []map[string]string, col string) (float64, bool) {
		var xs []float64
		for _, r := range rs {
			v := r[col]
			if i := strings.IndexByte(v, '('); i >= 0 {
				v = v[:i]
			}
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				xs = append(xs, x)
			}
		}
		if len(xs) == 0 {
			return 0, false
		}
		sort.Float64s(xs)
		if len(xs)%2 == 1 {
			return xs[len(xs)/2], true
		}
		return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2, true
	}
	cell := func(rs []map[string]string, col string, prec int) string {
		v, ok := med(rs, col)
		if !ok {
			return "-"
		}
		return strconv.FormatFloat(v, 'f', prec, 64)
	}
	sizeName := func(s string) string {
		n, _ := strconv.Atoi(s)
		switch {
		case n >= 1<<20 && n%(1<<20) == 0:
			return fmt.Sprintf("%d MiB", n>>20)
		case n >= 1<<10 && n%(1<<10) == 0:
			return fmt.Sprintf("%d KiB", n>>10)
		}
		return s + " B"
	}
	head := []string{"target", "size", "runs", "msgs", "accept s", "accept msg/s", "accept MB/s", "p50 ms", "p99 ms", "setup p50 ms",
		"delivered s", "delivered msg/s", "fail", "server CPU s", "CPU ms/msg", "peak PSS MB", "smtpload CPU s"}
	table := [][]string{head}
	for _, k := range order {
		rs := rows[k]
		cpuMs := "-"
		if cpu, ok := med(rs, "srv_cpu_s"); ok {
			if n, ok := med(rs, "accepted"); ok && n > 0 {
				cpuMs = f2(cpu * 1000 / n)
			}
		}
		fails := 0
		for _, r := range rs {
			n, _ := strconv.Atoi(r["fail"])
			fails += n
		}
		table = append(table, []string{k.target, sizeName(k.size), strconv.Itoa(len(rs)), rs[0]["msgs"],
			cell(rs, "accept_s", 2), cell(rs, "accept_msgs", 0), cell(rs, "accept_MBs", 1), cell(rs, "p50_ms", 1), cell(rs, "p99_ms", 1), cell(rs, "setup_p50_ms", 1),
			cell(rs, "deliver_s", 2), cell(rs, "deliver_msgs", 0), strconv.Itoa(fails), cell(rs, "srv_cpu_s", 2), cpuMs, cell(rs, "srv_pss_MB", 1), cell(rs, "load_cpu_s", 2)})
	}
	loadgen.PrintTable(table)

	fmt.Println()
	ratio := func(a, b []map[string]string, ca, cb string) string {
		x, ok1 := med(a, ca)
		y, ok2 := med(b, cb)
		if !ok1 || !ok2 || y == 0 {
			return "-"
		}
		return f2(x / y)
	}
	rt := [][]string{{"size", *ours + "/" + *ref + " accept", *ours + "/" + *ref + " delivered", *ours + "/" + *sink + " accept",
		*ref + "/" + *sink + " accept", *ref + "/" + *ours + " CPU per msg"}}
	seen := map[string]bool{}
	for _, k := range order {
		if seen[k.size] {
			continue
		}
		seen[k.size] = true
		o, r, s := rows[key{*ours, k.size}], rows[key{*ref, k.size}], rows[key{*sink, k.size}]
		cpuRatio := "-"
		if oc, ok := med(o, "srv_cpu_s"); ok {
			if rc, ok := med(r, "srv_cpu_s"); ok && oc > 0 {
				on, _ := med(o, "accepted")
				rn, _ := med(r, "accepted")
				if on > 0 && rn > 0 {
					cpuRatio = f2((rc / rn) / (oc / on))
				}
			}
		}
		rt = append(rt, []string{sizeName(k.size), ratio(o, r, "accept_msgs", "accept_msgs"), ratio(o, r, "deliver_msgs", "deliver_msgs"),
			ratio(o, s, "accept_msgs", "accept_msgs"), ratio(r, s, "accept_msgs", "accept_msgs"), cpuRatio})
	}
	fmt.Println("Ratios (of the msg/s columns above; > 1 means the first is faster; last column > 1 means " + *ours + " uses less CPU per message):")
	loadgen.PrintTable(rt)
	return nil
}
