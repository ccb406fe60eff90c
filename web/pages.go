package web

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Paris on machines without a zoneinfo database

	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/care"
	"mssanted/mailbox"
)

// The web app: server-rendered pages in French, for patients (Accueil,
// Messagerie, Nouveau message, Documents) and for professionals and
// pharmacies (their conversations, reply, "Clôturer la conversation", the
// set-up of their mail client). Plain HTML forms: every page works without
// JavaScript; the little script in static/ only helps (file sizes). As
// in the API, authorization is decided in the rooms: a page says who is
// asking, mailbox and directory decide.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages serves the web app. It shares the API's room calls (send,
// replyDraft, conversationView) so that both doors say the same.
type pages struct {
	*api
	tmpl map[string]*template.Template
	aead cipher.AEAD // seals what a form carries to the next (pages_account.go)
}

var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return l
}()

var frMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// frDate writes "14 mars 2026 à 10:05" in Paris time.
func frDate(t time.Time) string {
	t = t.In(paris)
	return fmt.Sprintf("%d %s %d à %02d:%02d", t.Day(), frMonths[t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

// frSize writes a file size as French users read it: "12 Ko", "1,4 Mo".
func frSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d octets", n)
	case n < 1000*1000:
		return fmt.Sprintf("%d Ko", (n+999)/1000)
	default:
		s := fmt.Sprintf("%.1f Mo", float64(n)/1e6)
		return strings.Replace(s, ".", ",", 1)
	}
}

// frDay writes a civil date: "14 mars 2026".
func frDay(t time.Time) string {
	if u := t.UTC(); u.Hour() != 0 || u.Minute() != 0 || u.Second() != 0 {
		t = t.In(paris) // a moment, not a civil date
	}
	return fmt.Sprintf("%d %s %d", t.Day(), frMonths[t.Month()-1], t.Year())
}

var pageFuncs = template.FuncMap{
	"date":      frDate,
	"day":       frDay,
	"size":      frSize,
	"typeLabel": care.TypeLabel,
	"add1":      func(i int) int { return i + 1 },
	"plural": func(n int, one, many string) string {
		if n > 1 {
			return many
		}
		return one
	},
}

func newPages(a *api) *pages {
	p := &pages{api: a, tmpl: map[string]*template.Template{}, aead: newSealKey()}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" {
			continue
		}
		p.tmpl[strings.TrimSuffix(base, ".html")] = template.Must(template.New(base).Funcs(pageFuncs).ParseFS(templateFS, "templates/layout.html", n))
	}
	return p
}

func (p *pages) register(mux *http.ServeMux) {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /connexion", p.loginPage)
	mux.HandleFunc("POST /connexion", p.loginSubmit)
	mux.HandleFunc("POST /deconnexion", p.auth(p.logoutSubmit))
	mux.HandleFunc("GET /{$}", p.auth(p.home))
	mux.HandleFunc("POST /notifications/lues", p.auth(p.notificationsRead))
	mux.HandleFunc("GET /messagerie", p.auth(p.conversations))
	mux.HandleFunc("GET /messagerie/{id}", p.auth(p.conversation))
	mux.HandleFunc("POST /messagerie/{id}/repondre", p.authUpload(p.replySubmit))
	mux.HandleFunc("POST /messagerie/{id}/cloturer", p.auth(p.closeSubmit))
	mux.HandleFunc("GET /messagerie/nouveau", p.auth(p.searchPharmacy))
	mux.HandleFunc("GET /messagerie/nouveau/message", p.auth(p.newMessage))
	mux.HandleFunc("POST /messagerie/nouveau/message", p.authUpload(p.newMessageSubmit))
	mux.HandleFunc("GET /documents", p.auth(p.documents))
	mux.HandleFunc("POST /documents/action", p.auth(p.documentsAction))
	mux.HandleFunc("POST /documents/supprimer", p.auth(p.documentsDelete))
	mux.HandleFunc("POST /documents/ajouter", p.authUpload(p.documentsUpload))
	mux.HandleFunc("GET /documents/historique", p.auth(p.traces))
	mux.HandleFunc("GET /documents/dossiers", p.auth(p.folders))
	mux.HandleFunc("POST /documents/dossiers", p.auth(p.folderCreate))
	mux.HandleFunc("POST /documents/dossiers/{id}/renommer", p.auth(p.folderRename))
	mux.HandleFunc("POST /documents/dossiers/{id}/supprimer", p.auth(p.folderDelete))
	mux.HandleFunc("GET /documents/{id}", p.auth(p.document))
	mux.HandleFunc("POST /documents/{id}/modifier", p.auth(p.documentEdit))
	mux.HandleFunc("POST /documents/{id}/signaler", p.auth(p.documentReason(true)))
	mux.HandleFunc("POST /documents/{id}/opposition", p.auth(p.documentReason(false)))
	mux.HandleFunc("GET /patients", p.auth(p.patientRecord))
	mux.HandleFunc("POST /personne", p.auth(p.choosePerson))
	mux.HandleFunc("GET /compte", p.auth(p.accountPage))
	mux.HandleFunc("POST /compte/email", p.auth(p.accountEmail))
	mux.HandleFunc("POST /compte/totp", p.auth(p.totpStart))
	mux.HandleFunc("POST /compte/totp/confirmer", p.auth(p.totpConfirm))
	mux.HandleFunc("POST /compte/totp/desactiver", p.auth(p.totpDisable))
	p.registerCare(mux)
	p.registerPersons(mux)
	p.registerShare(mux)
	mux.HandleFunc("GET /configuration", p.auth(p.mailClientPage))
	mux.HandleFunc("GET /configuration/messagerie.mobileconfig", p.auth(p.mobileConfig))
	mux.HandleFunc("GET /.well-known/autoconfig/mail/config-v1.1.xml", p.autoconfig)
	mux.HandleFunc("GET /mail/config-v1.1.xml", p.autoconfig)
}

