package schedule

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
)

// The schedules are data, not code: the next reform is a new file with a
// later valid_from (domain.md, Agenda).
//
//go:embed data/*.toml
var embedded embed.FS

// Source is where a file's facts come from (the [Sn] of prevention-data.md).
type Source struct {
	Ref   string `toml:"ref"`
	Title string `toml:"title"`
	URL   string `toml:"url"`
}

// File is one dated data file: every rule of one kind as in force from
// ValidFrom until the next file of the same kind.
type File struct {
	Name      string    `toml:"-"`
	Kind      string    `toml:"kind"`
	ValidFrom time.Time `toml:"valid_from"`
	Reviewed  time.Time `toml:"reviewed"`
	Sources   []Source  `toml:"source"`
	Rules     []Rule    `toml:"rule"`
}

// Rule is one line of a schedule. Ages are offsets from birth ("8d", "2w",
// "3m", "11y5m"); windows are half-open [from, to). A rule is one of:
//   - single: From (and To; no To means no end, e.g. shingles from 65);
//   - repeating: From and Every, until Until (an opening age, exclusive, that
//     also trims the last window; none means open-ended); Window defaults to
//     Every;
//   - listed: Ages, each opening a Window;
//   - seasonal: From and Season ["MM-DD", "MM-DD"], one campaign a year.
type Rule struct {
	Code               string      `toml:"code"`
	Type               Type        `toml:"type"`
	Title              string      `toml:"title"`
	Label              string      `toml:"label"`
	Vaccine            string      `toml:"vaccine"`
	Requirement        Requirement `toml:"requirement"`
	CompulsoryBornFrom time.Time   `toml:"compulsory_born_from"`
	BornFrom           time.Time   `toml:"born_from"`
	Sex                Sex         `toml:"sex"`
	Target             string      `toml:"target"`
	CatchUp            bool        `toml:"catch_up"`
	From               string      `toml:"from"`
	To                 string      `toml:"to"`
	Every              string      `toml:"every"`
	Until              string      `toml:"until"`
	Window             string      `toml:"window"`
	Ages               []string    `toml:"ages"`
	Season             []string    `toml:"season"`
	Note               string      `toml:"note"`
	SourceRefs         []string    `toml:"sources"`

	from, to, every, until, window age
	ages                           []age
	season                         [2]monthDay
	sources                        []Source
}

// Set is every loaded file, by kind, oldest first.
type Set struct {
	kinds map[string][]*File
}

// Load reads every *.toml under dir of fsys and checks it: unknown keys,
// missing fields, bad ages, unknown source refs and duplicate codes are
// refused, so a mistyped data change fails the tests, not a patient's agenda.
func Load(fsys fs.FS, dir string) (*Set, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.toml"))
	if err != nil {
		return nil, err
	}
	s := &Set{kinds: map[string][]*File{}}
	for _, name := range names {
		f, err := loadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("schedule: %s: %w", name, err)
		}
		s.kinds[f.Kind] = append(s.kinds[f.Kind], f)
	}
	for kind, fs := range s.kinds {
		sort.Slice(fs, func(i, j int) bool { return fs[i].ValidFrom.Before(fs[j].ValidFrom) })
		for i := 1; i < len(fs); i++ {
			if fs[i].ValidFrom.Equal(fs[i-1].ValidFrom) {
				return nil, fmt.Errorf("schedule: %s and %s: two %s files valid from the same day", fs[i-1].Name, fs[i].Name, kind)
			}
		}
	}
	return s, nil
}

var loadDefault = sync.OnceValues(func() (*Set, error) { return Load(embedded, "data") })

// Default is the embedded data. The files are checked by the tests, so a
// failure here is a build that should not have shipped: it panics.
func Default() *Set {
	s, err := loadDefault()
	if err != nil {
		panic(err)
	}
	return s
}

// Files returns the loaded files, by kind then date, for an "about these
// data" page.
func (s *Set) Files() []*File {
	var out []*File
	kinds := make([]string, 0, len(s.kinds))
	for k := range s.kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		out = append(out, s.kinds[k]...)
	}
	return out
}

func loadFile(fsys fs.FS, name string) (*File, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	f := &File{Name: path.Base(name)}
	md, err := toml.Decode(string(b), f)
	if err != nil {
		return nil, err
	}
	if un := md.Undecoded(); len(un) > 0 {
		return nil, fmt.Errorf("unknown keys %v", un)
	}
	if f.Kind == "" || f.ValidFrom.IsZero() || f.Reviewed.IsZero() || len(f.Sources) == 0 {
		return nil, fmt.Errorf("kind, valid_from, reviewed and at least one source are required")
	}
	f.ValidFrom, f.Reviewed = civil(f.ValidFrom), civil(f.Reviewed)
	srcs := map[string]Source{}
	for _, src := range f.Sources {
		if src.Ref == "" || src.Title == "" || src.URL == "" {
			return nil, fmt.Errorf("source %q needs ref, title and url", src.Ref)
		}
		srcs[src.Ref] = src
	}
	codes := map[string]bool{}
	for i := range f.Rules {
		r := &f.Rules[i]
		if err := r.check(srcs); err != nil {
			return nil, fmt.Errorf("rule %q: %w", r.Code, err)
		}
		if codes[r.Code] {
			return nil, fmt.Errorf("rule %q twice", r.Code)
		}
		codes[r.Code] = true
	}
	return f, nil
}

var codeRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

func (r *Rule) check(srcs map[string]Source) error {
	if !codeRE.MatchString(r.Code) || r.Title == "" || r.Label == "" {
		return fmt.Errorf("code (A-Z0-9_), title and label are required")
	}
	switch r.Type {
	case Exam, Dental, Screening, Vaccination, CheckUp:
	default:
		return fmt.Errorf("unknown type %q", r.Type)
	}
	if r.Requirement != Compulsory && r.Requirement != Recommended {
		return fmt.Errorf("requirement must be %q or %q", Compulsory, Recommended)
	}
	if r.Sex != "" && r.Sex != Female && r.Sex != Male {
		return fmt.Errorf("sex must be F, M or empty")
	}
	if r.Type == Vaccination && r.Vaccine == "" {
		return fmt.Errorf("a vaccination names its vaccine")
	}
	if len(r.SourceRefs) == 0 {
		return fmt.Errorf("no source")
	}
	for _, ref := range r.SourceRefs {
		src, ok := srcs[ref]
		if !ok {
			return fmt.Errorf("unknown source %q", ref)
		}
		r.sources = append(r.sources, src)
	}
	var err error
	parse := func(s string, dst *age) {
		if err == nil && s != "" {
			*dst, err = parseAge(s)
		}
	}
	parse(r.From, &r.from)
	parse(r.To, &r.to)
	parse(r.Every, &r.every)
	parse(r.Until, &r.until)
	parse(r.Window, &r.window)
	for _, a := range r.Ages {
		var x age
		parse(a, &x)
		r.ages = append(r.ages, x)
	}
	if err != nil {
		return err
	}
	kinds := 0
	for _, b := range []bool{r.Every != "", len(r.Ages) > 0, len(r.Season) > 0} {
		if b {
			kinds++
		}
	}
	switch {
	case kinds > 1:
		return fmt.Errorf("every, ages and season exclude each other")
	case len(r.Ages) > 0:
		if r.Window == "" || r.From != "" || r.To != "" {
			return fmt.Errorf("ages need a window and no from/to")
		}
	case r.From == "":
		return fmt.Errorf("from is required")
	case len(r.Season) > 0:
		if len(r.Season) != 2 || r.To != "" {
			return fmt.Errorf("season is [\"MM-DD\", \"MM-DD\"], without to")
		}
		for i, s := range r.Season {
			if r.season[i], err = parseMonthDay(s); err != nil {
				return err
			}
		}
	case r.Every != "":
		if r.To != "" || r.every.zero() {
			return fmt.Errorf("a repeating rule has every > 0 and no to")
		}
		if r.window.zero() {
			r.window = r.every
		}
	case r.To != "":
		if !r.from.less(r.to) {
			return fmt.Errorf("to must be after from")
		}
	}
	return nil
}

// age is an offset from birth in years, months and days (weeks are 7 days).
type age struct{ y, m, d int }

var ageRE = regexp.MustCompile(`^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)w)?(?:(\d+)d)?$`)

func parseAge(s string) (age, error) {
	m := ageRE.FindStringSubmatch(s)
	if m == nil || s == "" {
		return age{}, fmt.Errorf("bad age %q (e.g. 8d, 2w, 3m, 11y5m)", s)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	return age{y: n(1), m: n(2), d: 7*n(3) + n(4)}, nil
}

func (a age) zero() bool { return a == age{} }

// less compares on a fixed birth date: good enough to check data ordering.
func (a age) less(b age) bool {
	ref := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	return a.at(ref).Before(b.at(ref))
}

func (a age) times(k int) age { return age{a.y * k, a.m * k, a.d * k} }
func (a age) plus(b age) age  { return age{a.y + b.y, a.m + b.m, a.d + b.d} }

// at is the day a person born on birth reaches age a. Months are calendar
// months clamped to the month's end (born 31 January, one month old on
// 28 or 29 February), which is how ages in months are counted in practice;
// days are added after.
func (a age) at(birth time.Time) time.Time {
	y, m, d := birth.Date()
	total := int(m) - 1 + a.m
	y += a.y + total/12
	mo := time.Month(total%12 + 1)
	if last := daysIn(y, mo); d > last {
		d = last
	}
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, a.d)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// suffix names an opening age in a code: "6A" (ans), "16M" (mois), "8J".
func (a age) suffix() string {
	switch {
	case a.m == 0 && a.d == 0:
		return strconv.Itoa(a.y) + "A"
	case a.d == 0:
		return strconv.Itoa(12*a.y+a.m) + "M"
	default:
		return fmt.Sprintf("%dA%dM%dJ", a.y, a.m, a.d)
	}
}

type monthDay struct {
	m time.Month
	d int
}

func parseMonthDay(s string) (monthDay, error) {
	t, err := time.Parse("01-02", s)
	if err != nil {
		return monthDay{}, fmt.Errorf("bad season day %q (MM-DD)", s)
	}
	return monthDay{t.Month(), t.Day()}, nil
}

// civil keeps the calendar day of t, as a UTC midnight, so that every date
// of this package compares and prints the same whatever the caller's zone.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
