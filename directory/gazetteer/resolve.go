package gazetteer

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strings"
)

// Place is what a place string resolved to. Exactly one of its levels is
// set: Departments (a department or a region was named), PostalCodes (a
// postal code) or Communes (one or several communes of that name, with the
// arrondissements of Paris, Lyon and Marseille when the city was named).
type Place struct {
	Input       string
	Label       string // for display: "Moulins (02, 03, 35)", "Allier (03)", "75011"
	Departments []string
	PostalCodes []string
	Communes    []*Commune
}

// CommuneCodes are the INSEE codes of the place's communes.
func (p *Place) CommuneCodes() []string {
	out := make([]string, len(p.Communes))
	for i, c := range p.Communes {
		out[i] = c.Code
	}
	return out
}

// CommunePostalCodes are the postal codes serving the place's communes.
func (p *Place) CommunePostalCodes() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range p.Communes {
		for _, pc := range c.PostalCodes {
			if !seen[pc] {
				seen[pc] = true
				out = append(out, pc)
			}
		}
	}
	sort.Strings(out)
	return out
}

// DepartmentCodes are the departments the place lies in, whatever its level.
func (p *Place) DepartmentCodes(g *Gazetteer) []string {
	if len(p.Departments) > 0 {
		return p.Departments
	}
	seen := map[string]bool{}
	var out []string
	addD := func(d string) {
		if d != "" && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	for _, c := range p.Communes {
		addD(c.Department)
	}
	for _, pc := range p.PostalCodes {
		for _, c := range g.byPostal[pc] {
			addD(c.Department)
		}
		addD(g.DepartmentOfPostalCode(pc))
	}
	sort.Strings(out)
	return out
}

// ErrUnknownPlace is returned when nothing matches the place string.
var ErrUnknownPlace = errors.New("unknown place")

// Resolve reads a commune, postal code, department or region as people
// type them: "Moulins", "03000", "03", "3", "Allier", "Paris - 75",
// "Moulins (03)", "03000 Moulins", "Paris 11e Arrondissement", "Paris 11",
// "75011", "2A", "Corse-du-Sud", "Auvergne-Rhône-Alpes", "Saint-Étienne",
// "saint etienne", "St Etienne". Matching ignores accents, case, hyphens and
// apostrophes. A department or region name wins over a commune of the same
// name ("Allier" is the department, not the commune of the Hautes-Pyrénées).
// A name with a department or postal code keeps only the communes there.
// When no name matches exactly, the nearest names within one typo (two for
// long names) are taken. Nothing matching: ErrUnknownPlace.
func (g *Gazetteer) Resolve(s string) (*Place, error) {
	in := strings.TrimSpace(s)
	toks := Tokens(in)
	if len(toks) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrUnknownPlace, s)
	}
	if p := g.resolveWhole(in, toks); p != nil {
		return p, nil
	}
	// A name with a code before or after it.
	if len(toks) > 1 {
		for _, cut := range []struct {
			code string
			rest []string
		}{{toks[len(toks)-1], toks[:len(toks)-1]}, {toks[0], toks[1:]}} {
			d := g.deptCode(cut.code)
			pc := ""
			if IsPostalCode(cut.code) {
				pc = cut.code
			}
			if d == "" && pc == "" {
				continue
			}
			name := strings.Join(cut.rest, " ")
			if dd := g.deptByName[compact(name)]; dd != nil && (dd.Code == d || pc != "" && g.DepartmentOfPostalCode(pc) == dd.Code) {
				return g.deptPlace(in, dd), nil
			}
			cs := g.communesNamed(name)
			var keep []*Commune
			for _, c := range cs {
				if d != "" && c.Department == d || pc != "" && hasPostalCode(c, pc) {
					keep = append(keep, c)
				}
			}
			if len(keep) > 0 {
				return g.communePlace(in, keep), nil
			}
			return nil, fmt.Errorf("%w: %q (no commune %q in %s)", ErrUnknownPlace, s, name, cut.code)
		}
	}
	// Typos.
	if p := g.fuzzy(in, toks); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownPlace, s)
}

func hasPostalCode(c *Commune, pc string) bool {
	for _, x := range c.PostalCodes {
		if x == pc {
			return true
		}
	}
	return false
}