// page is what every page's template reads.
type page struct {
	Title    string
	Instance string
	Nav      string // the current entry of the menu
	Account  *directory.Account
	CSRF     string
	Notice   string // a confirmation ("Message envoyé")
	Error    string // what went wrong, in French
	// MailSetup shows the menu entry of the mail-client set-up.
	MailSetup bool
	// Care shows the menu entries of the patient's space (pages_care.go).
	Care bool
	// Relatives shows "Mes proches" (pages_persons.go).
	Relatives bool
	// The person chooser of a patient who represents someone: the persons,
	// the one acted for, and their name when it is not the patient.
	Persons    []dmp.Person
	PersonID   int64
	PersonName string
	Path       string // the page's path and query, to come back to
}

// Professional tells whether the signed-in user works in a practice or a
// pharmacy (the patient-record page).
func (pg page) Professional() bool {
	return pg.Account != nil && (pg.Account.Role == directory.Professional || pg.Account.Role == directory.Pharmacy)
}

func (pg page) Patient() bool { return pg.Account != nil && pg.Account.Role == directory.Patient }

// websession is the signed-in user of a page request.
type websession struct {
	*directory.Session
	token string
	// tooLarge: the form's body passed the limit of a message; nothing of
	// it was read, the CSRF token included.
	tooLarge bool
}

func (s *websession) csrf() string { return csrfToken(s.token) }

// newPage starts the data of a page for s (nil when signed out).
func (p *pages) newPage(s *websession, title, nav string) page {
	pg := page{Title: title, Instance: p.o.Instance, Nav: nav, Path: "/"}
	if s != nil {
		pg.Account, pg.CSRF = s.Account, s.csrf()
		pg.MailSetup = p.o.MailClient != nil && s.Account.Role != directory.Patient
		pg.Relatives = p.o.Docs != nil && s.Account.Role == directory.Patient
		pg.Care = p.o.Care != nil && p.o.Profile != nil && p.o.Docs != nil && s.Account.Role == directory.Patient
	}
	return pg
}

func (p *pages) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t, ok := p.tmpl[name]
	if !ok {
		panic("web: no template " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		p.o.Logger.ErrorContext(r.Context(), "web: page", "template", name, "err", err)
		http.Error(w, "Erreur interne, réessayez plus tard", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", "fr")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// webSession finds the browser session of a request: the cookie only (a
// bearer token is for the API).
func (p *pages) webSession(r *http.Request) (*websession, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, directory.ErrNoSession
	}
	s, err := p.o.Dir.SessionOf(r.Context(), c.Value)
	if err != nil || s.Kind != directory.SessionCookie {
		return nil, directory.ErrNoSession
	}
	return &websession{Session: s, token: c.Value}, nil
}

type pageHandler func(w http.ResponseWriter, r *http.Request, s *websession)

// auth sends a signed-out visitor to /connexion (and back afterwards), and
// refuses a POST without the form's CSRF token. Its forms are small.
func (p *pages) auth(h pageHandler) http.HandlerFunc { return p.authWith(h, false) }

// authUpload is auth for the message forms (multipart, attachments up to
// the 20 MB of a message).
func (p *pages) authUpload(h pageHandler) http.HandlerFunc { return p.authWith(h, true) }

const maxSmallForm = 64 << 10

func (p *pages) authWith(h pageHandler, upload bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := p.webSession(r)
		if err != nil {
			next := r.URL.Path
			if r.Method != http.MethodGet {
				next = "/"
			} else if r.URL.RawQuery != "" {
				next += "?" + r.URL.RawQuery
			}
			target := "/connexion"
			if next != "/" {
				target += "?suite=" + url.QueryEscape(next)
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			limit := int64(maxSmallForm)
			if upload {
				limit = mailbox.MaxDraftBytes + 1<<20
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if upload && isMultipart(r) {
				err = r.ParseMultipartForm(4 << 20)
				if r.MultipartForm != nil {
					defer r.MultipartForm.RemoveAll()
				}
			} else {
				err = r.ParseForm()
			}
			var mbe *http.MaxBytesError
			if upload && errors.As(err, &mbe) {
				// Past the limit the token cannot be read: the handler
				// only says the message is too large, and sends nothing.
				s.tooLarge = true
				h(w, r, s)
				return
			}
			if err != nil || !p.csrfOK(r, s) {
				p.forbidden(w, r, s)
				return
			}
		}
		h(w, r, s)
	}
}

func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

// csrfOK checks the hidden "csrf" field of a form against the session.
func (p *pages) csrfOK(r *http.Request, s *websession) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf())) == 1
}

