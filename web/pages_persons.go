package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"time"

	"mssanted/directory"
	"mssanted/dmp"
)

// The person acted for: a patient who represents someone (a child) picks
// them in the navigation; the choice is a plain cookie holding an id, and
// every use of it goes through dmp's ActFor, which decides. A choice that
// no longer holds (a representation ended) falls back to the patient.

const personCookie = "mss_personne"

// withPersons fills the person chooser of pg and returns the account of the
// person acted for (the patient themself by default).
func (p *pages) withPersons(r *http.Request, s *websession, pg *page) (*directory.Account, error) {
	if s.Account.Role != directory.Patient || p.o.Docs == nil {
		return s.Account, nil
	}
	ps, err := p.o.Docs.Persons(r.Context(), s.Account)
	if err != nil {
		return nil, err
	}
	acted := s.Account
	if c, err := r.Cookie(personCookie); err == nil {
		if id, err := strconv.ParseInt(c.Value, 10, 64); err == nil && id != s.Account.ID {
			a, err := p.o.Docs.ActFor(r.Context(), s.Account, id)
			switch {
			case err == nil:
				acted = a
			case errors.Is(err, dmp.ErrForbidden), errors.Is(err, directory.ErrNotFound):
			default:
				return nil, err
			}
		}
	}
	if r.Method == http.MethodGet {
		pg.Path = r.URL.RequestURI()
	}
	if len(ps) > 1 {
		pg.Persons = ps
	}
	pg.PersonID = acted.ID
	if acted.ID != s.Account.ID {
		pg.PersonName = acted.DisplayName
	}
	return acted, nil
}

