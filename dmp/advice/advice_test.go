package advice

import (
	"errors"
	"strings"
	"testing"
	"time"

	"mssanted/dmp/pregnancy"
)

func ids(rs []Recommendation) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestTobaccoQuestions(t *testing.T) {
	th := Themes()[0]
	if th.Code != "tabac" || len(th.Questions) != 2 || th.Questions[0].Label != "Je fume" || th.Questions[1].Label != "Je vapote" {
		t.Fatalf("first theme = %+v", th)
	}
	var labels []string
	for _, c := range th.Questions[0].Choices {
		labels = append(labels, c.Label)
	}
	if got := strings.Join(labels, " / "); got != "Oui, tous les jours / Oui, occasionnellement / Non / Non, mais j'ai fumé dans le passé" {
		t.Errorf("Je fume answers = %s", got)
	}
	if Label("FOOD_SALT", "PLUSIEURS_FOIS_MOIS") != "Plusieurs fois par mois" {
		t.Error("food frequency label")
	}
}

func TestValidate(t *testing.T) {
	d := time.Date(2025, 6, 16, 0, 0, 0, 0, time.UTC)
	if err := Validate(Answers{"TOBACCO_MANUAL": {"QUOTIDIEN", d}, "FOOD_SALT": {"RAREMENT", d}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		a    Answers
		want string
	}{
		{Answers{"TOBACCO_CIGAR": {"OUI", d}}, "Question inconnue : « TOBACCO_CIGAR »."},
		{Answers{"TOBACCO_MANUAL": {"PARFOIS", d}}, "Réponse « PARFOIS » inconnue pour la question « Je fume »."},
		{Answers{"FOOD_FRUIT": {"", d}}, "Réponse «  » inconnue pour la question « Je mange des fruits et légumes »."},
	} {
		err := Validate(c.a)
		var ae *AnswerError
		if !errors.As(err, &ae) || ae.Message != c.want {
			t.Errorf("Validate(%v) = %v, want %q", c.a, err, c.want)
		}
	}
}

func TestNextTheme(t *testing.T) {
	d := time.Date(2025, 6, 16, 0, 0, 0, 0, time.UTC)
	a := Answers{}
	for _, step := range []struct {
		add  map[string]string
		want string
	}{
		{nil, "tabac"},
		{map[string]string{"TOBACCO_MANUAL": "NON"}, "tabac"}, // half answered stays
		{map[string]string{"TOBACCO_ELECTRONIC": "NON"}, "alimentation"},
		{map[string]string{"FOOD_FRUIT": "TOUS_LES_JOURS", "FOOD_SUGAR": "RAREMENT", "FOOD_FAT": "RAREMENT", "FOOD_SALT": "RAREMENT"}, "alcool"},
		{map[string]string{"ALCOHOL_DAYS": "AUCUN", "ALCOHOL_UNITS": "0", "ALCOHOL_BINGE": "JAMAIS"}, "activite_physique"},
		{map[string]string{"PHYSICAL_ACTIVITY_REGULARLY": "OUI", "PHYSICAL_ACTIVITY_WEEK_FREQUENCY": "3_4", "PHYSICAL_ACTIVITY_SAT": "NON"}, "sommeil"},
		{map[string]string{"SLEEP_HOURS": "7_9", "SLEEP_RESTED": "SOUVENT"}, ""},
	} {
		for q, v := range step.add {
			a[q] = Answer{v, d}
		}
		th, ok := NextTheme(a)
		if th.Code != step.want || ok != (step.want != "") {
			t.Errorf("after %v: NextTheme = %q %v, want %q", step.add, th.Code, ok, step.want)
		}
	}
}

func TestForMe(t *testing.T) {
	d := time.Date(2025, 6, 16, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		age     int
		sex     Sex
		answers Answers
		sit     []Situation
		first   []string
		absent  []string
	}{
		{name: "daily smoker", age: 40, sex: Male, answers: Answers{"TOBACCO_MANUAL": {"QUOTIDIEN", d}},
			first: []string{"aides-arret-tabac", "preserver-arteres", "vapoter-pour-arreter"}, absent: []string{"rester-non-fumeur", "tabac-et-grossesse"}},
		{name: "occasional smoker who vapes", age: 22, sex: Female, answers: Answers{"TOBACCO_MANUAL": {"OCCASIONNEL", d}, "TOBACCO_ELECTRONIC": {"QUOTIDIEN", d}},
			first: []string{"vapoter-pour-arreter", "aides-arret-tabac"}},
		{name: "former smoker", age: 52, sex: Male, answers: Answers{"TOBACCO_MANUAL": {"ANCIEN", d}},
			first: []string{"rester-non-fumeur"}, absent: []string{"aides-arret-tabac"}},
		{name: "no answers, woman of 30", age: 30, sex: Female,
			first:  []string{"depistage-cancer-col"},
			absent: []string{"aides-arret-tabac", "depistage-cancer-sein", "mon-bilan-prevention", "zero-alcool-grossesse"}},
		{name: "no answers, man of 70", age: 70, sex: Male,
			first:  []string{"mon-bilan-prevention", "depistage-cancer-colorectal", "grippe-covid-automne"},
			absent: []string{"depistage-cancer-col", "menopause", "mt-dents"}},
		{name: "salty food at 55", age: 55, sex: Female, answers: Answers{"FOOD_SALT": {"TOUS_LES_JOURS", d}},
			first: []string{"moins-de-sel", "mesurer-sa-tension", "preserver-arteres"}},
		{name: "pregnant smoker", age: 29, sex: Female, answers: Answers{"TOBACCO_MANUAL": {"QUOTIDIEN", d}}, sit: []Situation{Pregnant},
			first: []string{"tabac-et-grossesse", "aides-arret-tabac"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ids(ForMe(c.age, c.sex, c.answers, c.sit...))
			if len(got) < len(c.first) || strings.Join(got[:len(c.first)], " ") != strings.Join(c.first, " ") {
				t.Errorf("ForMe = %v, want it to start with %v", got, c.first)
			}
			for _, id := range c.absent {
				for _, g := range got {
					if g == id {
						t.Errorf("%s should not be recommended", id)
					}
				}
			}
		})
	}
}

func TestLibrary(t *testing.T) {
	arts := Articles()
	if len(arts) < 30 {
		t.Errorf("%d articles, want about 30", len(arts))
	}
	all := ByTheme("")
	if len(all) != len(arts) {
		t.Errorf("ByTheme(\"\") lists %d of %d articles", len(all), len(arts))
	}
	var tabac []string
	for _, a := range ByTheme("tabac") {
		tabac = append(tabac, a.ID)
	}
	if strings.Join(tabac, " ") != "aides-arret-tabac vapoter-pour-arreter rester-non-fumeur tabac-et-grossesse" {
		t.Errorf("tabac = %v", tabac)
	}
	if a, ok := ArticleByID("aides-arret-tabac"); !ok || a.Title != "Des aides pour l'arrêt du tabac" || !strings.HasPrefix(a.SourceURL, "https://www.ameli.fr/") {
		t.Errorf("article = %+v", a)
	}
}

// The pregnancy calendar points to articles by id: every one must exist.
func TestPregnancyArticlesExist(t *testing.T) {
	for _, m := range pregnancy.Calendar(time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)) {
		for _, id := range m.Articles {
			if _, ok := ArticleByID(id); !ok {
				t.Errorf("month %d refers to unknown article %q", m.N, id)
			}
		}
	}
}

