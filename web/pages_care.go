package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/advice"
	"mssanted/dmp/care"
	"mssanted/dmp/catalogue"
	"mssanted/dmp/profile"
	"mssanted/dmp/schedule"
)

// The pages of the patient's space beyond documents (issue 9): Profil
// médical, Grossesse, Agenda, Prévention, Vaccinations, Catalogue de
// services. Each acts for the person chosen in the navigation; dmp/care
// and dmp/profile ask dmp.ActFor on every call, and decide.

func (p *pages) registerCare(mux *http.ServeMux) {
	mux.HandleFunc("GET /profil", p.auth(p.careOnly(p.profilePage)))
	mux.HandleFunc("POST /profil/mesures", p.auth(p.careOnly(p.profileMeasure)))
	mux.HandleFunc("POST /profil/synthese", p.auth(p.careOnly(p.profileSummary)))
	mux.HandleFunc("GET /grossesse", p.auth(p.careOnly(p.pregnancyPage)))
	mux.HandleFunc("POST /grossesse", p.auth(p.careOnly(p.pregnancyAdd)))
	mux.HandleFunc("POST /grossesse/{id}/accouchement", p.auth(p.careOnly(p.pregnancyEnd(true))))
	mux.HandleFunc("POST /grossesse/{id}/fin", p.auth(p.careOnly(p.pregnancyEnd(false))))
	mux.HandleFunc("GET /agenda", p.auth(p.careOnly(p.agendaPage)))
	mux.HandleFunc("POST /agenda/statut", p.auth(p.careOnly(p.agendaStatus)))
	mux.HandleFunc("POST /agenda/abonnement", p.auth(p.careOnly(p.agendaFeed(true))))
	mux.HandleFunc("POST /agenda/abonnement/supprimer", p.auth(p.careOnly(p.agendaFeed(false))))
	mux.HandleFunc("GET /prevention", p.auth(p.careOnly(p.preventionPage)))
	mux.HandleFunc("POST /prevention/reponses", p.auth(p.careOnly(p.preventionAnswers)))
	mux.HandleFunc("GET /vaccinations", p.auth(p.careOnly(p.vaccinationsPage)))
	mux.HandleFunc("POST /vaccinations", p.auth(p.careOnly(p.vaccinationAdd)))
	mux.HandleFunc("GET /catalogue", p.auth(p.careOnly(p.cataloguePage)))
	p.registerProfile(mux)
	p.registerSpace(mux)
}

// spaceHandler is a page of the space: the signed-in patient and the person
// acted for.
type spaceHandler func(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page)

// careOnly keeps the space's pages to patients of an instance with the
// care stores, and resolves the person acted for.
func (p *pages) careOnly(h spaceHandler) pageHandler {
	return func(w http.ResponseWriter, r *http.Request, s *websession) {
		if s.Account.Role != directory.Patient || p.o.Care == nil || p.o.Profile == nil || p.o.Docs == nil {
			p.notFound(w, r, s)
			return
		}
		pg := p.newPage(s, "", "")
		person, err := p.withPersons(r, s, &pg)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		h(w, r, s, person, pg)
	}
}

// careFail answers a refusal of dmp/care or dmp/profile.
func (p *pages) careFail(w http.ResponseWriter, r *http.Request, s *websession, err error) {
	p.docFail(w, r, s, err)
}

// careMessage is the French sentence of a refused input, or "" when err is
// not one.
func careMessage(err error) string {
	var fe *care.FieldError
	if errors.As(err, &fe) {
		return fe.Message
	}
	if errors.Is(err, dmp.ErrInvalid) || errors.Is(err, directory.ErrInvalid) {
		return docMessage(err)
	}
	return ""
}

func titled(pg page, title, nav string) page {
	pg.Title, pg.Nav = title, nav
	return pg
}

// whose is "de Léa" when acting for someone else.
func whose(pg page) string {
	if pg.PersonName != "" {
		return " de " + pg.PersonName
	}
	return ""
}

