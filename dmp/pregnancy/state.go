package pregnancy

import (
	"errors"
	"time"
)

// FieldError is a refused input: the form field and a sentence the user
// reads next to it.
type FieldError struct {
	Field   string // "debut", "accouchement", "fin"
	Message string
}

func (e *FieldError) Error() string { return e.Field + " : " + e.Message }

// Outcome is how a pregnancy ended.
type Outcome string

const (
	Ongoing   Outcome = ""
	Delivered Outcome = "accouchement" // "J'ai accouché"
	Ended     Outcome = "fin"          // "Je ne suis plus enceinte"
)

// Pregnancy is one pregnancy of the profile.
type Pregnancy struct {
	Start   time.Time // début de grossesse
	Outcome Outcome
	EndDate time.Time // delivery or end date; zero while ongoing
}

// maxWeeks bounds how long ago a pregnancy may have started when it is added:
// beyond 44 SA (42 weeks after the start) it cannot be ongoing.
const maxWeeks = 42

// New checks "Ajouter une grossesse": the start date is required, not in
// the future, and recent enough to be an ongoing pregnancy.
func New(start, today time.Time) (Pregnancy, error) {
	if start.IsZero() {
		return Pregnancy{}, &FieldError{"debut", "La date de début de grossesse est obligatoire."}
	}
	s, d := civil(start), civil(today)
	if s.After(d) {
		return Pregnancy{}, &FieldError{"debut", "La date de début de grossesse ne peut pas être dans le futur."}
	}
	if s.AddDate(0, 0, 7*maxWeeks).Before(d) {
		return Pregnancy{}, &FieldError{"debut", "La date de début de grossesse ne peut pas dater de plus de 42 semaines."}
	}
	return Pregnancy{Start: s}, nil
}

// ErrFinished is returned when a finished pregnancy is changed again.
var ErrFinished = errors.New("pregnancy: already finished")

// CanDeclareBirth tells whether "J'ai accouché" is offered: from the first
// day of month 6 (domain.md), while the pregnancy is ongoing.
func (p Pregnancy) CanDeclareBirth(today time.Time) bool {
	return p.Outcome == Ongoing && !civil(today).Before(monthStart(p.Start, 6))
}

// DeclareBirth is "J'ai accouché": offered from month 6; the delivery date
// (JJ/MM/AAAA) is required, not in the future and not before the start.
func (p Pregnancy) DeclareBirth(delivery, today time.Time) (Pregnancy, error) {
	if p.Outcome != Ongoing {
		return p, ErrFinished
	}
	if !p.CanDeclareBirth(today) {
		return p, &FieldError{"accouchement", "« J'ai accouché » est possible à partir du 6e mois de grossesse."}
	}
	if err := checkEnd("accouchement", "d'accouchement", p.Start, delivery, today); err != nil {
		return p, err
	}
	p.Outcome, p.EndDate = Delivered, civil(delivery)
	return p, nil
}

// End is "Je ne suis plus enceinte", possible at any time; the end date is
// required, not in the future and not before the start.
func (p Pregnancy) End(end, today time.Time) (Pregnancy, error) {
	if p.Outcome != Ongoing {
		return p, ErrFinished
	}
	if err := checkEnd("fin", "de fin de grossesse", p.Start, end, today); err != nil {
		return p, err
	}
	p.Outcome, p.EndDate = Ended, civil(end)
	return p, nil
}

func checkEnd(field, what string, start, date, today time.Time) error {
	if date.IsZero() {
		return &FieldError{field, "La date " + what + " est obligatoire."}
	}
	if civil(date).After(civil(today)) {
		return &FieldError{field, "La date " + what + " ne peut pas être dans le futur."}
	}
	if civil(date).Before(civil(start)) {
		return &FieldError{field, "La date " + what + " ne peut pas être avant le début de grossesse."}
	}
	return nil
}

// Agenda is what the agenda shows for the pregnancy: the exams while it is
// ongoing, the postnatal appointments from the expected (then the real)
// delivery date; nothing once it ended without a birth.
func (p Pregnancy) Agenda() []Exam {
	switch p.Outcome {
	case Delivered:
		return AfterBirth(p.EndDate)
	case Ended:
		return nil
	}
	return append(Exams(p.Start), AfterBirth(ExpectedDelivery(p.Start))...)
}
