package smtpd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"mssanted/directory"
	"mssanted/internal/ascii"
	"mssanted/mailbox"
)

// opTimeout bounds one command's work on the stores.
const opTimeout = 2 * time.Minute

type session struct {
	cfg      *Config
	door     mailbox.Door
	conn     *smtp.Conn
	remoteIP string
	helo     string
	tls      *tls.ConnectionState

	account  *directory.Account // after AUTH
	peerCert string             // MX: subject of the verified operator certificate
	tx       *mailbox.Transaction
}

func smtpErr(code int, enh [3]int, fr, en string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode(enh), Message: ascii.Fold(fr + " / " + en)}
}

var (
	errNeedTLS  = smtpErr(530, [3]int{5, 7, 0}, "Commencez par STARTTLS", "Must issue a STARTTLS command first")
	errNeedAuth = smtpErr(530, [3]int{5, 7, 0}, "Authentification requise", "Authentication required")
	errTempFail = smtpErr(451, [3]int{4, 3, 0}, "Erreur temporaire, réessayez plus tard", "Temporary failure, please try again later")
	errBadCreds = smtpErr(535, [3]int{5, 7, 8}, "Identifiants invalides", "Authentication credentials invalid")
	errLocked   = smtpErr(454, [3]int{4, 7, 0}, "Trop d'échecs d'authentification, réessayez plus tard", "Too many failed authentications, try again later")
)

// toSMTP turns a room's error into a reply: a mailbox.Refusal keeps its
// codes; anything else is a temporary failure (the client will retry, and
// nothing was committed).
func (s *session) toSMTP(err error) error {
	if err == nil {
		return nil
	}
	var r *mailbox.Refusal
	if errors.As(err, &r) {
		return &smtp.SMTPError{Code: r.Code, EnhancedCode: smtp.EnhancedCode(r.Enhanced), Message: ascii.Fold(r.Message)}
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se
	}
	s.cfg.Log.Error("smtp: transaction failed", "door", s.door, "remote", s.remoteIP, "err", err)
	return errTempFail
}

