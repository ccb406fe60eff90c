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
	"mssanted/dmp/catalogue"
	"mssanted/dmp/pregnancy"
	"mssanted/dmp/schedule"
)

// AnswerRecord is one dated answer to a lifestyle question.
type AnswerRecord struct {
	ID       int64
	Question string
	Value    string
	Date     time.Time // "Renseigné le …"
	At       time.Time
}

// Label is the answer's label ("Oui, tous les jours").
func (a AnswerRecord) Label() string { return advice.Label(a.Question, a.Value) }

// Answers are the person's latest lifestyle answers.
func (s *Store) Answers(ctx context.Context, actor *directory.Account, personID int64) (advice.Answers, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	return s.answers(ctx, person.ID)
}

func (s *Store) answers(ctx context.Context, personID int64) (advice.Answers, error) {
	hist, err := s.history(ctx, personID, "")
	if err != nil {
		return nil, err
	}
	out := advice.Answers{}
	for _, h := range hist { // newest first: keep the first of each question
		if _, ok := out[h.Question]; !ok {
			out[h.Question] = advice.Answer{Value: h.Value, Date: h.Date}
		}
	}
	return out, nil
}

// AnswerHistory lists the answers given, newest first; question "" for
// every question.
func (s *Store) AnswerHistory(ctx context.Context, actor *directory.Account, personID int64, question string) ([]AnswerRecord, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	return s.history(ctx, person.ID, question)
}

