package directory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
)

const (
	mssanteList  = "listeblanchemssante.xml"
	drimUnsigned = "LISTEBLANCHE_DRIM-M_NONSIGNEE_TEST_.xml"
	drimSigned   = "LISTEBLANCHE_DRIM-M_TEST_SIGNEE.xml"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadWhitelist(t testing.TB, name string) *Whitelist {
	t.Helper()
	wl, err := ParseWhitelist(bytes.NewReader(readTestdata(t, name)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return wl
}

func distinct(wl *Whitelist) (domains, operators int) {
	ds, ops := map[string]bool{}, map[string]bool{}
	for _, e := range wl.Entries {
		dn, _ := ParseDN(e.OperatorDN)
		ds[e.Domain], ops[dn.Key()] = true, true
	}
	return len(ds), len(ops)
}

// The published list: 619 <Domaine>, 5 of which repeat a (domain, DN) pair
// with another description, none invalid; no closing root tag.
func TestParseMSSanteList(t *testing.T) {
	wl := loadWhitelist(t, mssanteList)
	if wl.Read != 619 || len(wl.Entries) != 614 || wl.Duplicates != 5 || len(wl.Rejected) != 0 {
		t.Fatalf("read %d, entries %d, duplicates %d, rejected %v", wl.Read, len(wl.Entries), wl.Duplicates, wl.Rejected)
	}
	if d, o := distinct(wl); d != 516 || o != 35 {
		t.Errorf("%d domains, %d operators; want 516, 35", d, o)
	}
	if !wl.Unterminated || wl.Root != "ListeBlancheMSSante" || wl.Namespace != WhitelistNamespace || wl.GeneratedAt != "2025-03-13T14:54:10Z" {
		t.Errorf("unterminated %v, root %q, namespace %q, generated %q", wl.Unterminated, wl.Root, wl.Namespace, wl.GeneratedAt)
	}
	first := TrustEntry{Domain: "nddtestasmae.mssante.fr", Description: "BREST LA SAUVEGARDE", OperatorDN: mipihDN,
		ResponsableContact: "(retiré)", SupportContact: "(retiré)", Updated: "2025-03-14T15:34:10Z"}
	if wl.Entries[0] != first {
		t.Errorf("first entry %+v", wl.Entries[0])
	}
	byDomain := map[string][]TrustEntry{}
	for _, e := range wl.Entries {
		byDomain[e.Domain] = append(byDomain[e.Domain], e)
	}
	if len(byDomain["uc-cmp.mssante.fr"]) != 1 { // written UC-CMP.mssante.fr
		t.Error("UC-CMP.mssante.fr not lowercased")
	}
	// Same DateMAJ: the first of the repeats stays.
	if es := byDomain["abrapa-ehpad-finkwiller.mssante.fr"]; len(es) != 1 || es[0].Description != "EHPAD ABRAPA FINKWILLER" {
		t.Errorf("duplicate collapsed to %+v", es)
	}
	// Closed properly, the same list.
	closed, err := ParseWhitelist(bytes.NewReader(append(readTestdata(t, mssanteList), "</ListeBlancheMSSante>\n"...)))
	if err != nil || closed.Unterminated || !reflect.DeepEqual(closed.Entries, wl.Entries) {
		t.Errorf("closed list: %v, unterminated %v", err, closed != nil && closed.Unterminated)
	}
}

// The DRIM-M lists: their domain is the DRIMbox host (<db>), their
// description the <Denomination>; the signature is skipped.
func TestParseDRIMMLists(t *testing.T) {
	unsigned, signed := loadWhitelist(t, drimUnsigned), loadWhitelist(t, drimSigned)
	pairs := func(wl *Whitelist) []string {
		var out []string
		for _, e := range wl.Entries {
			out = append(out, e.Domain+" "+e.OperatorDN)
		}
		return out
	}
	for _, wl := range []*Whitelist{unsigned, signed} {
		if wl.Read != 6 || len(wl.Entries) != 6 || len(wl.Rejected) != 0 || wl.Duplicates != 0 || wl.Unterminated ||
			wl.Root != "ListeBlancheDRIM-M" || wl.GeneratedAt != "2024-04-22T11:08:12Z" {
			t.Errorf("%+v", wl)
		}
	}
	if !reflect.DeepEqual(pairs(unsigned), pairs(signed)) {
		t.Errorf("signed and unsigned lists differ:\n%v\n%v", pairs(unsigned), pairs(signed))
	}
	want := TrustEntry{Domain: "db1.111.mesimagesmedicales.fr", Description: "Operateur 01 test",
		OperatorDN:     "CN=db1.111.mesimagesmedicales.fr,OU=31598513500187,O=editeur,ST=Paris (75),C=FR",
		SupportContact: "supportdrim-m@op01.fr, 07 33 65 18 37", Updated: "2024-04-23T20:36:12Z"}
	if unsigned.Entries[0] != want {
		t.Errorf("unsigned first entry %+v", unsigned.Entries[0])
	}
	if signed.Entries[0].ResponsableContact != "antoine.tapis@op01.fr, 07 33 65 18 37" {
		t.Errorf("signed first entry %+v", signed.Entries[0])
	}
	if d, o := distinct(signed); d != 6 || o != 6 {
		t.Errorf("%d domains, %d operators", d, o)
	}
}

func domaine(nom, dn string) string {
	return "<Domaine><Nom>" + nom + "</Nom><Description>d</Description><DNCertificatOperateur>" + dn +
		"</DNCertificatOperateur><DateMAJ>2025-01-01T00:00:00Z</DateMAJ></Domaine>\n"
}

func TestParseWhitelistVariants(t *testing.T) {
	const dn = "CN=mx.op.example,O=Op,C=FR"
	for name, doc := range map[string]string{
		"prefixed": `<lb:ListeBlancheMSSante xmlns:lb="https://listeblanche.mssante.fr/schema"><lb:ListeDomaines>` +
			`<lb:Domaine><lb:Nom>a.example</lb:Nom><lb:DNCertificatOperateur>` + dn + `</lb:DNCertificatOperateur></lb:Domaine>` +
			`</lb:ListeDomaines></lb:ListeBlancheMSSante>`,
		"no namespace":         `<ListeBlancheMSSante><ListeDomaines>` + domaine("a.example", dn) + `</ListeDomaines></ListeBlancheMSSante>`,
		"no ListeDomaines":     `<ListeBlancheMSSante>` + domaine("a.example", dn) + `</ListeBlancheMSSante>`,
		"BOM, comment and PI":  "\ufeff<?xml version=\"1.0\"?><!-- c --><ListeBlancheMSSante><?pi x?><ListeDomaines><!-- c -->" + domaine("a.example", dn) + `</ListeDomaines>`,
		"trailing dot, spaces": `<ListeBlancheMSSante><ListeDomaines>` + domaine("  A.Example.\n", "\n  "+dn+"  ") + `</ListeDomaines>`,
		"unknown children":     `<ListeBlancheMSSante><Extra><x/></Extra><ListeDomaines><Other/>` + strings.Replace(domaine("a.example", dn), "<Nom>", "<Extra>y</Extra><Nom>", 1) + `</ListeDomaines>`,
		"after the root":       `<ListeBlancheMSSante><ListeDomaines>` + domaine("a.example", dn) + `</ListeDomaines></ListeBlancheMSSante><trailing`,
	} {
		wl, err := ParseWhitelist(strings.NewReader(doc))
		if err != nil || len(wl.Entries) != 1 || wl.Entries[0].Domain != "a.example" || wl.Entries[0].OperatorDN != dn {
			t.Errorf("%s: %v, %+v", name, err, wl)
		}
	}
	latin1 := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><ListeBlancheMSSante><Domaine><Nom>a.example</Nom>" +
		"<Description>Sant\xe9</Description><DNCertificatOperateur>O=H\xf4pital</DNCertificatOperateur></Domaine></ListeBlancheMSSante>"
	wl, err := ParseWhitelist(strings.NewReader(latin1))
	if err != nil || wl.Entries[0].Description != "Santé" || wl.Entries[0].OperatorDN != "O=Hôpital" {
		t.Errorf("latin-1: %v %+v", err, wl)
	}
	// A later DateMAJ replaces the fields of a repeated pair.
	later := strings.Replace(strings.Replace(domaine("a.example", dn), "2025-01-01", "2025-02-01", 1), ">d<", ">new<", 1)
	wl, err = ParseWhitelist(strings.NewReader(`<ListeBlancheMSSante>` + domaine("a.example", dn) + later +
		domaine("A.EXAMPLE", "c=fr, o=op, cn=MX.OP.EXAMPLE") + `</ListeBlancheMSSante>`))
	if err != nil || len(wl.Entries) != 1 || wl.Duplicates != 2 || wl.Entries[0].Description != "new" {
		t.Errorf("duplicates: %v %+v", err, wl)
	}
}

func TestParseWhitelistRejects(t *testing.T) {
	const dn = "CN=mx.op.example,O=Op,C=FR"
	doc := `<ListeBlancheMSSante><ListeDomaines>` +
		domaine("ok.example", dn) + // 1
		domaine("", dn) + // 2
		domaine("bad domain.example", dn) + // 3
		domaine("localhost", dn) + // 4
		domaine("ok2.example", "not a DN") + // 5
		domaine("ok3.example", "") + // 6
		domaine("ok4.example", "O=Dupont, Fils") + // 7
		strings.Replace(domaine("ok5.example", dn), ">d<", ">"+strings.Repeat("x", maxTrustField+1)+"<", 1) + // 8
		domaine("-x.example", dn) + // 9
		domaine("x.123", dn) + // 10
		domaine("ok6.example", dn) + // 11
		`</ListeDomaines></ListeBlancheMSSante>`
	wl, err := ParseWhitelist(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(wl.Entries) != 2 || wl.Entries[0].Domain != "ok.example" || wl.Entries[1].Domain != "ok6.example" {
		t.Errorf("entries %+v", wl.Entries)
	}
	var got []string
	for _, r := range wl.Rejected {
		got = append(got, fmt.Sprintf("%d %s", r.Index, r.Domain))
		if r.Reason == "" {
			t.Errorf("rejection %d without a reason", r.Index)
		}
	}
	want := []string{"2 ", "3 bad domain.example", "4 localhost", "5 ok2.example", "6 ok3.example", "7 ok4.example", "8 ok5.example", "9 -x.example", "10 x.123"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rejected %q, want %q", got, want)
	}
}

func TestParseWhitelistErrors(t *testing.T) {
	real := string(readTestdata(t, mssanteList))
	lastEnd := strings.LastIndex(real, "</Domaine>") + len("</Domaine>")
	cutAfter := real[:lastEnd]
	for name, doc := range map[string]string{
		"empty":             "",
		"text":              "hello",
		"not XML at all":    "\x00\x01\x02",
		"another document":  `<ClinicalDocument xmlns="urn:hl7-org:v3"><title>x</title></ClinicalDocument>`,
		"no entries":        `<ListeBlancheMSSante><DateDeGeneration>2025-01-01T00:00:00Z</DateDeGeneration><ListeDomaines></ListeDomaines></ListeBlancheMSSante>`,
		"no entries, open":  `<ListeBlancheMSSante><ListeDomaines>`,
		"cut in an entry":   real[:lastEnd-40],
		"cut in a tag":      cutAfter + "\n        <Doma",
		"cut after a <":     cutAfter + "\n        <",
		"cut in a field":    real[:strings.LastIndex(real, "<Nom>")+9],
		"mismatched tag":    strings.Replace(real, "</Nom>", "</Nam>", 1),
		"bad entity":        strings.Replace(real, "BREST LA SAUVEGARDE", "BREST & SAUVEGARDE", 1),
		"garbage in middle": strings.Replace(real, "</Domaine>", "</Domaine><<", 3),
		"unknown encoding":  `<?xml version="1.0" encoding="EBCDIC"?><ListeBlancheMSSante/>`,
		"cut in a skipped":  `<ListeBlancheMSSante><ListeDomaines>` + domaine("a.example", "O=x") + `</ListeDomaines><ds:Signature xmlns:ds="x"><ds:SignedInfo>`,
	} {
		wl, err := ParseWhitelist(strings.NewReader(doc))
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, %v; want ErrInvalid", name, wl, err)
		}
	}
	// Cut right after an entry, with or without whitespace: accepted, like
	// the published file. (Indistinguishable from a complete list.)
	for _, doc := range []string{cutAfter, cutAfter + "\n  \n"} {
		wl, err := ParseWhitelist(strings.NewReader(doc))
		if err != nil || wl.Read != 619 || !wl.Unterminated {
			t.Errorf("cut after the last entry: %v", err)
		}
	}
	if _, err := ParseWhitelist(strings.NewReader("")); !strings.Contains(fmt.Sprint(err), "not a whitelist") {
		t.Errorf("empty file: %v", err)
	}
	// A reader's failure is not the file's fault.
	boom := errors.New("disk on fire")
	if _, err := ParseWhitelist(&failingReader{data: real[:1000], err: boom}); !errors.Is(err, boom) || errors.Is(err, ErrInvalid) {
		t.Errorf("failing reader: %v", err)
	}
}

type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestParseWhitelistBounds(t *testing.T) {
	real := readTestdata(t, mssanteList)
	if _, err := parseWhitelist(bytes.NewReader(real), int64(len(real))-1, 1000); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("over the byte bound: %v", err)
	}
	if _, err := parseWhitelist(bytes.NewReader(real), int64(len(real)), 1000); err != nil {
		t.Errorf("at the byte bound: %v", err)
	}
	if _, err := parseWhitelist(bytes.NewReader(real), 1<<20, 618); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "more than 618 entries") {
		t.Errorf("over the entry bound: %v", err)
	}
	if _, err := parseWhitelist(bytes.NewReader(real), 1<<20, 619); err != nil {
		t.Errorf("at the entry bound: %v", err)
	}
}

// The trust store conformance suite, on both backends.
func TestTrustStore(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{
		{Name: "import-and-lookups", Run: testTrustImport},
		{Name: "reimport-replaces", Run: testTrustReimport},
		{Name: "failed-import-keeps-list", Run: testTrustFailedImport},
		{Name: "cancelled-import-keeps-list", Run: testTrustCancelledImport},
		{Name: "concurrent-imports", Run: testTrustConcurrentImports},
	})
}

