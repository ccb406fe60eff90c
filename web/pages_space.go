package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mssanted/directory"
	"mssanted/dmp/advice"
	"mssanted/dmp/care"
)

// The rest of the space's forms: the agenda's own events (appointments,
// reminders), the article library by theme, a dose of the vaccination
// record edited or deleted, a pregnancy entered by mistake deleted.
// dmp/care decides and validates; its FieldError names the field.

func (p *pages) registerSpace(mux *http.ServeMux) {
	mux.HandleFunc("GET /agenda/evenement/nouveau", p.auth(p.careOnly(p.eventForm)))
	mux.HandleFunc("POST /agenda/evenement", p.auth(p.careOnly(p.eventSave)))
	mux.HandleFunc("GET /agenda/evenement/{id}", p.auth(p.careOnly(p.eventForm)))
	mux.HandleFunc("POST /agenda/evenement/{id}", p.auth(p.careOnly(p.eventSave)))
	mux.HandleFunc("POST /agenda/evenement/{id}/supprimer", p.auth(p.careOnly(p.eventDelete)))
	mux.HandleFunc("GET /prevention/articles", p.auth(p.careOnly(p.articlesPage)))
	mux.HandleFunc("GET /vaccinations/{id}", p.auth(p.careOnly(p.vaccinationForm)))
	mux.HandleFunc("POST /vaccinations/{id}", p.auth(p.careOnly(p.vaccinationSave)))
	mux.HandleFunc("POST /vaccinations/{id}/supprimer", p.auth(p.careOnly(p.vaccinationDelete)))
	mux.HandleFunc("POST /grossesse/{id}/supprimer", p.auth(p.careOnly(p.pregnancyDelete)))
}

func init() {
	careNotices["evenement"] = "L'événement est ajouté à l'agenda."
	careNotices["evenement-modifie"] = "L'événement est modifié."
	careNotices["evenement-supprime"] = "L'événement est supprimé de l'agenda."
	careNotices["vaccination-modifiee"] = "La vaccination est modifiée."
	careNotices["vaccination-supprimee"] = "La vaccination est supprimée de votre carnet."
	careNotices["grossesse-supprimee"] = "La grossesse est supprimée."
}

func pageID(r *http.Request) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return n, err == nil && n > 0
}

// fieldMessage splits a refusal of dmp/care into its field and sentence.
func fieldMessage(err error) (field, msg string) {
	var fe *care.FieldError
	if errors.As(err, &fe) {
		return fe.Field, fe.Message
	}
	return "", careMessage(err)
}

// --- Agenda: the person's own events

type eventFormData struct {
	page
	Whose  string
	ID     int64
	In     eventFormValues
	Errors map[string]string
}

type eventFormValues struct {
	Kind, Title, Date, Time, WithType, With, Speciality, Address, Notes string
}

func (p *pages) eventForm(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	var id int64
	in := eventFormValues{Kind: care.TypeAppointment}
	if r.PathValue("id") != "" {
		var ok bool
		if id, ok = pageID(r); !ok {
			p.notFound(w, r, s)
			return
		}
		e, err := p.o.Care.Event(r.Context(), s.Account, person.ID, id)
		if err != nil {
			p.careFail(w, r, s, err)
			return
		}
		in = eventFormValues{Kind: e.Kind, Title: e.Title, Date: e.Date.Format(time.DateOnly), Time: e.Time, WithType: e.WithType, With: e.With,
			Speciality: e.Speciality, Address: e.Address, Notes: e.Notes}
	} else if k := r.URL.Query().Get("type"); k == care.TypeReminder {
		in.Kind = k
	}
	p.renderEventForm(w, r, pg, http.StatusOK, id, in, nil)
}

func (p *pages) renderEventForm(w http.ResponseWriter, r *http.Request, pg page, status int, id int64, in eventFormValues, errs map[string]string) {
	title := "Ajouter un événement"
	if id != 0 {
		title = "Modifier un événement"
	}
	d := eventFormData{page: titled(pg, title, "agenda"), Whose: whose(pg), ID: id, In: in, Errors: errs}
	p.render(w, r, status, "event", d)
}

