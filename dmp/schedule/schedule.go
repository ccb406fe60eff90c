// Package schedule computes a person's prevention items (the agenda's exams,
// dental checks, screenings, check-ups and vaccinations, domain.md Agenda and
// Prevention) from their birth date and sex, out of dated data files
// (data/*.toml, from shared/prevention-data.md). It stores nothing: an item's
// Code is stable, so the status a person records (done, not done, date) is
// joined to it later by the store (mes-model.md §4, "prevention items").
//
// Versions: each data file has a kind and a valid_from. An occurrence
// follows the file in force on the day its window opens, so a child born in
// 2024 keeps the exams due under the 2019 calendar and gets the 2025 ones
// afterwards, and a reform is one more file.
package schedule

import (
	"slices"
	"strconv"
	"time"
)

// Sex as the insurer records it; empty when unknown (sex-specific items are
// then left out).
type Sex string

const (
	Female Sex = "F"
	Male   Sex = "M"
)

// Type is the kind of item, for the agenda's filter.
type Type string

const (
	Exam        Type = "exam"        // the 20 compulsory child exams (EXAMEN_CARNET_SANTE)
	Dental      Type = "dental"      // M'T dents, yearly adult check (MT_DENTS, PREV_DENT)
	Screening   Type = "screening"   // cancers, glaucoma (EXAMEN_DEPISTAGE, PREV_OPHT)
	Vaccination Type = "vaccination" // CAR_VAC
	CheckUp     Type = "check-up"    // Mon bilan prévention (BILAN_AQ)
)

// Label is the French name of the type, as the agenda's filter shows it.
func (t Type) Label() string {
	switch t {
	case Exam:
		return "Examens de l'enfant"
	case Dental:
		return "Dentaire"
	case Screening:
		return "Dépistages"
	case Vaccination:
		return "Vaccinations"
	case CheckUp:
		return "Bilans de prévention"
	}
	return string(t)
}

// Requirement is the legal level (mes-model.md: OBLIGATOIRE|RECOMMANDE).
type Requirement string

const (
	Compulsory  Requirement = "obligatoire"
	Recommended Requirement = "recommande"
)

// Label is "Obligatoire" or "Recommandé".
func (r Requirement) Label() string {
	if r == Compulsory {
		return "Obligatoire"
	}
	return "Recommandé"
}

// Item is one occurrence of a rule for one person.
type Item struct {
	// Code is unique among a person's items and stable while the rules do
	// not change: the rule code, plus for repeating rules the opening age
	// ("MT_DENTS_6A") or the campaign year ("VAC_GRIPPE_2025").
	Code        string
	Type        Type
	Title       string
	Label       string // usual age label: "2 mois", "50-74 ans, tous les 2 ans"
	Vaccine     string // vaccinations only
	Requirement Requirement
	// From is the first day of the window and To the last day included;
	// To is zero for an item with no end (shingles vaccine from 65).
	From, To time.Time
	CatchUp  bool
	Note     string
	Sources  []Source
	// ValidFrom is the valid_from of the data file the item comes from.
	ValidFrom time.Time
}

// Key is the store key of mes-model.md: "urn:examen:<code>|<YYYY-MM-DD>".
func (it Item) Key() string {
	return "urn:examen:" + it.Code + "|" + it.From.Format("2006-01-02")
}

// When tells where today stands against the window.
type When int

const (
	Past When = iota
	Current
	Future
)

// When is Past after To, Current inside the window, Future before From.
func (it Item) When(today time.Time) When {
	d := civil(today)
	switch {
	case d.Before(it.From):
		return Future
	case !it.To.IsZero() && d.After(it.To):
		return Past
	}
	return Current
}

// Options widen the list beyond the general population.
type Options struct {
	// CatchUp adds the catch-up vaccinations whose window contains today
	// (the store sets it when the record lacks the primary doses).
	CatchUp bool
	// Targets adds the rules for a group: "guyane", "risque_tuberculose".
	Targets []string
}

// maxAge bounds open-ended rules.
var maxAge = age{y: 110}