func TestDataRefused(t *testing.T) {
	q, _ := files.ReadFile("data/questionnaires.toml")
	a, _ := files.ReadFile("data/articles.toml")
	for name, c := range map[string][2]string{
		"unknown key":           {string(q) + "\nextra = 1\n", string(a)},
		"match unknown answer":  {string(q), strings.Replace(string(a), `answers = ["ANCIEN"]`, `answers = ["EX"]`, 1)},
		"unknown theme":         {string(q), strings.Replace(string(a), `theme = "peau"`, `theme = "soleil"`, 1)},
		"one-sentence summary":  {string(q), strings.Replace(string(a), `summary = "Évitez le soleil entre 12 h et 16 h, couvrez-vous et appliquez une crème solaire régulièrement. Les enfants`, `summary = "Court. Les enfants`, 1) + "\n[[article]]\nid = \"x\"\ntitle = \"x\"\ntheme = \"peau\"\nsummary = \"Une phrase.\"\nsource_title = \"s\"\nsource_url = \"https://x\"\n"},
		"duplicate article id":  {string(q), string(a) + "\n[[article]]\nid = \"bien-dormir\"\ntitle = \"x\"\ntheme = \"peau\"\nsummary = \"Une. Deux.\"\nsource_title = \"s\"\nsource_url = \"https://x\"\n"},
		"source without scheme": {string(q), strings.Replace(string(a), `source_url = "https://www.santepubliquefrance.fr/"`, `source_url = "santepubliquefrance.fr"`, 1)},
	} {
		if _, err := parse(c[0], c[1]); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
