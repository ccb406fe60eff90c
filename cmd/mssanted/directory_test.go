package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mssanted/db/dbtest"
	"mssanted/directory"
)

func TestDirectoryCommands(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDirectoryCommands(t, "") })
	t.Run("postgres", func(t *testing.T) { testDirectoryCommands(t, dbtest.SchemaDSN(t)) })
}

func extractRecord(addr, company, num, typ, street, pc, l6 string) directory.ExtractRecord {
	return directory.ExtractRecord{MailboxType: "ORG", Address: addr, StructureIDType: "1", StructureID: "1030001234",
		CompanyName: company, StreetNumber: num, StreetType: typ, StreetName: street, PostalCode: pc,
		DeliveryLine: l6, Country: "FRANCE"}
}

func testDirectoryCommands(t *testing.T, dsn string) {
	data := t.TempDir()
	initArgs := []string{"init", "--data", data, "--domain", "chu.example", "--patient-domain", "patient.example"}
	if dsn != "" {
		initArgs = append(initArgs, "--dsn", dsn)
	}
	mustMSS(t, "", initArgs...)
	dir := t.TempDir()
	write := func(name string, lines ...string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gare := extractRecord("gare@ph.mssante.fr", "PHARMACIE DE LA GARE", "38", "AV", "PARMENTIER", "75011", "75011 PARIS")
	centre := extractRecord("centre@ph.mssante.fr", "PHARMACIE DU CENTRE", "1", "PL", "DE L'HOTEL DE VILLE", "03000", "03000 MOULINS")
	doc := directory.ExtractRecord{MailboxType: "PER", Address: "alice.martin@med.mssante.fr", PPIDType: "8",
		PPID: rpps("1000000011"), LastName: "MARTIN", FirstName: "Alice", ProfessionCode: "10", Profession: "Médecin",
		PostalCode: "03000", DeliveryLine: "03000 MOULINS"}
	first := write("Extraction_Correspondance_MSSante_202503131454.txt", directory.ExtractHeader,
		gare.Line(), "PER|broken line", centre.Line(), doc.Line(), gare.Line())

	out := mustMSS(t, "", "directory", "import", "--data", data, "--quiet", first)
	for _, want := range []string{
		`imported 3 entries from Extraction_Correspondance_MSSante_202503131454.txt into source "mssante", extracted 2025-03-13 14:54`,
		"2 pharmacies (Pharmacie d'officine), 1 professionals, 0 organisations, 0 applications",
		"5 lines read, 2 rejected (1 repeating an address):",
		"rejected line 3: 2 columns, want 31",
		"rejected line 6: address gare@ph.mssante.fr already on line 2",
		`previous import of "mssante": 0 entries`,
		"peak memory (max RSS): ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}

	out = mustMSS(t, "", "directory", "search", "--data", data, "--name", "Pharmacie de la Garre", "--place", "Paris - 75")
	if !strings.Contains(out, "# 1 found in Paris (75); page 1, results 1-1") ||
		!strings.Contains(out, "Pharmacie de la Gare  Pharmacie d'officine  38 AV Parmentier, 75011 Paris 11e Arrondissement  gare@ph.mssante.fr") {
		t.Errorf("search:\n%s", out)
	}
	var page directory.PharmacyPage
	js := mustMSS(t, "", "directory", "search", "--data", data, "--place", "allier", "--json")
	if err := json.Unmarshal([]byte(js), &page); err != nil || page.Total != 1 || page.Results[0].Mailbox != "centre@ph.mssante.fr" ||
		page.Results[0].Address != "1 PL de l'Hotel de Ville, 03000 Moulins" {
		t.Errorf("search --json: %+v, %v\n%s", page, err, js)
	}
	out = mustMSS(t, "", "directory", "search", "--data", data, "--professionals", "--profession", "médecin", "--place", "03")
	if !strings.Contains(out, "Alice MARTIN") || !strings.Contains(out, rpps("1000000011")) {
		t.Errorf("professionals:\n%s", out)
	}

	// A local pharmacy account is found as soon as it exists.
	mustMSS(t, testPassword+"\n", "user", "add", "--data", data, "--role", "pharmacy", "--address", "officine@chu.example",
		"--name", "Pharmacie de l'Hôpital", "--password-stdin", "--finess", "030001234", "--postal-address", "2 rue Noire",
		"--postal-code", "03000", "--commune", "Moulins", "--reachable-by-patients")
	out = mustMSS(t, "", "directory", "search", "--data", data, "--place", "Moulins")
	if !strings.Contains(out, "# 2 found") || !strings.Contains(out, "officine@chu.example") {
		t.Errorf("local pharmacy:\n%s", out)
	}

	// Bad input: exit 2 with a reason; nothing replaced.
	for name, c := range map[string]struct {
		args   []string
		reason string
	}{
		"no field":      {[]string{"search", "--data", data}, "Saisissez au moins un champ"},
		"unknown place": {[]string{"search", "--data", data, "--place", "Atlantide"}, "Unknown commune"},
		"no header":     {[]string{"import", "--data", data, write("x.txt", gare.Line())}, "not the header"},
		"no file":       {[]string{"import", "--data", data}, "one extract file is required"},
		"missing file":  {[]string{"import", "--data", data, filepath.Join(dir, "nope.txt")}, "no such file"},
		"bad source":    {[]string{"import", "--data", data, "--source", "local", first}, "source name"},
		"subcommand":    {[]string{"frobnicate"}, "unknown subcommand"},
	} {
		out, errs, code := mss(t, "", append([]string{"directory"}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.reason) {
			t.Errorf("%s: exit %d (want 2), stderr lacks %q\n%s%s", name, code, c.reason, out, errs)
		}
	}

	// A re-import replaces the source.
	second := write("second.txt", directory.ExtractHeader, centre.Line())
	out = mustMSS(t, "", "directory", "import", second, "--data", data, "--quiet")
	if !strings.Contains(out, "imported 1 entries") || !strings.Contains(out, `previous import of "mssante": 3 entries, replaced`) {
		t.Errorf("re-import:\n%s", out)
	}
	out = mustMSS(t, "", "directory", "search", "--data", data, "--name", "gare")
	if !strings.Contains(out, "# 0 found") {
		t.Errorf("after re-import:\n%s", out)
	}
	out = mustMSS(t, "", "directory", "sources", "--data", data)
	if !strings.Contains(out, "mssante") || !strings.Contains(out, "second.txt") {
		t.Errorf("sources:\n%s", out)
	}
}
