// Command dirgen generates realistic synthetic national directory extracts
// (Extraction_Correspondance_MSSante format: UTF-8, "|", 31 columns, one
// header line) and benchmarks the directory search on them. It is the tool
// of bench/directory.sh.
//
//	dirgen extract -o FILE [-pharmacies 20000] [-professionals 500000]
//	               [-organisations 14500] [-applications 500] [-seed 1]
//	dirgen bench -data DIR [-dsn DSN] -extract FILE [-queries 3000] [-label sqlite] [-tsv OUT]
//
// extract places pharmacies and professionals in real communes (from the
// gazetteer), in proportion to their population, and writes the lines the
// way the national extract does: names in capitals, La Poste's line 6,
// FINESS/RPPS identifiers with their check digits. It is deterministic for
// a seed.
//
// bench opens the instance's database (a data directory initialised by
// mssanted init, SQLite or PostgreSQL), which must hold the imported
// extract, and times SearchPharmacies over a mix of queries sampled from
// the extract; it prints p50/p99 by query class.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"mssanted/db"
	"mssanted/directory"
	"mssanted/directory/gazetteer"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dirgen extract|bench [flags] (dirgen extract -h)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "extract":
		err = extractCmd(os.Args[2:])
	case "bench":
		err = benchCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dirgen:", err)
		os.Exit(1)
	}
}

func extractCmd(args []string) error {
	fs := flag.NewFlagSet("dirgen extract", flag.ExitOnError)
	out := fs.String("o", "", "output file (default: standard output)")
	nPharma := fs.Int("pharmacies", 20000, "pharmacy (ORG) mailboxes")
	nPro := fs.Int("professionals", 500000, "professional (PER) mailboxes")
	nOrg := fs.Int("organisations", 14500, "other ORG mailboxes (hospital services, practices)")
	nApp := fs.Int("applications", 500, "APP mailboxes")
	seed := fs.Uint64("seed", 1, "random seed")
	fs.Parse(args)
	w := io.Writer(os.Stdout)
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	g := newGen(*seed)
	if err := g.write(bw, *nPharma, *nPro, *nOrg, *nApp); err != nil {
		return err
	}
	return bw.Flush()
}

// gen draws communes by population and names from lists.
type gen struct {
	r        *rand.Rand
	communes []*gazetteer.Commune
	cum      []float64 // cumulative population
	used     map[string]bool
	serial   int
}

func newGen(seed uint64) *gen {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), used: map[string]bool{}}
	gz := gazetteer.Default()
	total := 0.0
	for _, c := range gz.Communes() {
		// Paris, Lyon and Marseille by arrondissement; no postal code, no
		// pharmacy (a few overseas collectivities).
		if len(gz.Arrondissements(c.Code)) > 0 || len(c.PostalCodes) == 0 || c.Population == 0 {
			continue
		}
		total += float64(c.Population)
		g.communes = append(g.communes, c)
		g.cum = append(g.cum, total)
	}
	return g
}

