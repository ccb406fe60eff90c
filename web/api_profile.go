package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/profile"
)

// The medical profile ("Profil médical", dmp/profile) of a person the
// caller acts for: /api/v1/persons/{person}/profile/…. The store refuses
// anyone but the person and their legal representatives, professionals
// included: they read the synthèse the person files in the documents.

const profileBase = "/api/v1/persons/{person}/profile"

// profileRoutes are the medical profile's operations (dmp/profile); their
// OpenAPI part is openapi-profile.json.
func (a *api) profileRoutes() []route {
	return []route{
		{"GET", profileBase, false, profileGet(a, (*profile.Store).Get)},
		{"GET", profileBase + "/characteristics", false, profileGet(a, (*profile.Store).Characteristics)},
		{"PUT", profileBase + "/characteristics", false, profilePut(a, (*profile.Store).SetCharacteristics)},
		{"GET", profileBase + "/organ-donation", false, profileGet(a, (*profile.Store).OrganDonation)},
		{"PUT", profileBase + "/organ-donation", false, profilePut(a, (*profile.Store).SetOrganDonation)},
		{"GET", profileBase + "/measures", false, a.measureHistory},
		{"GET", profileBase + "/measures/latest", false, a.latestMeasures},
		{"POST", profileBase + "/measures", false, a.addMeasure},
		{"PUT", profileBase + "/measures/{id}", false, a.updateMeasure},
		{"DELETE", profileBase + "/measures/{id}", false, a.deleteMeasure},
		{"GET", profileBase + "/advance-directives", false, a.getDirectives},
		{"PUT", profileBase + "/advance-directives", false, a.putDirectives},
		{"DELETE", profileBase + "/advance-directives", false, profileDelete(a, (*profile.Store).DeleteDirectives)},
		{"POST", profileBase + "/summary", false, a.generateSummary},
		{"GET", profileBase + "/{section}", false, a.listEntries},
		{"POST", profileBase + "/{section}", false, a.addEntry},
		{"PUT", profileBase + "/{section}/{id}", false, a.updateEntry},
		{"DELETE", profileBase + "/{section}/{id}", false, a.deleteEntry},
	}
}

// profileOf resolves the person of the path and the profile store.
func (a *api) profileOf(r *http.Request, s *directory.Session) (*profile.Store, int64, error) {
	p, err := a.person(r, s)
	if err != nil {
		return nil, 0, err
	}
	if a.o.Profile == nil {
		return nil, 0, dmp.ErrNotFound
	}
	return a.o.Profile, p.ID, nil
}

// The handlers that only resolve the person, call one store method and
// answer its result.
type apiHandler = func(w http.ResponseWriter, r *http.Request, s *directory.Session) error

// profileGet answers the part of the profile get reads.
func profileGet[T any](a *api, get func(*profile.Store, context.Context, *directory.Account, int64) (T, error)) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
		ps, id, err := a.profileOf(r, s)
		if err != nil {
			return err
		}
		v, err := get(ps, r.Context(), s.Account, id)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, v)
	}
}

// profilePut replaces a part of the profile with the request's body.
func profilePut[In, Out any](a *api, put func(*profile.Store, context.Context, *directory.Account, int64, In) (Out, error)) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
		ps, id, err := a.profileOf(r, s)
		if err != nil {
			return err
		}
		var in In
		if err := readJSON(w, r, &in); err != nil {
			return err
		}
		v, err := put(ps, r.Context(), s.Account, id, in)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, v)
	}
}

// profileDelete removes a part of the profile.
func profileDelete(a *api, del func(*profile.Store, context.Context, *directory.Account, int64) error) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
		ps, id, err := a.profileOf(r, s)
		if err != nil {
			return err
		}
		if err := del(ps, r.Context(), s.Account, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func profileItemID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, dmp.ErrNotFound
	}
	return id, nil
}

func section(r *http.Request) (profile.Section, error) {
	sec := profile.Section(r.PathValue("section"))
	if !sec.Valid() {
		return "", dmp.ErrNotFound
	}
	return sec, nil
}

func (a *api) listEntries(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ps, id, err := a.profileOf(r, s)
	if err != nil {
		return err
	}
	sec, err := section(r)
	if err != nil {
		return err
	}
	es, err := ps.Entries(r.Context(), s.Account, id, sec)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"section": sec, "title": sec.Title(), "entries": es})
}

// entryBody reads the entry of the path's section from the body.
func entryBody(w http.ResponseWriter, r *http.Request) (profile.Payload, error) {
	sec, err := section(r)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := readJSON(w, r, &raw); err != nil {
		return nil, err
	}
	return profile.DecodeEntry(sec, raw)
}

func (a *api) addEntry(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ps, id, err := a.profileOf(r, s)
	if err != nil {
		return err
	}
	p, err := entryBody(w, r)
	if err != nil {
		return err
	}
	e, err := ps.AddEntry(r.Context(), s.Account, id, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, e)
}

