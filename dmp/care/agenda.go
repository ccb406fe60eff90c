package care

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"mssanted/db"
	"mssanted/directory"
	"mssanted/dmp/pregnancy"
	"mssanted/dmp/schedule"
)

// Kinds of agenda entries.
const (
	KindEvent      = "event"      // entered by the person
	KindPrevention = "prevention" // computed by dmp/schedule
	KindPregnancy  = "pregnancy"  // computed by dmp/pregnancy
)

// Types of agenda entries beyond dmp/schedule's (the agenda's filter).
const (
	TypeAppointment = "appointment"
	TypeReminder    = "reminder"
	TypePregnancy   = "pregnancy"
)

// Types lists the agenda's filter: every entry type, in the filter's order.
var Types = []string{TypeAppointment, TypeReminder, string(schedule.Exam), string(schedule.Dental), string(schedule.Screening),
	string(schedule.Vaccination), string(schedule.CheckUp), TypePregnancy}

// TypeLabel is the French name of an entry type.
func TypeLabel(t string) string {
	switch t {
	case TypeAppointment:
		return "Rendez-vous"
	case TypeReminder:
		return "Rappels"
	case TypePregnancy:
		return "Grossesse"
	}
	return schedule.Type(t).Label()
}

// Event is an appointment or a reminder the person entered (mes-model.md
// §4: name, practitioner or healthcare service, date, comment, speciality,
// address).
type Event struct {
	ID         int64
	PersonID   int64
	Kind       string // TypeAppointment or TypeReminder
	Title      string
	Date       time.Time // civil date
	Time       string    // "HH:MM" in Europe/Paris, "" for the whole day
	WithType   string    // "practitioner", "service" or ""
	With       string    // the practitioner's or the service's name
	Speciality string
	Address    string
	Notes      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// EventInput is what the person enters for an event.
type EventInput struct {
	Kind       string
	Title      string
	Date       time.Time
	Time       string
	WithType   string
	With       string
	Speciality string
	Address    string
	Notes      string
}

// Entry is one line of the agenda: an event, or a prevention or pregnancy
// item with its status.
type Entry struct {
	ID    string // the item's code, or "E<event id>"
	Kind  string // KindEvent, KindPrevention, KindPregnancy
	Type  string // one of Types
	Title string
	Label string // usual age label, or the month of pregnancy
	// From is the first day (the event's day), To the last day included;
	// zero To: no end.
	From, To    time.Time
	When        schedule.When
	Status      schedule.Status // items only
	Executed    time.Time       // items: the date done
	Requirement schedule.Requirement
	Vaccine     string
	Note        string
	Sources     []schedule.Source
	PregnancyID int64
	// VaccinationID is the vaccination record that marks the item done.
	VaccinationID int64
	Event         *Event
}

// IsItem tells whether the entry is a computed item (it has a status).
func (e *Entry) IsItem() bool { return e.Kind != KindEvent }

// itemSource is a computed item and where it comes from.
type itemSource struct {
	item        schedule.Item
	kind        string
	pregnancyID int64
}

func pregnancyItem(p *Pregnancy, e pregnancy.Exam) itemSource {
	srcs := make([]schedule.Source, len(e.Sources))
	for i, s := range e.Sources {
		srcs[i] = schedule.Source{Ref: s.Ref, Title: s.Title, URL: s.URL}
	}
	label := "Après l'accouchement"
	if e.Month == 1 {
		label = "1er mois de grossesse"
	} else if e.Month > 1 {
		label = fmt.Sprintf("%de mois de grossesse", e.Month)
	}
	return itemSource{kind: KindPregnancy, pregnancyID: p.ID, item: schedule.Item{Code: p.prefix() + e.Code, Type: schedule.Type(TypePregnancy),
		Title: e.Title, Label: label, Requirement: schedule.Requirement(e.Requirement), From: e.From, To: e.To, Note: e.Note, Sources: srcs}}
}

// trackItems joins statuses to items (schedule.Track) as agenda entries.
func (s *Store) trackItems(items []itemSource, records []schedule.Record, today time.Time) []Entry {
	plain := make([]schedule.Item, len(items))
	for i, it := range items {
		plain[i] = it.item
	}
	tracked := schedule.Track(plain, records, today, s.soon)
	out := make([]Entry, len(items))
	for i, t := range tracked {
		out[i] = Entry{ID: t.Code, Kind: items[i].kind, Type: string(t.Type), Title: t.Title, Label: t.Label, From: t.From, To: t.To,
			When: t.When(today), Status: t.Status, Executed: t.Executed, Requirement: t.Requirement, Vaccine: t.Vaccine, Note: t.Note,
			Sources: t.Sources, PregnancyID: items[i].pregnancyID}
	}
	return out
}

// records are the statuses the person gave, then the doses of the
// vaccination record linked to an item, which win.
func (s *Store) records(ctx context.Context, personID int64) ([]schedule.Record, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT item_code, status, executed FROM prevention_statuses WHERE person_id = $1`, personID)
	if err != nil {
		return nil, fmt.Errorf("care: statuses: %w", err)
	}
	defer rows.Close()
	var out []schedule.Record
	for rows.Next() {
		var code, status, executed string
		if err := rows.Scan(&code, &status, &executed); err != nil {
			return nil, fmt.Errorf("care: statuses: %w", err)
		}
		out = append(out, schedule.Record{Code: code, Status: schedule.Status(status), Executed: parseDate(executed)})
	}
	return out, rows.Err()
}

// agendaItems computes every item of the person (whole life: prevention
// items from birth date and sex, the pregnancies' exams) with their
// statuses, the vaccination record marking the matching items done.
func (s *Store) agendaItems(ctx context.Context, p profile, today time.Time) ([]Entry, error) {
	var items []itemSource
	if !p.birth.IsZero() {
		for _, it := range s.sched.Items(p.birth, schedule.Sex(p.sex), today, schedule.Options{}) {
			items = append(items, itemSource{item: it, kind: KindPrevention})
		}
	}
	pregs, err := s.pregnancies(ctx, s.db.Read(), p.acct.ID)
	if err != nil {
		return nil, err
	}
	for _, pr := range pregs {
		for _, e := range pr.Agenda() {
			items = append(items, pregnancyItem(pr, e))
		}
	}
	records, err := s.records(ctx, p.acct.ID)
	if err != nil {
		return nil, err
	}
	vacs, err := s.vaccinations(ctx, p.acct.ID)
	if err != nil {
		return nil, err
	}
	plain := make([]schedule.Item, len(items))
	for i, it := range items {
		plain[i] = it.item
	}
	matches := matchVaccinations(plain, vacs)
	for code, v := range matches {
		records = append(records, schedule.Record{Code: code, Status: schedule.Done, Executed: v.Date})
	}
	// Track keeps the last record of a code: the vaccination wins.
	entries := s.trackItems(items, records, today)
	for i := range entries {
		if v, ok := matches[entries[i].ID]; ok {
			entries[i].VaccinationID = v.ID
		}
	}
	return entries, nil
}

// AgendaQuery filters the agenda.
type AgendaQuery struct {
	Types    []string          // none: every type
	Statuses []schedule.Status // items only; none: every status (and the events)
	All      bool              // "Tous": the whole life, past included
}

// Check refuses unknown types and statuses.
func (q AgendaQuery) Check() error {
	for _, t := range q.Types {
		if !slices.Contains(Types, t) {
			return fieldErr("type", fmt.Sprintf("Type inconnu : « %s ».", t), "unknown type "+t)
		}
	}
	for _, st := range q.Statuses {
		switch st {
		case schedule.ToPlan, schedule.NotSpecified, schedule.Done, schedule.NotDone:
		default:
			return fieldErr("status", fmt.Sprintf("Statut inconnu : « %s ».", st), "unknown status "+string(st))
		}
	}
	return nil
}

// Agenda is the person's agenda: their events and the computed items with
// their statuses, upcoming first (current windows, the one closing soonest
// on top; then future ones by start; then, with All, past ones, most recent
// first).
func (s *Store) Agenda(ctx context.Context, actor *directory.Account, personID int64, q AgendaQuery) ([]Entry, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	return s.agenda(ctx, profileOf(person), s.Today(), q)
}

func (s *Store) agenda(ctx context.Context, p profile, today time.Time, q AgendaQuery) ([]Entry, error) {
	items, err := s.agendaItems(ctx, p, today)
	if err != nil {
		return nil, err
	}
	events, err := s.events(ctx, p.acct.ID)
	if err != nil {
		return nil, err
	}
	all := items
	for _, e := range events {
		all = append(all, eventEntry(e, today))
	}
	var out []Entry
	for _, e := range all {
		if len(q.Types) > 0 && !slices.Contains(q.Types, e.Type) {
			continue
		}
		if len(q.Statuses) > 0 && (!e.IsItem() || !slices.Contains(q.Statuses, e.Status)) {
			continue
		}
		if !q.All && e.When == schedule.Past {
			continue
		}
		out = append(out, e)
	}
	sortEntries(out)
	return out, nil
}

func eventEntry(e *Event, today time.Time) Entry {
	w := schedule.Current
	if e.Date.Before(today) {
		w = schedule.Past
	} else if e.Date.After(today) {
		w = schedule.Future
	}
	return Entry{ID: fmt.Sprintf("E%d", e.ID), Kind: KindEvent, Type: e.Kind, Title: e.Title, From: e.Date, To: e.Date, When: w, Note: e.Notes, Event: e}
}

// sortEntries orders as schedule.UpcomingFirst does, events of a day by
// their time.
func sortEntries(es []Entry) {
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	end := func(e Entry) time.Time {
		if e.To.IsZero() {
			return far
		}
		return e.To
	}
	rank := func(e Entry) int {
		switch e.When {
		case schedule.Current:
			return 0
		case schedule.Future:
			return 1
		}
		return 2
	}
	clock := func(e Entry) string {
		if e.Event != nil {
			return e.Event.Time
		}
		return ""
	}
	slices.SortStableFunc(es, func(a, b Entry) int {
		ra, rb := rank(a), rank(b)
		if ra != rb {
			return ra - rb
		}
		var c int
		switch ra {
		case 0:
			c = end(a).Compare(end(b))
		case 1:
			c = a.From.Compare(b.From)
		default:
			c = end(b).Compare(end(a))
		}
		if c != 0 {
			return c
		}
		if c = strings.Compare(clock(a), clock(b)); ra == 2 {
			c = -c
		}
		if c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// AgendaItem returns one entry by id (an item code or "E<event id>"),
// whatever its date.
func (s *Store) AgendaItem(ctx context.Context, actor *directory.Account, personID int64, id string) (*Entry, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	es, err := s.agenda(ctx, profileOf(person), s.Today(), AgendaQuery{All: true})
	if err != nil {
		return nil, err
	}
	for i := range es {
		if es[i].ID == id {
			return &es[i], nil
		}
	}
	return nil, notFound("no such agenda item")
}

// SetItemStatus records what the person says of a computed item: DONE
// (with the date done, optional), NOT_DONE, or NOT_SPECIFIED to clear it.
// TO_PLAN is computed and refused (schedule.Record.Check).
func (s *Store) SetItemStatus(ctx context.Context, actor *directory.Account, personID int64, code string, status schedule.Status, executed time.Time) (*Entry, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	p, today := profileOf(person), s.Today()
	items, err := s.agendaItems(ctx, p, today)
	if err != nil {
		return nil, err
	}
	found := false
	for _, it := range items {
		if it.ID == code {
			found = true
		}
	}
	if !found {
		return nil, notFound("no such prevention item")
	}
	rec := schedule.Record{Code: code, Status: status, Executed: executed}
	if err := rec.Check(p.birth, today); err != nil {
		field := "status"
		if strings.Contains(err.Error(), "date") {
			field = "date"
		}
		return nil, fieldErr(field, sentence(err.Error()), "status refused: "+err.Error())
	}
	if status == schedule.NotSpecified {
		_, err = s.db.Write().ExecContext(ctx, `DELETE FROM prevention_statuses WHERE person_id = $1 AND item_code = $2`, person.ID, code)
	} else {
		_, err = s.db.Write().ExecContext(ctx, `INSERT INTO prevention_statuses (person_id, item_code, status, executed, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (person_id, item_code) DO UPDATE SET status = excluded.status, executed = excluded.executed,
				updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			person.ID, code, string(status), fmtDate(Civil(executed)), db.Micros(s.now()), actor.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("care: status: %w", err)
	}
	items, err = s.agendaItems(ctx, p, today)
	if err != nil {
		return nil, err
	}
	for i := range items {
		if items[i].ID == code {
			return &items[i], nil
		}
	}
	return nil, notFound("no such prevention item")
}

// sentence capitalises a message of the rules and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = strings.ToUpper(string(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// Events.

const eventColumns = `id, person_id, kind, title, event_date, event_time, with_type, with_name, speciality, address, notes, created_at, updated_at`

func scanEvent(sc interface{ Scan(...any) error }) (*Event, error) {
	var e Event
	var date string
	var created, updated int64
	if err := sc.Scan(&e.ID, &e.PersonID, &e.Kind, &e.Title, &date, &e.Time, &e.WithType, &e.With, &e.Speciality, &e.Address, &e.Notes,
		&created, &updated); err != nil {
		return nil, err
	}
	e.Date, e.CreatedAt, e.UpdatedAt = parseDate(date), db.Time(created), db.Time(updated)
	return &e, nil
}

func (s *Store) events(ctx context.Context, personID int64) ([]*Event, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+eventColumns+` FROM agenda_events WHERE person_id = $1 ORDER BY event_date, event_time, id`, personID)
	if err != nil {
		return nil, fmt.Errorf("care: events: %w", err)
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("care: events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

var clockRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

func (in *EventInput) check(birth time.Time) error {
	in.Kind = strings.TrimSpace(in.Kind)
	if in.Kind == "" {
		in.Kind = TypeAppointment
	}
	in.Title, in.Time, in.WithType = strings.TrimSpace(in.Title), strings.TrimSpace(in.Time), strings.TrimSpace(in.WithType)
	in.With, in.Speciality, in.Address, in.Notes = strings.TrimSpace(in.With), strings.TrimSpace(in.Speciality), strings.TrimSpace(in.Address), strings.TrimSpace(in.Notes)
	switch {
	case in.Kind != TypeAppointment && in.Kind != TypeReminder:
		return fieldErr("kind", "Choisissez « rendez-vous » ou « rappel ».", "kind must be appointment or reminder")
	case in.Title == "":
		return fieldErr("title", "Le titre est obligatoire.", "title is required")
	case utf8.RuneCountInString(in.Title) > 200:
		return fieldErr("title", "Le titre ne peut pas dépasser 200 caractères.", "title too long")
	case in.Date.IsZero():
		return fieldErr("date", "La date est obligatoire.", "date is required")
	case in.Date.Year() < 1900 || in.Date.Year() > 2200:
		return fieldErr("date", "La date n'est pas valide.", "date out of range")
	case in.Time != "" && !clockRE.MatchString(in.Time):
		return fieldErr("time", "L'heure doit être au format HH:MM.", "time must be HH:MM")
	case in.WithType != "" && in.WithType != "practitioner" && in.WithType != "service":
		return fieldErr("with_type", "Choisissez un professionnel ou un établissement.", "with_type must be practitioner or service")
	case utf8.RuneCountInString(in.With) > 200 || utf8.RuneCountInString(in.Speciality) > 200:
		return fieldErr("with", "Le nom ne peut pas dépasser 200 caractères.", "name too long")
	case utf8.RuneCountInString(in.Address) > 500:
		return fieldErr("address", "L'adresse ne peut pas dépasser 500 caractères.", "address too long")
	case utf8.RuneCountInString(in.Notes) > 4000:
		return fieldErr("notes", "Les notes ne peuvent pas dépasser 4 000 caractères.", "notes too long")
	}
	if !birth.IsZero() && in.Date.Before(birth) {
		return fieldErr("date", "La date ne peut pas être avant la naissance.", "date before birth")
	}
	if in.With != "" && in.WithType == "" {
		in.WithType = "practitioner"
	}
	in.Date = Civil(in.Date)
	return nil
}

// Event returns one event of the person.
func (s *Store) Event(ctx context.Context, actor *directory.Account, personID, id int64) (*Event, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	return s.event(ctx, person.ID, id)
}

func (s *Store) event(ctx context.Context, personID, id int64) (*Event, error) {
	e, err := scanEvent(s.db.Read().QueryRowContext(ctx, `SELECT `+eventColumns+` FROM agenda_events WHERE id = $1 AND person_id = $2`, id, personID))
	if isNoRows(err) {
		return nil, notFound("no such event")
	}
	if err != nil {
		return nil, fmt.Errorf("care: event: %w", err)
	}
	return e, nil
}

// AddEvent adds an appointment or a reminder to the agenda.
func (s *Store) AddEvent(ctx context.Context, actor *directory.Account, personID int64, in EventInput) (*Event, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	if err := in.check(profileOf(person).birth); err != nil {
		return nil, err
	}
	now := db.Micros(s.now())
	var id int64
	err = s.db.Write().QueryRowContext(ctx, `INSERT INTO agenda_events (person_id, kind, title, event_date, event_time, with_type, with_name,
		speciality, address, notes, created_at, updated_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING id`,
		person.ID, in.Kind, in.Title, fmtDate(in.Date), in.Time, in.WithType, in.With, in.Speciality, in.Address, in.Notes, now, actor.ID).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("care: add event: %w", err)
	}
	return s.event(ctx, person.ID, id)
}

// UpdateEvent replaces an event's fields.
func (s *Store) UpdateEvent(ctx context.Context, actor *directory.Account, personID, id int64, in EventInput) (*Event, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	if err := in.check(profileOf(person).birth); err != nil {
		return nil, err
	}
	res, err := s.db.Write().ExecContext(ctx, `UPDATE agenda_events SET kind = $1, title = $2, event_date = $3, event_time = $4, with_type = $5,
		with_name = $6, speciality = $7, address = $8, notes = $9, updated_at = $10 WHERE id = $11 AND person_id = $12`,
		in.Kind, in.Title, fmtDate(in.Date), in.Time, in.WithType, in.With, in.Speciality, in.Address, in.Notes, db.Micros(s.now()), id, person.ID)
	if err != nil {
		return nil, fmt.Errorf("care: update event: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, notFound("no such event")
	}
	return s.event(ctx, person.ID, id)
}

// DeleteEvent removes an event.
func (s *Store) DeleteEvent(ctx context.Context, actor *directory.Account, personID, id int64) error {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return err
	}
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM agenda_events WHERE id = $1 AND person_id = $2`, id, person.ID)
	if err != nil {
		return fmt.Errorf("care: delete event: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("no such event")
	}
	return nil
}
