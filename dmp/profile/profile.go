// Package profile is the medical profile ("Profil médical", domain.md;
// shared/mes-model.md §3): the person's own record of their health — follow
// up, diseases, hospitalisations, treatments, handicaps, health
// characteristics, measures with their history, allergies, family history,
// health professionals, entourage and wishes, advance directives — and the
// synthèse the person generates from it and files in their documents.
//
// The profile is NEVER served to professionals: every method takes the
// actor and the person acted for and asks dmp.Store.ActFor first, which
// only lets the person and their legal representatives in. Professionals
// read the synthèse, a document of the library, under the access matrix.
//
// Grossesse (Suivi médical > "Ajouter une grossesse") is the pregnancy
// pathway of dmp/care; it may add its lines to the synthèse through
// AddSummaryPart.
package profile

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"mssanted/db"
	"mssanted/directory"
	"mssanted/dmp"
)

// Store is the medical profile over the database; documents (the
// synthèse, an attached advance directive) live in the dmp.Store.
type Store struct {
	db    *db.DB
	docs  *dmp.Store
	dir   *directory.Store
	now   func() time.Time
	parts []SummaryPart
}

// New returns the profile store. dir resolves the secure mailboxes of
// health professionals; it may be nil (then only free text is accepted).
func New(d *db.DB, docs *dmp.Store, dir *directory.Store) *Store {
	return &Store{db: d, docs: docs, dir: dir, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

func invalid(fr, en string) error { return fmt.Errorf("%w: %s / %s", dmp.ErrInvalid, fr, en) }

// act checks that actor may act for personID and returns the person.
func (s *Store) act(ctx context.Context, actor *directory.Account, personID int64) (*directory.Account, error) {
	if actor == nil {
		return nil, fmt.Errorf("%w: no actor", dmp.ErrForbidden)
	}
	return s.docs.ActFor(ctx, actor, personID)
}

func (s *Store) checker(ctx context.Context, person *directory.Account) *checker {
	c := &checker{now: s.now()}
	if person.Patient != nil {
		c.birth = person.Patient.BirthDate
	}
	c.card = func(address string) (string, string, bool, error) {
		if s.dir == nil {
			return "", "", false, nil
		}
		card, err := s.dir.CardOf(ctx, address, "")
		if err != nil {
			return "", "", false, err
		}
		return card.Name, card.Profession, card.Kind != "", nil
	}
	return c
}

// Entry is one entry of a list section.
type Entry struct {
	ID        int64     `json:"id"`
	Section   Section   `json:"section"`
	Data      Payload   `json:"data"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DecodeEntry reads the JSON of an entry of section, strictly: an unknown
// field is refused.
func DecodeEntry(section Section, raw []byte) (Payload, error) {
	p := newPayload(section)
	if p == nil {
		return nil, fmt.Errorf("%w: unknown section %q", dmp.ErrNotFound, section)
	}
	if err := decodeStrict(raw, p); err != nil {
		return nil, err
	}
	return p, nil
}

func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("Données illisibles : "+jsonProblem(err), "unreadable data: "+err.Error())
	}
	if dec.More() {
		return invalid("Données illisibles", "trailing data")
	}
	return nil
}

func jsonProblem(err error) string {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "champ inconnu " + f
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "type inattendu pour le champ « " + te.Field + " »"
	}
	return "JSON mal formé"
}

const entryColumns = `id, section, data, created_at, updated_at`

func scanEntry(sc interface{ Scan(...any) error }) (*Entry, error) {
	var e Entry
	var section, data string
	var created, updated int64
	if err := sc.Scan(&e.ID, &section, &data, &created, &updated); err != nil {
		return nil, err
	}
	e.Section = Section(section)
	p := newPayload(e.Section)
	if p == nil {
		return nil, fmt.Errorf("profile: entry %d: unknown section %q", e.ID, section)
	}
	if err := json.Unmarshal([]byte(data), p); err != nil {
		return nil, fmt.Errorf("profile: entry %d: %w", e.ID, err)
	}
	e.Data, e.CreatedAt, e.UpdatedAt = p, db.Time(created), db.Time(updated)
	return &e, nil
}

// Entries lists the entries of one section, oldest first.
func (s *Store) Entries(ctx context.Context, actor *directory.Account, personID int64, section Section) ([]Entry, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	if !section.Valid() {
		return nil, fmt.Errorf("%w: unknown section %q", dmp.ErrNotFound, section)
	}
	return s.entries(ctx, s.db.Read(), person.ID, section)
}

func (s *Store) entries(ctx context.Context, q db.Querier, personID int64, section Section) ([]Entry, error) {
	where, args := "person_id = $1", []any{personID}
	if section != "" {
		where, args = where+" AND section = $2", append(args, string(section))
	}
	rows, err := q.QueryContext(ctx, `SELECT `+entryColumns+` FROM profile_entries WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("profile: entries: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// AddEntry validates p and adds it to its section.
func (s *Store) AddEntry(ctx context.Context, actor *directory.Account, personID int64, p Payload) (*Entry, error) {
	return s.saveEntry(ctx, actor, personID, 0, p)
}

// UpdateEntry replaces entry id (of p's section) with p.
func (s *Store) UpdateEntry(ctx context.Context, actor *directory.Account, personID, id int64, p Payload) (*Entry, error) {
	if id <= 0 {
		return nil, dmp.ErrNotFound
	}
	return s.saveEntry(ctx, actor, personID, id, p)
}

func (s *Store) saveEntry(ctx context.Context, actor *directory.Account, personID, id int64, p Payload) (*Entry, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	if p == nil || !p.Section().Valid() {
		return nil, invalid("Section inconnue", "unknown section")
	}
	if err := p.check(s.checker(ctx, person)); err != nil {
		return nil, err
	}
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	section := p.Section()
	now := db.Micros(s.now())
	var out *Entry
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if id != 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM profile_entries WHERE id = $1 AND person_id = $2 AND section = $3`,
				id, person.ID, string(section)).Scan(&n); err != nil {
				return fmt.Errorf("profile: entry: %w", err)
			}
			if n == 0 {
				return dmp.ErrNotFound
			}
		}
		if err := s.crossRules(ctx, tx, person.ID, id, p); err != nil {
			return err
		}
		if id == 0 {
			err = tx.QueryRowContext(ctx, `INSERT INTO profile_entries (person_id, section, data, author_id, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`, person.ID, string(section), string(data), actor.ID, now).Scan(&id)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE profile_entries SET data = $1, author_id = $2, updated_at = $3 WHERE id = $4`,
				string(data), actor.ID, now, id)
		}
		if err != nil {
			return fmt.Errorf("profile: save entry: %w", err)
		}
		out, err = scanEntry(tx.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM profile_entries WHERE id = $1`, id))
		return err
	})
	return out, err
}

// crossRules are the rules across entries of a section: one trusted
// person; one holder per role of health professional, the new holder
// replacing the old (mes-model.md), which stays in the care circle.
func (s *Store) crossRules(ctx context.Context, tx *sql.Tx, personID, id int64, p Payload) error {
	switch v := p.(type) {
	case *Contact:
		if !v.IsTrusted() {
			return nil
		}
		others, err := s.entries(ctx, tx, personID, Contacts)
		if err != nil {
			return err
		}
		for _, o := range others {
			if o.ID != id && o.Data.(*Contact).IsTrusted() {
				return invalid("Vous avez déjà une personne de confiance ("+o.Data.(*Contact).FullName()+") : on n'en désigne qu'une",
					"there is already a trusted person: only one")
			}
		}
	case *HealthProfessional:
		if v.Role == "" {
			return nil
		}
		others, err := s.entries(ctx, tx, personID, HealthProfessionals)
		if err != nil {
			return err
		}
		for _, o := range others {
			hp := o.Data.(*HealthProfessional)
			if o.ID == id || hp.Role != v.Role {
				continue
			}
			hp.Role = ""
			data, _ := json.Marshal(hp)
			if _, err := tx.ExecContext(ctx, `UPDATE profile_entries SET data = $1, updated_at = $2 WHERE id = $3`, string(data), db.Micros(s.now()), o.ID); err != nil {
				return fmt.Errorf("profile: replace role: %w", err)
			}
		}
	}
	return nil
}

// DeleteEntry removes entry id of section.
func (s *Store) DeleteEntry(ctx context.Context, actor *directory.Account, personID int64, section Section, id int64) error {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return err
	}
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM profile_entries WHERE id = $1 AND person_id = $2 AND section = $3`, id, person.ID, string(section))
	if err != nil {
		return fmt.Errorf("profile: delete entry: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return dmp.ErrNotFound
	}
	return nil
}

// Blood groups (mes-model.md: APOS, ANEG…; shown as "A+", "A-"…).
var bloodGroups = map[string]string{
	"A+": "A+", "A-": "A-", "B+": "B+", "B-": "B-", "AB+": "AB+", "AB-": "AB-", "O+": "O+", "O-": "O-",
	"APOS": "A+", "ANEG": "A-", "BPOS": "B+", "BNEG": "B-", "ABPOS": "AB+", "ABNEG": "AB-", "OPOS": "O+", "ONEG": "O-",
}

// Characteristics are the health characteristics ("Caractéristiques de
// santé"): the blood group, and anything else worth knowing.
type Characteristics struct {
	BloodGroup string `json:"blood_group,omitempty"` // A+, A-, B+, B-, AB+, AB-, O+, O- ; "" unknown
	Comment    string `json:"comment,omitempty"`
}

func (c *Characteristics) check() error {
	g := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(c.BloodGroup), " ", ""))
	if g != "" {
		v, ok := bloodGroups[g]
		if !ok {
			return invalid("Groupe sanguin inconnu : A+, A-, B+, B-, AB+, AB-, O+ ou O-", "unknown blood group")
		}
		g = v
	}
	c.BloodGroup = g
	return comment(&c.Comment, 2000)
}

// Organ-donation positions. The law presumes consent; a refusal is
// registered in the national register of refusals.
const (
	DonationUnstated  = ""
	DonationFavorable = "FAVORABLE"
	DonationOpposed   = "OPPOSED"
)

var donationLabels = map[string]string{
	DonationFavorable: "favorable au don d'organes et de tissus",
	DonationOpposed:   "opposé(e) au don d'organes (refus à inscrire au registre national des refus)",
}

// OrganDonation is the person's position on organ donation ("Entourage
// et volontés").
type OrganDonation struct {
	// Informed: "j'ai pris connaissance des règles du don d'organes"
	// (mes-model.md informedAboutOrganDonation).
	Informed bool   `json:"informed"`
	Position string `json:"position,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

func (o *OrganDonation) check() error {
	if err := oneOf(&o.Position, "Position sur le don d'organes", "position", false, donationLabels); err != nil {
		return err
	}
	return comment(&o.Comment, 2000)
}

// singletons is the row of what the profile holds once.
type singletons struct {
	Characteristics Characteristics
	OrganDonation   OrganDonation
	Directives      *Directives
}

func (s *Store) loadSingletons(ctx context.Context, q db.Querier, personID int64) (*singletons, error) {
	var ch, od, di string
	err := q.QueryRowContext(ctx, `SELECT characteristics, organ_donation, directives FROM profile_singletons WHERE person_id = $1`, personID).Scan(&ch, &od, &di)
	out := &singletons{}
	if errors.Is(err, sql.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	if err := json.Unmarshal([]byte(ch), &out.Characteristics); err != nil {
		return nil, fmt.Errorf("profile: characteristics: %w", err)
	}
	if err := json.Unmarshal([]byte(od), &out.OrganDonation); err != nil {
		return nil, fmt.Errorf("profile: organ donation: %w", err)
	}
	var d Directives
	if err := json.Unmarshal([]byte(di), &d); err != nil {
		return nil, fmt.Errorf("profile: directives: %w", err)
	}
	if d.Mode != "" {
		out.Directives = &d
	}
	return out, nil
}

// saveSingleton writes one JSON column of the person's row.
func (s *Store) saveSingleton(ctx context.Context, q db.Querier, personID int64, column string, v any) error {
	data := "{}"
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		data = string(b)
	}
	switch column {
	case "characteristics", "organ_donation", "directives":
	default:
		return fmt.Errorf("profile: no column %q", column)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO profile_singletons (person_id, `+column+`, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (person_id) DO UPDATE SET `+column+` = excluded.`+column+`, updated_at = excluded.updated_at`,
		personID, data, db.Micros(s.now()))
	if err != nil {
		return fmt.Errorf("profile: save %s: %w", column, err)
	}
	return nil
}

// Characteristics returns the health characteristics.
func (s *Store) Characteristics(ctx context.Context, actor *directory.Account, personID int64) (*Characteristics, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	one, err := s.loadSingletons(ctx, s.db.Read(), person.ID)
	if err != nil {
		return nil, err
	}
	return &one.Characteristics, nil
}

// SetCharacteristics replaces the health characteristics.
func (s *Store) SetCharacteristics(ctx context.Context, actor *directory.Account, personID int64, c Characteristics) (*Characteristics, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, s.saveSingleton(ctx, s.db.Write(), person.ID, "characteristics", c)
}

// OrganDonation returns the organ-donation position.
func (s *Store) OrganDonation(ctx context.Context, actor *directory.Account, personID int64) (*OrganDonation, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	one, err := s.loadSingletons(ctx, s.db.Read(), person.ID)
	if err != nil {
		return nil, err
	}
	return &one.OrganDonation, nil
}

// SetOrganDonation replaces the organ-donation position.
func (s *Store) SetOrganDonation(ctx context.Context, actor *directory.Account, personID int64, o OrganDonation) (*OrganDonation, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	return &o, s.saveSingleton(ctx, s.db.Write(), person.ID, "organ_donation", o)
}

// Profile is the whole medical profile of a person.
type Profile struct {
	PersonID        int64               `json:"person_id"`
	Name            string              `json:"name"`
	Sections        map[Section][]Entry `json:"sections"`
	Characteristics Characteristics     `json:"characteristics"`
	Measures        *MeasureOverview    `json:"measures"`
	OrganDonation   OrganDonation       `json:"organ_donation"`
	Directives      *Directives         `json:"advance_directives"`
	// Pregnancy says where the pregnancies are: the pregnancy pathway
	// (dmp/care), not this store.
	Pregnancy string `json:"pregnancy"`
}

// PregnancyNote is the Grossesse section's reference.
const PregnancyNote = "Les grossesses sont suivies dans le parcours grossesse (Suivi médical > Ajouter une grossesse)"

// Get returns the whole profile.
func (s *Store) Get(ctx context.Context, actor *directory.Account, personID int64) (*Profile, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	return s.profile(ctx, person)
}

func (s *Store) profile(ctx context.Context, person *directory.Account) (*Profile, error) {
	p := &Profile{PersonID: person.ID, Name: person.DisplayName, Sections: map[Section][]Entry{}, Pregnancy: PregnancyNote}
	for _, sec := range Sections {
		p.Sections[sec] = []Entry{}
	}
	all, err := s.entries(ctx, s.db.Read(), person.ID, "")
	if err != nil {
		return nil, err
	}
	for _, e := range all {
		p.Sections[e.Section] = append(p.Sections[e.Section], e)
	}
	one, err := s.loadSingletons(ctx, s.db.Read(), person.ID)
	if err != nil {
		return nil, err
	}
	p.Characteristics, p.OrganDonation, p.Directives = one.Characteristics, one.OrganDonation, one.Directives
	if p.Measures, err = s.overview(ctx, person.ID); err != nil {
		return nil, err
	}
	if p.Measures.BMI != nil && !adult(person, s.now()) {
		p.Measures.BMI.Category = ""
	}
	return p, nil
}
