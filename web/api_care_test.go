package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/care"
	"mssanted/mailbox"
	"mssanted/web"
)

// careClock is the care store's clock, moved by the test.
type careClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *careClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *careClock) set(day string) {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	c.t = t.Add(10 * time.Hour)
	c.mu.Unlock()
}

// newCareFixture is the API fixture with the care store, on its clock.
func newCareFixture(t *testing.T, d *db.DB) (*fixture, *careClock) {
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
	f.pat = create(directory.NewAccount{Address: "jeanne@patient.example", Role: directory.Patient, DisplayName: "Jeanne Dupont",
		Patient: &directory.PatientInfo{INS: ins("2850375123456"), BirthDate: time.Date(1985, 3, 14, 0, 0, 0, 0, time.UTC), Sex: "F"}})
	f.pat2 = create(directory.NewAccount{Address: "paul@patient.example", Role: directory.Patient, DisplayName: "Paul Durand",
		Patient: &directory.PatientInfo{INS: ins("1850775123456"), BirthDate: time.Date(1985, 7, 1, 0, 0, 0, 0, time.UTC), Sex: "M"}})
	blobs, err := db.NewFSBlobs(t.TempDir())
	must(t, err)
	f.store = mailbox.New(d, blobs)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	docs := dmp.New(d, blobs, dir)
	clock := &careClock{}
	clock.set("2026-11-20")
	p := &mailbox.Pipeline{Store: f.store, Dir: dir, Hostname: "mail.hopital.example", Product: "mssanted/test", Log: quiet, Filer: docs.Filer()}
	f.srv = httptest.NewTLSServer(web.Handler(web.Options{Instance: "test", Version: "test", Logger: quiet, Dir: dir, Mail: f.store, Pipeline: p, Docs: docs,
		Care: care.New(d, docs, dir, care.WithClock(clock.now))}))
	t.Cleanup(f.srv.Close)
	return f, clock
}

type fieldProblem struct {
	Title  string `json:"title"`
	Status int    `json:"status"`
	Field  string `json:"field"`
}

// refusedField checks a 400 naming the field.
func (c *client) refusedField(method, path string, body any, field, contains string) {
	c.f.t.Helper()
	var p fieldProblem
	c.do(method, path, body, http.StatusBadRequest, &p)
	if p.Field != field || !strings.Contains(p.Title, contains) {
		c.f.t.Fatalf("%s %s: %+v, want field %q and %q", method, path, p, field, contains)
	}
}

type careEntry struct {
	ID            string `json:"id"`
	Kind          string `json:"kind"`
	Type          string `json:"type"`
	Title         string `json:"title"`
	From          string `json:"from"`
	When          string `json:"when"`
	Status        string `json:"status"`
	Executed      string `json:"executed"`
	VaccinationID int64  `json:"vaccination_id"`
	Event         *struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
		Time  string `json:"time"`
		With  string `json:"with"`
	} `json:"event"`
}

type carePregnancy struct {
	ID               int64  `json:"id"`
	Start            string `json:"start"`
	ExpectedDelivery string `json:"expected_delivery"`
	Ongoing          bool   `json:"ongoing"`
	Outcome          string `json:"outcome"`
	StatusLabel      string `json:"status_label"`
	Month            int    `json:"month"`
	CanDeclareBirth  bool   `json:"can_declare_birth"`
}

func (c *client) agenda(person, query string) []careEntry {
	c.f.t.Helper()
	var out struct {
		Entries []careEntry `json:"entries"`
	}
	c.do("GET", "/api/v1/persons/"+person+"/agenda"+query, nil, http.StatusOK, &out)
	return out.Entries
}

func TestAPICare(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{
		{Name: "pregnancy-agenda", Run: testAPIPregnancyAgenda},
		{Name: "prevention-vaccinations-child", Run: testAPIPreventionChild},
		{Name: "access-and-feed", Run: testAPICareAccess},
	})
}

