package ical

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// property is one unfolded content line read back by the strict reader.
type property struct {
	Name   string
	Params string
	Value  string
}

// readStrict is a deliberately unforgiving RFC 5545 reader: CRLF only, no
// physical line over 75 octets, every physical line valid UTF-8 on its own
// (a split rune fails), one space starts a continuation.
func readStrict(t *testing.T, data []byte) []property {
	t.Helper()
	s := string(data)
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatalf("output does not end in CRLF")
	}
	raw := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	var logical []string
	for i, l := range raw {
		if strings.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d holds a bare CR or LF: %q", i+1, l)
		}
		if len(l) > maxOctets {
			t.Fatalf("line %d is %d octets: %q", i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Fatalf("line %d is not valid UTF-8 on its own (split rune): %q", i+1, l)
		}
		if strings.HasPrefix(l, " ") {
			if len(logical) == 0 {
				t.Fatalf("continuation on the first line")
			}
			logical[len(logical)-1] += l[1:]
			continue
		}
		logical = append(logical, l)
	}
	var out []property
	for _, l := range logical {
		colon := strings.IndexByte(l, ':')
		if colon <= 0 {
			t.Fatalf("no name:value in %q", l)
		}
		name, params, _ := strings.Cut(l[:colon], ";")
		out = append(out, property{Name: name, Params: params, Value: l[colon+1:]})
	}
	return out
}

func unescape(t *testing.T, v string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ';' {
			t.Fatalf("unescaped %q in TEXT %q", c, v)
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(v) {
			t.Fatalf("dangling backslash in %q", v)
		}
		switch v[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		case '\\', ';', ',':
			b.WriteByte(v[i])
		default:
			t.Fatalf("bad escape \\%c in %q", v[i], v)
		}
	}
	return b.String()
}

var stamp = time.Date(2025, 6, 16, 8, 0, 0, 0, time.UTC)

func TestExactOutput(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	c := Calendar{
		Name:  "Mon agenda santé",
		Stamp: stamp,
		Events: []Event{
			{
				UID:     "u1@example.fr",
				Summary: "Examen de santé des 2 ans",
				AllDay:  true,
				Start:   time.Date(2025, 11, 14, 0, 0, 0, 0, paris),
				End:     time.Date(2026, 1, 13, 0, 0, 0, 0, paris),
			},
			{
				UID:         "u2@example.fr",
				Summary:     "Rendez-vous, sage-femme; suivi",
				Description: "Apporter la carte Vitale\net le carnet",
				Location:    `Cabinet A\B`,
				Categories:  []string{"Grossesse", "Rendez-vous"},
				Start:       time.Date(2025, 7, 1, 9, 30, 0, 0, paris),
				End:         time.Date(2025, 7, 1, 10, 0, 0, 0, paris),
				URL:         "https://www.ameli.fr/assure/sante/devenir-parent",
			},
		},
	}
	var b bytes.Buffer
	if err := Write(&b, c); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"PRODID:-//mssanted//Agenda//FR",
		"CALSCALE:GREGORIAN",
		"X-WR-CALNAME:Mon agenda santé",
		"BEGIN:VEVENT",
		"UID:u1@example.fr",
		"DTSTAMP:20250616T080000Z",
		"DTSTART;VALUE=DATE:20251114",
		"DTEND;VALUE=DATE:20260114",
		"SUMMARY:Examen de santé des 2 ans",
		"END:VEVENT",
		"BEGIN:VEVENT",
		"UID:u2@example.fr",
		"DTSTAMP:20250616T080000Z",
		"DTSTART:20250701T073000Z",
		"DTEND:20250701T080000Z",
		`SUMMARY:Rendez-vous\, sage-femme\; suivi`,
		`DESCRIPTION:Apporter la carte Vitale\net le carnet`,
		`LOCATION:Cabinet A\\B`,
		"CATEGORIES:Grossesse,Rendez-vous",
		"URL:https://www.ameli.fr/assure/sante/devenir-parent",
		"END:VEVENT",
		"END:VCALENDAR",
		"",
	}, "\r\n")
	if got := b.String(); got != want {
		t.Errorf("output differs:\n got %q\nwant %q", got, want)
	}
}

func TestRoundTripThroughStrictReader(t *testing.T) {
	long := strings.Repeat("Vaccination contre la coqueluche (dTcaP) — à faire entre 20 et 36 SA ; ", 4) +
		"œuf, cœur, €, 😷, 𝄞, 東京"
	events := []Event{
		{UID: StableUID("mssanted.test", "p1", "VAC_DTCAP_GROSSESSE", "2025-09-01"), Summary: long,
			Description: "Ligne 1\r\nLigne 2\rLigne 3\nfin, point; barre \\", AllDay: true,
			Start: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC),
			Categories: []string{"Vaccination, grossesse", "Prévention"}},
		{UID: "x@y", Summary: "Un jour", AllDay: true, Start: time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
	}
	var b bytes.Buffer
	if err := Write(&b, Calendar{Stamp: stamp, Events: events}); err != nil {
		t.Fatal(err)
	}
	props := readStrict(t, b.Bytes())
	got := map[string][]string{}
	for _, p := range props {
		got[p.Name] = append(got[p.Name], p.Value)
	}
	if s := unescape(t, got["SUMMARY"][0]); s != long {
		t.Errorf("SUMMARY = %q, want %q", s, long)
	}
	if d := unescape(t, got["DESCRIPTION"][0]); d != "Ligne 1\nLigne 2\nLigne 3\nfin, point; barre \\" {
		t.Errorf("DESCRIPTION = %q", d)
	}
	if c := got["CATEGORIES"][0]; c != `Vaccination\, grossesse,Prévention` {
		t.Errorf("CATEGORIES = %q", c)
	}
	if g, w := got["DTSTART"], []string{"20250901", "20280229"}; fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("DTSTART = %v, want %v", g, w)
	}
	if g, w := got["DTEND"], []string{"20251202", "20280301"}; fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("DTEND = %v, want %v (exclusive, the day after the last)", g, w)
	}
	if len(got["DTSTAMP"]) != 2 || got["DTSTAMP"][0] != "20250616T080000Z" {
		t.Errorf("DTSTAMP = %v", got["DTSTAMP"])
	}
	if got["UID"][0] != events[0].UID {
		t.Errorf("UID = %v", got["UID"])
	}
}

