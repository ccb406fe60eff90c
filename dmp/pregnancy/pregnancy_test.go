package pregnancy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func f(t time.Time) string { return t.Format("2006-01-02") }

func TestDatesAndTerms(t *testing.T) {
	start := day(2025, 1, 10)
	if got := ExpectedDelivery(start); got != day(2025, 10, 10) {
		t.Errorf("EDD = %s, want 2025-10-10 (start + 39 weeks = 41 SA)", f(got))
	}
	if w, d := SA(start, ExpectedDelivery(start)); w != 41 || d != 0 {
		t.Errorf("term at EDD = %d SA + %d j", w, d)
	}
	if w, d := SA(start, day(2025, 6, 15)); w != 24 || d != 2 {
		t.Errorf("SA on 15 June = %d + %d", w, d)
	}
	if got := FromLastPeriod(day(2024, 12, 27)); got != start {
		t.Errorf("FromLastPeriod = %s", f(got))
	}
	for _, c := range []struct {
		day  time.Time
		want int
	}{
		{day(2025, 1, 9), 0}, {day(2025, 1, 10), 1}, {day(2025, 2, 9), 1}, {day(2025, 2, 10), 2},
		{day(2025, 6, 10), 6}, {day(2025, 9, 10), 9}, {day(2025, 10, 12), 9},
	} {
		if got := MonthOf(start, c.day); got != c.want {
			t.Errorf("MonthOf(%s) = %d, want %d", f(c.day), got, c.want)
		}
	}
}

func TestCalendar(t *testing.T) {
	cal := Calendar(day(2025, 1, 10))
	if len(cal) != 9 {
		t.Fatalf("%d months", len(cal))
	}
	type exam struct{ code, from, to string }
	for _, c := range []struct {
		n            int
		from, to     string
		saFrom, saTo int
		exams        []exam
	}{
		{1, "2025-01-10", "2025-02-09", 2, 6, []exam{
			{"GROSSESSE_CONFIRMATION", "2025-01-10", "2025-03-06"},
			{"GROSSESSE_CONSULTATION_1", "2025-01-10", "2025-04-10"}}},
		{2, "2025-02-10", "2025-03-09", 6, 10, nil},
		{3, "2025-03-10", "2025-04-09", 10, 14, []exam{
			{"GROSSESSE_ECHOGRAPHIE_1", "2025-03-14", "2025-04-03"},
			{"GROSSESSE_DECLARATION", "2025-03-21", "2025-04-10"},
			{"GROSSESSE_BILAN_PREVENTION", "2025-03-21", "2025-06-12"}}},
		{4, "2025-04-10", "2025-05-09", 14, 19, []exam{
			{"GROSSESSE_CONSULTATION_2", "2025-04-10", "2025-05-09"},
			{"GROSSESSE_EPP", "2025-04-10", "2025-06-09"},
			{"GROSSESSE_DENTAIRE", "2025-04-10", "2025-10-09"}}},
		{5, "2025-05-10", "2025-06-09", 19, 23, []exam{
			{"GROSSESSE_CONSULTATION_3", "2025-05-10", "2025-06-09"},
			{"GROSSESSE_ECHOGRAPHIE_2", "2025-05-16", "2025-06-26"},
			{"GROSSESSE_VACCIN_COQUELUCHE", "2025-05-16", "2025-09-11"}}},
		{6, "2025-06-10", "2025-07-09", 23, 27, []exam{
			{"GROSSESSE_CONSULTATION_4", "2025-06-10", "2025-07-09"},
			{"GROSSESSE_HGPO", "2025-06-13", "2025-07-17"}}},
		{7, "2025-07-10", "2025-08-09", 27, 32, []exam{
			{"GROSSESSE_CONSULTATION_5", "2025-07-10", "2025-08-09"},
			{"GROSSESSE_PREPARATION", "2025-07-10", "2025-10-09"},
			{"GROSSESSE_ECHOGRAPHIE_3", "2025-07-25", "2025-09-04"},
			{"GROSSESSE_VACCIN_VRS", "2025-08-08", "2025-09-11"}}},
		{8, "2025-08-10", "2025-09-09", 32, 36, []exam{
			{"GROSSESSE_CONSULTATION_6", "2025-08-10", "2025-09-09"},
			{"GROSSESSE_ANESTHESIE", "2025-08-10", "2025-09-09"},
			{"GROSSESSE_STREPTOCOQUE_B", "2025-08-29", "2025-09-25"}}},
		{9, "2025-09-10", "2025-10-09", 36, 40, []exam{
			{"GROSSESSE_CONSULTATION_7", "2025-09-10", "2025-10-09"}}},
	} {
		m := cal[c.n-1]
		if m.N != c.n || f(m.From) != c.from || f(m.To) != c.to || m.SAFrom != c.saFrom || m.SATo != c.saTo {
			t.Errorf("month %d = %d %s..%s %d-%d SA, want %s..%s %d-%d SA", c.n, m.N, f(m.From), f(m.To), m.SAFrom, m.SATo, c.from, c.to, c.saFrom, c.saTo)
		}
		var got []exam
		for _, e := range m.Exams {
			got = append(got, exam{e.Code, f(e.From), f(e.To)})
		}
		if len(got) != len(c.exams) {
			t.Errorf("month %d exams = %v, want %v", c.n, got, c.exams)
			continue
		}
		for i := range got {
			if got[i] != c.exams[i] {
				t.Errorf("month %d exam %d = %v, want %v", c.n, i, got[i], c.exams[i])
			}
		}
		if len(m.Articles) == 0 {
			t.Errorf("month %d has no article", c.n)
		}
	}
	// The seven compulsory prenatal consultations, one per month from 4 to 9.
	var consult int
	for _, e := range Exams(day(2025, 1, 10)) {
		if strings.HasPrefix(e.Code, "GROSSESSE_CONSULTATION_") {
			consult++
			if e.Requirement != Compulsory {
				t.Errorf("%s is %s", e.Code, e.Requirement)
			}
		}
	}
	if consult != 7 {
		t.Errorf("%d prenatal consultations, want 7", consult)
	}
}