func (p *pages) forbidden(w http.ResponseWriter, r *http.Request, s *websession) {
	pg := p.newPage(s, "Action refusée", "")
	pg.Error = "Ce formulaire a expiré ou ne vient pas de cette page. Rechargez la page et réessayez."
	p.render(w, r, http.StatusForbidden, "error", pg)
}

func (p *pages) notFound(w http.ResponseWriter, r *http.Request, s *websession) {
	pg := p.newPage(s, "Page introuvable", "")
	pg.Error = "Cette page n'existe pas, ou vous n'y avez pas accès."
	p.render(w, r, http.StatusNotFound, "error", pg)
}

// fail answers an unexpected error with a page that says so; the cause
// goes to the log only.
func (p *pages) fail(w http.ResponseWriter, r *http.Request, s *websession, err error) {
	switch {
	case errors.Is(err, mailbox.ErrNoSuchConversation), errors.Is(err, directory.ErrNotFound):
		p.notFound(w, r, s)
		return
	case errors.Is(err, mailbox.ErrForbidden), errors.Is(err, directory.ErrForbidden):
		pg := p.newPage(s, "Action non autorisée", "")
		pg.Error = "Cette action ne vous est pas permise."
		p.render(w, r, http.StatusForbidden, "error", pg)
		return
	}
	p.o.Logger.ErrorContext(r.Context(), "web: page", "method", r.Method, "path", r.URL.Path, "err", err)
	pg := p.newPage(s, "Erreur", "")
	pg.Error = "Une erreur est survenue. Réessayez dans quelques instants."
	p.render(w, r, http.StatusInternalServerError, "error", pg)
}

// --- Connexion

const loginCookie = "mss_login"

type loginData struct {
	page
	Address string
	Next    string
	// LoginCSRF is the double-submit token of the login form: the same
	// value in a SameSite=Strict cookie and in the form, so that no other
	// site can sign the browser in to an account of its choosing.
	LoginCSRF string
	// Code: the second step, the one-time code of an account with TOTP;
	// Sealed carries the address and password to it (pages_account.go).
	Code   bool
	Sealed string
}

// safeNext keeps a "suite" only when it is a path of this site.
func safeNext(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") || strings.ContainsAny(s, "\r\n") {
		return "/"
	}
	return s
}

func (p *pages) loginPage(w http.ResponseWriter, r *http.Request) {
	if s, err := p.webSession(r); err == nil && s != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("suite")), http.StatusSeeOther)
		return
	}
	p.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("suite"))})
}

func (p *pages) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	b := make([]byte, 18)
	rand.Read(b)
	d.LoginCSRF = base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: d.LoginCSRF, Path: "/connexion", MaxAge: 3600,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	if d.Sealed != "" {
		// The second step's sealed credentials follow the new form token.
		d.Sealed = p.seal("login", d.LoginCSRF, d.Address, d.Sealed)
	}
	d.page = page{Title: "Connexion", Instance: p.o.Instance, Error: d.Error}
	p.render(w, r, status, "login", d)
}

