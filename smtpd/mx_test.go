package smtpd_test

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"mssanted/certs"
	"mssanted/directory"
)

// operator is another operator of the trust space: its own CA and a TLS
// certificate with clientAuth, as certs.IssueTLS makes.
type operator struct {
	ca   *certs.Authority
	cert tls.Certificate
	dn   string
}

func newOperator(t *testing.T, host string) *operator {
	t.Helper()
	ca, err := certs.Init(t.TempDir(), "Autre Opérateur", []string{host})
	must(t, err)
	iss, err := ca.IssueTLS([]string{host})
	must(t, err)
	cert, err := tls.X509KeyPair(append(iss.CertPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.CA().Raw})...), iss.KeyPEM)
	must(t, err)
	return &operator{ca: ca, cert: cert, dn: iss.Cert.Subject.String()}
}

// mxSession opens an MX session over STARTTLS presenting cert (none when
// nil).
func (e *env) mxSession(cert *tls.Certificate) *smtp.Client {
	e.t.Helper()
	tc := e.tlsConfig()
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	c, err := smtp.DialStartTLS(e.mx, tc)
	must(e.t, err)
	e.t.Cleanup(func() { c.Close() })
	return c
}

func TestMXTrustSpace(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	listed := newOperator(t, "mx.autre-operateur.example")
	unlisted := newOperator(t, "mx.inconnu.example")
	stranger := newOperator(t, "mx.etranger.example")
	// listed and unlisted chain to anchors; stranger's CA is not one.
	e.cfg.Anchors.AddCert(listed.ca.CA())
	e.cfg.Anchors.AddCert(unlisted.ca.CA())
	_, err := e.dir.ImportTrust(ctx, &directory.Whitelist{Entries: []directory.TrustEntry{
		{Domain: "autre-operateur.example", OperatorDN: listed.dn},
		{Domain: "inconnu.example", OperatorDN: "CN=someone.else.example,O=Other,C=FR"},
	}}, "test")
	must(t, err)

	// Without STARTTLS: refused at MAIL.
	plain, err := smtp.Dial(e.mx)
	must(t, err)
	defer plain.Close()
	must(t, plain.Hello("mx.autre-operateur.example"))
	if ok, _ := plain.Extension("AUTH"); ok {
		t.Error("the MX offers AUTH")
	}
	if err := plain.Mail("dr@autre-operateur.example", nil); err == nil {
		t.Fatal("MX accepted MAIL without TLS")
	}

	for name, c := range map[string]struct {
		cert *tls.Certificate
		from string
		want string
	}{
		"no certificate":            {nil, "dr@autre-operateur.example", "certificate is required"},
		"certificate of a stranger": {&stranger.cert, "dr@etranger.example", "not trusted"},
		"chains but not listed":     {&unlisted.cert, "dr@inconnu.example", "not whitelisted"},
		"listed for another domain": {&listed.cert, "dr@inconnu.example", "not whitelisted"},
	} {
		s := e.mxSession(c.cert)
		err := s.Mail(c.from, nil)
		if err == nil {
			t.Errorf("%s: MAIL accepted", name)
			continue
		}
		if n, enh := code(err); n/100 != 5 || enh[0] != 5 || enh[1] != 7 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (want 5.7.x saying %q)", name, err, c.want)
		}
	}
	if len(e.inbox(e.pat)) != 0 {
		t.Fatal("refused sessions delivered something")
	}

	s := e.mxSession(&listed.cert)
	must(t, s.Mail("dr@autre-operateur.example", nil))
	// Never an open relay: a domain not served here is refused.
	if err := s.Rcpt("someone@third-party.example", nil); err == nil {
		t.Fatal("the MX relays")
	} else if n, enh := code(err); n != 550 || enh != [3]int{5, 7, 1} {
		t.Fatalf("relay attempt: %v", err)
	}
	must(t, s.Rcpt(e.pat.Address, nil))
	w, err := s.Data()
	must(t, err)
	w.Write([]byte(msg("dr@autre-operateur.example", e.pat.Address, "Depuis un autre opérateur")))
	must(t, w.Close())
	in := e.inbox(e.pat)
	if len(in) != 1 || !strings.Contains(in[0].Trace, "door=mx") || !strings.Contains(in[0].Trace, "peer-cert=") {
		t.Fatalf("MX delivery: %+v", in)
	}
	if q, _ := e.store.QueueList(ctx, ""); len(q) != 0 {
		t.Fatalf("the MX queued something: %+v", q)
	}
}
