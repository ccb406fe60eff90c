package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
)

func TestPagesAccountTOTP(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "pages-account", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		b := newBrowser(t, f.srv)
		b.login(f.pat)
		_, body := b.get("/compte")
		wantIn(t, body, "<h1>Mon compte</h1>", `aria-current="page">Mon compte`, "Notifications par e-mail", "Activer la double authentification")

		// The notification e-mail: refused when invalid, kept, removed.
		status, body := b.post("/compte/email", url.Values{"csrf": {b.csrf()}, "email": {"pas une adresse"}})
		if status != http.StatusBadRequest {
			t.Fatalf("bad e-mail: %d", status)
		}
		wantIn(t, body, "Cette adresse e-mail n&#39;est pas valide.")
		b.post("/compte/email", url.Values{"csrf": {b.csrf()}, "email": {"jeanne.dupont@example.org"}})
		wantIn(t, b.last, "Votre adresse de notification est enregistrée.", `value="jeanne.dupont@example.org"`)
		if a, _ := f.dir.ByAddress(t.Context(), f.pat.Address); a.NotifyEmail != "jeanne.dupont@example.org" {
			t.Fatalf("notify e-mail: %q", a.NotifyEmail)
		}
		if status, _ := b.post("/compte/email", url.Values{"email": {"x@example.org"}}); status != http.StatusForbidden {
			t.Fatalf("e-mail without CSRF: %d", status)
		}
		b.get("/compte")
		b.post("/compte/email", url.Values{"csrf": {b.csrf()}, "retirer": {"1"}})
		wantIn(t, b.last, "Vous ne recevrez plus de notification par e-mail.")

		// TOTP: a secret and its otpauth:// link, a wrong code, the right one.
		b.get("/compte")
		_, body = b.post("/compte/totp", url.Values{"csrf": {b.csrf()}})
		wantIn(t, body, `<a href="otpauth://totp/`, "Code de votre application d'authentification")
		secret := regexp.MustCompile(`secret=([A-Z2-7]+)`).FindStringSubmatch(body)[1]
		sealed := regexp.MustCompile(`name="reglage" value="([^"]+)"`).FindStringSubmatch(body)[1]
		if strings.Contains(sealed, secret) {
			t.Fatal("the sealed set-up shows the secret")
		}
		status, body = b.post("/compte/totp/confirmer", url.Values{"csrf": {b.csrf()}, "reglage": {sealed}, "code": {"000000"}})
		if status != http.StatusBadRequest {
			t.Fatalf("wrong code: %d", status)
		}
		wantIn(t, body, "Code incorrect")
		// Another session cannot replay the sealed set-up.
		b2 := newBrowser(t, f.srv)
		b2.login(f.pat)
		code, err := directory.TOTPCode(secret, time.Now())
		must(t, err)
		if status, _ := b2.post("/compte/totp/confirmer", url.Values{"csrf": {b2.csrf()}, "reglage": {sealed}, "code": {code}}); status != http.StatusBadRequest {
			t.Fatalf("sealed set-up in another session: %d", status)
		}
		b.post("/compte/totp/confirmer", url.Values{"csrf": {b.csrf()}, "reglage": {sealed}, "code": {code}})
		wantIn(t, b.last, "La double authentification est activée", "Désactiver la double authentification")

		// The login now asks for the code, in a second step that does not
		// show the password.
		c := newBrowser(t, f.srv)
		c.get("/connexion")
		status, body = c.post("/connexion", url.Values{"csrf": {c.csrf()}, "adresse": {f.pat.Address}, "mot_de_passe": {pw}, "suite": {"/documents"}})
		if status != http.StatusOK || c.url.Path != "/connexion" {
			t.Fatalf("first step: %d %s", status, c.url)
		}
		wantIn(t, body, `<label for="code">Code de votre application d'authentification</label>`, `name="identifiants"`, f.pat.Address)
		if strings.Contains(body, pw) {
			t.Fatal("the second step shows the password")
		}
		for _, ck := range c.hc.Jar.Cookies(c.url) {
			if strings.Contains(ck.Value, pw) {
				t.Fatal("the password is in a cookie")
			}
		}
		creds := regexp.MustCompile(`name="identifiants" value="([^"]+)"`).FindStringSubmatch(body)[1]
		status, body = c.post("/connexion", url.Values{"csrf": {c.csrf()}, "identifiants": {creds}, "code": {"123 456"}, "suite": {"/documents"}})
		if status != http.StatusUnauthorized {
			t.Fatalf("wrong code: %d", status)
		}
		wantIn(t, body, "Code incorrect", `name="identifiants"`)
		creds = regexp.MustCompile(`name="identifiants" value="([^"]+)"`).FindStringSubmatch(body)[1]
		// Sealed credentials of another browser are refused.
		d2 := newBrowser(t, f.srv)
		d2.get("/connexion")
		if status, _ := d2.post("/connexion", url.Values{"csrf": {d2.csrf()}, "identifiants": {creds}, "code": {code}}); status != http.StatusForbidden {
			t.Fatalf("credentials replayed in another browser: %d", status)
		}
		code, _ = directory.TOTPCode(secret, time.Now())
		status, body = c.post("/connexion", url.Values{"csrf": {c.csrf()}, "identifiants": {creds}, "code": {code}, "suite": {"/documents"}})
		if status != http.StatusOK || c.url.Path != "/documents" {
			t.Fatalf("second step: %d %s\n%s", status, c.url, body)
		}

		// Disabling takes a code.
		b.get("/compte")
		status, body = b.post("/compte/totp/desactiver", url.Values{"csrf": {b.csrf()}, "code": {"000000"}})
		if status != http.StatusBadRequest {
			t.Fatalf("disable with a wrong code: %d", status)
		}
		wantIn(t, body, "la double authentification reste activée")
		b.post("/compte/totp/desactiver", url.Values{"csrf": {b.csrf()}, "code": {code}})
		wantIn(t, b.last, "La double authentification est désactivée.", "Activer la double authentification")
		e := newBrowser(t, f.srv)
		e.login(f.pat) // one step again
	}}})
}
