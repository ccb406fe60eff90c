// Package directory knows who is who: the domains the instance serves, the
// accounts with their roles and mailbox types, organisational mailboxes and
// their staff, passwords and app passwords, and the authentication lockout.
package directory

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what an account is to the messaging rules (domain.md).
type Role string

const (
	Professional Role = "professional"
	Patient      Role = "patient"
	Pharmacy     Role = "pharmacy"
	Admin        Role = "admin"
)

// Roles lists every role, in the order the CLI shows them.
var Roles = []Role{Professional, Patient, Pharmacy, Admin}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (want professional, patient, pharmacy or admin)", s)
}

// MailboxType is the MSSanté mailbox kind (reference.md): personal,
// organisational or software. It never changes after creation.
type MailboxType string

const (
	PER MailboxType = "PER"
	ORG MailboxType = "ORG"
	APP MailboxType = "APP"
)

// DomainKind tells professional domains from the patient domain.
type DomainKind string

const (
	ProfessionalDomain DomainKind = "professional"
	PatientDomain      DomainKind = "patient"
)

// Account is one mailbox owner. Exactly one of the role blocks is set, the
// one matching Role (none for admins).
type Account struct {
	ID          int64
	Address     string
	Role        Role
	MailboxType MailboxType
	DisplayName string
	Disabled    bool
	CreatedAt   time.Time
	// NotifyEmail is a personal address outside the secure space that is
	// told (never shown) that something new is waiting; "" for none.
	NotifyEmail string
	// TOTP: the web login asks for a one-time code too.
	TOTP bool

	Professional *ProfessionalInfo
	Patient      *PatientInfo
	Pharmacy     *PharmacyInfo
}

// ProfessionalInfo identifies a health professional: RPPS or ADELI.
type ProfessionalInfo struct {
	RPPS       string
	ADELI      string
	Profession string
}

// PatientInfo identifies a patient: INS, birth date, sex.
type PatientInfo struct {
	INS       string
	BirthDate time.Time // a civil date, at 00:00 UTC
	Sex       string    // "F" or "M"
}

// PharmacyInfo identifies a pharmacy and where it is.
type PharmacyInfo struct {
	FINESS              string
	PostalAddress       string
	PostalCode          string
	Commune             string
	ReachableByPatients bool
}

// NewAccount is what creating an account takes.
type NewAccount struct {
	Address     string
	Role        Role
	MailboxType MailboxType // empty: ORG for pharmacies, PER otherwise
	DisplayName string
	Password    string
	StaffOf     string // address of an ORG mailbox this account opens
	NotifyEmail string

	Professional *ProfessionalInfo
	Patient      *PatientInfo
	Pharmacy     *PharmacyInfo
}

// ErrInvalid wraps every refusal of bad input, so callers can tell it from a
// storage failure (the CLI exits 2 on it, HTTP answers 400/422).
var ErrInvalid = errors.New("invalid")

// ErrNotFound is returned when no account matches.
var ErrNotFound = errors.New("no such account")

// ErrExists is returned when the address (or INS) is taken.
var ErrExists = errors.New("already exists")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// NormalizeAddress lowercases an address and checks it is a bare addr-spec.
func NormalizeAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", invalid("%q is not a mail address", s)
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || !strings.Contains(domain, ".") && domain != "localhost" {
		return "", invalid("%q is not a mail address", s)
	}
	return strings.ToLower(s), nil
}

// Domain returns the domain part of a normalised address.
func Domain(address string) string {
	_, d, _ := strings.Cut(address, "@")
	return d
}

// validate checks a new account and fills its defaults. It does not touch
// the database: the domain and uniqueness checks are in Create.
// normalizeNotifyEmail checks a personal notification address: one plain
// address, no display name.
func normalizeNotifyEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(s, "@") {
		return "", invalid("adresse de notification invalide / invalid notification address %q", s)
	}
	return strings.ToLower(s), nil
}

func (n *NewAccount) validate(now time.Time) error {
	addr, err := NormalizeAddress(n.Address)
	if err != nil {
		return err
	}
	n.Address = addr
	if n.NotifyEmail, err = normalizeNotifyEmail(n.NotifyEmail); err != nil {
		return err
	}
	if _, err := ParseRole(string(n.Role)); err != nil {
		return invalid("%v", err)
	}
	n.DisplayName = strings.TrimSpace(n.DisplayName)
	if n.DisplayName == "" {
		return invalid("a display name is required")
	}
	if utf8.RuneCountInString(n.DisplayName) > 200 {
		return invalid("display name is longer than 200 characters")
	}
	if utf8.RuneCountInString(n.Password) < MinPasswordLength {
		return invalid("password must have at least %d characters", MinPasswordLength)
	}
	if n.MailboxType == "" {
		n.MailboxType = PER
		if n.Role == Pharmacy {
			n.MailboxType = ORG
		}
	}
	switch n.MailboxType {
	case PER, ORG, APP:
	default:
		return invalid("mailbox type must be PER, ORG or APP")
	}
	if n.Role == Pharmacy && n.MailboxType != ORG {
		return invalid("a pharmacy mailbox is organisational (ORG)")
	}
	if n.Role == Patient && n.MailboxType != PER {
		return invalid("a patient mailbox is personal (PER)")
	}
	// Only the block of the account's role may be given.
	blocks := map[Role]bool{Professional: n.Professional != nil, Patient: n.Patient != nil, Pharmacy: n.Pharmacy != nil}
	for r, set := range blocks {
		if set && r != n.Role {
			return invalid("%s details given for a %s account", r, n.Role)
		}
	}
	switch n.Role {
	case Professional:
		p := n.Professional
		if p == nil || p.RPPS == "" && p.ADELI == "" {
			return invalid("a professional needs an RPPS or ADELI number")
		}
		if p.RPPS != "" {
			if err := ValidRPPS(p.RPPS); err != nil {
				return invalid("%v", err)
			}
		}
		if p.ADELI != "" {
			if err := ValidADELI(p.ADELI); err != nil {
				return invalid("%v", err)
			}
		}
		p.Profession = strings.TrimSpace(p.Profession)
		if p.Profession == "" {
			return invalid("a professional needs a profession")
		}
	case Patient:
		p := n.Patient
		if p == nil {
			return invalid("a patient needs an INS, a birth date and a sex")
		}
		p.INS = strings.ToUpper(p.INS)
		if err := ValidINS(p.INS); err != nil {
			return invalid("%v", err)
		}
		if p.BirthDate.IsZero() {
			return invalid("a patient needs a birth date")
		}
		if p.BirthDate.After(now) {
			return invalid("birth date is in the future")
		}
		if p.Sex != "F" && p.Sex != "M" {
			return invalid("sex must be F or M")
		}
	case Pharmacy:
		p := n.Pharmacy
		if p == nil {
			return invalid("a pharmacy needs a FINESS number and a postal address")
		}
		if err := ValidFINESS(p.FINESS); err != nil {
			return invalid("%v", err)
		}
		p.PostalAddress = strings.TrimSpace(p.PostalAddress)
		p.Commune = strings.TrimSpace(p.Commune)
		if p.PostalAddress == "" || p.Commune == "" {
			return invalid("a pharmacy needs a postal address and a commune")
		}
		if err := ValidPostalCode(p.PostalCode); err != nil {
			return invalid("%v", err)
		}
	}
	if n.StaffOf != "" {
		s, err := NormalizeAddress(n.StaffOf)
		if err != nil {
			return err
		}
		if n.Role == Patient {
			return invalid("a patient cannot be staff of an organisational mailbox")
		}
		n.StaffOf = s
	}
	return nil
}
