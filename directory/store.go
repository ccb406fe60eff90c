package directory

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"mssanted/certs"
	"mssanted/db"
)

// Store is the directory over the database.
type Store struct {
	db *db.DB
	// ca and certs issue and record each new mailbox's S/MIME certificate in
	// the account's creation transaction. Both nil: no certificate (tests of
	// the store alone, where RSA key generation would dominate).
	ca    *certs.Authority
	certs *certs.Registry
	// Lockout throttles authentication failures (shared by SMTP, IMAP, web).
	Lockout   *Lockout
	authCache *authCache
	now       func() time.Time
}

// New returns the directory store. ca and reg may both be nil (no S/MIME
// certificate issued at account creation).
func New(d *db.DB, ca *certs.Authority, reg *certs.Registry, lock *Lockout) *Store {
	if lock == nil {
		lock = NewLockout(DefaultLockoutPolicy)
	}
	return &Store{db: d, ca: ca, certs: reg, Lockout: lock, authCache: newAuthCache(), now: time.Now}
}

// AddDomain declares a domain the instance serves. Adding it again with the
// same kind changes nothing.
func (s *Store) AddDomain(ctx context.Context, name string, kind DomainKind) error {
	name = strings.ToLower(strings.TrimSpace(name))
	if _, err := NormalizeAddress("postmaster@" + name); err != nil || name == "" {
		return invalid("%q is not a domain name", name)
	}
	if kind != ProfessionalDomain && kind != PatientDomain {
		return invalid("domain kind must be professional or patient")
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var have string
		err := tx.QueryRowContext(ctx, `SELECT kind FROM domains WHERE name = $1`, name).Scan(&have)
		switch {
		case err == nil && have == string(kind):
			return nil
		case err == nil:
			return invalid("domain %s is already served as a %s domain", name, have)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("directory: domain %s: %w", name, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO domains (name, kind, created_at) VALUES ($1, $2, $3)`, name, kind, db.Now())
		if err != nil {
			return fmt.Errorf("directory: add domain %s: %w", name, err)
		}
		return nil
	})
}

// Domains returns the served domains and their kinds.
func (s *Store) Domains(ctx context.Context) (map[string]DomainKind, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT name, kind FROM domains ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("directory: domains: %w", err)
	}
	defer rows.Close()
	out := map[string]DomainKind{}
	for rows.Next() {
		var n, k string
		if err := rows.Scan(&n, &k); err != nil {
			return nil, err
		}
		out[n] = DomainKind(k)
	}
	return out, rows.Err()
}

// IsLocal reports whether the address's domain is served here.
func (s *Store) IsLocal(ctx context.Context, address string) (bool, error) {
	var n int
	err := s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM domains WHERE name = $1`, Domain(strings.ToLower(address))).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("directory: is local: %w", err)
	}
	return n > 0, nil
}

// Create validates and stores a new account with its password hash and,
// when the store has a CA, its S/MIME certificate; all of it in one
// transaction, so a refusal or a failure leaves nothing behind.
func (s *Store) Create(ctx context.Context, n NewAccount) (*Account, error) {
	now := s.now()
	if err := n.validate(now); err != nil {
		return nil, err
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return nil, err
	}
	// Refuse what the database would refuse before paying for a key pair.
	if err := s.checkFree(ctx, &n); err != nil {
		return nil, err
	}
	var issued *certs.Issued
	if s.ca != nil {
		if issued, err = s.ca.IssueMailbox(n.Address, n.DisplayName); err != nil {
			return nil, fmt.Errorf("directory: certificate for %s: %w", n.Address, err)
		}
	}
	var id int64
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.checkDomain(ctx, tx, &n); err != nil {
			return err
		}
		var pro ProfessionalInfo
		var pat PatientInfo
		var ph PharmacyInfo
		var birth *string
		if n.Professional != nil {
			pro = *n.Professional
		}
		if n.Patient != nil {
			pat = *n.Patient
			b := pat.BirthDate.Format(time.DateOnly)
			birth = &b
		}
		if n.Pharmacy != nil {
			ph = *n.Pharmacy
		}
		us := db.Micros(now)
		err := tx.QueryRowContext(ctx, `INSERT INTO accounts
			(address, role, mailbox_type, display_name, password_hash, created_at, updated_at,
			 rpps, adeli, profession, ins, birth_date, sex,
			 finess, postal_address, postal_code, commune, reachable_by_patients, notify_email)
			VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
			RETURNING id`,
			n.Address, n.Role, n.MailboxType, n.DisplayName, hash, us,
			null(pro.RPPS), null(pro.ADELI), null(pro.Profession), null(pat.INS), birth, null(pat.Sex),
			null(ph.FINESS), null(ph.PostalAddress), null(ph.PostalCode), null(ph.Commune), ph.ReachableByPatients, n.NotifyEmail,
		).Scan(&id)
		if db.IsUniqueViolation(err) {
			return fmt.Errorf("%w: %s", ErrExists, n.Address)
		}
		if err != nil {
			return fmt.Errorf("directory: insert %s: %w", n.Address, err)
		}
		if n.StaffOf != "" {
			if err := attachStaff(ctx, tx, n.StaffOf, id); err != nil {
				return err
			}
		}
		if issued != nil {
			if err := s.certs.Record(ctx, tx, issued, n.Address); err != nil {
				return fmt.Errorf("directory: record certificate: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.ByID(ctx, id)
}

// checkFree refuses a taken address or INS outside any transaction; the
// UNIQUE constraints stay the authority under races.
func (s *Store) checkFree(ctx context.Context, n *NewAccount) error {
	var count int
	ins := ""
	if n.Patient != nil {
		ins = n.Patient.INS
	}
	err := s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE address = $1 OR ins = $2`, n.Address, ins).Scan(&count)
	if err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	if count > 0 {
		return fmt.Errorf("%w: an account with address %s or this INS", ErrExists, n.Address)
	}
	return nil
}

// checkDomain enforces that patients live on the patient domain and
// everyone else on a professional domain served here.
func (s *Store) checkDomain(ctx context.Context, q db.Querier, n *NewAccount) error {
	var kind string
	err := q.QueryRowContext(ctx, `SELECT kind FROM domains WHERE name = $1`, Domain(n.Address)).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return invalid("domain %s is not served by this instance", Domain(n.Address))
	}
	if err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	if (n.Role == Patient) != (DomainKind(kind) == PatientDomain) {
		if n.Role == Patient {
			return invalid("a patient address must be on the patient domain, not %s", Domain(n.Address))
		}
		return invalid("%s is the patient domain: only patients have addresses there", Domain(n.Address))
	}
	return nil
}

func attachStaff(ctx context.Context, tx *sql.Tx, orgAddress string, staffID int64) error {
	var orgID int64
	var mt string
	err := tx.QueryRowContext(ctx, `SELECT id, mailbox_type FROM accounts WHERE address = $1`, orgAddress).Scan(&orgID, &mt)
	if errors.Is(err, sql.ErrNoRows) {
		return invalid("organisational mailbox %s does not exist", orgAddress)
	}
	if err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	if MailboxType(mt) != ORG {
		return invalid("%s is not an organisational (ORG) mailbox", orgAddress)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO org_staff (org_id, staff_id) VALUES ($1, $2)`, orgID, staffID)
	if err != nil && !db.IsUniqueViolation(err) {
		return fmt.Errorf("directory: attach staff: %w", err)
	}
	return nil
}

// AttachStaff lets an existing account open an ORG mailbox.
func (s *Store) AttachStaff(ctx context.Context, orgAddress, staffAddress string) error {
	staff, err := s.ByAddress(ctx, staffAddress)
	if err != nil {
		return err
	}
	if staff.Role == Patient {
		return invalid("a patient cannot be staff of an organisational mailbox")
	}
	org, err := NormalizeAddress(orgAddress)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error { return attachStaff(ctx, tx, org, staff.ID) })
}

// Staff lists the accounts attached to an ORG mailbox.
func (s *Store) Staff(ctx context.Context, orgAddress string) ([]Account, error) {
	return s.list(ctx, `WHERE id IN (SELECT staff_id FROM org_staff s JOIN accounts o ON o.id = s.org_id WHERE o.address = $1)`, strings.ToLower(orgAddress))
}

// MaySendAs reports whether the account may use from as its sender: its own
// address, or an ORG mailbox it is staff of.
func (s *Store) MaySendAs(ctx context.Context, a *Account, from string) (bool, error) {
	from = strings.ToLower(from)
	if from == a.Address {
		return true, nil
	}
	var n int
	err := s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM org_staff s JOIN accounts o ON o.id = s.org_id
		WHERE s.staff_id = $1 AND o.address = $2 AND o.disabled_at IS NULL`, a.ID, from).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("directory: may send as: %w", err)
	}
	return n > 0, nil
}

// OrgsOf lists the addresses of the ORG mailboxes an account is staff of.
func (s *Store) OrgsOf(ctx context.Context, accountID int64) ([]string, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT o.address FROM org_staff s JOIN accounts o ON o.id = s.org_id
		WHERE s.staff_id = $1 AND o.disabled_at IS NULL ORDER BY o.address`, accountID)
	if err != nil {
		return nil, fmt.Errorf("directory: orgs of %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

const accountColumns = `id, address, role, mailbox_type, display_name, disabled_at, created_at,
	rpps, adeli, profession, ins, birth_date, sex,
	finess, postal_address, postal_code, commune, reachable_by_patients, notify_email, (totp_secret <> '')`

func scanAccount(sc interface{ Scan(...any) error }) (*Account, error) {
	var a Account
	var disabled sql.NullInt64
	var created int64
	var rpps, adeli, prof, ins, birth, sex, finess, paddr, pcode, commune sql.NullString
	var reach bool
	err := sc.Scan(&a.ID, &a.Address, &a.Role, &a.MailboxType, &a.DisplayName, &disabled, &created,
		&rpps, &adeli, &prof, &ins, &birth, &sex, &finess, &paddr, &pcode, &commune, &reach, &a.NotifyEmail, &a.TOTP)
	if err != nil {
		return nil, err
	}
	a.Disabled = disabled.Valid
	a.CreatedAt = db.Time(created)
	switch a.Role {
	case Professional:
		a.Professional = &ProfessionalInfo{RPPS: rpps.String, ADELI: adeli.String, Profession: prof.String}
	case Patient:
		bd, _ := time.Parse(time.DateOnly, birth.String)
		a.Patient = &PatientInfo{INS: ins.String, BirthDate: bd, Sex: sex.String}
	case Pharmacy:
		a.Pharmacy = &PharmacyInfo{FINESS: finess.String, PostalAddress: paddr.String, PostalCode: pcode.String,
			Commune: commune.String, ReachableByPatients: reach}
	}
	return &a, nil
}

func (s *Store) one(ctx context.Context, where string, arg any) (*Account, error) {
	a, err := scanAccount(s.db.Read().QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %v", ErrNotFound, arg)
	}
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	return a, nil
}

// ByAddress finds an account by address (case-insensitive).
func (s *Store) ByAddress(ctx context.Context, address string) (*Account, error) {
	return s.one(ctx, `WHERE address = $1`, strings.ToLower(strings.TrimSpace(address)))
}

// ByID finds an account by id.
func (s *Store) ByID(ctx context.Context, id int64) (*Account, error) {
	return s.one(ctx, `WHERE id = $1`, id)
}

// List returns the accounts, all roles when role is empty, by address.
func (s *Store) List(ctx context.Context, role Role) ([]Account, error) {
	if role == "" {
		return s.list(ctx, ``)
	}
	return s.list(ctx, `WHERE role = $1`, role)
}

func (s *Store) list(ctx context.Context, where string, args ...any) ([]Account, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts `+where+` ORDER BY address`, args...)
	if err != nil {
		return nil, fmt.Errorf("directory: list: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("directory: list: %w", err)
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// SetPassword replaces an account's password.
func (s *Store) SetPassword(ctx context.Context, address, password string) error {
	if len([]rune(password)) < MinPasswordLength {
		return invalid("password must have at least %d characters", MinPasswordLength)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	err = s.update(ctx, address, `password_hash = $2`, hash)
	s.authCache.forget(strings.ToLower(strings.TrimSpace(address))) // after the update: no old secret can be cached again
	return err
}

// SetDisabled disables or re-enables an account. A disabled account cannot
// authenticate and receives no mail; its data stays.
func (s *Store) SetDisabled(ctx context.Context, address string, disabled bool) error {
	var at *int64
	if disabled {
		now := db.Micros(s.now())
		at = &now
	}
	err := s.update(ctx, address, `disabled_at = $2`, at)
	s.authCache.forget(strings.ToLower(strings.TrimSpace(address)))
	return err
}

// SetNotifyEmail sets (or, with "", removes) the personal address that
// receives e-mail notifications.
func (s *Store) SetNotifyEmail(ctx context.Context, address, email string) error {
	email, err := normalizeNotifyEmail(email)
	if err != nil {
		return err
	}
	return s.update(ctx, address, `notify_email = $2`, email)
}

func (s *Store) update(ctx context.Context, address, set string, arg any) error {
	res, err := s.db.Write().ExecContext(ctx, `UPDATE accounts SET `+set+`, updated_at = $3 WHERE address = $1`,
		strings.ToLower(strings.TrimSpace(address)), arg, db.Micros(s.now()))
	if err != nil {
		return fmt.Errorf("directory: update %s: %w", address, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, address)
	}
	return nil
}

// AddAppPassword creates a password for one mail client and returns it; it
// is shown once and only its hash is kept.
func (s *Store) AddAppPassword(ctx context.Context, address, label string) (string, error) {
	a, err := s.ByAddress(ctx, address)
	if err != nil {
		return "", err
	}
	label = strings.TrimSpace(label)
	if label == "" {
		return "", invalid("an app password needs a label (the mail client it is for)")
	}
	raw := make([]byte, 15)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	secret := strings.ToLower(base32.StdEncoding.EncodeToString(raw)) // 24 characters, 120 bits
	hash, err := HashPassword(secret)
	if err != nil {
		return "", err
	}
	_, err = s.db.Write().ExecContext(ctx, `INSERT INTO app_passwords (account_id, label, hash, created_at) VALUES ($1, $2, $3, $4)`,
		a.ID, label, hash, db.Micros(s.now()))
	if err != nil {
		return "", fmt.Errorf("directory: app password: %w", err)
	}
	return secret, nil
}

func null(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
