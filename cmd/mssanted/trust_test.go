package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const realWhitelist = "../../directory/testdata/listeblanchemssante.xml"

func TestTrustCommands(t *testing.T) {
	data := t.TempDir()
	mustMSS(t, "", "init", "--data", data, "--domain", "chu.example", "--patient-domain", "patient.example")

	out := mustMSS(t, "", "trust", "import", "--data", data, realWhitelist)
	for _, want := range []string{
		"imported 614 entries (516 domains, 35 operators) from " + realWhitelist + ", generated 2025-03-13T14:54:10Z; 0 rejected\n",
		"619 <Domaine> read, 5 repeating a (domain, DN) pair collapsed",
		"does not close <ListeBlancheMSSante>",
		"previous list: 0 entries; 614 added, 0 removed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	listed := func() string {
		t.Helper()
		return mustMSS(t, "", "trust", "list", "--data", data)
	}
	before := listed()
	if n := strings.Count(before, "\n"); n != 616 || !strings.Contains(before, "generated 2025-03-13T14:54:10Z") {
		t.Errorf("trust list: %d lines (want meta, header and 614 entries)\n%.500s", n, before)
	}
	one := mustMSS(t, "", "trust", "list", "--data", data, "--domain", "UC-CMP.mssante.fr")
	if strings.Count(one, "\n") != 3 || !strings.Contains(one, "uc-cmp.mssante.fr  CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR") {
		t.Errorf("trust list --domain:\n%s", one)
	}

	// Bad input: exit 2 with a reason, and the list in force stays.
	real, err := os.ReadFile(realWhitelist)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cut := string(real[:strings.LastIndex(string(real), "</Domaine>")-30])
	for name, c := range map[string]struct {
		args   []string
		reason string
	}{
		"not XML":      {[]string{write("notxml.xml", "hello, world\n")}, "not a whitelist"},
		"another XML":  {[]string{write("cda.xml", `<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"/>`)}, "not a whitelist"},
		"truncated":    {[]string{write("cut.xml", cut)}, "truncated"},
		"malformed":    {[]string{write("bad.xml", strings.Replace(string(real), "</Nom>", "</Name>", 1))}, "malformed XML"},
		"no entry":     {[]string{write("empty.xml", `<ListeBlancheMSSante><ListeDomaines/></ListeBlancheMSSante>`)}, "no <Domaine>"},
		"missing file": {[]string{filepath.Join(dir, "nope.xml")}, "no such file"},
		"no file":      {nil, "one whitelist file is required"},
		"two files":    {[]string{realWhitelist, realWhitelist}, "one whitelist file is required"},
	} {
		out, errs, code := mss(t, "", append([]string{"trust", "import", "--data", data}, c.args...)...)
		if code != 2 || !strings.Contains(errs, "mssanted:") || !strings.Contains(errs, c.reason) {
			t.Errorf("%s: exit %d (want 2), stderr lacks %q\n%s%s", name, code, c.reason, out, errs)
		}
	}
	if after := listed(); after != before {
		t.Errorf("a refused import changed the list:\n%.500s", after)
	}

	// Flags after the file; rejected entries are listed; the new list
	// replaces the old one. (Each run opening the database costs about a
	// second under -race: the test keeps them few.)
	mixed := write("mixed.xml", `<ListeBlancheMSSante><DateDeGeneration>2025-06-01T00:00:00Z</DateDeGeneration><ListeDomaines>`+
		`<Domaine><Nom>a.example</Nom><DNCertificatOperateur>CN=mx.a.example,O=A,C=FR</DNCertificatOperateur></Domaine>`+
		`<Domaine><Nom>bad..example</Nom><DNCertificatOperateur>CN=mx.a.example,O=A,C=FR</DNCertificatOperateur></Domaine>`+
		`<Domaine><Nom>b.example</Nom><DNCertificatOperateur>not a DN</DNCertificatOperateur></Domaine>`+
		`</ListeDomaines></ListeBlancheMSSante>`)
	out = mustMSS(t, "", "trust", "import", mixed, "--data", data)
	for _, want := range []string{"imported 1 entries (1 domains, 1 operators)", "generated 2025-06-01T00:00:00Z; 2 rejected:\n",
		"rejected <Domaine> #2 bad..example: ", "rejected <Domaine> #3 b.example: DNCertificatOperateur \"not a DN\"",
		"previous list: 614 entries; 1 added, 614 removed"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
}
