package profile_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/profile"
	"mssanted/mailbox"
)

const pw = "correct horse battery staple"

var tinyPDF = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

type fixture struct {
	d        *db.DB
	dir      *directory.Store
	docs     *dmp.Store
	prof     *profile.Store
	p        *mailbox.Pipeline
	doc, sf  *directory.Account // a doctor, a midwife
	ph       *directory.Account // a pharmacy
	pat, str *directory.Account // the patient, a stranger
	child    *directory.Account // the patient's child
}

func ins(s string) string { k, _ := directory.INSKey(s); return s + k }

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := directory.New(d, nil, nil, nil)
	must(t, dir.AddDomain(ctx, "hopital.example", directory.ProfessionalDomain))
	must(t, dir.AddDomain(ctx, "patient.example", directory.PatientDomain))
	create := func(n directory.NewAccount) *directory.Account {
		n.Password = pw
		a, err := dir.Create(ctx, n)
		must(t, err)
		return a
	}
	rpps := func(s string) string { return s + string(directory.LuhnKey(s)) }
	f := &fixture{d: d, dir: dir}
	f.doc = create(directory.NewAccount{Address: "dr@hopital.example", Role: directory.Professional, DisplayName: "Dr Alice Martin",
		Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000001"), Profession: "Médecin généraliste"}})
	f.sf = create(directory.NewAccount{Address: "sf@hopital.example", Role: directory.Professional, DisplayName: "Inaya Michel",
		Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000002"), Profession: "Sage-femme"}})
	f.ph = create(directory.NewAccount{Address: "gare@hopital.example", Role: directory.Pharmacy, DisplayName: "Pharmacie de la Gare",
		Pharmacy: &directory.PharmacyInfo{FINESS: "030001230", PostalAddress: "1 pl de la Gare", PostalCode: "03000", Commune: "Moulins", ReachableByPatients: true}})
	f.pat = create(directory.NewAccount{Address: "helene@patient.example", Role: directory.Patient, DisplayName: "Hélène Lefèvre",
		Patient: &directory.PatientInfo{INS: ins("2790375123456"), BirthDate: time.Date(1979, 3, 14, 0, 0, 0, 0, time.UTC), Sex: "F"}})
	f.str = create(directory.NewAccount{Address: "paul@patient.example", Role: directory.Patient, DisplayName: "Paul Durand",
		Patient: &directory.PatientInfo{INS: ins("1850775123456"), BirthDate: time.Date(1985, 7, 1, 0, 0, 0, 0, time.UTC), Sex: "M"}})
	blobs, err := db.NewFSBlobs(t.TempDir())
	must(t, err)
	f.docs = dmp.New(d, blobs, dir)
	f.prof = profile.New(d, f.docs, dir)
	f.p = &mailbox.Pipeline{Store: mailbox.New(d, blobs), Dir: dir, Hostname: "mail.hopital.example", Filer: f.docs.Filer(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.child, err = f.docs.AddChild(ctx, f.pat, dmp.NewChild{Name: "Léo Lefèvre", INS: ins("1150775123456"), BirthDate: time.Date(2015, 7, 1, 0, 0, 0, 0, time.UTC), Sex: "M"})
	must(t, err)
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// refused checks an ErrInvalid whose French sentence contains want.
func refused(t *testing.T, err error, want string) {
	t.Helper()
	if !errors.Is(err, dmp.ErrInvalid) {
		t.Fatalf("want a refusal %q, got %v", want, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("refusal %q does not say %q", err, want)
	}
}

func forbidden(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, dmp.ErrForbidden) {
		t.Fatalf("%s: want ErrForbidden, got %v", what, err)
	}
}

func TestProfile(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{
		{Name: "sections-validation", Run: testSections},
		{Name: "measures-history-bmi", Run: testMeasures},
		{Name: "advance-directives", Run: testDirectives},
		{Name: "act-for", Run: testActFor},
		{Name: "summary-filed-and-read-by-doctor", Run: testSummary},
	})
}

func testSections(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	add := func(p profile.Payload) (*profile.Entry, error) { return f.prof.AddEntry(ctx, f.pat, f.pat.ID, p) }

	_, err := add(&profile.Disease{Name: "  "})
	refused(t, err, "Nom de la maladie : champ obligatoire")
	_, err = add(&profile.Disease{Name: "Asthme", Start: "2019-13"})
	refused(t, err, "Date de début invalide : AAAA, AAAA-MM ou AAAA-MM-JJ")
	_, err = add(&profile.Disease{Name: "Asthme", Start: "2019-05", End: "2018"})
	refused(t, err, "La date de fin précède la date de début")
	_, err = add(&profile.Treatment{Name: "Ventoline", Start: profile.PartialDate(time.Now().AddDate(1, 0, 0).Format("2006"))})
	refused(t, err, "Date de début dans le futur")
	_, err = add(&profile.Hospitalization{Name: "Appendicite", Establishment: "CH de Moulins"})
	refused(t, err, "Date de début : champ obligatoire")
	_, err = add(&profile.FamilyHistory{Name: "Diabète", FamilyRelationship: "COUSIN"})
	refused(t, err, "Lien de parenté : valeur inconnue")
	_, err = profile.DecodeEntry(profile.Allergies, []byte(`{"name":"Pollen","severity":"high"}`))
	refused(t, err, `champ inconnu "severity"`)

	e, err := add(&profile.Disease{Name: " Asthme ", Start: "2019-05", Comment: "Crises à l'effort"})
	must(t, err)
	if e.Data.(*profile.Disease).Name != "Asthme" || e.Section != profile.Diseases {
		t.Fatalf("entry: %+v", e)
	}
	e, err = f.prof.UpdateEntry(ctx, f.pat, f.pat.ID, e.ID, &profile.Disease{Name: "Asthme allergique", Start: "2019"})
	must(t, err)
	if _, err := f.prof.UpdateEntry(ctx, f.pat, f.pat.ID, e.ID, &profile.Allergy{Name: "Pollen"}); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("an entry changed section: %v", err)
	}
	h, err := add(&profile.Hospitalization{Kind: "surgery", Name: "Appendicectomie", Establishment: "CH de Moulins", Start: "2001-06-12", End: "2001-06-15"})
	must(t, err)
	if h.Data.(*profile.Hospitalization).Kind != "SURGERY" {
		t.Fatalf("kind: %+v", h.Data)
	}
	_, err = add(&profile.Disability{Name: "Surdité", Types: []string{"SENSORY", "sensory"}, DisabilityRate: "BETWEEN_50_AND_79", HumanHelp: "NO"})
	must(t, err)

	// Entourage: the mobile number, the city are required; one trusted person.
	contact := profile.Contact{FirstName: "Marc", LastName: "Lefèvre", ContactTypes: []string{profile.TrustedContact, profile.EmergencyContact},
		Relation: "SPOUSE", MobileNumber: "06 12 34 56 78", PostalCode: "03000", City: "Moulins"}
	bad := contact
	bad.MobileNumber = "12"
	_, err = add(&bad)
	refused(t, err, "Numéro de téléphone invalide")
	bad = contact
	bad.PostalCode = "3000"
	_, err = add(&bad)
	refused(t, err, "Code postal invalide : 5 chiffres")
	bad = contact
	bad.ContactTypes = nil
	_, err = add(&bad)
	refused(t, err, "Choisissez au moins un rôle")
	_, err = add(&contact)
	must(t, err)
	second := contact
	second.FirstName, second.ContactTypes = "Julie", []string{profile.TrustedContact}
	_, err = add(&second)
	refused(t, err, "Vous avez déjà une personne de confiance (Marc LEFÈVRE) : on n'en désigne qu'une")

	// Health professionals: a directory mailbox gives the name; a role
	// needs its profession; a new holder of a role replaces the old.
	_, err = add(&profile.HealthProfessional{Mailbox: "inconnu@ailleurs.example"})
	refused(t, err, "n'est pas dans l'annuaire")
	mt, err := add(&profile.HealthProfessional{Role: profile.RoleMedecinTraitant, Mailbox: f.doc.Address})
	must(t, err)
	if hp := mt.Data.(*profile.HealthProfessional); hp.Name != "Dr Alice Martin" || hp.Profession != "Médecin généraliste" {
		t.Fatalf("from the directory: %+v", hp)
	}
	_, err = add(&profile.HealthProfessional{Role: profile.RoleSageFemmeReferente, Name: "Dr Paul Petit", Profession: "Médecin cardiologue"})
	refused(t, err, "Le rôle « Sage-femme référente » demande un professionnel de cette profession")
	_, err = add(&profile.HealthProfessional{Role: profile.RoleSageFemmeReferente, Mailbox: f.sf.Address})
	must(t, err)
	_, err = add(&profile.HealthProfessional{Role: profile.RolePharmacienCorrespondant, Mailbox: f.ph.Address})
	must(t, err)
	_, err = add(&profile.HealthProfessional{Role: profile.RoleMedecinTraitant, Name: "Dr Jean Bernard", Profession: "Médecin", Address: "3 rue de Paris, 03000 Moulins"})
	must(t, err)
	pros, err := f.prof.Entries(ctx, f.pat, f.pat.ID, profile.HealthProfessionals)
	must(t, err)
	holders := map[string]string{}
	for _, e := range pros {
		hp := e.Data.(*profile.HealthProfessional)
		holders[hp.Name] = hp.Role
	}
	if len(pros) != 4 || holders["Dr Alice Martin"] != "" || holders["Dr Jean Bernard"] != profile.RoleMedecinTraitant {
		t.Fatalf("roles after replacing the médecin traitant: %v", holders)
	}

	// Characteristics and organ donation.
	_, err = f.prof.SetCharacteristics(ctx, f.pat, f.pat.ID, profile.Characteristics{BloodGroup: "C+"})
	refused(t, err, "Groupe sanguin inconnu : A+, A-, B+, B-, AB+, AB-, O+ ou O-")
	c, err := f.prof.SetCharacteristics(ctx, f.pat, f.pat.ID, profile.Characteristics{BloodGroup: "abneg"})
	must(t, err)
	if c.BloodGroup != "AB-" {
		t.Fatalf("blood group %q", c.BloodGroup)
	}
	_, err = f.prof.SetOrganDonation(ctx, f.pat, f.pat.ID, profile.OrganDonation{Position: "PEUT-ETRE"})
	refused(t, err, "Position sur le don d'organes : valeur inconnue")
	_, err = f.prof.SetOrganDonation(ctx, f.pat, f.pat.ID, profile.OrganDonation{Informed: true, Position: "favorable"})
	must(t, err)

	p, err := f.prof.Get(ctx, f.pat, f.pat.ID)
	must(t, err)
	if len(p.Sections[profile.Diseases]) != 1 || len(p.Sections[profile.Contacts]) != 1 || len(p.Sections[profile.Allergies]) != 0 ||
		p.Characteristics.BloodGroup != "AB-" || p.OrganDonation.Position != profile.DonationFavorable || p.Pregnancy == "" {
		t.Fatalf("profile: %+v", p)
	}
	must(t, f.prof.DeleteEntry(ctx, f.pat, f.pat.ID, profile.Diseases, e.ID))
	if err := f.prof.DeleteEntry(ctx, f.pat, f.pat.ID, profile.Diseases, e.ID); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("deleted twice: %v", err)
	}
}

func testMeasures(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	day := func(n int) time.Time { return time.Now().AddDate(0, 0, -n).Truncate(time.Second) }
	add := func(m profile.NewMeasure) (*profile.Measure, error) {
		return f.prof.AddMeasure(ctx, f.pat, f.pat.ID, m)
	}

	_, err := add(profile.NewMeasure{Code: "WEIGHT", Value: 900, Date: day(1)})
	refused(t, err, "Poids : la valeur doit être entre 0,3 et 400,0 kg")
	_, err = add(profile.NewMeasure{Code: "WEIGHT", Value: 70, Unit: "lb", Date: day(1)})
	refused(t, err, "Unité non reconnue pour poids : kg")
	_, err = add(profile.NewMeasure{Code: "WEIGHT", Value: 70})
	refused(t, err, "Date de la mesure : champ obligatoire")
	_, err = add(profile.NewMeasure{Code: "WEIGHT", Value: 70, Date: time.Now().AddDate(0, 0, 2)})
	refused(t, err, "La date de la mesure est dans le futur")
	_, err = add(profile.NewMeasure{Code: "WEIGHT", Value: 70, Date: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)})
	refused(t, err, "La date de la mesure précède la date de naissance")
	_, err = add(profile.NewMeasure{Code: "BODY_MASS_INDEX", Value: 22, Date: day(1)})
	refused(t, err, "L'IMC est calculé à partir du poids et de la taille")
	dia := 130.0
	_, err = add(profile.NewMeasure{Code: "BLOOD_PRESSURE", Value: 120, Diastolic: &dia, Date: day(1)})
	refused(t, err, "La tension systolique doit être supérieure à la diastolique")
	_, err = add(profile.NewMeasure{Code: "BLOOD_PRESSURE", Value: 120, Date: day(1)})
	refused(t, err, "indiquez la systolique et la diastolique")
	_, err = add(profile.NewMeasure{Code: "TAILLE_DE_CHAUSSURES", Value: 40, Date: day(1)})
	refused(t, err, "Mesure inconnue")

	old, err := add(profile.NewMeasure{Code: "WEIGHT", Value: 84, Date: day(30)})
	must(t, err)
	w, err := add(profile.NewMeasure{Code: "weight", Value: 80.04, Date: day(2), Comment: "après le régime"})
	must(t, err)
	h, err := add(profile.NewMeasure{Code: "HEIGHT", Value: 1.80, Unit: "m", Date: day(40)})
	must(t, err)
	if h.Value != 180 || h.Unit != "cm" || w.Value != 80 || w.Formatted != "80 kg" {
		t.Fatalf("units: %+v %+v", h, w)
	}
	dia = 80
	bp, err := add(profile.NewMeasure{Code: "BLOOD_PRESSURE", Value: 128, Diastolic: &dia, Date: day(1)})
	must(t, err)
	if bp.Formatted != "128/80 mmHg" {
		t.Fatalf("blood pressure %q", bp.Formatted)
	}
	g, err := add(profile.NewMeasure{Code: "GLUCOSE", Value: 95, Unit: "mg/dL", Date: day(1)})
	must(t, err)
	if g.Value != 0.95 || g.Formatted != "0,95 g/L" {
		t.Fatalf("glucose %+v", g)
	}

	hist, err := f.prof.Measures(ctx, f.pat, f.pat.ID, "WEIGHT")
	must(t, err)
	if len(hist) != 2 || hist[0].ID != w.ID || hist[1].ID != old.ID || hist[0].Comment != "après le régime" {
		t.Fatalf("history: %+v", hist)
	}
	o, err := f.prof.LatestMeasures(ctx, f.pat, f.pat.ID)
	must(t, err)
	// 80 / 1.8² = 24.69
	if o.BMI == nil || o.BMI.Value != 24.7 || o.BMI.Category != "corpulence normale" || o.BMI.WeightID != w.ID || o.BMI.HeightID != h.ID || len(o.Latest) != 4 {
		t.Fatalf("overview: %+v %+v", o, o.BMI)
	}
	// Correcting the latest weight changes the BMI; deleting it goes back
	// to the previous one.
	_, err = f.prof.UpdateMeasure(ctx, f.pat, f.pat.ID, w.ID, profile.NewMeasure{Code: "WEIGHT", Value: 100, Date: day(2)})
	must(t, err)
	o, err = f.prof.LatestMeasures(ctx, f.pat, f.pat.ID)
	must(t, err)
	if o.BMI.Value != 30.9 || o.BMI.Category != "obésité" {
		t.Fatalf("bmi after correction: %+v", o.BMI)
	}
	must(t, f.prof.DeleteMeasure(ctx, f.pat, f.pat.ID, w.ID))
	o, err = f.prof.LatestMeasures(ctx, f.pat, f.pat.ID)
	must(t, err)
	if o.BMI.Value != 25.9 || o.BMI.WeightID != old.ID {
		t.Fatalf("bmi after delete: %+v", o.BMI)
	}
	// Another person's measure is not found.
	if _, err := f.prof.UpdateMeasure(ctx, f.str, f.str.ID, old.ID, profile.NewMeasure{Code: "WEIGHT", Value: 60, Date: day(1)}); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("someone else's measure: %v", err)
	}
	// A child's BMI has no adult category.
	_, err = f.prof.AddMeasure(ctx, f.pat, f.child.ID, profile.NewMeasure{Code: "WEIGHT", Value: 30, Date: day(1)})
	must(t, err)
	_, err = f.prof.AddMeasure(ctx, f.pat, f.child.ID, profile.NewMeasure{Code: "HEIGHT", Value: 130, Date: day(1)})
	must(t, err)
	o, err = f.prof.LatestMeasures(ctx, f.pat, f.child.ID)
	must(t, err)
	if o.BMI == nil || o.BMI.Value != 17.8 || o.BMI.Category != "" {
		t.Fatalf("child's bmi: %+v", o.BMI)
	}
}

func step3(witnesses ...profile.Witness) *profile.DirectivesStep3 {
	return &profile.DirectivesStep3{Treatments: map[string]string{"REANIMATION": "REFUSE", "SEDATION": "accept"},
		OtherWishes: "Je souhaite rester chez moi, entourée des miens.", Consent: true, Place: "Moulins", SignedOn: "2025-06-16",
		CannotWrite: len(witnesses) > 0, Witnesses: witnesses}
}

func testDirectives(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	s1 := &profile.DirectivesStep1{WishToWrite: true, KeepInSpace: true, CopiesHeldBy: "Mon médecin traitant"}
	s2 := &profile.DirectivesStep2{Values: "Ce qui compte pour moi : ma famille, ne pas souffrir."}

	// Adults only: a parent cannot write the child's directives.
	_, err := f.prof.WriteDirectives(ctx, f.pat, f.child.ID, profile.DirectivesForm{Model: "B", Step1: s1})
	refused(t, err, "Les directives anticipées sont réservées aux personnes majeures")
	_, err = f.prof.AttachDirectives(ctx, f.pat, f.child.ID, 1)
	refused(t, err, "réservées aux personnes majeures")

	_, err = f.prof.WriteDirectives(ctx, f.pat, f.pat.ID, profile.DirectivesForm{Model: "C", Step1: s1})
	refused(t, err, "Choisissez le modèle A")
	_, err = f.prof.WriteDirectives(ctx, f.pat, f.pat.ID, profile.DirectivesForm{Model: "A", Step2: s2})
	refused(t, err, "Remplissez les étapes dans l'ordre : l'étape 1 d'abord")
	_, err = f.prof.WriteDirectives(ctx, f.pat, f.pat.ID, profile.DirectivesForm{Model: "A", Step1: &profile.DirectivesStep1{}})
	refused(t, err, "Étape 1 : confirmez votre souhait")
	dir, err := f.prof.WriteDirectives(ctx, f.pat, f.pat.ID, profile.DirectivesForm{Model: "a", Step1: s1})
	must(t, err)
	if dir.Complete || dir.NextStep != 2 || dir.Model != "A" {
		t.Fatalf("after step 1: %+v", dir)
	}
	st := step3()
	st.Consent = false
	_, err = f.prof.WriteDirectives(ctx, f.pat, f.pat.ID, profile.DirectivesForm{Model: "A", Step1: s1, Step2: s2, Step3: st})
	refused(t, err, "Étape 3 : confirmez que ces directives expriment votre volonté libre et éclairée")

	// Witnesses when the person cannot write: two, distinct; the trusted
	// person among them once one is designated.
	anne := profile.Witness{FirstName: "Anne", LastName: "Moreau", Quality: "amie"}
	_, err = f.prof.WriteDirectives(ctx, f.pat, f.pat.ID, profile.DirectivesForm{Model: "A", Step1: s1, Step2: s2, Step3: step3(anne)})
	refused(t, err, "deux témoins attestent vos directives : indiquez-en deux")
	_, err = f.prof.WriteDirectives(ctx, f.pat, f.pat.ID, profile.DirectivesForm{Model: "A", Step1: s1, Step2: s2, Step3: step3(anne, anne)})
	refused(t, err, "Les deux témoins doivent être deux personnes différentes")
	marc := profile.Witness{FirstName: "Marc", LastName: "Lefevre", Quality: "époux", TrustedPerson: true}
	_, err = f.prof.WriteDirectives(ctx, f.pat, f.pat.ID, profile.DirectivesForm{Model: "A", Step1: s1, Step2: s2, Step3: step3(anne, marc)})
	refused(t, err, "Vous n'avez pas désigné de personne de confiance")
	_, err = f.prof.AddEntry(ctx, f.pat, f.pat.ID, &profile.Contact{FirstName: "Marc", LastName: "Lefèvre", ContactTypes: []string{profile.TrustedContact},
		MobileNumber: "+33 6 12 34 56 78", PostalCode: "03000", City: "Moulins"})
	must(t, err)
	bob := profile.Witness{FirstName: "Bob", LastName: "Martin"}
	_, err = f.prof.WriteDirectives(ctx, f.pat, f.pat.ID, profile.DirectivesForm{Model: "A", Step1: s1, Step2: s2, Step3: step3(anne, bob)})
	refused(t, err, "Vous avez désigné une personne de confiance (Marc LEFÈVRE) : elle doit être l'un des deux témoins")
	wrong := profile.Witness{FirstName: "Julie", LastName: "Lefèvre", TrustedPerson: true}
	_, err = f.prof.WriteDirectives(ctx, f.pat, f.pat.ID, profile.DirectivesForm{Model: "A", Step1: s1, Step2: s2, Step3: step3(anne, wrong)})
	refused(t, err, "Le témoin « personne de confiance » doit être Marc LEFÈVRE")
	st = step3()
	st.Witnesses = []profile.Witness{anne, bob}
	_, err = f.prof.WriteDirectives(ctx, f.pat, f.pat.ID, profile.DirectivesForm{Model: "A", Step1: s1, Step2: s2, Step3: st})
	refused(t, err, "Les témoins n'attestent que si vous ne pouvez pas écrire vous-même")
	dir, err = f.prof.WriteDirectives(ctx, f.pat, f.pat.ID, profile.DirectivesForm{Model: "A", Step1: s1, Step2: s2, Step3: step3(anne, marc)})
	must(t, err)
	if !dir.Complete || dir.NextStep != 0 || dir.Step3.Treatments["SEDATION"] != "ACCEPT" {
		t.Fatalf("complete: %+v", dir)
	}
	got, err := f.prof.Directives(ctx, f.pat, f.pat.ID)
	must(t, err)
	if got == nil || !got.Complete || len(got.Step3.Witnesses) != 2 {
		t.Fatalf("read back: %+v", got)
	}

	// Or attach a document of the library: pdf yes, png no, someone
	// else's no.
	pdf, err := f.docs.AddDocument(ctx, f.pat, dmp.Upload{Name: "mes-directives.pdf", Data: tinyPDF})
	must(t, err)
	png, err := f.docs.AddDocument(ctx, f.pat, dmp.Upload{Name: "photo.png", Data: []byte("\x89PNG\r\n\x1a\n0000")})
	must(t, err)
	other, err := f.docs.AddDocument(ctx, f.str, dmp.Upload{Name: "autre.pdf", Data: tinyPDF})
	must(t, err)
	_, err = f.prof.AttachDirectives(ctx, f.pat, f.pat.ID, png.ID)
	refused(t, err, "Joignez un document PDF, RTF, TIFF ou JPG")
	_, err = f.prof.AttachDirectives(ctx, f.pat, f.pat.ID, other.ID)
	refused(t, err, "Ce document n'est pas dans vos documents")
	dir, err = f.prof.AttachDirectives(ctx, f.pat, f.pat.ID, pdf.ID)
	must(t, err)
	if dir.Mode != profile.DirectivesDocument || dir.DocumentID != pdf.ID || dir.Step3 != nil {
		t.Fatalf("attached: %+v", dir)
	}
	doc, err := f.docs.Get(ctx, f.pat, pdf.ID)
	must(t, err)
	if doc.Category != "directives-anticipees" {
		t.Fatalf("category of the attached document: %q", doc.Category)
	}
	must(t, f.prof.DeleteDirectives(ctx, f.pat, f.pat.ID))
	if got, err := f.prof.Directives(ctx, f.pat, f.pat.ID); err != nil || got != nil {
		t.Fatalf("after delete: %+v %v", got, err)
	}
	if err := f.prof.DeleteDirectives(ctx, f.pat, f.pat.ID); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("deleted twice: %v", err)
	}
}