func (g *gen) commune() *gazetteer.Commune {
	x := g.r.Float64() * g.cum[len(g.cum)-1]
	i := sort.SearchFloat64s(g.cum, x)
	return g.communes[min(i, len(g.communes)-1)]
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

// zipf picks from a list with a long tail: the first items are common.
func (g *gen) zipf(list []string) string {
	i := int(float64(len(list)) * g.r.Float64() * g.r.Float64() * g.r.Float64())
	return list[min(i, len(list)-1)]
}

var (
	surnames = strings.Fields(`MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND DUBOIS MOREAU LAURENT SIMON MICHEL
		LEFEBVRE LEROY ROUX DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE ROUSSEAU VINCENT
		MULLER LEFEVRE FAURE ANDRE MERCIER BLANC GUERIN BOYER GARNIER CHEVALIER FRANCOIS LEGRAND GAUTHIER GARCIA
		PERRIN ROBIN CLEMENT MORIN NICOLAS HENRY ROUSSEL MATHIEU GAUTIER MASSON MARCHAND DUVAL DENIS DUMONT MARIE
		LEMAIRE NOEL MEYER DUFOUR MEUNIER BRUN BLANCHARD GIRAUD JOLY RIVIERE LUCAS BRUNET GAILLARD BARBIER ARNAUD
		MARTINEZ GERARD ROCHE RENARD SCHMITT ROY LEROUX COLIN VIDAL CARON PICARD ROGER FABRE AUBERT LEMOINE RENAUD
		DUMAS LACROIX OLIVIER PHILIPPE BOURGEOIS PIERRE BENOIT REY LECLERC PAYET ROLLAND LECLERCQ GUILLAUME LECOMTE
		LOPEZ JEAN DUPUY GUILLOT HUBERT BERGER CARPENTIER SANCHEZ DUPUIS MOULIN LOUIS DESCHAMPS HUET VASSEUR PEREZ
		BOUCHER FLEURY ROYER KLEIN JACQUET ADAM PARIS POIRIER MARTY AUBRY GUYOT CARRE CHARLES RENAULT CHARPENTIER
		MENARD MAILLARD BARON BERTIN BAILLY HERVE SCHNEIDER FERNANDEZ LE_GALL COLLET LEGER BOUVIER JULIEN PREVOST
		MILLET PERROT DANIEL LE_ROUX COUSIN GERMAIN BRETON BESSON LANGLOIS REMY LE_GOFF PELLETIER LEVEQUE PERRIER
		LEBLANC BARRE LEBRUN MARCHAL WEBER MALLET HAMON BOULANGER JACOB MONNIER MICHAUD RODRIGUEZ GUICHARD GILLET
		ETIENNE GRONDIN POULAIN TESSIER CHEVALLIER COLLIN CHAUVIN DA_SILVA BOUCHET GAY LEMAITRE BENARD MARECHAL
		HUMBERT REYNAUD ANTOINE HOARAU PERRET BARTHELEMY CORDIER PICHON LEJEUNE GILBERT LAMY DELAUNAY PASQUIER
		CARLIER LAPORTE`)
	firstNames = strings.Fields(`Jean Marie Michel Pierre Philippe Nathalie Isabelle Alain Sylvie Catherine Patrick
		Nicolas Christophe Françoise Christine Stéphane Sophie Valérie Sandrine Laurent Frédéric Martine Éric David
		Céline Julien Olivier Thomas Aurélie Camille Julie Émilie Sébastien Vincent Caroline Stéphanie Anne Claire
		Élodie Mathieu Guillaume Antoine Alexandre Marion Laura Pauline Léa Manon Chloé Hugo Lucas Louis Emma Inès
		Sarah Maxime Romain Benjamin Clément Anaïs Mélanie Audrey Virginie Hélène Agnès Brigitte Dominique Bernard
		François Jacques Daniel Gérard Annie Monique Joël Thierry Bruno Pascal Didier Hervé Yves Luc Cédric Jérôme
		Fabien Damien Cyril Arnaud Ludovic Grégory Yannick Benoît Florence Véronique Corinne Laetitia Karine Delphine
		Alice Margaux Juliette Lucie Zoé Gabriel Arthur Raphaël Théo Noah Adam Nathan Baptiste Quentin Paul Victor
		Jean-Pierre Jean-Luc Marie-Christine Anne-Sophie Marie-Claire Jean-François Pierre-Yves Yasmine Mohamed
		Karim Nadia Fatima Sofiane Amine Leïla`)
	syllables = strings.Fields(`ber mar tin lan do ri ca vel mon tel ga rou sse li ne chau mer cier bou lan ger fon
		tai ne lu cas pe rin gau thier bre ton ro che vil la nou vel ma rec hal jac quet de lmas cour ti val lé e
		an dré ker van guen no ach le mo ine da vy ri baud fau vel pa ris ot ou dar bel hom me tri car gar nier`)
	professions = []struct {
		code, label string
		weight      int
		skills      []string
	}{
		{"10", "Médecin", 45, []string{"Médecine générale", "Médecine générale", "Médecine générale", "Cardiologie et maladies vasculaires",
			"Pédiatrie", "Psychiatrie", "Radio-diagnostic", "Anesthésie-réanimation", "Gynécologie-obstétrique", "Ophtalmologie",
			"Dermatologie et vénéréologie", "Gastro-entérologie et hépatologie", "Pneumologie", "Rhumatologie", "Chirurgie générale"}},
		{"60", "Infirmier", 25, nil},
		{"21", "Pharmacien", 8, nil},
		{"70", "Masseur-Kinésithérapeute", 8, nil},
		{"40", "Chirurgien-Dentiste", 6, []string{"", "", "Orthopédie dento-faciale"}},
		{"50", "Sage-Femme", 3, nil},
		{"80", "Pédicure-Podologue", 2, nil},
		{"26", "Audioprothésiste", 1, nil},
		{"28", "Opticien-Lunetier", 1, nil},
		{"91", "Orthophoniste", 1, nil},
	}
	landmarks = []string{"DE LA GARE", "DU CENTRE", "DU MARCHE", "DE L'EGLISE", "DE LA POSTE", "DE LA MAIRIE",
		"DES HALLES", "DE LA PLACE", "DU PORT", "DU CHATEAU", "DE LA PAIX", "DE LA REPUBLIQUE", "DU LAC", "DU PONT",
		"DE LA CATHEDRALE", "DE L'HOPITAL", "DU FORUM", "DE LA PLAGE", "DES ARCADES", "DU ROND-POINT", "DES ECOLES",
		"DU PARC", "DE LA FONTAINE", "DES TILLEULS", "DU MOULIN", "DES VIGNES", "DE LA VALLEE", "DU BOURG",
		"DE LA LIBERATION", "DU MAIL", "DES QUATRE CHEMINS", "DU CARREFOUR", "DE LA CROIX BLANCHE", "DU VIEUX PORT"}
	saints     = []string{"SAINT-JACQUES", "SAINT-MICHEL", "SAINT-PIERRE", "SAINT-LOUIS", "SAINTE-ANNE", "SAINT-MARTIN", "SAINTE-CLAIRE", "SAINT-ROCH", "NOTRE-DAME"}
	streetType = []string{"RUE", "RUE", "RUE", "AV", "BD", "PL", "CHE", "RTE", "ALL", "IMP", "QUAI", "CRS"}
	streets    = []string{"DE LA REPUBLIQUE", "VICTOR HUGO", "JEAN JAURES", "DU GENERAL DE GAULLE", "PASTEUR", "GAMBETTA",
		"DE LA GARE", "DE L'EGLISE", "NATIONALE", "DE PARIS", "DU 8 MAI 1945", "FOCH", "CARNOT", "DE LA LIBERATION",
		"DES ECOLES", "JULES FERRY", "CLEMENCEAU", "DU MARECHAL LECLERC", "PARMENTIER", "DES LILAS", "DU MOULIN",
		"DE LA MAIRIE", "ANATOLE FRANCE", "EMILE ZOLA", "DU COMMERCE", "SAINT-MARTIN", "DES TILLEULS", "DU STADE"}
	services = []string{"CARDIOLOGIE", "URGENCES", "PEDIATRIE", "MATERNITE", "RADIOLOGIE", "LABORATOIRE", "SECRETARIAT MEDICAL",
		"ONCOLOGIE", "PNEUMOLOGIE", "GERIATRIE", "PSYCHIATRIE", "BUREAU DES ENTREES", "DIM", "CHIRURGIE", "NEUROLOGIE", "PHARMACIE"}
)

// surname draws a common surname most of the time, else a made-up one
// from syllables (the long tail of real surnames).
func (g *gen) surname() string {
	if g.r.IntN(100) < 55 {
		return strings.ReplaceAll(g.zipf(surnames), "_", " ")
	}
	n := 2 + g.r.IntN(2)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(g.pick(syllables))
	}
	return strings.ToUpper(b.String())
}

