// Package pregnancy computes the pregnancy pathway ("parcours grossesse",
// domain.md): the expected delivery date, months 1 to 9 with the exams and
// appointments to plan and the advice to read, the postnatal appointments,
// and the rules of "J'ai accouché" and "Je ne suis plus enceinte". It stores
// nothing; the exams it returns carry stable codes the agenda can show and
// the store can join statuses to.
//
// Dates: the product records the START OF PREGNANCY ("début de grossesse",
// DDG, i.e. conception), as Mon Espace Santé asks. French obstetrics counts in
// weeks of amenorrhoea (SA, from the last menstrual period), two weeks more:
// SA = completed weeks since the start of pregnancy + 2. FromLastPeriod
// converts a date of last period (DDR) when that is what the person knows.
// The expected delivery date uses the French term of 41 SA, start + 39 weeks
// (prevention-data.md §5; ❓ there: some use 40 SA).
package pregnancy

import (
	_ "embed"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
)

//go:embed data/pregnancy-2025.toml
var dataFile string

// Requirement is "obligatoire" or "recommande", as in dmp/schedule.
type Requirement string

const (
	Compulsory  Requirement = "obligatoire"
	Recommended Requirement = "recommande"
)

// Source names where a step comes from.
type Source struct {
	Ref   string `toml:"ref"`
	Title string `toml:"title"`
	URL   string `toml:"url"`
}

// Data is the decoded data file.
type Data struct {
	ValidFrom time.Time `toml:"valid_from"`
	Reviewed  time.Time `toml:"reviewed"`
	Sources   []Source  `toml:"source"`
	Months    []struct {
		N        int      `toml:"n"`
		Articles []string `toml:"articles"`
	} `toml:"month"`
	Steps []step `toml:"step"`
}

type step struct {
	Code            string      `toml:"code"`
	Title           string      `toml:"title"`
	Requirement     Requirement `toml:"requirement"`
	SA              []int       `toml:"sa"`
	Months          []int       `toml:"months"`
	WeeksAfterBirth []int       `toml:"weeks_after_birth"`
	Note            string      `toml:"note"`
	SourceRefs      []string    `toml:"sources"`
	sources         []Source
}

// Exam is one exam or appointment to plan.
type Exam struct {
	Code        string
	Title       string
	Requirement Requirement
	Month       int // month of pregnancy its window opens in; 0 after birth
	// From is the first day, To the last day included.
	From, To time.Time
	Note     string
	Sources  []Source
}

// Key is the store key, as for prevention items:
// "urn:examen:<code>|<YYYY-MM-DD of From>".
func (e Exam) Key() string { return "urn:examen:" + e.Code + "|" + e.From.Format("2006-01-02") }

// Month is one month of the calendar.
type Month struct {
	N        int
	From, To time.Time // To is the last day of the month
	SAFrom   int       // SA reached on From (completed weeks)
	SATo     int       // SA reached on To
	Exams    []Exam
	Articles []string // ids of dmp/advice articles
}

var load = sync.OnceValues(func() (*Data, error) { return parse(dataFile) })

