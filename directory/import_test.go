package directory

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory/gazetteer"
)

func testImportReport(t *testing.T, d *db.DB) {
	s := newStore(t, d)
	ctx := context.Background()
	good := fixture()
	lines := []string{ExtractHeader}
	for _, r := range good[:3] {
		lines = append(lines, r.Line())
	}
	bad := map[int]string{} // line number → expected reason fragment
	add := func(line, reason string) {
		lines = append(lines, line)
		if reason != "" {
			bad[len(lines)] = reason
		}
	}
	add(strings.Join(make([]string, 30), "|"), "30 columns")
	add("XYZ|x@y.fr"+strings.Repeat("|", 29), "mailbox type")
	add("PER|not an address"+strings.Repeat("|", 29), "malformed")
	add("PER|"+strings.Repeat("|", 29), "no mailbox address")
	add("", "empty line")
	add(good[0].Line(), "already on line 2")
	add("ORG|a@b.fr|\xff"+strings.Repeat("|", 28), "UTF-8")
	add("ORG|ctl@b.fr|\x01"+strings.Repeat("|", 28), "control")
	add(strings.Repeat("x", MaxExtractLine+10), "longer")
	for _, r := range good[3:] {
		add(r.Line(), "")
	}
	file := strings.Join(lines, "\n") // no final line break: the last line counts
	rep, err := s.ImportExtract(ctx, strings.NewReader(file), ExtractImport{File: "/tmp/Extraction_Correspondance_MSSante_202503131454.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Lines != len(lines)-1 || rep.Entries != len(good) || rep.Rejected != len(bad) || rep.Duplicates != 1 {
		t.Errorf("lines %d entries %d rejected %d duplicates %d; want %d %d %d 1", rep.Lines, rep.Entries, rep.Rejected,
			rep.Duplicates, len(lines)-1, len(good), len(bad))
	}
	if rep.Kinds[KindPharmacy] != 8 || rep.Kinds[KindProfessional] != 4 || rep.Kinds[KindOrganisation] != 3 {
		t.Errorf("kinds %v", rep.Kinds)
	}
	if rep.ExtractedAt != "2025-03-13 14:54" || rep.File != "Extraction_Correspondance_MSSante_202503131454.txt" || rep.Source != DefaultExtractSource {
		t.Errorf("report %+v", rep)
	}
	if len(rep.RejectedLines) != len(bad) {
		t.Fatalf("rejected lines %v", rep.RejectedLines)
	}
	for _, r := range rep.RejectedLines {
		want, ok := bad[r.Line]
		if !ok || !strings.Contains(r.Reason, want) {
			t.Errorf("line %d: %q, want %q", r.Line, r.Reason, want)
		}
	}
	srcs, err := s.ExtractSources(ctx)
	if err != nil || len(srcs) != 1 || srcs[0].Entries != len(good) || srcs[0].Pharmacies != 8 || srcs[0].Rejected != len(bad) {
		t.Errorf("sources %+v, %v", srcs, err)
	}
}

func testReimportReplaces(t *testing.T, d *db.DB) {
	s := newStore(t, d)
	ctx := context.Background()
	recs := fixture()
	importFixture(t, s, recs...)
	if got := mailboxes(search(t, s, "pharmacie du centre", "").Results); !slices.Equal(got, []string{"centre.stetienne@ph.mssante.fr"}) {
		t.Fatalf("before: %v", got)
	}
	// The second extract: the Saint-Étienne pharmacy is gone, one is new,
	// one moved.
	var next []ExtractRecord
	for _, r := range recs {
		switch r.Address {
		case "centre.stetienne@ph.mssante.fr", "pui@ch-moulins.fr": // the only ones with the word "centre"
			continue
		case "grande.vichy@ph.mssante.fr":
			r.PostalCode, r.DeliveryLine = "03300", "03300 CUSSET"
		}
		next = append(next, r)
	}
	next = append(next, pharmacyLine("nouvelle@ph.mssante.fr", "420000021", "PHARMACIE NOUVELLE", "", "1", "RUE", "NEUVE", "42100", "42100 SAINT-ETIENNE"))
	rep := importFixture(t, s, next...)
	if rep.Previous != len(recs) || rep.Entries != len(next) {
		t.Errorf("previous %d entries %d", rep.Previous, rep.Entries)
	}
	if p := search(t, s, "pharmacie du centre", ""); p.Total != 0 {
		t.Errorf("removed still found: %v", mailboxes(p.Results))
	}
	if got := mailboxes(search(t, s, "", "saint etienne").Results); !slices.Equal(got, []string{"nouvelle@ph.mssante.fr"}) {
		t.Errorf("after: %v", got)
	}
	if r := search(t, s, "grande pharmacie", "").Results; len(r) != 1 || r[0].Commune != "Cusset" {
		t.Errorf("moved: %+v", r)
	}
	// No table left behind; the words of the old extract gone.
	checkNoLoadTables(t, d)
	var n int
	if err := d.Read().QueryRowContext(ctx, `SELECT count(*) FROM directory_vocab WHERE term = 'centre'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("stale word kept: %d, %v", n, err)
	}
	if err := d.Read().QueryRowContext(ctx, `SELECT count(*) FROM directory_vocab_keys WHERE term = 'centre'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("stale keys kept: %d, %v", n, err)
	}
	// Another source is independent.
	if _, err := s.ImportExtract(ctx, strings.NewReader(extractFile(recs[3])), ExtractImport{Source: "autre"}); err != nil {
		t.Fatal(err)
	}
	if got := mailboxes(search(t, s, "pharmacie du centre", "").Results); !slices.Equal(got, []string{"centre.stetienne@ph.mssante.fr"}) {
		t.Errorf("other source: %v", got)
	}
	if got := mailboxes(search(t, s, "", "saint etienne").Results); !sameSet(got, []string{"nouvelle@ph.mssante.fr", "centre.stetienne@ph.mssante.fr"}) {
		t.Errorf("both sources: %v", got)
	}
}

func testImportRefusals(t *testing.T, d *db.DB) {
	s := newStore(t, d)
	ctx := context.Background()
	importFixture(t, s, fixture()...)
	before := search(t, s, "", "03").Total
	mostlyBad := extractFile(fixture()[0]) + strings.Repeat("PER|x\n", 3)
	for name, file := range map[string]string{
		"empty":       "",
		"no header":   fixture()[0].Line() + "\n",
		"header only": ExtractHeader + "\n",
		"mostly bad":  mostlyBad,
		"not text":    "\x00\x01\x02",
	} {
		if _, err := s.ImportExtract(ctx, strings.NewReader(file), ExtractImport{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := s.ImportExtract(ctx, strings.NewReader(extractFile(fixture()...)), ExtractImport{Source: "local"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("source local: %v", err)
	}
	// A cancelled import leaves the previous entries.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.ImportExtract(cctx, strings.NewReader(extractFile(fixture()[:2]...)), ExtractImport{}); err == nil {
		t.Error("cancelled import succeeded")
	}
	if after := search(t, s, "", "03").Total; after != before || before == 0 {
		t.Errorf("after refusals: %d pharmacies in 03, before %d", after, before)
	}
	checkNoLoadTables(t, d)
}

func TestParseExtractLine(t *testing.T) {
	r := pharmacyLine("Gare@PH.mssante.fr", "030000011", "PHARMACIE | X", "", "12", "PL", "DE LA GARE", "03000", "03000 MOULINS")
	got, err := ParseExtractLine(r.Line() + "\r")
	if err != nil {
		t.Fatal(err)
	}
	if got.Address != "gare@ph.mssante.fr" || got.CompanyName != "PHARMACIE   X" || got.PostalCode != "03000" || got.Country != "FRANCE" {
		t.Errorf("%+v", got)
	}
	if ExtractKind(&got) != KindPharmacy {
		t.Errorf("kind %s", ExtractKind(&got))
	}
	if !isExtractHeader("\uFEFF"+ExtractHeader+"\r") || isExtractHeader(r.Line()) {
		t.Error("isExtractHeader")
	}
	for _, c := range []struct {
		r    ExtractRecord
		kind string
	}{
		{ExtractRecord{MailboxType: "ORG", StructureID: "1", TradeName: "Grande Pharmacie"}, KindPharmacy},
		{ExtractRecord{MailboxType: "ORG", StructureID: "1", CompanyName: "SELARL DES PHARMACIES REUNIES"}, KindPharmacy},
		{ExtractRecord{MailboxType: "ORG", CompanyName: "PHARMACIE X"}, KindOrganisation}, // no structure
		{ExtractRecord{MailboxType: "ORG", StructureID: "1", CompanyName: "CHU DE NANTES", Service: "Pharmacie"}, KindOrganisation},
		{ExtractRecord{MailboxType: "ORG", StructureID: "1", CompanyName: "PHARMACIE", Service: "PUI"}, KindOrganisation},
		{ExtractRecord{MailboxType: "ORG", StructureID: "1", CompanyName: "Clinique de la Gare", TradeName: "Pharmacie"}, KindOrganisation},
		{ExtractRecord{MailboxType: "ORG", StructureID: "1", CompanyName: "PHARMACIE DE L'HOPITAL"}, KindPharmacy},
		{ExtractRecord{MailboxType: "ORG", StructureID: "1", CompanyName: "HOPITAL LOCAL DE RIOM", Service: "Pharmacie"}, KindOrganisation},
		{ExtractRecord{MailboxType: "PER", ProfessionCode: "21"}, KindProfessional},
		{ExtractRecord{MailboxType: "APP"}, KindApplication},
	} {
		if k := ExtractKind(&c.r); k != c.kind {
			t.Errorf("%+v: %s, want %s", c.r, k, c.kind)
		}
	}
}

func FuzzParseExtractLine(f *testing.F) {
	for _, r := range fixture() {
		f.Add(r.Line())
	}
	f.Add(ExtractHeader)
	f.Add(strings.Repeat("|", 30))
	f.Add("PER|a@b.fr" + strings.Repeat("|é", 29))
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseExtractLine(line)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		// A parsed line renders back to a line that parses the same.
		again, err := ParseExtractLine(r.Line())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", r.Line(), err)
		}
		if again != r {
			t.Fatalf("round trip: %+v != %+v", again, r)
		}
		switch ExtractKind(&r) {
		case KindPharmacy, KindProfessional, KindOrganisation, KindApplication:
		default:
			t.Fatalf("kind %q", ExtractKind(&r))
		}
		e := extractEntry(&r, gazetteer.Default())
		if e.Address != r.Address || e.Name == "" || e.Reachable != (e.Kind == KindPharmacy) {
			t.Fatalf("entry %+v", e)
		}
	})
}

// checkNoLoadTables checks that no import left tables behind.
func checkNoLoadTables(t *testing.T, d *db.DB) {
	t.Helper()
	q := `SELECT count(*) FROM sqlite_master WHERE name LIKE 'directory_load_%'`
	if d.Dialect == db.Postgres {
		q = `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'directory_load_%'`
	}
	var n int
	if err := d.Read().QueryRowContext(context.Background(), q).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d load tables left, %v", n, err)
	}
}

