package care_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/care"
	"mssanted/dmp/ical"
	"mssanted/dmp/pregnancy"
	"mssanted/dmp/schedule"
)

const pw = "correct horse battery staple"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(day string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = date(day).Add(10 * time.Hour)
}

type fixture struct {
	care                  *care.Store
	docs                  *dmp.Store
	dir                   *directory.Store
	clock                 *clock
	mother, stranger, doc *directory.Account
	child                 *directory.Account
}

func date(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := directory.New(d, nil, nil, nil)
	must(t, dir.AddDomain(ctx, "hopital.example", directory.ProfessionalDomain))
	must(t, dir.AddDomain(ctx, "patient.example", directory.PatientDomain))
	ins := func(s string) string { k, _ := directory.INSKey(s); return s + k }
	rpps := func(s string) string { return s + string(directory.LuhnKey(s)) }
	create := func(n directory.NewAccount) *directory.Account {
		n.Password = pw
		a, err := dir.Create(ctx, n)
		must(t, err)
		return a
	}
	f := &fixture{dir: dir, clock: &clock{}}
	f.clock.set("2026-11-20")
	f.mother = create(directory.NewAccount{Address: "jeanne@patient.example", Role: directory.Patient, DisplayName: "Jeanne Dupont",
		Patient: &directory.PatientInfo{INS: ins("2900575123456"), BirthDate: date("1990-05-01"), Sex: "F"}})
	f.stranger = create(directory.NewAccount{Address: "paul@patient.example", Role: directory.Patient, DisplayName: "Paul Durand",
		Patient: &directory.PatientInfo{INS: ins("1850775123456"), BirthDate: date("1985-07-01"), Sex: "M"}})
	f.doc = create(directory.NewAccount{Address: "dr@hopital.example", Role: directory.Professional, DisplayName: "Dr Alice Martin",
		Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000001"), Profession: "Médecin généraliste"}})
	blobs, err := db.NewFSBlobs(t.TempDir())
	must(t, err)
	f.docs = dmp.New(d, blobs, dir)
	f.child, err = f.docs.AddChild(ctx, f.mother, dmp.NewChild{Name: "Léa Dupont", INS: ins("2260775123456"), BirthDate: date("2026-07-01"), Sex: "F"})
	must(t, err)
	f.care = care.New(d, f.docs, dir, care.WithClock(f.clock.now))
	return f
}

func fieldErr(t *testing.T, err error, field string) *care.FieldError {
	t.Helper()
	var fe *care.FieldError
	if !errors.As(err, &fe) || !errors.Is(err, dmp.ErrInvalid) || fe.Field != field {
		t.Fatalf("want a field error on %q, got %v", field, err)
	}
	return fe
}

func TestCare(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{
		{Name: "pregnancy", Run: testPregnancy},
		{Name: "agenda-statuses", Run: testStatuses},
		{Name: "events", Run: testEvents},
		{Name: "prevention", Run: testPrevention},
		{Name: "vaccinations", Run: testVaccinations},
		{Name: "child-agenda", Run: testChildAgenda},
		{Name: "access", Run: testAccess},
		{Name: "feed", Run: testFeed},
	})
}

func find(es []care.Entry, id string) *care.Entry {
	for i := range es {
		if es[i].ID == id {
			return &es[i]
		}
	}
	return nil
}

func testPregnancy(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	c, me := f.care, f.mother
	if _, err := c.AddPregnancy(ctx, me, 0, time.Time{}); err != nil {
		fieldErr(t, err, "debut")
	} else {
		t.Fatal("a pregnancy without a start date")
	}
	p, err := c.AddPregnancy(ctx, me, 0, date("2026-10-01"))
	must(t, err)
	if !p.Expected().Equal(pregnancy.ExpectedDelivery(date("2026-10-01"))) || p.Expected().Format("2006-01-02") != "2027-07-01" {
		t.Fatalf("expected delivery %v", p.Expected())
	}
	if _, err := c.AddPregnancy(ctx, me, 0, date("2026-10-15")); err == nil {
		t.Fatal("two ongoing pregnancies")
	} else {
		fieldErr(t, err, "debut")
	}
	cal, err := c.PregnancyCalendar(ctx, me, 0, p.ID)
	must(t, err)
	if len(cal.Months) != 9 || !cal.Months[1].Current || cal.Months[0].Current {
		t.Fatalf("calendar: %d months, current %v", len(cal.Months), cal.Months[1].Current)
	}
	exams, articles := 0, 0
	for _, m := range cal.Months {
		exams += len(m.Items)
		articles += len(m.Articles)
		for _, e := range m.Items {
			if e.From.Before(m.From) || e.Kind != care.KindPregnancy || !strings.HasPrefix(e.ID, "G") {
				t.Fatalf("month %d exam %+v", m.N, e)
			}
		}
	}
	if exams < 8 || articles == 0 || len(cal.AfterBirth) == 0 {
		t.Fatalf("calendar: %d exams, %d articles, %d after birth", exams, articles, len(cal.AfterBirth))
	}
	// The exams are in the agenda.
	ag, err := c.Agenda(ctx, me, 0, care.AgendaQuery{Types: []string{care.TypePregnancy}})
	must(t, err)
	if len(ag) == 0 {
		t.Fatal("no pregnancy exam in the agenda")
	}
	first := cal.Months[0].Items[0]
	if find(ag, first.ID) == nil && first.When != schedule.Past {
		t.Fatalf("agenda lacks %s", first.ID)
	}
	// "J'ai accouché" before month 6: refused.
	_, err = c.DeclareBirth(ctx, me, 0, p.ID, date("2026-11-19"))
	if fe := fieldErr(t, err, "accouchement"); !strings.Contains(fe.Message, "6e mois") {
		t.Fatalf("message %q", fe.Message)
	}
	// Mark an exam done, with a date.
	exam := cal.Months[0].Items[0]
	e, err := c.SetItemStatus(ctx, me, 0, exam.ID, schedule.Done, date("2026-10-20"))
	must(t, err)
	if e.Status != schedule.Done || e.Executed.Format("2006-01-02") != "2026-10-20" {
		t.Fatalf("status %+v", e)
	}
	done, err := c.Agenda(ctx, me, 0, care.AgendaQuery{All: true, Statuses: []schedule.Status{schedule.Done}})
	must(t, err)
	if len(done) != 1 || done[0].ID != exam.ID {
		t.Fatalf("done filter: %+v", done)
	}
	// Month 7: a date is required, then accepted.
	f.clock.set("2027-04-10")
	if _, err := c.DeclareBirth(ctx, me, 0, p.ID, time.Time{}); err == nil {
		t.Fatal("a birth without a date")
	} else if fe := fieldErr(t, err, "accouchement"); !strings.Contains(fe.Message, "obligatoire") {
		t.Fatalf("message %q", fe.Message)
	}
	if _, err := c.DeclareBirth(ctx, me, 0, p.ID, date("2027-04-11")); err == nil {
		t.Fatal("a birth in the future")
	}
	p2, err := c.DeclareBirth(ctx, me, 0, p.ID, date("2027-04-08"))
	must(t, err)
	if p2.Outcome != pregnancy.Delivered || p2.EndDate.Format("2006-01-02") != "2027-04-08" {
		t.Fatalf("after birth: %+v", p2)
	}
	if _, err := c.EndPregnancy(ctx, me, 0, p.ID, date("2027-04-09")); err == nil {
		t.Fatal("a finished pregnancy ended again")
	}
	// A new pregnancy may be added, then ended ("Je ne suis plus enceinte").
	p3, err := c.AddPregnancy(ctx, me, 0, date("2027-04-09"))
	must(t, err)
	if _, err := c.EndPregnancy(ctx, me, 0, p3.ID, time.Time{}); err == nil {
		t.Fatal("an end without a date")
	} else {
		fieldErr(t, err, "fin")
	}
	_, err = c.EndPregnancy(ctx, me, 0, p3.ID, date("2027-04-10"))
	must(t, err)
	all, err := c.Pregnancies(ctx, me, 0)
	must(t, err)
	if len(all) != 2 || all[0].ID != p3.ID || all[0].Outcome != pregnancy.Ended || all[1].ID != p.ID {
		t.Fatalf("pregnancies: %+v", all)
	}
	// Postnatal appointments follow the real delivery date.
	ag, err = c.Agenda(ctx, me, 0, care.AgendaQuery{Types: []string{care.TypePregnancy}, All: true})
	must(t, err)
	for _, e := range ag {
		if e.PregnancyID == p3.ID {
			t.Fatalf("an ended pregnancy's exam in the agenda: %+v", e)
		}
	}
	if len(ag) == 0 || ag[0].From.Before(date("2027-04-08")) {
		t.Fatalf("postnatal: %+v", ag)
	}
	if _, err := c.PregnancyCalendar(ctx, me, 0, 99999); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("unknown pregnancy: %v", err)
	}
	must(t, c.DeletePregnancy(ctx, me, 0, p3.ID))
}