func testAPIPregnancyAgenda(t *testing.T, d *db.DB) {
	f, clock := newCareFixture(t, d)
	pat := f.login(f.pat)
	const base = "/api/v1/persons/me"

	var list struct {
		Current *carePregnancy  `json:"current"`
		Past    []carePregnancy `json:"past"`
		CanAdd  bool            `json:"can_add"`
	}
	pat.do("GET", base+"/pregnancies", nil, http.StatusOK, &list)
	if list.Current != nil || !list.CanAdd || len(list.Past) != 0 {
		t.Fatalf("no pregnancy yet: %+v", list)
	}
	pat.refusedField("POST", base+"/pregnancies", map[string]any{}, "debut", "obligatoire")
	pat.refusedField("POST", base+"/pregnancies", map[string]any{"start": "01/10/2026"}, "debut", "AAAA-MM-JJ")
	var p carePregnancy
	pat.do("POST", base+"/pregnancies", map[string]any{"start": "2026-10-01"}, http.StatusCreated, &p)
	if p.ExpectedDelivery != "2027-07-01" || !p.Ongoing || p.Month != 2 || p.CanDeclareBirth {
		t.Fatalf("added: %+v", p)
	}
	pat.refusedField("POST", base+"/pregnancies", map[string]any{"start": "2026-11-01"}, "debut", "déjà en cours")
	pat.do("GET", base+"/pregnancies", nil, http.StatusOK, &list)
	if list.Current == nil || list.Current.ID != p.ID || list.CanAdd {
		t.Fatalf("ongoing: %+v", list)
	}
	pid := itoa(p.ID)

	// The month-by-month calendar.
	var cal struct {
		Months []struct {
			N        int         `json:"n"`
			Current  bool        `json:"current"`
			Exams    []careEntry `json:"exams"`
			Articles []struct {
				ID, Title string
			} `json:"articles"`
		} `json:"months"`
		AfterBirth []careEntry `json:"after_birth"`
	}
	pat.do("GET", base+"/pregnancies/"+pid+"/calendar", nil, http.StatusOK, &cal)
	if len(cal.Months) != 9 || !cal.Months[1].Current || len(cal.Months[0].Exams) == 0 || len(cal.Months[0].Articles) == 0 || len(cal.AfterBirth) == 0 {
		t.Fatalf("calendar: %+v", cal)
	}
	pat.do("GET", base+"/pregnancies/999999/calendar", nil, http.StatusNotFound, nil)

	// "J'ai accouché" before month 6.
	pat.refusedField("POST", base+"/pregnancies/"+pid+"/birth", map[string]any{"date": "2026-11-19"}, "accouchement", "6e mois")

	// The exams are in the agenda; one is marked done with a date.
	exams := pat.agenda("me", "?type=pregnancy")
	if len(exams) == 0 || exams[0].Kind != "pregnancy" {
		t.Fatalf("pregnancy exams in the agenda: %+v", exams)
	}
	exam := cal.Months[0].Exams[0]
	var e careEntry
	pat.do("PUT", base+"/agenda/items/"+url.PathEscape(exam.ID)+"/status", map[string]any{"status": "DONE", "date": "2026-10-20"}, http.StatusOK, &e)
	if e.Status != "DONE" || e.Executed != "2026-10-20" {
		t.Fatalf("done: %+v", e)
	}
	pat.refusedField("PUT", base+"/agenda/items/"+url.PathEscape(exam.ID)+"/status", map[string]any{"status": "TO_PLAN"}, "status", "calculé")
	pat.refusedField("PUT", base+"/agenda/items/"+url.PathEscape(exam.ID)+"/status", map[string]any{"status": "DONE", "date": "2026-12-20"}, "date", "futur")
	pat.do("PUT", base+"/agenda/items/NOPE/status", map[string]any{"status": "DONE"}, http.StatusNotFound, nil)
	done := pat.agenda("me", "?status=DONE&all=1")
	if len(done) != 1 || done[0].ID != exam.ID {
		t.Fatalf("status filter: %+v", done)
	}
	for _, e := range pat.agenda("me", "?status=TO_PLAN,NOT_SPECIFIED&type=screening,dental") {
		if (e.Status != "TO_PLAN" && e.Status != "NOT_SPECIFIED") || (e.Type != "screening" && e.Type != "dental") {
			t.Fatalf("filters: %+v", e)
		}
	}
	upcoming, all := pat.agenda("me", ""), pat.agenda("me", "?all=1")
	if len(all) <= len(upcoming) || upcoming[0].When != "current" {
		t.Fatalf("upcoming %d, all %d, first %+v", len(upcoming), len(all), upcoming[0])
	}
	pat.refusedField("GET", base+"/agenda?type=nope", nil, "type", "nope")

	// Events: create, edit, delete.
	var ev struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
		Date  string `json:"date"`
		Time  string `json:"time"`
		With  string `json:"with"`
	}
	pat.refusedField("POST", base+"/agenda/events", map[string]any{"date": "2026-12-01"}, "title", "obligatoire")
	pat.refusedField("POST", base+"/agenda/events", map[string]any{"title": "Sage-femme"}, "date", "obligatoire")
	pat.do("POST", base+"/agenda/events", map[string]any{"kind": "appointment", "title": "Sage-femme", "date": "2026-12-01", "time": "09:30",
		"with_type": "practitioner", "with": "Mme Roux", "speciality": "Sage-femme", "address": "Maternité, Moulins", "notes": "Carnet de maternité"},
		http.StatusCreated, &ev)
	evPath := base + "/agenda/events/" + itoa(ev.ID)
	pat.do("PATCH", evPath, map[string]any{"time": "10:00"}, http.StatusOK, &ev)
	if ev.Time != "10:00" || ev.With != "Mme Roux" || ev.Date != "2026-12-01" {
		t.Fatalf("patched: %+v", ev)
	}
	var item careEntry
	pat.do("GET", base+"/agenda/items/E"+itoa(ev.ID), nil, http.StatusOK, &item)
	if item.Kind != "event" || item.Event == nil || item.Event.Time != "10:00" {
		t.Fatalf("event entry: %+v", item)
	}
	pat.do("DELETE", evPath, nil, http.StatusNoContent, nil)
	pat.do("GET", evPath, nil, http.StatusNotFound, nil)

	// Month 7: a date is required, then the birth is accepted and a new
	// pregnancy may be added.
	clock.set("2027-04-10")
	pat.refusedField("POST", base+"/pregnancies/"+pid+"/birth", map[string]any{}, "accouchement", "obligatoire")
	pat.do("POST", base+"/pregnancies/"+pid+"/birth", map[string]any{"date": "2027-04-08"}, http.StatusOK, &p)
	if p.Outcome != "accouchement" || p.Ongoing || p.StatusLabel != "Grossesse terminée — Accouchement le 8 avril 2027" {
		t.Fatalf("after birth: %+v", p)
	}
	pat.refusedField("POST", base+"/pregnancies/"+pid+"/end", map[string]any{"date": "2027-04-09"}, "fin", "déjà terminée")
	var p2 carePregnancy
	pat.do("POST", base+"/pregnancies", map[string]any{"start": "2027-04-09"}, http.StatusCreated, &p2)
	pat.refusedField("POST", base+"/pregnancies/"+itoa(p2.ID)+"/end", map[string]any{"date": ""}, "fin", "obligatoire")
	pat.do("POST", base+"/pregnancies/"+itoa(p2.ID)+"/end", map[string]any{"date": "2027-04-10"}, http.StatusOK, &p2)
	if p2.StatusLabel != "Grossesse terminée — Fin de grossesse le 10 avril 2027" {
		t.Fatalf("ended: %+v", p2)
	}
	pat.do("GET", base+"/pregnancies", nil, http.StatusOK, &list)
	if list.Current != nil || len(list.Past) != 2 || !list.CanAdd {
		t.Fatalf("past pregnancies: %+v", list)
	}
	pat.do("DELETE", base+"/pregnancies/"+itoa(p2.ID), nil, http.StatusNoContent, nil)
}