// resolveWhole tries the whole string as one name or code.
func (g *Gazetteer) resolveWhole(in string, toks []string) *Place {
	key := compact(strings.Join(toks, " "))
	if len(toks) == 1 {
		if IsPostalCode(toks[0]) {
			if g.DepartmentOfPostalCode(toks[0]) == "" {
				return nil
			}
			return &Place{Input: in, Label: toks[0], PostalCodes: []string{toks[0]}}
		}
		if d := g.deptCode(toks[0]); d != "" {
			return g.deptPlace(in, g.depts[d])
		}
	}
	if d := g.deptByName[key]; d != nil {
		return g.deptPlace(in, d)
	}
	if r := g.regionByName[key]; r != nil {
		var ds []string
		for _, d := range g.deptList {
			if d.Region == r.Code {
				ds = append(ds, d.Code)
			}
		}
		if len(ds) > 0 {
			return &Place{Input: in, Label: r.Name, Departments: ds}
		}
	}
	if cs := g.named(key); len(cs) > 0 {
		return g.communePlace(in, cs)
	}
	return nil
}

// deptCode normalises a department code as typed ("3" → "03", "2a" → "2A")
// and returns it if it exists.
func (g *Gazetteer) deptCode(t string) string {
	t = strings.ToUpper(t)
	if len(t) == 1 && t[0] >= '1' && t[0] <= '9' {
		t = "0" + t
	}
	if len(t) < 2 || len(t) > 3 {
		return ""
	}
	if g.depts[t] != nil {
		return t
	}
	return ""
}

func (g *Gazetteer) deptPlace(in string, d *Department) *Place {
	return &Place{Input: in, Label: d.Name + " (" + d.Code + ")", Departments: []string{d.Code}}
}

// communePlace builds a commune-level place, adding the arrondissements of
// a city named.
func (g *Gazetteer) communePlace(in string, cs []*Commune) *Place {
	p := &Place{Input: in}
	seen := map[string]bool{}
	var names, depts []string
	for _, c := range cs {
		if seen[c.Code] {
			continue
		}
		seen[c.Code] = true
		p.Communes = append(p.Communes, c)
		if !contains(names, c.Name) {
			names = append(names, c.Name)
		}
		if !contains(depts, c.Department) {
			depts = append(depts, c.Department)
		}
		for _, a := range g.children[c.Code] {
			if !seen[a.Code] {
				seen[a.Code] = true
				p.Communes = append(p.Communes, a)
			}
		}
	}
	sort.Strings(depts)
	p.Label = strings.Join(names, ", ") + " (" + strings.Join(depts, ", ") + ")"
	return p
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// communesNamed returns the communes of that exact name, else those within
// typo distance.
func (g *Gazetteer) communesNamed(name string) []*Commune {
	key := compact(name)
	if cs := g.named(key); len(cs) > 0 {
		return cs
	}
	keys, _ := g.nearestName(key)
	var out []*Commune
	for _, k := range keys {
		out = append(out, g.named(k)...)
	}
	return out
}

// maxTypos is how many edits a place name may be off by, by its length.
func maxTypos(n int) int {
	switch {
	case n >= 9:
		return 2
	case n >= 5:
		return 1
	}
	return 0
}

// nearest returns the keys at the smallest distance from key, within
// maxTypos, among the lists of keys.
func nearest(key string, lists ...[]nameKey) ([]string, int) {
	max := maxTypos(len(key))
	if max == 0 {
		return nil, 0
	}
	best := max + 1
	lk := letters(key)
	var out []string
	for _, keys := range lists {
		for _, nk := range keys {
			if bits.OnesCount32(lk^nk.letters) > 2*max {
				continue
			}
			switch d := Distance(key, nk.key, best); {
			case d < best:
				best, out = d, append(out[:0], nk.key)
			case d == best && d <= max:
				out = append(out, nk.key)
			}
		}
	}
	if best > max {
		return nil, 0
	}
	return out, best
}

// nearestName is nearest over the commune names, looking only at names of
// a length within reach.
func (g *Gazetteer) nearestName(key string) ([]string, int) {
	max := maxTypos(len(key))
	var lists [][]nameKey
	for n := len(key) - max; n <= len(key)+max; n++ {
		lists = append(lists, g.namesByLen[n])
	}
	return nearest(key, lists...)
}

// fuzzy matches the whole string against department, region and commune
// names within a typo or two; departments and regions win ties.
func (g *Gazetteer) fuzzy(in string, toks []string) *Place {
	key := compact(strings.Join(toks, " "))
	var dkeys []nameKey
	for k := range g.deptByName {
		dkeys = append(dkeys, nameKey{k, letters(k)})
	}
	sort.Slice(dkeys, func(i, j int) bool { return dkeys[i].key < dkeys[j].key })
	dk, dd := nearest(key, dkeys)
	ck, cd := g.nearestName(key)
	if len(dk) > 0 && (len(ck) == 0 || dd <= cd) {
		return g.deptPlace(in, g.deptByName[dk[0]])
	}
	if len(ck) == 0 {
		return nil
	}
	var cs []*Commune
	for _, k := range ck {
		cs = append(cs, g.named(k)...)
	}
	return g.communePlace(in, cs)
}
