package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/mailbox"
	"mssanted/web"
)

const pw = "correct horse battery staple"

type fixture struct {
	t     *testing.T
	srv   *httptest.Server
	dir   *directory.Store
	store *mailbox.Store

	doc, doc2, pat, pat2, ph, closedPh *directory.Account
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := directory.New(d, nil, nil, nil)
	must(t, dir.AddDomain(ctx, "hopital.example", directory.ProfessionalDomain))
	must(t, dir.AddDomain(ctx, "patient.example", directory.PatientDomain))
	f := &fixture{t: t, dir: dir}
	create := func(n directory.NewAccount) *directory.Account {
		n.Password = pw
		a, err := dir.Create(ctx, n)
		must(t, err)
		return a
	}
	rpps := func(s string) string { return s + string(directory.LuhnKey(s)) }
	ins := func(s string) string { k, _ := directory.INSKey(s); return s + k }
	f.doc = create(directory.NewAccount{Address: "dr@hopital.example", Role: directory.Professional, DisplayName: "Dr Alice Martin",
		Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000001"), Profession: "Médecin généraliste"}})
	f.doc2 = create(directory.NewAccount{Address: "dr2@hopital.example", Role: directory.Professional, DisplayName: "Dr Paul Petit",
		Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000002"), Profession: "Radiologue"}})
	f.pat = create(directory.NewAccount{Address: "jeanne@patient.example", Role: directory.Patient, DisplayName: "Jeanne Dupont",
		Patient: &directory.PatientInfo{INS: ins("2850375123456"), BirthDate: time.Date(1985, 3, 14, 0, 0, 0, 0, time.UTC), Sex: "F"}})
	f.pat2 = create(directory.NewAccount{Address: "paul@patient.example", Role: directory.Patient, DisplayName: "Paul Durand",
		Patient: &directory.PatientInfo{INS: ins("1850775123456"), BirthDate: time.Date(1985, 7, 1, 0, 0, 0, 0, time.UTC), Sex: "M"}})
	f.ph = create(directory.NewAccount{Address: "gare@hopital.example", Role: directory.Pharmacy, DisplayName: "Pharmacie de la Gare",
		Pharmacy: &directory.PharmacyInfo{FINESS: "030001230", PostalAddress: "1 pl de la Gare", PostalCode: "03000", Commune: "Moulins", ReachableByPatients: true}})
	f.closedPh = create(directory.NewAccount{Address: "fermee@hopital.example", Role: directory.Pharmacy, DisplayName: "Pharmacie Fermée",
		Pharmacy: &directory.PharmacyInfo{FINESS: "030001248", PostalAddress: "2 rue X", PostalCode: "03000", Commune: "Moulins"}})
	blobs, err := db.NewFSBlobs(t.TempDir())
	must(t, err)
	f.store = mailbox.New(d, blobs)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	docs := dmp.New(d, blobs, dir)
	p := &mailbox.Pipeline{Store: f.store, Dir: dir, Hostname: "mail.hopital.example", Product: "mssanted/test", Log: quiet, Filer: docs.Filer()}
	f.srv = httptest.NewTLSServer(web.Handler(web.Options{Instance: "test", Version: "test", Logger: quiet, Dir: dir, Mail: f.store, Pipeline: p, Docs: docs}))
	t.Cleanup(f.srv.Close)
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// client is one logged-in user of the API.
type client struct {
	f     *fixture
	token string
}

func (f *fixture) login(a *directory.Account) *client {
	f.t.Helper()
	var s struct{ Token string }
	f.call(nil, "POST", "/api/v1/session", map[string]string{"address": a.Address, "password": pw}, http.StatusCreated, &s)
	if s.Token == "" {
		f.t.Fatal("no bearer token")
	}
	return &client{f: f, token: s.Token}
}

// call does one request and checks the status; out receives the JSON body.
// It returns the raw body.
func (f *fixture) call(c *client, method, path string, body any, want int, out any) []byte {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		must(f.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	must(f.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c != nil {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := f.srv.Client().Do(req)
	must(f.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(f.t, err)
	if resp.StatusCode != want {
		f.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		f.t.Fatalf("%s %s: error as %q, want application/problem+json", method, path, resp.Header.Get("Content-Type"))
	}
	if out != nil {
		must(f.t, json.Unmarshal(raw, out))
	}
	return raw
}

func (c *client) do(method, path string, body any, want int, out any) []byte {
	c.f.t.Helper()
	return c.f.call(c, method, path, body, want, out)
}

type problem struct {
	Title        string `json:"title"`
	Status       int    `json:"status"`
	SMTP         int    `json:"smtp_code"`
	EnhancedCode string `json:"enhanced_code"`
	DraftUID     uint32 `json:"draft_uid"`
}

// refused checks a messaging refusal: 422 with the sentence and the SMTP
// codes the SMTP door gives for the same rule, the draft kept.
func (c *client) refused(method, path string, body any, sentence string) problem {
	c.f.t.Helper()
	var p problem
	c.do(method, path, body, http.StatusUnprocessableEntity, &p)
	if p.Title != sentence || p.SMTP != 550 || p.EnhancedCode != "5.7.1" {
		c.f.t.Fatalf("%s %s: refusal %+v, want 550 5.7.1 %q", method, path, p, sentence)
	}
	if p.DraftUID == 0 {
		c.f.t.Fatalf("%s %s: the refused draft was not kept", method, path)
	}
	return p
}

type conv struct {
	ID   int64 `json:"id"`
	With struct {
		Name, Profession, Address string
	} `json:"with"`
	State     string `json:"state"`
	StartedBy string `json:"started_by"`
	Unread    int    `json:"unread"`
	CanReply  bool   `json:"can_reply"`
	Closed    string `json:"closed_message"`
	Messages  []struct {
		ID      int64
		Subject string
		Text    string
		Closing bool
		From    struct {
			Name, Profession, Address string
			Me                        bool
		}
		Attachments []struct {
			Name, URL string
			Size      int64
		}
	} `json:"messages"`
}

func (c *client) conversations() []conv {
	c.f.t.Helper()
	var out struct{ Conversations []conv }
	c.do("GET", "/api/v1/conversations", nil, http.StatusOK, &out)
	return out.Conversations
}

func (c *client) conversation(id int64) (conv, string) {
	c.f.t.Helper()
	var out conv
	raw := c.do("GET", "/api/v1/conversations/"+itoa(id), nil, http.StatusOK, &out)
	return out, string(raw)
}

func itoa(n int64) string { return strings.TrimSpace(string(must2(json.Marshal(n)))) }

func must2(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

type sent struct {
	ConversationID int64  `json:"conversation_id"`
	MessageID      string `json:"message_id"`
}

func TestAPIRules(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "messaging-rules", Run: testAPIRules}})
}

func testAPIRules(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	doc, pat, ph := f.login(f.doc), f.login(f.pat), f.login(f.ph)
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

	// Rule 1: only a professional starts a conversation with a patient.
	pat.refused("POST", "/api/v1/conversations", map[string]any{"to": f.doc.Address, "subject": "Bonjour", "text": "Docteur ?"},
		"Seul un professionnel de santé peut commencer une conversation avec vous")
	var s sent
	doc.do("POST", "/api/v1/conversations", map[string]any{"to": f.pat.Address, "subject": "Vos résultats", "text": "Bonjour,\nvoici vos résultats.",
		"attachments": []map[string]any{{"name": "resultats.pdf", "content_type": "application/pdf", "data": pdf}}}, http.StatusCreated, &s)
	if s.ConversationID == 0 || s.MessageID == "" {
		t.Fatalf("start: %+v", s)
	}

	// Rule 2 and the address rule: the patient sees a name and a
	// profession, never the professional's address.
	list := pat.conversations()
	if len(list) != 1 || list[0].With.Name != "Dr Alice Martin" || list[0].With.Profession != "Médecin généraliste" || list[0].Unread != 1 || !list[0].CanReply {
		t.Fatalf("patient's conversations: %+v", list)
	}
	c, raw := pat.conversation(s.ConversationID)
	if strings.Contains(raw, f.doc.Address) {
		t.Fatalf("the patient was shown the professional's address: %s", raw)
	}
	if len(c.Messages) != 1 || c.Messages[0].Subject != "Vos résultats" || !strings.Contains(c.Messages[0].Text, "voici vos résultats") ||
		c.Messages[0].From.Name != "Dr Alice Martin" || len(c.Messages[0].Attachments) != 1 || c.Messages[0].Attachments[0].Name != "resultats.pdf" {
		t.Fatalf("patient's view: %+v", c)
	}
	if got := pat.do("GET", c.Messages[0].Attachments[0].URL, nil, http.StatusOK, nil); !bytes.Equal(got, pdf) {
		t.Fatalf("attachment: %q", got)
	}
	if l := pat.conversations(); l[0].Unread != 0 {
		t.Fatalf("reading did not mark read: %+v", l[0])
	}
	// Nobody else reads it, whatever the id.
	f.login(f.pat2).do("GET", "/api/v1/conversations/"+itoa(s.ConversationID), nil, http.StatusNotFound, nil)
	f.login(f.doc2).do("GET", "/api/v1/conversations/"+itoa(s.ConversationID), nil, http.StatusNotFound, nil)

	// The patient replies while it is open; the professional reads it.
	pat.do("POST", "/api/v1/conversations/"+itoa(s.ConversationID)+"/messages", map[string]any{"text": "Merci docteur."}, http.StatusCreated, nil)
	dc, _ := doc.conversation(s.ConversationID)
	if len(dc.Messages) != 2 || dc.Messages[1].Text != "Merci docteur." || dc.Messages[1].Subject != "Re: Vos résultats" || dc.With.Address != f.pat.Address {
		t.Fatalf("professional's view: %+v", dc)
	}
	// ... and the patient sees what they wrote.
	if pc, _ := pat.conversation(s.ConversationID); len(pc.Messages) != 2 || !pc.Messages[1].From.Me {
		t.Fatalf("patient's view after replying: %+v", pc)
	}

	// Only the professional closes; the patient then sees the sentence,
	// and a reply is refused with it, the draft kept.
	pat.do("POST", "/api/v1/conversations/"+itoa(s.ConversationID)+"/close", nil, http.StatusForbidden, nil)
	doc.do("POST", "/api/v1/conversations/"+itoa(s.ConversationID)+"/close", map[string]any{"text": "Bonne continuation."}, http.StatusOK, nil)
	c, _ = pat.conversation(s.ConversationID)
	if c.State != "closed" || c.CanReply || c.Closed != "Dr Alice Martin a mis fin à vos échanges" || !c.Messages[len(c.Messages)-1].Closing {
		t.Fatalf("after closing: %+v", c)
	}
	p := pat.refused("POST", "/api/v1/conversations/"+itoa(s.ConversationID)+"/messages", map[string]any{"text": "Encore une question"},
		"Dr Alice Martin a mis fin à vos échanges")
	checkDraft(t, f, f.pat, p.DraftUID, "Encore une question")

	// Writing again reopens.
	doc.do("POST", "/api/v1/conversations", map[string]any{"to": f.pat.Address, "subject": "Nouveau rendez-vous", "text": "Le 3 à 10 h."}, http.StatusCreated, nil)
	pat.do("POST", "/api/v1/conversations/"+itoa(s.ConversationID)+"/messages", map[string]any{"text": "D'accord."}, http.StatusCreated, nil)

	// Rule 3: never patient to patient.
	pat.refused("POST", "/api/v1/conversations", map[string]any{"to": f.pat2.Address, "subject": "Salut", "text": "Coucou"},
		"Un patient ne peut pas écrire à un autre patient")

	// Rule 4: first to a pharmacy reachable by patients, which replies and
	// may close; never to one that is not.
	pat.refused("POST", "/api/v1/conversations", map[string]any{"to": f.closedPh.Address, "subject": "Ordonnance", "text": "Voici"},
		"Cette pharmacie ne reçoit pas de messages des patients")
	var ps sent
	pat.do("POST", "/api/v1/conversations", map[string]any{"to": f.ph.Address, "subject": "Ordonnance", "text": "Voici mon ordonnance.",
		"attachments": []map[string]any{{"name": "ordonnance.jpg", "content_type": "image/jpeg", "data": []byte("\xff\xd8\xff\xe0 photo")}}}, http.StatusCreated, &ps)
	pc := ph.conversations()
	if len(pc) != 1 || pc[0].ID != ps.ConversationID || pc[0].StartedBy != "patient" || pc[0].Unread != 1 || pc[0].With.Name != "Jeanne Dupont" {
		t.Fatalf("pharmacy's conversations: %+v", pc)
	}
	ph.do("POST", "/api/v1/conversations/"+itoa(ps.ConversationID)+"/messages", map[string]any{"text": "Votre commande est prête."}, http.StatusCreated, nil)
	ph.do("POST", "/api/v1/conversations/"+itoa(ps.ConversationID)+"/close", nil, http.StatusOK, nil)
	pc2, raw := pat.conversation(ps.ConversationID)
	if pc2.Closed != "Pharmacie de la Gare a mis fin à vos échanges" || pc2.With.Profession != "Pharmacie d'officine" || strings.Contains(raw, f.ph.Address) {
		t.Fatalf("patient's pharmacy conversation: %+v", pc2)
	}
	// Writing first again reopens a pharmacy conversation (rule 4).
	pat.do("POST", "/api/v1/conversations", map[string]any{"to": f.ph.Address, "subject": "Autre ordonnance", "text": "Bonjour"}, http.StatusCreated, nil)

	// Rule 5: professionals write to each other freely.
	doc.do("POST", "/api/v1/conversations", map[string]any{"to": f.doc2.Address, "subject": "Avis", "text": "Ton avis ?"}, http.StatusCreated, nil)

	// Notifications: each message to the patient, and the closings.
	var ns struct {
		Unread        int
		Notifications []struct {
			ID    int64
			Kind  string
			Title string
		}
	}
	pat.do("GET", "/api/v1/notifications", nil, http.StatusOK, &ns)
	titles := map[string]int{}
	for _, n := range ns.Notifications {
		titles[n.Kind+": "+n.Title]++
	}
	if ns.Unread != 6 || titles["document: Nouveau document : Resultats"] != 1 || titles["message: Nouveau message de Dr Alice Martin"] != 2 || titles["closed: Dr Alice Martin a mis fin à vos échanges"] != 1 ||
		titles["closed: Pharmacie de la Gare a mis fin à vos échanges"] != 1 || titles["message: Nouveau message de Pharmacie de la Gare"] != 1 {
		t.Fatalf("notifications: %d unread, %v", ns.Unread, titles)
	}
	pat.do("POST", "/api/v1/notifications/read", map[string]any{"ids": []int64{ns.Notifications[0].ID}}, http.StatusNoContent, nil)
	pat.do("GET", "/api/v1/notifications", nil, http.StatusOK, &ns)
	if ns.Unread != 5 {
		t.Fatalf("unread after reading one: %d", ns.Unread)
	}

	// Bad input changes nothing and says why.
	pat.do("POST", "/api/v1/conversations", map[string]any{"to": f.ph.Address, "subject": "", "text": "x"}, http.StatusUnprocessableEntity, nil)
	pat.do("POST", "/api/v1/conversations", map[string]any{"to": f.ph.Address, "subject": "x", "text": "x", "bcc": "x"}, http.StatusBadRequest, nil)
	pat.do("POST", "/api/v1/conversations/999999/messages", map[string]any{"text": "x"}, http.StatusNotFound, nil)
	pat.do("POST", "/api/v1/conversations/"+itoa(s.ConversationID)+"/messages", map[string]any{"to": f.doc2.Address, "text": "x"}, http.StatusBadRequest, nil)
}

// checkDraft finds the refused message in the account's Drafts, with the
// reason recorded.
func checkDraft(t *testing.T, f *fixture, a *directory.Account, uid uint32, text string) {
	t.Helper()
	ctx := context.Background()
	acc, err := f.store.Open(ctx, f.dir, a, "")
	must(t, err)
	drafts, err := acc.Folder(ctx, "Drafts")
	must(t, err)
	ms, err := acc.MessagesByUID(ctx, drafts, []uint32{uid})
	must(t, err)
	if len(ms) != 1 {
		t.Fatalf("draft %d not in Drafts", uid)
	}
	rc, err := acc.OpenBody(ctx, &ms[0])
	must(t, err)
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	if !bytes.Contains(b, []byte(text)) || !bytes.Contains(b, []byte("X-MSS-Refus:")) {
		t.Fatalf("draft %d: %s", uid, b)
	}
}

func TestAPIDirectory(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "directory", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		pat, doc := f.login(f.pat), f.login(f.doc)
		var page struct {
			Results []struct{ Name, Kind, Address, Mailbox string }
			Total   int
		}
		pat.do("GET", "/api/v1/directory/pharmacies?name=pharmacie+de+la+garre&place=Moulins", nil, http.StatusOK, &page)
		if page.Total != 1 || page.Results[0].Name != "Pharmacie de la Gare" || page.Results[0].Kind != "Pharmacie d'officine" ||
			page.Results[0].Address != "1 pl de la Gare, 03000 Moulins" {
			t.Fatalf("pharmacies: %+v", page)
		}
		var p problem
		pat.do("GET", "/api/v1/directory/pharmacies?name=&place=", nil, http.StatusBadRequest, &p)
		if p.Title != "Saisissez au moins un champ" {
			t.Fatalf("empty search: %+v", p)
		}
		pat.do("GET", "/api/v1/directory/pharmacies?name=gare&page=0", nil, http.StatusBadRequest, nil)
		// Patients never search professionals (they would see addresses).
		pat.do("GET", "/api/v1/directory/professionals?name=martin", nil, http.StatusForbidden, nil)
		var pros struct {
			Results []struct{ Name, Profession, Mailbox string }
		}
		doc.do("GET", "/api/v1/directory/professionals?name=petit", nil, http.StatusOK, &pros)
		if len(pros.Results) != 1 || pros.Results[0].Mailbox != f.doc2.Address || pros.Results[0].Profession != "Radiologue" {
			t.Fatalf("professionals: %+v", pros)
		}
	}}})
}

func TestAPISessions(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "sessions", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		hc := f.srv.Client()
		post := func(path, body string, hdr map[string]string) *http.Response {
			req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := hc.Do(req)
			must(t, err)
			resp.Body.Close()
			return resp
		}
		var p problem
		f.call(nil, "POST", "/api/v1/session", map[string]string{"address": f.pat.Address, "password": "wrong"}, http.StatusUnauthorized, &p)
		if p.Title != "Adresse ou mot de passe incorrect" {
			t.Fatalf("bad password: %+v", p)
		}
		f.call(nil, "GET", "/api/v1/conversations", nil, http.StatusUnauthorized, nil)
		f.call(&client{f: f, token: "forged"}, "GET", "/api/v1/me", nil, http.StatusUnauthorized, nil)
		f.call(nil, "GET", "/api/v1/nothing-here", nil, http.StatusNotFound, nil)

		// A browser session: the cookie is HttpOnly, Secure, SameSite=Strict,
		// and a change needs the CSRF token.
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/session", strings.NewReader(`{"address":"`+f.pat.Address+`","password":"`+pw+`","kind":"cookie"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		must(t, err)
		var s struct {
			Token     string `json:"token"`
			CSRFToken string `json:"csrf_token"`
		}
		must(t, json.NewDecoder(resp.Body).Decode(&s))
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || s.Token != "" || s.CSRFToken == "" {
			t.Fatalf("cookie login: %d %+v", resp.StatusCode, s)
		}
		sc := resp.Header.Get("Set-Cookie")
		for _, want := range []string{"mss_session=", "HttpOnly", "Secure", "SameSite=Strict", "Path=/"} {
			if !strings.Contains(sc, want) {
				t.Fatalf("Set-Cookie %q lacks %s", sc, want)
			}
		}
		cookie := strings.SplitN(sc, ";", 2)[0]
		get := func() int {
			req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/me", nil)
			req.Header.Set("Cookie", cookie)
			resp, err := hc.Do(req)
			must(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		if get() != http.StatusOK {
			t.Fatal("cookie session not accepted")
		}
		body := `{"notify_email":"jeanne.perso@example.org"}`
		patch := func(csrf string) int {
			req, _ := http.NewRequest("PATCH", f.srv.URL+"/api/v1/me", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Cookie", cookie)
			if csrf != "" {
				req.Header.Set("X-CSRF-Token", csrf)
			}
			resp, err := hc.Do(req)
			must(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		if patch("") != http.StatusForbidden || patch("0000") != http.StatusForbidden {
			t.Fatal("a change without the CSRF token was accepted")
		}
		if patch(s.CSRFToken) != http.StatusOK {
			t.Fatal("a change with the CSRF token was refused")
		}
		a, err := f.dir.ByID(context.Background(), f.pat.ID)
		must(t, err)
		if a.NotifyEmail != "jeanne.perso@example.org" {
			t.Fatalf("notify email %q", a.NotifyEmail)
		}
		// A bearer token is not a cookie and the other way round.
		if r := post("/api/v1/notifications/read", `{}`, map[string]string{"Authorization": "Bearer " + strings.TrimPrefix(cookie, "mss_session=")}); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("cookie token as bearer: %d", r.StatusCode)
		}
		// Logout ends the session.
		if r := post("/api/v1/session", `{}`, nil); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("empty login: %d", r.StatusCode)
		}
		req, _ = http.NewRequest("DELETE", f.srv.URL+"/api/v1/session", nil)
		req.Header.Set("Cookie", cookie)
		req.Header.Set("X-CSRF-Token", s.CSRFToken)
		resp, err = hc.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || get() != http.StatusUnauthorized {
			t.Fatalf("logout: %d, then %d", resp.StatusCode, get())
		}
	}}})
}

func TestAPIDocuments(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "documents", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		doc, pat, doc2 := f.login(f.doc), f.login(f.pat), f.login(f.doc2)
		pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
		var s sent
		doc.do("POST", "/api/v1/conversations", map[string]any{"to": f.pat.Address, "subject": "Ordonnance", "text": "Voici votre ordonnance.",
			"attachments": []map[string]any{{"name": "ordonnance.pdf", "content_type": "application/pdf", "data": pdf}}}, http.StatusCreated, &s)

		type docJSON struct {
			ID         int64
			Title      string
			Category   string
			Author     string
			ContentURL string `json:"content_url"`
			MessageID  string `json:"message_id"`
		}
		var list struct{ Documents []docJSON }
		pat.do("GET", "/api/v1/documents", nil, http.StatusOK, &list)
		if len(list.Documents) != 1 || list.Documents[0].Title != "Ordonnance" || list.Documents[0].Category != "ordonnances" ||
			list.Documents[0].Author != "Dr Alice Martin" || list.Documents[0].MessageID != s.MessageID {
			t.Fatalf("patient's documents: %+v", list)
		}
		id := list.Documents[0].ID
		if got := pat.do("GET", list.Documents[0].ContentURL, nil, http.StatusOK, nil); !bytes.Equal(got, pdf) {
			t.Fatal("content differs")
		}
		pat.do("GET", "/api/v1/documents?latest=3", nil, http.StatusOK, &list)
		if len(list.Documents) != 1 {
			t.Fatalf("latest: %+v", list)
		}
		// Upload, folders, edit.
		var up docJSON
		pat.do("POST", "/api/v1/documents", map[string]any{"name": "carte-mutuelle.pdf", "data": pdf}, http.StatusCreated, &up)
		var p problem
		pat.do("POST", "/api/v1/documents", map[string]any{"name": "x.exe", "data": []byte("MZ")}, http.StatusBadRequest, &p)
		if !strings.Contains(p.Title, "Type de fichier non accepté") {
			t.Fatalf("refused upload: %+v", p)
		}
		var fo struct{ ID int64 }
		pat.do("POST", "/api/v1/folders", map[string]any{"name": "Accouchement"}, http.StatusCreated, &fo)
		pat.do("PATCH", "/api/v1/documents/"+itoa(up.ID), map[string]any{"folder_id": fo.ID, "pinned": true, "title": "Mutuelle"}, http.StatusOK, nil)
		var folders struct {
			Folders []struct {
				Name      string
				Documents int
			}
		}
		pat.do("GET", "/api/v1/folders", nil, http.StatusOK, &folders)
		if len(folders.Folders) != 1 || folders.Folders[0].Documents != 1 {
			t.Fatalf("folders: %+v", folders)
		}
		// Professionals by INS: the author yes; a stranger no; the
		// patient's own masking hides it from the others.
		ins := f.pat.Patient.INS
		doc.do("GET", "/api/v1/patients/"+ins+"/documents", nil, http.StatusOK, &list)
		if len(list.Documents) != 2 { // the prescription, and the patient's own upload (class 90)
			t.Fatalf("author's view: %+v", list)
		}
		doc2.do("GET", "/api/v1/patients/"+ins+"/documents", nil, http.StatusForbidden, nil)
		pat.do("PATCH", "/api/v1/documents/"+itoa(up.ID), map[string]any{"masked": true}, http.StatusOK, nil)
		doc.do("GET", "/api/v1/patients/"+ins+"/documents", nil, http.StatusOK, &list)
		if len(list.Documents) != 1 {
			t.Fatalf("masked upload still shown: %+v", list)
		}
		doc.do("PATCH", "/api/v1/documents/"+itoa(id), map[string]any{"title": "x"}, http.StatusForbidden, nil)
		// The patient reads who looked.
		var tr struct {
			Traces []struct{ Actor, ActorType, Action string }
		}
		pat.do("GET", "/api/v1/access-traces", nil, http.StatusOK, &tr)
		seen := false
		for _, x := range tr.Traces {
			seen = seen || x.Actor == "Dr Alice Martin" && strings.Contains(x.Action, "liste")
		}
		if !seen {
			t.Fatalf("traces: %+v", tr)
		}
		doc.do("GET", "/api/v1/access-traces", nil, http.StatusForbidden, nil)
		// Share the prescription back into the conversation.
		pat.do("POST", "/api/v1/documents/share", map[string]any{"documents": []int64{id}, "conversation_id": s.ConversationID, "text": "Pour info"}, http.StatusCreated, nil)
		// A problem reported reaches the author; an objection is recorded.
		pat.do("POST", "/api/v1/documents/"+itoa(id)+"/report", map[string]any{"reason": "Mauvaise posologie"}, http.StatusNoContent, nil)
		var reports struct {
			Reports []struct{ Title, Reason string }
		}
		doc.do("GET", "/api/v1/document-reports", nil, http.StatusOK, &reports)
		if len(reports.Reports) != 1 || reports.Reports[0].Reason != "Mauvaise posologie" {
			t.Fatalf("reports: %+v", reports)
		}
		pat.do("POST", "/api/v1/documents/"+itoa(id)+"/objection", map[string]any{"reason": ""}, http.StatusBadRequest, nil)
		doc2.do("POST", "/api/v1/documents/"+itoa(id)+"/objection", map[string]any{"reason": "x"}, http.StatusNotFound, nil)
		pat.do("POST", "/api/v1/documents/"+itoa(id)+"/objection", map[string]any{"reason": "Erreur de patient"}, http.StatusNoContent, nil)
		// Its author still sees it (the store test checks that the other
		// professionals no longer do).
		var after struct {
			Documents []struct {
				ID       int64
				Objected bool
			}
		}
		doc.do("GET", "/api/v1/patients/"+ins+"/documents", nil, http.StatusOK, &after)
		if len(after.Documents) != 1 || after.Documents[0].ID != id || !after.Documents[0].Objected {
			t.Fatalf("author's view after the objection: %+v", after)
		}
		pat.do("DELETE", "/api/v1/documents/"+itoa(up.ID), nil, http.StatusNoContent, nil)
		pat.do("GET", "/api/v1/documents/"+itoa(up.ID), nil, http.StatusNotFound, nil)
	}}})
}

