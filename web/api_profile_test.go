package web_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/profile"
	"mssanted/mailbox"
	"mssanted/web"
)

// withProfile replaces the fixture's server by one that serves the
// medical profile too.
func withProfile(t *testing.T, f *fixture, d *db.DB) {
	t.Helper()
	blobs, err := db.NewFSBlobs(t.TempDir())
	must(t, err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.store = mailbox.New(d, blobs)
	docs := dmp.New(d, blobs, f.dir)
	p := &mailbox.Pipeline{Store: f.store, Dir: f.dir, Hostname: "mail.hopital.example", Product: "mssanted/test", Log: quiet, Filer: docs.Filer()}
	f.srv.Close()
	f.srv = httptest.NewTLSServer(web.Handler(web.Options{Instance: "test", Version: "test", Logger: quiet, Dir: f.dir, Mail: f.store, Pipeline: p,
		Docs: docs, Profile: profile.New(d, docs, f.dir)}))
	t.Cleanup(f.srv.Close)
}

func TestAPIProfile(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{
		{Name: "sections-measures-directives", Run: testAPIProfile},
		{Name: "summary-and-professionals", Run: testAPIProfileSummary},
	})
}

func testAPIProfile(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	withProfile(t, f, d)
	pat := f.login(f.pat)
	const base = "/api/v1/persons/me/profile"

	var prof struct {
		PersonID int64 `json:"person_id"`
		Sections map[string][]any
	}
	pat.do("GET", base, nil, http.StatusOK, &prof)
	if prof.PersonID != f.pat.ID || len(prof.Sections) != 9 || len(prof.Sections["allergies"]) != 0 {
		t.Fatalf("empty profile: %+v", prof)
	}
	// Entries: the French sentence of a refusal is the problem's title.
	var p problem
	pat.do("POST", base+"/allergies", map[string]any{"name": " "}, http.StatusBadRequest, &p)
	if p.Title != "Nom de l'allergie : champ obligatoire" {
		t.Fatalf("refusal: %+v", p)
	}
	pat.do("POST", base+"/allergies", map[string]any{"name": "Pollen", "severity": "forte"}, http.StatusBadRequest, &p)
	if !strings.Contains(p.Title, `champ inconnu "severity"`) {
		t.Fatalf("unknown field: %+v", p)
	}
	pat.do("POST", base+"/hospitalizations", map[string]any{"name": "Appendicectomie", "start": "2001-13-01"}, http.StatusBadRequest, &p)
	if p.Title != "Date de début invalide : AAAA, AAAA-MM ou AAAA-MM-JJ" {
		t.Fatalf("date: %+v", p)
	}
	pat.do("GET", base+"/horoscope", nil, http.StatusNotFound, nil)
	type entry struct {
		ID      int64
		Section string
		Data    map[string]any
	}
	var e entry
	pat.do("POST", base+"/allergies", map[string]any{"name": "Pénicilline", "comment": "urticaire"}, http.StatusCreated, &e)
	if e.Section != "allergies" || e.Data["name"] != "Pénicilline" {
		t.Fatalf("entry: %+v", e)
	}
	pat.do("PUT", base+"/allergies/"+itoa(e.ID), map[string]any{"name": "Amoxicilline"}, http.StatusOK, &e)
	pat.do("PUT", base+"/diseases/"+itoa(e.ID), map[string]any{"name": "Asthme"}, http.StatusNotFound, nil)
	var list struct {
		Title   string
		Entries []entry
	}
	pat.do("GET", base+"/allergies", nil, http.StatusOK, &list)
	if list.Title != "Allergies" || len(list.Entries) != 1 || list.Entries[0].Data["name"] != "Amoxicilline" {
		t.Fatalf("list: %+v", list)
	}
	pat.do("DELETE", base+"/allergies/"+itoa(e.ID), nil, http.StatusNoContent, nil)
	pat.do("DELETE", base+"/allergies/"+itoa(e.ID), nil, http.StatusNotFound, nil)
	pat.do("POST", base+"/contacts", map[string]any{"first_name": "Marc", "last_name": "Dupont", "contact_types": []string{"TRUSTED_CONTACT"},
		"mobile_number": "06 12 34 56 78", "postal_code": "03000", "city": "Moulins"}, http.StatusCreated, nil)
	pat.do("POST", base+"/health-professionals", map[string]any{"role": "MEDECIN_TRAITANT", "mailbox": f.doc.Address}, http.StatusCreated, &e)
	if e.Data["name"] != "Dr Alice Martin" {
		t.Fatalf("professional from the directory: %+v", e)
	}

	// Characteristics, organ donation.
	var ch struct {
		BloodGroup string `json:"blood_group"`
	}
	pat.do("PUT", base+"/characteristics", map[string]any{"blood_group": "Z+"}, http.StatusBadRequest, &p)
	if !strings.HasPrefix(p.Title, "Groupe sanguin inconnu") {
		t.Fatalf("blood group: %+v", p)
	}
	pat.do("PUT", base+"/characteristics", map[string]any{"blood_group": "OPOS"}, http.StatusOK, &ch)
	pat.do("GET", base+"/characteristics", nil, http.StatusOK, &ch)
	if ch.BloodGroup != "O+" {
		t.Fatalf("blood group %q", ch.BloodGroup)
	}
	pat.do("PUT", base+"/organ-donation", map[string]any{"informed": true, "position": "OPPOSED"}, http.StatusOK, nil)

	// Measures with history and the BMI.
	pat.do("POST", base+"/measures", map[string]any{"code": "WEIGHT", "value": 1200, "date": "2025-06-01"}, http.StatusBadRequest, &p)
	if p.Title != "Poids : la valeur doit être entre 0,3 et 400,0 kg" {
		t.Fatalf("weight: %+v", p)
	}
	pat.do("POST", base+"/measures", map[string]any{"code": "WEIGHT", "date": "2025-06-01"}, http.StatusBadRequest, nil)
	var m struct {
		ID        int64
		Formatted string
	}
	pat.do("POST", base+"/measures", map[string]any{"code": "WEIGHT", "value": 70, "date": "2025-05-01"}, http.StatusCreated, &m)
	pat.do("POST", base+"/measures", map[string]any{"code": "WEIGHT", "value": 64.8, "date": "2025-06-01T08:30:00+02:00"}, http.StatusCreated, &m)
	pat.do("POST", base+"/measures", map[string]any{"code": "HEIGHT", "value": 1.68, "unit": "m", "date": "2025-01-01"}, http.StatusCreated, nil)
	pat.do("POST", base+"/measures", map[string]any{"code": "BLOOD_PRESSURE", "value": 125, "diastolic": 82, "date": "2025-06-01"}, http.StatusCreated, nil)
	var latest struct {
		Latest []struct{ Code, Formatted string }
		BMI    struct {
			Value    float64
			Category string
		}
		Specs []struct{ Code, Unit string }
	}
	pat.do("GET", base+"/measures/latest", nil, http.StatusOK, &latest)
	if len(latest.Latest) != 3 || latest.Latest[0].Formatted != "64,8 kg" || latest.BMI.Value != 23 || latest.BMI.Category != "corpulence normale" || len(latest.Specs) < 10 {
		t.Fatalf("latest: %+v", latest)
	}
	var hist struct {
		Measures []struct{ ID int64 }
	}
	pat.do("GET", base+"/measures?code=weight", nil, http.StatusOK, &hist)
	if len(hist.Measures) != 2 || hist.Measures[0].ID != m.ID {
		t.Fatalf("history: %+v", hist)
	}
	pat.do("GET", base+"/measures", nil, http.StatusBadRequest, nil)
	pat.do("PUT", base+"/measures/"+itoa(m.ID), map[string]any{"code": "WEIGHT", "value": 65, "date": "2025-06-01"}, http.StatusOK, &m)
	if m.Formatted != "65 kg" {
		t.Fatalf("corrected: %+v", m)
	}
	pat.do("DELETE", base+"/measures/"+itoa(m.ID), nil, http.StatusNoContent, nil)

	// Advance directives: online, in order; witnesses; not for a child.
	var dir struct {
		AD struct {
			Mode     string
			Model    string
			NextStep int `json:"next_step"`
			Complete bool
		} `json:"advance_directives"`
	}
	step1 := map[string]any{"wish_to_write": true, "keep_in_space": true}
	step2 := map[string]any{"values": "Ne pas souffrir, rester lucide."}
	step3 := map[string]any{"treatments": map[string]string{"REANIMATION": "REFUSE"}, "consent": true, "place": "Moulins", "signed_on": "2025-06-16",
		"cannot_write": true, "witnesses": []map[string]any{{"first_name": "Anne", "last_name": "Moreau"}, {"first_name": "Luc", "last_name": "Petit"}}}
	pat.do("PUT", base+"/advance-directives", map[string]any{"mode": "online", "model": "B", "step1": step1}, http.StatusOK, &dir)
	if dir.AD.NextStep != 2 || dir.AD.Complete {
		t.Fatalf("step 1: %+v", dir)
	}
	pat.do("PUT", base+"/advance-directives", map[string]any{"mode": "online", "model": "B", "step1": step1, "step2": step2, "step3": step3}, http.StatusBadRequest, &p)
	if !strings.HasPrefix(p.Title, "Vous avez désigné une personne de confiance (Marc DUPONT) : elle doit être l'un des deux témoins") {
		t.Fatalf("witnesses: %+v", p)
	}
	step3["witnesses"] = []map[string]any{{"first_name": "Anne", "last_name": "Moreau"}, {"first_name": "Marc", "last_name": "Dupont", "trusted_person": true}}
	pat.do("PUT", base+"/advance-directives", map[string]any{"mode": "online", "model": "B", "step1": step1, "step2": step2, "step3": step3}, http.StatusOK, &dir)
	if !dir.AD.Complete || dir.AD.Model != "B" {
		t.Fatalf("complete: %+v", dir)
	}
	pat.do("GET", base+"/advance-directives", nil, http.StatusOK, &dir)
	if !dir.AD.Complete {
		t.Fatalf("read back: %+v", dir)
	}
	pat.do("PUT", base+"/advance-directives", map[string]any{"mode": "paper"}, http.StatusBadRequest, nil)
	var child struct{ ID int64 }
	k := "1150775123456"
	pat.do("POST", "/api/v1/persons", map[string]any{"name": "Léo Dupont", "ins": insOf(k), "birth_date": "2015-07-01", "sex": "M"}, http.StatusCreated, &child)
	cbase := "/api/v1/persons/" + itoa(child.ID) + "/profile"
	pat.do("PUT", cbase+"/advance-directives", map[string]any{"mode": "online", "model": "B", "step1": step1}, http.StatusBadRequest, &p)
	if !strings.HasPrefix(p.Title, "Les directives anticipées sont réservées aux personnes majeures") {
		t.Fatalf("child's directives: %+v", p)
	}
	// The parent keeps the child's profile.
	pat.do("POST", cbase+"/allergies", map[string]any{"name": "Arachide"}, http.StatusCreated, nil)
	pat.do("GET", cbase, nil, http.StatusOK, &prof)
	if prof.PersonID != child.ID || len(prof.Sections["allergies"]) != 1 {
		t.Fatalf("child's profile: %+v", prof)
	}
	pat.do("DELETE", base+"/advance-directives", nil, http.StatusNoContent, nil)
}

