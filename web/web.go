// Package web is the HTTPS door: the patient web app and the JSON API. It
// speaks net/http; the rooms (directory, mailbox, dmp) speak their own types.
package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/care"
	"mssanted/dmp/profile"
	"mssanted/mailbox"
)

// Options configure the handler.
type Options struct {
	Instance string // organisation name shown on pages
	Version  string
	Logger   *slog.Logger

	Dir      *directory.Store
	Mail     *mailbox.Store
	Pipeline *mailbox.Pipeline
	Docs     *dmp.Store
	Care     *care.Store // pregnancy, agenda, prevention, vaccinations, catalogue
	Profile  *profile.Store

	// MailClient describes the IMAP and submission endpoints for the
	// set-up of mail clients (autoconfig, Apple profile); nil: none. It is
	// called per request, so that listeners bound later (port 0) count.
	MailClient func() MailClient
}

// Handler returns the HTTP handler of the web door, wrapped in the security
// headers every response carries.
func Handler(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	mux := http.NewServeMux()
	(&api{o: o}).register(mux)
	newPages(&api{o: o}).register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"status": "ok", "version": o.Version})
	})
	return securityHeaders(logRequests(o.Logger, mux))
}

// securityHeaders sets the headers of a health service: HTTPS only, no
// framing, no sniffing, no referrer, a strict content security policy.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		if inlineContent(r) {
			// A document shown in the viewer of its page (an <iframe>
			// of this site): framed by this site only; no script runs in
			// it and it loads nothing from elsewhere, whatever the file
			// holds. object-src 'self' lets the browser's own PDF viewer
			// show it (Chromium checks the plugin against this policy).
			h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
			h.Set("X-Frame-Options", "SAMEORIGIN")
		} else {
			// Pages frame only this site's documents (frame-src), and
			// nothing frames them.
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
			h.Set("X-Frame-Options", "DENY")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// inlineContent tells a document's content asked for the viewer
// (GET /api/v1/documents/{id}/content?inline=1).
func inlineContent(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/documents/") &&
		strings.HasSuffix(r.URL.Path, "/content") && r.URL.Query().Get("inline") == "1"
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func logRequests(l *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		l.Debug("http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	})
}