func TestAPITOTP(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "second-factor", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		pat := f.login(f.pat)
		var start struct {
			Secret     string `json:"secret"`
			OTPAuthURL string `json:"otpauth_url"`
		}
		pat.do("POST", "/api/v1/me/totp", nil, http.StatusOK, &start)
		if !strings.HasPrefix(start.OTPAuthURL, "otpauth://totp/") || !strings.Contains(start.OTPAuthURL, "secret="+start.Secret) {
			t.Fatalf("start: %+v", start)
		}
		pat.do("POST", "/api/v1/me/totp/confirm", map[string]string{"secret": start.Secret, "code": "000000"}, http.StatusBadRequest, nil)
		code, err := directory.TOTPCode(start.Secret, time.Now())
		must(t, err)
		pat.do("POST", "/api/v1/me/totp/confirm", map[string]string{"secret": start.Secret, "code": code}, http.StatusNoContent, nil)
		// Now the password alone is not enough, a wrong code neither.
		var p struct{ Type, Title string }
		f.call(nil, "POST", "/api/v1/session", map[string]string{"address": f.pat.Address, "password": pw}, http.StatusUnauthorized, &p)
		if p.Type != "urn:mssanted:problem:totp-required" || p.Title != "Saisissez le code de votre application d'authentification" {
			t.Fatalf("without a code: %+v", p)
		}
		f.call(nil, "POST", "/api/v1/session", map[string]string{"address": f.pat.Address, "password": pw, "code": "123456"}, http.StatusUnauthorized, nil)
		var s struct{ Token string }
		f.call(nil, "POST", "/api/v1/session", map[string]string{"address": f.pat.Address, "password": pw, "code": code}, http.StatusCreated, &s)
		var me struct{ TOTP bool }
		(&client{f: f, token: s.Token}).do("GET", "/api/v1/me", nil, http.StatusOK, &me)
		if !me.TOTP {
			t.Fatal("me.totp is false")
		}
		pat.do("POST", "/api/v1/me/totp/disable", map[string]string{"code": code}, http.StatusNoContent, nil)
		f.login(f.pat)
	}}})
}

