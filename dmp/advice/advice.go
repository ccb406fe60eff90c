// Package advice is the "Habitudes de vie et conseils personnalisés" part of
// the Prevention page (domain.md): the lifestyle questionnaires, theme by
// theme, the validation of answers, which theme to propose next, and the
// article library with "Pour moi" ranking (age, sex, answers, situation).
// Questionnaires and articles are data files (data/*.toml); the articles
// are short texts written for this project, each linking to the page of a
// public body.
package advice

import (
	"embed"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
)

//go:embed data/questionnaires.toml data/articles.toml
var files embed.FS

// Sex as in the profile; empty when unknown.
type Sex string

const (
	Female Sex = "F"
	Male   Sex = "M"
)

// Choice is one possible answer.
type Choice struct {
	Code  string
	Label string
}

// Question is one lifestyle question.
type Question struct {
	Code    string
	Label   string
	Choices []Choice
}

// Theme is one questionnaire (tabac, alimentation…).
type Theme struct {
	Code      string
	Label     string
	Questions []Question
}

// Article is one advice article.
type Article struct {
	ID          string
	Title       string
	Theme       string // a theme code of ThemeLabels
	Summary     string
	SourceTitle string
	SourceURL   string
	AgeMin      int // inclusive; 0 = no minimum
	AgeMax      int // inclusive; 0 = no maximum
	Ages        [][2]int
	Sex         Sex
	Situation   Situation
	Priority    int
	OnlyIfMatch bool
	Match       []Match
}

// Match gives an article weight when the answer to Question is one of Answers.
type Match struct {
	Question string
	Answers  []string
	Weight   int
}

// Situation is a state of the profile that targets articles.
type Situation string

const (
	Pregnant   Situation = "grossesse"
	Postpartum Situation = "post-partum" // after "J'ai accouché"
	Parent     Situation = "parent"      // a young child in the family
)

// Answer is the person's answer to one question, dated ("Renseigné le
// 16 juin 2025").
type Answer struct {
	Value string
	Date  time.Time
}

// Answers maps question codes to answers.
type Answers map[string]Answer

// ThemeLabels names the article themes as the library shows them, in the
// order of the "by theme" page.
var ThemeLabels = []Choice{
	{"tabac", "Tabac"},
	{"alimentation", "Alimentation"},
	{"alcool", "Alcool"},
	{"activite_physique", "Activité physique"},
	{"sommeil", "Sommeil"},
	{"sante_mentale", "Santé mentale"},
	{"coeur", "Cœur et artères"},
	{"cancers", "Dépistage des cancers"},
	{"vaccination", "Vaccination"},
	{"sante_sexuelle", "Santé sexuelle"},
	{"sante_femmes", "Santé des femmes"},
	{"grossesse", "Grossesse"},
	{"enfant", "Enfants et nourrissons"},
	{"bucco_dentaire", "Santé bucco-dentaire"},
	{"bilans", "Bilans de prévention"},
	{"medicaments", "Médicaments"},
	{"bien_vieillir", "Bien vieillir"},
	{"peau", "Peau"},
}

type library struct {
	themes   []Theme
	articles []Article
	byQ      map[string]*Question
}

var load = sync.OnceValues(func() (*library, error) {
	q, err := files.ReadFile("data/questionnaires.toml")
	if err != nil {
		return nil, err
	}
	a, err := files.ReadFile("data/articles.toml")
	if err != nil {
		return nil, err
	}
	return parse(string(q), string(a))
})

func lib() *library {
	l, err := load()
	if err != nil {
		panic(err) // embedded data, checked by the tests
	}
	return l
}

type rawDates struct {
	ValidFrom time.Time `toml:"valid_from"`
	Reviewed  time.Time `toml:"reviewed"`
}

