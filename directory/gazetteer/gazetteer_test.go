package gazetteer

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Saint-Étienne":           "saint etienne",
		"  SAINT   ETIENNE ":      "saint etienne",
		"L'Haÿ-les-Roses":         "l hay les roses",
		"Œuilly – Ærø":            "oeuilly aero",
		"Straße":                  "strasse",
		"Pharmacie de la Gare":    "pharmacie de la gare",
		"already folded":          "already folded",
		"E\u0301vian":             "evian", // NFD
		"Łódź":                    "lodz",
		"38 AV Parmentier, 75011": "38 av parmentier 75011",
		"":                        "",
		"--":                      "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		max  int
		want int
	}{
		{"gare", "garre", 2, 1},
		{"gare", "gare", 1, 0},
		{"gare", "gaer", 1, 1}, // transposition
		{"moulins", "moulin", 1, 1},
		{"pharmacie", "farmacie", 2, 2},
		{"abc", "xyz", 1, 2},
		{"abcdef", "a", 2, 3},
		{"", "ab", 2, 2},
		{"ca", "abc", 3, 3},
	} {
		if got := Distance(c.a, c.b, c.max); got != c.want {
			t.Errorf("Distance(%q, %q, %d) = %d, want %d", c.a, c.b, c.max, got, c.want)
		}
	}
}

func TestLoad(t *testing.T) {
	g := Default()
	if n := len(g.Communes()); n < 34000 || n > 40000 {
		t.Errorf("%d communes", n)
	}
	if n := len(g.Departments()); n != 109 {
		t.Errorf("%d departments", n)
	}
	m := g.Commune("03190")
	if m == nil || m.Name != "Moulins" || m.Department != "03" || !slices.Contains(m.PostalCodes, "03000") {
		t.Errorf("03190 = %+v", m)
	}
	if d := g.Department("2a"); d == nil || d.Name != "Corse-du-Sud" {
		t.Errorf("2A = %+v", d)
	}
	if r := g.Region(g.Department("03").Region); r == nil || r.Name != "Auvergne-Rhône-Alpes" {
		t.Errorf("region of 03 = %+v", r)
	}
	if a := g.Arrondissements("75056"); len(a) != 20 {
		t.Errorf("Paris has %d arrondissements", len(a))
	}
	for pc, want := range map[string]string{"03000": "03", "20090": "2A", "20200": "2B", "97400": "974", "75011": "75", "00000": "", "abcde": ""} {
		if got := g.DepartmentOfPostalCode(pc); got != want {
			t.Errorf("DepartmentOfPostalCode(%s) = %q, want %q", pc, got, want)
		}
	}
}

// The data file is what the generator writes: nothing edited by hand.
func TestDataFileHeader(t *testing.T) {
	b, err := os.ReadFile("communes.tsv.gz")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 600<<10 {
		t.Errorf("communes.tsv.gz is %d bytes: keep it small", len(b))
	}
	if _, err := Parse(b); err != nil {
		t.Fatal(err)
	}
}

func TestLocate(t *testing.T) {
	g := Default()
	for _, c := range []struct{ pc, text, want string }{
		{"75011", "75011 PARIS", "75111"},
		{"75011", "Paris", "75111"},
		{"75116", "PARIS", "75116"},
		{"03000", "03000 MOULINS", "03190"},
		{"03000", "AVERMES", "03013"},
		{"03000", "MOULINS CEDEX", "03190"},
		{"42000", "ST ETIENNE", "42218"},
		{"42100", "Saint-Étienne", "42218"},
		{"69001", "LYON", "69381"},
		{"", "Moulins-Engilbert", "58182"},
		{"99999", "nowhere", ""},
	} {
		got := g.Locate(c.pc, c.text)
		code := ""
		if got != nil {
			code = got.Code
		}
		if code != c.want {
			t.Errorf("Locate(%q, %q) = %s (%v), want %s", c.pc, c.text, code, got, c.want)
		}
	}
}