func (s *session) AuthMechanisms() []string {
	if s.door != mailbox.Submission {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if s.door != mailbox.Submission {
		return nil, smtp.ErrAuthUnsupported
	}
	if s.tls == nil { // unreachable: go-smtp answers 523 before TLS; kept as a second lock (RFC 4954 4)
		return nil, errNeedTLS
	}
	check := func(identity, username, password string) error {
		if identity != "" && !strings.EqualFold(identity, username) {
			return smtpErr(535, [3]int{5, 7, 8}, "Identité d'autorisation refusée", "Authorization identity refused")
		}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		a, err := s.cfg.Dir.Authenticate(ctx, username, password, s.remoteIP)
		switch {
		case err == nil:
			s.account = a
			s.cfg.Log.Info("smtp: authenticated", "address", a.Address, "remote", s.remoteIP)
			return nil
		case errors.Is(err, directory.ErrLocked):
			authFailuresTotal.Inc()
			return errLocked
		case errors.Is(err, directory.ErrBadCredentials):
			authFailuresTotal.Inc()
			s.cfg.Log.Warn("smtp: authentication failed", "username", username, "remote", s.remoteIP)
			time.Sleep(s.cfg.AuthFailureDelay)
			return errBadCreds
		}
		s.cfg.Log.Error("smtp: authenticate", "err", err)
		return errTempFail
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(check), nil
	case sasl.Login:
		return &loginServer{auth: func(u, p string) error { return check("", u, p) }}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.tls == nil {
		return errNeedTLS
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	env := mailbox.Envelope{Door: s.door, RemoteIP: s.remoteIP, Helo: s.helo, TLS: tlsFacts(s.tls)}
	if opts != nil {
		env.EnvID = opts.EnvelopeID
		env.Ret = string(opts.Return)
		env.UTF8 = opts.UTF8
	}
	switch s.door {
	case mailbox.Submission:
		if s.account == nil {
			return errNeedAuth
		}
		from = strings.ToLower(strings.TrimSpace(from))
		ok, err := s.cfg.Dir.MaySendAs(ctx, s.account, from)
		if err != nil {
			return s.toSMTP(err)
		}
		if !ok {
			return smtpErr(553, [3]int{5, 7, 1}, "Vous ne pouvez pas envoyer en tant que "+from, "You may not send as "+from+" (sender address not owned by "+s.account.Address+")")
		}
		env.Auth = s.account
	case mailbox.MX:
		dn, err := s.checkOperator(ctx, from)
		if err != nil {
			return err
		}
		env.PeerCert = dn
	}
	env.From = from
	s.tx = s.cfg.Pipeline.Begin(env)
	return nil
}

// checkOperator verifies the client certificate of an MX session: it must
// chain to an anchor and its subject must be whitelisted for the MAIL FROM
// domain (reference.md, Trust space). It returns the subject DN.
func (s *session) checkOperator(ctx context.Context, from string) (string, error) {
	if len(s.tls.PeerCertificates) == 0 {
		return "", smtpErr(530, [3]int{5, 7, 1}, "Certificat client d'opérateur requis (espace de confiance)",
			"An operator client certificate is required in the trust space")
	}
	leaf := s.tls.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range s.tls.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: s.cfg.Anchors, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		s.cfg.Log.Warn("smtp: operator certificate refused", "subject", leaf.Subject.String(), "remote", s.remoteIP, "err", err)
		return "", smtpErr(550, [3]int{5, 7, 1}, "Certificat d'opérateur non reconnu : "+err.Error(),
			"Operator certificate not trusted: "+err.Error())
	}
	dn := directory.DNFromName(leaf.Subject)
	domain := ""
	if at := strings.LastIndexByte(from, '@'); at >= 0 {
		domain = strings.ToLower(from[at+1:])
	}
	var ok bool
	var err error
	if domain == "" {
		// A report (null reverse path) names no domain: the operator must
		// be listed for at least one.
		ok, err = s.cfg.Dir.IsListedOperator(ctx, dn)
	} else {
		ok, err = s.cfg.Dir.IsTrustedOperator(ctx, domain, dn)
	}
	if err != nil {
		return "", s.toSMTP(err)
	}
	if !ok {
		s.cfg.Log.Warn("smtp: operator not whitelisted", "subject", leaf.Subject.String(), "domain", domain, "remote", s.remoteIP)
		return "", smtpErr(550, [3]int{5, 7, 1},
			fmt.Sprintf("Le certificat %q n'est pas inscrit sur la liste blanche pour le domaine %q", leaf.Subject.String(), domain),
			fmt.Sprintf("Certificate %q is not whitelisted for domain %q", leaf.Subject.String(), domain))
	}
	return leaf.Subject.String(), nil
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	if s.tx == nil {
		return smtpErr(503, [3]int{5, 5, 1}, "MAIL d'abord", "Need MAIL before RCPT")
	}
	r := mailbox.Recipient{Address: to}
	if opts != nil {
		for _, n := range opts.Notify {
			r.Notify = append(r.Notify, string(n))
		}
		if opts.OriginalRecipient != "" {
			r.ORCPT = strings.ToLower(string(opts.OriginalRecipientType)) + ";" + opts.OriginalRecipient
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return s.toSMTP(s.tx.AddRecipient(ctx, r))
}

func (s *session) Data(r io.Reader) error {
	if s.tx == nil {
		io.Copy(io.Discard, r)
		return smtpErr(503, [3]int{5, 5, 1}, "MAIL et RCPT d'abord", "Need MAIL and RCPT before DATA")
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_, err := s.tx.Deliver(ctx, r)
	var ref *mailbox.Refusal
	switch {
	case err == nil:
		messagesTotal.WithLabelValues(string(s.door), "accepted").Inc()
	case errors.As(err, &ref):
		messagesTotal.WithLabelValues(string(s.door), "refused").Inc()
	default:
		messagesTotal.WithLabelValues(string(s.door), "failed").Inc()
	}
	if err != nil {
		io.Copy(io.Discard, r) // go-smtp: r must be consumed before Data returns
	}
	s.tx = nil
	return s.toSMTP(err)
}

func (s *session) Reset() { s.tx = nil }

func (s *session) Logout() error { return nil }

// tlsFacts names the protocol version and cipher suite, for the trace.
func tlsFacts(st *tls.ConnectionState) string {
	if st == nil {
		return ""
	}
	return tls.VersionName(st.Version) + " " + tls.CipherSuiteName(st.CipherSuite)
}
