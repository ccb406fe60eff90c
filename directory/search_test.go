package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"mssanted/db"
	"mssanted/db/dbtest"
)

// The search conformance suite: every case runs on SQLite and PostgreSQL.

// pharmacyLine is an ORG line of the extract for a pharmacy.
func pharmacyLine(addr, finess, company, trade, num, typ, street, pc, l6 string) ExtractRecord {
	return ExtractRecord{MailboxType: "ORG", Address: addr, StructureIDType: "1", StructureID: "1" + finess,
		CompanyName: company, TradeName: trade, StreetNumber: num, StreetType: typ, StreetName: street,
		DeliveryLine: l6, PostalCode: pc, Department: pc[:2], Country: "FRANCE"}
}

func professionalLine(addr, rppsNum, civ, last, first, profCode, prof, skill, company, pc, l6 string) ExtractRecord {
	return ExtractRecord{MailboxType: "PER", Address: addr, PPIDType: "8", PPID: rppsNum, PPNationalID: "8" + rppsNum,
		Civility: civ, LastName: last, FirstName: first, ProfessionCategory: "C", ProfessionCode: profCode,
		Profession: prof, Skill: skill, CompanyName: company, StreetNumber: "2", StreetType: "RUE",
		StreetName: "DE LA PAIX", PostalCode: pc, DeliveryLine: l6, Country: "FRANCE"}
}

func extractFile(recs ...ExtractRecord) string {
	var b strings.Builder
	b.WriteString(ExtractHeader + "\r\n")
	for _, r := range recs {
		b.WriteString(r.Line() + "\r\n")
	}
	return b.String()
}

// fixture is the directory of the search cases.
func fixture() []ExtractRecord {
	return []ExtractRecord{
		pharmacyLine("pharmacie.gare.moulins@ph.mssante.fr", "030000011", "SELARL PHARMACIE DE LA GARE", "PHARMACIE DE LA GARE", "12", "PL", "DE LA GARE", "03000", "03000 MOULINS"),
		pharmacyLine("gare.paris11@ph.mssante.fr", "750000011", "SNC DURAND", "Pharmacie de la Gare", "38", "AV", "Parmentier", "75011", "75011 PARIS"),
		pharmacyLine("gare.stlazare@ph.mssante.fr", "750000021", "PHARMACIE DE LA GARE SAINT-LAZARE", "", "1", "RUE", "SAINT-LAZARE", "75008", "75008 PARIS"),
		pharmacyLine("centre.stetienne@ph.mssante.fr", "420000011", "PHARMACIE DU CENTRE", "", "5", "PL", "JEAN JAURES", "42000", "42000 ST ETIENNE"),
		pharmacyLine("grande.vichy@ph.mssante.fr", "030000021", "GRANDE PHARMACIE DE L'ALLIER", "", "3", "RUE", "DE PARIS", "03200", "03200 VICHY"),
		pharmacyLine("halles.avermes@ph.mssante.fr", "030000031", "PHARMACIE DES HALLES", "", "8", "RUE", "DES HALLES", "03000", "03000 AVERMES"),
		pharmacyLine("dupont@ph.mssante.fr", "030000041", "SELARL PHARMACIE DUPONT", "", "9", "BD", "DE COURTAIS", "03000", "03000 MOULINS"),
		// Not officines: a hospital's pharmacy, a laboratory.
		{MailboxType: "ORG", Address: "pui@ch-moulins.fr", StructureIDType: "1", StructureID: "1030780100",
			Service: "PHARMACIE", CompanyName: "CENTRE HOSPITALIER DE MOULINS", PostalCode: "03000", DeliveryLine: "03000 MOULINS"},
		{MailboxType: "ORG", Address: "pharmacie-pui@ch-vichy.fr", StructureIDType: "1", StructureID: "1030780200",
			CompanyName: "PHARMACIE A USAGE INTERIEUR CH VICHY", PostalCode: "03200", DeliveryLine: "03200 VICHY"},
		{MailboxType: "ORG", Address: "labo@bio.fr", StructureIDType: "3", StructureID: "312345678901234",
			CompanyName: "LABORATOIRE DE BIOLOGIE DE LA GARE", PostalCode: "03000", DeliveryLine: "03000 MOULINS"},
		// Imported twin of a local account that is not reachable: hidden.
		pharmacyLine("cachee@hopital.example", "030000051", "PHARMACIE CACHEE", "", "1", "RUE", "SECRETE", "03000", "03000 MOULINS"),
		professionalLine("alice.martin@med.mssante.fr", testRPPS("1000000011"), "DR", "MARTIN", "Alice", "10", "Médecin", "Médecine générale", "CABINET MARTIN", "42000", "42000 SAINT ETIENNE"),
		professionalLine("jean.dupont@inf.mssante.fr", testRPPS("1000000021"), "M", "DUPONT", "Jean", "60", "Infirmier", "", "", "03000", "03000 MOULINS"),
		professionalLine("pharmacien@ph.mssante.fr", testRPPS("1000000031"), "MME", "DURAND", "Claire", "21", "Pharmacien", "", "PHARMACIE DE LA GARE", "03000", "03000 MOULINS"),
		professionalLine("alice.martine@med.mssante.fr", testRPPS("1000000041"), "DR", "MARTINE", "Alicia", "10", "Médecin", "Cardiologie", "", "69001", "69001 LYON"),
	}
}

