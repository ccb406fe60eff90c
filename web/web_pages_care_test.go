package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/care"
	"mssanted/dmp/profile"
	"mssanted/mailbox"
	"mssanted/web"
)

// careServer is the fixture's instance with the patient's space: the
// document library, the care pathway and the medical profile.
func careServer(t *testing.T, f *fixture, d *db.DB) *httptest.Server {
	t.Helper()
	blobs, err := db.NewFSBlobs(t.TempDir())
	must(t, err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	docs := dmp.New(d, blobs, f.dir)
	p := &mailbox.Pipeline{Store: f.store, Dir: f.dir, Hostname: "mail.hopital.example", Product: "mssanted/test", Log: quiet, Filer: docs.Filer()}
	srv := httptest.NewTLSServer(web.Handler(web.Options{Instance: "test", Version: "test", Logger: quiet, Dir: f.dir, Mail: f.store, Pipeline: p,
		Docs: docs, Care: care.New(d, docs, f.dir), Profile: profile.New(d, docs, f.dir)}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPagesCare(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "pages-care", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		srv := careServer(t, f, d)
		b := newBrowser(t, srv)
		b.login(f.pat)
		wantIn(t, b.last, `href="/profil"`, `href="/agenda"`, `href="/prevention"`, `href="/catalogue"`)

		// Grossesse: added with its start date, months 1 to 9, "J'ai
		// accouché" with a required date; then a past pregnancy.
		_, body := b.get("/grossesse")
		wantIn(t, body, "<h1>Grossesse</h1>", "Ajouter une grossesse", `<label for="debut">Date de début de grossesse</label>`)
		status, body := b.post("/grossesse", url.Values{"csrf": {b.csrf()}})
		if status != http.StatusBadRequest {
			t.Fatalf("pregnancy without a date: %d", status)
		}
		wantIn(t, body, "Saisissez la date de début de grossesse")
		if status, _ := b.post("/grossesse", url.Values{"debut": {"2026-01-01"}}); status != http.StatusForbidden {
			t.Fatalf("pregnancy without CSRF: %d", status)
		}
		start := time.Now().AddDate(0, 0, -200).Format(time.DateOnly)
		status, body = b.post("/grossesse", url.Values{"csrf": {b.csrf()}, "debut": {start}})
		if status != http.StatusOK {
			t.Fatalf("add pregnancy: %d\n%s", status, body)
		}
		wantIn(t, body, "La grossesse est ajoutée", "Grossesse en cours", "Date prévue d'accouchement", "Mois 1", "Mois 9",
			"Examens et rendez-vous à prévoir", "J'ai accouché", "Je ne suis plus enceinte")
		id := regexp.MustCompile(`action="/grossesse/(\d+)/accouchement"`).FindStringSubmatch(body)[1]
		status, body = b.post("/grossesse/"+id+"/accouchement", url.Values{"csrf": {b.csrf()}, "date": {""}})
		if status != http.StatusBadRequest {
			t.Fatalf("birth without a date: %d", status)
		}
		wantIn(t, body, "Saisissez la date de l&#39;accouchement")
		today := time.Now().Format(time.DateOnly)
		b.post("/grossesse/"+id+"/accouchement", url.Values{"csrf": {b.csrf()}, "date": {today}})
		wantIn(t, b.last, "Félicitations", "Grossesses passées", "Grossesse terminée", "Accouchement le", "Ajouter une grossesse")

		// Agenda: upcoming first, "Tous", filters; an item marked done with
		// its date.
		_, body = b.get("/agenda")
		wantIn(t, body, "<h1>Agenda</h1>", "À venir", `href="/agenda?tous=1"`, "Marquer comme fait", "Créer mon lien d'abonnement")
		item := regexp.MustCompile(`name="element" value="([^"]+)"`).FindStringSubmatch(body)
		if item == nil {
			t.Fatalf("no agenda item:\n%s", body)
		}
		status, body = b.post("/agenda/statut", url.Values{"csrf": {b.csrf()}, "element": {item[1]}, "statut": {"DONE"}, "date": {today}})
		if status != http.StatusOK {
			t.Fatalf("mark done: %d\n%s", status, body)
		}
		wantIn(t, body, "Le statut est enregistré.", "Réalisé", "fait le ")
		_, body = b.get("/agenda?tous=1&statut=DONE")
		wantIn(t, body, `value="DONE" id="statut-2" checked`, "Effacer les filtres", "Réalisé")
		if strings.Contains(body, "À planifier</strong>") {
			t.Fatalf("the DONE filter shows other statuses")
		}
		status, _ = b.post("/agenda/statut", url.Values{"csrf": {b.csrf()}, "element": {item[1]}, "statut": {"TO_PLAN"}})
		if status != http.StatusBadRequest {
			t.Fatalf("TO_PLAN is computed, not set: %d", status)
		}
		// The .ics feed: a link shown once; it serves the agenda.
		b.get("/agenda")
		_, body = b.post("/agenda/abonnement", url.Values{"csrf": {b.csrf()}})
		m := regexp.MustCompile(`<code id="lien-ics">https://[^/]+(/ical/[^<]+\.ics)</code>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no feed link:\n%s", body)
		}
		resp, err := srv.Client().Get(srv.URL + m[1])
		must(t, err)
		ics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(ics), "BEGIN:VCALENDAR") {
			t.Fatalf("feed: %d %.200s", resp.StatusCode, ics)
		}

		// Prévention: the tobacco questions, then the advice changes.
		_, body = b.get("/prevention")
		wantIn(t, body, "Examens et vaccinations à faire prochainement", "<legend>Je fume</legend>", "<legend>Je vapote</legend>",
			"Oui, tous les jours", "Oui, occasionnellement", "Non, mais j&#39;ai fumé dans le passé", `id="pour-moi"`)
		status, body = b.post("/prevention/reponses", url.Values{"csrf": {b.csrf()}})
		if status != http.StatusBadRequest {
			t.Fatalf("no answer: %d", status)
		}
		b.post("/prevention/reponses", url.Values{"csrf": {b.csrf()}, "q_TOBACCO_MANUAL": {"QUOTIDIEN"}, "q_TOBACCO_ELECTRONIC": {"NON"}})
		wantIn(t, b.last, "Vos réponses sont enregistrées", "Renseigné le", "Alimentation")
		first := regexp.MustCompile(`<li class="card article">\s*<h3>([^<]+)</h3>`).FindStringSubmatch(b.last)
		if first == nil || first[1] != "Des aides pour l&#39;arrêt du tabac" {
			t.Fatalf("first Pour moi article: %v", first)
		}
		status, _ = b.post("/prevention/reponses", url.Values{"csrf": {b.csrf()}, "q_TOBACCO_MANUAL": {"PEUT-ETRE"}})
		if status != http.StatusBadRequest {
			t.Fatalf("unknown answer: %d", status)
		}

		// Vaccinations and the catalogue.
		_, body = b.get("/vaccinations")
		wantIn(t, body, "Mon carnet de vaccination", "Calendrier des vaccinations recommandées")
		b.post("/vaccinations", url.Values{"csrf": {b.csrf()}, "vaccin": {"Grippe"}, "date": {today}, "vaccinateur": {"Pharmacie de la Gare"}})
		wantIn(t, b.last, "La vaccination est ajoutée", "<strong>Grippe</strong>")
		_, all := b.get("/catalogue")
		wantIn(t, all, "Catalogue de services", `<label for="region">Région</label>`, `<label for="theme">Thème</label>`)
		region := regexp.MustCompile(`<option value="([^"]+)">`).FindStringSubmatch(all[strings.Index(all, `id="region"`):])[1]
		_, some := b.get("/catalogue?region=" + region)
		if n, m := strings.Count(all, `class="card service"`), strings.Count(some, `class="card service"`); m == 0 || m > n {
			t.Fatalf("catalogue by region: %d of %d", m, n)
		}
		if status, _ := b.get("/catalogue?region=nulle-part"); status != http.StatusBadRequest {
			t.Fatalf("unknown region: %d", status)
		}

		// Profil médical: a measure, then the synthèse filed as a document.
		_, body = b.get("/profil")
		wantIn(t, body, "<h1>Profil médical</h1>", "Générer ma synthèse", "Mesures", `href="/grossesse"`)
		status, body = b.post("/profil/mesures", url.Values{"csrf": {b.csrf()}, "mesure": {"WEIGHT"}, "valeur": {"62,5"}, "date": {today}})
		if status != http.StatusOK {
			t.Fatalf("measure: %d\n%s", status, body)
		}
		wantIn(t, body, "La mesure est enregistrée.", "62,5")
		status, body = b.post("/profil/mesures", url.Values{"csrf": {b.csrf()}, "mesure": {"WEIGHT"}, "valeur": {"9000"}, "date": {today}})
		if status != http.StatusBadRequest || !strings.Contains(body, `class="error"`) {
			t.Fatalf("implausible weight: %d", status)
		}
		status, body = b.post("/profil/synthese", url.Values{"csrf": {b.csrf()}})
		if status != http.StatusOK || !strings.HasPrefix(b.url.Path, "/documents/") {
			t.Fatalf("synthèse: %d %s\n%s", status, b.url, body)
		}
		wantIn(t, body, "Votre synthèse est enregistrée dans vos documents", "PDF")

		// A child's space: chosen in the navigation, the pages act for her.
		k, _ := directory.INSKey("2250775123456")
		var child struct{ ID int64 }
		f.login(f.pat).do("POST", "/api/v1/persons", map[string]any{"name": "Léa Dupont", "ins": "2250775123456" + k, "birth_date": "2025-07-01", "sex": "F"},
			http.StatusCreated, &child)
		_, body = b.get("/agenda")
		wantIn(t, body, `<label for="personne">Espace affiché</label>`, "Jeanne Dupont (vous)", "Léa Dupont")
		b.post("/personne", url.Values{"csrf": {b.csrf()}, "personne": {itoa(child.ID)}, "retour": {"/agenda"}})
		if b.url.Path != "/agenda" {
			t.Fatalf("after the choice: %s", b.url)
		}
		wantIn(t, b.last, "<h1>Agenda de Léa Dupont</h1>", "Espace de <strong>Léa Dupont</strong>", `value="`+itoa(child.ID)+`" selected`)
		if strings.Contains(b.last, `<strong class="status-done">Réalisé`) {
			t.Fatal("the child's agenda shows her mother's done item")
		}
		_, body = b.get("/documents")
		wantIn(t, body, "Documents de Léa Dupont")
		wantIn(t, body, "Ajouter un document", "Gérer ses dossiers") // hers: the *For methods of dmp
		b.post("/personne", url.Values{"csrf": {b.csrf()}, "personne": {itoa(f.pat.ID)}, "retour": {"/agenda"}})
		wantIn(t, b.last, "<h1>Agenda</h1>")

		// Nobody else: a professional, another person's id.
		doc := newBrowser(t, srv)
		doc.login(f.doc)
		for _, p := range []string{"/profil", "/grossesse", "/agenda", "/prevention", "/vaccinations", "/catalogue"} {
			if status, _ := doc.get(p); status != http.StatusNotFound {
				t.Fatalf("professional on %s: %d", p, status)
			}
		}
		b.get("/agenda")
		if status, _ := b.post("/personne", url.Values{"csrf": {b.csrf()}, "personne": {itoa(f.pat2.ID)}, "retour": {"/agenda"}}); status != http.StatusForbidden {
			t.Fatalf("acting for a stranger: %d", status)
		}
	}}})
}
