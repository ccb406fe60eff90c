package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"strings"

	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/mailbox"
)

func isDocErrT(err error) bool { _, ok := isDocErr(err); return ok }

// The JSON API (/api/v1), described by openapi.json. Every route is in the
// table below, which a test compares with the OpenAPI file, so neither can
// drift from the other. Authorization is decided in the rooms (mailbox,
// directory); a handler only says who is asking.

// route is one API operation.
type route struct {
	method, pattern string
	public          bool // no session needed
	h               func(w http.ResponseWriter, r *http.Request, s *directory.Session) error
}

type api struct {
	o Options
}

// routes is every API operation: the core ones below, then each room's
// group from its own file (persons, profile, care), each with its part of
// the OpenAPI document (openapi-<group>.json).
func (a *api) routes() []route {
	out := a.coreRoutes()
	out = append(out, a.personRoutes()...)
	out = append(out, a.profileRoutes()...)
	out = append(out, a.careRoutes()...)
	out = append(out, a.fhirRoutes()...)
	return out
}

func (a *api) coreRoutes() []route {
	return []route{
		{"GET", "/api/v1/openapi.json", true, a.openAPI},
		{"POST", "/api/v1/session", true, a.login},
		{"DELETE", "/api/v1/session", false, a.logout},
		{"GET", "/api/v1/me", false, a.me},
		{"PATCH", "/api/v1/me", false, a.updateMe},
		{"POST", "/api/v1/me/totp", false, a.startTOTP},
		{"POST", "/api/v1/me/totp/confirm", false, a.confirmTOTP},
		{"POST", "/api/v1/me/totp/disable", false, a.disableTOTP},
		{"GET", "/api/v1/directory/pharmacies", false, a.searchPharmacies},
		{"GET", "/api/v1/directory/professionals", false, a.searchProfessionals},
		{"GET", "/api/v1/conversations", false, a.listConversations},
		{"POST", "/api/v1/conversations", false, a.startConversation},
		{"GET", "/api/v1/conversations/{id}", false, a.getConversation},
		{"POST", "/api/v1/conversations/{id}/messages", false, a.reply},
		{"POST", "/api/v1/conversations/{id}/close", false, a.closeConversation},
		{"GET", "/api/v1/conversations/{id}/messages/{row}/attachments/{index}", false, a.attachment},
		{"GET", "/api/v1/notifications", false, a.notifications},
		{"GET", "/api/v1/documents", false, a.listDocuments},
		{"POST", "/api/v1/documents", false, a.addDocument},
		{"POST", "/api/v1/documents/share", false, a.shareDocuments},
		{"GET", "/api/v1/documents/{id}", false, a.getDocument},
		{"PATCH", "/api/v1/documents/{id}", false, a.patchDocument},
		{"DELETE", "/api/v1/documents/{id}", false, a.deleteDocument},
		{"GET", "/api/v1/documents/{id}/content", false, a.documentContent},
		{"POST", "/api/v1/documents/{id}/objection", false, a.documentReason((*dmp.Store).Object)},
		{"POST", "/api/v1/documents/{id}/report", false, a.documentReason((*dmp.Store).ReportProblem)},
		{"GET", "/api/v1/document-reports", false, a.documentReports},
		{"GET", "/api/v1/folders", false, a.listFolders},
		{"POST", "/api/v1/folders", false, a.createFolder},
		{"PATCH", "/api/v1/folders/{id}", false, a.renameFolder},
		{"DELETE", "/api/v1/folders/{id}", false, a.deleteFolder},
		{"GET", "/api/v1/access-traces", false, a.accessTraces},
		{"PUT", "/api/v1/record/settings", false, a.recordSettings},
		{"GET", "/api/v1/patients/{ins}/documents", false, a.patientDocuments},
		{"POST", "/api/v1/notifications/read", false, a.readNotifications},
	}
}

// register adds the API routes to mux, each behind authentication (unless
// public) and CSRF protection for cookie sessions.
func (a *api) register(mux *http.ServeMux) {
	for _, rt := range a.routes() {
		mux.Handle(rt.method+" "+rt.pattern, a.handler(rt))
	}
	// Anything else under /api/ is a JSON 404, not the web app's page.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "Ressource inconnue", "No such API resource: "+r.Method+" "+r.URL.Path)
	})
}