func importFixture(t *testing.T, s *Store, recs ...ExtractRecord) *ExtractReport {
	t.Helper()
	rep, err := s.ImportExtract(context.Background(), strings.NewReader(extractFile(recs...)),
		ExtractImport{File: "Extraction_Correspondance_MSSante_202503131454.txt"})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep
}

// searchStore has the fixture imported and local pharmacies: one
// reachable, one not (with an imported twin), one disabled.
func searchStore(t *testing.T, d *db.DB) *Store {
	t.Helper()
	s := newStore(t, d)
	ctx := context.Background()
	importFixture(t, s, fixture()...)
	local := pharmacy("gare.locale@hopital.example") // Pharmacie de la Gare, Moulins, reachable
	if _, err := s.Create(ctx, local); err != nil {
		t.Fatal(err)
	}
	hidden := pharmacy("cachee@hopital.example")
	hidden.DisplayName, hidden.Pharmacy.ReachableByPatients = "Pharmacie Cachée", false
	if _, err := s.Create(ctx, hidden); err != nil {
		t.Fatal(err)
	}
	off := pharmacy("fermee@hopital.example")
	off.DisplayName = "Pharmacie Fermée"
	if _, err := s.Create(ctx, off); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDisabled(ctx, "fermee@hopital.example", true); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSearchConformance(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{
		{Name: "name-and-place", Run: testSearchNameAndPlace},
		{Name: "places", Run: testSearchPlaces},
		{Name: "typo", Run: testSearchTypo},
		{Name: "refusals", Run: testSearchRefusals},
		{Name: "never-unreachable", Run: testSearchNeverUnreachable},
		{Name: "pagination", Run: testSearchPagination},
		{Name: "professionals", Run: testSearchProfessionals},
		{Name: "import-report", Run: testImportReport},
		{Name: "reimport-replaces", Run: testReimportReplaces},
		{Name: "import-refusals", Run: testImportRefusals},
	})
}

func mailboxes(rs []PharmacyResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Mailbox)
	}
	return out
}