// formDate reads a date field (AAAA-MM-JJ from a date input, or JJ/MM/AAAA
// typed); zero when empty.
func formDate(r *http.Request, name string) (time.Time, bool) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return time.Time{}, true
	}
	t, err := parseFrDate(v)
	return t, err == nil
}

var careNotices = map[string]string{
	"grossesse":           "La grossesse est ajoutée : voici son calendrier mois par mois.",
	"accouchement":        "Félicitations ! La grossesse est terminée ; les rendez-vous après l'accouchement sont dans votre agenda.",
	"fin":                 "La grossesse est terminée.",
	"statut":              "Le statut est enregistré.",
	"reponses":            "Vos réponses sont enregistrées : vos conseils « Pour moi » en tiennent compte.",
	"vaccination":         "La vaccination est ajoutée à votre carnet.",
	"mesure":              "La mesure est enregistrée.",
	"abonnement-supprime": "Le lien d'abonnement est supprimé : les calendriers abonnés ne reçoivent plus votre agenda.",
}

// --- Grossesse

type pregnancyPageView struct {
	*care.Pregnancy
	Calendar  *care.PregnancyCalendar
	CanBirth  bool
	BirthFrom time.Time
}

type pregnancyData struct {
	page
	Whose   string
	Ongoing *pregnancyPageView
	Past    []*care.Pregnancy
	Today   string
}

func (p *pages) pregnancyPage(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	p.renderPregnancy(w, r, s, person, pg, http.StatusOK, "")
}

func (p *pages) renderPregnancy(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page, status int, errMsg string) {
	ctx := r.Context()
	d := pregnancyData{page: titled(pg, "Grossesse", "profil"), Whose: whose(pg), Today: p.o.Care.Today().Format(time.DateOnly)}
	d.Error = errMsg
	if errMsg == "" {
		d.Notice = careNotices[r.URL.Query().Get("ok")]
	}
	ps, err := p.o.Care.Pregnancies(ctx, s.Account, person.ID)
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	today := p.o.Care.Today()
	for _, x := range ps {
		if x.Ongoing() && d.Ongoing == nil {
			cal, err := p.o.Care.PregnancyCalendar(ctx, s.Account, person.ID, x.ID)
			if err != nil {
				p.careFail(w, r, s, err)
				return
			}
			d.Ongoing = &pregnancyPageView{Pregnancy: x, Calendar: cal, CanBirth: x.CanDeclareBirth(today), BirthFrom: x.BirthFrom()}
			continue
		}
		d.Past = append(d.Past, x)
	}
	p.render(w, r, status, "pregnancy", d)
}

func (p *pages) pregnancyAdd(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	start, ok := formDate(r, "debut")
	if !ok || start.IsZero() {
		p.renderPregnancy(w, r, s, person, pg, http.StatusBadRequest, "Saisissez la date de début de grossesse (JJ/MM/AAAA).")
		return
	}
	_, err := p.o.Care.AddPregnancy(r.Context(), s.Account, person.ID, start)
	if msg := careMessage(err); msg != "" {
		p.renderPregnancy(w, r, s, person, pg, http.StatusBadRequest, msg)
		return
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/grossesse?ok=grossesse", http.StatusSeeOther)
}

// pregnancyEnd is "J'ai accouché" (birth) or "Je ne suis plus enceinte",
// each with its required date.
func (p *pages) pregnancyEnd(birth bool) spaceHandler {
	return func(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			p.notFound(w, r, s)
			return
		}
		day, ok := formDate(r, "date")
		if !ok || day.IsZero() {
			msg := "Saisissez la date de fin de grossesse (JJ/MM/AAAA)."
			if birth {
				msg = "Saisissez la date de l'accouchement (JJ/MM/AAAA)."
			}
			p.renderPregnancy(w, r, s, person, pg, http.StatusBadRequest, msg)
			return
		}
		next := "fin"
		if birth {
			next = "accouchement"
			_, err = p.o.Care.DeclareBirth(r.Context(), s.Account, person.ID, id, day)
		} else {
			_, err = p.o.Care.EndPregnancy(r.Context(), s.Account, person.ID, id, day)
		}
		if msg := careMessage(err); msg != "" {
			p.renderPregnancy(w, r, s, person, pg, http.StatusBadRequest, msg)
			return
		}
		if err != nil {
			p.careFail(w, r, s, err)
			return
		}
		http.Redirect(w, r, "/grossesse?ok="+next, http.StatusSeeOther)
	}
}