// upper is how the extract writes names: capitals without accents,
// hyphens and apostrophes kept.
func upper(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '-' || c == '\'' || c == ' ':
			b.WriteRune(c)
		case c < 0x80:
			b.WriteRune(c)
		default:
			b.WriteString(gazetteer.Fold(string(c)))
		}
	}
	return strings.ToUpper(b.String())
}

func (g *gen) finess(dept string) string {
	g.serial++
	d := dept
	if len(d) == 3 {
		d = d[:2]
	}
	body := fmt.Sprintf("%s%06d", d, g.serial%1000000)
	return body + string(directory.LuhnKey(body))
}

func (g *gen) rpps() string {
	g.serial++
	body := fmt.Sprintf("1%09d", 100000000+g.serial)
	return body + string(directory.LuhnKey(body))
}

func (g *gen) address(prefix, domain string) string {
	for {
		a := strings.ToLower(gazetteer.Fold(prefix))
		a = strings.ReplaceAll(a, " ", ".")
		if g.used[a+"@"+domain] {
			a = fmt.Sprintf("%s.%d", a, g.r.IntN(100000))
		}
		if !g.used[a+"@"+domain] {
			g.used[a+"@"+domain] = true
			return a + "@" + domain
		}
	}
}

// place fills the structure address columns for a commune.
func (g *gen) place(r *directory.ExtractRecord, c *gazetteer.Commune) {
	r.StreetNumber = fmt.Sprint(1 + g.r.IntN(120))
	if g.r.IntN(20) == 0 {
		r.StreetNumberComplement = "B"
	}
	r.StreetType = g.pick(streetType)
	r.StreetName = g.pick(streets)
	r.PostalCode = c.PostalCodes[g.r.IntN(len(c.PostalCodes))]
	city := upper(c.Name)
	if c.Parent != "" { // "PARIS", not "PARIS 11E ARRONDISSEMENT"
		city = strings.Fields(city)[0]
	}
	r.DeliveryLine = r.PostalCode + " " + city
	r.Department = c.Department
	r.Country = "FRANCE"
}

