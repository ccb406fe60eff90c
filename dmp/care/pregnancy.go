package care

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"mssanted/db"
	"mssanted/directory"
	"mssanted/dmp/advice"
	"mssanted/dmp/pregnancy"
)

// Pregnancy is one stored pregnancy of a person.
type Pregnancy struct {
	ID       int64
	PersonID int64
	pregnancy.Pregnancy
	CreatedAt time.Time
}

// Ongoing tells whether the pregnancy has not ended.
func (p *Pregnancy) Ongoing() bool { return p.Outcome == pregnancy.Ongoing }

// Expected is the expected delivery date.
func (p *Pregnancy) Expected() time.Time { return pregnancy.ExpectedDelivery(p.Start) }

// BirthFrom is the first day "J'ai accouché" is offered (month 6).
func (p *Pregnancy) BirthFrom() time.Time {
	for d := p.Start; ; d = d.AddDate(0, 0, 1) {
		if pregnancy.MonthOf(p.Start, d) >= 6 {
			return d
		}
	}
}

// prefix is the item-code prefix of this pregnancy's exams in the agenda.
func (p *Pregnancy) prefix() string { return fmt.Sprintf("G%d-", p.ID) }

// fromPregnancyErr turns the pathway's refusals into field errors.
func fromPregnancyErr(err error, field string) error {
	var fe *pregnancy.FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: fe.Field, Message: fe.Message, English: "pregnancy: " + fe.Field + " refused"}
	}
	if errors.Is(err, pregnancy.ErrFinished) {
		return fieldErr(field, "Cette grossesse est déjà terminée.", "this pregnancy has already ended")
	}
	return err
}

const pregnancyColumns = `id, person_id, start_date, outcome, end_date, created_at`

func scanPregnancy(sc interface{ Scan(...any) error }) (*Pregnancy, error) {
	var p Pregnancy
	var start, outcome, end string
	var created int64
	if err := sc.Scan(&p.ID, &p.PersonID, &start, &outcome, &end, &created); err != nil {
		return nil, err
	}
	p.Start, p.Outcome, p.EndDate, p.CreatedAt = parseDate(start), pregnancy.Outcome(outcome), parseDate(end), db.Time(created)
	return &p, nil
}

// Pregnancies lists the person's pregnancies: the ongoing one first, then
// the past ones, most recent first.
func (s *Store) Pregnancies(ctx context.Context, actor *directory.Account, personID int64) ([]*Pregnancy, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	return s.pregnancies(ctx, s.db.Read(), person.ID)
}