func TestAfterBirth(t *testing.T) {
	got := AfterBirth(day(2025, 9, 30))
	want := []string{"POSTNATAL_EXAMEN 2025-09-30 2025-11-24", "POSTNATAL_ENTRETIEN 2025-10-28 2025-12-01"}
	if len(got) != len(want) {
		t.Fatalf("AfterBirth = %v", got)
	}
	for i, e := range got {
		if s := e.Code + " " + f(e.From) + " " + f(e.To); s != want[i] || e.Month != 0 {
			t.Errorf("%d = %s, want %s", i, s, want[i])
		}
	}
}

func fieldErr(t *testing.T, err error, field, msg string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a FieldError", err)
	}
	if fe.Field != field || fe.Message != msg {
		t.Errorf("got %s %q, want %s %q", fe.Field, fe.Message, field, msg)
	}
}

func TestNew(t *testing.T) {
	today := day(2025, 6, 16)
	p, err := New(day(2025, 1, 10), today)
	if err != nil || p.Start != day(2025, 1, 10) || p.Outcome != Ongoing {
		t.Fatalf("New = %+v, %v", p, err)
	}
	_, err = New(time.Time{}, today)
	fieldErr(t, err, "debut", "La date de début de grossesse est obligatoire.")
	_, err = New(day(2025, 6, 17), today)
	fieldErr(t, err, "debut", "La date de début de grossesse ne peut pas être dans le futur.")
	_, err = New(day(2024, 8, 1), today)
	fieldErr(t, err, "debut", "La date de début de grossesse ne peut pas dater de plus de 42 semaines.")
}

func TestDeclareBirth(t *testing.T) {
	p := Pregnancy{Start: day(2025, 1, 10)}
	// Month 6 starts on 10 June.
	if p.CanDeclareBirth(day(2025, 6, 9)) {
		t.Error("offered in month 5")
	}
	_, err := p.DeclareBirth(day(2025, 6, 8), day(2025, 6, 9))
	fieldErr(t, err, "accouchement", "« J'ai accouché » est possible à partir du 6e mois de grossesse.")

	today := day(2025, 9, 30)
	_, err = p.DeclareBirth(time.Time{}, today)
	fieldErr(t, err, "accouchement", "La date d'accouchement est obligatoire.")
	_, err = p.DeclareBirth(day(2025, 10, 1), today)
	fieldErr(t, err, "accouchement", "La date d'accouchement ne peut pas être dans le futur.")
	_, err = p.DeclareBirth(day(2025, 1, 9), today)
	fieldErr(t, err, "accouchement", "La date d'accouchement ne peut pas être avant le début de grossesse.")

	done, err := p.DeclareBirth(day(2025, 9, 28), today)
	if err != nil || done.Outcome != Delivered || done.EndDate != day(2025, 9, 28) {
		t.Fatalf("DeclareBirth = %+v, %v", done, err)
	}
	if ag := done.Agenda(); len(ag) != 2 || ag[0].Code != "POSTNATAL_EXAMEN" || ag[0].From != day(2025, 9, 28) {
		t.Errorf("agenda after birth = %+v", ag)
	}
	if _, err := done.End(today, today); !errors.Is(err, ErrFinished) {
		t.Errorf("End after birth: %v", err)
	}
}

func TestEnd(t *testing.T) {
	p := Pregnancy{Start: day(2025, 4, 1)}
	today := day(2025, 6, 16)
	_, err := p.End(time.Time{}, today)
	fieldErr(t, err, "fin", "La date de fin de grossesse est obligatoire.")
	_, err = p.End(day(2025, 6, 17), today)
	fieldErr(t, err, "fin", "La date de fin de grossesse ne peut pas être dans le futur.")
	_, err = p.End(day(2025, 3, 31), today)
	fieldErr(t, err, "fin", "La date de fin de grossesse ne peut pas être avant le début de grossesse.")
	// Any time, even in month 1.
	ended, err := p.End(day(2025, 4, 20), today)
	if err != nil || ended.Outcome != Ended || ended.Agenda() != nil {
		t.Fatalf("End = %+v, %v", ended, err)
	}
	if ended.CanDeclareBirth(today) {
		t.Error("birth offered after the end")
	}
	if got := (&FieldError{"fin", "x"}).Error(); got != "fin : x" {
		t.Errorf("Error() = %q", got)
	}
}

func TestOngoingAgenda(t *testing.T) {
	ag := Pregnancy{Start: day(2025, 1, 10)}.Agenda()
	last := ag[len(ag)-1]
	if last.Code != "POSTNATAL_ENTRETIEN" || last.From != day(2025, 11, 7) {
		t.Errorf("last = %+v", last)
	}
	for _, e := range ag {
		if len(e.Sources) == 0 || e.Sources[0].URL == "" {
			t.Errorf("%s has no source", e.Code)
		}
	}
}

func TestDataRefused(t *testing.T) {
	good := dataFile
	for name, text := range map[string]string{
		"unknown key": good + "\ncolour = 1\n",
		"two windows": strings.Replace(good, "sa = [2, 10]", "sa = [2, 10]\nmonths = [1, 2]", 1),
		"bad source":  strings.Replace(good, `sources = ["S31"]`, `sources = ["S99"]`, 1),
		"month 10":    strings.Replace(good, "months = [9, 9]", "months = [9, 10]", 1),
	} {
		if _, err := parse(text); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
