package dmp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"mssanted/db"
	"mssanted/directory"
)

// A patient acts for themself and for the persons they represent (their
// children, shared/mes-model.md "persons"). Every call on a patient's space
// names the person acted for; ActFor is the one check, here in the store.

// Person is someone whose space the actor may open.
type Person struct {
	ID        int64
	Name      string
	BirthDate time.Time
	Sex       string
	Self      bool   // the actor themself
	Role      string // "titulaire", or "représentant légal"
}

// ActFor returns the account of personID if actor may act for them: the
// patient themself, or an active legal representative.
func (s *Store) ActFor(ctx context.Context, actor *directory.Account, personID int64) (*directory.Account, error) {
	if actor.Role != directory.Patient {
		return nil, fmt.Errorf("%w: only patients and their representatives open a patient's space", ErrForbidden)
	}
	if personID == 0 || personID == actor.ID {
		return actor, nil
	}
	ok, err := s.represents(ctx, s.db.Read(), actor.ID, personID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s does not represent person %d", ErrForbidden, actor.Address, personID)
	}
	return s.dir.ByID(ctx, personID)
}

func (s *Store) represents(ctx context.Context, q db.Querier, rep, person int64) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM representations WHERE representative_id = $1 AND person_id = $2 AND state = 'active'`,
		rep, person).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("dmp: representation: %w", err)
	}
	return n > 0, nil
}

// Persons lists the actor and the persons they represent.
func (s *Store) Persons(ctx context.Context, actor *directory.Account) ([]Person, error) {
	if actor.Role != directory.Patient {
		return nil, fmt.Errorf("%w: no patient space", ErrForbidden)
	}
	out := []Person{personOf(actor, true)}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT person_id FROM representations WHERE representative_id = $1 AND state = 'active' ORDER BY since`, actor.ID)
	if err != nil {
		return nil, fmt.Errorf("dmp: persons: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		a, err := s.dir.ByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, personOf(a, false))
	}
	return out, nil
}

func personOf(a *directory.Account, self bool) Person {
	p := Person{ID: a.ID, Name: a.DisplayName, Self: self, Role: "titulaire"}
	if !self {
		p.Role = "représentant légal"
	}
	if a.Patient != nil {
		p.BirthDate, p.Sex = a.Patient.BirthDate, a.Patient.Sex
	}
	return p
}

// NewChild is a minor whose space a parent opens.
type NewChild struct {
	Name      string
	INS       string
	BirthDate time.Time
	Sex       string
}

// AddChild opens the space of a minor, with actor as legal
// representative. The child's address is its INS on the patient domain, as
// in the real space; it has no password of its own.
func (s *Store) AddChild(ctx context.Context, actor *directory.Account, c NewChild) (*directory.Account, error) {
	if actor.Role != directory.Patient || actor.Patient == nil {
		return nil, fmt.Errorf("%w: only a patient adds a child", ErrForbidden)
	}
	now := s.now()
	if c.BirthDate.IsZero() || c.BirthDate.After(now) || c.BirthDate.Before(now.AddDate(-18, 0, 0)) {
		return nil, invalid("Un enfant a moins de 18 ans : vérifiez la date de naissance", "a child is under 18: check the birth date")
	}
	domains, err := s.dir.Domains(ctx)
	if err != nil {
		return nil, err
	}
	var patientDomain string
	for d, k := range domains {
		if k == directory.PatientDomain {
			patientDomain = d
		}
	}
	if patientDomain == "" {
		return nil, fmt.Errorf("dmp: no patient domain")
	}
	pw := make([]byte, 24)
	rand.Read(pw)
	child, err := s.dir.Create(ctx, directory.NewAccount{
		Address: strings.ToLower(strings.TrimSpace(c.INS)) + "@" + patientDomain, Role: directory.Patient, DisplayName: strings.TrimSpace(c.Name),
		Password: base64.RawURLEncoding.EncodeToString(pw),
		Patient:  &directory.PatientInfo{INS: strings.TrimSpace(c.INS), BirthDate: c.BirthDate, Sex: c.Sex},
	})
	if err != nil {
		if errors.Is(err, directory.ErrInvalid) || errors.Is(err, directory.ErrExists) {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return nil, err
	}
	_, err = s.db.Write().ExecContext(ctx, `INSERT INTO representations (representative_id, person_id, state, since) VALUES ($1, $2, 'active', $3)`,
		actor.ID, child.ID, db.Micros(now))
	if err != nil {
		return nil, fmt.Errorf("dmp: representation: %w", err)
	}
	return child, nil
}

// InviteRepresentative invites a second legal representative (an account
// of the space) for a person the actor represents; the invitee accepts.
func (s *Store) InviteRepresentative(ctx context.Context, actor *directory.Account, personID int64, address string) error {
	if personID == actor.ID {
		return invalid("On n'invite un représentant que pour une personne représentée", "invite a representative for a represented person")
	}
	if _, err := s.ActFor(ctx, actor, personID); err != nil {
		return err
	}
	inv, err := s.dir.ByAddress(ctx, address)
	if err != nil || inv.Role != directory.Patient {
		return invalid("Cette adresse n'est pas celle d'un usager de l'espace", "not the address of a patient of the space")
	}
	if inv.ID == personID {
		return invalid("Une personne ne se représente pas elle-même", "a person does not represent themself")
	}
	_, err = s.db.Write().ExecContext(ctx, `INSERT INTO representations (representative_id, person_id, state, invited_by, since)
		VALUES ($1, $2, 'invited', $3, $4) ON CONFLICT DO NOTHING`, inv.ID, personID, actor.ID, db.Micros(s.now()))
	if err != nil {
		return fmt.Errorf("dmp: invite: %w", err)
	}
	return nil
}

// Invitations lists the persons the actor was invited to represent.
func (s *Store) Invitations(ctx context.Context, actor *directory.Account) ([]Person, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT person_id FROM representations WHERE representative_id = $1 AND state = 'invited'`, actor.ID)
	if err != nil {
		return nil, fmt.Errorf("dmp: invitations: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	var out []Person
	for _, id := range ids {
		a, err := s.dir.ByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, personOf(a, false))
	}
	return out, nil
}

// AcceptRepresentation makes an invitation active.
func (s *Store) AcceptRepresentation(ctx context.Context, actor *directory.Account, personID int64) error {
	res, err := s.db.Write().ExecContext(ctx, `UPDATE representations SET state = 'active' WHERE representative_id = $1 AND person_id = $2 AND state = 'invited'`,
		actor.ID, personID)
	if err != nil {
		return fmt.Errorf("dmp: accept: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