func testAPIPreventionChild(t *testing.T, d *db.DB) {
	f, _ := newCareFixture(t, d)
	pat := f.login(f.pat)
	const base = "/api/v1/persons/me"

	// Lifestyle: tobacco answered, the prompt moves on, Pour moi changes.
	type questionnaire struct {
		Next *struct {
			Code string `json:"code"`
		} `json:"next_theme"`
		Themes []struct {
			Code      string `json:"code"`
			Complete  bool   `json:"complete"`
			Questions []struct {
				Code   string `json:"code"`
				Answer *struct {
					Value, Label, Date string
					DateLabel          string `json:"date_label"`
				} `json:"answer"`
			} `json:"questions"`
		} `json:"themes"`
	}
	var q questionnaire
	pat.do("GET", base+"/prevention/questionnaire", nil, http.StatusOK, &q)
	if q.Next == nil || q.Next.Code != "tabac" {
		t.Fatalf("first theme: %+v", q.Next)
	}
	pat.refusedField("POST", base+"/prevention/answers", map[string]any{"answers": map[string]string{"TOBACCO_MANUAL": "BEAUCOUP"}}, "TOBACCO_MANUAL", "inconnue")
	pat.do("POST", base+"/prevention/answers", map[string]any{"answers": map[string]string{"TOBACCO_MANUAL": "QUOTIDIEN", "TOBACCO_ELECTRONIC": "NON"}},
		http.StatusOK, &q)
	if q.Next == nil || q.Next.Code != "alimentation" || !q.Themes[0].Complete {
		t.Fatalf("next theme: %+v", q.Next)
	}
	if a := q.Themes[0].Questions[0].Answer; a == nil || a.Label != "Oui, tous les jours" || a.DateLabel != "Renseigné le 20 novembre 2026" {
		t.Fatalf("tobacco answer: %+v", a)
	}
	var arts struct {
		Articles []struct {
			ID, Title, Theme string
			Matched          *bool
		}
	}
	pat.do("GET", base+"/prevention/articles?for_me=1", nil, http.StatusOK, &arts)
	if len(arts.Articles) == 0 || arts.Articles[0].Title != "Des aides pour l'arrêt du tabac" {
		t.Fatalf("Pour moi: %+v", arts.Articles[:min(3, len(arts.Articles))])
	}
	pat.do("GET", base+"/prevention/articles?theme=alcool", nil, http.StatusOK, &arts)
	if len(arts.Articles) == 0 || arts.Articles[0].Theme != "alcool" {
		t.Fatalf("by theme: %+v", arts.Articles)
	}
	pat.refusedField("GET", base+"/prevention/articles?theme=nope", nil, "theme", "nope")
	var hist struct {
		Answers []struct{ Question, Value, Theme string } `json:"answers"`
	}
	pat.do("GET", base+"/prevention/answers?question=TOBACCO_MANUAL", nil, http.StatusOK, &hist)
	if len(hist.Answers) != 1 || hist.Answers[0].Theme != "tabac" {
		t.Fatalf("history: %+v", hist)
	}
	var soon struct{ Entries []careEntry }
	pat.do("GET", base+"/prevention/soon?days=365", nil, http.StatusOK, &soon)
	if len(soon.Entries) == 0 {
		t.Fatal("nothing to do soon")
	}

	// A child's space, managed by the parent.
	var child struct{ ID int64 }
	k, _ := directory.INSKey("2260775123456")
	pat.do("POST", "/api/v1/persons", map[string]any{"name": "Léa Dupont", "ins": "2260775123456" + k, "birth_date": "2026-07-01", "sex": "F"},
		http.StatusCreated, &child)
	cp := "/api/v1/persons/" + itoa(child.ID)
	exams := pat.agenda(itoa(child.ID), "?type=exam&all=1")
	dents := pat.agenda(itoa(child.ID), "?type=dental&all=1")
	mtDents := 0
	for _, e := range dents {
		if strings.HasPrefix(e.ID, "MT_DENTS") {
			mtDents++
		}
	}
	if len(exams) < 18 || !strings.HasPrefix(exams[0].ID, "EXAMEN_ENFANT_") || exams[0].When != "current" || mtDents < 8 {
		t.Fatalf("child agenda: %d exams (first %+v), %d M'T dents", len(exams), exams[0], mtDents)
	}
	var e careEntry
	pat.do("PUT", cp+"/agenda/items/EXAMEN_ENFANT_2M/status", map[string]any{"status": "DONE", "date": "2026-08-28"}, http.StatusOK, &e)
	pat.refusedField("PUT", cp+"/agenda/items/EXAMEN_ENFANT_3M/status", map[string]any{"status": "NOT_DONE", "date": "2026-08-28"}, "date", "réalisé")
	if mine := pat.agenda("me", "?status=DONE&all=1"); len(mine) != 0 {
		t.Fatalf("the child's status in the parent's agenda: %+v", mine)
	}

	// Vaccinations: the record marks the matching item done.
	var vacs struct {
		Vaccinations []struct {
			ID      int64
			Vaccine string
			Batch   string
		}
		Vaccines []string
	}
	pat.do("GET", cp+"/vaccinations", nil, http.StatusOK, &vacs)
	hexa := ""
	for _, v := range vacs.Vaccines {
		if strings.HasPrefix(v, "Diphtérie, tétanos, coqueluche, poliomyélite, Haemophilus") {
			hexa = v
		}
	}
	if len(vacs.Vaccinations) != 0 || hexa == "" {
		t.Fatalf("empty record: %+v", vacs)
	}
	pat.refusedField("POST", cp+"/vaccinations", map[string]any{"date": "2026-09-02"}, "vaccine", "obligatoire")
	pat.refusedField("POST", cp+"/vaccinations", map[string]any{"vaccine": hexa, "date": "2026-12-02"}, "date", "futur")
	var v struct {
		ID    int64
		Batch string
		Date  string
	}
	pat.do("POST", cp+"/vaccinations", map[string]any{"vaccine": hexa, "date": "2026-09-02", "batch": "AB123", "professional": "Dr Martin"}, http.StatusCreated, &v)
	pat.do("GET", cp+"/agenda/items/VAC_HEXAVALENT_1", nil, http.StatusOK, &e)
	if e.Status != "DONE" || e.VaccinationID != v.ID || e.Executed != "2026-09-02" {
		t.Fatalf("vaccination item: %+v", e)
	}
	pat.do("PATCH", cp+"/vaccinations/"+itoa(v.ID), map[string]any{"batch": "AB124"}, http.StatusOK, &v)
	if v.Batch != "AB124" || v.Date != "2026-09-02" {
		t.Fatalf("patched: %+v", v)
	}
	var vcal struct {
		Ages []struct {
			Label   string
			Entries []struct {
				Code string
				Item *careEntry
			}
		}
	}
	pat.do("GET", cp+"/vaccinations/calendar", nil, http.StatusOK, &vcal)
	marked := false
	for _, a := range vcal.Ages {
		for _, en := range a.Entries {
			if en.Code == "VAC_HEXAVALENT_1" && en.Item != nil && en.Item.Status == "DONE" {
				marked = true
			}
		}
	}
	if len(vcal.Ages) < 5 || !marked {
		t.Fatalf("vaccination calendar: %d ages, marked %v", len(vcal.Ages), marked)
	}
	pat.do("DELETE", cp+"/vaccinations/"+itoa(v.ID), nil, http.StatusNoContent, nil)
	pat.do("GET", cp+"/vaccinations/"+itoa(v.ID), nil, http.StatusNotFound, nil)

	// The catalogue.
	var cat struct {
		Services []struct {
			Name     string
			National bool
		}
		Regions, Themes []struct{ Code, Label string }
	}
	pat.do("GET", "/api/v1/catalogue?region=84&theme=prevention", nil, http.StatusOK, &cat)
	if len(cat.Services) == 0 || len(cat.Regions) != 18 || len(cat.Themes) == 0 {
		t.Fatalf("catalogue: %+v", cat)
	}
	pat.refusedField("GET", "/api/v1/catalogue?region=zz", nil, "region", "zz")
}

