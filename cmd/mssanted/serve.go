package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mssanted/imapd"
	"mssanted/smtpd"
	"mssanted/web"
)

// listenFlags are the listen-address overrides of serve and demo.
type listenFlags struct {
	smtpMX, smtpSub, smtpSubs, imap, imaps, http, metrics *string
}

func addListenFlags(fs interface {
	String(name, value, usage string) *string
}) listenFlags {
	return listenFlags{
		smtpMX:   fs.String("smtp-mx", "", "SMTP MX listen address (default from config, 127.0.0.1:2525)"),
		smtpSub:  fs.String("smtp-submission", "", "SMTP submission (STARTTLS) listen address (127.0.0.1:5587)"),
		smtpSubs: fs.String("smtp-submissions", "", "SMTP submission (implicit TLS) listen address (127.0.0.1:5465)"),
		imap:     fs.String("imap", "", "IMAP (STARTTLS) listen address (127.0.0.1:1143)"),
		imaps:    fs.String("imaps", "", "IMAP (implicit TLS) listen address (127.0.0.1:1993)"),
		http:     fs.String("http", "", "HTTPS listen address (127.0.0.1:8443)"),
		metrics:  fs.String("metrics", "", "Prometheus metrics listen address (127.0.0.1:9464)"),
	}
}

