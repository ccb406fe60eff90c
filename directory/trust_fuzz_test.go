package directory

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzParseWhitelist: no panic; an error is always ErrInvalid (the input is
// in memory, so it is never the reader's); a parsed list accounts for every
// <Domaine> read and holds only valid, distinct entries.
func FuzzParseWhitelist(f *testing.F) {
	real := string(readTestdata(f, mssanteList))
	head := real[:strings.Index(real, "</Domaine>")+len("</Domaine>")] // root and one entry, unterminated
	third := real[:nthIndex(real, "</Domaine>", 3)+len("</Domaine>")]
	const dn = "CN=mx.op.example,O=Op,C=FR"
	for _, s := range []string{
		head, third, third + "</ListeDomaines></ListeBlancheMSSante>", third[:len(third)-20],
		string(readTestdata(f, drimUnsigned)), string(readTestdata(f, drimSigned)),
		`<lb:ListeBlancheMSSante xmlns:lb="https://listeblanche.mssante.fr/schema"><lb:Domaine><lb:Nom>a.example</lb:Nom>` +
			`<lb:DNCertificatOperateur>` + dn + `</lb:DNCertificatOperateur></lb:Domaine></lb:ListeBlancheMSSante>`,
		`<ListeBlancheMSSante>` + domaine("a.example", dn) + domaine("A.example", "c=fr,o=op,cn=mx.op.example") +
			domaine("bad..example", dn) + domaine("b.example", `CN=a\,b+OU="x"`) + domaine("c.example", "junk"),
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><ListeBlancheMSSante><Domaine><Nom>a.example</Nom><Description>\xe9</Description></Domaine>",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		wl, err := ParseWhitelist(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		if wl.Read < 1 || wl.Read != len(wl.Entries)+len(wl.Rejected)+wl.Duplicates {
			t.Fatalf("read %d, entries %d, rejected %d, duplicates %d", wl.Read, len(wl.Entries), len(wl.Rejected), wl.Duplicates)
		}
		last := 0
		for _, r := range wl.Rejected {
			if r.Index <= last || r.Index > wl.Read || r.Reason == "" {
				t.Fatalf("rejection %+v", r)
			}
			last = r.Index
		}
		seen := map[string]bool{}
		for _, e := range wl.Entries {
			d := e.Domain
			key, err := e.normalize()
			if err != nil || e.Domain != d || seen[key] {
				t.Fatalf("entry %+v: %v, seen %v", e, err, seen[key])
			}
			seen[key] = true
		}
	})
}

func nthIndex(s, sub string, n int) int {
	at := -1
	for ; n > 0; n-- {
		i := strings.Index(s[at+1:], sub)
		if i < 0 {
			return -1
		}
		at += 1 + i
	}
	return at
}