func (g *gen) pharmacy(c *gazetteer.Commune) directory.ExtractRecord {
	r := directory.ExtractRecord{MailboxType: "ORG", StructureIDType: "1"}
	fin := g.finess(c.Department)
	r.StructureID = "1" + fin
	var name string
	switch k := g.r.IntN(100); {
	case k < 45:
		name = "PHARMACIE " + g.pick(landmarks)
	case k < 65:
		name = "PHARMACIE " + g.surname()
	case k < 72:
		name = "GRANDE PHARMACIE " + g.pick(landmarks)
	case k < 78:
		name = "PHARMACIE CENTRALE"
	case k < 86:
		name = "PHARMACIE DE " + upper(c.Name)
	case k < 92:
		name = "PHARMACIE " + g.pick(saints)
	default:
		name = "PHARMACIE " + g.surname() + " ET " + g.surname()
	}
	switch g.r.IntN(3) {
	case 0:
		r.CompanyName, r.TradeName = "SELARL "+name, name
	case 1:
		r.CompanyName = name
	default:
		r.CompanyName, r.TradeName = "SNC "+g.surname(), name
	}
	r.Address = g.address("pharmacie."+fin, "pharmacie.mssante.fr")
	g.place(&r, c)
	return r
}

func (g *gen) professional(c *gazetteer.Commune) directory.ExtractRecord {
	w := g.r.IntN(100)
	p := professions[0]
	for _, x := range professions {
		if w < x.weight {
			p = x
			break
		}
		w -= x.weight
	}
	first := g.zipf(firstNames)
	last := g.surname()
	r := directory.ExtractRecord{MailboxType: "PER", FirstName: first, LastName: last,
		ProfessionCategory: "C", ProfessionCategoryLabel: "Civil", ProfessionCode: p.code, Profession: p.label,
		Dematerialisation: "O"}
	if g.r.IntN(10) < 9 {
		r.PPIDType, r.PPID = "8", g.rpps()
		r.PPNationalID = "8" + r.PPID
	} else {
		r.PPIDType, r.PPID = "0", fmt.Sprintf("%02s%07d", c.Department[:2], g.r.IntN(10000000))
		r.PPNationalID = "0" + r.PPID
	}
	r.Civility = []string{"M", "MME", "DR"}[g.r.IntN(3)]
	if len(p.skills) > 0 {
		r.Skill = g.pick(p.skills)
		if r.Skill != "" {
			r.SkillCode = fmt.Sprintf("SM%02d", 1+g.r.IntN(60))
		}
	}
	r.Address = g.address(first+"."+last, []string{"medecin.mssante.fr", "ch-" + strings.ToLower(strings.ReplaceAll(gazetteer.Fold(c.Name), " ", "-")) + ".fr", "pro.mssante.fr"}[g.r.IntN(3)])
	if g.r.IntN(10) > 0 { // most have a practice address
		r.StructureIDType, r.StructureID = "4", fmt.Sprintf("4%s%08d", c.Department[:2], g.r.IntN(100000000))
		r.CompanyName = "CABINET " + upper(last)
		g.place(&r, c)
	}
	return r
}