// The tables an import creates are those of the migration: same columns,
// same indexes.
func TestIndexTablesMatchMigration(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		describe := func(tbls tables) string {
			var out []string
			for _, tb := range tbls.list() {
				rows, err := d.Read().QueryContext(ctx, `SELECT * FROM `+tb+` LIMIT 0`)
				if err != nil {
					t.Fatal(err)
				}
				cols, _ := rows.ColumnTypes()
				rows.Close()
				for _, c := range cols {
					out = append(out, c.Name()+" "+c.DatabaseTypeName())
				}
				if d.Dialect == db.Postgres {
					rows, err := d.Read().QueryContext(ctx, `SELECT column_name || ' ' || coalesce(collation_name, '')
						FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1
						ORDER BY ordinal_position`, tb)
					if err != nil {
						t.Fatal(err)
					}
					for rows.Next() {
						var c string
						rows.Scan(&c)
						out = append(out, c)
					}
					rows.Close()
				}
				out = append(out, "|")
			}
			q := `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ($1, $2, $3, $4) AND sql IS NOT NULL`
			if d.Dialect == db.Postgres {
				q = `SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ($1, $2, $3, $4)`
			}
			rows, err := d.Read().QueryContext(ctx, q, tbls.entries, tbls.terms, tbls.vocab, tbls.keys)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var ix []string
			for rows.Next() {
				var def string
				rows.Scan(&def)
				// The index as written, without its name and its table's.
				def = regexp.MustCompile(`INDEX \S+ ON (\S+\.)?\S+`).ReplaceAllString(def, "INDEX ON")
				def = strings.ReplaceAll(def, "USING btree ", "")
				ix = append(ix, def)
			}
			slices.Sort(ix)
			return strings.Join(out, " ") + "\n" + strings.Join(ix, "\n")
		}
		want := describe(current)
		s := New(d, nil, nil, nil)
		importFixture(t, s, fixture()...)
		if got := describe(current); got != want {
			t.Errorf("after an import:\n%s\nmigration:\n%s", got, want)
		}
	})
}