func search(t *testing.T, s *Store, name, place string) *PharmacyPage {
	t.Helper()
	p, err := s.SearchPharmacies(context.Background(), PharmacyQuery{Name: name, Place: place, PageSize: MaxPageSize})
	if err != nil {
		t.Fatalf("search %q in %q: %v", name, place, err)
	}
	if p.Total != len(p.Results) {
		t.Fatalf("search %q in %q: total %d, %d results on one page", name, place, p.Total, len(p.Results))
	}
	return p
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func testSearchNameAndPlace(t *testing.T, d *db.DB) {
	s := searchStore(t, d)
	p := search(t, s, "pharmacie de la gare", "paris")
	if got := mailboxes(p.Results); !slices.Equal(got, []string{"gare.paris11@ph.mssante.fr", "gare.stlazare@ph.mssante.fr"}) {
		t.Fatalf("pharmacie de la gare, paris: %v", got)
	}
	r := p.Results[0]
	if r.Name != "Pharmacie de la Gare" || r.Kind != "Pharmacie d'officine" || r.Match != "exact" ||
		r.Address != "38 AV Parmentier, 75011 Paris 11e Arrondissement" || r.FINESS != "750000011" ||
		r.CommuneCode != "75111" || r.Department != "75" || r.Local {
		t.Errorf("first result: %+v", r)
	}
	if p.Results[1].Name != "Pharmacie de la Gare Saint-Lazare" || p.Results[1].Match != "prefix" {
		t.Errorf("second result: %+v", p.Results[1])
	}
	if p.Place == "" {
		t.Error("no place label")
	}
	// Without a place: every "gare" pharmacy, exact names first, the
	// local one included.
	p = search(t, s, "Pharmacie de la Gare", "")
	got := mailboxes(p.Results)
	if !sameSet(got[:3], []string{"gare.paris11@ph.mssante.fr", "pharmacie.gare.moulins@ph.mssante.fr", "gare.locale@hopital.example"}) ||
		got[3] != "gare.stlazare@ph.mssante.fr" || len(got) != 4 {
		t.Fatalf("pharmacie de la gare: %v", got)
	}
	for _, r := range p.Results {
		if r.Mailbox == "gare.locale@hopital.example" && (!r.Local || r.Address != "1 place de la Gare, 03000 Moulins") {
			t.Errorf("local pharmacy: %+v", r)
		}
	}
	// The company name is searched too; case and accents do not matter.
	if got := mailboxes(search(t, s, "DURAND", "").Results); !slices.Equal(got, []string{"gare.paris11@ph.mssante.fr"}) {
		t.Errorf("company name: %v", got)
	}
	if got := mailboxes(search(t, s, "grande pharmacie de l’allier", "").Results); !slices.Equal(got, []string{"grande.vichy@ph.mssante.fr"}) {
		t.Errorf("apostrophe: %v", got)
	}
	// The word being typed is a prefix; followed by a space, it is whole.
	if got := mailboxes(search(t, s, "pharmacie des hal", "").Results); !slices.Equal(got, []string{"halles.avermes@ph.mssante.fr"}) {
		t.Errorf("prefix: %v", got)
	}
	if got := mailboxes(search(t, s, "pharmacie des hal ", "").Results); len(got) != 0 {
		t.Errorf("whole word: %v", got)
	}
	// "Pharmacie" alone: every pharmacy, as a browse.
	if p := search(t, s, "Pharmacie", "03"); p.Total != 5 {
		t.Errorf("pharmacie in 03: %v", mailboxes(p.Results))
	}
}

func testSearchPlaces(t *testing.T, d *db.DB) {
	s := searchStore(t, d)
	allier := []string{"pharmacie.gare.moulins@ph.mssante.fr", "grande.vichy@ph.mssante.fr", "halles.avermes@ph.mssante.fr",
		"dupont@ph.mssante.fr", "gare.locale@hopital.example"}
	for _, place := range []string{"03", "Allier", "allier", "3"} {
		if got := mailboxes(search(t, s, "", place).Results); !sameSet(got, allier) {
			t.Errorf("%q: %v", place, got)
		}
	}
	moulins := []string{"pharmacie.gare.moulins@ph.mssante.fr", "dupont@ph.mssante.fr", "gare.locale@hopital.example"}
	for _, place := range []string{"Moulins", "MOULINS", "Moulins (03)", "Moulins - 03", "03000 Moulins"} {
		if got := mailboxes(search(t, s, "", place).Results); !sameSet(got, moulins) {
			t.Errorf("%q: %v", place, got)
		}
	}
	// A postal code is all its communes: Avermes too.
	if got := mailboxes(search(t, s, "", "03000").Results); !sameSet(got, append(moulins, "halles.avermes@ph.mssante.fr")) {
		t.Errorf("03000: %v", got)
	}
	se1 := mailboxes(search(t, s, "", "Saint-Étienne").Results)
	se2 := mailboxes(search(t, s, "", "saint etienne").Results)
	if !slices.Equal(se1, []string{"centre.stetienne@ph.mssante.fr"}) || !slices.Equal(se1, se2) {
		t.Errorf("Saint-Étienne %v, saint etienne %v", se1, se2)
	}
	if r := search(t, s, "", "saint etienne").Results; len(r) == 1 && r[0].Address != "5 PL Jean Jaures, 42000 Saint-Étienne" {
		t.Errorf("address %q", r[0].Address)
	}
	for _, place := range []string{"Paris - 75", "Paris", "75"} {
		if got := mailboxes(search(t, s, "", place).Results); !sameSet(got, []string{"gare.paris11@ph.mssante.fr", "gare.stlazare@ph.mssante.fr"}) {
			t.Errorf("%q: %v", place, got)
		}
	}
	for _, place := range []string{"75011", "Paris 11e Arrondissement", "paris 11"} {
		if got := mailboxes(search(t, s, "", place).Results); !slices.Equal(got, []string{"gare.paris11@ph.mssante.fr"}) {
			t.Errorf("%q: %v", place, got)
		}
	}
	if p := search(t, s, "", "Corse-du-Sud"); p.Total != 0 || p.Place != "Corse-du-Sud (2A)" {
		t.Errorf("Corse-du-Sud: %+v", p)
	}
	// Name and place both required.
	if got := mailboxes(search(t, s, "gare", "Allier").Results); !sameSet(got, []string{"pharmacie.gare.moulins@ph.mssante.fr", "gare.locale@hopital.example"}) {
		t.Errorf("gare in Allier: %v", got)
	}
	if p := search(t, s, "pharmacie du centre", "Moulins"); p.Total != 0 {
		t.Errorf("centre in Moulins: %v", mailboxes(p.Results))
	}
}

func testSearchTypo(t *testing.T, d *db.DB) {
	s := searchStore(t, d)
	p := search(t, s, "Pharmacie de la Garre", "")
	got := mailboxes(p.Results)
	if len(got) != 4 || !sameSet(got[:3], []string{"gare.paris11@ph.mssante.fr", "pharmacie.gare.moulins@ph.mssante.fr", "gare.locale@hopital.example"}) {
		t.Fatalf("Pharmacie de la Garre: %v", got)
	}
	if p.Results[0].Match != "near" || p.Results[3].Match != "fuzzy" {
		t.Errorf("matches: %q, %q", p.Results[0].Match, p.Results[3].Match)
	}
	for _, q := range []string{"pharmacie de la gaer", "PHARMACIE DE LA GARE", "pharmacie de la gâre", "Pharmacie-de-la-Gare"} {
		if p := search(t, s, q, "Paris"); len(p.Results) == 0 || p.Results[0].Mailbox != "gare.paris11@ph.mssante.fr" {
			t.Errorf("%q: %v", q, mailboxes(p.Results))
		}
	}
	// Two typos in a long word, one in a short one.
	if got := mailboxes(search(t, s, "pharmacie des hallles", "").Results); !slices.Equal(got, []string{"halles.avermes@ph.mssante.fr"}) {
		t.Errorf("hallles: %v", got)
	}
	if got := mailboxes(search(t, s, "Pharmacie Dupond", "").Results); !slices.Equal(got, []string{"dupont@ph.mssante.fr"}) {
		t.Errorf("Dupond: %v", got)
	}
	// Too far: nothing.
	if p := search(t, s, "pharmacie de la grotte", ""); p.Total != 0 {
		t.Errorf("grotte: %v", mailboxes(p.Results))
	}
	// A typo in the place.
	if got := mailboxes(search(t, s, "gare", "Moulns").Results); !sameSet(got, []string{"pharmacie.gare.moulins@ph.mssante.fr", "gare.locale@hopital.example"}) {
		t.Errorf("Moulns: %v", got)
	}
}

func testSearchRefusals(t *testing.T, d *db.DB) {
	s := searchStore(t, d)
	ctx := context.Background()
	for _, q := range []PharmacyQuery{
		{}, {Name: "  ", Place: "\t"}, {Name: "--", Place: "'"},
		{Name: strings.Repeat("é", 101)},
		{Place: "Atlantide"},
		{Name: "gare", PageSize: 51},
		{Name: "gare", Page: -1},
	} {
		if _, err := s.SearchPharmacies(ctx, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", q, err)
		}
	}
	_, err := s.SearchPharmacies(ctx, PharmacyQuery{})
	if err == nil || !strings.Contains(err.Error(), "Saisissez au moins un champ") {
		t.Errorf("empty query: %v", err)
	}
	if _, err := s.SearchPharmacies(ctx, PharmacyQuery{Name: strings.Repeat("é", 100)}); err != nil {
		t.Errorf("100 characters: %v", err)
	}
}

func testSearchNeverUnreachable(t *testing.T, d *db.DB) {
	s := searchStore(t, d)
	ctx := context.Background()
	never := []string{"cachee@hopital.example", "fermee@hopital.example", "pui@ch-moulins.fr", "pharmacie-pui@ch-vichy.fr",
		"labo@bio.fr", "pharmacien@ph.mssante.fr"}
	for _, q := range []PharmacyQuery{{Name: "Pharmacie Cachée"}, {Name: "cachee"}, {Name: "Pharmacie Fermée"},
		{Place: "Moulins"}, {Place: "03"}, {Place: "03000"}, {Name: "pharmacie", Place: "03"}, {Name: "gare"},
		{Name: "Centre Hospitalier"}, {Name: "laboratoire de la gare"}, {Name: "durand"}} {
		q.PageSize = MaxPageSize
		p, err := s.SearchPharmacies(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mailboxes(p.Results) {
			if slices.Contains(never, m) {
				t.Errorf("%+v lists %s", q, m)
			}
		}
	}
	// Enabling and making it reachable would list it: the index follows the
	// accounts (through the pending queue).
	if err := s.SetDisabled(ctx, "fermee@hopital.example", false); err != nil {
		t.Fatal(err)
	}
	if got := mailboxes(search(t, s, "Pharmacie Fermée", "").Results); !slices.Equal(got, []string{"fermee@hopital.example"}) {
		t.Errorf("re-enabled: %v", got)
	}
	if err := s.SetDisabled(ctx, "gare.locale@hopital.example", true); err != nil {
		t.Fatal(err)
	}
	if got := mailboxes(search(t, s, "", "Moulins").Results); slices.Contains(got, "gare.locale@hopital.example") {
		t.Errorf("disabled still listed: %v", got)
	}
}

func testSearchPagination(t *testing.T, d *db.DB) {
	s := newStore(t, d)
	ctx := context.Background()
	var recs []ExtractRecord
	for i := 1; i <= 23; i++ {
		recs = append(recs, pharmacyLine(fmt.Sprintf("marche%02d@ph.mssante.fr", i), fmt.Sprintf("0300001%02d", i),
			fmt.Sprintf("PHARMACIE DU MARCHE %02d", i), "", "1", "PL", "DU MARCHE", "03000", "03000 MOULINS"))
	}
	importFixture(t, s, recs...)
	for _, q := range []PharmacyQuery{{Place: "Moulins"}, {Name: "pharmacie du marche"}, {Name: "marché", Place: "Allier"}} {
		var all []string
		for page := 1; page <= 4; page++ {
			q.Page, q.PageSize = page, 10
			p, err := s.SearchPharmacies(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != 23 || p.Page != page || p.PageSize != 10 {
				t.Fatalf("%+v: total %d page %d size %d", q, p.Total, p.Page, p.PageSize)
			}
			want := []int{10, 10, 3, 0}[page-1]
			if len(p.Results) != want {
				t.Fatalf("%+v: %d results, want %d", q, len(p.Results), want)
			}
			all = append(all, mailboxes(p.Results)...)
		}
		// Every pharmacy once, in name order.
		if len(all) != 23 || all[0] != "marche01@ph.mssante.fr" || all[22] != "marche23@ph.mssante.fr" || !slices.IsSorted(all) {
			t.Errorf("%+v: %v", q, all)
		}
	}
	p, err := s.SearchPharmacies(ctx, PharmacyQuery{Place: "Moulins"})
	if err != nil || p.PageSize != DefaultPageSize || p.Page != 1 || len(p.Results) != 20 {
		t.Errorf("defaults: %+v, %v", p, err)
	}
}

func testSearchProfessionals(t *testing.T, d *db.DB) {
	s := searchStore(t, d)
	ctx := context.Background()
	local := doctor("a.martin@hopital.example") // Dr Alice Martin, RPPS 10000000018
	if _, err := s.Create(ctx, local); err != nil {
		t.Fatal(err)
	}
	for _, role := range []Role{Patient, ""} {
		if _, err := s.SearchProfessionals(ctx, ProfessionalQuery{Actor: role, Name: "martin"}); !errors.Is(err, ErrForbidden) {
			t.Errorf("actor %q: %v, want ErrForbidden", role, err)
		}
	}
	find := func(q ProfessionalQuery) []string {
		t.Helper()
		q.Actor, q.PageSize = Professional, MaxPageSize
		p, err := s.SearchProfessionals(ctx, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		var out []string
		for _, r := range p.Results {
			out = append(out, r.Mailbox)
		}
		return out
	}
	if got := find(ProfessionalQuery{Name: "Alice Martin"}); !sameSet(got, []string{"alice.martin@med.mssante.fr", "a.martin@hopital.example"}) {
		t.Errorf("Alice Martin: %v", got)
	}
	// "martin" is one edit from "martine": exact names first.
	if got := find(ProfessionalQuery{Name: "Alicia Martin"}); !slices.Equal(got, []string{"alice.martine@med.mssante.fr"}) {
		t.Errorf("Alicia Martin: %v", got)
	}
	if got := find(ProfessionalQuery{Name: "martin"}); len(got) != 3 || got[2] != "alice.martine@med.mssante.fr" {
		t.Errorf("martin: %v", got)
	}
	if got := find(ProfessionalQuery{Name: "martin", Place: "Saint-Étienne"}); !slices.Equal(got, []string{"alice.martin@med.mssante.fr"}) {
		t.Errorf("martin in Saint-Étienne: %v", got)
	}
	if got := find(ProfessionalQuery{Profession: "infirmier", Place: "Moulins"}); !slices.Equal(got, []string{"jean.dupont@inf.mssante.fr"}) {
		t.Errorf("infirmier in Moulins: %v", got)
	}
	if got := find(ProfessionalQuery{Profession: "cardio"}); !slices.Equal(got, []string{"alice.martine@med.mssante.fr"}) {
		t.Errorf("cardio: %v", got)
	}
	if got := find(ProfessionalQuery{Profession: "médecin", Name: "alice"}); !sameSet(got, []string{"alice.martin@med.mssante.fr", "a.martin@hopital.example"}) {
		t.Errorf("médecin alice: %v", got)
	}
	if got := find(ProfessionalQuery{RPPS: testRPPS("1000000021")}); !slices.Equal(got, []string{"jean.dupont@inf.mssante.fr"}) {
		t.Errorf("RPPS: %v", got)
	}
	if _, err := s.SearchProfessionals(ctx, ProfessionalQuery{Actor: Professional, RPPS: "12345"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad RPPS: %v", err)
	}
	if _, err := s.SearchProfessionals(ctx, ProfessionalQuery{Actor: Pharmacy}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty: %v", err)
	}
	// Pharmacies are not professionals.
	if got := find(ProfessionalQuery{Name: "pharmacie de la gare"}); len(got) != 0 {
		t.Errorf("pharmacies among professionals: %v", got)
	}
	p, err := s.SearchProfessionals(ctx, ProfessionalQuery{Actor: Admin, Name: "DUPONT Jean"})
	if err != nil || len(p.Results) != 1 {
		t.Fatalf("DUPONT Jean: %+v, %v", p, err)
	}
	if r := p.Results[0]; r.Name != "Jean DUPONT" || r.Profession != "Infirmier" || r.RPPS != testRPPS("1000000021") ||
		r.Address != "2 RUE de la Paix, 03000 Moulins" || r.MailboxType != "PER" {
		t.Errorf("result: %+v", r)
	}
}

func TestPrettyName(t *testing.T) {
	for in, want := range map[string]string{
		"PHARMACIE DE LA GARE":         "Pharmacie de la Gare",
		"GRANDE PHARMACIE DE L'ALLIER": "Grande Pharmacie de l'Allier",
		"Pharmacie du Centre":          "Pharmacie du Centre",
		"LA PHARMACIE":                 "La Pharmacie",
		"SAINT-LAZARE":                 "Saint-Lazare",
		"  ":                           "",
	} {
		if got := prettyName(in); got != want {
			t.Errorf("prettyName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDeletionKeys(t *testing.T) {
	if got := deletionKeys("gare"); !slices.Equal(got, []string{"gare", "are", "gre", "gae", "gar"}) {
		t.Errorf("gare: %v", got)
	}
	if got := deletionKeys("halles"); !slices.Equal(got, []string{"halles", "alles", "hlles", "hales", "halls", "halle"}) {
		t.Errorf("halles: %v", got)
	}
	if got := deletionKeys("gar"); !slices.Equal(got, []string{"gar"}) {
		t.Errorf("gar: %v", got)
	}
	// Any two words one edit apart share a key.
	for _, p := range [][2]string{{"gare", "garre"}, {"gare", "gaer"}, {"gare", "gore"}, {"dupont", "dupond"}, {"gare", "are"}} {
		a, b := queryKeys(p[0], 1), deletionKeys(p[1])
		shared := false
		for _, k := range a {
			shared = shared || slices.Contains(b, k)
		}
		if !shared {
			t.Errorf("%v share no key: %v %v", p, a, b)
		}
	}
	if prefixEnd("gar") != "gas" || prefixEnd("az") != "a{" {
		t.Error("prefixEnd")
	}
}