func (g *gen) organisation(c *gazetteer.Commune) directory.ExtractRecord {
	r := directory.ExtractRecord{MailboxType: "ORG", StructureIDType: "1"}
	fin := g.finess(c.Department)
	r.StructureID = "1" + fin
	r.CompanyName = []string{"CENTRE HOSPITALIER DE ", "CLINIQUE ", "EHPAD LES TILLEULS ", "CENTRE DE SANTE DE ", "MAISON DE SANTE DE "}[g.r.IntN(5)] + upper(c.Name)
	r.Service = g.pick(services)
	r.Address = g.address(strings.ToLower(r.Service)+"."+fin, "etab.mssante.fr")
	g.place(&r, c)
	return r
}

func (g *gen) write(w *bufio.Writer, nPharma, nPro, nOrg, nApp int) error {
	w.WriteString(directory.ExtractHeader + "\n")
	// Interleaved as the real extract (sorted by nothing in particular).
	total := nPharma + nPro + nOrg + nApp
	left := []int{nPharma, nPro, nOrg, nApp}
	for i := 0; i < total; i++ {
		k := g.r.IntN(total - i)
		kind := 0
		for kind < 3 && k >= left[kind] {
			k -= left[kind]
			kind++
		}
		left[kind]--
		c := g.commune()
		var r directory.ExtractRecord
		switch kind {
		case 0:
			r = g.pharmacy(c)
		case 1:
			r = g.professional(c)
		case 2:
			r = g.organisation(c)
		default:
			r = directory.ExtractRecord{MailboxType: "APP", StructureIDType: "1", StructureID: "1" + g.finess(c.Department),
				CompanyName: "LABORATOIRE " + g.surname(), Service: "LOGICIEL DE RESULTATS"}
			r.Address = g.address(fmt.Sprintf("app%d", i), "labo.mssante.fr")
			g.place(&r, c)
		}
		w.WriteString(r.Line())
		w.WriteByte('\n')
	}
	return nil
}

// --- bench ---

type query struct {
	class string
	q     directory.PharmacyQuery
}