// choosePerson sets the person acted for, after dmp agrees.
func (p *pages) choosePerson(w http.ResponseWriter, r *http.Request, s *websession) {
	if p.o.Docs == nil || s.Account.Role != directory.Patient {
		p.notFound(w, r, s)
		return
	}
	id, err := strconv.ParseInt(r.PostFormValue("personne"), 10, 64)
	if err != nil {
		p.notFound(w, r, s)
		return
	}
	a, err := p.o.Docs.ActFor(r.Context(), s.Account, id)
	if err != nil {
		p.docFail(w, r, s, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: personCookie, Value: strconv.FormatInt(a.ID, 10), Path: "/",
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	next := safeNext(r.PostFormValue("retour"))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// --- Mes proches: the persons the patient represents, a child added, a
// second legal representative invited, an invitation accepted. dmp decides
// who represents whom.

func (p *pages) registerPersons(mux *http.ServeMux) {
	mux.HandleFunc("GET /proches", p.auth(p.personsPage))
	mux.HandleFunc("POST /proches/enfant", p.auth(p.childAdd))
	mux.HandleFunc("POST /proches/{id}/inviter", p.auth(p.representativeInvite))
	mux.HandleFunc("POST /proches/{id}/accepter", p.auth(p.invitationAccept))
}

var personsNotices = map[string]string{
	"enfant":  "L'espace de l'enfant est ouvert : choisissez-le dans « Espace affiché » pour agir pour lui.",
	"invite":  "L'invitation est envoyée : le second représentant légal l'accepte depuis sa page « Mes proches ».",
	"accepte": "Vous représentez désormais cette personne : choisissez-la dans « Espace affiché ».",
}

type childForm struct {
	Name, INS, BirthDate, Sex string
}

type personsData struct {
	page
	Self        *dmp.Person
	Represented []dmp.Person
	Invitations []dmp.Person
	Child       childForm
	Errors      map[string]string
	InviteFor   int64 // the person whose invitation form was refused
	Invite      string
	Today       string
}

func (p *pages) personsOnly(w http.ResponseWriter, r *http.Request, s *websession) bool {
	if s.Account.Role != directory.Patient || p.o.Docs == nil {
		p.notFound(w, r, s)
		return false
	}
	return true
}

func (p *pages) personsPage(w http.ResponseWriter, r *http.Request, s *websession) {
	if !p.personsOnly(w, r, s) {
		return
	}
	p.renderPersons(w, r, s, http.StatusOK, personsData{})
}

func (p *pages) renderPersons(w http.ResponseWriter, r *http.Request, s *websession, status int, d personsData) {
	d.page = p.newPage(s, "Mes proches", "proches")
	if _, err := p.withPersons(r, s, &d.page); err != nil {
		p.fail(w, r, s, err)
		return
	}
	d.Today = time.Now().In(paris).Format(time.DateOnly)
	if d.Errors == nil {
		d.Notice = personsNotices[r.URL.Query().Get("ok")]
	} else {
		for _, m := range d.Errors {
			d.Error = m
		}
	}
	ps, err := p.o.Docs.Persons(r.Context(), s.Account)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	for i := range ps {
		if ps[i].Self {
			d.Self = &ps[i]
		} else {
			d.Represented = append(d.Represented, ps[i])
		}
	}
	if d.Invitations, err = p.o.Docs.Invitations(r.Context(), s.Account); err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, status, "persons", d)
}

func (p *pages) childAdd(w http.ResponseWriter, r *http.Request, s *websession) {
	if !p.personsOnly(w, r, s) {
		return
	}
	v := func(n string) string { return strings.TrimSpace(r.PostFormValue(n)) }
	c := childForm{Name: v("nom"), INS: strings.ToUpper(strings.ReplaceAll(v("ins"), " ", "")), BirthDate: v("naissance"), Sex: v("sexe")}
	refuse := func(field, msg string) {
		p.renderPersons(w, r, s, http.StatusBadRequest, personsData{Child: c, Errors: map[string]string{field: msg}})
	}
	bd, ok := formDate(r, "naissance")
	switch {
	case c.Name == "":
		refuse("nom", "Saisissez le prénom et le nom de l'enfant.")
		return
	case directory.ValidINS(c.INS) != nil:
		refuse("ins", "Numéro INS invalide : les 15 caractères de la carte Vitale ou de l'attestation de droits (13 chiffres et la clé).")
		return
	case !ok || bd.IsZero():
		refuse("naissance", "Saisissez la date de naissance (JJ/MM/AAAA).")
		return
	case c.Sex != "F" && c.Sex != "M":
		refuse("sexe", "Choisissez le sexe de l'enfant.")
		return
	}
	_, err := p.o.Docs.AddChild(r.Context(), s.Account, dmp.NewChild{Name: c.Name, INS: c.INS, BirthDate: bd, Sex: c.Sex})
	switch {
	case errors.Is(err, directory.ErrExists) || err != nil && strings.Contains(err.Error(), directory.ErrExists.Error()):
		// dmp wraps the directory's refusal as text
		refuse("ins", "Un espace existe déjà pour ce numéro INS. Si c'est celui de votre enfant, demandez à son autre représentant légal de vous inviter.")
		return
	case errors.Is(err, dmp.ErrInvalid) && strings.Contains(err.Error(), " / "):
		refuse("naissance", docMessage(err))
		return
	case errors.Is(err, dmp.ErrInvalid):
		refuse("ins", "Ces informations sont refusées : vérifiez le numéro INS, la date de naissance et le sexe.")
		return
	case err != nil:
		p.docFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/proches?ok=enfant", http.StatusSeeOther)
}

func (p *pages) representativeInvite(w http.ResponseWriter, r *http.Request, s *websession) {
	if !p.personsOnly(w, r, s) {
		return
	}
	id, ok := pageID(r)
	if !ok {
		p.notFound(w, r, s)
		return
	}
	addr := strings.TrimSpace(r.PostFormValue("adresse"))
	if addr == "" {
		p.renderPersons(w, r, s, http.StatusBadRequest, personsData{InviteFor: id, Invite: addr,
			Errors: map[string]string{"adresse": "Saisissez l'adresse de messagerie du second représentant légal."}})
		return
	}
	err := p.o.Docs.InviteRepresentative(r.Context(), s.Account, id, addr)
	if errors.Is(err, dmp.ErrInvalid) {
		p.renderPersons(w, r, s, http.StatusBadRequest, personsData{InviteFor: id, Invite: addr, Errors: map[string]string{"adresse": docMessage(err)}})
		return
	}
	if err != nil {
		p.docFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/proches?ok=invite", http.StatusSeeOther)
}

func (p *pages) invitationAccept(w http.ResponseWriter, r *http.Request, s *websession) {
	if !p.personsOnly(w, r, s) {
		return
	}
	id, ok := pageID(r)
	if !ok {
		p.notFound(w, r, s)
		return
	}
	if err := p.o.Docs.AcceptRepresentation(r.Context(), s.Account, id); err != nil {
		p.docFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/proches?ok=accepte#personne-%d", id), http.StatusSeeOther)
}
