package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"mssanted/directory"
)

// Mon compte (the personal notification e-mail, the TOTP second factor)
// and the login's second step. What the second step and the TOTP set-up
// must carry from one form to the next (the address and password; the
// secret to confirm) travels in the form sealed with AES-GCM under a key
// that lives in this process only, for a few minutes, bound to its
// purpose: never in clear, never in a cookie.

const sealTTL = 5 * time.Minute

type sealed struct {
	Purpose string    `json:"p"`
	Bind    string    `json:"b"` // the login form's cookie, or the session's CSRF token
	Values  []string  `json:"v"`
	Expires time.Time `json:"e"`
}

func newSealKey() cipher.AEAD {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	b, err := aes.NewCipher(k)
	if err != nil {
		panic(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return g
}

func (p *pages) seal(purpose, bind string, values ...string) string {
	raw, _ := json.Marshal(sealed{Purpose: purpose, Bind: bind, Values: values, Expires: time.Now().Add(sealTTL)})
	nonce := make([]byte, p.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(p.aead.Seal(nonce, nonce, raw, []byte(purpose)))
}

func (p *pages) unseal(purpose, bind, v string) ([]string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) < p.aead.NonceSize() {
		return nil, false
	}
	n := p.aead.NonceSize()
	plain, err := p.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
	if err != nil {
		return nil, false
	}
	var s sealed
	if json.Unmarshal(plain, &s) != nil || s.Purpose != purpose || s.Bind != bind || time.Now().After(s.Expires) {
		return nil, false
	}
	return s.Values, true
}

// --- Mon compte

type accountData struct {
	page
	Email      string
	TOTP       bool
	Setup      bool // a secret shown, waiting for its first code
	Secret     string
	SecretText string       // the secret in groups of four, to type
	OTPAuth    template.URL // otpauth://, which html/template would not trust
	Sealed     string
}

var accountNotices = map[string]string{
	"email":       "Votre adresse de notification est enregistrée.",
	"email-supp":  "Vous ne recevrez plus de notification par e-mail.",
	"totp":        "La double authentification est activée : à chaque connexion, le code de votre application vous sera demandé.",
	"totp-retire": "La double authentification est désactivée.",
}

func (p *pages) accountPage(w http.ResponseWriter, r *http.Request, s *websession) {
	d := accountData{page: p.newPage(s, "Mon compte", "compte"), Email: s.Account.NotifyEmail, TOTP: s.Account.TOTP}
	d.Notice = accountNotices[r.URL.Query().Get("ok")]
	p.render(w, r, http.StatusOK, "account", d)
}

func (p *pages) accountError(w http.ResponseWriter, r *http.Request, s *websession, status int, msg string, d *accountData) {
	if d == nil {
		d = &accountData{Email: s.Account.NotifyEmail, TOTP: s.Account.TOTP}
	}
	d.page = p.newPage(s, "Mon compte", "compte")
	d.Error = msg
	p.render(w, r, status, "account", *d)
}

func (p *pages) accountEmail(w http.ResponseWriter, r *http.Request, s *websession) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	if r.PostFormValue("retirer") == "1" {
		email = ""
	}
	err := p.o.Dir.SetNotifyEmail(r.Context(), s.Account.Address, email)
	if errors.Is(err, directory.ErrInvalid) {
		d := &accountData{Email: email, TOTP: s.Account.TOTP}
		p.accountError(w, r, s, http.StatusBadRequest, "Cette adresse e-mail n'est pas valide.", d)
		return
	}
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	ok := "email"
	if email == "" {
		ok = "email-supp"
	}
	http.Redirect(w, r, "/compte?ok="+ok, http.StatusSeeOther)
}

// groups writes a base32 secret in groups of four letters, as people type
// it into an app.
func groups(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// otpauth lets the directory's otpauth:// link through html/template, and
// nothing else.
func otpauth(u string) template.URL {
	if !strings.HasPrefix(u, "otpauth://totp/") {
		return ""
	}
	return template.URL(u)
}

// totpStart makes a secret and shows it with the otpauth:// link; it is
// active once a code made from it is confirmed.
func (p *pages) totpStart(w http.ResponseWriter, r *http.Request, s *websession) {
	if s.Account.TOTP {
		http.Redirect(w, r, "/compte", http.StatusSeeOther)
		return
	}
	secret, url := p.o.Dir.NewTOTPSecret(s.Account, "Messagerie sécurisée de santé "+p.o.Instance)
	d := accountData{page: p.newPage(s, "Mon compte", "compte"), Email: s.Account.NotifyEmail, Setup: true,
		Secret: secret, SecretText: groups(secret), OTPAuth: otpauth(url), Sealed: p.seal("totp", s.csrf(), secret, url)}
	p.render(w, r, http.StatusOK, "account", d)
}

func (p *pages) totpConfirm(w http.ResponseWriter, r *http.Request, s *websession) {
	v, ok := p.unseal("totp", s.csrf(), r.PostFormValue("reglage"))
	if !ok {
		p.accountError(w, r, s, http.StatusBadRequest, "Ce réglage a expiré : recommencez l'activation.", nil)
		return
	}
	err := p.o.Dir.ConfirmTOTP(r.Context(), s.Account, v[0], strings.TrimSpace(r.PostFormValue("code")))
	if errors.Is(err, directory.ErrInvalid) || errors.Is(err, directory.ErrBadCredentials) {
		d := &accountData{Email: s.Account.NotifyEmail, Setup: true, Secret: v[0], SecretText: groups(v[0]), OTPAuth: otpauth(v[1]), Sealed: r.PostFormValue("reglage")}
		p.accountError(w, r, s, http.StatusBadRequest, "Code incorrect : vérifiez l'heure de votre téléphone et saisissez le code affiché.", d)
		return
	}
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/compte?ok=totp", http.StatusSeeOther)
}

func (p *pages) totpDisable(w http.ResponseWriter, r *http.Request, s *websession) {
	err := p.o.Dir.DisableTOTP(r.Context(), s.Account, strings.TrimSpace(r.PostFormValue("code")))
	if errors.Is(err, directory.ErrInvalid) || errors.Is(err, directory.ErrBadCredentials) {
		p.accountError(w, r, s, http.StatusBadRequest, "Code incorrect : la double authentification reste activée.", nil)
		return
	}
	if errors.Is(err, directory.ErrLocked) {
		p.accountError(w, r, s, http.StatusTooManyRequests, "Trop de tentatives : réessayez dans quelques minutes.", nil)
		return
	}
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/compte?ok=totp-retire", http.StatusSeeOther)
}
