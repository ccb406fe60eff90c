package web

import (
	"net/http"
	"strconv"

	"mssanted/directory"
)

func pageParam(r *http.Request) (int, error) {
	p := r.URL.Query().Get("page")
	if p == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 {
		return 0, bad("Numéro de page invalide", "page must be a positive integer")
	}
	return n, nil
}

type pharmacyJSON struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Address    string `json:"address"`
	Mailbox    string `json:"mailbox"`
	PostalCode string `json:"postal_code"`
	Commune    string `json:"commune"`
	Department string `json:"department,omitempty"`
}

type pageJSON[T any] struct {
	Results   []T    `json:"results"`
	Total     int    `json:"total"`
	Page      int    `json:"page"`
	PageSize  int    `json:"page_size"`
	Place     string `json:"place,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
}

func (a *api) searchPharmacies(w http.ResponseWriter, r *http.Request, _ *directory.Session) error {
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	res, err := a.o.Dir.SearchPharmacies(r.Context(), directory.PharmacyQuery{Name: q.Get("name"), Place: q.Get("place"), Page: page})
	if err != nil {
		return err
	}
	out := pageJSON[pharmacyJSON]{Results: []pharmacyJSON{}, Total: res.Total, Page: res.Page, PageSize: res.PageSize, Place: res.Place, Truncated: res.Truncated}
	for _, p := range res.Results {
		out.Results = append(out.Results, pharmacyJSON{Name: p.Name, Kind: p.Kind, Address: p.Address, Mailbox: p.Mailbox,
			PostalCode: p.PostalCode, Commune: p.Commune, Department: p.Department})
	}
	return writeJSON(w, http.StatusOK, out)
}

type professionalJSON struct {
	Name        string `json:"name"`
	Profession  string `json:"profession"`
	Speciality  string `json:"speciality,omitempty"`
	RPPS        string `json:"rpps,omitempty"`
	Mailbox     string `json:"mailbox"`
	MailboxType string `json:"mailbox_type"`
	Structure   string `json:"structure,omitempty"`
	Address     string `json:"address,omitempty"`
	Commune     string `json:"commune,omitempty"`
}

// searchProfessionals is for professionals and pharmacies; the directory
// refuses patients (ErrForbidden: they never see a professional's address).
func (a *api) searchProfessionals(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	res, err := a.o.Dir.SearchProfessionals(r.Context(), directory.ProfessionalQuery{Actor: s.Account.Role,
		Name: q.Get("name"), Profession: q.Get("profession"), RPPS: q.Get("rpps"), Place: q.Get("place"), Page: page})
	if err != nil {
		return err
	}
	out := pageJSON[professionalJSON]{Results: []professionalJSON{}, Total: res.Total, Page: res.Page, PageSize: res.PageSize, Place: res.Place, Truncated: res.Truncated}
	for _, p := range res.Results {
		out.Results = append(out.Results, professionalJSON{Name: p.Name, Profession: p.Profession, Speciality: p.Speciality, RPPS: p.RPPS,
			Mailbox: p.Mailbox, MailboxType: p.MailboxType, Structure: p.Structure, Address: p.Address, Commune: p.Commune})
	}
	return writeJSON(w, http.StatusOK, out)
}