func testStatuses(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	c, me := f.care, f.mother
	ag, err := c.Agenda(ctx, me, 0, care.AgendaQuery{})
	must(t, err)
	if len(ag) == 0 {
		t.Fatal("empty agenda")
	}
	for _, e := range ag {
		if e.When == schedule.Past {
			t.Fatalf("a past item in the upcoming view: %+v", e)
		}
	}
	all, err := c.Agenda(ctx, me, 0, care.AgendaQuery{All: true})
	must(t, err)
	if len(all) <= len(ag) {
		t.Fatalf("Tous has %d entries, upcoming %d", len(all), len(ag))
	}
	var cur *care.Entry
	for i := range ag {
		if ag[i].When == schedule.Current {
			cur = &ag[i]
			break
		}
	}
	if cur == nil || cur.Status != schedule.ToPlan || ag[0].When != schedule.Current {
		t.Fatalf("the first entry is not a current item to plan: %+v", ag[0])
	}
	if _, err := c.SetItemStatus(ctx, me, 0, cur.ID, schedule.ToPlan, time.Time{}); err == nil {
		t.Fatal("TO_PLAN stored")
	} else {
		fieldErr(t, err, "status")
	}
	if _, err := c.SetItemStatus(ctx, me, 0, cur.ID, schedule.Done, date("2026-12-01")); err == nil {
		t.Fatal("a date in the future")
	} else {
		fieldErr(t, err, "date")
	}
	if _, err := c.SetItemStatus(ctx, me, 0, cur.ID, schedule.NotDone, date("2026-11-01")); err == nil {
		t.Fatal("a date on NOT_DONE")
	}
	if _, err := c.SetItemStatus(ctx, me, 0, "NO_SUCH_ITEM", schedule.Done, time.Time{}); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("unknown item: %v", err)
	}
	_, err = c.SetItemStatus(ctx, me, 0, cur.ID, schedule.Done, date("2026-11-10"))
	must(t, err)
	done, err := c.Agenda(ctx, me, 0, care.AgendaQuery{Statuses: []schedule.Status{schedule.Done}})
	must(t, err)
	if len(done) != 1 || done[0].ID != cur.ID || done[0].Executed.Format("2006-01-02") != "2026-11-10" {
		t.Fatalf("done: %+v", done)
	}
	toPlan, err := c.Agenda(ctx, me, 0, care.AgendaQuery{Statuses: []schedule.Status{schedule.ToPlan}})
	must(t, err)
	if find(toPlan, cur.ID) != nil {
		t.Fatal("a done item still to plan")
	}
	typed, err := c.Agenda(ctx, me, 0, care.AgendaQuery{Types: []string{cur.Type}, All: true})
	must(t, err)
	for _, e := range typed {
		if e.Type != cur.Type {
			t.Fatalf("type filter: %+v", e)
		}
	}
	if _, err := c.Agenda(ctx, me, 0, care.AgendaQuery{Types: []string{"nope"}}); err == nil {
		t.Fatal("an unknown type")
	}
	// NOT_SPECIFIED clears the status.
	e, err := c.SetItemStatus(ctx, me, 0, cur.ID, schedule.NotSpecified, time.Time{})
	must(t, err)
	if e.Status != schedule.ToPlan {
		t.Fatalf("cleared: %+v", e)
	}
	soon, err := c.Soon(ctx, me, 0, 180*24*time.Hour)
	must(t, err)
	if find(soon, cur.ID) == nil {
		t.Fatal("the current item is not in Soon")
	}
}