func (s *Store) pregnancies(ctx context.Context, q db.Querier, personID int64) ([]*Pregnancy, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+pregnancyColumns+` FROM pregnancies WHERE person_id = $1`, personID)
	if err != nil {
		return nil, fmt.Errorf("care: pregnancies: %w", err)
	}
	defer rows.Close()
	var out []*Pregnancy
	for rows.Next() {
		p, err := scanPregnancy(rows)
		if err != nil {
			return nil, fmt.Errorf("care: pregnancies: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("care: pregnancies: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Ongoing() != out[j].Ongoing() {
			return out[i].Ongoing()
		}
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.After(out[j].Start)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// Pregnancy returns one pregnancy of the person.
func (s *Store) Pregnancy(ctx context.Context, actor *directory.Account, personID, id int64) (*Pregnancy, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	return s.pregnancy(ctx, s.db.Read(), person.ID, id, "")
}

func (s *Store) pregnancy(ctx context.Context, q db.Querier, personID, id int64, suffix string) (*Pregnancy, error) {
	p, err := scanPregnancy(q.QueryRowContext(ctx, `SELECT `+pregnancyColumns+` FROM pregnancies WHERE id = $1 AND person_id = $2`+suffix, id, personID))
	if isNoRows(err) {
		return nil, notFound("no such pregnancy")
	}
	if err != nil {
		return nil, fmt.Errorf("care: pregnancy: %w", err)
	}
	return p, nil
}

// AddPregnancy is "Ajouter une grossesse": the start date (début de
// grossesse) is checked by dmp/pregnancy; one pregnancy may be ongoing at a
// time.
func (s *Store) AddPregnancy(ctx context.Context, actor *directory.Account, personID int64, start time.Time) (*Pregnancy, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	p, err := pregnancy.New(start, s.Today())
	if err != nil {
		return nil, fromPregnancyErr(err, "debut")
	}
	if b := profileOf(person).birth; !b.IsZero() && p.Start.Before(b) {
		return nil, fieldErr("debut", "La date de début de grossesse ne peut pas être avant la naissance.", "start before birth")
	}
	ongoing := fieldErr("debut", "Une grossesse est déjà en cours : déclarez d'abord sa fin (« J'ai accouché » ou « Je ne suis plus enceinte »).",
		"a pregnancy is already ongoing")
	now := s.now()
	var id int64
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pregnancies WHERE person_id = $1 AND outcome = ''`, person.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ongoing
		}
		return tx.QueryRowContext(ctx, `INSERT INTO pregnancies (person_id, start_date, outcome, end_date, created_at, created_by)
			VALUES ($1, $2, '', '', $3, $4) RETURNING id`, person.ID, fmtDate(p.Start), db.Micros(now), actor.ID).Scan(&id)
	})
	if db.IsUniqueViolation(err) {
		return nil, ongoing
	}
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("care: add pregnancy: %w", err)
	}
	return &Pregnancy{ID: id, PersonID: person.ID, Pregnancy: p, CreatedAt: db.Time(db.Micros(now))}, nil
}

// DeclareBirth is "J'ai accouché" (from month 6, date required).
func (s *Store) DeclareBirth(ctx context.Context, actor *directory.Account, personID, id int64, delivery time.Time) (*Pregnancy, error) {
	return s.finish(ctx, actor, personID, id, "accouchement", func(p pregnancy.Pregnancy, today time.Time) (pregnancy.Pregnancy, error) {
		return p.DeclareBirth(delivery, today)
	})
}

// EndPregnancy is "Je ne suis plus enceinte" (any time, date required).
func (s *Store) EndPregnancy(ctx context.Context, actor *directory.Account, personID, id int64, end time.Time) (*Pregnancy, error) {
	return s.finish(ctx, actor, personID, id, "fin", func(p pregnancy.Pregnancy, today time.Time) (pregnancy.Pregnancy, error) {
		return p.End(end, today)
	})
}

func (s *Store) finish(ctx context.Context, actor *directory.Account, personID, id int64, field string,
	rule func(pregnancy.Pregnancy, time.Time) (pregnancy.Pregnancy, error)) (*Pregnancy, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	var out *Pregnancy
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		p, err := s.pregnancy(ctx, tx, person.ID, id, s.db.ForUpdate())
		if err != nil {
			return err
		}
		np, err := rule(p.Pregnancy, s.Today())
		if err != nil {
			return fromPregnancyErr(err, field)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pregnancies SET outcome = $1, end_date = $2 WHERE id = $3`,
			string(np.Outcome), fmtDate(np.EndDate), p.ID); err != nil {
			return fmt.Errorf("care: finish pregnancy: %w", err)
		}
		p.Pregnancy = np
		out = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeletePregnancy removes a pregnancy entered by mistake, with the
// statuses given to its exams.
func (s *Store) DeletePregnancy(ctx context.Context, actor *directory.Account, personID, id int64) error {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		p, err := s.pregnancy(ctx, tx, person.ID, id, s.db.ForUpdate())
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM prevention_statuses WHERE person_id = $1 AND item_code LIKE $2`, person.ID, p.prefix()+"%"); err != nil {
			return fmt.Errorf("care: delete pregnancy: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM pregnancies WHERE id = $1`, p.ID); err != nil {
			return fmt.Errorf("care: delete pregnancy: %w", err)
		}
		return nil
	})
}

// PregnancyMonth is one month of the calendar, its exams with their
// statuses and its articles.
type PregnancyMonth struct {
	pregnancy.Month
	Current  bool
	Items    []Entry
	Articles []advice.Article
}

// PregnancyCalendar is the month-by-month calendar of a pregnancy and its
// postnatal appointments.
type PregnancyCalendar struct {
	Pregnancy  *Pregnancy
	Today      time.Time
	Months     []PregnancyMonth
	AfterBirth []Entry
}

// PregnancyCalendar returns months 1 to 9 with the exams to plan (date
// windows, statuses) and the articles to read, and the appointments after
// birth (from the expected, then the real delivery date).
func (s *Store) PregnancyCalendar(ctx context.Context, actor *directory.Account, personID, id int64) (*PregnancyCalendar, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	p, err := s.pregnancy(ctx, s.db.Read(), person.ID, id, "")
	if err != nil {
		return nil, err
	}
	today := s.Today()
	records, err := s.records(ctx, person.ID)
	if err != nil {
		return nil, err
	}
	track := func(exams []pregnancy.Exam) []Entry {
		items := make([]itemSource, 0, len(exams))
		for _, e := range exams {
			items = append(items, pregnancyItem(p, e))
		}
		return s.trackItems(items, records, today)
	}
	cal := &PregnancyCalendar{Pregnancy: p, Today: today}
	current := 0
	if p.Ongoing() {
		current = pregnancy.MonthOf(p.Start, today)
	}
	for _, m := range pregnancy.Calendar(p.Start) {
		pm := PregnancyMonth{Month: m, Current: m.N == current, Items: track(m.Exams)}
		for _, aid := range m.Articles {
			if a, ok := advice.ArticleByID(aid); ok {
				pm.Articles = append(pm.Articles, a)
			}
		}
		cal.Months = append(cal.Months, pm)
	}
	delivery := p.Expected()
	if p.Outcome == pregnancy.Delivered {
		delivery = p.EndDate
	}
	if p.Outcome != pregnancy.Ended {
		cal.AfterBirth = track(pregnancy.AfterBirth(delivery))
	}
	return cal, nil
}
