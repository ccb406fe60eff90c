package directory

import (
	"context"
	"errors"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
)

// The directory conformance suite: every test runs on SQLite and PostgreSQL.

const pw = "correct horse battery"

func newStore(t *testing.T, d *db.DB) *Store {
	t.Helper()
	s := New(d, nil, nil, NewLockout(LockoutPolicy{Failures: 3, Window: time.Minute, Duration: time.Hour}))
	ctx := context.Background()
	if err := s.AddDomain(ctx, "hopital.example", ProfessionalDomain); err != nil {
		t.Fatal(err)
	}
	if err := s.AddDomain(ctx, "patient.example", PatientDomain); err != nil {
		t.Fatal(err)
	}
	return s
}

// testINS builds a valid INS from a 13-character body.
func testINS(t testing.TB, body string) string {
	k, err := INSKey(body)
	if err != nil {
		t.Fatal(err)
	}
	return body + k
}

func testRPPS(prefix10 string) string { return prefix10 + string(LuhnKey(prefix10)) }

func doctor(addr string) NewAccount {
	return NewAccount{Address: addr, Role: Professional, DisplayName: "Dr Alice Martin", Password: pw,
		Professional: &ProfessionalInfo{RPPS: testRPPS("1000000001"), Profession: "Médecin généraliste"}}
}

func patient(t testing.TB, addr, body string) NewAccount {
	return NewAccount{Address: addr, Role: Patient, DisplayName: "Jeanne Durand", Password: pw,
		Patient: &PatientInfo{INS: testINS(t, body), BirthDate: time.Date(1979, 3, 5, 0, 0, 0, 0, time.UTC), Sex: "F"}}
}

func pharmacy(addr string) NewAccount {
	return NewAccount{Address: addr, Role: Pharmacy, DisplayName: "Pharmacie de la Gare", Password: pw,
		Pharmacy: &PharmacyInfo{FINESS: "030001234", PostalAddress: "1 place de la Gare", PostalCode: "03000",
			Commune: "Moulins", ReachableByPatients: true}}
}

func TestStoreConformance(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{
		{Name: "domains", Run: func(t *testing.T, d *db.DB) { testDomains(t, newStore(t, d)) }},
		{Name: "create-and-read", Run: testCreateAndRead},
		{Name: "refusals-leave-nothing", Run: testRefusals},
		{Name: "staff", Run: testStaff},
		{Name: "authenticate", Run: testAuthenticate},
	})
}

func testDomains(t *testing.T, s *Store) {
	ctx := context.Background()
	if err := s.AddDomain(ctx, "hopital.example", ProfessionalDomain); err != nil {
		t.Fatalf("re-adding the same domain: %v", err)
	}
	if err := s.AddDomain(ctx, "hopital.example", PatientDomain); !errors.Is(err, ErrInvalid) {
		t.Fatalf("changing a domain's kind: got %v, want ErrInvalid", err)
	}
	ds, err := s.Domains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ds["hopital.example"] != ProfessionalDomain || ds["patient.example"] != PatientDomain || len(ds) != 2 {
		t.Fatalf("domains = %v", ds)
	}
	if ok, _ := s.IsLocal(ctx, "X@Patient.Example"); !ok {
		t.Fatal("patient.example should be local")
	}
	if ok, _ := s.IsLocal(ctx, "x@elsewhere.example"); ok {
		t.Fatal("elsewhere.example should not be local")
	}
}