func (p *pages) eventSave(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	var id int64
	if r.PathValue("id") != "" {
		var ok bool
		if id, ok = pageID(r); !ok {
			p.notFound(w, r, s)
			return
		}
	}
	v := func(n string) string { return strings.TrimSpace(r.PostFormValue(n)) }
	in := eventFormValues{Kind: v("type"), Title: v("titre"), Date: v("date"), Time: v("heure"), WithType: v("avec_type"), With: v("avec"),
		Speciality: v("specialite"), Address: v("adresse"), Notes: v("notes")}
	day, ok := formDate(r, "date")
	if !ok {
		p.renderEventForm(w, r, pg, http.StatusBadRequest, id, in, map[string]string{"date": "Date invalide : saisissez-la au format JJ/MM/AAAA."})
		return
	}
	input := care.EventInput{Kind: in.Kind, Title: in.Title, Date: day, Time: in.Time, WithType: in.WithType, With: in.With,
		Speciality: in.Speciality, Address: in.Address, Notes: in.Notes}
	var err error
	if id == 0 {
		_, err = p.o.Care.AddEvent(r.Context(), s.Account, person.ID, input)
	} else {
		_, err = p.o.Care.UpdateEvent(r.Context(), s.Account, person.ID, id, input)
	}
	if field, msg := fieldMessage(err); msg != "" {
		if field == "" {
			field = "titre"
		}
		p.renderEventForm(w, r, pg, http.StatusBadRequest, id, in, map[string]string{field: msg})
		return
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	ok2 := "evenement"
	if id != 0 {
		ok2 = "evenement-modifie"
	}
	next := "/agenda?ok=" + ok2
	if !day.IsZero() && day.Before(p.o.Care.Today()) {
		next = "/agenda?tous=1&ok=" + ok2 // a past event is under "Tous"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *pages) eventDelete(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	id, ok := pageID(r)
	if !ok {
		p.notFound(w, r, s)
		return
	}
	if r.PostFormValue("confirme") != "oui" {
		e, err := p.o.Care.Event(r.Context(), s.Account, person.ID, id)
		if err != nil {
			p.careFail(w, r, s, err)
			return
		}
		p.confirm(w, r, pg, confirmPageData{Question: "Supprimer cet événement ?", Detail: e.Title + " · le " + frDay(e.Date),
			Action: fmt.Sprintf("/agenda/evenement/%d/supprimer", id), Button: "Supprimer l'événement", Cancel: fmt.Sprintf("/agenda/evenement/%d", id)})
		return
	}
	if err := p.o.Care.DeleteEvent(r.Context(), s.Account, person.ID, id); err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/agenda?ok=evenement-supprime", http.StatusSeeOther)
}

// --- Prévention: the whole library, by theme

type articleTheme struct {
	Code, Label string
	Articles    []advice.Article
}

type articlesData struct {
	page
	Whose     string
	Theme     string
	ThemeList []advice.Choice
	Themes    []articleTheme
	Count     int
}

func (p *pages) articlesPage(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	d := articlesData{page: titled(pg, "Tous les articles", "prevention"), Whose: whose(pg), Theme: r.URL.Query().Get("theme"), ThemeList: advice.ThemeLabels}
	status := http.StatusOK
	as, err := p.o.Care.Articles(r.Context(), s.Account, person.ID, d.Theme)
	if msg := careMessage(err); msg != "" {
		d.Error, d.Theme, status = msg, "", http.StatusBadRequest
		as, err = p.o.Care.Articles(r.Context(), s.Account, person.ID, "")
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	d.Count = len(as)
	for _, th := range advice.ThemeLabels {
		t := articleTheme{Code: th.Code, Label: th.Label}
		for _, a := range as {
			if a.Theme == th.Code {
				t.Articles = append(t.Articles, a)
			}
		}
		if len(t.Articles) > 0 {
			d.Themes = append(d.Themes, t)
		}
	}
	p.render(w, r, status, "articles", d)
}

// --- Vaccinations: a dose edited or deleted

type vaccinationFormData struct {
	page
	Whose    string
	ID       int64
	Vaccine  string
	Date     string
	Batch    string
	By       string
	Notes    string
	Vaccines []string
	Today    string
	Errors   map[string]string
}

func (p *pages) vaccinationForm(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	id, ok := pageID(r)
	if !ok {
		p.notFound(w, r, s)
		return
	}
	v, err := p.o.Care.Vaccination(r.Context(), s.Account, person.ID, id)
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	p.render(w, r, http.StatusOK, "vaccination", vaccinationFormData{page: titled(pg, "Modifier une vaccination", "prevention"), Whose: whose(pg), ID: id,
		Vaccine: v.Vaccine, Date: v.Date.Format(time.DateOnly), Batch: v.Batch, By: v.Professional, Notes: v.Notes,
		Vaccines: p.o.Care.VaccineNames(), Today: p.o.Care.Today().Format(time.DateOnly)})
}

func (p *pages) vaccinationSave(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	id, ok := pageID(r)
	if !ok {
		p.notFound(w, r, s)
		return
	}
	v := func(n string) string { return strings.TrimSpace(r.PostFormValue(n)) }
	d := vaccinationFormData{page: titled(pg, "Modifier une vaccination", "prevention"), Whose: whose(pg), ID: id, Vaccine: v("vaccin"), Date: v("date"),
		Batch: v("lot"), By: v("vaccinateur"), Notes: v("notes"), Vaccines: p.o.Care.VaccineNames(), Today: p.o.Care.Today().Format(time.DateOnly)}
	day, ok := formDate(r, "date")
	if !ok {
		d.Errors = map[string]string{"date": "Date invalide : saisissez-la au format JJ/MM/AAAA."}
		d.Error = d.Errors["date"]
		p.render(w, r, http.StatusBadRequest, "vaccination", d)
		return
	}
	_, err := p.o.Care.UpdateVaccination(r.Context(), s.Account, person.ID, id, care.VaccinationInput{Vaccine: d.Vaccine, Date: day, Batch: d.Batch,
		Professional: d.By, Notes: d.Notes})
	if field, msg := fieldMessage(err); msg != "" {
		d.Errors = map[string]string{field: msg}
		d.Error = msg
		p.render(w, r, http.StatusBadRequest, "vaccination", d)
		return
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/vaccinations?ok=vaccination-modifiee", http.StatusSeeOther)
}

func (p *pages) vaccinationDelete(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	id, ok := pageID(r)
	if !ok {
		p.notFound(w, r, s)
		return
	}
	if r.PostFormValue("confirme") != "oui" {
		v, err := p.o.Care.Vaccination(r.Context(), s.Account, person.ID, id)
		if err != nil {
			p.careFail(w, r, s, err)
			return
		}
		p.confirm(w, r, pg, confirmPageData{Question: "Supprimer cette vaccination ?", Detail: v.Vaccine + " · le " + frDay(v.Date),
			Action: fmt.Sprintf("/vaccinations/%d/supprimer", id), Button: "Supprimer la vaccination", Cancel: "/vaccinations"})
		return
	}
	if err := p.o.Care.DeleteVaccination(r.Context(), s.Account, person.ID, id); err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/vaccinations?ok=vaccination-supprimee", http.StatusSeeOther)
}

// --- Grossesse saisie par erreur

func (p *pages) pregnancyDelete(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	id, ok := pageID(r)
	if !ok {
		p.notFound(w, r, s)
		return
	}
	if r.PostFormValue("confirme") != "oui" {
		x, err := p.o.Care.Pregnancy(r.Context(), s.Account, person.ID, id)
		if err != nil {
			p.careFail(w, r, s, err)
			return
		}
		p.confirm(w, r, pg, confirmPageData{Question: "Supprimer cette grossesse ?",
			Detail: "Grossesse commencée le " + frDay(x.Start) + ". À faire seulement si elle a été saisie par erreur : son calendrier et les statuts de ses examens sont effacés.",
			Action: fmt.Sprintf("/grossesse/%d/supprimer", id), Button: "Supprimer la grossesse", Cancel: "/grossesse"})
		return
	}
	if err := p.o.Care.DeletePregnancy(r.Context(), s.Account, person.ID, id); err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/grossesse?ok=grossesse-supprimee", http.StatusSeeOther)
}