func testAPICareAccess(t *testing.T, d *db.DB) {
	f, _ := newCareFixture(t, d)
	pat, stranger, doc := f.login(f.pat), f.login(f.pat2), f.login(f.doc)
	var child struct{ ID int64 }
	k, _ := directory.INSKey("2260775123456")
	pat.do("POST", "/api/v1/persons", map[string]any{"name": "Léa Dupont", "ins": "2260775123456" + k, "birth_date": "2026-07-01", "sex": "F"},
		http.StatusCreated, &child)
	var p carePregnancy
	pat.do("POST", "/api/v1/persons/me/pregnancies", map[string]any{"start": "2026-10-01"}, http.StatusCreated, &p)
	var ev struct{ ID int64 }
	pat.do("POST", "/api/v1/persons/"+itoa(child.ID)+"/agenda/events", map[string]any{"title": "Pédiatre", "date": "2026-12-10", "time": "17:00"},
		http.StatusCreated, &ev)
	var vac struct{ ID int64 }
	pat.do("POST", "/api/v1/persons/"+itoa(child.ID)+"/vaccinations", map[string]any{"vaccine": "Rotavirus", "date": "2026-09-01"}, http.StatusCreated, &vac)

	// A stranger (another patient) and a professional are refused
	// everywhere, for the mother and for the child.
	type call struct {
		method, path string
		body         any
	}
	for _, who := range []*client{stranger, doc} {
		for _, person := range []string{itoa(f.pat.ID), itoa(child.ID)} {
			base := "/api/v1/persons/" + person
			for _, c := range []call{
				{"GET", base + "/pregnancies", nil},
				{"POST", base + "/pregnancies", map[string]any{"start": "2026-10-01"}},
				{"POST", base + "/pregnancies/" + itoa(p.ID) + "/birth", map[string]any{"date": "2026-11-01"}},
				{"POST", base + "/pregnancies/" + itoa(p.ID) + "/end", map[string]any{"date": "2026-11-01"}},
				{"DELETE", base + "/pregnancies/" + itoa(p.ID), nil},
				{"GET", base + "/pregnancies/" + itoa(p.ID) + "/calendar", nil},
				{"GET", base + "/agenda", nil},
				{"GET", base + "/agenda/items/EXAMEN_ENFANT_2M", nil},
				{"PUT", base + "/agenda/items/EXAMEN_ENFANT_2M/status", map[string]any{"status": "DONE"}},
				{"POST", base + "/agenda/events", map[string]any{"title": "x", "date": "2026-12-01"}},
				{"GET", base + "/agenda/events/" + itoa(ev.ID), nil},
				{"PATCH", base + "/agenda/events/" + itoa(ev.ID), map[string]any{"title": "x"}},
				{"DELETE", base + "/agenda/events/" + itoa(ev.ID), nil},
				{"GET", base + "/agenda/feed", nil},
				{"POST", base + "/agenda/feed", nil},
				{"DELETE", base + "/agenda/feed", nil},
				{"GET", base + "/prevention/soon", nil},
				{"GET", base + "/prevention/questionnaire", nil},
				{"POST", base + "/prevention/answers", map[string]any{"answers": map[string]string{"TOBACCO_MANUAL": "NON"}}},
				{"GET", base + "/prevention/answers", nil},
				{"GET", base + "/prevention/articles?for_me=1", nil},
				{"GET", base + "/vaccinations", nil},
				{"POST", base + "/vaccinations", map[string]any{"vaccine": "Rotavirus", "date": "2026-09-01"}},
				{"GET", base + "/vaccinations/calendar", nil},
				{"GET", base + "/vaccinations/" + itoa(vac.ID), nil},
				{"PATCH", base + "/vaccinations/" + itoa(vac.ID), map[string]any{"batch": "x"}},
				{"DELETE", base + "/vaccinations/" + itoa(vac.ID), nil},
			} {
				who.do(c.method, c.path, c.body, http.StatusForbidden, nil)
			}
		}
	}
	doc.do("GET", "/api/v1/persons/me/agenda", nil, http.StatusForbidden, nil)
	f.call(nil, "GET", "/api/v1/persons/me/agenda", nil, http.StatusUnauthorized, nil)
	// Nothing changed.
	var list struct {
		Current *carePregnancy `json:"current"`
	}
	pat.do("GET", "/api/v1/persons/me/pregnancies", nil, http.StatusOK, &list)
	if list.Current == nil || list.Current.ID != p.ID {
		t.Fatalf("after the attempts: %+v", list)
	}
	pat.do("GET", "/api/v1/persons/"+itoa(child.ID)+"/agenda/events/"+itoa(ev.ID), nil, http.StatusOK, nil)
	pat.do("GET", "/api/v1/persons/"+itoa(child.ID)+"/vaccinations/"+itoa(vac.ID), nil, http.StatusOK, nil)

	// The iCalendar feed: a secret URL, public by token.
	var feed struct {
		Active    bool   `json:"active"`
		URL       string `json:"url"`
		WebcalURL string `json:"webcal_url"`
	}
	pat.do("GET", "/api/v1/persons/me/agenda/feed", nil, http.StatusOK, &feed)
	if feed.Active {
		t.Fatal("a feed before it was made")
	}
	pat.do("POST", "/api/v1/persons/me/agenda/feed", nil, http.StatusCreated, &feed)
	u, err := url.Parse(feed.URL)
	must(t, err)
	if !feed.Active || u.Scheme != "https" || !strings.HasPrefix(u.Path, "/ical/") || !strings.HasSuffix(u.Path, ".ics") || !strings.HasPrefix(feed.WebcalURL, "webcal://") {
		t.Fatalf("feed: %+v", feed)
	}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := f.srv.Client().Get(f.srv.URL + path)
		must(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		must(t, err)
		return resp, string(b)
	}
	resp, body := get(u.Path)
	all := pat.agenda("me", "?all=1")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("feed: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(body, "BEGIN:VCALENDAR\r\n") || !strings.HasSuffix(body, "END:VCALENDAR\r\n") || strings.Count(body, "BEGIN:VEVENT") != len(all) || len(all) < 10 {
		t.Fatalf("feed: %d VEVENT for %d entries:\n%.500s", strings.Count(body, "BEGIN:VEVENT"), len(all), body)
	}
	for _, line := range strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Fatalf("a line of %d octets: %q", len(line), line)
		}
	}
	resp, _ = get("/ical/" + strings.Repeat("A", 43) + ".ics")
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("wrong token: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ = get(strings.TrimSuffix(u.Path, ".ics")); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("without .ics: %d", resp.StatusCode)
	}
	// Rotating the token: the old URL stops working.
	var feed2 struct{ URL string }
	pat.do("POST", "/api/v1/persons/me/agenda/feed", nil, http.StatusCreated, &feed2)
	if resp, _ = get(u.Path); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("old feed after rotation: %d", resp.StatusCode)
	}
	u2, _ := url.Parse(feed2.URL)
	if resp, _ = get(u2.Path); resp.StatusCode != http.StatusOK {
		t.Fatalf("new feed: %d", resp.StatusCode)
	}
	pat.do("DELETE", "/api/v1/persons/me/agenda/feed", nil, http.StatusNoContent, nil)
	if resp, _ = get(u2.Path); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("revoked feed: %d", resp.StatusCode)
	}
}