func (a *api) handler(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s *directory.Session
		if !rt.public {
			var err error
			if s, err = a.authenticate(r); err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="mssanted"`)
				writeProblem(w, http.StatusUnauthorized, "Connectez-vous", "Authentication required: a bearer token or a session cookie")
				return
			}
			if s.Kind == directory.SessionCookie && !safeMethod(r.Method) && !a.csrfOK(r) {
				writeProblem(w, http.StatusForbidden, "Jeton anti-falsification manquant ou invalide", "Missing or invalid X-CSRF-Token")
				return
			}
		}
		if err := rt.h(w, r, s); err != nil {
			a.writeError(w, r, err)
		}
	})
}

const sessionCookie = "mss_session"

// authenticate finds the session of a request: a bearer token
// (Authorization, RFC 6750) or the browser's cookie.
func (a *api) authenticate(r *http.Request) (*directory.Session, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return nil, directory.ErrNoSession
		}
		s, err := a.o.Dir.SessionOf(r.Context(), strings.TrimSpace(token))
		if err != nil || s.Kind != directory.SessionBearer {
			return nil, directory.ErrNoSession
		}
		return s, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, directory.ErrNoSession
	}
	s, err := a.o.Dir.SessionOf(r.Context(), c.Value)
	if err != nil || s.Kind != directory.SessionCookie {
		return nil, directory.ErrNoSession
	}
	return s, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// csrfToken is derived from the session token: only a page that was given
// it (or that can read the HttpOnly cookie, which no script can) has it.
func csrfToken(sessionToken string) string {
	h := sha256.Sum256([]byte("mssanted csrf\x00" + sessionToken))
	return hex.EncodeToString(h[:16])
}

func (a *api) csrfOK(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	got := r.Header.Get("X-CSRF-Token")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(csrfToken(c.Value))) == 1
}

// problem is an RFC 9457 problem detail.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// SMTP and EnhancedCode repeat a messaging refusal as the SMTP door
	// would give it, so that every door says the same.
	SMTP         int    `json:"smtp_code,omitempty"`
	EnhancedCode string `json:"enhanced_code,omitempty"`
	// DraftUID is where the refused message was kept (Drafts folder).
	DraftUID uint32 `json:"draft_uid,omitempty"`
}

func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	writeProblemDoc(w, problem{Type: "about:blank", Title: title, Status: status, Detail: detail})
}

func writeProblemDoc(w http.ResponseWriter, p problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", "fr")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

// refusedError carries a messaging refusal and the draft kept for it.
type refusedError struct {
	r     *mailbox.Refusal
	draft uint32
}

func (e *refusedError) Error() string { return e.r.Error() }

// badRequest is an error of the request itself, in the client's words.
type badRequest struct{ fr, en string }

func (e *badRequest) Error() string { return e.en }

func bad(fr, en string) error { return &badRequest{fr, en} }

// writeError maps the rooms' errors to problem documents.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var br *badRequest
	var rf *refusedError
	var re *mailbox.Refusal
	switch {
	case errors.As(err, &br):
		writeProblem(w, http.StatusBadRequest, br.fr, br.en)
	case errors.As(err, &rf):
		writeProblemDoc(w, refusalProblem(rf.r, rf.draft))
	case errors.As(err, &re):
		writeProblemDoc(w, refusalProblem(re, 0))
	case isDocErrT(err):
		st, _ := isDocErr(err)
		msg := err.Error()
		title := map[int]string{http.StatusNotFound: "Document introuvable", http.StatusForbidden: "Action non autorisée"}[st]
		if st == http.StatusBadRequest {
			msg = strings.TrimPrefix(msg, dmp.ErrInvalid.Error()+": ")
			title, _, _ = strings.Cut(msg, " / ")
		}
		writeProblem(w, st, title, msg)
	case errors.Is(err, directory.ErrTOTPRequired):
		writeProblemDoc(w, problem{Type: "urn:mssanted:problem:totp-required", Title: "Saisissez le code de votre application d'authentification",
			Status: http.StatusUnauthorized, Detail: "A one-time code (TOTP) is required for this account"})
	case errors.Is(err, directory.ErrBadCredentials):
		writeProblem(w, http.StatusUnauthorized, "Adresse ou mot de passe incorrect", "Invalid credentials")
	case errors.Is(err, directory.ErrLocked):
		w.Header().Set("Retry-After", "900")
		writeProblem(w, http.StatusTooManyRequests, "Trop de tentatives : réessayez dans quelques minutes", "Too many failed attempts")
	case errors.Is(err, directory.ErrForbidden), errors.Is(err, mailbox.ErrForbidden):
		writeProblem(w, http.StatusForbidden, "Action non autorisée", err.Error())
	case errors.Is(err, mailbox.ErrNoSuchConversation), errors.Is(err, directory.ErrNotFound):
		writeProblem(w, http.StatusNotFound, "Introuvable", "Not found")
	case errors.Is(err, directory.ErrInvalid):
		// "invalid: <French> / <English>": the French sentence is the title.
		msg := strings.TrimPrefix(err.Error(), directory.ErrInvalid.Error()+": ")
		title, _, _ := strings.Cut(msg, " / ")
		writeProblem(w, http.StatusBadRequest, title, msg)
	case errors.Is(err, context.Canceled):
		// the client went away: nothing to answer
	default:
		a.o.Logger.ErrorContext(r.Context(), "api", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, http.StatusInternalServerError, "Erreur interne, réessayez plus tard", "Internal error")
	}
}

// refusalProblem turns a messaging refusal into 422 (the rules refused
// it), 413 (too large) or 503 (a temporary failure).
func refusalProblem(re *mailbox.Refusal, draft uint32) problem {
	status := http.StatusUnprocessableEntity
	switch {
	case re.Code >= 400 && re.Code < 500:
		status = http.StatusServiceUnavailable
	case re.Code == 552:
		status = http.StatusRequestEntityTooLarge
	}
	title, _, _ := strings.Cut(re.Message, " / ")
	return problem{Type: "about:blank", Title: title, Status: status, Detail: re.Message,
		SMTP: re.Code, EnhancedCode: fmt.Sprintf("%d.%d.%d", re.Enhanced[0], re.Enhanced[1], re.Enhanced[2]), DraftUID: draft}
}

// writeJSONBody encodes v after the headers were set by the caller.
func writeJSONBody(w http.ResponseWriter, v any) error { return json.NewEncoder(w).Encode(v) }

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// maxJSONBody bounds a request body: a message's attachments travel in it
// base64-encoded.
const maxJSONBody = mailbox.MaxDraftBytes*4/3 + 1<<20

func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return bad("Envoyez du JSON (Content-Type: application/json)", "The body must be application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &mailbox.Refusal{Code: 552, Enhanced: [3]int{5, 3, 4}, Message: "Le message dépasse 20 Mo / The message exceeds 20 MB"}
		}
		return bad("Corps de requête illisible", fmt.Sprintf("Malformed JSON body: %v", err))
	}
	if dec.More() {
		return bad("Corps de requête illisible", "Trailing data after the JSON body")
	}
	io.Copy(io.Discard, r.Body)
	return nil
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

//go:embed openapi*.json
var openAPIFiles embed.FS

// openAPIDoc is openapi.json with the paths and components of every
// openapi-<group>.json merged in, as served.
var openAPIDoc = mergeOpenAPI(openAPIFiles)

func mergeOpenAPI(fsys embed.FS) []byte {
	read := func(name string) map[string]any {
		b, err := fsys.ReadFile(name)
		if err != nil {
			panic(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("%s: %v", name, err))
		}
		return m
	}
	doc := read("openapi.json")
	parts, _ := fs.Glob(fsys, "openapi-*.json")
	for _, name := range parts {
		part := read(name)
		if p, ok := part["paths"].(map[string]any); ok {
			for k, v := range p {
				doc["paths"].(map[string]any)[k] = v
			}
		}
		if c, ok := part["components"].(map[string]any); ok {
			for section, entries := range c {
				dst, ok := doc["components"].(map[string]any)[section].(map[string]any)
				if !ok {
					dst = map[string]any{}
					doc["components"].(map[string]any)[section] = dst
				}
				for k, v := range entries.(map[string]any) {
					dst[k] = v
				}
			}
		}
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		panic(err)
	}
	return b
}

func (a *api) openAPI(w http.ResponseWriter, r *http.Request, _ *directory.Session) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := w.Write(openAPIDoc)
	return err
}