func benchCmd(args []string) error {
	fs := flag.NewFlagSet("dirgen bench", flag.ExitOnError)
	data := fs.String("data", "", "data directory (SQLite) of an instance holding the imported extract")
	dsn := fs.String("dsn", "", "PostgreSQL DSN instead of the data directory's SQLite")
	extract := fs.String("extract", "", "the imported extract, to sample queries from")
	n := fs.Int("queries", 3000, "queries")
	seed := fs.Uint64("seed", 2, "random seed")
	label := fs.String("label", "", "label of the TSV rows (default sqlite or postgres)")
	tsv := fs.String("tsv", "", "append one row per query class to this TSV file")
	slow := fs.Int("slow", 0, "print the N slowest queries")
	fs.Parse(args)
	if *extract == "" || *data == "" && *dsn == "" {
		return errors.New("bench: -extract and -data or -dsn are required")
	}
	ctx := context.Background()
	d, err := db.Open(ctx, *data, *dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	if *label == "" {
		*label = string(d.Dialect)
	}
	store := directory.New(d, nil, nil, nil)
	qs, err := sampleQueries(*extract, *n, *seed)
	if err != nil {
		return err
	}
	// Warm up: the gazetteer, the connection pools, the page cache.
	for _, q := range qs[:min(100, len(qs))] {
		if _, err := store.SearchPharmacies(ctx, q.q); err != nil {
			return fmt.Errorf("%+v: %w", q.q, err)
		}
	}
	type timed struct {
		q  query
		el time.Duration
		n  int
	}
	var times []timed
	lat := map[string][]time.Duration{}
	hits := map[string]int{}
	var all []time.Duration
	start := time.Now()
	for _, q := range qs {
		t0 := time.Now()
		p, err := store.SearchPharmacies(ctx, q.q)
		el := time.Since(t0)
		if err != nil {
			return fmt.Errorf("%+v: %w", q.q, err)
		}
		lat[q.class] = append(lat[q.class], el)
		times = append(times, timed{q, el, p.Total})
		all = append(all, el)
		hits[q.class] += p.Total
	}
	wall := time.Since(start)
	sort.Slice(times, func(i, j int) bool { return times[i].el > times[j].el })
	for _, t := range times[:min(*slow, len(times))] {
		fmt.Printf("slow: %8.2f ms %-12s %q in %q: %d found\n", ms(t.el), t.q.class, t.q.q.Name, t.q.q.Place, t.n)
	}
	classes := make([]string, 0, len(lat))
	for c := range lat {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	classes = append(classes, "all")
	lat["all"] = all
	var tw io.Writer = io.Discard
	if *tsv != "" {
		f, err := os.OpenFile(*tsv, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		tw = f
	}
	fmt.Printf("%-10s %-16s %6s %9s %9s %9s %10s\n", "backend", "class", "n", "p50 ms", "p99 ms", "max ms", "avg hits")
	for _, c := range classes {
		ls := lat[c]
		sort.Slice(ls, func(i, j int) bool { return ls[i] < ls[j] })
		p50, p99, mx := pct(ls, 0.50), pct(ls, 0.99), ls[len(ls)-1]
		h := 0.0
		if c != "all" {
			h = float64(hits[c]) / float64(len(ls))
		}
		fmt.Printf("%-10s %-16s %6d %9.2f %9.2f %9.2f %10.1f\n", *label, c, len(ls), ms(p50), ms(p99), ms(mx), h)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t%.1f\n", *label, c, len(ls), ms(p50), ms(p99), ms(mx), h)
	}
	fmt.Printf("%s: %d queries in %s, %.0f queries/s (one at a time)\n", *label, len(qs), wall.Round(time.Millisecond),
		float64(len(qs))/wall.Seconds())
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(sorted []time.Duration, p float64) time.Duration {
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// sampleQueries draws the query mix from the extract's pharmacies:
//
//	name+commune  a pharmacy's name and its commune ("Pharmacie du Marché", "Moulins")
//	name+dept     a common name and a department ("Pharmacie de la Gare", "03")
//	name-typo     a pharmacy's name with one letter changed, no place
//	name-only     a pharmacy's name, no place
//	commune       a commune ("Moulins")
//	postal        a postal code ("03000")
//	department    a department by name ("Allier")
func sampleQueries(path string, n int, seed uint64) ([]query, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	type ph struct{ name, commune, pc, dept string }
	var phs []ph
	g := gazetteer.Default()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		r, err := directory.ParseExtractLine(sc.Text())
		if err != nil || directory.ExtractKind(&r) != directory.KindPharmacy {
			continue
		}
		name := r.TradeName
		if name == "" {
			name = r.CompanyName
		}
		c := g.Locate(r.PostalCode, r.DeliveryLine)
		if c == nil {
			continue
		}
		commune := c.Name
		if c.Parent != "" {
			commune = g.Commune(c.Parent).Name
		}
		phs = append(phs, ph{name, commune, r.PostalCode, c.Department})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(phs) == 0 {
		return nil, errors.New("no pharmacy in the extract")
	}
	r := rand.New(rand.NewPCG(seed, seed+1))
	common := []string{"Pharmacie de la Gare", "Pharmacie du Centre", "Grande Pharmacie", "Pharmacie du Marché", "Pharmacie Centrale"}
	var qs []query
	for i := 0; i < n; i++ {
		p := phs[r.IntN(len(phs))]
		var q query
		switch i % 7 {
		case 0:
			q = query{"name+commune", directory.PharmacyQuery{Name: p.name, Place: p.commune}}
		case 1:
			q = query{"name+dept", directory.PharmacyQuery{Name: common[r.IntN(len(common))], Place: p.dept}}
		case 2:
			q = query{"name-typo", directory.PharmacyQuery{Name: typo(r, p.name)}}
		case 3:
			q = query{"name-only", directory.PharmacyQuery{Name: p.name}}
		case 4:
			q = query{"commune", directory.PharmacyQuery{Place: p.commune}}
		case 5:
			q = query{"postal", directory.PharmacyQuery{Place: p.pc}}
		default:
			q = query{"department", directory.PharmacyQuery{Place: g.Department(p.dept).Name}}
		}
		qs = append(qs, q)
	}
	return qs, nil
}

// typo replaces, deletes or doubles one letter of the last word of at
// least 4 letters.
func typo(r *rand.Rand, s string) string {
	words := strings.Fields(strings.ToLower(s))
	for i := len(words) - 1; i >= 0; i-- {
		w := []rune(words[i])
		if len(w) < 4 {
			continue
		}
		j := 1 + r.IntN(len(w)-1)
		switch r.IntN(3) {
		case 0:
			w[j] = 'a' + rune(r.IntN(26))
		case 1:
			w = append(w[:j], w[j+1:]...)
		default:
			w = append(w[:j+1], w[j:]...)
		}
		words[i] = string(w)
		break
	}
	return strings.Join(words, " ")
}
