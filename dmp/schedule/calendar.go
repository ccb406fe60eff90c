package schedule

import "time"

// CalendarEntry is one vaccine dose in the simplified calendar.
type CalendarEntry struct {
	Code        string
	Vaccine     string
	Title       string
	Requirement Requirement
	Note        string
}

// CalendarAge is one age of the simplified calendar ("2 mois", "11-14 ans",
// "Rattrapage").
type CalendarAge struct {
	Label   string
	Entries []CalendarEntry
}

// VaccinationCalendar is the simplified calendar of the "Vaccinations" page
// (prevention-data.md §4), from the vaccination file in force on day, ages in
// the file's order, catch-ups last. Targeted rules (Guyane, tuberculosis
// risk) are included: the page explains them to everyone. Requirements are
// those of a child born on day.
func VaccinationCalendar(day time.Time) []CalendarAge {
	return Default().VaccinationCalendar(day)
}

// VaccinationCalendar is the package function on a given data set.
func (s *Set) VaccinationCalendar(day time.Time) []CalendarAge {
	day = civil(day)
	var file *File
	for _, f := range s.kinds["vaccinations"] {
		if !f.ValidFrom.After(day) || file == nil {
			file = f
		}
	}
	if file == nil {
		return nil
	}
	var out []CalendarAge
	index := map[string]int{}
	add := func(r *Rule) {
		i, ok := index[r.Label]
		if !ok {
			i = len(out)
			index[r.Label] = i
			out = append(out, CalendarAge{Label: r.Label})
		}
		req := r.Requirement
		if req == Compulsory && !r.CompulsoryBornFrom.IsZero() && day.Before(civil(r.CompulsoryBornFrom)) {
			req = Recommended
		}
		out[i].Entries = append(out[i].Entries, CalendarEntry{
			Code: r.Code, Vaccine: r.Vaccine, Title: r.Title, Requirement: req, Note: r.Note,
		})
	}
	for pass := 0; pass < 2; pass++ {
		for i := range file.Rules {
			if r := &file.Rules[i]; r.CatchUp == (pass == 1) {
				add(r)
			}
		}
	}
	return out
}
