package web_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/mailbox"
	"mssanted/web"
)

// browser is one person's browser on the web app: a cookie jar, redirects
// followed, the CSRF token read from the last page as a page script would
// never need to (it is in the forms).
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
	last string // body of the last page
	url  *url.URL
}

func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	jar, err := cookiejar.New(nil)
	must(t, err)
	hc := *srv.Client()
	hc.Jar = jar
	return &browser{t: t, base: srv.URL, hc: &hc}
}

func (b *browser) do(req *http.Request) (int, string) {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	must(b.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(b.t, err)
	b.last, b.url = string(raw), resp.Request.URL
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/html") {
		// Every page keeps to the content security policy: no inline
		// script, no inline style.
		if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|\sstyle=|<style`).MatchString(b.last) {
			b.t.Fatalf("%s: inline script or style:\n%s", req.URL.Path, b.last)
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			b.t.Fatalf("%s: no CSP", req.URL.Path)
		}
	}
	return resp.StatusCode, b.last
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.base+path, nil)
	must(b.t, err)
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token of the forms of the last page.
func (b *browser) csrf() string {
	b.t.Helper()
	m := csrfField.FindStringSubmatch(b.last)
	if m == nil {
		b.t.Fatalf("no CSRF field on the page:\n%s", b.last)
	}
	return m[1]
}

func (b *browser) post(path string, v url.Values) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.base+path, strings.NewReader(v.Encode()))
	must(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

type file struct{ field, name, ctype string }

func (b *browser) postMultipart(path string, fields map[string]string, files map[file][]byte) (int, string) {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		must(b.t, mw.WriteField(k, v))
	}
	for f, data := range files {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{`form-data; name="` + f.field + `"; filename="` + f.name + `"`}
		h["Content-Type"] = []string{f.ctype}
		w, err := mw.CreatePart(h)
		must(b.t, err)
		w.Write(data)
	}
	must(b.t, mw.Close())
	req, err := http.NewRequest("POST", b.base+path, &buf)
	must(b.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func (b *browser) login(a *directory.Account) {
	b.t.Helper()
	b.get("/connexion")
	status, body := b.post("/connexion", url.Values{"csrf": {b.csrf()}, "adresse": {a.Address}, "mot_de_passe": {pw}, "suite": {"/"}})
	if status != http.StatusOK || !strings.Contains(body, "Bonjour "+a.DisplayName) {
		b.t.Fatalf("login of %s: %d\n%s", a.Address, status, body)
	}
}

func wantIn(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Fatalf("page lacks %q:\n%s", w, body)
		}
	}
}

func TestPagesSessions(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "pages-sessions", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		b := newBrowser(t, f.srv)

		// Signed out, every page leads to /connexion, and back after.
		status, body := b.get("/messagerie")
		if status != http.StatusOK || b.url.Path != "/connexion" || b.url.Query().Get("suite") != "/messagerie" {
			t.Fatalf("signed out: %d at %s", status, b.url)
		}
		wantIn(t, body, `<html lang="fr">`, `<label for="adresse">Adresse de messagerie</label>`, `<label for="mot_de_passe">Mot de passe</label>`)

		// A wrong password says so and opens nothing.
		status, body = b.post("/connexion", url.Values{"csrf": {b.csrf()}, "adresse": {f.pat.Address}, "mot_de_passe": {"faux"}, "suite": {"/messagerie"}})
		if status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", status)
		}
		wantIn(t, body, "Adresse ou mot de passe incorrect.")

		// A login form without its token (another site posting) is refused.
		if status, _ := b.post("/connexion", url.Values{"adresse": {f.pat.Address}, "mot_de_passe": {pw}}); status != http.StatusForbidden {
			t.Fatalf("login without token: %d", status)
		}
		other := newBrowser(t, f.srv)
		other.get("/connexion")
		if status, _ := b.post("/connexion", url.Values{"csrf": {other.csrf()}, "adresse": {f.pat.Address}, "mot_de_passe": {pw}}); status != http.StatusForbidden {
			t.Fatalf("login with another browser's token: %d", status)
		}

		// The right password opens a cookie session and follows "suite".
		status, body = b.post("/connexion", url.Values{"csrf": {b.csrf()}, "adresse": {f.pat.Address}, "mot_de_passe": {pw}, "suite": {"/messagerie"}})
		if status != http.StatusOK || b.url.Path != "/messagerie" {
			t.Fatalf("login: %d at %s", status, b.url)
		}
		wantIn(t, body, "<h1>Messagerie</h1>", "Jeanne Dupont", `aria-current="page">Messagerie`)
		// "suite" never leaves the site.
		b2 := newBrowser(t, f.srv)
		b2.get("/connexion")
		b2.post("/connexion", url.Values{"csrf": {b2.csrf()}, "adresse": {f.pat.Address}, "mot_de_passe": {pw}, "suite": {"//evil.example/"}})
		if b2.url.Host != b.url.Host || b2.url.Path != "/" {
			t.Fatalf("open redirect: %s", b2.url)
		}

		// A POST without the session's CSRF token changes nothing.
		for _, tok := range []string{"", "0000", other.csrf()} {
			if status, body := b.post("/notifications/lues", url.Values{"csrf": {tok}}); status != http.StatusForbidden {
				t.Fatalf("POST with CSRF %q: %d\n%s", tok, status, body)
			}
		}
		b.get("/")
		if status, _ := b.post("/notifications/lues", url.Values{"csrf": {b.csrf()}}); status != http.StatusOK || b.url.RawQuery != "lues=1" {
			t.Fatalf("POST with the token: %d %s", status, b.url)
		}
		// A bearer token does not open the pages.
		api := f.login(f.pat)
		req, _ := http.NewRequest("GET", f.srv.URL+"/messagerie", nil)
		req.Header.Set("Authorization", "Bearer "+api.token)
		nb := newBrowser(t, f.srv)
		nb.do(req)
		if nb.url.Path != "/connexion" {
			t.Fatalf("bearer on a page: at %s", nb.url)
		}

		// Logout ends the session: the pages lead to /connexion again.
		b.get("/")
		if status, _ := b.post("/deconnexion", url.Values{"csrf": {b.csrf()}}); status != http.StatusOK || b.url.Path != "/connexion" {
			t.Fatalf("logout: %d at %s", status, b.url)
		}
		if b.get("/"); b.url.Path != "/connexion" {
			t.Fatalf("after logout: at %s", b.url)
		}

		// Static files are served with the security headers.
		resp, err := f.srv.Client().Get(f.srv.URL + "/static/app.css")
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("app.css: %d %v", resp.StatusCode, resp.Header)
		}
	}}})
}

var convLink = regexp.MustCompile(`href="/messagerie/(\d+)"`)

func TestPagesConversation(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "pages-conversation", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
		var s sent
		f.login(f.doc).do("POST", "/api/v1/conversations", map[string]any{"to": f.pat.Address, "subject": "Vos résultats", "text": "Bonjour,\nvoici vos résultats.",
			"attachments": []map[string]any{{"name": "resultats.pdf", "content_type": "application/pdf", "data": pdf}}}, http.StatusCreated, &s)
		id := itoa(s.ConversationID)

		pat := newBrowser(t, f.srv)
		pat.login(f.pat)
		wantIn(t, pat.last, "Nouveau message de Dr Alice Martin", "Vous avez <strong>1</strong> message non lu", "Mes derniers documents")
		_, list := pat.get("/messagerie")
		wantIn(t, list, "Vos résultats", "Dr Alice Martin", "Médecin généraliste", "1 non lu", `href="/messagerie/`+id+`"`)
		_, page := pat.get("/messagerie/" + id)
		wantIn(t, page, "<h1>Vos résultats</h1>", `<span class="name">Dr Alice Martin</span>`, "Médecin généraliste", "Non signé",
			"voici vos résultats.", `href="/api/v1/conversations/`+id+`/messages/`, `>resultats.pdf</a>`, `action="/messagerie/`+id+`/repondre"`,
			`enctype="multipart/form-data"`, `accept="image/*,application/pdf"`)
		// The attachment link opens with the browser's cookie.
		m := regexp.MustCompile(`href="(/api/v1/conversations/[^"]+)"`).FindStringSubmatch(page)
		req, _ := http.NewRequest("GET", f.srv.URL+m[1], nil)
		resp, err := pat.hc.Do(req)
		must(t, err)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(got, pdf) {
			t.Fatalf("attachment through the page's link: %d %q", resp.StatusCode, got)
		}
		// Reading it read the message and its notification.
		_, home := pat.get("/")
		wantIn(t, home, "Aucun message non lu.")
		if strings.Contains(home, `<span class="badge">Nouveau</span> <a href="/messagerie/`+id+`"`) {
			t.Fatalf("notification still unread after reading:\n%s", home)
		}

		// A reply needs the token, then goes with its photo.
		pat.get("/messagerie/" + id)
		tok := pat.csrf()
		if status, _ := pat.postMultipart("/messagerie/"+id+"/repondre", map[string]string{"texte": "Sans jeton"}, nil); status != http.StatusForbidden {
			t.Fatalf("reply without the token: %d", status)
		}
		jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00 photo")
		status, body := pat.postMultipart("/messagerie/"+id+"/repondre", map[string]string{"csrf": tok, "texte": "Merci docteur."},
			map[file][]byte{{"pieces", "photo.jpg", "image/jpeg"}: jpeg})
		if status != http.StatusOK || pat.url.Path != "/messagerie/"+id {
			t.Fatalf("reply: %d at %s\n%s", status, pat.url, body)
		}
		wantIn(t, body, "Votre message a été envoyé.", "Merci docteur.", "Jeanne Dupont</span> (vous)", ">photo.jpg</a>")
		// Too large: refused before anything is read or sent.
		status, body = pat.postMultipart("/messagerie/"+id+"/repondre", map[string]string{"csrf": tok, "texte": "Trop lourd"},
			map[file][]byte{{"pieces", "scan.pdf", "application/pdf"}: bytes.Repeat([]byte("%PDF"), 21<<18)})
		if status != http.StatusRequestEntityTooLarge {
			t.Fatalf("21 MB reply: %d", status)
		}
		wantIn(t, body, "Le message dépasse 20 Mo")
		// Eleven files are too many.
		eleven := map[file][]byte{}
		for i := range 11 {
			eleven[file{"pieces", fmt.Sprintf("p%d.jpg", i), "image/jpeg"}] = jpeg
		}
		if status, _ := pat.postMultipart("/messagerie/"+id+"/repondre", map[string]string{"csrf": tok, "texte": "Onze"}, eleven); status != http.StatusBadRequest {
			t.Fatalf("11 attachments: %d", status)
		}
		// An executable is not an accepted attachment.
		status, body = pat.postMultipart("/messagerie/"+id+"/repondre", map[string]string{"csrf": tok, "texte": "Tenez"},
			map[file][]byte{{"pieces", "virus.exe", "application/x-msdownload"}: []byte("MZ\x90\x00")})
		if status != http.StatusBadRequest {
			t.Fatalf("exe attachment: %d", status)
		}
		wantIn(t, body, "virus.exe n&#39;est pas accepté")

		// The professional's web view: the patient's name and address,
		// the reply, and the one-click close.
		doc := newBrowser(t, f.srv)
		doc.login(f.doc)
		_, dpage := doc.get("/messagerie/" + id)
		wantIn(t, dpage, "Jeanne Dupont", f.pat.Address, "Merci docteur.", ">photo.jpg</a>", "Clôturer la conversation")
		if status, _ := doc.post("/messagerie/"+id+"/cloturer", url.Values{"csrf": {"x"}}); status != http.StatusForbidden {
			t.Fatalf("close without the token: %d", status)
		}
		// ... nor as a multipart form (another site's form may be one).
		if status, _ := doc.postMultipart("/messagerie/"+id+"/cloturer", map[string]string{"csrf": "x"}, nil); status != http.StatusForbidden {
			t.Fatalf("multipart close without the token: %d", status)
		}
		status, dpage = doc.post("/messagerie/"+id+"/cloturer", url.Values{"csrf": {doc.csrf()}})
		if status != http.StatusOK {
			t.Fatalf("close: %d\n%s", status, dpage)
		}
		wantIn(t, dpage, "La conversation est clôturée", "Fin de la conversation")
		if strings.Contains(dpage, "Clôturer la conversation</button>") {
			t.Fatalf("close button on a closed conversation")
		}
		// The patient cannot close.
		if status, _ := pat.post("/messagerie/"+id+"/cloturer", url.Values{"csrf": {tok}}); status != http.StatusForbidden {
			t.Fatalf("patient closing: %d", status)
		}

		// Closed: the sentence in place of the reply box.
		_, page = pat.get("/messagerie/" + id)
		wantIn(t, page, "Dr Alice Martin a mis fin à vos échanges", "Vous ne pouvez plus répondre")
		if strings.Contains(page, `action="/messagerie/`+id+`/repondre"`) {
			t.Fatalf("reply form on a closed conversation:\n%s", page)
		}
		// A reply from a page opened before (the form still there) is
		// refused with the sentence, and kept in Drafts.
		status, body = pat.postMultipart("/messagerie/"+id+"/repondre", map[string]string{"csrf": tok, "texte": "Encore une question"}, nil)
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("reply after closing: %d\n%s", status, body)
		}
		wantIn(t, body, "Dr Alice Martin a mis fin à vos échanges", "il a été conservé dans vos brouillons")
		checkDraftText(t, f, f.pat, "Encore une question")

		// The letter's PDF is in the document library, on Accueil and in
		// Documents, and opens from there.
		_, home = pat.get("/")
		wantIn(t, home, "Mes derniers documents", `href="/documents/`, "par Dr Alice Martin", "Voir tous mes documents")
		_, docs := pat.get("/documents")
		wantIn(t, docs, "1 document", "par Dr Alice Martin, Médecin généraliste", "PDF", `aria-current="page">Documents`)
		dm := regexp.MustCompile(`<h3><a href="(/documents/\d+)">`).FindStringSubmatch(docs)
		if dm == nil {
			t.Fatalf("no document link:\n%s", docs)
		}
		_, pg := pat.get(dm[1])
		wantIn(t, pg, "Médecin généraliste", "Voir le message", `<iframe src="/api/v1/documents/`)
		dm = regexp.MustCompile(`href="(/api/v1/documents/\d+/content)" download`).FindStringSubmatch(pg)
		if dm == nil {
			t.Fatalf("no download link:\n%s", pg)
		}
		req, _ = http.NewRequest("GET", f.srv.URL+dm[1], nil)
		resp, err = pat.hc.Do(req)
		must(t, err)
		got, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(got, pdf) {
			t.Fatalf("document through the page's link: %d %q", resp.StatusCode, got)
		}

		// Never the professional's address in what the patient sees.
		for _, p := range []string{"/", "/messagerie", "/messagerie/" + id, "/documents"} {
			if _, body := pat.get(p); strings.Contains(body, f.doc.Address) {
				t.Fatalf("%s shows the professional's address:\n%s", p, body)
			}
		}
		// Nobody else opens it.
		other := newBrowser(t, f.srv)
		other.login(f.pat2)
		if status, _ := other.get("/messagerie/" + id); status != http.StatusNotFound {
			t.Fatalf("another patient opened the conversation: %d", status)
		}
	}}})
}