func TestFHIR(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "fhir-read", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		doc, doc2 := f.login(f.doc), f.login(f.doc2)
		pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
		doc.do("POST", "/api/v1/conversations", map[string]any{"to": f.pat.Address, "subject": "Compte rendu", "text": "Ci-joint.",
			"attachments": []map[string]any{{"name": "compte-rendu.pdf", "content_type": "application/pdf", "data": pdf}}}, http.StatusCreated, nil)
		var bundle struct {
			ResourceType string
			Total        int
			Entry        []struct {
				Resource struct {
					ResourceType, ID, Description string
					Content                       []struct {
						Attachment struct{ ContentType, URL string }
					}
				}
			}
		}
		q := "/fhir/r4/DocumentReference?patient.identifier=" + url.QueryEscape("urn:oid:1.2.250.1.213.1.4.8|"+f.pat.Patient.INS)
		raw := doc.do("GET", q, nil, http.StatusOK, &bundle)
		if bundle.ResourceType != "Bundle" || bundle.Total != 1 || bundle.Entry[0].Resource.ResourceType != "DocumentReference" ||
			bundle.Entry[0].Resource.Description != "Compte rendu" || bundle.Entry[0].Resource.Content[0].Attachment.ContentType != "application/pdf" {
			t.Fatalf("bundle: %s", raw)
		}
		if got := doc.do("GET", "/fhir/r4/"+bundle.Entry[0].Resource.Content[0].Attachment.URL, nil, http.StatusOK, nil); !bytes.Equal(got, pdf) {
			t.Fatal("Binary content differs")
		}
		// No care relationship: no access, the FHIR way.
		req, _ := http.NewRequest("GET", f.srv.URL+q, nil)
		req.Header.Set("Authorization", "Bearer "+doc2.token)
		resp, err := f.srv.Client().Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/fhir+json" {
			t.Fatalf("stranger: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}}})
}