func TestResolve(t *testing.T) {
	g := Default()
	type want struct {
		depts, postal []string
		communes      []string // must all be present
		only          bool     // and nothing else
	}
	for in, w := range map[string]want{
		"Moulins":                  {communes: []string{"03190", "02530", "35198"}, only: true},
		"moulins (03)":             {communes: []string{"03190"}, only: true},
		"Moulins - 03":             {communes: []string{"03190"}, only: true},
		"03000 Moulins":            {communes: []string{"03190"}, only: true},
		"03000":                    {postal: []string{"03000"}},
		"03":                       {depts: []string{"03"}},
		"3":                        {depts: []string{"03"}},
		"Allier":                   {depts: []string{"03"}},
		"ALLIER":                   {depts: []string{"03"}},
		"Paris - 75":               {depts: []string{"75"}},
		"Paris":                    {depts: []string{"75"}},
		"Paris 11e Arrondissement": {communes: []string{"75111"}, only: true},
		"paris 11e":                {communes: []string{"75111"}, only: true},
		"Paris 11":                 {communes: []string{"75111"}, only: true},
		"75011":                    {postal: []string{"75011"}},
		"2A":                       {depts: []string{"2A"}},
		"2b":                       {depts: []string{"2B"}},
		"Corse-du-Sud":             {depts: []string{"2A"}},
		"corse du sud":             {depts: []string{"2A"}},
		"Corse":                    {depts: []string{"2A", "2B"}},
		"Saint-Étienne":            {communes: []string{"42218"}, only: true},
		"saint etienne":            {communes: []string{"42218"}, only: true},
		"St Etienne":               {communes: []string{"42218"}, only: true},
		"SAINT-ETIENNE":            {communes: []string{"42218"}, only: true},
		"Lyon":                     {communes: []string{"69123", "69381", "69389"}},
		"Marseille":                {communes: []string{"13055", "13201", "13216"}},
		"L'Haÿ-les-Roses":          {communes: []string{"94038"}, only: true},
		"lhay les roses":           {communes: []string{"94038"}, only: true},
		"Auvergne-Rhône-Alpes":     {depts: []string{"01", "03", "42", "69"}},
		"Moulns":                   {communes: []string{"03190"}}, // typo
		"Saint-Ettienne":           {communes: []string{"42218"}}, // typo
		"Bellegarde-sur-Valserine": {communes: []string{"01033"}}, // former commune → Valserhône
		"971":                      {depts: []string{"971"}},
		"Ajaccio 2A":               {communes: []string{"2A004"}, only: true},
	} {
		p, err := g.Resolve(in)
		if err != nil {
			t.Errorf("Resolve(%q): %v", in, err)
			continue
		}
		codes := p.CommuneCodes()
		if !slices.Equal(p.Departments, w.depts) && !(w.depts != nil && containsAll(p.Departments, w.depts)) {
			t.Errorf("Resolve(%q): departments %v, want %v (%s)", in, p.Departments, w.depts, p.Label)
		}
		if !slices.Equal(p.PostalCodes, w.postal) {
			t.Errorf("Resolve(%q): postal codes %v, want %v", in, p.PostalCodes, w.postal)
		}
		if !containsAll(codes, w.communes) || w.only && len(codes) != len(w.communes) || w.communes == nil && len(codes) > 0 {
			t.Errorf("Resolve(%q): communes %v, want %v (only %v) (%s)", in, codes, w.communes, w.only, p.Label)
		}
		if p.Label == "" {
			t.Errorf("Resolve(%q): no label", in)
		}
	}
	for _, in := range []string{"", "  ", "Atlantis", "xyz", "99", "00000", "Moulins 75"} {
		if p, err := g.Resolve(in); !errors.Is(err, ErrUnknownPlace) {
			t.Errorf("Resolve(%q) = %+v, %v; want ErrUnknownPlace", in, p, err)
		}
	}
	if p, _ := g.Resolve("Moulins (03)"); !strings.Contains(p.Label, "Moulins") || !strings.Contains(p.Label, "03") {
		t.Errorf("label %q", p.Label)
	}
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func BenchmarkResolve(b *testing.B) {
	g := Default()
	for i := 0; i < b.N; i++ {
		g.Resolve("Moulins")
		g.Resolve("Saint-Ettienne")
	}
}

func BenchmarkLoad(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