func testEvents(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	c, me := f.care, f.mother
	if _, err := c.AddEvent(ctx, me, 0, care.EventInput{Date: date("2026-12-03")}); err == nil {
		t.Fatal("an event without a title")
	} else {
		fieldErr(t, err, "title")
	}
	if _, err := c.AddEvent(ctx, me, 0, care.EventInput{Title: "Dentiste", Date: date("2026-12-03"), Time: "25:00"}); err == nil {
		t.Fatal("a bad time")
	} else {
		fieldErr(t, err, "time")
	}
	ev, err := c.AddEvent(ctx, me, 0, care.EventInput{Kind: care.TypeAppointment, Title: "Dentiste", Date: date("2026-12-03"), Time: "09:30",
		WithType: "practitioner", With: "Dr Léon", Speciality: "Chirurgien-dentiste", Address: "3 rue de la Paix, Moulins", Notes: "Apporter la carte Vitale"})
	must(t, err)
	rem, err := c.AddEvent(ctx, me, 0, care.EventInput{Kind: care.TypeReminder, Title: "Renouveler l'ordonnance", Date: date("2026-11-20")})
	must(t, err)
	ag, err := c.Agenda(ctx, me, 0, care.AgendaQuery{Types: []string{care.TypeAppointment, care.TypeReminder}})
	must(t, err)
	if len(ag) != 2 || ag[0].ID != "E"+itoa(rem.ID) || ag[1].Event.With != "Dr Léon" {
		t.Fatalf("events: %+v", ag)
	}
	ev2, err := c.UpdateEvent(ctx, me, 0, ev.ID, care.EventInput{Kind: care.TypeAppointment, Title: "Dentiste (contrôle)", Date: date("2026-10-03")})
	must(t, err)
	if ev2.Title != "Dentiste (contrôle)" || ev2.Time != "" {
		t.Fatalf("updated: %+v", ev2)
	}
	ag, err = c.Agenda(ctx, me, 0, care.AgendaQuery{Types: []string{care.TypeAppointment}})
	must(t, err)
	if len(ag) != 0 {
		t.Fatalf("a past event in the upcoming view: %+v", ag)
	}
	ag, err = c.Agenda(ctx, me, 0, care.AgendaQuery{Types: []string{care.TypeAppointment}, All: true})
	must(t, err)
	if len(ag) != 1 {
		t.Fatalf("Tous: %+v", ag)
	}
	must(t, c.DeleteEvent(ctx, me, 0, ev.ID))
	if err := c.DeleteEvent(ctx, me, 0, ev.ID); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("deleted twice: %v", err)
	}
	if _, err := c.UpdateEvent(ctx, me, 0, rem.ID+1000, care.EventInput{Title: "x", Date: date("2026-12-01")}); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("unknown event: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func testPrevention(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	c, me := f.care, f.mother
	q, err := c.Questionnaire(ctx, me, 0)
	must(t, err)
	if q.Next == nil || q.Next.Code != "tabac" {
		t.Fatalf("first theme %+v", q.Next)
	}
	if err := c.SaveAnswers(ctx, me, 0, map[string]string{"TOBACCO_MANUAL": "PEUT_ETRE"}, time.Time{}); err == nil {
		t.Fatal("an unknown answer")
	} else {
		fieldErr(t, err, "TOBACCO_MANUAL")
	}
	must(t, c.SaveAnswers(ctx, me, 0, map[string]string{"TOBACCO_MANUAL": "NON", "TOBACCO_ELECTRONIC": "NON"}, date("2026-06-16")))
	f.clock.set("2026-11-21")
	must(t, c.SaveAnswers(ctx, me, 0, map[string]string{"TOBACCO_MANUAL": "QUOTIDIEN"}, time.Time{}))
	q, err = c.Questionnaire(ctx, me, 0)
	must(t, err)
	if q.Next == nil || q.Next.Code != "alimentation" {
		t.Fatalf("next theme %+v", q.Next)
	}
	if a := q.Themes[0].Answers["TOBACCO_MANUAL"]; a.Value != "QUOTIDIEN" || a.Label() != "Oui, tous les jours" || a.Date.Format("2006-01-02") != "2026-11-21" || !q.Themes[0].Complete {
		t.Fatalf("tobacco answer %+v", q.Themes[0])
	}
	hist, err := c.AnswerHistory(ctx, me, 0, "TOBACCO_MANUAL")
	must(t, err)
	if len(hist) != 2 || hist[0].Value != "QUOTIDIEN" || hist[1].Value != "NON" || hist[1].Date.Format("2006-01-02") != "2026-06-16" {
		t.Fatalf("history %+v", hist)
	}
	recs, err := c.ForMe(ctx, me, 0, "")
	must(t, err)
	if len(recs) == 0 || recs[0].Title != "Des aides pour l'arrêt du tabac" {
		t.Fatalf("Pour moi starts with %+v", recs)
	}
	byTheme, err := c.ForMe(ctx, me, 0, "tabac")
	must(t, err)
	for _, r := range byTheme {
		if r.Theme != "tabac" {
			t.Fatalf("theme filter: %+v", r)
		}
	}
	if _, err := c.ForMe(ctx, me, 0, "nope"); err == nil {
		t.Fatal("an unknown theme")
	}
	arts, err := c.Articles(ctx, me, 0, "grossesse")
	must(t, err)
	if len(arts) == 0 {
		t.Fatal("no pregnancy article")
	}
	// A pregnancy makes the pregnancy articles "for me".
	_, err = c.AddPregnancy(ctx, me, 0, date("2026-10-01"))
	must(t, err)
	recs, err = c.ForMe(ctx, me, 0, "grossesse")
	must(t, err)
	if len(recs) == 0 {
		t.Fatal("no pregnancy article for a pregnant woman")
	}
	svc, err := c.Catalogue("84", "")
	must(t, err)
	all, err := c.Catalogue("", "")
	must(t, err)
	if len(svc) == 0 || len(svc) >= len(all) {
		t.Fatalf("catalogue: %d in the region, %d in all", len(svc), len(all))
	}
	if _, err := c.Catalogue("zz", ""); err == nil {
		t.Fatal("an unknown region")
	} else {
		fieldErr(t, err, "region")
	}
}