// --- Agenda

type filterOption struct {
	Code, Label string
	On          bool
}

type agendaData struct {
	page
	Whose    string
	All      bool
	Entries  []care.Entry
	Types    []filterOption
	Statuses []filterOption
	Filtered bool
	Feed     care.Feed
	FeedURL  string // shown once, after its creation
	Webcal   string
	Today    string
	Query    string // the filters, to come back to
}

var agendaStatuses = []schedule.Status{schedule.ToPlan, schedule.NotSpecified, schedule.Done, schedule.NotDone}

func (p *pages) agendaPage(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	p.renderAgenda(w, r, s, person, pg, http.StatusOK, "", "")
}

func (p *pages) renderAgenda(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page, status int, errMsg, feedToken string) {
	ctx := r.Context()
	v := r.URL.Query()
	d := agendaData{page: titled(pg, "Agenda", "agenda"), Whose: whose(pg), All: v.Get("tous") == "1", Today: p.o.Care.Today().Format(time.DateOnly)}
	d.Error = errMsg
	if errMsg == "" {
		d.Notice = careNotices[v.Get("ok")]
	}
	q := care.AgendaQuery{All: d.All}
	types := map[string]bool{}
	for _, t := range v["type"] {
		types[t] = true
	}
	for _, t := range care.Types {
		if types[t] {
			q.Types = append(q.Types, t)
		}
		d.Types = append(d.Types, filterOption{t, care.TypeLabel(t), types[t]})
	}
	statuses := map[string]bool{}
	for _, st := range v["statut"] {
		statuses[st] = true
	}
	for _, st := range agendaStatuses {
		if statuses[string(st)] {
			q.Statuses = append(q.Statuses, st)
		}
		d.Statuses = append(d.Statuses, filterOption{string(st), st.Label(), statuses[string(st)]})
	}
	d.Filtered = len(q.Types) > 0 || len(q.Statuses) > 0
	d.Query = r.URL.RawQuery
	es, err := p.o.Care.Agenda(ctx, s.Account, person.ID, q)
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	d.Entries = es
	if d.Feed, err = p.o.Care.FeedState(ctx, s.Account, person.ID); err != nil {
		p.careFail(w, r, s, err)
		return
	}
	if feedToken != "" {
		host := r.Host
		d.FeedURL = "https://" + host + "/ical/" + feedToken + ".ics"
		d.Webcal = "webcal://" + host + "/ical/" + feedToken + ".ics"
	}
	p.render(w, r, status, "agenda", d)
}