func insOf(s string) string {
	k, _ := directory.INSKey(s)
	return s + k
}

func testAPIProfileSummary(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	withProfile(t, f, d)
	pat, doc, pat2, ph := f.login(f.pat), f.login(f.doc), f.login(f.pat2), f.login(f.ph)
	const base = "/api/v1/persons/me/profile"
	pat.do("POST", base+"/allergies", map[string]any{"name": "Pénicilline", "comment": "Œdème de Quincke"}, http.StatusCreated, nil)
	pat.do("POST", base+"/measures", map[string]any{"code": "HEART_RATE", "value": 72, "date": time.Now().Format(time.DateOnly)}, http.StatusCreated, nil)

	// The doctor writes to the patient: they care for her.
	doc.do("POST", "/api/v1/conversations", map[string]any{"to": f.pat.Address, "subject": "Suivi", "text": "Bonjour, envoyez-moi votre synthèse."}, http.StatusCreated, nil)
	var sd struct {
		ID         int64
		Category   string
		ClassCode  string `json:"class_code"`
		MimeType   string `json:"mime_type"`
		ContentURL string `json:"content_url"`
	}
	pat.do("POST", base+"/summary", nil, http.StatusCreated, &sd)
	if sd.Category != "synthese-medicale" || sd.ClassCode != "11" || sd.MimeType != "application/pdf" {
		t.Fatalf("summary: %+v", sd)
	}
	var list struct{ Documents []struct{ ID int64 } }
	doc.do("GET", "/api/v1/patients/"+f.pat.Patient.INS+"/documents", nil, http.StatusOK, &list)
	if len(list.Documents) != 1 || list.Documents[0].ID != sd.ID {
		t.Fatalf("the doctor's view: %+v", list)
	}
	pdf := doc.do("GET", sd.ContentURL, nil, http.StatusOK, nil)
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatal("the synthèse is not a PDF")
	}

	// The profile itself: 403 on every route, to professionals (with "me"
	// or the patient's id) and to another patient.
	routes := []struct{ method, path string }{
		{"GET", ""}, {"GET", "/characteristics"}, {"PUT", "/characteristics"}, {"GET", "/organ-donation"}, {"PUT", "/organ-donation"},
		{"GET", "/measures?code=WEIGHT"}, {"GET", "/measures/latest"}, {"POST", "/measures"}, {"PUT", "/measures/1"}, {"DELETE", "/measures/1"},
		{"GET", "/advance-directives"}, {"PUT", "/advance-directives"}, {"DELETE", "/advance-directives"}, {"POST", "/summary"},
		{"GET", "/allergies"}, {"POST", "/allergies"}, {"PUT", "/allergies/1"}, {"DELETE", "/allergies/1"},
	}
	bodies := map[string]any{"PUT /characteristics": map[string]any{"blood_group": "A+"}, "PUT /organ-donation": map[string]any{"informed": true},
		"POST /measures": map[string]any{"code": "WEIGHT", "value": 60, "date": "2025-01-01"}, "PUT /measures/1": map[string]any{"code": "WEIGHT", "value": 60, "date": "2025-01-01"},
		"PUT /advance-directives": map[string]any{"mode": "online", "model": "A"}, "POST /allergies": map[string]any{"name": "x"}, "PUT /allergies/1": map[string]any{"name": "x"}}
	for _, c := range []*client{doc, ph, pat2} {
		for _, person := range []string{"me", itoa(f.pat.ID)} {
			if c == pat2 && person == "me" {
				continue
			}
			for _, rt := range routes {
				c.do(rt.method, "/api/v1/persons/"+person+"/profile"+rt.path, bodies[rt.method+" "+rt.path], http.StatusForbidden, nil)
			}
		}
	}
}