func trustStore(d *db.DB) *Store { return New(d, nil, nil, nil) }

func mustDN(t testing.TB, s string) DN {
	t.Helper()
	dn, err := ParseDN(s)
	if err != nil {
		t.Fatal(err)
	}
	return dn
}

func testTrustImport(t *testing.T, d *db.DB) {
	ctx := context.Background()
	s := trustStore(d)
	if _, ok, err := s.TrustMeta(ctx); ok || err != nil {
		t.Fatalf("meta before any import: %v %v", ok, err)
	}
	if ok, err := s.IsTrustedOperator(ctx, "adsea29.mssante.fr", mustDN(t, mipihDN)); ok || err != nil {
		t.Fatalf("trusted before any import: %v %v", ok, err)
	}
	wl := loadWhitelist(t, mssanteList)
	rep, err := s.ImportTrust(ctx, wl, "listeblanchemssante.xml")
	if err != nil {
		t.Fatal(err)
	}
	if want := (ImportReport{Entries: 614, Domains: 516, Operators: 35, Added: 614}); rep != want {
		t.Errorf("report %+v, want %+v", rep, want)
	}
	meta, ok, err := s.TrustMeta(ctx)
	if err != nil || !ok || meta.Entries != 614 || meta.Rejected != 0 || meta.Source != "listeblanchemssante.xml" ||
		meta.GeneratedAt != "2025-03-13T14:54:10Z" || time.Since(meta.ImportedAt) > time.Minute {
		t.Errorf("meta %+v %v %v", meta, ok, err)
	}
	for _, c := range []struct {
		domain, dn string
		want       bool
	}{
		{"adsea29.mssante.fr", mipihDN, true},
		{"ADSEA29.MSSante.fr.", mipihDN, true},
		{"adsea29.mssante.fr", "c=fr , st=HAUTE-GARONNE (31), o=GIP  MIPIH, ou=318310021300028, cn=MEDIMAIL-ASIP.MIPIH.FR", true},
		{"uc-cmp.mssante.fr", mipihDN, true},
		// Listed, but for other domains only.
		{"apta78.mssante.fr", mipihDN, false},
		{"adsea29.mssante.fr", "CN=smtp-1.sante.santnet.com,OU=341459958900028,O=DEDALUS HEALTHCARE FRANCE,ST=Gironde (33),C=FR", false},
		{"apta78.mssante.fr", "CN=smtp-1.sante.santnet.com,OU=341459958900028,O=DEDALUS HEALTHCARE FRANCE,ST=Gironde (33),C=FR", true},
		// Almost the listed DN.
		{"adsea29.mssante.fr", "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,C=FR", false},
		{"adsea29.mssante.fr", mipihDN + ",L=Toulouse", false},
		{"unknown.example", mipihDN, false},
		{"not a domain", mipihDN, false},
	} {
		ok, err := s.IsTrustedOperator(ctx, c.domain, mustDN(t, c.dn))
		if err != nil || ok != c.want {
			t.Errorf("IsTrustedOperator(%q, %q) = %v, %v; want %v", c.domain, c.dn, ok, err, c.want)
		}
	}
	if ok, _ := s.IsTrustedOperator(ctx, "adsea29.mssante.fr", nil); ok {
		t.Error("an empty DN is trusted")
	}
	if ok, err := s.IsListedOperator(ctx, mustDN(t, "C=FR,ST=Paris (75),O=GIP SESAN,OU=1750048886,CN=smtp-1.sesan.santnet.com")); !ok || err != nil {
		t.Errorf("IsListedOperator: %v %v", ok, err)
	}
	if ok, err := s.IsListedOperator(ctx, mustDN(t, "CN=smtp-1.sesan.santnet.com,O=GIP SESAN")); ok || err != nil {
		t.Errorf("IsListedOperator of a partial DN: %v %v", ok, err)
	}
	all, err := s.TrustList(ctx, "")
	if err != nil || len(all) != 614 {
		t.Fatalf("TrustList: %d, %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Domain < all[i-1].Domain {
			t.Fatalf("TrustList not sorted by domain at %d", i)
		}
	}
	es, err := s.TrustList(ctx, "UC-CMP.mssante.fr")
	if err != nil || len(es) != 1 || es[0].Description != "UC-CMP" || es[0].OperatorDN != mipihDN || es[0].Updated == "" {
		t.Errorf("TrustList(UC-CMP) = %+v, %v", es, err)
	}
	// The domain with the most operators in the list.
	var most string
	count := map[string]int{}
	for _, e := range wl.Entries {
		if count[e.Domain]++; count[e.Domain] > count[most] {
			most = e.Domain
		}
	}
	dns, err := s.TrustedDNs(ctx, most)
	if err != nil || len(dns) != count[most] || count[most] != 5 {
		t.Errorf("TrustedDNs(%s) = %d DNs, %v; want %d", most, len(dns), err, count[most])
	}
	for _, dn := range dns {
		if ok, _ := s.IsTrustedOperator(ctx, most, dn); !ok {
			t.Errorf("%s listed for %s but not trusted", dn, most)
		}
	}
}

