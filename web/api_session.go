package web

import (
	"net/http"
	"time"

	"mssanted/directory"
)

type loginRequest struct {
	Address  string `json:"address"`
	Password string `json:"password"`
	// Kind is "bearer" (an app: the token is in the answer) or "cookie"
	// (a browser: the token is an HttpOnly cookie); default bearer.
	Kind string `json:"kind,omitempty"`
	// Code is the one-time code of the second factor, for the accounts
	// that have it.
	Code string `json:"code,omitempty"`
}

type accountJSON struct {
	Address     string `json:"address"`
	Role        string `json:"role"`
	Name        string `json:"name"`
	MailboxType string `json:"mailbox_type"`
	Profession  string `json:"profession,omitempty"`
	NotifyEmail string `json:"notify_email,omitempty"`
	TOTP        bool   `json:"totp"`
}

func accountView(a *directory.Account) accountJSON {
	v := accountJSON{Address: a.Address, Role: string(a.Role), Name: a.DisplayName, MailboxType: string(a.MailboxType), NotifyEmail: a.NotifyEmail, TOTP: a.TOTP}
	if a.Professional != nil {
		v.Profession = a.Professional.Profession
	}
	return v
}

type sessionJSON struct {
	Token     string      `json:"token,omitempty"`
	CSRFToken string      `json:"csrf_token,omitempty"`
	ExpiresAt time.Time   `json:"expires_at"`
	Account   accountJSON `json:"account"`
}

func (a *api) login(w http.ResponseWriter, r *http.Request, _ *directory.Session) error {
	var req loginRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Kind == "" {
		req.Kind = directory.SessionBearer
	}
	if req.Address == "" || req.Password == "" {
		return bad("Saisissez votre adresse et votre mot de passe", "address and password are required")
	}
	token, s, err := a.o.Dir.LoginWithCode(r.Context(), req.Address, req.Password, req.Code, remoteIP(r), req.Kind)
	if err != nil {
		return err
	}
	out := sessionJSON{ExpiresAt: s.ExpiresAt, Account: accountView(s.Account)}
	if s.Kind == directory.SessionCookie {
		setSessionCookie(w, token, s.ExpiresAt)
		out.CSRFToken = csrfToken(token)
	} else {
		out.Token = token
	}
	return writeJSON(w, http.StatusCreated, out)
}

// setSessionCookie: HttpOnly (no script reads it), Secure (HTTPS only),
// SameSite=Strict (no cross-site request carries it).
func setSessionCookie(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

func (a *api) logout(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	token := ""
	if c, err := r.Cookie(sessionCookie); err == nil && s.Kind == directory.SessionCookie {
		token = c.Value
	} else if h := r.Header.Get("Authorization"); len(h) > 7 {
		token = h[7:]
	}
	if err := a.o.Dir.Logout(r.Context(), token); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) me(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	return writeJSON(w, http.StatusOK, accountView(s.Account))
}

type meUpdate struct {
	NotifyEmail *string `json:"notify_email"`
}

func (a *api) updateMe(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	var req meUpdate
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.NotifyEmail != nil {
		if err := a.o.Dir.SetNotifyEmail(r.Context(), s.Account.Address, *req.NotifyEmail); err != nil {
			return err
		}
	}
	acc, err := a.o.Dir.ByID(r.Context(), s.Account.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, accountView(acc))
}

type totpJSON struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
}

// startTOTP gives a new secret to put in an authenticator app; it is
// active once confirmed with a code.
func (a *api) startTOTP(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	secret, u := a.o.Dir.NewTOTPSecret(s.Account, totpIssuer(a.o.Instance))
	return writeJSON(w, http.StatusOK, totpJSON{Secret: secret, OTPAuthURL: u})
}

func totpIssuer(instance string) string {
	if instance == "" {
		return "mssanted"
	}
	return instance
}

type totpIn struct {
	Secret string `json:"secret,omitempty"`
	Code   string `json:"code"`
}

func (a *api) confirmTOTP(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	var in totpIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.o.Dir.ConfirmTOTP(r.Context(), s.Account, in.Secret, in.Code); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) disableTOTP(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	var in totpIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.o.Dir.DisableTOTP(r.Context(), s.Account, in.Code); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
