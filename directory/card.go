package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Card is how a correspondent is shown to a patient: a name and what they
// do, never the address (reference.md: "The patient never sees a
// professional's address, only the name").
type Card struct {
	Name       string // "Dr Alice Martin", "Pharmacie de la Gare"
	Profession string // "Médecin généraliste", "Pharmacie d'officine"; "" when unknown
	Kind       string // KindProfessional, KindPharmacy, KindOrganisation; "" when unknown
}

// CardOf describes the owner of address from the directory: this
// instance's accounts and the imported national extract. An address found
// nowhere gets a card with fallback as its name.
func (s *Store) CardOf(ctx context.Context, address, fallback string) (Card, error) {
	// This instance's accounts first: the search index mirrors them lazily.
	if a, err := s.ByAddress(ctx, address); err == nil {
		c := Card{Name: a.DisplayName}
		switch {
		case a.Role == Pharmacy:
			c.Kind, c.Profession = KindPharmacy, PharmacyKindLabel
		case a.Professional != nil:
			c.Kind, c.Profession = KindProfessional, a.Professional.Profession
		case a.MailboxType == ORG:
			c.Kind = KindOrganisation
		}
		return c, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Card{}, err
	}
	var c Card
	var profession, speciality string
	err := s.db.Read().QueryRowContext(ctx, `SELECT name, kind, profession, speciality FROM directory_entries
		WHERE address = $1 ORDER BY CASE WHEN account_id IS NULL THEN 1 ELSE 0 END LIMIT 1`,
		strings.ToLower(address)).Scan(&c.Name, &c.Kind, &profession, &speciality)
	if errors.Is(err, sql.ErrNoRows) {
		return Card{Name: fallback}, nil
	}
	if err != nil {
		return Card{}, fmt.Errorf("directory: card of %s: %w", address, err)
	}
	switch {
	case c.Kind == KindPharmacy:
		c.Profession = PharmacyKindLabel
	case profession != "":
		c.Profession = profession
	default:
		c.Profession = speciality
	}
	if c.Name == "" {
		c.Name = fallback
	}
	return c, nil
}
