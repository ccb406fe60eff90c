package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mssanted/certs"
	"mssanted/db"
	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/care"
	"mssanted/dmp/profile"
	"mssanted/mailbox"
	"mssanted/smtpd"
)

// instance is an opened data directory: configuration, database (migrated),
// PKI and the stores over them.
type instance struct {
	dataDir string
	cfg     Config
	db      *db.DB
	ca      *certs.Authority
	certs   *certs.Registry
	dir     *directory.Store
	mail    *mailbox.Store
	docs    *dmp.Store
	care    *care.Store
	profile *profile.Store
}

// pipeline is the delivery pipeline every door hands messages to.
func (in *instance) pipeline(log *slog.Logger) (*mailbox.Pipeline, error) {
	anchors, err := in.anchors()
	if err != nil {
		return nil, err
	}
	op, err := in.ca.ServerCertificate()
	if err != nil {
		return nil, err
	}
	signer, ok := op.PrivateKey.(crypto.Signer)
	if !ok || op.Leaf == nil {
		return nil, fmt.Errorf("operator certificate: no usable key")
	}
	cfg := in.cfg.SMIME
	require := map[string]bool{}
	for _, d := range cfg.RequireEncryption {
		require[strings.ToLower(d)] = true
	}
	return &mailbox.Pipeline{Store: in.mail, Dir: in.dir, Hostname: in.cfg.Instance.Hostname,
		Product: "mssanted/" + version, Log: log, Filer: in.docs.Filer(),
		SMIME: &mailbox.SMIME{
			Certs: in.certs, Roots: anchors,
			RejectInvalid: func(domain string) bool {
				if v, ok := cfg.InvalidSignatureDomains[domain]; ok {
					return v == "reject"
				}
				return cfg.InvalidSignature == "reject"
			},
			Operator:          &certs.KeyPair{Cert: op.Leaf, Key: signer},
			SignWithOperator:  cfg.SignWith == "operator",
			Cipher:            certs.Cipher(cfg.Cipher),
			OAEP:              cfg.OAEP,
			RequireEncryption: func(domain string) bool { return require[domain] },
		}}, nil
}

func pkiDir(dataDir string) string { return filepath.Join(dataDir, "pki") }

func openInstance(ctx context.Context, dataDir string) (*instance, error) {
	if err := requireData(dataDir); err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usagef("%s is not an mssanted data directory (run mssanted init --data %s --domain D)", dataDir, dataDir)
	}
	if err != nil {
		return nil, err
	}
	return openWith(ctx, dataDir, cfg)
}

func openWith(ctx context.Context, dataDir string, cfg Config) (*instance, error) {
	d, err := db.Open(ctx, dataDir, cfg.Database.DSN)
	if err != nil {
		return nil, err
	}
	if _, err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	ca, err := certs.Load(pkiDir(dataDir))
	if err != nil {
		d.Close()
		return nil, err
	}
	reg := certs.NewRegistry(d, pkiDir(dataDir), ca)
	blobDir := cfg.Storage.BlobsDir
	if blobDir == "" {
		blobDir = filepath.Join(dataDir, "blobs")
	}
	blobs, err := db.NewFSBlobs(blobDir)
	if err != nil {
		d.Close()
		return nil, err
	}
	lock := directory.NewLockout(directory.LockoutPolicy{
		Failures: cfg.Auth.LockoutFailures,
		Window:   cfg.Auth.LockoutWindow.Duration,
		Duration: cfg.Auth.LockoutDuration.Duration,
	})
	dir := directory.New(d, ca, reg, lock)
	docs := dmp.New(d, blobs, dir)
	return &instance{
		dataDir: dataDir, cfg: cfg, db: d, ca: ca, certs: reg, profile: profile.New(d, docs, dir),
		dir:  dir,
		mail: mailbox.New(d, blobs),
		docs: docs,
		care: care.New(d, docs, dir),
	}, nil
}

func (in *instance) Close() error { return in.db.Close() }

// anchors are the roots other operators' certificates must chain to: the
// instance CA and the PEM files of tls.anchors.
func (in *instance) anchors() (*x509.CertPool, error) {
	pool := in.ca.CAPool()
	if len(in.cfg.TLS.Anchors) > 0 {
		extra, err := certs.LoadAnchors(in.cfg.TLS.Anchors...)
		if err != nil {
			return nil, fmt.Errorf("tls.anchors: %w", err)
		}
		for _, c := range extra {
			pool.AddCert(c)
		}
	}
	return pool, nil
}