func testTrustReimport(t *testing.T, d *db.DB) {
	ctx := context.Background()
	s := trustStore(d)
	if _, err := s.ImportTrust(ctx, loadWhitelist(t, mssanteList), "a.xml"); err != nil {
		t.Fatal(err)
	}
	drim := loadWhitelist(t, drimSigned)
	rep, err := s.ImportTrust(ctx, drim, "b.xml")
	if err != nil {
		t.Fatal(err)
	}
	if want := (ImportReport{Entries: 6, Domains: 6, Operators: 6, Previous: 614, Added: 6, Removed: 614}); rep != want {
		t.Errorf("report %+v, want %+v", rep, want)
	}
	if ok, _ := s.IsTrustedOperator(ctx, "adsea29.mssante.fr", mustDN(t, mipihDN)); ok {
		t.Error("an entry gone from the new list is still trusted")
	}
	if ok, _ := s.IsTrustedOperator(ctx, "db2.867.mesimagesmedicales.fr",
		mustDN(t, "CN=db2.867.mesimagesmedicales.fr,OU=31954523700765,O=editeur,ST=Lyon(69),C=FR")); !ok {
		t.Error("an entry of the new list is not trusted")
	}
	// Drop two entries, change one's DN: 2+1 removed, 1 added.
	next := *drim
	next.Entries = append([]TrustEntry(nil), drim.Entries[:4]...)
	next.Entries[0].OperatorDN = "CN=db1.111.mesimagesmedicales.fr,OU=31598513500187,O=editeur,C=FR"
	next.Entries[1].Description = "changed"
	rep, err = s.ImportTrust(ctx, &next, "c.xml")
	if err != nil {
		t.Fatal(err)
	}
	if want := (ImportReport{Entries: 4, Domains: 4, Operators: 4, Previous: 6, Added: 1, Removed: 3}); rep != want {
		t.Errorf("report %+v, want %+v", rep, want)
	}
	all, _ := s.TrustList(ctx, "")
	if len(all) != 4 || all[1].Description != "changed" {
		t.Errorf("after re-import: %+v", all)
	}
	if meta, _, _ := s.TrustMeta(ctx); meta.Source != "c.xml" || meta.Entries != 4 {
		t.Errorf("meta %+v", meta)
	}
}

