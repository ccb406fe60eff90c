package web

import (
	"errors"
	"net/http"
	"strconv"

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