func (l listenFlags) apply(c *Config) {
	set := func(dst *string, v *string) {
		if *v != "" {
			*dst = *v
		}
	}
	set(&c.Listen.SMTPMX, l.smtpMX)
	set(&c.Listen.SMTPSubmission, l.smtpSub)
	set(&c.Listen.SMTPSubmissions, l.smtpSubs)
	set(&c.Listen.IMAP, l.imap)
	set(&c.Listen.IMAPS, l.imaps)
	set(&c.Listen.HTTP, l.http)
	set(&c.Listen.Metrics, l.metrics)
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("serve", stderr)
	lf := addListenFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	lf.apply(&in.cfg)
	return serve(ctx, in, stderr, nil)
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// server is one listener of serve: it accepts until Shutdown.
type server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

type listener struct {
	name, addr string
	srv        server
	tls        *tls.Config // implicit TLS; nil: plain (metrics) or STARTTLS handled by srv
	ln         net.Listener
}

// serve runs every configured listener until ctx ends (SIGTERM or
// SIGINT), then stops accepting, lets in-flight work finish within the
// configured grace, and returns nil. ready, when set, is called with the
// bound addresses once every listener accepts.
func serve(ctx context.Context, in *instance, logw io.Writer, ready func(map[string]string)) error {
	log := newLogger(in.cfg, logw)
	slog.SetDefault(log)
	cert, err := in.ca.ServerCertificate()
	if err != nil {
		return fmt.Errorf("serve: TLS certificate: %w", err)
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mssanted_build_info", Help: "Build of the running mssanted."}, []string{"version"})
	build.WithLabelValues(version).Set(1)
	reg.MustRegister(build)
	smtpd.Register(reg)
	imapd.Register(reg)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mssanted_outbound_queued", Help: "Messages waiting in the outbound queue for another operator.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n, err := in.mail.QueueLen(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))

	pipeline, err := in.pipeline(log)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	// bound is filled before any listener serves; the web door reads it
	// (mail-client set-up) only while serving.
	bound := map[string]string{}
	webSrv := &http.Server{
		Handler: web.Handler(web.Options{Instance: in.cfg.Instance.Organisation, Version: version, Logger: log,
			Dir: in.dir, Mail: in.mail, Pipeline: pipeline, Docs: in.docs, Care: in.care, Profile: in.profile,
			MailClient: func() web.MailClient { return mailClientSettings(in.cfg, bound) }}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	metricsSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	anchors, err := in.anchors()
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if soon, err := in.certs.Expiring(context.Background(), time.Now().Add(expiryWarning)); err == nil {
		for _, e := range soon {
			log.Warn("certificate expires soon", "kind", e.Kind, "subject", e.Subject, "address", e.Address, "not_after", e.NotAfter)
		}
	}
	outbound := smtpd.NewOutbound(smtpd.OutboundConfig{
		Store: in.mail, Pipeline: pipeline, Hostname: in.cfg.Instance.Hostname,
		ClientCert: cert, RootCAs: anchors, Routes: in.cfg.Outbound.Routes, DNS: in.cfg.Outbound.DNS,
		RetryFor: in.cfg.Outbound.RetryFor.Duration, DelayNoticeAfter: in.cfg.Outbound.DelayNoticeAfter.Duration,
		Workers: in.cfg.Outbound.Workers, Log: log, Seal: pipeline.Seal,
	})
	pipeline.OnQueued = outbound.Kick
	smtpConf := smtpd.Config{
		Hostname:         in.cfg.Instance.Hostname,
		TLS:              tlsConf,
		MaxMessageBytes:  in.cfg.SMTP.MaxMessageBytes,
		Pipeline:         pipeline,
		Dir:              in.dir,
		Anchors:          anchors,
		AuthFailureDelay: in.cfg.SMTP.AuthFailureDelay.Duration,
		Log:              log,
	}
	imapConf := imapd.Config{TLS: tlsConf, Dir: in.dir, Store: in.mail, AppendLimit: uint32(in.cfg.SMTP.MaxMessageBytes),
		AuthFailureDelay: in.cfg.SMTP.AuthFailureDelay.Duration, Log: log}
	listeners := []listener{
		{name: "imap", addr: in.cfg.Listen.IMAP, srv: imapd.New(imapConf)},
		{name: "imaps", addr: in.cfg.Listen.IMAPS, srv: imapd.New(imapConf), tls: tlsConf},
		{name: "smtp-mx", addr: in.cfg.Listen.SMTPMX, srv: smtpd.NewMX(smtpConf)},
		{name: "smtp-submission", addr: in.cfg.Listen.SMTPSubmission, srv: smtpd.NewSubmission(smtpConf)},
		{name: "smtp-submissions", addr: in.cfg.Listen.SMTPSubmissions, srv: smtpd.NewSubmission(smtpConf), tls: tlsConf},
		{name: "https", addr: in.cfg.Listen.HTTP, srv: webSrv, tls: tlsConf},
		{name: "metrics", addr: in.cfg.Listen.Metrics, srv: metricsSrv},
	}

	var active []listener
	closeAll := func() {
		for _, l := range active {
			l.ln.Close()
		}
	}
	for _, l := range listeners {
		if l.addr == "" || l.addr == "off" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			closeAll()
			return fmt.Errorf("serve: %s on %s: %w", l.name, l.addr, err)
		}
		bound[l.name] = ln.Addr().String()
		if l.tls != nil {
			ln = tls.NewListener(ln, l.tls)
		}
		l.ln = ln
		active = append(active, l)
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(active))
	bgCtx, stopBg := context.WithCancel(context.Background())
	defer stopBg()
	wg.Add(1)
	go func() {
		defer wg.Done()
		in.mail.ListenChanges(bgCtx, nil) // other nodes' changes wake IDLE here
	}()
	if in.cfg.Notify.Relay != "" {
		notifier, err := in.notifier(log, bound["https"])
		if err != nil {
			closeAll()
			return fmt.Errorf("serve: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			notifier.Run(bgCtx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := outbound.Run(bgCtx); err != nil {
			log.Error("outbound sender stopped", "err", err)
		}
	}()
	for _, l := range active {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.srv.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				errc <- fmt.Errorf("serve: %s: %w", l.name, err)
			}
		}()
		log.Info("listening", "listener", l.name, "addr", bound[l.name])
	}
	if ready != nil {
		ready(bound)
	}
	log.Info("mssanted started", "version", version, "data", in.dataDir, "database", in.db.Dialect, "pid", os.Getpid())

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "grace", in.cfg.Shutdown.Grace.Duration)
	case runErr = <-errc:
		log.Error("listener failed, shutting down", "err", runErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), in.cfg.Shutdown.Grace.Duration)
	defer cancel()
	var sd sync.WaitGroup
	for _, l := range active {
		sd.Add(1)
		go func() {
			defer sd.Done()
			if err := l.srv.Shutdown(sctx); err != nil {
				log.Warn("shutdown not clean", "listener", l.name, "err", err)
			}
		}()
	}
	sd.Wait()
	stopBg()
	wg.Wait()
	log.Info("mssanted stopped")
	return runErr
}
