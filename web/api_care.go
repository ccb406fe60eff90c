package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/advice"
	"mssanted/dmp/care"
	"mssanted/dmp/catalogue"
	"mssanted/dmp/ical"
	"mssanted/dmp/pregnancy"
	"mssanted/dmp/schedule"
)

// careRoutes are the prevention, pregnancy, agenda, vaccination and
// catalogue operations (dmp/care); their OpenAPI part is openapi-care.json.
// The store checks who acts for whom (ActFor); dates are civil dates,
// YYYY-MM-DD. A refused input is a 400 problem whose title is the French
// sentence and whose "field" names the form field.
func (a *api) careRoutes() []route {
	const p = "/api/v1/persons/{person}"
	return []route{
		{"GET", p + "/pregnancies", false, a.care(a.listPregnancies)},
		{"POST", p + "/pregnancies", false, a.care(a.addPregnancy)},
		{"DELETE", p + "/pregnancies/{id}", false, a.care(a.deletePregnancy)},
		{"POST", p + "/pregnancies/{id}/birth", false, a.care(a.declareBirth)},
		{"POST", p + "/pregnancies/{id}/end", false, a.care(a.endPregnancy)},
		{"GET", p + "/pregnancies/{id}/calendar", false, a.care(a.pregnancyCalendar)},
		{"GET", p + "/agenda", false, a.care(a.agenda)},
		{"GET", p + "/agenda/items/{code}", false, a.care(a.agendaItem)},
		{"PUT", p + "/agenda/items/{code}/status", false, a.care(a.setItemStatus)},
		{"POST", p + "/agenda/events", false, a.care(events.add)},
		{"GET", p + "/agenda/events/{id}", false, a.care(events.get)},
		{"PATCH", p + "/agenda/events/{id}", false, a.care(events.patch)},
		{"DELETE", p + "/agenda/events/{id}", false, a.care(events.delete)},
		{"GET", p + "/agenda/feed", false, a.care(a.feedState)},
		{"POST", p + "/agenda/feed", false, a.care(a.createFeed)},
		{"DELETE", p + "/agenda/feed", false, a.care(a.deleteFeed)},
		{"GET", "/ical/{file}", true, a.care(a.icalFeed)},
		{"GET", p + "/prevention/soon", false, a.care(a.preventionSoon)},
		{"GET", p + "/prevention/questionnaire", false, a.care(a.questionnaire)},
		{"POST", p + "/prevention/answers", false, a.care(a.saveAnswers)},
		{"GET", p + "/prevention/answers", false, a.care(a.answerHistory)},
		{"GET", p + "/prevention/articles", false, a.care(a.articles)},
		{"GET", p + "/vaccinations", false, a.care(a.listVaccinations)},
		{"POST", p + "/vaccinations", false, a.care(vaccinations.add)},
		{"GET", p + "/vaccinations/calendar", false, a.care(a.vaccinationCalendar)},
		{"GET", p + "/vaccinations/{id}", false, a.care(vaccinations.get)},
		{"PATCH", p + "/vaccinations/{id}", false, a.care(vaccinations.patch)},
		{"DELETE", p + "/vaccinations/{id}", false, a.care(vaccinations.delete)},
		{"GET", "/api/v1/catalogue", false, a.care(a.catalogue)},
	}
}

// records is a person's list of records of one kind (agenda events,
// vaccinations) and its four handlers: add, read, patch (absent fields
// keep their value), delete. Rec is the stored record, In its input, P the
// JSON body that fills an In.
type records[Rec any, In any, P interface{ apply(*In) error }, V any] struct {
	read    func(*care.Store, context.Context, *directory.Account, int64, int64) (Rec, error)
	create  func(*care.Store, context.Context, *directory.Account, int64, In) (Rec, error)
	update  func(*care.Store, context.Context, *directory.Account, int64, int64, In) (Rec, error)
	remove  func(*care.Store, context.Context, *directory.Account, int64, int64) error
	current func(Rec) In // the stored values a PATCH starts from
	view    func(Rec) V
}