func parse(questionnaires, articles string) (*library, error) {
	var q struct {
		rawDates
		Source string `toml:"source"`
		Theme  []struct {
			Code     string `toml:"code"`
			Label    string `toml:"label"`
			Question []struct {
				Code    string      `toml:"code"`
				Label   string      `toml:"label"`
				Answers [][2]string `toml:"answers"`
			} `toml:"question"`
		} `toml:"theme"`
	}
	if err := decode("questionnaires", questionnaires, &q); err != nil {
		return nil, err
	}
	if q.ValidFrom.IsZero() || q.Reviewed.IsZero() || q.Source == "" {
		return nil, fmt.Errorf("advice: questionnaires: valid_from, reviewed and source are required")
	}
	l := &library{byQ: map[string]*Question{}}
	for _, t := range q.Theme {
		th := Theme{Code: t.Code, Label: t.Label}
		for _, rq := range t.Question {
			qu := Question{Code: rq.Code, Label: rq.Label}
			for _, a := range rq.Answers {
				qu.Choices = append(qu.Choices, Choice{a[0], a[1]})
			}
			if qu.Code == "" || qu.Label == "" || len(qu.Choices) < 2 {
				return nil, fmt.Errorf("advice: question %q: code, label and two answers are required", qu.Code)
			}
			th.Questions = append(th.Questions, qu)
		}
		l.themes = append(l.themes, th)
	}
	for ti := range l.themes {
		for qi := range l.themes[ti].Questions {
			qu := &l.themes[ti].Questions[qi]
			if l.byQ[qu.Code] != nil {
				return nil, fmt.Errorf("advice: question %s twice", qu.Code)
			}
			l.byQ[qu.Code] = qu
		}
	}

	var a struct {
		rawDates
		Article []struct {
			ID          string   `toml:"id"`
			Title       string   `toml:"title"`
			Theme       string   `toml:"theme"`
			Summary     string   `toml:"summary"`
			SourceTitle string   `toml:"source_title"`
			SourceURL   string   `toml:"source_url"`
			AgeMin      int      `toml:"age_min"`
			AgeMax      int      `toml:"age_max"`
			Ages        [][2]int `toml:"ages"`
			Sex         Sex      `toml:"sex"`
			Situation   string   `toml:"situation"`
			Priority    int      `toml:"priority"`
			OnlyIfMatch bool     `toml:"only_if_match"`
			Match       []struct {
				Question string   `toml:"question"`
				Answers  []string `toml:"answers"`
				Weight   int      `toml:"weight"`
			} `toml:"match"`
		} `toml:"article"`
	}
	if err := decode("articles", articles, &a); err != nil {
		return nil, err
	}
	if a.ValidFrom.IsZero() || a.Reviewed.IsZero() {
		return nil, fmt.Errorf("advice: articles: valid_from and reviewed are required")
	}
	ids := map[string]bool{}
	for _, r := range a.Article {
		art := Article{ID: r.ID, Title: r.Title, Theme: r.Theme, Summary: r.Summary, SourceTitle: r.SourceTitle,
			SourceURL: r.SourceURL, AgeMin: r.AgeMin, AgeMax: r.AgeMax, Ages: r.Ages, Sex: r.Sex,
			Situation: Situation(r.Situation), Priority: r.Priority, OnlyIfMatch: r.OnlyIfMatch}
		if err := l.checkArticle(art, ids); err != nil {
			return nil, fmt.Errorf("advice: article %q: %w", r.ID, err)
		}
		for _, m := range r.Match {
			qu := l.byQ[m.Question]
			if qu == nil || m.Weight <= 0 || len(m.Answers) == 0 {
				return nil, fmt.Errorf("advice: article %s: match on unknown question %q or without weight", r.ID, m.Question)
			}
			for _, v := range m.Answers {
				if !hasChoice(qu, v) {
					return nil, fmt.Errorf("advice: article %s: %s has no answer %q", r.ID, m.Question, v)
				}
			}
			art.Match = append(art.Match, Match{m.Question, m.Answers, m.Weight})
		}
		if art.OnlyIfMatch && len(art.Match) == 0 {
			return nil, fmt.Errorf("advice: article %s: only_if_match without match", r.ID)
		}
		ids[art.ID] = true
		l.articles = append(l.articles, art)
	}
	return l, nil
}

func (l *library) checkArticle(a Article, ids map[string]bool) error {
	switch {
	case a.ID == "" || ids[a.ID]:
		return fmt.Errorf("missing or duplicate id")
	case a.Title == "" || a.Summary == "":
		return fmt.Errorf("title and summary are required")
	case !strings.HasPrefix(a.SourceURL, "https://") && !strings.HasPrefix(a.SourceURL, "http://") || a.SourceTitle == "":
		return fmt.Errorf("a source title and URL are required")
	case !slices.ContainsFunc(ThemeLabels, func(c Choice) bool { return c.Code == a.Theme }):
		return fmt.Errorf("unknown theme %q", a.Theme)
	case a.Sex != "" && a.Sex != Female && a.Sex != Male:
		return fmt.Errorf("sex must be F, M or empty")
	case a.Situation != "" && a.Situation != Pregnant && a.Situation != Postpartum && a.Situation != Parent:
		return fmt.Errorf("unknown situation %q", a.Situation)
	case a.AgeMax != 0 && a.AgeMax < a.AgeMin:
		return fmt.Errorf("age_max below age_min")
	}
	if n := strings.Count(a.Summary, ". ") + 1; n < 2 || n > 4 {
		return fmt.Errorf("summary has %d sentences, want 2 to 4", n)
	}
	return nil
}

