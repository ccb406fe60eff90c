package gazetteer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fold is the key every name is compared by, in the gazetteer and in the
// directory search: lowercase ASCII letters and digits, accents removed
// ("É" → "e", "œ" → "oe", "ß" → "ss"), every other character (space, hyphen,
// apostrophe, punctuation) a single space, no leading or trailing space.
// "Saint-Étienne", "saint etienne" and "SAINT  ETIENNE" fold alike;
// "L'Haÿ-les-Roses" folds to "l hay les roses". Letters of other scripts are
// kept, lowercased. Combining marks (input in NFD form) are dropped.
func Fold(s string) string {
	// Fast path: already folded.
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ' ' && i > 0 && i < len(s)-1 && s[i-1] != ' ') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false // a separator is pending
	emit := func(str string) {
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteString(str)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
				if space && b.Len() > 0 {
					b.WriteByte(' ')
				}
				space = false
				b.WriteByte(c)
			case c >= 'A' && c <= 'Z':
				if space && b.Len() > 0 {
					b.WriteByte(' ')
				}
				space = false
				b.WriteByte(c + 'a' - 'A')
			default:
				space = true
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r >= 0xC0 && r <= 0x17F:
			if f := latinFold[r-0xC0]; f != "" {
				emit(f)
			} else {
				space = true
			}
		case r >= 0x300 && r <= 0x36F: // combining diacritical marks: NFD input
		case r == 0x1E9E: // ẞ
			emit("ss")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			emit(string(unicode.ToLower(r)))
		default:
			space = true
		}
	}
	return b.String()
}

// latinFold maps U+00C0..U+017F (Latin-1 Supplement letters and Latin
// Extended-A) to lowercase ASCII; "" is a separator (× and ÷).
var latinFold = func() [0x180 - 0xC0]string {
	var t [0x180 - 0xC0]string
	// U+00C0..U+00FF
	l1 := []string{
		"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", // C0-CF
		"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss", // D0-DF
		"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", // E0-EF
		"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y", // F0-FF
	}
	copy(t[:], l1)
	// U+0100..U+017F, by runs of the same base letter.
	ext := []struct {
		n    int
		base string
	}{
		{6, "a"}, {8, "c"}, {4, "d"}, {10, "e"}, {8, "g"}, {4, "h"}, {10, "i"},
		{2, "ij"}, {2, "j"}, {3, "k"}, {10, "l"}, {6, "n"}, {1, "n"}, {2, "n"},
		{6, "o"}, {2, "oe"}, {6, "r"}, {8, "s"}, {6, "t"}, {12, "u"}, {2, "w"},
		{3, "y"}, {6, "z"}, {1, "s"},
	}
	i := 0x100 - 0xC0
	for _, e := range ext {
		for k := 0; k < e.n; k++ {
			t[i] = e.base
			i++
		}
	}
	if i != len(t) {
		panic("gazetteer: latinFold table is misaligned")
	}
	return t
}()

// Tokens folds s and splits it into words.
func Tokens(s string) []string {
	f := Fold(s)
	if f == "" {
		return nil
	}
	return strings.Split(f, " ")
}

// compact is the key of place names: folded, "st"/"ste" expanded to
// "saint"/"sainte" (La Poste abbreviates them), spaces removed, so that
// "St-Étienne", "SAINT ETIENNE" and "saintetienne" are one key.
func compact(s string) string {
	f := Fold(s)
	if !strings.Contains(f, " ") && f != "st" && f != "ste" {
		return f
	}
	var b strings.Builder
	b.Grow(len(f) + 8)
	for len(f) > 0 {
		w, rest, _ := strings.Cut(f, " ")
		switch w {
		case "st":
			w = "saint"
		case "ste":
			w = "sainte"
		}
		b.WriteString(w)
		f = rest
	}
	return b.String()
}

// letters is the set of the letters a to z in s, one bit each: two strings
// within k edits differ in at most 2k bits.
func letters(s string) uint32 {
	var m uint32
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			m |= 1 << (c - 'a')
		}
	}
	return m
}