var events = records[*care.Event, care.EventInput, eventIn, eventJSON]{
	read: (*care.Store).Event, create: (*care.Store).AddEvent, update: (*care.Store).UpdateEvent, remove: (*care.Store).DeleteEvent,
	current: func(e *care.Event) care.EventInput {
		return care.EventInput{Kind: e.Kind, Title: e.Title, Date: e.Date, Time: e.Time, WithType: e.WithType, With: e.With,
			Speciality: e.Speciality, Address: e.Address, Notes: e.Notes}
	},
	view: eventView,
}

var vaccinations = records[*care.Vaccination, care.VaccinationInput, vaccinationIn, vaccinationJSON]{
	read: (*care.Store).Vaccination, create: (*care.Store).AddVaccination, update: (*care.Store).UpdateVaccination,
	remove: (*care.Store).DeleteVaccination,
	current: func(v *care.Vaccination) care.VaccinationInput {
		return care.VaccinationInput{Vaccine: v.Vaccine, Date: v.Date, Batch: v.Batch, Professional: v.Professional, ItemCode: v.ItemCode, Notes: v.Notes}
	},
	view: vaccinationView,
}

func (k records[Rec, In, P, V]) add(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	var body P
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	var in In
	if err := body.apply(&in); err != nil {
		return err
	}
	rec, err := k.create(c, r.Context(), s.Account, pid, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, k.view(rec))
}

func (k records[Rec, In, P, V]) get(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, id, err := personAndID(r)
	if err != nil {
		return err
	}
	rec, err := k.read(c, r.Context(), s.Account, pid, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, k.view(rec))
}

func (k records[Rec, In, P, V]) patch(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, id, err := personAndID(r)
	if err != nil {
		return err
	}
	var body P
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	old, err := k.read(c, r.Context(), s.Account, pid, id)
	if err != nil {
		return err
	}
	in := k.current(old)
	if err := body.apply(&in); err != nil {
		return err
	}
	rec, err := k.update(c, r.Context(), s.Account, pid, id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, k.view(rec))
}

func (k records[Rec, In, P, V]) delete(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, id, err := personAndID(r)
	if err != nil {
		return err
	}
	if err := k.remove(c, r.Context(), s.Account, pid, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type careHandler func(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error

// fieldProblem is a problem document naming the refused form field.
type fieldProblem struct {
	problem
	Field string `json:"field,omitempty"`
}

// care wraps a care handler: the store must be configured; field errors
// name their field; "not found" says so without speaking of documents.
func (a *api) care(h careHandler) func(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	return func(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
		if a.o.Care == nil {
			writeProblem(w, http.StatusServiceUnavailable, "Service indisponible", "the care store is not configured")
			return nil
		}
		err := h(w, r, s, a.o.Care)
		var fe *care.FieldError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &fe):
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Content-Language", "fr")
			w.WriteHeader(http.StatusBadRequest)
			return writeJSONBody(w, fieldProblem{problem: problem{Type: "about:blank", Title: fe.Message, Status: http.StatusBadRequest,
				Detail: fe.Message + " / " + fe.English}, Field: fe.Field})
		case errors.Is(err, dmp.ErrNotFound):
			writeProblem(w, http.StatusNotFound, "Introuvable", err.Error())
			return nil
		}
		return err
	}
}

// setIf copies a field of a PATCH body when it was given.
func setIf(dst *string, src *string) {
	if src != nil {
		*dst = *src
	}
}

// personID is the {person} of the path: 0 for "me" (the store reads it as
// the actor), else the id; the store decides whether the actor may.
func personID(r *http.Request) (int64, error) {
	p := r.PathValue("person")
	if p == "me" {
		return 0, nil
	}
	id, err := strconv.ParseInt(p, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: no such person", dmp.ErrNotFound)
	}
	return id, nil
}

func careID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: bad id", dmp.ErrNotFound)
	}
	return id, nil
}