// checkDraftText finds a draft holding text in the account's Drafts.
func checkDraftText(t *testing.T, f *fixture, a *directory.Account, text string) {
	t.Helper()
	ctx := context.Background()
	acc, err := f.store.Open(ctx, f.dir, a, "")
	must(t, err)
	drafts, err := acc.Folder(ctx, "Drafts")
	must(t, err)
	ms, err := acc.MessagesByUID(ctx, drafts, []uint32{1, 2, 3, 4, 5})
	must(t, err)
	for i := range ms {
		rc, err := acc.OpenBody(ctx, &ms[i])
		must(t, err)
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, []byte(text)) && bytes.Contains(b, []byte("X-MSS-Refus:")) {
			return
		}
	}
	t.Fatalf("no draft with %q in Drafts", text)
}

func TestPagesPharmacy(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "pages-pharmacy", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		pat := newBrowser(t, f.srv)
		pat.login(f.pat)
		_, body := pat.get("/messagerie/nouveau")
		wantIn(t, body, "Rechercher une pharmacie", `<label for="nom">Nom de la pharmacie</label>`, `<label for="lieu">Commune, code postal ou département</label>`)
		status, body := pat.get("/messagerie/nouveau?recherche=1&nom=&lieu=")
		if status != http.StatusBadRequest {
			t.Fatalf("empty search: %d", status)
		}
		wantIn(t, body, "Saisissez au moins un champ")
		_, body = pat.get("/messagerie/nouveau?recherche=1&nom=pharmacie+de+la+garre&lieu=Moulins")
		wantIn(t, body, "1 pharmacie trouvée", "<h3>Pharmacie de la Gare</h3>", "Pharmacie d&#39;officine", "1 pl de la Gare, 03000 Moulins",
			">Sélectionner</button>", "Modifier ma recherche")
		if strings.Contains(body, f.ph.Address) || strings.Contains(body, "Pharmacie Fermée") {
			t.Fatalf("search page shows a mailbox address or an unreachable pharmacy:\n%s", body)
		}
		m := regexp.MustCompile(`name="pharmacie" value="([^"]+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no selection token")
		}
		choice := m[1]
		// A choice means nothing to another session.
		other := newBrowser(t, f.srv)
		other.login(f.pat2)
		if other.get("/messagerie/nouveau/message?pharmacie=" + url.QueryEscape(choice)); other.url.Path != "/messagerie/nouveau" || other.url.RawQuery != "" {
			t.Fatalf("another session's choice: at %s", other.url)
		}
		_, body = pat.get("/messagerie/nouveau/message?pharmacie=" + url.QueryEscape(choice))
		wantIn(t, body, "Pharmacie de la Gare", `<label for="objet">Objet</label>`, `capture="environment"`, `accept="image/*,application/pdf"`)
		if strings.Contains(body, f.ph.Address) {
			t.Fatalf("message form shows the pharmacy's address:\n%s", body)
		}
		tok := pat.csrf()
		// An empty subject is refused, the text kept on the page.
		status, body = pat.postMultipart("/messagerie/nouveau/message?pharmacie="+url.QueryEscape(choice), map[string]string{"csrf": tok, "objet": "", "texte": "Mon texte"}, nil)
		if status == http.StatusSeeOther || status == http.StatusOK {
			t.Fatalf("empty subject: %d", status)
		}
		wantIn(t, body, "Saisissez un objet", "Mon texte")
		jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00 ordonnance")
		status, body = pat.postMultipart("/messagerie/nouveau/message?pharmacie="+url.QueryEscape(choice), map[string]string{"csrf": tok, "objet": "Ordonnance", "texte": "Voici mon ordonnance."},
			map[file][]byte{{"photo", "ordonnance.jpg", "image/jpeg"}: jpeg})
		if status != http.StatusOK || !strings.HasPrefix(pat.url.Path, "/messagerie/") {
			t.Fatalf("send to the pharmacy: %d at %s\n%s", status, pat.url, body)
		}
		wantIn(t, body, "Votre message a été envoyé.", "Voici mon ordonnance.", ">ordonnance.jpg</a>", "Pharmacie de la Gare")
		if strings.Contains(body, f.ph.Address) {
			t.Fatalf("conversation page shows the pharmacy's address")
		}
		// The pharmacy reads it.
		pc := f.login(f.ph).conversations()
		if len(pc) != 1 || pc[0].With.Name != "Jeanne Dupont" || pc[0].Unread != 1 {
			t.Fatalf("pharmacy's conversations: %+v", pc)
		}
		// Professionals have no "Nouveau message" page (they write from
		// their mail client).
		doc := newBrowser(t, f.srv)
		doc.login(f.doc)
		if status, _ := doc.get("/messagerie/nouveau"); status != http.StatusNotFound {
			t.Fatalf("professional on Nouveau message: %d", status)
		}
		_, body = pat.get("/documents")
		wantIn(t, body, "0 document", "Aucun document pour le moment.", `aria-current="page">Documents`)
	}}})
}

// mailClientServer is the web door with mail-client settings.
func mailClientServer(t *testing.T, f *fixture) *httptest.Server {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := &mailbox.Pipeline{Store: f.store, Dir: f.dir, Hostname: "mail.hopital.example", Product: "mssanted/test", Log: quiet}
	srv := httptest.NewTLSServer(web.Handler(web.Options{Instance: "CHU test", Logger: quiet, Dir: f.dir, Mail: f.store, Pipeline: p,
		MailClient: func() web.MailClient {
			return web.MailClient{Hostname: "mail.hopital.example", Organisation: "CHU test", Domains: []string{"hopital.example"},
				IMAP: 143, IMAPS: 993, Submission: 587, Submissions: 465}
		}}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPagesMailClient(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "pages-mail-client", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		srv := mailClientServer(t, f)
		type server struct {
			Type           string `xml:"type,attr"`
			Hostname       string `xml:"hostname"`
			Port           int    `xml:"port"`
			SocketType     string `xml:"socketType"`
			Authentication string `xml:"authentication"`
			Username       string `xml:"username"`
		}
		type clientConfig struct {
			XMLName  xml.Name `xml:"clientConfig"`
			Version  string   `xml:"version,attr"`
			Provider struct {
				ID       string   `xml:"id,attr"`
				Domains  []string `xml:"domain"`
				Incoming []server `xml:"incomingServer"`
				Outgoing []server `xml:"outgoingServer"`
			} `xml:"emailProvider"`
		}
		for _, path := range []string{"/.well-known/autoconfig/mail/config-v1.1.xml", "/mail/config-v1.1.xml?emailaddress=dr%40hopital.example"} {
			resp, err := srv.Client().Get(srv.URL + path)
			must(t, err)
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
				t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			var cfg clientConfig
			must(t, xml.Unmarshal(raw, &cfg))
			p := cfg.Provider
			want := func(s server, typ string, port int, socket string) {
				if s.Type != typ || s.Hostname != "mail.hopital.example" || s.Port != port || s.SocketType != socket ||
					s.Authentication != "password-cleartext" || s.Username != "%EMAILADDRESS%" {
					t.Fatalf("%s: server %+v, want %s %d %s", path, s, typ, port, socket)
				}
			}
			if cfg.Version != "1.1" || p.ID != "hopital.example" || len(p.Domains) != 1 || len(p.Incoming) != 2 || len(p.Outgoing) != 2 {
				t.Fatalf("%s: %+v", path, cfg)
			}
			want(p.Incoming[0], "imap", 993, "SSL")
			want(p.Incoming[1], "imap", 143, "STARTTLS")
			want(p.Outgoing[0], "smtp", 465, "SSL")
			want(p.Outgoing[1], "smtp", 587, "STARTTLS")
		}
		resp, err := srv.Client().Get(srv.URL + "/mail/config-v1.1.xml?emailaddress=x%40ailleurs.example")
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("autoconfig for a domain not served: %d", resp.StatusCode)
		}

		// The Apple profile: the signed-in professional's account.
		doc := newBrowser(t, srv)
		doc.login(f.doc)
		_, page := doc.get("/configuration")
		wantIn(t, page, "mail.hopital.example", "993", "465", "/configuration/messagerie.mobileconfig")
		req, _ := http.NewRequest("GET", srv.URL+"/configuration/messagerie.mobileconfig", nil)
		resp, err = doc.hc.Do(req)
		must(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-apple-aspen-config" ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), ".mobileconfig") {
			t.Fatalf("mobileconfig: %d %v", resp.StatusCode, resp.Header)
		}
		// A well-formed plist whose mail payload names the account.
		dec := xml.NewDecoder(bytes.NewReader(raw))
		var keys []string
		var values []string
		var lastKey string
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			must(t, err)
			if se, ok := tok.(xml.StartElement); ok && (se.Name.Local == "key" || se.Name.Local == "string" || se.Name.Local == "integer") {
				var s string
				must(t, dec.DecodeElement(&s, &se))
				if se.Name.Local == "key" {
					lastKey = s
					keys = append(keys, s)
				} else {
					values = append(values, lastKey+"="+s)
				}
			}
		}
		got := strings.Join(values, "\n")
		for _, w := range []string{"PayloadType=com.apple.mail.managed", "PayloadType=Configuration", "EmailAddress=dr@hopital.example",
			"IncomingMailServerHostName=mail.hopital.example", "IncomingMailServerPortNumber=993", "OutgoingMailServerPortNumber=465",
			"IncomingMailServerUsername=dr@hopital.example", "EmailAccountType=EmailTypeIMAP"} {
			if !strings.Contains(got, w) {
				t.Fatalf("mobileconfig lacks %s:\n%s", w, raw)
			}
		}
		if strings.Contains(string(raw), pw) || !regexp.MustCompile(`PayloadUUID</key><string>[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}<`).Match(raw) {
			t.Fatalf("mobileconfig: %s", raw)
		}
		// Patients use the web app: no mail-client set-up for them. (This
		// instance has no document library: Documents says so.)
		pat := newBrowser(t, srv)
		pat.login(f.pat)
		wantIn(t, pat.last, "Bientôt disponible")
		_, docs := pat.get("/documents")
		wantIn(t, docs, "Bientôt disponible")
		if status, _ := pat.get("/configuration/messagerie.mobileconfig"); status != http.StatusNotFound {
			t.Fatalf("patient mobileconfig: %d", status)
		}
	}}})
}