func testActFor(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	al := &profile.Allergy{Name: "Arachide"}
	// The parent acts for the child.
	e, err := f.prof.AddEntry(ctx, f.pat, f.child.ID, al)
	must(t, err)
	p, err := f.prof.Get(ctx, f.pat, f.child.ID)
	must(t, err)
	if p.PersonID != f.child.ID || len(p.Sections[profile.Allergies]) != 1 {
		t.Fatalf("the child's profile: %+v", p)
	}
	mine, err := f.prof.Get(ctx, f.pat, f.pat.ID)
	must(t, err)
	if len(mine.Sections[profile.Allergies]) != 0 {
		t.Fatal("the child's allergy in the parent's profile")
	}
	// The parent's id does not reach the child's entry.
	if err := f.prof.DeleteEntry(ctx, f.pat, f.pat.ID, profile.Allergies, e.ID); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("delete through the wrong person: %v", err)
	}
	// A stranger and professionals are refused everything, on the
	// patient's and the child's profile.
	for _, who := range []*directory.Account{f.str, f.doc, f.ph} {
		for _, id := range []int64{f.pat.ID, f.child.ID} {
			_, err := f.prof.Get(ctx, who, id)
			forbidden(t, err, who.Address+" get")
			_, err = f.prof.Entries(ctx, who, id, profile.Allergies)
			forbidden(t, err, who.Address+" entries")
			_, err = f.prof.AddEntry(ctx, who, id, al)
			forbidden(t, err, who.Address+" add")
			_, err = f.prof.UpdateEntry(ctx, who, id, e.ID, al)
			forbidden(t, err, who.Address+" update")
			forbidden(t, f.prof.DeleteEntry(ctx, who, id, profile.Allergies, e.ID), who.Address+" delete")
			_, err = f.prof.Measures(ctx, who, id, "WEIGHT")
			forbidden(t, err, who.Address+" measures")
			_, err = f.prof.AddMeasure(ctx, who, id, profile.NewMeasure{Code: "WEIGHT", Value: 60, Date: time.Now()})
			forbidden(t, err, who.Address+" add measure")
			_, err = f.prof.Directives(ctx, who, id)
			forbidden(t, err, who.Address+" directives")
			_, err = f.prof.SetCharacteristics(ctx, who, id, profile.Characteristics{BloodGroup: "O+"})
			forbidden(t, err, who.Address+" characteristics")
			_, err = f.prof.GenerateSummary(ctx, who, id)
			forbidden(t, err, who.Address+" summary")
		}
	}
	// A professional does not act for themself either (person 0).
	_, err = f.prof.Get(ctx, f.doc, 0)
	forbidden(t, err, "professional for themself")
}