const hexa = "Diphtérie, tétanos, coqueluche, poliomyélite, Haemophilus influenzae b, hépatite B"

func testVaccinations(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	c, me, kid := f.care, f.mother, f.child.ID
	if _, err := c.AddVaccination(ctx, me, kid, care.VaccinationInput{Date: date("2026-09-02")}); err == nil {
		t.Fatal("a vaccination without a vaccine")
	} else {
		fieldErr(t, err, "vaccine")
	}
	if _, err := c.AddVaccination(ctx, me, kid, care.VaccinationInput{Vaccine: hexa, Date: date("2026-12-02")}); err == nil {
		t.Fatal("a vaccination in the future")
	} else {
		fieldErr(t, err, "date")
	}
	if _, err := c.AddVaccination(ctx, me, kid, care.VaccinationInput{Vaccine: hexa, Date: date("2026-06-02")}); err == nil {
		t.Fatal("a vaccination before birth")
	}
	if _, err := c.AddVaccination(ctx, me, kid, care.VaccinationInput{Vaccine: hexa, Date: date("2026-09-02"), ItemCode: "EXAMEN_ENFANT_2M"}); err == nil {
		t.Fatal("a vaccination linked to an exam")
	} else {
		fieldErr(t, err, "item_code")
	}
	v, err := c.AddVaccination(ctx, me, kid, care.VaccinationInput{Vaccine: hexa, Date: date("2026-09-02"), Batch: "AB123", Professional: "Dr Martin"})
	must(t, err)
	item, err := c.AgendaItem(ctx, me, kid, "VAC_HEXAVALENT_1")
	must(t, err)
	if item.Status != schedule.Done || item.VaccinationID != v.ID || item.Executed.Format("2006-01-02") != "2026-09-02" {
		t.Fatalf("the dose did not mark the item done: %+v", item)
	}
	if item2, _ := c.AgendaItem(ctx, me, kid, "VAC_HEXAVALENT_2"); item2 == nil || item2.Status == schedule.Done {
		t.Fatalf("the second dose is done too: %+v", item2)
	}
	// An explicit link wins; editing keeps the record consistent.
	p, err := c.AddVaccination(ctx, me, kid, care.VaccinationInput{Vaccine: "Prevenar 13", Date: date("2026-09-02"), ItemCode: "VAC_PNEUMO_1"})
	must(t, err)
	if it, _ := c.AgendaItem(ctx, me, kid, "VAC_PNEUMO_1"); it == nil || it.Status != schedule.Done {
		t.Fatalf("linked dose: %+v", it)
	}
	_, err = c.UpdateVaccination(ctx, me, kid, p.ID, care.VaccinationInput{Vaccine: "Prevenar 13", Date: date("2026-09-03"), Batch: "X9"})
	must(t, err)
	if it, _ := c.AgendaItem(ctx, me, kid, "VAC_PNEUMO_1"); it == nil || it.Status == schedule.Done {
		t.Fatalf("unlinked dose still marks the item: %+v", it)
	}
	vs, err := c.Vaccinations(ctx, me, kid)
	must(t, err)
	if len(vs) != 2 || vs[0].ID != p.ID || vs[0].Batch != "X9" || vs[1].Professional != "Dr Martin" {
		t.Fatalf("record: %+v", vs)
	}
	cal, err := c.VaccinationCalendar(ctx, me, kid)
	must(t, err)
	marked := false
	for _, a := range cal {
		for _, e := range a.Entries {
			if e.Code == "VAC_HEXAVALENT_1" && e.Item != nil && e.Item.Status == schedule.Done {
				marked = true
			}
		}
	}
	if len(cal) < 5 || !marked {
		t.Fatalf("calendar: %d ages, hexavalent marked %v", len(cal), marked)
	}
	must(t, c.DeleteVaccination(ctx, me, kid, v.ID))
	if it, _ := c.AgendaItem(ctx, me, kid, "VAC_HEXAVALENT_1"); it == nil || it.Status == schedule.Done {
		t.Fatalf("deleted dose still marks the item: %+v", it)
	}
	if err := c.DeleteVaccination(ctx, me, kid, v.ID); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("deleted twice: %v", err)
	}
	if len(c.VaccineNames()) < 10 {
		t.Fatalf("vaccine names %v", c.VaccineNames())
	}
}