func decode(name, text string, v any) error {
	md, err := toml.Decode(text, v)
	if err != nil {
		return fmt.Errorf("advice: %s: %w", name, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		return fmt.Errorf("advice: %s: unknown keys %v", name, un)
	}
	return nil
}

func hasChoice(q *Question, v string) bool {
	return slices.ContainsFunc(q.Choices, func(c Choice) bool { return c.Code == v })
}

// Themes returns the questionnaires in the order the prompt proposes them.
func Themes() []Theme { return lib().themes }

// Articles returns the whole library in file order.
func Articles() []Article { return lib().articles }

// ArticleByID returns one article by id.
func ArticleByID(id string) (Article, bool) {
	for _, a := range lib().articles {
		if a.ID == id {
			return a, true
		}
	}
	return Article{}, false
}

// AnswerError is a refused answer, with a sentence for the user.
type AnswerError struct {
	Question string
	Value    string
	Message  string
}

func (e *AnswerError) Error() string { return e.Message }

// Validate refuses unknown questions and answers that are not among the
// question's choices.
func Validate(answers Answers) error {
	codes := make([]string, 0, len(answers))
	for q := range answers {
		codes = append(codes, q)
	}
	sort.Strings(codes) // the same error whatever the map order
	for _, q := range codes {
		v := answers[q].Value
		qu := lib().byQ[q]
		if qu == nil {
			return &AnswerError{q, v, fmt.Sprintf("Question inconnue : « %s ».", q)}
		}
		if !hasChoice(qu, v) {
			return &AnswerError{q, v, fmt.Sprintf("Réponse « %s » inconnue pour la question « %s ».", v, qu.Label)}
		}
	}
	return nil
}

// Label returns the label of an answer, e.g. "Oui, tous les jours".
func Label(question, value string) string {
	if qu := lib().byQ[question]; qu != nil {
		for _, c := range qu.Choices {
			if c.Code == value {
				return c.Label
			}
		}
	}
	return ""
}

// NextTheme is the first theme, in order, with a question not answered yet:
// after one theme is answered the prompt moves to the next one. ok is false
// when every theme is answered.
func NextTheme(answers Answers) (Theme, bool) {
	for _, t := range lib().themes {
		for _, q := range t.Questions {
			if _, done := answers[q.Code]; !done {
				return t, true
			}
		}
	}
	return Theme{}, false
}

// ByTheme returns the articles of a theme, in file order; "" gives all
// articles grouped by theme in ThemeLabels order.
func ByTheme(theme string) []Article {
	var out []Article
	for _, t := range ThemeLabels {
		if theme != "" && t.Code != theme {
			continue
		}
		for _, a := range lib().articles {
			if a.Theme == t.Code {
				out = append(out, a)
			}
		}
	}
	return out
}

// Recommendation is an article ranked for a person.
type Recommendation struct {
	Article
	Score   int
	Matched bool // some answer made it relevant, beyond age and sex
}

// ForMe ranks the articles for a person ("Pour moi"): those of their age
// and sex, of the situations they declare, best first. An answer that
// matches adds its weight; without answers the ranking follows age, sex and
// the articles' priority only (domain.md). Articles for a situation the
// person does not declare, and those that need an answer they did not give,
// are left out.
func ForMe(age int, sex Sex, answers Answers, situations ...Situation) []Recommendation {
	var out []Recommendation
	for _, a := range lib().articles {
		if !a.fits(age, sex) {
			continue
		}
		if a.Situation != "" && !slices.Contains(situations, a.Situation) {
			continue
		}
		r := Recommendation{Article: a, Score: a.Priority}
		for _, m := range a.Match {
			if ans, ok := answers[m.Question]; ok && slices.Contains(m.Answers, ans.Value) {
				r.Score += m.Weight
				r.Matched = true
			}
		}
		if a.OnlyIfMatch && !r.Matched {
			continue
		}
		if a.Situation != "" {
			r.Score += 50 // declared situations come first: they are why the person is here now
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Title < out[j].Title
	})
	return out
}

func (a Article) fits(age int, sex Sex) bool {
	if a.Sex != "" && a.Sex != sex {
		return false
	}
	if age < a.AgeMin || (a.AgeMax != 0 && age > a.AgeMax) {
		return false
	}
	if len(a.Ages) == 0 {
		return true
	}
	return slices.ContainsFunc(a.Ages, func(r [2]int) bool { return age >= r[0] && age <= r[1] })
}