// Items lists the person's items over the whole life ("Tous"), sorted by
// window start. Open-ended repeating rules (the yearly dental check, flu
// campaigns) give only their previous, current and next occurrences around
// today, not a line a year until 110.
func Items(birth time.Time, sex Sex, today time.Time, opts Options) []Item {
	return Default().Items(birth, sex, today, opts)
}

// Items is the package function on a given data set.
//
// An occurrence follows the file in force on the day its window opens. A
// window that opened before the oldest file of its kind follows that file
// if it is still open on its valid_from, and is left out if it closed
// before: the data do not say what was due then.
func (s *Set) Items(birth time.Time, sex Sex, today time.Time, opts Options) []Item {
	birth, today = civil(birth), civil(today)
	var out []Item
	for _, files := range s.kinds {
		// Open-ended rules are trimmed around today once all versions are
		// merged, so a reform in the middle does not give two "previous".
		open := map[string][]Item{}
		var order []string
		// A code an older file produced is not produced again by a newer
		// one: the exam moved by a reform stays where it was due.
		seen := map[string]bool{}
		for i, f := range files {
			var hi time.Time
			if i+1 < len(files) {
				hi = files[i+1].ValidFrom
			}
			for ri := range f.Rules {
				r := &f.Rules[ri]
				if !r.applies(birth, sex, opts) {
					continue
				}
				for _, it := range r.occurrences(birth) {
					if i > 0 && it.From.Before(f.ValidFrom) {
						continue
					}
					if i == 0 && it.From.Before(f.ValidFrom) && !it.To.IsZero() && it.To.Before(f.ValidFrom) {
						continue
					}
					if !hi.IsZero() && !it.From.Before(hi) {
						continue
					}
					if (r.CatchUp && it.When(today) != Current) || seen[it.Code] {
						continue
					}
					seen[it.Code] = true
					it.ValidFrom = f.ValidFrom
					if r.openEnded() {
						if _, ok := open[r.Code]; !ok {
							order = append(order, r.Code)
						}
						open[r.Code] = append(open[r.Code], it)
						continue
					}
					out = append(out, it)
				}
			}
		}
		for _, code := range order {
			SortByStart(open[code])
			out = append(out, aroundToday(open[code], today)...)
		}
	}
	SortByStart(out)
	return out
}

// openEnded rules repeat without an end of programme.
func (r *Rule) openEnded() bool {
	return len(r.Season) > 0 || (!r.every.zero() && r.until.zero())
}

func (r *Rule) applies(birth time.Time, sex Sex, opts Options) bool {
	if r.Sex != "" && r.Sex != sex {
		return false
	}
	if r.CatchUp && !opts.CatchUp {
		return false
	}
	if r.Target != "" && !slices.Contains(opts.Targets, r.Target) {
		return false
	}
	return r.BornFrom.IsZero() || !birth.Before(civil(r.BornFrom))
}

func (r *Rule) item(code string, from, end time.Time, birth time.Time) Item {
	it := Item{
		Code: code, Type: r.Type, Title: r.Title, Label: r.Label, Vaccine: r.Vaccine,
		Requirement: r.Requirement, From: from, CatchUp: r.CatchUp, Note: r.Note, Sources: r.sources,
	}
	if !end.IsZero() {
		it.To = end.AddDate(0, 0, -1) // end is exclusive, To the last day
	}
	if r.Requirement == Compulsory && !r.CompulsoryBornFrom.IsZero() && birth.Before(civil(r.CompulsoryBornFrom)) {
		it.Requirement = Recommended
	}
	return it
}

// occurrences expands the rule for one birth date. end values are exclusive.
func (r *Rule) occurrences(birth time.Time) []Item {
	switch {
	case len(r.ages) > 0:
		var out []Item
		for _, a := range r.ages {
			out = append(out, r.item(r.Code+"_"+a.suffix(), a.at(birth), a.plus(r.window).at(birth), birth))
		}
		return out
	case len(r.Season) > 0:
		return r.seasons(birth)
	case !r.every.zero():
		return r.repeats(birth)
	}
	var end time.Time
	if !r.to.zero() {
		end = r.to.at(birth)
	}
	return []Item{r.item(r.Code, r.from.at(birth), end, birth)}
}

