package catalogue

import (
	"strings"
	"testing"
)

func names(ss []Service) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func TestCatalogue(t *testing.T) {
	all := Services()
	if len(all) < 40 {
		t.Errorf("%d services, want about 40", len(all))
	}
	if len(Regions) != 18 {
		t.Errorf("%d regions", len(Regions))
	}
	// Every theme is used, so the filter never offers an empty choice.
	for _, th := range Themes {
		if got, _ := Filter("", th.Code); len(got) == 0 {
			t.Errorf("theme %s has no service", th.Code)
		}
	}
}

func TestFilter(t *testing.T) {
	for _, c := range []struct {
		region, theme string
		want          []string
		without       []string
	}{
		{"", "teleconsultation", []string{"doctolib", "livi", "maiia", "medadom", "qare"}, nil},
		{"93", "hopital", []string{"ap-hm", "viatrajectoire"}, []string{"aphp"}},
		{"11", "hopital", []string{"aphp", "viatrajectoire"}, []string{"ap-hm"}},
		{"06", "hopital", []string{"viatrajectoire"}, nil},
		{"04", "", nil, []string{"aphp", "hcl"}},
	} {
		got, err := Filter(c.region, c.theme)
		if err != nil {
			t.Fatal(err)
		}
		ids := names(got)
		if c.want != nil && strings.Join(ids, " ") != strings.Join(c.want, " ") {
			t.Errorf("Filter(%q, %q) = %v, want %v", c.region, c.theme, ids, c.want)
		}
		for _, w := range c.without {
			for _, id := range ids {
				if id == w {
					t.Errorf("Filter(%q, %q) lists %s", c.region, c.theme, w)
				}
			}
		}
	}
	// La Réunion: every national service plus its CHU.
	reunion, _ := Filter("04", "")
	var national int
	for _, s := range Services() {
		if s.National() {
			national++
		}
	}
	if len(reunion) != national+1 {
		t.Errorf("La Réunion: %d services, want %d national + 1", len(reunion), national)
	}
	if _, err := Filter("99", ""); err == nil || err.Error() != "Région inconnue : « 99 »." {
		t.Errorf("unknown region: %v", err)
	}
	if _, err := Filter("", "jeux"); err == nil || err.Error() != "Thème inconnu : « jeux »." {
		t.Errorf("unknown theme: %v", err)
	}
	if Label(Regions, "11") != "Île-de-France" || Label(Themes, "rdv") != "Prise de rendez-vous" {
		t.Error("labels")
	}
}

func TestSortedByFrenchName(t *testing.T) {
	all := Services()
	if all[0].ID != "1000-premiers-jours" {
		t.Errorf("first = %s", all[0].ID)
	}
	for i := 1; i < len(all); i++ {
		if fold(all[i-1].Name) > fold(all[i].Name) {
			t.Errorf("%q before %q", all[i-1].Name, all[i].Name)
		}
	}
}

func TestDataRefused(t *testing.T) {
	for name, text := range map[string]string{
		"unknown key":    servicesFile + "\nextra = 1\n",
		"unknown region": strings.Replace(servicesFile, `regions = ["11"]`, `regions = ["75011"]`, 1),
		"unknown theme":  strings.Replace(servicesFile, `themes = ["teleconsultation"]`, `themes = ["video"]`, 1),
		"http URL":       strings.Replace(servicesFile, `url = "https://www.ameli.fr"`, `url = "http://www.ameli.fr"`, 1),
		"duplicate id":   servicesFile + "\n[[service]]\nid = \"ameli\"\nname = \"x\"\neditor = \"x\"\nsummary = \"x\"\nthemes = [\"droits\"]\nurl = \"https://x\"\n",
	} {
		if _, err := parse(text); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
