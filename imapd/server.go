// Package imapd is the IMAP door: a thin adapter from go-imap v2's
// imapserver to mailbox.Access. Every state (folders, UIDs, flags, MODSEQ,
// the changelog) lives in mailbox/; this package keeps only what one
// connection sees (its sequence numbers) and speaks the protocol.
package imapd

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"mssanted/directory"
	"mssanted/mailbox"
)

// Config configures both listeners (STARTTLS and implicit TLS).
type Config struct {
	TLS   *tls.Config
	Dir   *directory.Store
	Store *mailbox.Store
	// AppendLimit is the largest message APPEND takes (APPENDLIMIT).
	AppendLimit uint32
	// AuthFailureDelay slows down password guessing; the lockout is in
	// directory.
	AuthFailureDelay time.Duration
	Log              *slog.Logger
}

// Server is one IMAP listener.
type Server struct {
	s *imapserver.Server
}

// Capabilities advertised: IMAP4rev1 and IMAP4rev2 with the extensions
// mailbox/ supports. CONDSTORE/QRESYNC are not: go-imap's command parser
// refuses them (the MODSEQ changelog is kept for the day it does).
var caps = imap.CapSet{
	imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {},
	imap.CapNamespace: {}, imap.CapUIDPlus: {}, imap.CapMove: {}, imap.CapSpecialUse: {}, imap.CapCreateSpecialUse: {},
	imap.CapChildren: {}, imap.CapListExtended: {}, imap.CapListStatus: {}, imap.CapESearch: {}, imap.CapSearchRes: {},
	imap.CapBinary: {}, imap.CapUnselect: {}, imap.CapLiteralPlus: {}, imap.CapAppendLimit: {}, imap.CapEnable: {},
	imap.CapStatusSize: {}, imap.CapIdle: {},
}

// New returns an IMAP server. For implicit TLS (993) wrap the listener in
// tls.NewListener; on a plain listener clients must STARTTLS before they
// may log in (LOGINDISABLED).
func New(c Config) *Server {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.AppendLimit == 0 {
		c.AppendLimit = 25 << 20
	}
	tc := c.TLS.Clone()
	if tc.MinVersion < tls.VersionTLS12 {
		tc.MinVersion = tls.VersionTLS12
	}
	cfg := &c
	s := imapserver.New(&imapserver.Options{
		NewSession: func(conn *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return newSession(cfg, conn), &imapserver.GreetingData{}, nil
		},
		Caps:         caps,
		TLSConfig:    tc,
		InsecureAuth: false,
		Logger:       slog.NewLogLogger(c.Log.Handler(), slog.LevelWarn),
	})
	return &Server{s: s}
}

// Serve accepts on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.s.Serve(ln)
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Shutdown closes the listeners and the connections: an IMAP session has
// no transaction in flight between commands, and every command commits
// before it answers.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.s.Close()
}