// snapshot is the list in force, to compare before and after a failure.
func snapshot(t *testing.T, s *Store) ([]TrustEntry, TrustListInfo) {
	t.Helper()
	es, err := s.TrustList(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	meta, _, err := s.TrustMeta(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return es, meta
}

// bigList has n distinct entries.
func bigList(n int) *Whitelist {
	wl := &Whitelist{GeneratedAt: "2030-01-01T00:00:00Z"}
	for i := range n {
		wl.Entries = append(wl.Entries, TrustEntry{Domain: fmt.Sprintf("d%d.example", i),
			OperatorDN: fmt.Sprintf("CN=mx%d.op.example,O=Op,C=FR", i%7)})
	}
	return wl
}

func testTrustFailedImport(t *testing.T, d *db.DB) {
	ctx := context.Background()
	s := trustStore(d)
	if _, err := s.ImportTrust(ctx, loadWhitelist(t, drimUnsigned), "old.xml"); err != nil {
		t.Fatal(err)
	}
	es, meta := snapshot(t, s)
	// The repeat comes after two batches of rows were inserted.
	dup := bigList(450)
	dup.Entries = append(dup.Entries, TrustEntry{Domain: "D0.example", OperatorDN: "c=fr,o=op,cn=mx0.op.example"})
	bad := bigList(3)
	bad.Entries[2].OperatorDN = "garbage"
	for name, wl := range map[string]*Whitelist{"repeated pair": dup, "bad DN": bad, "empty": {}, "nil": nil} {
		if _, err := s.ImportTrust(ctx, wl, "new.xml"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
		es2, meta2 := snapshot(t, s)
		if !reflect.DeepEqual(es, es2) || meta != meta2 {
			t.Errorf("%s: the previous list changed", name)
		}
	}
}

// cancelAfter is a context cancelled at the n-th call of its Done method:
// each statement of the import asks it, so every n cancels the import at
// another point.
type cancelAfter struct {
	context.Context
	cancel context.CancelFunc
	calls  atomic.Int64
	n      int64
	once   sync.Once
}

func (c *cancelAfter) Done() <-chan struct{} {
	if c.calls.Add(1) >= c.n {
		c.once.Do(c.cancel)
	}
	return c.Context.Done()
}

func testTrustCancelledImport(t *testing.T, d *db.DB) {
	s := trustStore(d)
	old := loadWhitelist(t, drimUnsigned)
	if _, err := s.ImportTrust(context.Background(), old, "old.xml"); err != nil {
		t.Fatal(err)
	}
	es, meta := snapshot(t, s)
	wl := bigList(450)
	// Every cancellation point early on, then ever fewer: the race
	// detector makes each attempt slow on SQLite.
	for n := int64(1); ; n += 1 + n/12*2 {
		if n > 500 {
			t.Fatal("the import never completed")
		}
		base, cancel := context.WithCancel(context.Background())
		ctx := &cancelAfter{Context: base, cancel: cancel, n: n}
		rep, err := s.ImportTrust(ctx, wl, "new.xml")
		cancel()
		es2, meta2 := snapshot(t, s)
		if err == nil {
			// Cancelled too late to matter: the new list is in.
			if rep.Entries != 450 || rep.Removed != 6 || len(es2) != 450 || meta2.Source != "new.xml" {
				t.Errorf("after the import: report %+v, %d entries, meta %+v", rep, len(es2), meta2)
			}
			if n < 3 {
				t.Errorf("the import succeeded with the context cancelled at call %d", n)
			}
			return
		}
		if reflect.DeepEqual(es, es2) && meta == meta2 {
			continue
		}
		// A COMMIT interrupted by the cancellation may be applied although
		// the call reports the cancellation, even after it returned (seen
		// with pgx): the outcome is then unknown to the caller, but it must
		// be the whole new list, never a mix.
		if len(es2) != 450 || meta2.Source != "new.xml" {
			t.Fatalf("cancelled at call %d (%v): the list is neither the old nor the new one (%d entries, %+v)", n, err, len(es2), meta2)
		}
		if _, err := s.ImportTrust(context.Background(), old, "old.xml"); err != nil {
			t.Fatal(err)
		}
		es, meta = snapshot(t, s)
	}
}

// Imports running at once both succeed, and one of the lists is in force
// whole.
func testTrustConcurrentImports(t *testing.T, d *db.DB) {
	ctx := context.Background()
	s := trustStore(d)
	lists := []*Whitelist{bigList(300), loadWhitelist(t, drimSigned)}
	if _, err := s.ImportTrust(ctx, lists[0], "0"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, errs[i] = s.ImportTrust(ctx, lists[i%2], fmt.Sprint(i%2)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("import %d: %v", i, err)
		}
	}
	es, meta := snapshot(t, s)
	if want := map[string]int{"0": 300, "1": 6}[meta.Source]; len(es) != want || meta.Entries != want {
		t.Errorf("list %q in force with %d entries, want %d", meta.Source, len(es), want)
	}
}