// personAndID reads {person} and {id}.
func personAndID(r *http.Request) (int64, int64, error) {
	p, err := personID(r)
	if err != nil {
		return 0, 0, err
	}
	id, err := careID(r)
	return p, id, err
}

func dateJSON(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

var careMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// careDay is "17 juin 2025" ("1er" for the first day).
func careDay(t time.Time) string {
	d := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		d = "1er"
	}
	return d + " " + careMonths[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

type codeLabel struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// Pregnancies.

type pregnancyJSON struct {
	ID               int64  `json:"id"`
	Start            string `json:"start"`
	ExpectedDelivery string `json:"expected_delivery"`
	Ongoing          bool   `json:"ongoing"`
	Outcome          string `json:"outcome"`
	EndDate          string `json:"end_date,omitempty"`
	StatusLabel      string `json:"status_label"`
	Month            int    `json:"month"`
	SAWeeks          int    `json:"sa_weeks,omitempty"`
	SADays           int    `json:"sa_days,omitempty"`
	TermLabel        string `json:"term_label,omitempty"`
	CanDeclareBirth  bool   `json:"can_declare_birth"`
	BirthFrom        string `json:"birth_from"`
}

func pregnancyView(p *care.Pregnancy, today time.Time) pregnancyJSON {
	v := pregnancyJSON{ID: p.ID, Start: dateJSON(p.Start), ExpectedDelivery: dateJSON(p.Expected()), Ongoing: p.Ongoing(),
		Outcome: string(p.Outcome), EndDate: dateJSON(p.EndDate), CanDeclareBirth: p.CanDeclareBirth(today), BirthFrom: dateJSON(p.BirthFrom())}
	switch p.Outcome {
	case pregnancy.Delivered:
		v.StatusLabel = "Grossesse terminée — Accouchement le " + careDay(p.EndDate)
	case pregnancy.Ended:
		v.StatusLabel = "Grossesse terminée — Fin de grossesse le " + careDay(p.EndDate)
	default:
		v.Month = pregnancy.MonthOf(p.Start, today)
		v.SAWeeks, v.SADays = pregnancy.SA(p.Start, today)
		v.TermLabel = fmt.Sprintf("%d SA + %d j", v.SAWeeks, v.SADays)
		v.StatusLabel = fmt.Sprintf("Grossesse en cours — %de mois, accouchement prévu le %s", v.Month, careDay(p.Expected()))
		if v.Month == 1 {
			v.StatusLabel = "Grossesse en cours — 1er mois, accouchement prévu le " + careDay(p.Expected())
		}
	}
	return v
}

func (a *api) listPregnancies(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	ps, err := c.Pregnancies(r.Context(), s.Account, pid)
	if err != nil {
		return err
	}
	today := c.Today()
	out := struct {
		Current *pregnancyJSON  `json:"current"`
		Past    []pregnancyJSON `json:"past"`
		CanAdd  bool            `json:"can_add"`
	}{Past: []pregnancyJSON{}, CanAdd: true}
	for _, p := range ps {
		v := pregnancyView(p, today)
		if p.Ongoing() {
			out.Current, out.CanAdd = &v, false
		} else {
			out.Past = append(out.Past, v)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *api) addPregnancy(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	var in struct {
		Start      string `json:"start"`
		LastPeriod string `json:"last_period"`
	}
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	start, err := care.ParseDate("debut", in.Start)
	if err != nil {
		return err
	}
	if start.IsZero() && in.LastPeriod != "" {
		ddr, err := care.ParseDate("debut", in.LastPeriod)
		if err != nil {
			return err
		}
		start = pregnancy.FromLastPeriod(ddr)
	}
	p, err := c.AddPregnancy(r.Context(), s.Account, pid, start)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, pregnancyView(p, c.Today()))
}

type dateIn struct {
	Date string `json:"date"`
}

func (a *api) declareBirth(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	return a.finishPregnancy(w, r, s, c, "accouchement", c.DeclareBirth)
}

func (a *api) endPregnancy(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	return a.finishPregnancy(w, r, s, c, "fin", c.EndPregnancy)
}

func (a *api) finishPregnancy(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store, field string,
	do func(ctx context.Context, actor *directory.Account, personID, id int64, date time.Time) (*care.Pregnancy, error)) error {
	pid, id, err := personAndID(r)
	if err != nil {
		return err
	}
	var in dateIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	d, err := care.ParseDate(field, in.Date)
	if err != nil {
		return err
	}
	p, err := do(r.Context(), s.Account, pid, id, d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pregnancyView(p, c.Today()))
}

func (a *api) deletePregnancy(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, id, err := personAndID(r)
	if err != nil {
		return err
	}
	if err := c.DeletePregnancy(r.Context(), s.Account, pid, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type articleJSON struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Theme       string `json:"theme"`
	ThemeLabel  string `json:"theme_label"`
	Summary     string `json:"summary"`
	SourceTitle string `json:"source_title"`
	SourceURL   string `json:"source_url"`
	Score       *int   `json:"score,omitempty"`
	Matched     *bool  `json:"matched,omitempty"`
}

func themeLabel(code string) string {
	for _, t := range advice.ThemeLabels {
		if t.Code == code {
			return t.Label
		}
	}
	return code
}

func articleView(a advice.Article) articleJSON {
	return articleJSON{ID: a.ID, Title: a.Title, Theme: a.Theme, ThemeLabel: themeLabel(a.Theme), Summary: a.Summary,
		SourceTitle: a.SourceTitle, SourceURL: a.SourceURL}
}

func (a *api) pregnancyCalendar(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, id, err := personAndID(r)
	if err != nil {
		return err
	}
	cal, err := c.PregnancyCalendar(r.Context(), s.Account, pid, id)
	if err != nil {
		return err
	}
	type monthJSON struct {
		N        int           `json:"n"`
		Label    string        `json:"label"`
		From     string        `json:"from"`
		To       string        `json:"to"`
		SAFrom   int           `json:"sa_from"`
		SATo     int           `json:"sa_to"`
		Current  bool          `json:"current"`
		Exams    []entryJSON   `json:"exams"`
		Articles []articleJSON `json:"articles"`
	}
	out := struct {
		Pregnancy  pregnancyJSON `json:"pregnancy"`
		Today      string        `json:"today"`
		Months     []monthJSON   `json:"months"`
		AfterBirth []entryJSON   `json:"after_birth"`
	}{Pregnancy: pregnancyView(cal.Pregnancy, cal.Today), Today: dateJSON(cal.Today), AfterBirth: entriesView(cal.AfterBirth)}
	for _, m := range cal.Months {
		mj := monthJSON{N: m.N, Label: fmt.Sprintf("%de mois", m.N), From: dateJSON(m.From), To: dateJSON(m.To), SAFrom: m.SAFrom, SATo: m.SATo,
			Current: m.Current, Exams: entriesView(m.Items), Articles: []articleJSON{}}
		if m.N == 1 {
			mj.Label = "1er mois"
		}
		for _, ar := range m.Articles {
			mj.Articles = append(mj.Articles, articleView(ar))
		}
		out.Months = append(out.Months, mj)
	}
	return writeJSON(w, http.StatusOK, out)
}

// Agenda.

type sourceJSON struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

type eventJSON struct {
	ID         int64  `json:"id"`
	Kind       string `json:"kind"`
	Title      string `json:"title"`
	Date       string `json:"date"`
	Time       string `json:"time,omitempty"`
	WithType   string `json:"with_type,omitempty"`
	With       string `json:"with,omitempty"`
	Speciality string `json:"speciality,omitempty"`
	Address    string `json:"address,omitempty"`
	Notes      string `json:"notes,omitempty"`
}

func eventView(e *care.Event) eventJSON {
	return eventJSON{ID: e.ID, Kind: e.Kind, Title: e.Title, Date: dateJSON(e.Date), Time: e.Time, WithType: e.WithType, With: e.With,
		Speciality: e.Speciality, Address: e.Address, Notes: e.Notes}
}

type entryJSON struct {
	ID               string       `json:"id"`
	Kind             string       `json:"kind"`
	Type             string       `json:"type"`
	TypeLabel        string       `json:"type_label"`
	Title            string       `json:"title"`
	Label            string       `json:"label,omitempty"`
	From             string       `json:"from"`
	To               string       `json:"to,omitempty"`
	When             string       `json:"when"`
	Status           string       `json:"status,omitempty"`
	StatusLabel      string       `json:"status_label,omitempty"`
	Executed         string       `json:"executed,omitempty"`
	Requirement      string       `json:"requirement,omitempty"`
	RequirementLabel string       `json:"requirement_label,omitempty"`
	Vaccine          string       `json:"vaccine,omitempty"`
	Note             string       `json:"note,omitempty"`
	Sources          []sourceJSON `json:"sources,omitempty"`
	PregnancyID      int64        `json:"pregnancy_id,omitempty"`
	VaccinationID    int64        `json:"vaccination_id,omitempty"`
	Event            *eventJSON   `json:"event,omitempty"`
}

func whenName(w schedule.When) string {
	switch w {
	case schedule.Past:
		return "past"
	case schedule.Current:
		return "current"
	}
	return "future"
}

func entryView(e care.Entry) entryJSON {
	v := entryJSON{ID: e.ID, Kind: e.Kind, Type: e.Type, TypeLabel: care.TypeLabel(e.Type), Title: e.Title, Label: e.Label,
		From: dateJSON(e.From), To: dateJSON(e.To), When: whenName(e.When), Vaccine: e.Vaccine, Note: e.Note,
		PregnancyID: e.PregnancyID, VaccinationID: e.VaccinationID}
	if e.IsItem() {
		v.Status, v.StatusLabel, v.Executed = string(e.Status), e.Status.Label(), dateJSON(e.Executed)
		v.Requirement, v.RequirementLabel = string(e.Requirement), e.Requirement.Label()
		for _, s := range e.Sources {
			v.Sources = append(v.Sources, sourceJSON{Title: s.Title, URL: s.URL})
		}
	}
	if e.Event != nil {
		ev := eventView(e.Event)
		v.Event, v.Note = &ev, ""
	}
	return v
}

func entriesView(es []care.Entry) []entryJSON {
	out := []entryJSON{}
	for _, e := range es {
		out = append(out, entryView(e))
	}
	return out
}

// list splits a query parameter given as a=x,y or a=x&a=y.
func list(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func truthy(s string) bool { return s == "1" || s == "true" || s == "yes" }

var statusChoices = []schedule.Status{schedule.ToPlan, schedule.NotSpecified, schedule.Done, schedule.NotDone}

func (a *api) agenda(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	q := care.AgendaQuery{Types: list(r, "type"), All: truthy(r.URL.Query().Get("all"))}
	for _, st := range list(r, "status") {
		q.Statuses = append(q.Statuses, schedule.Status(st))
	}
	es, err := c.Agenda(r.Context(), s.Account, pid, q)
	if err != nil {
		return err
	}
	types := []codeLabel{}
	for _, t := range care.Types {
		types = append(types, codeLabel{t, care.TypeLabel(t)})
	}
	statuses := []codeLabel{}
	for _, st := range statusChoices {
		statuses = append(statuses, codeLabel{string(st), st.Label()})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"today": dateJSON(c.Today()), "entries": entriesView(es), "types": types, "statuses": statuses})
}

func (a *api) agendaItem(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	e, err := c.AgendaItem(r.Context(), s.Account, pid, r.PathValue("code"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, entryView(*e))
}

func (a *api) setItemStatus(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	var in struct {
		Status string `json:"status"`
		Date   string `json:"date"`
	}
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	d, err := care.ParseDate("date", in.Date)
	if err != nil {
		return err
	}
	e, err := c.SetItemStatus(r.Context(), s.Account, pid, r.PathValue("code"), schedule.Status(in.Status), d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, entryView(*e))
}

// eventIn is an event as the API takes it; in a PATCH, absent fields keep
// their value.
type eventIn struct {
	Kind       *string `json:"kind"`
	Title      *string `json:"title"`
	Date       *string `json:"date"`
	Time       *string `json:"time"`
	WithType   *string `json:"with_type"`
	With       *string `json:"with"`
	Speciality *string `json:"speciality"`
	Address    *string `json:"address"`
	Notes      *string `json:"notes"`
}

func (in eventIn) apply(e *care.EventInput) error {
	setIf(&e.Kind, in.Kind)
	setIf(&e.Title, in.Title)
	setIf(&e.Time, in.Time)
	setIf(&e.WithType, in.WithType)
	setIf(&e.With, in.With)
	setIf(&e.Speciality, in.Speciality)
	setIf(&e.Address, in.Address)
	setIf(&e.Notes, in.Notes)
	if in.Date != nil {
		d, err := care.ParseDate("date", *in.Date)
		if err != nil {
			return err
		}
		e.Date = d
	}
	return nil
}

// The iCalendar feed.

type feedJSON struct {
	Active    bool   `json:"active"`
	CreatedAt string `json:"created_at,omitempty"`
	URL       string `json:"url,omitempty"`
	WebcalURL string `json:"webcal_url,omitempty"`
}

func (a *api) feedState(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	st, err := c.FeedState(r.Context(), s.Account, pid)
	if err != nil {
		return err
	}
	out := feedJSON{Active: st.Active}
	if st.Active {
		out.CreatedAt = st.CreatedAt.UTC().Format(time.RFC3339)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *api) createFeed(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	token, err := c.CreateFeed(r.Context(), s.Account, pid)
	if err != nil {
		return err
	}
	path := r.Host + "/ical/" + token + ".ics"
	return writeJSON(w, http.StatusCreated, feedJSON{Active: true, CreatedAt: time.Now().UTC().Format(time.RFC3339),
		URL: "https://" + path, WebcalURL: "webcal://" + path})
}

func (a *api) deleteFeed(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	if err := c.DeleteFeed(r.Context(), s.Account, pid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// icalFeed is the public feed: the token in the URL is the credential
// (calendar applications send no session).
func (a *api) icalFeed(w http.ResponseWriter, r *http.Request, _ *directory.Session, c *care.Store) error {
	token, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok {
		return fmt.Errorf("%w: not an .ics", dmp.ErrNotFound)
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" {
		host = "mssanted"
	}
	cal, err := c.FeedCalendar(r.Context(), token, host)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := ical.Write(&buf, *cal); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="agenda.ics"`)
	_, err = w.Write(buf.Bytes())
	return err
}

// Prevention.

func (a *api) preventionSoon(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	days := 180
	if d := r.URL.Query().Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 3660 {
			return bad("Nombre de jours invalide", "days must be 0..3660")
		}
		days = n
	}
	es, err := c.Soon(r.Context(), s.Account, pid, time.Duration(days)*24*time.Hour)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"today": dateJSON(c.Today()), "entries": entriesView(es)})
}

type answerJSON struct {
	ID            int64  `json:"id,omitempty"`
	Question      string `json:"question"`
	QuestionLabel string `json:"question_label,omitempty"`
	Theme         string `json:"theme,omitempty"`
	Value         string `json:"value"`
	Label         string `json:"label"`
	Date          string `json:"date"`
	DateLabel     string `json:"date_label"`
}

// questionIndex maps question codes to their theme and label.
func questionIndex() map[string][2]string {
	out := map[string][2]string{}
	for _, t := range advice.Themes() {
		for _, q := range t.Questions {
			out[q.Code] = [2]string{t.Code, q.Label}
		}
	}
	return out
}

func answerView(a care.AnswerRecord, idx map[string][2]string) answerJSON {
	return answerJSON{ID: a.ID, Question: a.Question, QuestionLabel: idx[a.Question][1], Theme: idx[a.Question][0], Value: a.Value, Label: a.Label(),
		Date: dateJSON(a.Date), DateLabel: "Renseigné le " + careDay(a.Date)}
}

type questionJSON struct {
	Code    string      `json:"code"`
	Label   string      `json:"label"`
	Choices []codeLabel `json:"choices"`
	Answer  *answerJSON `json:"answer"`
}

type themeJSON struct {
	Code      string         `json:"code"`
	Label     string         `json:"label"`
	Complete  bool           `json:"complete"`
	Questions []questionJSON `json:"questions"`
}

func questionnaireView(q *care.Questionnaire) map[string]any {
	idx := questionIndex()
	var next *themeJSON
	themes := []themeJSON{}
	for _, t := range q.Themes {
		tj := themeJSON{Code: t.Code, Label: t.Label, Complete: t.Complete, Questions: []questionJSON{}}
		for _, qu := range t.Questions {
			qj := questionJSON{Code: qu.Code, Label: qu.Label, Choices: []codeLabel{}}
			for _, ch := range qu.Choices {
				qj.Choices = append(qj.Choices, codeLabel{ch.Code, ch.Label})
			}
			if a, ok := t.Answers[qu.Code]; ok {
				av := answerView(a, idx)
				qj.Answer = &av
			}
			tj.Questions = append(tj.Questions, qj)
		}
		themes = append(themes, tj)
		if q.Next != nil && q.Next.Code == t.Code {
			next = &themes[len(themes)-1]
		}
	}
	if next != nil {
		n := *next
		next = &n
	}
	return map[string]any{"themes": themes, "next_theme": next, "complete": q.Next == nil}
}

func (a *api) questionnaire(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	q, err := c.Questionnaire(r.Context(), s.Account, pid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, questionnaireView(q))
}

func (a *api) saveAnswers(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	var in struct {
		Answers map[string]string `json:"answers"`
		Date    string            `json:"date"`
	}
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	d, err := care.ParseDate("date", in.Date)
	if err != nil {
		return err
	}
	if err := c.SaveAnswers(r.Context(), s.Account, pid, in.Answers, d); err != nil {
		return err
	}
	q, err := c.Questionnaire(r.Context(), s.Account, pid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, questionnaireView(q))
}

func (a *api) answerHistory(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	hist, err := c.AnswerHistory(r.Context(), s.Account, pid, r.URL.Query().Get("question"))
	if err != nil {
		return err
	}
	idx := questionIndex()
	out := []answerJSON{}
	for _, h := range hist {
		out = append(out, answerView(h, idx))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"answers": out})
}

func (a *api) articles(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	theme := r.URL.Query().Get("theme")
	out := []articleJSON{}
	if truthy(r.URL.Query().Get("for_me")) {
		recs, err := c.ForMe(r.Context(), s.Account, pid, theme)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			v := articleView(rec.Article)
			score, matched := rec.Score, rec.Matched
			v.Score, v.Matched = &score, &matched
			out = append(out, v)
		}
	} else {
		arts, err := c.Articles(r.Context(), s.Account, pid, theme)
		if err != nil {
			return err
		}
		for _, ar := range arts {
			out = append(out, articleView(ar))
		}
	}
	themes := []codeLabel{}
	for _, t := range advice.ThemeLabels {
		themes = append(themes, codeLabel{t.Code, t.Label})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"articles": out, "themes": themes})
}

// Vaccinations.

type vaccinationJSON struct {
	ID           int64  `json:"id"`
	Vaccine      string `json:"vaccine"`
	Date         string `json:"date"`
	Batch        string `json:"batch,omitempty"`
	Professional string `json:"professional,omitempty"`
	ItemCode     string `json:"item_code,omitempty"`
	Notes        string `json:"notes,omitempty"`
}

func vaccinationView(v *care.Vaccination) vaccinationJSON {
	return vaccinationJSON{ID: v.ID, Vaccine: v.Vaccine, Date: dateJSON(v.Date), Batch: v.Batch, Professional: v.Professional,
		ItemCode: v.ItemCode, Notes: v.Notes}
}

type vaccinationIn struct {
	Vaccine      *string `json:"vaccine"`
	Date         *string `json:"date"`
	Batch        *string `json:"batch"`
	Professional *string `json:"professional"`
	ItemCode     *string `json:"item_code"`
	Notes        *string `json:"notes"`
}

func (in vaccinationIn) apply(v *care.VaccinationInput) error {
	setIf(&v.Vaccine, in.Vaccine)
	setIf(&v.Batch, in.Batch)
	setIf(&v.Professional, in.Professional)
	setIf(&v.ItemCode, in.ItemCode)
	setIf(&v.Notes, in.Notes)
	if in.Date != nil {
		d, err := care.ParseDate("date", *in.Date)
		if err != nil {
			return err
		}
		v.Date = d
	}
	return nil
}

func (a *api) listVaccinations(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	vs, err := c.Vaccinations(r.Context(), s.Account, pid)
	if err != nil {
		return err
	}
	out := []vaccinationJSON{}
	for _, v := range vs {
		out = append(out, vaccinationView(v))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"vaccinations": out, "vaccines": c.VaccineNames()})
}

func (a *api) vaccinationCalendar(w http.ResponseWriter, r *http.Request, s *directory.Session, c *care.Store) error {
	pid, err := personID(r)
	if err != nil {
		return err
	}
	cal, err := c.VaccinationCalendar(r.Context(), s.Account, pid)
	if err != nil {
		return err
	}
	type doseJSON struct {
		Code             string     `json:"code"`
		Vaccine          string     `json:"vaccine"`
		Title            string     `json:"title"`
		Requirement      string     `json:"requirement"`
		RequirementLabel string     `json:"requirement_label"`
		Note             string     `json:"note,omitempty"`
		Item             *entryJSON `json:"item"`
	}
	type ageJSON struct {
		Label   string     `json:"label"`
		Entries []doseJSON `json:"entries"`
	}
	out := []ageJSON{}
	for _, ag := range cal {
		aj := ageJSON{Label: ag.Label, Entries: []doseJSON{}}
		for _, e := range ag.Entries {
			d := doseJSON{Code: e.Code, Vaccine: e.Vaccine, Title: e.Title, Requirement: string(e.Requirement), RequirementLabel: e.Requirement.Label(), Note: e.Note}
			if e.Item != nil {
				iv := entryView(*e.Item)
				d.Item = &iv
			}
			aj.Entries = append(aj.Entries, d)
		}
		out = append(out, aj)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"ages": out})
}

// Catalogue.

func (a *api) catalogue(w http.ResponseWriter, r *http.Request, _ *directory.Session, c *care.Store) error {
	svcs, err := c.Catalogue(r.URL.Query().Get("region"), r.URL.Query().Get("theme"))
	if err != nil {
		return err
	}
	type serviceJSON struct {
		ID       string      `json:"id"`
		Name     string      `json:"name"`
		Editor   string      `json:"editor"`
		Summary  string      `json:"summary"`
		URL      string      `json:"url"`
		National bool        `json:"national"`
		Themes   []codeLabel `json:"themes"`
		Regions  []codeLabel `json:"regions"`
	}
	labels := func(codes []string, list []catalogue.Entry) []codeLabel {
		out := []codeLabel{}
		for _, c := range codes {
			out = append(out, codeLabel{c, catalogue.Label(list, c)})
		}
		return out
	}
	out := []serviceJSON{}
	for _, sv := range svcs {
		out = append(out, serviceJSON{ID: sv.ID, Name: sv.Name, Editor: sv.Editor, Summary: sv.Summary, URL: sv.URL, National: sv.National(),
			Themes: labels(sv.Themes, catalogue.Themes), Regions: labels(sv.Regions, catalogue.Regions)})
	}
	entries := func(list []catalogue.Entry) []codeLabel {
		out := []codeLabel{}
		for _, e := range list {
			out = append(out, codeLabel{e.Code, e.Label})
		}
		return out
	}
	return writeJSON(w, http.StatusOK, map[string]any{"services": out, "regions": entries(catalogue.Regions), "themes": entries(catalogue.Themes)})
}