func (p *pages) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	d := loginData{Address: strings.TrimSpace(r.PostFormValue("adresse")), Next: safeNext(r.PostFormValue("suite"))}
	c, err := r.Cookie(loginCookie)
	got := r.PostFormValue("csrf")
	if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) != 1 {
		d.Error = "Ce formulaire a expiré. Saisissez à nouveau votre adresse et votre mot de passe."
		p.renderLogin(w, r, http.StatusForbidden, d)
		return
	}
	password := r.PostFormValue("mot_de_passe")
	code := strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("code")), " ", "")
	if v := r.PostFormValue("identifiants"); v != "" {
		// The second step: the address and password of the first, sealed.
		creds, ok := p.unseal("login", c.Value, v)
		if !ok {
			d.Error = "Ce formulaire a expiré. Saisissez à nouveau votre adresse et votre mot de passe."
			p.renderLogin(w, r, http.StatusForbidden, d)
			return
		}
		d.Address, password = creds[0], creds[1]
		if code == "" {
			d.Code, d.Sealed = true, password
			d.Error = "Saisissez le code de votre application d'authentification."
			p.renderLogin(w, r, http.StatusBadRequest, d)
			return
		}
	}
	if d.Address == "" || password == "" {
		d.Error = "Saisissez votre adresse et votre mot de passe."
		p.renderLogin(w, r, http.StatusBadRequest, d)
		return
	}
	token, s, err := p.o.Dir.LoginWithCode(r.Context(), d.Address, password, code, remoteIP(r), directory.SessionCookie)
	switch {
	case errors.Is(err, directory.ErrTOTPRequired):
		d.Code, d.Sealed = true, password
		p.renderLogin(w, r, http.StatusOK, d)
		return
	case errors.Is(err, directory.ErrBadCredentials) && code != "":
		d.Code, d.Sealed = true, password
		d.Error = "Code incorrect : vérifiez l'heure de votre téléphone et saisissez le code affiché."
		p.renderLogin(w, r, http.StatusUnauthorized, d)
		return
	case errors.Is(err, directory.ErrBadCredentials), errors.Is(err, directory.ErrInvalid):
		d.Error = "Adresse ou mot de passe incorrect."
		p.renderLogin(w, r, http.StatusUnauthorized, d)
		return
	case errors.Is(err, directory.ErrLocked):
		w.Header().Set("Retry-After", "900")
		d.Error = "Trop de tentatives : réessayez dans quelques minutes."
		p.renderLogin(w, r, http.StatusTooManyRequests, d)
		return
	case err != nil:
		p.fail(w, r, nil, err)
		return
	}
	setSessionCookie(w, token, s.ExpiresAt)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/connexion", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (p *pages) logoutSubmit(w http.ResponseWriter, r *http.Request, s *websession) {
	if err := p.o.Dir.Logout(r.Context(), s.token); err != nil {
		p.fail(w, r, s, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/connexion?deconnecte=1", http.StatusSeeOther)
}

// --- Accueil

type notificationView struct {
	Title string
	Date  time.Time
	Read  bool
	Link  string
}

type homeData struct {
	page
	Unread        int                // unread messages
	UnreadConvs   []conversationJSON // conversations with unread messages
	Notifications []notificationView
	UnreadNotes   int
	DocumentsSoon bool           // the document library is not served here
	Latest        []documentItem // the 3 latest documents
}

func (p *pages) home(w http.ResponseWriter, r *http.Request, s *websession) {
	ctx := r.Context()
	d := homeData{page: p.newPage(s, "Accueil", "accueil"), DocumentsSoon: p.o.Docs == nil}
	cs, err := p.o.Mail.ConversationsOf(ctx, p.o.Dir, s.Account)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	for i := range cs {
		if cs[i].Unread == 0 {
			continue
		}
		v, err := p.conversationView(ctx, s.Account, &cs[i].Conversation, cs[i].Messages, cs[i].Unread)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		d.Unread += cs[i].Unread
		d.UnreadConvs = append(d.UnreadConvs, v)
	}
	ns, unread, err := p.o.Mail.Notifications(ctx, s.Account.ID, 10)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	d.UnreadNotes = unread
	for _, n := range ns {
		v := notificationView{Title: n.Title, Date: n.CreatedAt, Read: n.Read}
		switch {
		case n.ConversationID != 0:
			v.Link = fmt.Sprintf("/messagerie/%d", n.ConversationID)
		case n.Kind == mailbox.NotifyDocument:
			v.Link = "/documents"
		}
		d.Notifications = append(d.Notifications, v)
	}
	if s.Account.Role == directory.Patient && p.o.Docs != nil {
		ds, err := p.o.Docs.Latest(ctx, s.Account, 3)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		d.Latest = documentItems(ds, nil)
	}
	if r.URL.Query().Get("lues") == "1" {
		d.Notice = "Les notifications sont marquées comme lues."
	}
	p.render(w, r, http.StatusOK, "home", d)
}

func (p *pages) notificationsRead(w http.ResponseWriter, r *http.Request, s *websession) {
	ns, _, err := p.o.Mail.Notifications(r.Context(), s.Account.ID, 500)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	var ids []int64
	for _, n := range ns {
		if !n.Read {
			ids = append(ids, n.ID)
		}
	}
	if len(ids) > 0 {
		if err := p.o.Mail.MarkNotificationsRead(r.Context(), s.Account.ID, ids); err != nil {
			p.fail(w, r, s, err)
			return
		}
	}
	http.Redirect(w, r, "/?lues=1", http.StatusSeeOther)
}