// agendaStatus marks an item done (with its date) or not done, or clears
// what was said.
func (p *pages) agendaStatus(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	back := "/agenda"
	if q := r.PostFormValue("filtres"); q != "" {
		if _, err := url.ParseQuery(q); err == nil {
			back += "?" + q
		}
	}
	code := r.PostFormValue("element")
	st := schedule.Status(r.PostFormValue("statut"))
	day, ok := formDate(r, "date")
	if !ok {
		p.renderAgenda(w, r, s, person, pg, http.StatusBadRequest, "Date invalide : saisissez-la au format JJ/MM/AAAA.", "")
		return
	}
	if st != schedule.Done {
		day = time.Time{}
	}
	_, err := p.o.Care.SetItemStatus(r.Context(), s.Account, person.ID, code, st, day)
	if msg := careMessage(err); msg != "" {
		p.renderAgenda(w, r, s, person, pg, http.StatusBadRequest, msg, "")
		return
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	http.Redirect(w, r, back+sep+"ok=statut#"+url.PathEscape("item-"+code), http.StatusSeeOther)
}

// agendaFeed creates (and shows once) or revokes the .ics feed.
func (p *pages) agendaFeed(create bool) spaceHandler {
	return func(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
		if !create {
			if err := p.o.Care.DeleteFeed(r.Context(), s.Account, person.ID); err != nil {
				p.careFail(w, r, s, err)
				return
			}
			http.Redirect(w, r, "/agenda?ok=abonnement-supprime", http.StatusSeeOther)
			return
		}
		token, err := p.o.Care.CreateFeed(r.Context(), s.Account, person.ID)
		if err != nil {
			p.careFail(w, r, s, err)
			return
		}
		pg.Notice = "Votre lien d'abonnement est prêt : copiez-le dans votre application d'agenda. Il ne sera plus affiché."
		r.URL.RawQuery = ""
		p.renderAgenda(w, r, s, person, pg, http.StatusOK, "", token)
	}
}

// --- Prévention

type questionPageView struct {
	advice.Question
	Answer *care.AnswerRecord
}

type themePageView struct {
	Code, Label string
	Questions   []questionPageView
	Complete    bool
}

type preventionData struct {
	page
	Whose     string
	Soon      []care.Entry
	Form      *themePageView // the theme proposed (the next one, or the one asked)
	Themes    []themePageView
	ForMe     []advice.Recommendation
	Theme     string
	ThemeList []advice.Choice
}

func (p *pages) preventionPage(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	p.renderPrevention(w, r, s, person, pg, http.StatusOK, "")
}

func (p *pages) renderPrevention(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page, status int, errMsg string) {
	ctx := r.Context()
	v := r.URL.Query()
	d := preventionData{page: titled(pg, "Prévention", "prevention"), Whose: whose(pg), Theme: v.Get("articles"), ThemeList: advice.ThemeLabels}
	d.Error = errMsg
	if errMsg == "" {
		d.Notice = careNotices[v.Get("ok")]
	}
	var err error
	if d.Soon, err = p.o.Care.Soon(ctx, s.Account, person.ID, 183*24*time.Hour); err != nil {
		p.careFail(w, r, s, err)
		return
	}
	qn, err := p.o.Care.Questionnaire(ctx, s.Account, person.ID)
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	asked := v.Get("questionnaire")
	for _, th := range qn.Themes {
		tv := themePageView{Code: th.Code, Label: th.Label, Complete: th.Complete}
		for _, q := range th.Questions {
			qv := questionPageView{Question: q}
			if a, ok := th.Answers[q.Code]; ok {
				a := a
				qv.Answer = &a
			}
			tv.Questions = append(tv.Questions, qv)
		}
		d.Themes = append(d.Themes, tv)
	}
	for i := range d.Themes {
		if (asked != "" && d.Themes[i].Code == asked) || (asked == "" && qn.Next != nil && d.Themes[i].Code == qn.Next.Code) {
			d.Form = &d.Themes[i]
		}
	}
	if d.ForMe, err = p.o.Care.ForMe(ctx, s.Account, person.ID, d.Theme); err != nil {
		if msg := careMessage(err); msg != "" {
			d.Theme = ""
			d.ForMe, err = p.o.Care.ForMe(ctx, s.Account, person.ID, "")
		}
		if err != nil {
			p.careFail(w, r, s, err)
			return
		}
	}
	if len(d.ForMe) > 8 {
		d.ForMe = d.ForMe[:8]
	}
	p.render(w, r, status, "prevention", d)
}

// preventionAnswers records the answers of one theme, dated today.
func (p *pages) preventionAnswers(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	values := map[string]string{}
	for k, vs := range r.PostForm {
		if strings.HasPrefix(k, "q_") && len(vs) > 0 && vs[0] != "" {
			values[strings.TrimPrefix(k, "q_")] = vs[0]
		}
	}
	if len(values) == 0 {
		p.renderPrevention(w, r, s, person, pg, http.StatusBadRequest, "Choisissez au moins une réponse.")
		return
	}
	err := p.o.Care.SaveAnswers(r.Context(), s.Account, person.ID, values, time.Time{})
	if msg := careMessage(err); msg != "" {
		p.renderPrevention(w, r, s, person, pg, http.StatusBadRequest, msg)
		return
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/prevention?ok=reponses#pour-moi", http.StatusSeeOther)
}

// --- Vaccinations

type vaccinationsData struct {
	page
	Whose    string
	Calendar []care.CalendarAge
	Record   []*care.Vaccination
	Vaccines []string
	Today    string
}

func (p *pages) vaccinationsPage(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	p.renderVaccinations(w, r, s, person, pg, http.StatusOK, "")
}

func (p *pages) renderVaccinations(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page, status int, errMsg string) {
	ctx := r.Context()
	d := vaccinationsData{page: titled(pg, "Vaccinations", "prevention"), Whose: whose(pg), Vaccines: p.o.Care.VaccineNames(), Today: p.o.Care.Today().Format(time.DateOnly)}
	d.Error = errMsg
	if errMsg == "" {
		d.Notice = careNotices[r.URL.Query().Get("ok")]
	}
	var err error
	if d.Calendar, err = p.o.Care.VaccinationCalendar(ctx, s.Account, person.ID); err != nil {
		p.careFail(w, r, s, err)
		return
	}
	if d.Record, err = p.o.Care.Vaccinations(ctx, s.Account, person.ID); err != nil {
		p.careFail(w, r, s, err)
		return
	}
	p.render(w, r, status, "vaccinations", d)
}

func (p *pages) vaccinationAdd(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	day, ok := formDate(r, "date")
	if !ok {
		p.renderVaccinations(w, r, s, person, pg, http.StatusBadRequest, "Date invalide : saisissez-la au format JJ/MM/AAAA.")
		return
	}
	_, err := p.o.Care.AddVaccination(r.Context(), s.Account, person.ID, care.VaccinationInput{
		Vaccine: strings.TrimSpace(r.PostFormValue("vaccin")), Date: day, Batch: strings.TrimSpace(r.PostFormValue("lot")),
		Professional: strings.TrimSpace(r.PostFormValue("vaccinateur")), Notes: strings.TrimSpace(r.PostFormValue("notes"))})
	if msg := careMessage(err); msg != "" {
		p.renderVaccinations(w, r, s, person, pg, http.StatusBadRequest, msg)
		return
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/vaccinations?ok=vaccination", http.StatusSeeOther)
}

// --- Catalogue de services

type catalogueData struct {
	page
	Region, Theme string
	Regions       []catalogue.Entry
	Themes        []catalogue.Entry
	Services      []servicePageView
}

type servicePageView struct {
	catalogue.Service
	ThemeLabels []string
	Where       string
}

func (p *pages) cataloguePage(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	v := r.URL.Query()
	d := catalogueData{page: titled(pg, "Catalogue de services", "catalogue"), Region: v.Get("region"), Theme: v.Get("theme"),
		Regions: catalogue.Regions, Themes: catalogue.Themes}
	status := http.StatusOK
	ss, err := p.o.Care.Catalogue(d.Region, d.Theme)
	if err != nil {
		d.Error = "Région ou thème inconnu : tous les services sont affichés."
		d.Region, d.Theme, status = "", "", http.StatusBadRequest
		if ss, err = p.o.Care.Catalogue("", ""); err != nil {
			p.fail(w, r, s, err)
			return
		}
	}
	for _, sv := range ss {
		x := servicePageView{Service: sv, Where: "Toute la France"}
		for _, t := range sv.Themes {
			x.ThemeLabels = append(x.ThemeLabels, catalogue.Label(catalogue.Themes, t))
		}
		if !sv.National() {
			var names []string
			for _, rg := range sv.Regions {
				names = append(names, catalogue.Label(catalogue.Regions, rg))
			}
			x.Where = strings.Join(names, ", ")
		}
		d.Services = append(d.Services, x)
	}
	p.render(w, r, status, "catalogue", d)
}

// --- Profil médical

type profileSectionPage struct {
	Code    profile.Section
	Title   string
	Add     string
	Entries []profileEntryPage
}

type profileEntryPage struct {
	ID    int64
	Title string
	Meta  []string
}

type profileData struct {
	page
	Whose           string
	Sections        []profileSectionPage
	Characteristics profile.Characteristics
	BloodGroups     []string
	Donation        profile.OrganDonation
	Directives      *profile.Directives
	Adult           bool
	Measures        *profile.MeasureOverview
	Specs           []profile.MeasureSpec
	Today           string
}

func (p *pages) profilePage(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	p.renderProfile(w, r, s, person, pg, http.StatusOK, "")
}

func (p *pages) renderProfile(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page, status int, errMsg string) {
	pr, err := p.o.Profile.Get(r.Context(), s.Account, person.ID)
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	d := profileData{page: titled(pg, "Profil médical", "profil"), Whose: whose(pg), Measures: pr.Measures, Specs: profile.MeasureSpecs,
		Today: p.o.Care.Today().Format(time.DateOnly), Characteristics: pr.Characteristics, BloodGroups: bloodGroupOptions,
		Donation: pr.OrganDonation, Directives: pr.Directives}
	d.Adult, _ = p.adultNow(person)
	d.Error = errMsg
	if errMsg == "" {
		d.Notice = careNotices[r.URL.Query().Get("ok")]
		if d.Notice == "" {
			d.Notice = profileNotices[r.URL.Query().Get("ok")]
		}
	}
	for _, sec := range profile.Sections {
		sv := profileSectionPage{Code: sec, Title: sec.Title(), Add: sectionAdd[sec]}
		for _, e := range pr.Sections[sec] {
			sv.Entries = append(sv.Entries, profileEntryOf(e))
		}
		d.Sections = append(d.Sections, sv)
	}
	p.render(w, r, status, "profile", d)
}

func (p *pages) profileMeasure(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	day, ok := formDate(r, "date")
	if !ok {
		p.renderProfile(w, r, s, person, pg, http.StatusBadRequest, "Date invalide : saisissez-la au format JJ/MM/AAAA.")
		return
	}
	num := func(name string) (float64, bool) {
		v := strings.Replace(strings.TrimSpace(r.PostFormValue(name)), ",", ".", 1)
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	val, ok := num("valeur")
	if !ok {
		p.renderProfile(w, r, s, person, pg, http.StatusBadRequest, "Saisissez la valeur de la mesure, par exemple 72,5.")
		return
	}
	n := profile.NewMeasure{Code: r.PostFormValue("mesure"), Value: val, Date: day, Comment: strings.TrimSpace(r.PostFormValue("commentaire"))}
	if dia, ok := num("valeur2"); ok {
		n.Diastolic = &dia
	}
	_, err := p.o.Profile.AddMeasure(r.Context(), s.Account, person.ID, n)
	if msg := careMessage(err); msg != "" {
		p.renderProfile(w, r, s, person, pg, http.StatusBadRequest, msg)
		return
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/profil?ok=mesure#mesures", http.StatusSeeOther)
}

// profileSummary is "Générer ma synthèse": a document of the library,
// which professionals may read under the matrix.
func (p *pages) profileSummary(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	doc, err := p.o.Profile.GenerateSummary(r.Context(), s.Account, person.ID)
	if msg := careMessage(err); msg != "" {
		p.renderProfile(w, r, s, person, pg, http.StatusBadRequest, msg)
		return
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/documents/%d?ok=synthese", doc.ID), http.StatusSeeOther)
}
