package care

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"mssanted/db"
	"mssanted/directory"
	"mssanted/dmp/schedule"
)

// Vaccination is one dose of the person's vaccination record.
type Vaccination struct {
	ID           int64
	PersonID     int64
	Vaccine      string // the vaccine or the diseases, e.g. "Rougeole, oreillons, rubéole"
	Date         time.Time
	Batch        string // numéro de lot
	Professional string // who vaccinated
	// ItemCode is the agenda item the dose fulfils, "" to let the store
	// match it by vaccine and date.
	ItemCode  string
	Notes     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// VaccinationInput is what the person enters for a dose.
type VaccinationInput struct {
	Vaccine      string
	Date         time.Time
	Batch        string
	Professional string
	ItemCode     string
	Notes        string
}

const vaccinationColumns = `id, person_id, vaccine, given_on, batch, professional, item_code, notes, created_at, updated_at`

func scanVaccination(sc interface{ Scan(...any) error }) (*Vaccination, error) {
	var v Vaccination
	var date string
	var created, updated int64
	if err := sc.Scan(&v.ID, &v.PersonID, &v.Vaccine, &date, &v.Batch, &v.Professional, &v.ItemCode, &v.Notes, &created, &updated); err != nil {
		return nil, err
	}
	v.Date, v.CreatedAt, v.UpdatedAt = parseDate(date), db.Time(created), db.Time(updated)
	return &v, nil
}

// vaccinations lists the record, oldest dose first.
func (s *Store) vaccinations(ctx context.Context, personID int64) ([]*Vaccination, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+vaccinationColumns+` FROM vaccinations WHERE person_id = $1 ORDER BY given_on, id`, personID)
	if err != nil {
		return nil, fmt.Errorf("care: vaccinations: %w", err)
	}
	defer rows.Close()
	var out []*Vaccination
	for rows.Next() {
		v, err := scanVaccination(rows)
		if err != nil {
			return nil, fmt.Errorf("care: vaccinations: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// matchGrace is how far outside an item's window a dose still counts for
// it when the store matches by vaccine and date.
const matchGrace = 31 * 24 * time.Hour

// matchVaccinations finds the item each dose fulfils: the one it names
// (ItemCode), else the earliest unfulfilled vaccination item of the same
// vaccine whose window, widened by a month each side, holds the date.
func matchVaccinations(items []schedule.Item, vacs []*Vaccination) map[string]*Vaccination {
	out := map[string]*Vaccination{}
	byCode := map[string]bool{}
	for _, it := range items {
		byCode[it.Code] = true
	}
	for _, v := range vacs {
		if v.ItemCode != "" && byCode[v.ItemCode] {
			out[v.ItemCode] = v
		}
	}
	cands := slices.Clone(items)
	schedule.SortByStart(cands)
	for _, v := range vacs {
		if v.ItemCode != "" {
			continue
		}
		for _, it := range cands {
			if it.Type != schedule.Vaccination || out[it.Code] != nil || !strings.EqualFold(strings.TrimSpace(it.Vaccine), v.Vaccine) {
				continue
			}
			if v.Date.Before(it.From.Add(-matchGrace)) || (!it.To.IsZero() && v.Date.After(it.To.Add(matchGrace))) {
				continue
			}
			out[it.Code] = v
			break
		}
	}
	return out
}

func (in *VaccinationInput) check(birth, today time.Time, items []Entry) error {
	in.Vaccine, in.Batch, in.Professional = strings.TrimSpace(in.Vaccine), strings.TrimSpace(in.Batch), strings.TrimSpace(in.Professional)
	in.ItemCode, in.Notes = strings.TrimSpace(in.ItemCode), strings.TrimSpace(in.Notes)
	switch {
	case in.Vaccine == "":
		return fieldErr("vaccine", "Le nom du vaccin est obligatoire.", "vaccine is required")
	case utf8.RuneCountInString(in.Vaccine) > 200:
		return fieldErr("vaccine", "Le nom du vaccin ne peut pas dépasser 200 caractères.", "vaccine too long")
	case in.Date.IsZero():
		return fieldErr("date", "La date de vaccination est obligatoire.", "date is required")
	case Civil(in.Date).After(today):
		return fieldErr("date", "La date de vaccination ne peut pas être dans le futur.", "date in the future")
	case !birth.IsZero() && Civil(in.Date).Before(birth):
		return fieldErr("date", "La date de vaccination ne peut pas être avant la naissance.", "date before birth")
	case utf8.RuneCountInString(in.Batch) > 64:
		return fieldErr("batch", "Le numéro de lot ne peut pas dépasser 64 caractères.", "batch too long")
	case utf8.RuneCountInString(in.Professional) > 200:
		return fieldErr("professional", "Le nom du professionnel ne peut pas dépasser 200 caractères.", "professional too long")
	case utf8.RuneCountInString(in.Notes) > 4000:
		return fieldErr("notes", "Les notes ne peuvent pas dépasser 4 000 caractères.", "notes too long")
	}
	if in.ItemCode != "" && !slices.ContainsFunc(items, func(e Entry) bool { return e.ID == in.ItemCode && e.Type == string(schedule.Vaccination) }) {
		return fieldErr("item_code", "Cette vaccination n'est pas dans votre calendrier.", "item_code is not a vaccination item of this person")
	}
	in.Date = Civil(in.Date)
	return nil
}

// Vaccinations is the person's vaccination record, most recent dose first.
func (s *Store) Vaccinations(ctx context.Context, actor *directory.Account, personID int64) ([]*Vaccination, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	vs, err := s.vaccinations(ctx, person.ID)
	if err != nil {
		return nil, err
	}
	slices.Reverse(vs)
	return vs, nil
}

// Vaccination returns one dose.
func (s *Store) Vaccination(ctx context.Context, actor *directory.Account, personID, id int64) (*Vaccination, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	return s.vaccination(ctx, person.ID, id)
}

func (s *Store) vaccination(ctx context.Context, personID, id int64) (*Vaccination, error) {
	v, err := scanVaccination(s.db.Read().QueryRowContext(ctx, `SELECT `+vaccinationColumns+` FROM vaccinations WHERE id = $1 AND person_id = $2`, id, personID))
	if isNoRows(err) {
		return nil, notFound("no such vaccination")
	}
	if err != nil {
		return nil, fmt.Errorf("care: vaccination: %w", err)
	}
	return v, nil
}

// AddVaccination adds a dose to the record; the matching agenda item is
// then done.
func (s *Store) AddVaccination(ctx context.Context, actor *directory.Account, personID int64, in VaccinationInput) (*Vaccination, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	if err := s.checkVaccination(ctx, person, &in); err != nil {
		return nil, err
	}
	now := db.Micros(s.now())
	var id int64
	err = s.db.Write().QueryRowContext(ctx, `INSERT INTO vaccinations (person_id, vaccine, given_on, batch, professional, item_code, notes,
		created_at, updated_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id`,
		person.ID, in.Vaccine, fmtDate(in.Date), in.Batch, in.Professional, in.ItemCode, in.Notes, now, actor.ID).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("care: add vaccination: %w", err)
	}
	return s.vaccination(ctx, person.ID, id)
}

func (s *Store) checkVaccination(ctx context.Context, person *directory.Account, in *VaccinationInput) error {
	p, today := profileOf(person), s.Today()
	var items []Entry
	if strings.TrimSpace(in.ItemCode) != "" {
		var err error
		if items, err = s.agendaItems(ctx, p, today); err != nil {
			return err
		}
	}
	return in.check(p.birth, today, items)
}

// UpdateVaccination replaces a dose's fields.
func (s *Store) UpdateVaccination(ctx context.Context, actor *directory.Account, personID, id int64, in VaccinationInput) (*Vaccination, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	if err := s.checkVaccination(ctx, person, &in); err != nil {
		return nil, err
	}
	res, err := s.db.Write().ExecContext(ctx, `UPDATE vaccinations SET vaccine = $1, given_on = $2, batch = $3, professional = $4, item_code = $5,
		notes = $6, updated_at = $7 WHERE id = $8 AND person_id = $9`,
		in.Vaccine, fmtDate(in.Date), in.Batch, in.Professional, in.ItemCode, in.Notes, db.Micros(s.now()), id, person.ID)
	if err != nil {
		return nil, fmt.Errorf("care: update vaccination: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, notFound("no such vaccination")
	}
	return s.vaccination(ctx, person.ID, id)
}

// DeleteVaccination removes a dose.
func (s *Store) DeleteVaccination(ctx context.Context, actor *directory.Account, personID, id int64) error {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return err
	}
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM vaccinations WHERE id = $1 AND person_id = $2`, id, person.ID)
	if err != nil {
		return fmt.Errorf("care: delete vaccination: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("no such vaccination")
	}
	return nil
}

// CalendarEntry is one dose of the simplified calendar with, when the
// person has that item, its status.
type CalendarEntry struct {
	schedule.CalendarEntry
	Item *Entry // nil: not in the person's agenda (another age, sex or target)
}

// CalendarAge is one age of the simplified calendar.
type CalendarAge struct {
	Label   string
	Entries []CalendarEntry
}

// VaccinationCalendar is the simplified calendar of recommended
// vaccinations by age (schedule.VaccinationCalendar), each dose with the
// person's status for it.
func (s *Store) VaccinationCalendar(ctx context.Context, actor *directory.Account, personID int64) ([]CalendarAge, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	today := s.Today()
	items, err := s.agendaItems(ctx, profileOf(person), today)
	if err != nil {
		return nil, err
	}
	byCode := map[string]*Entry{}
	for i := range items {
		if _, ok := byCode[items[i].ID]; !ok {
			byCode[items[i].ID] = &items[i]
		}
	}
	var out []CalendarAge
	for _, a := range s.sched.VaccinationCalendar(today) {
		ca := CalendarAge{Label: a.Label}
		for _, e := range a.Entries {
			ca.Entries = append(ca.Entries, CalendarEntry{CalendarEntry: e, Item: byCode[e.Code]})
		}
		out = append(out, ca)
	}
	return out, nil
}

// VaccineNames are the vaccines of the calendar, sorted, for the form's
// suggestions: a dose entered with one of them is matched to the agenda.
func (s *Store) VaccineNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range s.sched.VaccinationCalendar(s.Today()) {
		for _, e := range a.Entries {
			if e.Vaccine != "" && !seen[e.Vaccine] {
				seen[e.Vaccine] = true
				out = append(out, e.Vaccine)
			}
		}
	}
	sort.Strings(out)
	return out
}