func (a *api) updateEntry(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ps, id, err := a.profileOf(r, s)
	if err != nil {
		return err
	}
	eid, err := profileItemID(r)
	if err != nil {
		return err
	}
	p, err := entryBody(w, r)
	if err != nil {
		return err
	}
	e, err := ps.UpdateEntry(r.Context(), s.Account, id, eid, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

func (a *api) deleteEntry(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ps, id, err := a.profileOf(r, s)
	if err != nil {
		return err
	}
	sec, err := section(r)
	if err != nil {
		return err
	}
	eid, err := profileItemID(r)
	if err != nil {
		return err
	}
	if err := ps.DeleteEntry(r.Context(), s.Account, id, sec, eid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type measureIn struct {
	Code      string   `json:"code"`
	Value     *float64 `json:"value"`
	Diastolic *float64 `json:"diastolic"`
	Unit      string   `json:"unit"`
	Date      string   `json:"date"`
	Comment   string   `json:"comment"`
}

func (in *measureIn) measure() (profile.NewMeasure, error) {
	if in.Value == nil {
		return profile.NewMeasure{}, bad("Indiquez la valeur de la mesure", "value is required")
	}
	m := profile.NewMeasure{Code: in.Code, Value: *in.Value, Diastolic: in.Diastolic, Unit: in.Unit, Comment: in.Comment}
	if in.Date != "" {
		t, err := time.Parse(time.RFC3339, in.Date)
		if err != nil {
			t, err = time.Parse(time.DateOnly, in.Date)
		}
		if err != nil {
			return m, bad("Date de la mesure invalide (AAAA-MM-JJ, ou date et heure RFC 3339)", "date must be YYYY-MM-DD or RFC 3339")
		}
		m.Date = t
	}
	return m, nil
}

func (a *api) measureHistory(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ps, id, err := a.profileOf(r, s)
	if err != nil {
		return err
	}
	code := strings.ToUpper(r.URL.Query().Get("code"))
	if code == "" {
		return bad("Indiquez la mesure (code), par exemple WEIGHT", "the code query parameter is required")
	}
	ms, err := ps.Measures(r.Context(), s.Account, id, code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"code": code, "measures": ms})
}

func (a *api) latestMeasures(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ps, id, err := a.profileOf(r, s)
	if err != nil {
		return err
	}
	o, err := ps.LatestMeasures(r.Context(), s.Account, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"latest": o.Latest, "bmi": o.BMI, "specs": profile.MeasureSpecs})
}

func (a *api) addMeasure(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ps, id, err := a.profileOf(r, s)
	if err != nil {
		return err
	}
	var in measureIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	n, err := in.measure()
	if err != nil {
		return err
	}
	m, err := ps.AddMeasure(r.Context(), s.Account, id, n)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, m)
}

func (a *api) updateMeasure(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ps, id, err := a.profileOf(r, s)
	if err != nil {
		return err
	}
	mid, err := profileItemID(r)
	if err != nil {
		return err
	}
	var in measureIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	n, err := in.measure()
	if err != nil {
		return err
	}
	m, err := ps.UpdateMeasure(r.Context(), s.Account, id, mid, n)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (a *api) deleteMeasure(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ps, id, err := a.profileOf(r, s)
	if err != nil {
		return err
	}
	mid, err := profileItemID(r)
	if err != nil {
		return err
	}
	if err := ps.DeleteMeasure(r.Context(), s.Account, id, mid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) getDirectives(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ps, id, err := a.profileOf(r, s)
	if err != nil {
		return err
	}
	d, err := ps.Directives(r.Context(), s.Account, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"advance_directives": d})
}

type directivesIn struct {
	Mode       string                   `json:"mode"`
	DocumentID int64                    `json:"document_id"`
	Model      string                   `json:"model"`
	Step1      *profile.DirectivesStep1 `json:"step1"`
	Step2      *profile.DirectivesStep2 `json:"step2"`
	Step3      *profile.DirectivesStep3 `json:"step3"`
}

func (a *api) putDirectives(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ps, id, err := a.profileOf(r, s)
	if err != nil {
		return err
	}
	var in directivesIn
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	var d *profile.Directives
	switch in.Mode {
	case profile.DirectivesDocument:
		if in.DocumentID <= 0 {
			return bad("Choisissez le document de vos directives anticipées", "document_id is required")
		}
		d, err = ps.AttachDirectives(r.Context(), s.Account, id, in.DocumentID)
	case profile.DirectivesOnline:
		d, err = ps.WriteDirectives(r.Context(), s.Account, id, profile.DirectivesForm{Model: in.Model, Step1: in.Step1, Step2: in.Step2, Step3: in.Step3})
	default:
		return bad("Joignez un document ou rédigez vos directives en ligne (mode document ou online)", "mode must be document or online")
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"advance_directives": d})
}

func (a *api) generateSummary(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	ps, id, err := a.profileOf(r, s)
	if err != nil {
		return err
	}
	d, err := ps.GenerateSummary(r.Context(), s.Account, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, documentView(d))
}