func testChildAgenda(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	c, me, kid := f.care, f.mother, f.child.ID
	ag, err := c.Agenda(ctx, me, kid, care.AgendaQuery{All: true})
	must(t, err)
	var exams, dents int
	for _, e := range ag {
		switch {
		case e.Type == string(schedule.Exam) && strings.HasPrefix(e.ID, "EXAMEN_ENFANT_"):
			exams++
		case e.Type == string(schedule.Dental) && strings.HasPrefix(e.ID, "MT_DENTS"):
			dents++
		}
		if (e.Type == string(schedule.Screening) || e.Type == string(schedule.CheckUp)) && e.From.Before(date("2044-07-01")) {
			t.Fatalf("an adult item for a baby: %+v", e)
		}
	}
	if exams < 18 || dents < 8 {
		t.Fatalf("child agenda: %d exams, %d M'T dents", exams, dents)
	}
	cur := ag[0]
	if cur.When != schedule.Current {
		t.Fatalf("first: %+v", cur)
	}
	_, err = c.SetItemStatus(ctx, me, kid, "EXAMEN_ENFANT_2M", schedule.Done, date("2026-08-25"))
	must(t, err)
	if _, err := c.SetItemStatus(ctx, me, kid, "EXAMEN_ENFANT_2M", schedule.Done, date("2026-06-25")); err == nil {
		t.Fatal("a date before birth")
	}
	_, err = c.AddEvent(ctx, me, kid, care.EventInput{Title: "Pédiatre", Date: date("2026-12-10"), Time: "17:00", With: "Dr Petit"})
	must(t, err)
	// The mother's own agenda keeps its statuses apart.
	mine, err := c.Agenda(ctx, me, 0, care.AgendaQuery{All: true})
	must(t, err)
	for _, e := range mine {
		if e.ID == "EXAMEN_ENFANT_2M" || (e.Event != nil && e.Event.Title == "Pédiatre") {
			t.Fatalf("the child's entry in the mother's agenda: %+v", e)
		}
	}
}

