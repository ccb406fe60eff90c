package certs

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Names of the files of the pki directory.
const (
	CAFile     = "ca.pem"
	CAKeyFile  = "ca-key.pem"
	TLSFile    = "tls.pem"
	TLSKeyFile = "tls-key.pem"
	CRLFile    = "crl.pem"
	KeysDir    = "keys"
)

// Key sizes and lifetimes. The CA key is larger because it outlives the
// leaves by years; 2048-bit RSA with SHA-256 is what the trust space asks of
// leaves and what every mail client accepts.
const (
	caKeyBits   = 3072
	leafKeyBits = 2048
	caYears     = 10
	mailboxYrs  = 3
	// tlsValidity stays under the 398 days browsers and Apple platforms
	// accept for a server certificate.
	tlsValidity = 397 * 24 * time.Hour
	// backdate covers peers whose clock is a little behind ours.
	backdate = time.Hour
)

// Authority is the instance CA: its certificate and private key, loaded
// from the pki directory. It is read-only after Init or Load and safe for
// concurrent use.
type Authority struct {
	dir  string
	cert *x509.Certificate
	key  crypto.Signer
	org  string
}

// Init creates the pki directory with a new CA and the TLS certificate of
// the server for tlsHosts. It refuses (with an error wrapping fs.ErrExist)
// when a CA already exists there: replacing it would orphan every
// certificate issued so far.
//
// ca.pem is written last and exclusively, so its presence means the
// directory is complete; after a crash midway, Init can simply run again.
func Init(pkiDir, org string, tlsHosts []string) (*Authority, error) {
	if err := mkdirPrivate(pkiDir); err != nil {
		return nil, err
	}
	caPath := filepath.Join(pkiDir, CAFile)
	if _, err := os.Lstat(caPath); err == nil {
		return nil, fmt.Errorf("certs: init: %s: %w", caPath, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("certs: init: %w", err)
	}
	org = strings.TrimSpace(org)

	key, err := rsa.GenerateKey(rand.Reader, caKeyBits)
	if err != nil {
		return nil, fmt.Errorf("certs: CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	subject := pkix.Name{CommonName: strings.TrimSpace(org + " mssanted CA")}
	if org != "" {
		subject.Organization = []string{org}
	}
	notBefore := time.Now().Add(-backdate).UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(caYears, 0, 0),
		SignatureAlgorithm:    x509.SHA256WithRSA,
		IsCA:                  true,
		BasicConstraintsValid: true,
		// The CA signs leaves only: no intermediate may chain below it.
		MaxPathLen:     0,
		MaxPathLenZero: true,
		KeyUsage:       x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("certs: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: CA certificate: %w", err)
	}
	a := &Authority{dir: pkiDir, cert: cert, key: key, org: org}

	srv, err := a.IssueTLS(tlsHosts)
	if err != nil {
		return nil, err
	}
	caKey, err := keyPEM(key)
	if err != nil {
		return nil, err
	}
	chain := append(append([]byte{}, srv.CertPEM...), certPEM(cert)...)
	for _, f := range []struct {
		name string
		data []byte
		perm fs.FileMode
	}{
		{CAKeyFile, caKey, 0o600},
		{TLSKeyFile, srv.KeyPEM, 0o600},
		{TLSFile, chain, 0o644},
	} {
		if err := writeFileAtomic(filepath.Join(pkiDir, f.name), f.data, f.perm); err != nil {
			return nil, err
		}
	}
	if err := writeFileExclusive(caPath, certPEM(cert), 0o644); err != nil {
		return nil, err
	}
	return a, nil
}

// Load opens the CA of an initialised pki directory.
func Load(pkiDir string) (*Authority, error) {
	cert, err := readCertFile(filepath.Join(pkiDir, CAFile))
	if err != nil {
		return nil, err
	}
	key, err := readKeyFile(filepath.Join(pkiDir, CAKeyFile))
	if err != nil {
		return nil, err
	}
	if !publicKeyMatches(cert, key) {
		return nil, fmt.Errorf("certs: %s does not match %s", CAKeyFile, CAFile)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("certs: %s is not a CA certificate", CAFile)
	}
	org := ""
	if len(cert.Subject.Organization) > 0 {
		org = cert.Subject.Organization[0]
	}
	return &Authority{dir: pkiDir, cert: cert, key: key, org: org}, nil
}

// CA returns the CA certificate.
func (a *Authority) CA() *x509.Certificate { return a.cert }

// CAPool returns a new pool holding only the CA, for RootCAs and ClientCAs.
func (a *Authority) CAPool() *x509.CertPool { return Pool(a.cert) }

// ServerCertificate loads the server's TLS certificate (leaf then CA) and
// key, for tls.Config.Certificates. It reads the files on each call so that
// a renewed certificate is picked up by the next caller.
func (a *Authority) ServerCertificate() (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(filepath.Join(a.dir, TLSFile), filepath.Join(a.dir, TLSKeyFile))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certs: server certificate: %w", err)
	}
	return c, nil
}

// publicKeyMatches reports whether key is the private half of cert.
func publicKeyMatches(cert *x509.Certificate, key crypto.Signer) bool {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}