func parse(text string) (*Data, error) {
	d := &Data{}
	md, err := toml.Decode(text, d)
	if err != nil {
		return nil, fmt.Errorf("pregnancy: data: %w", err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		return nil, fmt.Errorf("pregnancy: data: unknown keys %v", un)
	}
	if d.ValidFrom.IsZero() || d.Reviewed.IsZero() || len(d.Sources) == 0 {
		return nil, fmt.Errorf("pregnancy: data: valid_from, reviewed and sources are required")
	}
	srcs := map[string]Source{}
	for _, s := range d.Sources {
		srcs[s.Ref] = s
	}
	codes := map[string]bool{}
	for i := range d.Steps {
		s := &d.Steps[i]
		windows := 0
		for _, w := range [][]int{s.SA, s.Months, s.WeeksAfterBirth} {
			if w != nil {
				windows++
				if len(w) != 2 || w[0] > w[1] || w[0] < 0 {
					return nil, fmt.Errorf("pregnancy: step %s: bad window %v", s.Code, w)
				}
			}
		}
		if windows != 1 || s.Code == "" || s.Title == "" || codes[s.Code] ||
			(s.Requirement != Compulsory && s.Requirement != Recommended) || len(s.SourceRefs) == 0 {
			return nil, fmt.Errorf("pregnancy: step %q: one window, a unique code, a title, a requirement and sources are required", s.Code)
		}
		if s.Months != nil && (s.Months[0] < 1 || s.Months[1] > 9) {
			return nil, fmt.Errorf("pregnancy: step %s: months are 1 to 9", s.Code)
		}
		codes[s.Code] = true
		for _, ref := range s.SourceRefs {
			src, ok := srcs[ref]
			if !ok {
				return nil, fmt.Errorf("pregnancy: step %s: unknown source %q", s.Code, ref)
			}
			s.sources = append(s.sources, src)
		}
	}
	if len(d.Months) != 9 {
		return nil, fmt.Errorf("pregnancy: data: 9 months expected")
	}
	return d, nil
}

func data() *Data {
	d, err := load()
	if err != nil {
		panic(err) // the embedded file is checked by the tests
	}
	return d
}

// SourceData returns the data file, for an "about these data" page.
func SourceData() *Data { return data() }

// FromLastPeriod converts the first day of the last menstrual period (DDR)
// to the start of pregnancy: two weeks later.
func FromLastPeriod(lastPeriod time.Time) time.Time { return civil(lastPeriod).AddDate(0, 0, 14) }

// ExpectedDelivery is the expected delivery date ("date prévue
// d'accouchement"): 41 SA, start + 39 weeks.
func ExpectedDelivery(start time.Time) time.Time { return civil(start).AddDate(0, 0, 39*7) }

// SA is the term on day, in completed weeks of amenorrhoea and days
// (e.g. 22 SA + 3 j).
func SA(start, day time.Time) (weeks, days int) {
	n := int(civil(day).Sub(civil(start)).Hours()/24) + 14
	return n / 7, n % 7
}

// atSA is the day a term of sa weeks of amenorrhoea is reached.
func atSA(start time.Time, sa int) time.Time { return civil(start).AddDate(0, 0, (sa-2)*7) }

// monthStart is the first day of month n (1-based): start + n−1 months,
// clamped to the month's end (a start on 31 January gives 28/29 February).
func monthStart(start time.Time, n int) time.Time {
	y, m, d := civil(start).Date()
	t := time.Date(y, m+time.Month(n-1), 1, 0, 0, 0, 0, time.UTC)
	if last := t.AddDate(0, 1, -1).Day(); d > last {
		d = last
	}
	return t.AddDate(0, 0, d-1)
}

// MonthOf is the month of pregnancy (1..9) that day falls in; 0 before the
// start, 9 after the end of month 9 until delivery.
func MonthOf(start, day time.Time) int {
	d := civil(day)
	if d.Before(civil(start)) {
		return 0
	}
	for n := 9; n >= 1; n-- {
		if !d.Before(monthStart(start, n)) {
			return n
		}
	}
	return 1
}

// Exams lists the pregnancy's exams and appointments by window start
// (postnatal ones excluded: see AfterBirth).
func Exams(start time.Time) []Exam {
	start = civil(start)
	var out []Exam
	for i := range data().Steps {
		s := &data().Steps[i]
		var from, end time.Time
		switch {
		case s.SA != nil:
			from, end = atSA(start, s.SA[0]), atSA(start, s.SA[1])
		case s.Months != nil:
			from, end = monthStart(start, s.Months[0]), monthStart(start, s.Months[1]+1)
		default:
			continue
		}
		if from.Before(start) {
			from = start
		}
		out = append(out, s.exam(from, end, MonthOf(start, from)))
	}
	sortExams(out)
	return out
}

// AfterBirth lists the postnatal appointments from the delivery date (or
// the expected one while the baby is not born).
func AfterBirth(delivery time.Time) []Exam {
	delivery = civil(delivery)
	var out []Exam
	for i := range data().Steps {
		s := &data().Steps[i]
		if s.WeeksAfterBirth == nil {
			continue
		}
		from := delivery.AddDate(0, 0, 7*s.WeeksAfterBirth[0])
		end := delivery.AddDate(0, 0, 7*s.WeeksAfterBirth[1])
		out = append(out, s.exam(from, end, 0))
	}
	sortExams(out)
	return out
}

func (s *step) exam(from, end time.Time, month int) Exam {
	return Exam{Code: s.Code, Title: s.Title, Requirement: s.Requirement, Month: month,
		From: from, To: end.AddDate(0, 0, -1), Note: s.Note, Sources: s.sources}
}

func sortExams(es []Exam) {
	slices.SortStableFunc(es, func(a, b Exam) int {
		if c := a.From.Compare(b.From); c != 0 {
			return c
		}
		return a.To.Compare(b.To)
	})
}

// Calendar is months 1 to 9, each with the exams whose window opens in it
// and the articles to read.
func Calendar(start time.Time) []Month {
	start = civil(start)
	exams := Exams(start)
	out := make([]Month, 9)
	for n := 1; n <= 9; n++ {
		m := Month{N: n, From: monthStart(start, n), To: monthStart(start, n+1).AddDate(0, 0, -1)}
		m.SAFrom, _ = SA(start, m.From)
		m.SATo, _ = SA(start, m.To)
		for _, e := range exams {
			if e.Month == n {
				m.Exams = append(m.Exams, e)
			}
		}
		for _, dm := range data().Months {
			if dm.N == n {
				m.Articles = dm.Articles
			}
		}
		out[n-1] = m
	}
	return out
}

func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