func testAccess(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	c := f.care
	p, err := c.AddPregnancy(ctx, f.mother, 0, date("2026-10-01"))
	must(t, err)
	ev, err := c.AddEvent(ctx, f.mother, f.child.ID, care.EventInput{Title: "Pédiatre", Date: date("2026-12-10")})
	must(t, err)
	for _, who := range []*directory.Account{f.stranger, f.doc} {
		for _, pid := range []int64{f.mother.ID, f.child.ID} {
			calls := map[string]error{}
			_, calls["Pregnancies"] = c.Pregnancies(ctx, who, pid)
			_, calls["AddPregnancy"] = c.AddPregnancy(ctx, who, pid, date("2026-10-01"))
			_, calls["DeclareBirth"] = c.DeclareBirth(ctx, who, pid, p.ID, date("2026-11-01"))
			_, calls["EndPregnancy"] = c.EndPregnancy(ctx, who, pid, p.ID, date("2026-11-01"))
			calls["DeletePregnancy"] = c.DeletePregnancy(ctx, who, pid, p.ID)
			_, calls["PregnancyCalendar"] = c.PregnancyCalendar(ctx, who, pid, p.ID)
			_, calls["Agenda"] = c.Agenda(ctx, who, pid, care.AgendaQuery{})
			_, calls["AgendaItem"] = c.AgendaItem(ctx, who, pid, "EXAMEN_ENFANT_2M")
			_, calls["SetItemStatus"] = c.SetItemStatus(ctx, who, pid, "EXAMEN_ENFANT_2M", schedule.Done, time.Time{})
			_, calls["AddEvent"] = c.AddEvent(ctx, who, pid, care.EventInput{Title: "x", Date: date("2026-12-01")})
			_, calls["Event"] = c.Event(ctx, who, pid, ev.ID)
			_, calls["UpdateEvent"] = c.UpdateEvent(ctx, who, pid, ev.ID, care.EventInput{Title: "x", Date: date("2026-12-01")})
			calls["DeleteEvent"] = c.DeleteEvent(ctx, who, pid, ev.ID)
			_, calls["Questionnaire"] = c.Questionnaire(ctx, who, pid)
			calls["SaveAnswers"] = c.SaveAnswers(ctx, who, pid, map[string]string{"TOBACCO_MANUAL": "NON"}, time.Time{})
			_, calls["Answers"] = c.Answers(ctx, who, pid)
			_, calls["AnswerHistory"] = c.AnswerHistory(ctx, who, pid, "")
			_, calls["ForMe"] = c.ForMe(ctx, who, pid, "")
			_, calls["Articles"] = c.Articles(ctx, who, pid, "")
			_, calls["Soon"] = c.Soon(ctx, who, pid, time.Hour)
			_, calls["Vaccinations"] = c.Vaccinations(ctx, who, pid)
			_, calls["Vaccination"] = c.Vaccination(ctx, who, pid, 1)
			_, calls["AddVaccination"] = c.AddVaccination(ctx, who, pid, care.VaccinationInput{Vaccine: hexa, Date: date("2026-09-02")})
			_, calls["UpdateVaccination"] = c.UpdateVaccination(ctx, who, pid, 1, care.VaccinationInput{Vaccine: hexa, Date: date("2026-09-02")})
			calls["DeleteVaccination"] = c.DeleteVaccination(ctx, who, pid, 1)
			_, calls["VaccinationCalendar"] = c.VaccinationCalendar(ctx, who, pid)
			_, calls["CreateFeed"] = c.CreateFeed(ctx, who, pid)
			_, calls["FeedState"] = c.FeedState(ctx, who, pid)
			calls["DeleteFeed"] = c.DeleteFeed(ctx, who, pid)
			for name, err := range calls {
				if !errors.Is(err, dmp.ErrForbidden) {
					t.Errorf("%s by %s for %d: %v, want forbidden", name, who.Address, pid, err)
				}
			}
		}
	}
	// Nothing changed.
	if ps, err := c.Pregnancies(ctx, f.mother, 0); err != nil || len(ps) != 1 || !ps[0].Ongoing() {
		t.Fatalf("pregnancies after the attempts: %v %+v", err, ps)
	}
	if _, err := c.Event(ctx, f.mother, f.child.ID, ev.ID); err != nil {
		t.Fatal(err)
	}
	// The child's event is not reachable through the mother's own space.
	if _, err := c.Event(ctx, f.mother, 0, ev.ID); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("the child's event as the mother's: %v", err)
	}
}

