// Package care is the store of the patient's care pathway (domain.md:
// Pregnancy pathway, Agenda, Prevention, Vaccinations, Services catalogue):
// pregnancies, the agenda's own events, the statuses a person gives to the
// computed prevention items, lifestyle answers, the vaccination record and
// the secret iCalendar feed of the agenda.
//
// The rules are not here: dmp/schedule computes the prevention items,
// dmp/pregnancy the pathway and its rules, dmp/advice the questionnaires and
// articles, dmp/catalogue the services, dmp/ical writes the feed. This
// package stores what the person says and joins it to what those compute.
//
// Authorization lives here: every method takes the actor and the person
// acted for and asks dmp.Store.ActFor first (the patient themself or their
// legal representative; professionals never).
//
// Dates: a civil date (no time of day, no zone) is a time.Time at 00:00 UTC,
// kept as TEXT 'YYYY-MM-DD'; "today" is the day in Europe/Paris.
package care

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Paris on machines without a zoneinfo database

	"mssanted/db"
	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/schedule"
)

// Store keeps the care records of the patients' spaces.
type Store struct {
	db    *db.DB
	docs  *dmp.Store
	dir   *directory.Store
	sched *schedule.Set
	now   func() time.Time
	loc   *time.Location
	// soon is how far ahead an item becomes "À planifier".
	soon time.Duration
}

// Option changes a Store's defaults.
type Option func(*Store)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithSchedule sets the prevention data (default: schedule.Default()).
func WithSchedule(set *schedule.Set) Option { return func(s *Store) { s.sched = set } }

// New returns the store. docs decides who may act for whom; dir finds the
// maker of a feed when it is fetched.
func New(d *db.DB, docs *dmp.Store, dir *directory.Store, opts ...Option) *Store {
	s := &Store{db: d, docs: docs, dir: dir, now: time.Now, soon: 90 * 24 * time.Hour}
	if l, err := time.LoadLocation("Europe/Paris"); err == nil {
		s.loc = l
	} else {
		s.loc = time.UTC
	}
	for _, o := range opts {
		o(s)
	}
	if s.sched == nil {
		s.sched = schedule.Default()
	}
	return s
}

// Location is the zone of event times (Europe/Paris).
func (s *Store) Location() *time.Location { return s.loc }

// Today is the civil date of today in Europe/Paris.
func (s *Store) Today() time.Time { return Civil(s.now().In(s.loc)) }

// Civil drops the time of day of t, in t's own zone: the civil date at
// 00:00 UTC.
func Civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// FieldError is a refused input: the form field and the French sentence to
// show next to it. It wraps dmp.ErrInvalid, so every door maps it to a bad
// request; Error is "invalid: <French> / <English>" as the other rooms say.
type FieldError struct {
	Field   string
	Message string
	English string
}

func (e *FieldError) Error() string {
	return dmp.ErrInvalid.Error() + ": " + e.Message + " / " + e.English
}

func (e *FieldError) Unwrap() error { return dmp.ErrInvalid }

func fieldErr(field, fr, en string) error { return &FieldError{Field: field, Message: fr, English: en} }

// notFound wraps dmp.ErrNotFound with what was looked for.
func notFound(what string) error { return fmt.Errorf("%w: %s", dmp.ErrNotFound, what) }

// act is the check every method starts with: the account of the person
// acted for, if actor may act for them.
func (s *Store) act(ctx context.Context, actor *directory.Account, personID int64) (*directory.Account, error) {
	if actor == nil {
		return nil, fmt.Errorf("%w: no actor", dmp.ErrForbidden)
	}
	return s.docs.ActFor(ctx, actor, personID)
}

// profile is what the rules need of a person.
type profile struct {
	acct  *directory.Account
	birth time.Time
	sex   string
}

func profileOf(a *directory.Account) profile {
	p := profile{acct: a}
	if a.Patient != nil {
		p.birth, p.sex = a.Patient.BirthDate, a.Patient.Sex
	}
	return p
}

// age is the age in completed years on day.
func age(birth, day time.Time) int {
	if birth.IsZero() {
		return 0
	}
	y := day.Year() - birth.Year()
	if day.Month() < birth.Month() || (day.Month() == birth.Month() && day.Day() < birth.Day()) {
		y--
	}
	if y < 0 {
		return 0
	}
	return y
}

const dateLayout = "2006-01-02"

func fmtDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(dateLayout)
}

func parseDate(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// ParseDate reads a civil date of the API (YYYY-MM-DD); "" is the zero
// time. A malformed date is a FieldError on field.
func ParseDate(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, fieldErr(field, "La date doit être au format AAAA-MM-JJ.", field+" must be YYYY-MM-DD")
	}
	return t, nil
}

var errNoRows = sql.ErrNoRows

func isNoRows(err error) bool { return errors.Is(err, errNoRows) }
