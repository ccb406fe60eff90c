package imapd

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-sasl"

	"mssanted/directory"
	"mssanted/internal/ascii"
	"mssanted/mailbox"
)

// opTimeout bounds one command's work on the stores.
const opTimeout = 2 * time.Minute

type session struct {
	cfg      *Config
	conn     *imapserver.Conn
	remoteIP string

	access *mailbox.Access
	sel    *selected
	// saved is the SEARCHRES result ($, RFC 5182), as UIDs.
	saved []uint32
}

// selected is what this connection sees of its selected folder: the UID of
// each sequence number, and how far into the changelog it has read.
type selected struct {
	mu       sync.Mutex
	folder   *mailbox.Folder
	readOnly bool
	uids     []uint32
	modseq   uint64
	// pending are expunges read from the changelog while the client could
	// not be told (during FETCH, STORE, SEARCH: RFC 9051 7.5.1).
	pending []uint32
	// mine are the MODSEQs of flag changes this session made itself: the
	// client already has them (or asked for silence, STORE .SILENT), so
	// Poll does not echo them.
	mine    map[uint64]bool
	watch   <-chan struct{}
	unwatch func()
}

func newSession(cfg *Config, conn *imapserver.Conn) *session {
	connections.Inc()
	s := &session{cfg: cfg, conn: conn}
	if addr, ok := conn.NetConn().RemoteAddr().(*net.TCPAddr); ok {
		s.remoteIP = addr.IP.String()
	}
	return s
}

func ctxOp() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), opTimeout)
}

func no(text string) error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Text: ascii.Fold(text)}
}

// noCode is a tagged NO with a response code; the text is folded to ASCII
// (RFC 3501 resp-text is 7-bit; IMAP4rev1 clients would choke on UTF-8).
func noCode(code imap.ResponseCode, text string) error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: code, Text: ascii.Fold(text)}
}

// toIMAP turns a room error into a tagged NO with a reason.
func (s *session) toIMAP(err error) error {
	var ie *imap.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		return ie
	case errors.Is(err, mailbox.ErrNoFolder):
		return noCode(imap.ResponseCodeNonExistent, "Dossier inexistant / No such mailbox")
	case errors.Is(err, mailbox.ErrFolderExists):
		return noCode(imap.ResponseCodeAlreadyExists, "Ce dossier existe déjà / Mailbox already exists")
	case errors.Is(err, mailbox.ErrFolderName):
		return noCode(imap.ResponseCodeCannot, "Nom de dossier invalide / Invalid mailbox name")
	case errors.Is(err, mailbox.ErrHasChildren):
		return noCode(imap.ResponseCodeHasChildren, "Supprimez d'abord les sous-dossiers / Delete the subfolders first")
	case errors.Is(err, mailbox.ErrForbidden):
		return noCode(imap.ResponseCodeNoPerm, "Opération non permise / "+err.Error())
	}
	s.cfg.Log.Error("imap: command failed", "remote", s.remoteIP, "err", err)
	return noCode(imap.ResponseCodeServerBug, "Erreur temporaire, réessayez / Temporary failure, try again")
}

func (s *session) Close() error {
	connections.Dec()
	s.unselect()
	return nil
}

// --- authentication ---

func (s *session) login(actor, owner, password string) error {
	ctx, cancel := ctxOp()
	defer cancel()
	a, err := s.cfg.Dir.Authenticate(ctx, actor, password, s.remoteIP)
	switch {
	case errors.Is(err, directory.ErrLocked):
		loginsTotal.WithLabelValues("locked").Inc()
		return noCode(imap.ResponseCodeUnavailable, "Trop d'échecs, réessayez plus tard / Too many failed attempts, try again later")
	case errors.Is(err, directory.ErrBadCredentials):
		loginsTotal.WithLabelValues("failed").Inc()
		s.cfg.Log.Warn("imap: authentication failed", "username", actor, "remote", s.remoteIP)
		time.Sleep(s.cfg.AuthFailureDelay)
		return noCode(imap.ResponseCodeAuthenticationFailed, "Identifiants invalides / Invalid credentials")
	case err != nil:
		return s.toIMAP(err)
	}
	acc, err := s.cfg.Store.Open(ctx, s.cfg.Dir, a, owner)
	if err != nil {
		if errors.Is(err, mailbox.ErrForbidden) || errors.Is(err, directory.ErrNotFound) {
			return noCode(imap.ResponseCodeAuthorizationFailed, "Vous n'avez pas accès à cette boîte / Not authorized for this mailbox")
		}
		return s.toIMAP(err)
	}
	s.access = acc
	loginsTotal.WithLabelValues("ok").Inc()
	s.cfg.Log.Info("imap: logged in", "actor", a.Address, "mailbox", acc.Owner.Address, "remote", s.remoteIP)
	return nil
}

func (s *session) Login(username, password string) error {
	return s.login(username, "", password)
}

func (s *session) AuthenticateMechanisms() []string { return []string{sasl.Plain} }

// Authenticate supports PLAIN with an authorization identity: a staff
// member opens an organisational mailbox with their own credentials
// (authzid = the ORG address, RFC 4616).
func (s *session) Authenticate(mech string) (sasl.Server, error) {
	if !strings.EqualFold(mech, sasl.Plain) {
		return nil, no("Mécanisme non supporté / SASL mechanism not supported")
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		return s.login(username, identity, password)
	}), nil
}

func (s *session) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{Personal: []imap.NamespaceDescriptor{{Prefix: "", Delim: mailbox.Delimiter}}}, nil
}

func (s *session) AppendLimit() uint32 { return s.cfg.AppendLimit }