func (s *Store) history(ctx context.Context, personID int64, question string) ([]AnswerRecord, error) {
	var rows *sql.Rows
	var err error
	const cols = `SELECT id, question, value, answered_on, answered_at FROM lifestyle_answers WHERE person_id = $1`
	if question == "" {
		rows, err = s.db.Read().QueryContext(ctx, cols+` ORDER BY answered_at DESC, id DESC`, personID)
	} else {
		rows, err = s.db.Read().QueryContext(ctx, cols+` AND question = $2 ORDER BY answered_at DESC, id DESC`, personID, question)
	}
	if err != nil {
		return nil, fmt.Errorf("care: answers: %w", err)
	}
	defer rows.Close()
	var out []AnswerRecord
	for rows.Next() {
		var a AnswerRecord
		var on string
		var at int64
		if err := rows.Scan(&a.ID, &a.Question, &a.Value, &on, &at); err != nil {
			return nil, fmt.Errorf("care: answers: %w", err)
		}
		a.Date, a.At = parseDate(on), db.Time(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// SaveAnswers records answers (question code → choice code), dated day
// (zero: today), after advice.Validate. The previous answers stay in the
// history.
func (s *Store) SaveAnswers(ctx context.Context, actor *directory.Account, personID int64, values map[string]string, day time.Time) error {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return err
	}
	if len(values) == 0 {
		return fieldErr("answers", "Répondez à au moins une question.", "no answer")
	}
	today := s.Today()
	if day.IsZero() {
		day = today
	}
	day = Civil(day)
	if day.After(today) {
		return fieldErr("date", "La date ne peut pas être dans le futur.", "date in the future")
	}
	ans := advice.Answers{}
	for q, v := range values {
		ans[q] = advice.Answer{Value: v, Date: day}
	}
	if err := advice.Validate(ans); err != nil {
		var ae *advice.AnswerError
		if errors.As(err, &ae) {
			return fieldErr(ae.Question, ae.Message, "answer refused")
		}
		return fmt.Errorf("%w", err)
	}
	qs := make([]string, 0, len(values))
	for q := range values {
		qs = append(qs, q)
	}
	sort.Strings(qs)
	now := db.Micros(s.now())
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, q := range qs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO lifestyle_answers (person_id, question, value, answered_on, answered_at, answered_by)
				VALUES ($1, $2, $3, $4, $5, $6)`, person.ID, q, values[q], fmtDate(day), now, actor.ID); err != nil {
				return fmt.Errorf("care: save answers: %w", err)
			}
		}
		return nil
	})
}

// ThemeState is one questionnaire with the person's latest answers.
type ThemeState struct {
	advice.Theme
	Answers  map[string]AnswerRecord // by question code
	Complete bool
}

// Questionnaire is the lifestyle prompt: every theme with its answers and
// the theme to propose next (advice.NextTheme), nil once all are answered.
type Questionnaire struct {
	Themes []ThemeState
	Next   *advice.Theme
}

// Questionnaire returns the themes, the person's answers and the next
// theme to propose.
func (s *Store) Questionnaire(ctx context.Context, actor *directory.Account, personID int64) (*Questionnaire, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	hist, err := s.history(ctx, person.ID, "")
	if err != nil {
		return nil, err
	}
	latest := map[string]AnswerRecord{}
	ans := advice.Answers{}
	for _, h := range hist {
		if _, ok := latest[h.Question]; !ok {
			latest[h.Question] = h
			ans[h.Question] = advice.Answer{Value: h.Value, Date: h.Date}
		}
	}
	q := &Questionnaire{}
	for _, t := range advice.Themes() {
		ts := ThemeState{Theme: t, Answers: map[string]AnswerRecord{}, Complete: true}
		for _, qu := range t.Questions {
			if a, ok := latest[qu.Code]; ok {
				ts.Answers[qu.Code] = a
			} else {
				ts.Complete = false
			}
		}
		q.Themes = append(q.Themes, ts)
	}
	if t, ok := advice.NextTheme(ans); ok {
		q.Next = &t
	}
	return q, nil
}

// Situations are the states of the person that target articles: an
// ongoing pregnancy, a birth in the last six months, a child under six
// they represent.
func (s *Store) situations(ctx context.Context, person *directory.Account, today time.Time) ([]advice.Situation, error) {
	var out []advice.Situation
	pregs, err := s.pregnancies(ctx, s.db.Read(), person.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range pregs {
		if p.Ongoing() {
			out = append(out, advice.Pregnant)
		} else if p.Outcome == pregnancy.Delivered && !p.EndDate.AddDate(0, 6, 0).Before(today) {
			out = append(out, advice.Postpartum)
		}
	}
	persons, err := s.docs.Persons(ctx, person)
	if err != nil {
		return nil, err
	}
	for _, p := range persons {
		if !p.Self && !p.BirthDate.IsZero() && p.BirthDate.AddDate(6, 0, 0).After(today) {
			out = append(out, advice.Parent)
			break
		}
	}
	return out, nil
}

// ForMe is "Pour moi": the articles ranked for the person's age, sex,
// latest answers and situation (advice.ForMe), of one theme or all ("").
func (s *Store) ForMe(ctx context.Context, actor *directory.Account, personID int64, theme string) ([]advice.Recommendation, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	if err := checkTheme(theme); err != nil {
		return nil, err
	}
	ans, err := s.answers(ctx, person.ID)
	if err != nil {
		return nil, err
	}
	today := s.Today()
	sits, err := s.situations(ctx, person, today)
	if err != nil {
		return nil, err
	}
	p := profileOf(person)
	var out []advice.Recommendation
	for _, r := range advice.ForMe(age(p.birth, today), advice.Sex(p.sex), ans, sits...) {
		if theme == "" || r.Theme == theme {
			out = append(out, r)
		}
	}
	return out, nil
}

// Articles is the library of one theme, or all by theme (""), for the
// person (who must be acted for, like every call of the space).
func (s *Store) Articles(ctx context.Context, actor *directory.Account, personID int64, theme string) ([]advice.Article, error) {
	if _, err := s.act(ctx, actor, personID); err != nil {
		return nil, err
	}
	if err := checkTheme(theme); err != nil {
		return nil, err
	}
	return advice.ByTheme(theme), nil
}

func checkTheme(theme string) error {
	if theme == "" {
		return nil
	}
	for _, t := range advice.ThemeLabels {
		if t.Code == theme {
			return nil
		}
	}
	return fieldErr("theme", fmt.Sprintf("Thème inconnu : « %s ».", theme), "unknown theme "+theme)
}

// Soon is the Prevention page's first section: exams and vaccinations to
// do soon (current windows and those opening within horizon), with their
// statuses.
func (s *Store) Soon(ctx context.Context, actor *directory.Account, personID int64, horizon time.Duration) ([]Entry, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	today := s.Today()
	items, err := s.agendaItems(ctx, profileOf(person), today)
	if err != nil {
		return nil, err
	}
	limit := today.Add(horizon)
	var out []Entry
	for _, e := range items {
		if e.When == schedule.Current || (e.When == schedule.Future && !e.From.After(limit)) {
			out = append(out, e)
		}
	}
	sortEntries(out)
	return out, nil
}

// Catalogue is the services catalogue filtered by region and theme (codes
// of catalogue.Regions and catalogue.Themes; "" does not filter). It is the
// same for everyone: no person, nothing stored.
func (s *Store) Catalogue(region, theme string) ([]catalogue.Service, error) {
	out, err := catalogue.Filter(region, theme)
	if err != nil {
		field := "region"
		if region == "" || catalogue.Label(catalogue.Regions, region) != "" {
			field = "theme"
		}
		return nil, fieldErr(field, err.Error(), "unknown "+field)
	}
	return out, nil
}