func (r *Rule) repeats(birth time.Time) []Item {
	stop := maxAge.at(birth)
	if !r.until.zero() {
		stop = r.until.at(birth)
	}
	var all []Item
	for k := 0; ; k++ {
		open := r.from.plus(r.every.times(k))
		from := open.at(birth)
		if !from.Before(stop) {
			break
		}
		end := open.plus(r.window).at(birth)
		if end.After(stop) {
			end = stop
		}
		all = append(all, r.item(r.Code+"_"+open.suffix(), from, end, birth))
	}
	return all
}

func (r *Rule) seasons(birth time.Time) []Item {
	start := r.from.at(birth)
	stop := maxAge.at(birth)
	var all []Item
	for y := start.Year() - 1; y <= stop.Year(); y++ {
		from := time.Date(y, r.season[0].m, r.season[0].d, 0, 0, 0, 0, time.UTC)
		endY := y
		if r.season[1].m < r.season[0].m {
			endY++ // the campaign runs over new year
		}
		last := time.Date(endY, r.season[1].m, r.season[1].d, 0, 0, 0, 0, time.UTC)
		// A campaign counts once the person has the age on its first day.
		if from.Before(start) || !from.Before(stop) {
			continue
		}
		all = append(all, r.item(r.Code+"_"+strconv.Itoa(y), from, last.AddDate(0, 0, 1), birth))
	}
	return all
}

// aroundToday keeps the last past occurrence, the current ones and the next.
func aroundToday(all []Item, today time.Time) []Item {
	var out []Item
	lastPast := -1
	for i, it := range all {
		switch it.When(today) {
		case Past:
			lastPast = i
		case Current:
			out = append(out, it)
		case Future:
			if lastPast >= 0 {
				out = append([]Item{all[lastPast]}, out...)
				lastPast = -1
			}
			return append(out, it)
		}
	}
	if lastPast >= 0 {
		out = append([]Item{all[lastPast]}, out...)
	}
	return out
}

// SortByStart orders items by window start, then end, then code.
func SortByStart(items []Item) {
	slices.SortStableFunc(items, func(a, b Item) int {
		if c := a.From.Compare(b.From); c != 0 {
			return c
		}
		if c := a.To.Compare(b.To); c != 0 {
			return c
		}
		return compareStrings(a.Code, b.Code)
	})
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// UpcomingFirst orders items as the agenda shows them: current windows
// first (the one closing soonest on top), then future ones by start, then
// past ones, most recent first.
func UpcomingFirst(items []Item, today time.Time) []Item {
	out := slices.Clone(items)
	rank := func(it Item) int {
		switch it.When(today) {
		case Current:
			return 0
		case Future:
			return 1
		}
		return 2
	}
	endOf := func(it Item) time.Time {
		if it.To.IsZero() {
			return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		return it.To
	}
	slices.SortStableFunc(out, func(a, b Item) int {
		ra, rb := rank(a), rank(b)
		if ra != rb {
			return ra - rb
		}
		var c int
		switch ra {
		case 0:
			c = endOf(a).Compare(endOf(b))
		case 1:
			c = a.From.Compare(b.From)
		default:
			c = endOf(b).Compare(endOf(a))
		}
		if c != 0 {
			return c
		}
		return compareStrings(a.Code, b.Code)
	})
	return out
}

// Upcoming is the "à faire prochainement" list: current items and those
// opening within horizon, upcoming first.
func Upcoming(items []Item, today time.Time, horizon time.Duration) []Item {
	limit := civil(today).Add(horizon)
	var out []Item
	for _, it := range items {
		switch it.When(today) {
		case Current:
			out = append(out, it)
		case Future:
			if !it.From.After(limit) {
				out = append(out, it)
			}
		}
	}
	return UpcomingFirst(out, today)
}

// OfType keeps the items of the given types (the agenda's filter).
func OfType(items []Item, types ...Type) []Item {
	var out []Item
	for _, it := range items {
		if slices.Contains(types, it.Type) {
			out = append(out, it)
		}
	}
	return out
}