func testFeed(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	c, me := f.care, f.mother
	_, err := c.AddEvent(ctx, me, 0, care.EventInput{Title: "Gynécologue", Date: date("2026-12-03"), Time: "14:15", Address: "Hôpital, Moulins"})
	must(t, err)
	_, err = c.AddPregnancy(ctx, me, 0, date("2026-10-01"))
	must(t, err)
	if st, err := c.FeedState(ctx, me, 0); err != nil || st.Active {
		t.Fatalf("feed before creation: %+v %v", st, err)
	}
	token, err := c.CreateFeed(ctx, me, 0)
	must(t, err)
	if st, err := c.FeedState(ctx, me, 0); err != nil || !st.Active {
		t.Fatalf("feed after creation: %+v %v", st, err)
	}
	cal, err := c.FeedCalendar(ctx, token, "test.example")
	must(t, err)
	var buf bytes.Buffer
	must(t, ical.Write(&buf, *cal))
	all, err := c.Agenda(ctx, me, 0, care.AgendaQuery{All: true})
	must(t, err)
	text := buf.String()
	if !strings.HasPrefix(text, "BEGIN:VCALENDAR\r\n") || strings.Count(text, "BEGIN:VEVENT") != len(all) || len(all) < 20 {
		t.Fatalf("feed: %d events for %d entries", strings.Count(text, "BEGIN:VEVENT"), len(all))
	}
	if !strings.Contains(text, "DTSTART:20261203T131500Z") || !strings.Contains(text, "SUMMARY:Gynécologue") {
		t.Fatalf("the appointment is not in the feed:\n%s", text)
	}
	if _, err := c.FeedCalendar(ctx, strings.Repeat("A", 43), "test.example"); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("wrong token: %v", err)
	}
	// Rotating revokes the old URL; deleting revokes it all.
	token2, err := c.CreateFeed(ctx, me, 0)
	must(t, err)
	if _, err := c.FeedCalendar(ctx, token, "test.example"); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("old token after rotation: %v", err)
	}
	if _, err := c.FeedCalendar(ctx, token2, "test.example"); err != nil {
		t.Fatal(err)
	}
	// A child's feed made by the parent.
	kt, err := c.CreateFeed(ctx, me, f.child.ID)
	must(t, err)
	kc, err := c.FeedCalendar(ctx, kt, "test.example")
	must(t, err)
	if !strings.Contains(kc.Name, "Léa") || len(kc.Events) < 20 {
		t.Fatalf("child feed %q, %d events", kc.Name, len(kc.Events))
	}
	must(t, c.DeleteFeed(ctx, me, 0))
	if _, err := c.FeedCalendar(ctx, token2, "test.example"); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("deleted feed: %v", err)
	}
}