// TestFoldNeverSplitsARune folds every prefix of strings of 1-, 2-, 3- and
// 4-octet runes at every alignment, and checks: each physical line ≤ 75
// octets and valid UTF-8, unfolding gives the input back, and a line is cut
// early only by the few octets of the rune that did not fit.
func TestFoldNeverSplitsARune(t *testing.T) {
	runes := []string{"a", "é", "€", "😷"}
	for lead := 0; lead < 4; lead++ {
		for _, r := range runes {
			base := strings.Repeat("x", lead) + strings.Repeat(r+"b"+r, 120)
			for n := 0; n <= len(base); n++ {
				s := base[:n]
				if !utf8.ValidString(s) {
					continue
				}
				checkFold(t, s)
			}
		}
	}
}

func checkFold(t *testing.T, s string) {
	t.Helper()
	f := Fold(s)
	if !strings.HasSuffix(f, "\r\n") {
		t.Fatalf("Fold(%q) does not end in CRLF", s)
	}
	lines := strings.Split(strings.TrimSuffix(f, "\r\n"), "\r\n")
	var back strings.Builder
	for i, l := range lines {
		if len(l) > maxOctets {
			t.Fatalf("Fold(%q): line %d has %d octets", s, i, len(l))
		}
		if !utf8.ValidString(l) {
			t.Fatalf("Fold(%q): line %d splits a rune: %q", s, i, l)
		}
		body := l
		if i > 0 {
			if !strings.HasPrefix(l, " ") {
				t.Fatalf("Fold(%q): continuation %d lacks its space", s, i)
			}
			body = l[1:]
		}
		if i < len(lines)-1 && len(l) < maxOctets-3 {
			t.Fatalf("Fold(%q): line %d cut too early (%d octets)", s, i, len(l))
		}
		if i > 0 && body == "" {
			t.Fatalf("Fold(%q): empty continuation", s)
		}
		back.WriteString(body)
	}
	if back.String() != s {
		t.Fatalf("unfold(Fold(%q)) = %q", s, back.String())
	}
}

func TestFoldBoundaries(t *testing.T) {
	for _, c := range []struct {
		in    string
		lines []int // octets per physical line, CRLF excluded
	}{
		{"", []int{0}},
		{strings.Repeat("a", 75), []int{75}},
		{strings.Repeat("a", 76), []int{75, 2}},
		{strings.Repeat("a", 75+74), []int{75, 75}},
		{strings.Repeat("a", 75+75), []int{75, 75, 2}},
		// "é" is 2 octets: 74 a's then é would end at octet 76, so the é moves.
		{strings.Repeat("a", 74) + "é", []int{74, 3}},
		{strings.Repeat("a", 73) + "é", []int{75}},
		{strings.Repeat("a", 73) + "😷", []int{73, 5}},
	} {
		f := Fold(c.in)
		var got []int
		for _, l := range strings.Split(strings.TrimSuffix(f, "\r\n"), "\r\n") {
			got = append(got, len(l))
		}
		if fmt.Sprint(got) != fmt.Sprint(c.lines) {
			t.Errorf("Fold(%d octets) lines = %v, want %v", len(c.in), got, c.lines)
		}
	}
}

func TestStableUID(t *testing.T) {
	a := StableUID("mssanted.test", "p1", "MT_DENTS_6A")
	if a != StableUID("mssanted.test", "p1", "MT_DENTS_6A") {
		t.Error("same parts, different UID")
	}
	if a == StableUID("mssanted.test", "p1M", "T_DENTS_6A") {
		t.Error("parts are not separated")
	}
	if !strings.HasSuffix(a, "@mssanted.test") || len(a) != 32+len("@mssanted.test") {
		t.Errorf("UID = %q", a)
	}
}

func TestRefusals(t *testing.T) {
	day := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	for name, c := range map[string]Calendar{
		"no stamp":       {Events: []Event{{UID: "a", Start: day}}},
		"no uid":         {Stamp: stamp, Events: []Event{{Start: day}}},
		"uid with CRLF":  {Stamp: stamp, Events: []Event{{UID: "a\r\nX-EVIL:1", Start: day}}},
		"no start":       {Stamp: stamp, Events: []Event{{UID: "a"}}},
		"all-day before": {Stamp: stamp, Events: []Event{{UID: "a", AllDay: true, Start: day, End: day.AddDate(0, 0, -1)}}},
		"timed before":   {Stamp: stamp, Events: []Event{{UID: "a", Start: day, End: day.Add(-time.Hour)}}},
		"url with LF":    {Stamp: stamp, Events: []Event{{UID: "a", Start: day, URL: "https://x\nX-EVIL:1"}}},
	} {
		if err := Write(&bytes.Buffer{}, c); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}
