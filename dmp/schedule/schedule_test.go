package schedule

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

var today = day(2025, 6, 16)

type want struct {
	code     string
	from, to string // "" to = no end
	req      Requirement
	when     When
}

func byCode(items []Item) map[string]Item {
	m := map[string]Item{}
	for _, it := range items {
		if _, dup := m[it.Code]; dup {
			panic("duplicate code " + it.Code)
		}
		m[it.Code] = it
	}
	return m
}

func TestItems(t *testing.T) {
	for _, c := range []struct {
		name    string
		birth   time.Time
		sex     Sex
		opts    Options
		want    []want
		absent  []string
		current []string // exactly the codes whose window contains today
	}{
		{
			name: "newborn", birth: day(2025, 6, 16), sex: Female,
			want: []want{
				{"EXAMEN_ENFANT_8J", "2025-06-16", "2025-06-24", Compulsory, Current},
				{"EXAMEN_ENFANT_2S", "2025-06-24", "2025-06-30", Compulsory, Future},
				{"EXAMEN_ENFANT_2M", "2025-07-16", "2025-08-15", Compulsory, Future},
				{"EXAMEN_ENFANT_24M", "2027-05-16", "2027-07-15", Compulsory, Future},
				{"EXAMEN_ENFANT_7A", "2031-06-16", "2032-06-15", Compulsory, Future},
				{"EXAMEN_ENFANT_15A", "2040-06-16", "2042-06-15", Compulsory, Future},
				{"VAC_HEXAVALENT_1", "2025-08-16", "2025-09-15", Compulsory, Future},
				{"VAC_MENB_1", "2025-09-16", "2025-10-15", Compulsory, Future},
				{"VAC_MENACWY_1", "2025-12-16", "2026-01-15", Compulsory, Future},
				{"VAC_ROR_2", "2026-10-16", "2027-01-15", Compulsory, Future},
				{"VAC_ROTAVIRUS_1", "2025-07-28", "2025-10-15", Recommended, Future},
				{"MT_DENTS_3A", "2028-06-16", "2029-06-15", Recommended, Future},
				{"MT_DENTS_24A", "2049-06-16", "2050-06-15", Recommended, Future},
				{"DEPISTAGE_SEIN_74A", "2099-06-16", "2100-06-15", Recommended, Future},
			},
			// 2019's "avant la fin du 1er mois" is gone; no guessing of catch-ups
			// or group vaccines without the options.
			absent:  []string{"EXAMEN_ENFANT_1M", "VAC_BCG", "VAC_FIEVRE_JAUNE", "VAC_HPV_RATTRAPAGE", "MT_DENTS_25A"},
			current: []string{"EXAMEN_ENFANT_8J"},
		},
		{
			name: "3-year-old born before the reforms", birth: day(2022, 3, 10), sex: Male,
			want: []want{
				// Opened before 1 Jan 2025: the 2019 calendar, with its 1st-month exam.
				{"EXAMEN_ENFANT_1M", "2022-03-25", "2022-04-09", Compulsory, Past},
				{"EXAMEN_ENFANT_3A", "2024-03-10", "2025-03-09", Compulsory, Past},
				{"EXAMEN_ENFANT_4A", "2025-03-10", "2026-03-09", Compulsory, Current},
				// New in 2025, and due for him: his 7th year starts in 2028.
				{"EXAMEN_ENFANT_7A", "2028-03-10", "2029-03-09", Compulsory, Future},
				// M'T dents at 3 opened in March 2025: the 3-yearly rule, window to 6.
				{"MT_DENTS_3A", "2025-03-10", "2028-03-09", Recommended, Current},
				// From April 2025, yearly: the next is at 4 ... but the 3-yearly
				// window above still runs, so the 2025 file starts at 4.
				{"MT_DENTS_4A", "2026-03-10", "2027-03-09", Recommended, Future},
				{"VAC_DTCAP_6A", "2028-03-10", "2029-03-09", Recommended, Future},
			},
			// The vaccination data begin in 2025: his infant doses closed before.
			absent:  []string{"DEPISTAGE_SEIN_50A", "DEPISTAGE_COL_CYTOLOGIE_25A", "VAC_ROR_1", "VAC_MENB_1"},
			current: []string{"EXAMEN_ENFANT_4A", "MT_DENTS_3A"},
		},
		{
			name: "24-year-old woman with catch-ups", birth: day(2001, 3, 10), sex: Female, opts: Options{CatchUp: true},
			want: []want{
				{"MT_DENTS_21A", "2022-03-10", "2025-03-09", Recommended, Past},
				{"MT_DENTS_24A", "2025-03-10", "2026-03-09", Recommended, Current},
				{"BILAN_PREVENTION_18", "2019-03-10", "2027-03-09", Recommended, Current},
				{"VAC_HPV_RATTRAPAGE", "2016-03-10", "2028-03-09", Recommended, Current},
				{"VAC_MENACWY_RATTRAPAGE", "2016-03-10", "2026-03-09", Recommended, Current},
				{"VAC_ROR_RATTRAPAGE", "2002-10-10", "", Recommended, Current},
				{"VAC_DTCAP_25A", "2026-03-10", "2027-03-09", Recommended, Future},
				{"DEPISTAGE_COL_CYTOLOGIE_25A", "2026-03-10", "2027-03-09", Recommended, Future},
				{"DEPISTAGE_COL_CYTOLOGIE_29A", "2030-03-10", "2031-03-09", Recommended, Future},
				{"DEPISTAGE_COL_HPV_32A", "2033-03-10", "2038-03-09", Recommended, Future},
				{"DEPISTAGE_COL_HPV_62A", "2063-03-10", "2067-03-09", Recommended, Future},
				{"DENTAIRE_ADULTE_25A", "2026-03-10", "2027-03-09", Recommended, Future},
			},
			// Closed before the data begin; no 65-year HPV test.
			absent:  []string{"EXAMEN_ENFANT_8J", "VAC_HEXAVALENT_1", "MT_DENTS_3A", "DEPISTAGE_COL_HPV_67A", "DENTAIRE_ADULTE_26A"},
			current: []string{"BILAN_PREVENTION_18", "MT_DENTS_24A", "VAC_HPV_RATTRAPAGE", "VAC_MENACWY_RATTRAPAGE", "VAC_ROR_RATTRAPAGE"},
		},
		{
			name: "25-year-old man", birth: day(2000, 1, 20), sex: Male,
			want: []want{
				{"VAC_DTCAP_25A", "2025-01-20", "2026-01-19", Recommended, Current},
				{"DENTAIRE_ADULTE_25A", "2025-01-20", "2026-01-19", Recommended, Current},
				{"MT_DENTS_24A", "2024-01-20", "2025-01-19", Recommended, Past},
				{"DENTAIRE_ADULTE_26A", "2026-01-20", "2027-01-19", Recommended, Future},
				{"BILAN_PREVENTION_18", "2018-01-20", "2026-01-19", Recommended, Current},
				{"DEPISTAGE_COLORECTAL_50A", "2050-01-20", "2052-01-19", Recommended, Future},
			},
			absent:  []string{"DEPISTAGE_COL_CYTOLOGIE_25A", "DEPISTAGE_SEIN_50A", "VAC_HPV_RATTRAPAGE", "DENTAIRE_ADULTE_27A"},
			current: []string{"BILAN_PREVENTION_18", "DENTAIRE_ADULTE_25A", "VAC_DTCAP_25A"},
		},
		{
			name: "45-year-old woman", birth: day(1980, 5, 2), sex: Female,
			want: []want{
				{"BILAN_PREVENTION_45", "2025-05-02", "2031-05-01", Recommended, Current},
				{"DEPISTAGE_GLAUCOME_45A", "2025-05-02", "2027-05-01", Recommended, Current},
				{"VAC_DTP_45A", "2025-05-02", "2026-05-01", Recommended, Current},
				{"DEPISTAGE_COL_HPV_42A", "2022-05-02", "2027-05-01", Recommended, Current},
				{"DEPISTAGE_COL_HPV_37A", "2017-05-02", "2022-05-01", Recommended, Past},
				{"DEPISTAGE_SEIN_50A", "2030-05-02", "2032-05-01", Recommended, Future},
				{"DEPISTAGE_COLORECTAL_50A", "2030-05-02", "2032-05-01", Recommended, Future},
				{"DENTAIRE_ADULTE_44A", "2024-05-02", "2025-05-01", Recommended, Past},
				{"DENTAIRE_ADULTE_45A", "2025-05-02", "2026-05-01", Recommended, Current},
				{"DENTAIRE_ADULTE_46A", "2026-05-02", "2027-05-01", Recommended, Future},
				{"DEPISTAGE_GLAUCOME_47A", "2027-05-02", "2029-05-01", Recommended, Future},
			},
			// Open-ended rules: previous, current, next only.
			absent:  []string{"DENTAIRE_ADULTE_43A", "DENTAIRE_ADULTE_47A", "DEPISTAGE_GLAUCOME_49A", "BILAN_PREVENTION_18"},
			current: []string{"BILAN_PREVENTION_45", "DENTAIRE_ADULTE_45A", "DEPISTAGE_COL_HPV_42A", "DEPISTAGE_GLAUCOME_45A", "VAC_DTP_45A"},
		},
		{
			name: "50-year-old man", birth: day(1975, 2, 14), sex: Male,
			want: []want{
				{"DEPISTAGE_COLORECTAL_50A", "2025-02-14", "2027-02-13", Recommended, Current},
				{"DEPISTAGE_COLORECTAL_74A", "2049-02-14", "2050-02-13", Recommended, Future},
				{"BILAN_PREVENTION_45", "2020-02-14", "2026-02-13", Recommended, Current},
				{"DEPISTAGE_GLAUCOME_49A", "2024-02-14", "2026-02-13", Recommended, Current},
				{"VAC_DTP_65A", "2040-02-14", "2041-02-13", Recommended, Future},
			},
			absent:  []string{"DEPISTAGE_SEIN_50A", "DEPISTAGE_COL_HPV_47A", "DEPISTAGE_COLORECTAL_76A"},
			current: []string{"BILAN_PREVENTION_45", "DENTAIRE_ADULTE_50A", "DEPISTAGE_COLORECTAL_50A", "DEPISTAGE_GLAUCOME_49A"},
		},
		{
			name: "70-year-old woman", birth: day(1955, 3, 1), sex: Female,
			want: []want{
				{"BILAN_PREVENTION_70", "2025-03-01", "2031-02-28", Recommended, Current},
				{"DEPISTAGE_SEIN_70A", "2025-03-01", "2027-02-28", Recommended, Current},
				{"DEPISTAGE_SEIN_74A", "2029-03-01", "2030-02-28", Recommended, Future},
				{"VAC_ZONA", "2020-03-01", "", Recommended, Current},
				{"VAC_PNEUMO_ADULTE", "2020-03-01", "", Recommended, Current},
				{"VAC_GRIPPE_2024", "2024-10-15", "2025-01-31", Recommended, Past},
				{"VAC_GRIPPE_2025", "2025-10-15", "2026-01-31", Recommended, Future},
				{"VAC_DTP_75A", "2030-03-01", "2031-02-28", Recommended, Future},
				{"VAC_VRS_ADULTE", "2030-03-01", "", Recommended, Future},
			},
			// HPV tests end at 65; only the last flu campaign and the next.
			absent:  []string{"DEPISTAGE_COL_HPV_67A", "VAC_GRIPPE_2023", "VAC_GRIPPE_2026", "VAC_DTP_85A", "BILAN_PREVENTION_60"},
			current: []string{"BILAN_PREVENTION_70", "DENTAIRE_ADULTE_70A", "DEPISTAGE_COLORECTAL_70A", "DEPISTAGE_GLAUCOME_69A", "DEPISTAGE_SEIN_70A", "VAC_PNEUMO_ADULTE", "VAC_ZONA"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			items := Items(c.birth, c.sex, today, c.opts)
			got := byCode(items)
			for _, w := range c.want {
				it, ok := got[w.code]
				if !ok {
					t.Errorf("%s missing", w.code)
					continue
				}
				to := ""
				if !it.To.IsZero() {
					to = it.To.Format("2006-01-02")
				}
				if it.From.Format("2006-01-02") != w.from || to != w.to {
					t.Errorf("%s window = %s..%s, want %s..%s", w.code, it.From.Format("2006-01-02"), to, w.from, w.to)
				}
				if it.When(today) != w.when {
					t.Errorf("%s When = %v, want %v", w.code, it.When(today), w.when)
				}
				if it.Requirement != w.req {
					t.Errorf("%s requirement = %s, want %s", w.code, it.Requirement, w.req)
				}
				if it.Title == "" || len(it.Sources) == 0 || it.Sources[0].URL == "" {
					t.Errorf("%s lacks title or source", w.code)
				}
			}
			for _, code := range c.absent {
				if _, ok := got[code]; ok {
					t.Errorf("%s should not be listed", code)
				}
			}
			var cur []string
			for _, it := range UpcomingFirst(items, today) {
				if it.When(today) == Current {
					cur = append(cur, it.Code)
				}
			}
			if strings.Join(sorted(cur), " ") != strings.Join(sorted(c.current), " ") {
				t.Errorf("current = %v\nwant      %v", sorted(cur), sorted(c.current))
			}
		})
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestTitlesAndTypes(t *testing.T) {
	got := byCode(Items(day(2025, 6, 16), Female, today, Options{}))
	for code, w := range map[string]struct {
		typ   Type
		title string
	}{
		"EXAMEN_ENFANT_8J":    {Exam, "Examen de santé dans les 8 jours suivant la naissance"},
		"MT_DENTS_6A":         {Dental, "Examen bucco-dentaire M'T dents"},
		"BILAN_PREVENTION_18": {CheckUp, "Mon bilan prévention (18-25 ans)"},
		"DEPISTAGE_SEIN_50A":  {Screening, "Dépistage organisé du cancer du sein"},
		"VAC_ROR_1":           {Vaccination, "Vaccin rougeole, oreillons, rubéole (1re dose)"},
	} {
		if it := got[code]; it.Type != w.typ || it.Title != w.title {
			t.Errorf("%s = %s %q, want %s %q", code, it.Type, it.Title, w.typ, w.title)
		}
	}
	if k := got["MT_DENTS_6A"].Key(); k != "urn:examen:MT_DENTS_6A|2031-06-16" {
		t.Errorf("Key = %q", k)
	}
}

func TestTargets(t *testing.T) {
	got := byCode(Items(day(2025, 1, 5), Male, today, Options{Targets: []string{"guyane", "risque_tuberculose"}}))
	if it, ok := got["VAC_FIEVRE_JAUNE"]; !ok || it.Requirement != Compulsory || it.From != day(2026, 1, 5) {
		t.Errorf("yellow fever for Guyane = %+v", it)
	}
	if it, ok := got["VAC_BCG"]; !ok || it.From != day(2025, 2, 5) || it.To != day(2025, 4, 4) {
		t.Errorf("BCG = %+v", it)
	}
}

func TestCompulsoryByBirthDate(t *testing.T) {
	// MenB and MenACWY are compulsory for children born from 1 January 2025;
	// the booster of a child born in October 2024 is recommended.
	before := byCode(Items(day(2024, 10, 1), Female, today, Options{}))
	after := byCode(Items(day(2025, 1, 1), Female, today, Options{}))
	if it := before["VAC_MENB_RAPPEL"]; it.Requirement != Recommended || it.From != day(2025, 10, 1) {
		t.Errorf("born 2024: %+v", it)
	}
	if it := after["VAC_MENB_RAPPEL"]; it.Requirement != Compulsory {
		t.Errorf("born 2025: %+v", it)
	}
	if it := before["VAC_HEXAVALENT_RAPPEL"]; it.Requirement != Compulsory {
		t.Errorf("born 2024, hexavalent: %+v", it)
	}
}

func TestMonthEndBirth(t *testing.T) {
	// Born 31 January: one month old on 28 February, not 3 March.
	got := byCode(Items(day(2025, 1, 31), Female, day(2025, 2, 1), Options{}))
	if it := got["EXAMEN_ENFANT_2M"]; it.From != day(2025, 2, 28) || it.To != day(2025, 3, 30) {
		t.Errorf("2M = %v..%v", it.From, it.To)
	}
	// Born 29 February 2024: 25 in 2049 on 28 February.
	got = byCode(Items(day(2024, 2, 29), Female, today, Options{}))
	if it := got["DEPISTAGE_COL_CYTOLOGIE_25A"]; it.From != day(2049, 2, 28) {
		t.Errorf("cytology 25 from %v", it.From)
	}
}

func TestUpcomingAndTrack(t *testing.T) {
	items := Items(day(1980, 5, 2), Female, today, Options{})
	up := Upcoming(items, today, 400*24*time.Hour)
	var codes []string
	for _, it := range up {
		codes = append(codes, it.Code)
	}
	// Current first, the one closing soonest on top; then future by start.
	wantPrefix := []string{"DENTAIRE_ADULTE_45A", "VAC_DTP_45A", "DEPISTAGE_COL_HPV_42A", "DEPISTAGE_GLAUCOME_45A", "BILAN_PREVENTION_45", "DENTAIRE_ADULTE_46A"}
	if strings.Join(codes, " ") != strings.Join(wantPrefix, " ") {
		t.Errorf("Upcoming = %v\nwant %v", codes, wantPrefix)
	}
	tracked := Track(items, []Record{
		{Code: "VAC_DTP_45A", Status: Done, Executed: day(2025, 5, 20)},
		{Code: "DEPISTAGE_COL_HPV_37A", Status: NotDone},
	}, today, 90*24*time.Hour)
	st := map[string]Status{}
	for _, tr := range tracked {
		st[tr.Code] = tr.Status
	}
	for code, w := range map[string]Status{
		"VAC_DTP_45A":            Done,
		"DEPISTAGE_COL_HPV_37A":  NotDone,
		"DEPISTAGE_GLAUCOME_45A": ToPlan,
		"DEPISTAGE_SEIN_50A":     NotSpecified,
		"DENTAIRE_ADULTE_44A":    NotSpecified,
	} {
		if st[code] != w {
			t.Errorf("%s status = %s, want %s", code, st[code], w)
		}
	}
	if ToPlan.Label() != "À planifier" || NotDone.Label() != "Non réalisé" {
		t.Error("status labels")
	}
}

func TestRecordCheck(t *testing.T) {
	birth := day(1980, 5, 2)
	for _, c := range []struct {
		r   Record
		bad string
	}{
		{Record{Code: "X", Status: Done, Executed: day(2025, 6, 1)}, ""},
		{Record{Code: "X", Status: NotSpecified}, ""},
		{Record{Code: "X", Status: ToPlan}, "calculé"},
		{Record{Code: "X", Status: "FAIT"}, "statut inconnu"},
		{Record{Code: "X", Status: NotDone, Executed: day(2025, 6, 1)}, "examen réalisé"},
		{Record{Code: "X", Status: Done, Executed: day(2025, 6, 17)}, "futur"},
		{Record{Code: "X", Status: Done, Executed: day(1979, 1, 1)}, "naissance"},
	} {
		err := c.r.Check(birth, today)
		if (err == nil) != (c.bad == "") || (err != nil && !strings.Contains(err.Error(), c.bad)) {
			t.Errorf("%+v: err = %v, want %q", c.r, err, c.bad)
		}
	}
}

func TestVaccinationCalendar(t *testing.T) {
	cal := VaccinationCalendar(today)
	var labels []string
	for _, a := range cal {
		labels = append(labels, a.Label)
	}
	want := "2 mois|3 mois|4 mois|5 mois|6 mois|11 mois|12 mois|16-18 mois|1 mois|6 ans|11-14 ans|25 ans|45 ans|65 ans|65 ans, chaque automne|75 ans, puis tous les 10 ans|75 ans|Rattrapage"
	if strings.Join(labels, "|") != want {
		t.Errorf("calendar ages = %s", strings.Join(labels, "|"))
	}
	if e := cal[1].Entries[0]; e.Code != "VAC_MENB_1" || e.Requirement != Compulsory {
		t.Errorf("3 mois first entry = %+v", e)
	}
	if got := cal[len(cal)-1].Entries; len(got) != 6 {
		t.Errorf("catch-ups = %d", len(got))
	}
}

func TestDataFilesNameTheirSources(t *testing.T) {
	files := Default().Files()
	if len(files) != 7 {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files {
		if f.ValidFrom.IsZero() || f.Reviewed.IsZero() || len(f.Sources) == 0 {
			t.Errorf("%s: valid_from, reviewed, sources required", f.Name)
		}
		for _, s := range f.Sources {
			if !strings.HasPrefix(s.URL, "http") {
				t.Errorf("%s: source %s URL %q", f.Name, s.Ref, s.URL)
			}
		}
	}
}

func TestLoadRefusesBadData(t *testing.T) {
	head := "kind = \"x\"\nvalid_from = 2025-01-01\nreviewed = 2025-01-01\n[[source]]\nref = \"S1\"\ntitle = \"t\"\nurl = \"https://x\"\n"
	rule := "[[rule]]\ncode = \"A\"\ntype = \"exam\"\ntitle = \"t\"\nlabel = \"l\"\nrequirement = \"obligatoire\"\nsources = [\"S1\"]\n"
	for name, body := range map[string]string{
		"unknown key":     head + rule + "from = \"1m\"\nto = \"2m\"\ncolour = \"red\"\n",
		"bad age":         head + rule + "from = \"1 mois\"\n",
		"to before from":  head + rule + "from = \"2m\"\nto = \"1m\"\n",
		"unknown source":  head + strings.Replace(rule, "S1", "S9", 1) + "from = \"1m\"\n",
		"bad type":        head + strings.Replace(rule, "exam", "visit", 1) + "from = \"1m\"\n",
		"duplicate code":  head + rule + "from = \"1m\"\n" + rule + "from = \"2m\"\n",
		"every and to":    head + rule + "from = \"1y\"\nevery = \"1y\"\nto = \"3y\"\n",
		"no valid_from":   strings.Replace(head, "valid_from = 2025-01-01\n", "", 1) + rule + "from = \"1m\"\n",
		"bad requirement": head + strings.Replace(rule, "obligatoire", "conseillé", 1) + "from = \"1m\"\n",
	} {
		_, err := Load(fstest.MapFS{"d/a.toml": {Data: []byte(body)}}, "d")
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A reform is a new file: the same rule code with new ages applies to the
// windows opening from its valid_from on.
func TestNewVersionTakesOver(t *testing.T) {
	mk := func(valid, from, to string) string {
		return "kind = \"k\"\nvalid_from = " + valid + "\nreviewed = 2025-01-01\n[[source]]\nref = \"S\"\ntitle = \"t\"\nurl = \"https://x\"\n" +
			"[[rule]]\ncode = \"E\"\ntype = \"exam\"\ntitle = \"t\"\nlabel = \"l\"\nrequirement = \"obligatoire\"\nsources = [\"S\"]\nfrom = \"" + from + "\"\nto = \"" + to + "\"\n"
	}
	s, err := Load(fstest.MapFS{
		"d/old.toml": {Data: []byte(mk("2020-01-01", "1y", "2y"))},
		"d/new.toml": {Data: []byte(mk("2026-01-01", "3y", "4y"))},
	}, "d")
	if err != nil {
		t.Fatal(err)
	}
	// Born 2024: the old rule's window opens in 2025, before the reform.
	if it := s.Items(day(2024, 3, 1), Female, today, Options{}); len(it) != 1 || it[0].From != day(2025, 3, 1) || it[0].ValidFrom != day(2020, 1, 1) {
		t.Errorf("born 2024: %+v", it)
	}
	// Born 2025: it would open in 2026, so the new rule applies.
	if it := s.Items(day(2025, 3, 1), Female, today, Options{}); len(it) != 1 || it[0].From != day(2028, 3, 1) {
		t.Errorf("born 2025: %+v", it)
	}
}
