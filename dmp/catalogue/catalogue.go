// Package catalogue is the services catalogue ("Catalogue de services",
// domain.md): health services and apps a patient may use, with a summary,
// themes and the regions they serve, filtered by region and by theme as the
// French app does (mes-model.md §4: a service passes if no region is
// selected, or it lists none, or one matches; the same for themes).
package catalogue

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
)

//go:embed data/services.toml
var servicesFile string

// Entry is a code and its French label.
type Entry struct {
	Code  string
	Label string
}

// Regions are the 18 regions of France with their INSEE codes, in the order
// of the filter (metropolitan regions alphabetically, then overseas).
var Regions = []Entry{
	{"84", "Auvergne-Rhône-Alpes"},
	{"27", "Bourgogne-Franche-Comté"},
	{"53", "Bretagne"},
	{"24", "Centre-Val de Loire"},
	{"94", "Corse"},
	{"44", "Grand Est"},
	{"32", "Hauts-de-France"},
	{"11", "Île-de-France"},
	{"28", "Normandie"},
	{"75", "Nouvelle-Aquitaine"},
	{"76", "Occitanie"},
	{"52", "Pays de la Loire"},
	{"93", "Provence-Alpes-Côte d'Azur"},
	{"01", "Guadeloupe"},
	{"02", "Martinique"},
	{"03", "Guyane"},
	{"04", "La Réunion"},
	{"06", "Mayotte"},
}

// Themes of the catalogue.
var Themes = []Entry{
	{"information", "Information santé"},
	{"prevention", "Prévention"},
	{"rdv", "Prise de rendez-vous"},
	{"teleconsultation", "Téléconsultation"},
	{"mesures", "Mesures et objets connectés"},
	{"suivi", "Suivi de maladie"},
	{"hopital", "Établissements de santé"},
	{"sante_mentale", "Santé mentale"},
	{"addictions", "Addictions"},
	{"sante_sexuelle", "Santé sexuelle"},
	{"grossesse", "Grossesse et petite enfance"},
	{"dons", "Dons de sang et d'organes"},
	{"droits", "Droits et démarches"},
	{"annuaire", "Trouver un professionnel"},
}

// Service is one entry of the catalogue.
type Service struct {
	ID      string   `toml:"id"`
	Name    string   `toml:"name"`
	Editor  string   `toml:"editor"`
	Summary string   `toml:"summary"`
	Themes  []string `toml:"themes"`
	Regions []string `toml:"regions"` // INSEE codes; empty = national
	URL     string   `toml:"url"`
}

// National tells whether the service serves the whole country.
func (s Service) National() bool { return len(s.Regions) == 0 }

type file struct {
	ValidFrom time.Time `toml:"valid_from"`
	Reviewed  time.Time `toml:"reviewed"`
	Source    string    `toml:"source"`
	Service   []Service `toml:"service"`
}

var load = sync.OnceValues(func() ([]Service, error) { return parse(servicesFile) })

func parse(text string) ([]Service, error) {
	var f file
	md, err := toml.Decode(text, &f)
	if err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		return nil, fmt.Errorf("catalogue: unknown keys %v", un)
	}
	if f.ValidFrom.IsZero() || f.Reviewed.IsZero() || f.Source == "" {
		return nil, fmt.Errorf("catalogue: valid_from, reviewed and source are required")
	}
	ids := map[string]bool{}
	for _, s := range f.Service {
		switch {
		case s.ID == "" || ids[s.ID]:
			return nil, fmt.Errorf("catalogue: missing or duplicate id %q", s.ID)
		case s.Name == "" || s.Summary == "" || s.Editor == "":
			return nil, fmt.Errorf("catalogue: %s: name, editor and summary are required", s.ID)
		case !strings.HasPrefix(s.URL, "https://"):
			return nil, fmt.Errorf("catalogue: %s: the URL must be https", s.ID)
		case len(s.Themes) == 0:
			return nil, fmt.Errorf("catalogue: %s: at least one theme", s.ID)
		}
		for _, t := range s.Themes {
			if !known(Themes, t) {
				return nil, fmt.Errorf("catalogue: %s: unknown theme %q", s.ID, t)
			}
		}
		for _, r := range s.Regions {
			if !known(Regions, r) {
				return nil, fmt.Errorf("catalogue: %s: unknown region %q", s.ID, r)
			}
		}
		ids[s.ID] = true
	}
	return f.Service, nil
}

func known(list []Entry, code string) bool {
	return slices.ContainsFunc(list, func(e Entry) bool { return e.Code == code })
}

// Services returns the whole catalogue, sorted by name.
func Services() []Service {
	all, err := load()
	if err != nil {
		panic(err) // embedded data, checked by the tests
	}
	out := slices.Clone(all)
	slices.SortStableFunc(out, func(a, b Service) int { return strings.Compare(fold(a.Name), fold(b.Name)) })
	return out
}

// fold sorts "Établissement" with the E's, not after Z.
func fold(s string) string {
	return strings.NewReplacer("É", "E", "é", "e", "È", "E", "Î", "I", "À", "A").Replace(strings.ToLower(s))
}

// Filter keeps the services of a region and a theme; an empty code does not
// filter. A national service passes every region.
func Filter(region, theme string) ([]Service, error) {
	if region != "" && !known(Regions, region) {
		return nil, fmt.Errorf("Région inconnue : « %s ».", region)
	}
	if theme != "" && !known(Themes, theme) {
		return nil, fmt.Errorf("Thème inconnu : « %s ».", theme)
	}
	var out []Service
	for _, s := range Services() {
		if region != "" && !s.National() && !slices.Contains(s.Regions, region) {
			continue
		}
		if theme != "" && !slices.Contains(s.Themes, theme) {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// Label returns the French label of a region or theme code.
func Label(list []Entry, code string) string {
	for _, e := range list {
		if e.Code == code {
			return e.Label
		}
	}
	return ""
}