// initialize creates a data directory: PKI, database, served domains, and
// the configuration last, since its presence is what marks the directory as
// initialised. A failure removes what this call created.
func initialize(ctx context.Context, dataDir string, cfg Config, stdout io.Writer) (err error) {
	if _, err := os.Stat(filepath.Join(dataDir, ConfigFile)); err == nil {
		return usagef("%s is already initialised (%s exists)", dataDir, ConfigFile)
	}
	if err := cfg.validate(); err != nil {
		return usageError{err}
	}
	doms := append([]string{}, cfg.Instance.Domains...)
	for _, d := range append(doms, cfg.Instance.PatientDomain) {
		if _, err := directory.NormalizeAddress("postmaster@" + d); err != nil {
			return usagef("%q is not a domain name", d)
		}
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	created := []string{pkiDir(dataDir), filepath.Join(dataDir, db.SQLiteFile)}
	defer func() {
		if err != nil {
			for _, p := range created {
				os.RemoveAll(p)
			}
			os.Remove(filepath.Join(dataDir, db.SQLiteFile+"-wal"))
			os.Remove(filepath.Join(dataDir, db.SQLiteFile+"-shm"))
		}
	}()
	hosts := append([]string{cfg.Instance.Hostname}, cfg.Instance.Domains...)
	if _, err := certs.Init(pkiDir(dataDir), cfg.Instance.Organisation, hosts); err != nil {
		if errors.Is(err, fs.ErrExist) {
			created = nil
			return usagef("%s already holds a PKI", dataDir)
		}
		return err
	}
	in, err := openWith(ctx, dataDir, cfg)
	if err != nil {
		return err
	}
	defer in.Close()
	for _, d := range cfg.Instance.Domains {
		if err := in.dir.AddDomain(ctx, d, directory.ProfessionalDomain); err != nil {
			return err
		}
	}
	if err := in.dir.AddDomain(ctx, cfg.Instance.PatientDomain, directory.PatientDomain); err != nil {
		return err
	}
	body, err := cfg.Render()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dataDir, ConfigFile), body, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "initialised %s\n  configuration: %s\n  CA certificate to trust: %s\n  domains: %v, patients: %s\n",
		dataDir, filepath.Join(dataDir, ConfigFile), filepath.Join(pkiDir(dataDir), "ca.pem"),
		cfg.Instance.Domains, cfg.Instance.PatientDomain)
	return nil
}

func cmdInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("init", stderr)
	domain := fs.String("domain", "", "professional domain served (required)")
	patient := fs.String("patient-domain", "", "patient domain (default patient.DOMAIN)")
	hostname := fs.String("hostname", "", "host name for SMTP and TLS (default mail.DOMAIN)")
	dsn := fs.String("dsn", "", "PostgreSQL DSN (default: embedded SQLite)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := requireData(*data); err != nil {
		return err
	}
	if *domain == "" {
		return usagef("--domain is required")
	}
	cfg := DefaultConfig(*domain, *patient)
	if *hostname != "" {
		cfg.Instance.Hostname = *hostname
	}
	cfg.Database.DSN = *dsn
	return initialize(ctx, *data, cfg, stdout)
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("migrate", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := requireData(*data); err != nil {
		return err
	}
	cfg, err := LoadConfig(*data)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, *data, cfg.Database.DSN)
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := d.Migrate(ctx)
	if err != nil {
		return err
	}
	v, err := d.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: applied %d migrations, schema version %d\n", d.Dialect, n, v)
	return nil
}

// notifier is the e-mail notifier of [notify], telling patients at their
// personal address that something new waits (never what).
func (in *instance) notifier(log *slog.Logger, httpsAddr string) (*smtpd.Notifier, error) {
	n := in.cfg.Notify
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if n.CAFile != "" {
		pem, err := os.ReadFile(n.CAFile)
		if err != nil {
			return nil, fmt.Errorf("notify: ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("notify: ca_file %s holds no PEM certificate", n.CAFile)
		}
	}
	appURL := n.AppURL
	if appURL == "" && httpsAddr != "" {
		appURL = "https://" + httpsAddr + "/"
	}
	return smtpd.NewNotifier(smtpd.NotifyConfig{Store: in.mail, Relay: n.Relay, ImplicitTLS: n.ImplicitTLS, TLS: tc,
		Username: n.Username, Password: n.Password, From: n.From, Hostname: in.cfg.Instance.Hostname, AppURL: appURL,
		Poll: 2 * time.Second, Log: log}), nil
}
