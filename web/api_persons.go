package web

import (
	"net/http"
	"strconv"
	"time"

	"mssanted/directory"
	"mssanted/dmp"
)

// The persons a patient acts for: themself and those they represent
// (children). Every patient-space route names the person in its path,
// /api/v1/persons/{person}/…, "me" or an id; the store checks it (ActFor).

func (a *api) personRoutes() []route {
	return []route{
		{"GET", "/api/v1/persons", false, a.listPersons},
		{"POST", "/api/v1/persons", false, a.addChild},
		{"POST", "/api/v1/persons/{person}/representatives", false, a.inviteRepresentative},
		{"POST", "/api/v1/persons/{person}/accept", false, a.acceptRepresentation},
		{"GET", "/api/v1/persons/{person}/documents", false, a.personDocuments},
	}
}

// person resolves the {person} of a path to the account acted for.
func (a *api) person(r *http.Request, s *directory.Session) (*directory.Account, error) {
	p := r.PathValue("person")
	if p == "me" {
		return a.o.Docs.ActFor(r.Context(), s.Account, 0)
	}
	id, err := strconv.ParseInt(p, 10, 64)
	if err != nil || id <= 0 {
		return nil, dmp.ErrNotFound
	}
	return a.o.Docs.ActFor(r.Context(), s.Account, id)
}

type personJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	BirthDate string `json:"birth_date,omitempty"`
	Sex       string `json:"sex,omitempty"`
	Self      bool   `json:"self"`
	Role      string `json:"role"`
}

func personsView(ps []dmp.Person) []personJSON {
	out := []personJSON{}
	for _, p := range ps {
		v := personJSON{ID: p.ID, Name: p.Name, Sex: p.Sex, Self: p.Self, Role: p.Role}
		if !p.BirthDate.IsZero() {
			v.BirthDate = p.BirthDate.Format(time.DateOnly)
		}
		out = append(out, v)
	}
	return out
}

func (a *api) listPersons(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ps, err := a.o.Docs.Persons(r.Context(), s.Account)
	if err != nil {
		return err
	}
	inv, err := a.o.Docs.Invitations(r.Context(), s.Account)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"persons": personsView(ps), "invitations": personsView(inv)})
}

type childIn struct {
	Name      string `json:"name"`
	INS       string `json:"ins"`
	BirthDate string `json:"birth_date"`
	Sex       string `json:"sex"`
}

func (a *api) addChild(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	var in childIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	bd, err := time.Parse(time.DateOnly, in.BirthDate)
	if err != nil {
		return bad("Date de naissance invalide (AAAA-MM-JJ)", "birth_date must be YYYY-MM-DD")
	}
	c, err := a.o.Docs.AddChild(r.Context(), s.Account, dmp.NewChild{Name: in.Name, INS: in.INS, BirthDate: bd, Sex: in.Sex})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, personsView([]dmp.Person{{ID: c.ID, Name: c.DisplayName, BirthDate: bd, Sex: in.Sex, Role: "représentant légal"}})[0])
}

type inviteIn struct {
	Address string `json:"address"`
}

func (a *api) inviteRepresentative(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	p, err := a.person(r, s)
	if err != nil {
		return err
	}
	var in inviteIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.o.Docs.InviteRepresentative(r.Context(), s.Account, p.ID, in.Address); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) acceptRepresentation(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	id, err := strconv.ParseInt(r.PathValue("person"), 10, 64)
	if err != nil {
		return dmp.ErrNotFound
	}
	if err := a.o.Docs.AcceptRepresentation(r.Context(), s.Account, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// personDocuments is the library of a person the caller acts for.
func (a *api) personDocuments(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	p, err := a.person(r, s)
	if err != nil {
		return err
	}
	q, err := documentQuery(r)
	if err != nil {
		return err
	}
	ds, err := a.o.Docs.List(r.Context(), s.Account, p.ID, q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"documents": documentsView(ds)})
}