func testSummary(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	// The doctor writes to the patient: they now care for her.
	deliver(t, f, f.doc, f.pat.Address, "Compte rendu", "compte-rendu.pdf")

	for _, p := range []profile.Payload{
		&profile.Allergy{Name: "Pénicilline", Comment: "Œdème de Quincke en 2010"},
		&profile.Disease{Name: "Hypertension artérielle", Start: "2019-05"},
		&profile.Treatment{Name: "Ramipril 5 mg", Dosage: "1 comprimé le matin", Start: "2019"},
		&profile.FamilyHistory{Name: "Diabète de type 2", FamilyRelationship: "MOTHER"},
		&profile.HealthProfessional{Role: profile.RoleMedecinTraitant, Mailbox: f.doc.Address},
		&profile.Contact{FirstName: "Marc", LastName: "Lefèvre", ContactTypes: []string{profile.TrustedContact}, MobileNumber: "0612345678", PostalCode: "03000", City: "Moulins"},
	} {
		_, err := f.prof.AddEntry(ctx, f.pat, f.pat.ID, p)
		must(t, err)
	}
	_, err := f.prof.SetCharacteristics(ctx, f.pat, f.pat.ID, profile.Characteristics{BloodGroup: "O+"})
	must(t, err)
	_, err = f.prof.SetOrganDonation(ctx, f.pat, f.pat.ID, profile.OrganDonation{Informed: true})
	must(t, err)
	for _, m := range []profile.NewMeasure{{Code: "WEIGHT", Value: 62.5}, {Code: "HEIGHT", Value: 165}} {
		m.Date = time.Now().AddDate(0, 0, -1)
		_, err := f.prof.AddMeasure(ctx, f.pat, f.pat.ID, m)
		must(t, err)
	}
	_, err = f.prof.WriteDirectives(ctx, f.pat, f.pat.ID, profile.DirectivesForm{Model: "B",
		Step1: &profile.DirectivesStep1{WishToWrite: true, KeepInSpace: true}, Step2: &profile.DirectivesStep2{Values: "Vivre sans acharnement"}})
	must(t, err)

	doc, err := f.prof.GenerateSummary(ctx, f.pat, f.pat.ID)
	must(t, err)
	if doc.Category != "synthese-medicale" || doc.ClassCode != "11" || doc.TypeCode != profile.SummaryTypeCode || doc.MimeType != "application/pdf" ||
		doc.Origin != "summary" || !strings.HasPrefix(doc.Title, "Synthèse médicale du ") {
		t.Fatalf("summary document: %+v", doc)
	}
	// The doctor who cares for the patient reads it; the profile stays
	// closed to them.
	list, err := f.docs.List(ctx, f.doc, f.pat.ID, dmp.Query{Category: "synthese-medicale"})
	must(t, err)
	if len(list) != 1 || list[0].ID != doc.ID {
		t.Fatalf("the doctor's list: %+v", list)
	}
	_, rc, err := f.docs.Open(ctx, f.doc, doc.ID)
	must(t, err)
	pdf, err := io.ReadAll(rc)
	rc.Close()
	must(t, err)
	text := pdfText(t, pdf)
	for _, want := range []string{
		"Synthèse du profil médical", "Nom : LEFÈVRE", "Prénom : Hélène", "Date de naissance : 14/03/1979", "Sexe : Femme",
		"Groupe sanguin : O+",
		"Pénicilline — Œdème de Quincke en 2010",
		"Hypertension artérielle — depuis mai 2019",
		"Ramipril 5 mg — 1 comprimé le matin — depuis 2019",
		"Poids : 62,5 kg", "Taille : 165 cm", "IMC : 23 kg/m² (corpulence normale)",
		"Diabète de type 2 — mère",
		"Médecin traitant : Dr Alice Martin — Médecin généraliste",
		"Marc LEFÈVRE — personne de confiance — 0612345678 — 03000 Moulins",
		"Don d'organes : a pris connaissance des règles",
		"modèle B (en bonne santé)", "en cours (étape 3 sur 3)", "Vivre sans acharnement",
		"Hospitalisations et chirurgies", "Aucune information renseignée",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the synthèse lacks %q:\n%s", want, text)
		}
	}
	if _, err := f.prof.Get(ctx, f.doc, f.pat.ID); !errors.Is(err, dmp.ErrForbidden) {
		t.Fatalf("the doctor read the profile: %v", err)
	}
	// A professional who does not care for her reads nothing; the patient
	// sees the filing in her trace.
	if _, err := f.docs.List(ctx, f.sf, f.pat.ID, dmp.Query{}); !errors.Is(err, dmp.ErrForbidden) {
		t.Fatalf("a stranger professional: %v", err)
	}
	traces, err := f.docs.Traces(ctx, f.pat, 50)
	must(t, err)
	filed := false
	for _, tr := range traces {
		filed = filed || tr.DocumentID == doc.ID && tr.Action == "dépôt"
	}
	if !filed {
		t.Fatalf("no trace of the filing: %+v", traces)
	}
	// A parent generates the child's synthèse, in the child's library.
	cdoc, err := f.prof.GenerateSummary(ctx, f.pat, f.child.ID)
	must(t, err)
	if cdoc.PatientID != f.child.ID {
		t.Fatalf("the child's synthèse went to %d", cdoc.PatientID)
	}
}

// deliver sends a letter with a PDF from a professional to a patient
// through the delivery pipeline.
func deliver(t *testing.T, f *fixture, from *directory.Account, to, subject, name string) {
	t.Helper()
	ctx := context.Background()
	raw := fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%d@hopital.example>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n"+
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
		from.Address, to, subject, time.Now().UnixNano(), name, base64.StdEncoding.EncodeToString(tinyPDF))
	tx := f.p.Begin(mailbox.Envelope{Door: mailbox.Submission, From: from.Address, Auth: from})
	must(t, tx.AddRecipient(ctx, mailbox.Recipient{Address: to}))
	_, err := tx.Deliver(ctx, strings.NewReader(raw))
	must(t, err)
}

// pdfText reads a PDF back with poppler's pdftotext; a missing binary is
// a broken test machine, never a reason to skip.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatalf("pdftotext not found (install poppler-utils): %v", err)
	}
	path := filepath.Join(t.TempDir(), "s.pdf")
	must(t, os.WriteFile(path, pdf, 0o600))
	out, err := exec.Command(bin, "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}