func testCreateAndRead(t *testing.T, d *db.DB) {
	ctx := context.Background()
	s := newStore(t, d)
	doc, err := s.Create(ctx, doctor("Alice.Martin@Hopital.example"))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Address != "alice.martin@hopital.example" || doc.MailboxType != PER || doc.Professional.Profession != "Médecin généraliste" {
		t.Fatalf("doctor = %+v", doc)
	}
	p := patient(t, "jeanne@patient.example", "2790351215189")
	pat, err := s.Create(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ByAddress(ctx, "JEANNE@patient.example")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != pat.ID || got.Patient.INS != p.Patient.INS || !got.Patient.BirthDate.Equal(p.Patient.BirthDate) || got.Patient.Sex != "F" {
		t.Fatalf("patient = %+v %+v", got, got.Patient)
	}
	ph, err := s.Create(ctx, pharmacy("gare@hopital.example"))
	if err != nil {
		t.Fatal(err)
	}
	if ph.MailboxType != ORG || !ph.Pharmacy.ReachableByPatients || ph.Pharmacy.Commune != "Moulins" || ph.Pharmacy.PostalCode != "03000" {
		t.Fatalf("pharmacy = %+v %+v", ph, ph.Pharmacy)
	}
	adm, err := s.Create(ctx, NewAccount{Address: "admin@hopital.example", Role: Admin, DisplayName: "Admin", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if adm.Professional != nil || adm.Patient != nil || adm.Pharmacy != nil {
		t.Fatalf("admin has role details: %+v", adm)
	}
	all, err := s.List(ctx, "")
	if err != nil || len(all) != 4 {
		t.Fatalf("list = %d accounts, %v", len(all), err)
	}
	pats, err := s.List(ctx, Patient)
	if err != nil || len(pats) != 1 || pats[0].Address != "jeanne@patient.example" {
		t.Fatalf("list patients = %+v, %v", pats, err)
	}
	if _, err := s.ByAddress(ctx, "nobody@hopital.example"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown address: %v", err)
	}
}

func testRefusals(t *testing.T, d *db.DB) {
	ctx := context.Background()
	s := newStore(t, d)
	if _, err := s.Create(ctx, patient(t, "first@patient.example", "1850775123456")); err != nil {
		t.Fatal(err)
	}
	bad := map[string]NewAccount{}
	dup := patient(t, "FIRST@patient.example", "2850775123456")
	bad["duplicate address"] = dup
	sameINS := patient(t, "second@patient.example", "1850775123456")
	bad["duplicate INS"] = sameINS
	wrongKey := patient(t, "third@patient.example", "2790351215189")
	wrongKey.Patient.INS = wrongKey.Patient.INS[:13] + "00"
	bad["INS key"] = wrongKey
	bad["patient on a professional domain"] = patient(t, "p@hopital.example", "2790351215180")
	bad["professional on the patient domain"] = doctor("dr@patient.example")
	bad["unserved domain"] = doctor("dr@elsewhere.example")
	short := doctor("short@hopital.example")
	short.Password = "short"
	bad["short password"] = short
	noRPPS := doctor("nor@hopital.example")
	noRPPS.Professional.RPPS = "10000000010"
	bad["RPPS check digit"] = noRPPS
	future := patient(t, "future@patient.example", "2790351215181")
	future.Patient.BirthDate = time.Now().AddDate(1, 0, 0)
	bad["future birth date"] = future
	orgStaff := doctor("staff@hopital.example")
	orgStaff.StaffOf = "nosuchorg@hopital.example"
	bad["staff of a missing ORG"] = orgStaff
	perPharmacy := pharmacy("per@hopital.example")
	perPharmacy.MailboxType = PER
	bad["PER pharmacy"] = perPharmacy
	mixed := doctor("mixed@hopital.example")
	mixed.Patient = &PatientInfo{}
	bad["two role blocks"] = mixed
	for name, n := range bad {
		if _, err := s.Create(ctx, n); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExists) {
			t.Errorf("%s: error %v is neither ErrInvalid nor ErrExists", name, err)
		}
	}
	all, err := s.List(ctx, "")
	if err != nil || len(all) != 1 {
		t.Fatalf("after refusals: %d accounts (want 1), %v", len(all), err)
	}
	var staffRows int
	if err := d.Read().QueryRowContext(ctx, `SELECT count(*) FROM org_staff`).Scan(&staffRows); err != nil || staffRows != 0 {
		t.Fatalf("org_staff rows = %d, %v", staffRows, err)
	}
}

func testStaff(t *testing.T, d *db.DB) {
	ctx := context.Background()
	s := newStore(t, d)
	if _, err := s.Create(ctx, pharmacy("officine@hopital.example")); err != nil {
		t.Fatal(err)
	}
	st := doctor("pharmacien@hopital.example")
	st.Professional.Profession = "Pharmacien"
	st.StaffOf = "officine@hopital.example"
	a, err := s.Create(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.Create(ctx, doctor("other@hopital.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		acct *Account
		from string
		want bool
	}{
		{a, "pharmacien@hopital.example", true},
		{a, "Officine@hopital.example", true},
		{other, "officine@hopital.example", false},
		{other, "pharmacien@hopital.example", false},
	} {
		got, err := s.MaySendAs(ctx, c.acct, c.from)
		if err != nil || got != c.want {
			t.Errorf("%s may send as %s = %v, %v; want %v", c.acct.Address, c.from, got, err, c.want)
		}
	}
	if err := s.AttachStaff(ctx, "officine@hopital.example", "other@hopital.example"); err != nil {
		t.Fatal(err)
	}
	staff, err := s.Staff(ctx, "officine@hopital.example")
	if err != nil || len(staff) != 2 {
		t.Fatalf("staff = %+v, %v", staff, err)
	}
	if err := s.AttachStaff(ctx, "pharmacien@hopital.example", "other@hopital.example"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("attaching to a PER mailbox: %v", err)
	}
}

func testAuthenticate(t *testing.T, d *db.DB) {
	ctx := context.Background()
	s := newStore(t, d)
	if _, err := s.Create(ctx, doctor("auth@hopital.example")); err != nil {
		t.Fatal(err)
	}
	if a, err := s.Authenticate(ctx, "Auth@hopital.example", pw, "192.0.2.1"); err != nil || a.Address != "auth@hopital.example" {
		t.Fatalf("good password: %v, %v", a, err)
	}
	// The same login again is answered from the cache, without argon2id.
	before := argonRuns.Load()
	if _, err := s.Authenticate(ctx, "auth@hopital.example", pw, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if argonRuns.Load() != before {
		t.Error("a repeated successful login ran argon2id again")
	}
	if _, err := s.Authenticate(ctx, "auth@hopital.example", pw+"x", "192.0.2.1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password with a cached entry: %v", err)
	}
	app, err := s.AddAppPassword(ctx, "auth@hopital.example", "Thunderbird")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "auth@hopital.example", app, "192.0.2.1"); err != nil {
		t.Fatalf("app password: %v", err)
	}
	if _, err := s.Authenticate(ctx, "nobody@hopital.example", pw, "192.0.2.9"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("unknown account: %v", err)
	}
	if err := s.SetPassword(ctx, "auth@hopital.example", "a new long password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "auth@hopital.example", pw, "192.0.2.1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password after change: %v", err)
	}
	// Policy of newStore: 3 failures lock. That was 1 on this account.
	for i := 0; i < 2; i++ {
		s.Authenticate(ctx, "auth@hopital.example", "wrong password!", "192.0.2.2")
	}
	if _, err := s.Authenticate(ctx, "auth@hopital.example", "a new long password", "192.0.2.3"); !errors.Is(err, ErrLocked) {
		t.Fatalf("after 3 failures the right password must be refused as locked, got %v", err)
	}
	s.Lockout = NewLockout(DefaultLockoutPolicy)
	if err := s.SetDisabled(ctx, "auth@hopital.example", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "auth@hopital.example", "a new long password", "192.0.2.3"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("disabled account: %v", err)
	}
	a, _ := s.ByAddress(ctx, "auth@hopital.example")
	if !a.Disabled {
		t.Fatal("account not marked disabled")
	}
}
