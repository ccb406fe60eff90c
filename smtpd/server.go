// Package smtpd is the SMTP door: submission for the instance's users
// (STARTTLS on 587, implicit TLS on 465) and the MX of the trust space
// (STARTTLS with a client certificate). Sessions hand every transaction to
// mailbox.Pipeline; go-smtp types stay in this package.
package smtpd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"mssanted/directory"
	"mssanted/mailbox"
)

// Config is what both kinds of listener share.
type Config struct {
	Hostname        string
	TLS             *tls.Config // the server certificate; MinVersion is forced to TLS 1.2
	MaxMessageBytes int64
	Pipeline        *mailbox.Pipeline
	Dir             *directory.Store
	// Anchors are the roots an operator's client certificate must chain to
	// (the MX only).
	Anchors *x509.CertPool
	// AuthFailureDelay is how long a failed AUTH waits before answering, to
	// slow down guessing; the lockout in directory stops it.
	AuthFailureDelay time.Duration
	Log              *slog.Logger
}

// DefaultMaxMessageBytes is 25 MB.
const DefaultMaxMessageBytes = 25 << 20

// Server is one SMTP listener.
type Server struct {
	s *smtp.Server

	// go-smtp v0.25 adds to its connection WaitGroup after Accept while
	// Shutdown may already be waiting on it (a race the detector reports).
	// Shutdown therefore closes the listeners itself and waits for every
	// accept loop to return before handing over to go-smtp.
	mu        sync.Mutex
	closed    bool
	listeners []net.Listener
	serving   sync.WaitGroup
}

// Serve accepts on ln until Shutdown; it returns nil after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners = append(s.listeners, ln)
	s.serving.Add(1)
	s.mu.Unlock()
	defer s.serving.Done()

	err := s.s.Serve(ln)
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits, until ctx ends, for the sessions in
// progress to finish their transactions.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	s.serving.Wait() // Accept fails at once on a closed listener
	err := s.s.Shutdown(ctx)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// NewSubmission returns the submission server for users. For implicit TLS
// (port 465) wrap the listener in tls.NewListener with the same TLS config.
func NewSubmission(c Config) *Server {
	return newServer(c, mailbox.Submission)
}

// NewMX returns the MX of the trust space: it requests a client certificate
// and checks it per transaction against the anchors and the whitelist.
func NewMX(c Config) *Server {
	return newServer(c, mailbox.MX)
}

func newServer(c Config, door mailbox.Door) *Server {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	tc := c.TLS.Clone()
	if tc.MinVersion < tls.VersionTLS12 {
		tc.MinVersion = tls.VersionTLS12
	}
	if door == mailbox.MX {
		// Requested, not required by the handshake: a missing or unlisted
		// certificate gets a 5.7.x reply that says why, not a TLS alert.
		tc.ClientAuth = tls.RequestClientCert
	}
	be := &backend{cfg: c, door: door}
	s := smtp.NewServer(be)
	s.Domain = c.Hostname
	s.TLSConfig = tc
	s.MaxMessageBytes = c.MaxMessageBytes
	s.MaxRecipients = mailbox.MaxRecipients
	s.MaxLineLength = 2000
	s.ReadTimeout = 5 * time.Minute // RFC 5321 4.5.3.2.7
	s.WriteTimeout = 5 * time.Minute
	s.EnableSMTPUTF8 = true
	s.EnableDSN = true
	s.AllowInsecureAuth = false
	s.ErrorLog = slog.NewLogLogger(c.Log.Handler(), slog.LevelWarn)
	return &Server{s: s}
}

type backend struct {
	cfg  Config
	door mailbox.Door
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	sessionsTotal.WithLabelValues(string(b.door)).Inc()
	s := &session{cfg: &b.cfg, door: b.door, conn: c, helo: c.Hostname()}
	if addr, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		s.remoteIP = addr.IP.String()
	}
	if st, ok := c.TLSConnectionState(); ok {
		s.tls = &st
	}
	return s, nil
}
