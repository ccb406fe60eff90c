package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mssanted/directory"
)

// The patient's space in headless Chromium against the real binary (issue
// 9): a pregnancy added, its months and exams, "J'ai accouché" with a date
// and the pregnancy among the past ones; the tobacco answer that puts "Des
// aides pour l'arrêt du tabac" first in "Pour moi"; an agenda exam marked
// done with its date; the other new pages (Profil médical, Vaccinations,
// Catalogue de services, Mon compte with the TOTP set-up and the login's
// second step, the folders, the access history, the professional's
// patient record); an allergy added in Profil médical, an appointment of her
// own in the agenda, the article library, and in "Mes proches" her son
// added, his space chosen, his agenda with the child exams and M'T dents.
// axe-core on every page, as in the journey; with
// MSSANTED_DOCS_SCREENSHOT=1 the pregnancy, Pour moi and agenda pages go
// to docs/screenshots.
func TestBrowserSpace(t *testing.T) {
	t.Parallel()
	start := time.Now()
	chromium := browserPath(t)
	axe, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("MSSANTED_ARTIFACTS")
	if shots == "" {
		shots = t.TempDir()
	} else if shots = filepath.Join(shots, "espace"); os.MkdirAll(shots, 0o755) != nil {
		t.Fatal("artifacts directory")
	}
	const patient, pro = "lea@patient.example", "dr.bernard@chu.example"
	data := t.TempDir()
	mustMSS(t, "", "init", "--data", data, "--domain", "chu.example", "--patient-domain", "patient.example")
	add := func(args ...string) {
		mustMSS(t, testPassword+"\n", append([]string{"user", "add", "--data", data, "--password-stdin"}, args...)...)
	}
	patINS := ins("2900575123456")
	add("--role", "patient", "--address", patient, "--name", "Léa Martin", "--ins", patINS, "--birth-date", "1990-05-10", "--sex", "F")
	add("--role", "professional", "--address", pro, "--name", "Dr Marc Bernard", "--rpps", rpps("1010000002"), "--profession", "Sage-femme")
	srv := startServe(t, data)
	base := "https://" + srv.addrs["https"]

	rootCtx, stop := context.WithTimeout(context.Background(), 2*time.Minute)
	defer stop()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.IgnoreCertErrors, chromedp.WindowSize(412, 915), chromedp.Flag("lang", "fr-FR"))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(rootCtx, opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	step := 0
	pat := &tab{t: t, who: "patiente", ctx: ctx, base: base, shots: shots, axe: string(axe), step: &step}
	docShot := func(png []byte, name string) {
		if os.Getenv("MSSANTED_DOCS_SCREENSHOT") == "1" {
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	login := func(b *tab, address string) {
		b.open("/connexion")
		b.run("fill the login form", chromedp.SendKeys(chromedp.CSS("#adresse"), address), chromedp.SendKeys(chromedp.CSS("#mot_de_passe"), testPassword))
		b.click("sign in", `form[action="/connexion"] button[type="submit"]`)
	}
	login(pat, patient)
	pat.see("main", "Bonjour Léa Martin")
	today := time.Now().In(paris).Format(time.DateOnly)

	// 1. The pregnancy pathway, from Profil médical.
	pat.click("open Profil médical", `nav a[href="/profil"]`)
	pat.see("main", "Profil médical", "Générer ma synthèse", "Mesures")
	pat.shot("profil-medical")
	pat.click("open Grossesse", `main a[href="/grossesse"]`)
	pat.see("main", "Ajouter une grossesse", "Date de début de grossesse")
	pat.shot("grossesse-ajouter")
	pat.run("the start date", chromedp.SetValue(chromedp.CSS("#debut"), time.Now().In(paris).AddDate(0, 0, -200).Format(time.DateOnly)))
	pat.click("add the pregnancy", `form[action="/grossesse"] button[type="submit"]`)
	pat.see("main", "Grossesse en cours", "Date prévue d'accouchement", "Mois 1", "Mois 9", "Examens et rendez-vous à prévoir", "J'ai accouché", "Je ne suis plus enceinte")
	if n := runValue(pat, "months", chromedp.Evaluate[int](`document.querySelectorAll(".months > li").length`)); n != 9 {
		t.Fatalf("%d months", n)
	}
	docShot(pat.shot("grossesse-mois"), "grossesse.png")
	pat.run("the delivery date", chromedp.SetValue(chromedp.CSS("#date-accouchement"), today))
	pat.click("J'ai accouché", "#accouche")
	pat.see("main", "Félicitations", "Grossesses passées", "Grossesse terminée", "Accouchement le", "Ajouter une grossesse")
	pat.shot("grossesse-terminee")

	// 2. Tobacco: "Oui, tous les jours" puts the help to quit first.
	pat.click("open Prévention", `nav a[href="/prevention"]`)
	pat.see("main", "Examens et vaccinations à faire prochainement", "Je fume", "Je vapote", "Oui, tous les jours", "Oui, occasionnellement", "Pour moi")
	before := pat.text(".articles h3")
	pat.shot("prevention")
	pat.run("answer", chromedp.Click(chromedp.CSS("#q-TOBACCO_MANUAL-0")), chromedp.Click(chromedp.CSS("#q-TOBACCO_ELECTRONIC-2")))
	pat.click("save the answers", `form[action="/prevention/reponses"] button[type="submit"]`)
	pat.see("main", "Vos réponses sont enregistrées", "Je fume : Oui, tous les jours. Renseigné le", "Alimentation")
	if first := pat.text(".articles h3"); first != "Des aides pour l'arrêt du tabac" {
		t.Fatalf("first Pour moi article %q (before the answer: %q)", first, before)
	}
	t.Logf("Pour moi: %q first before the answer, %q after", before, "Des aides pour l'arrêt du tabac")
	docShot(pat.shot("prevention-pour-moi"), "prevention.png")

	// 3. The agenda: the first item marked done with its date.
	pat.click("open Agenda", `nav a[href="/agenda"]`)
	pat.see("main", "À venir", "Tous", "Marquer comme fait", "S'abonner depuis mon agenda")
	item := runValue(pat, "first item", chromedp.Evaluate[string](`document.querySelector(".status-form input[name=element]").value`))
	title := pat.text("#item-" + cssEscape(item) + " h3")
	pat.run("the date done", chromedp.SetValue(chromedp.CSS("#date-"+cssEscape(item)), today))
	pat.click("mark it done", "#item-"+cssEscape(item)+` button[value="DONE"]`)
	pat.see("main", "Le statut est enregistré.")
	pat.see("#item-"+cssEscape(item), title, "Réalisé", "fait le")
	docShot(pat.shot("agenda-fait"), "agenda.png")
	pat.click("Tous", `.tabs a[href="/agenda?tous=1"]`)
	pat.see("main", title)
	pat.click("create the feed", `form[action="/agenda/abonnement"] button`)
	feed := pat.text("#lien-ics")
	if !regexp.MustCompile(`^https://[^/]+/ical/[^/]+\.ics$`).MatchString(feed) {
		t.Fatalf("feed link %q", feed)
	}
	pat.shot("agenda-abonnement")

	// 4. The other pages.
	pat.click("open Prévention", `nav a[href="/prevention"]`)
	pat.click("open Vaccinations", `main a[href="/vaccinations"]`)
	pat.see("main", "Mon carnet de vaccination", "Calendrier des vaccinations recommandées")
	pat.shot("vaccinations")
	pat.click("open Catalogue", `nav a[href="/catalogue"]`)
	pat.see("main", "Catalogue de services", "Région", "Thème")
	pat.shot("catalogue")
	pat.click("open Documents", `nav a[href="/documents"]`)
	pat.click("open the folders", `main a[href="/documents/dossiers"]`)
	pat.run("name a folder", chromedp.SendKeys(chromedp.CSS("#nom"), "Accouchement"))
	pat.click("create it", `form[action="/documents/dossiers"] button`)
	pat.see("main", "Le dossier a été créé.", "Accouchement")
	pat.shot("dossiers")
	pat.open("/documents/historique")
	pat.see("main", "Historique des accès")
	pat.shot("historique")

	// 5. Profil médical: an allergy added and shown; the directives page
	// (adults only, three steps).
	pat.click("open Profil médical", `nav a[href="/profil"]`)
	pat.click("Ajouter une allergie", `main a[href="/profil/rubrique/allergies/ajouter"]`)
	pat.see("main", "Ajouter une allergie", "Allergie ou intolérance")
	pat.shot("profil-allergie-formulaire")
	pat.run("name the allergy", chromedp.SendKeys(chromedp.CSS("#f-name"), "Pénicilline"), chromedp.SendKeys(chromedp.CSS("#f-comment"), "Urticaire géante en 2015"))
	pat.click("save the allergy", `form[action="/profil/rubrique/allergies"] button[type="submit"]`)
	pat.see("main", "L'élément est ajouté à votre profil médical.")
	pat.see(`section[aria-labelledby="s-allergies"]`, "Pénicilline", "Urticaire géante en 2015", "Modifier")
	docShot(pat.shot("profil-allergie"), "profil-allergie.png")
	pat.click("open the directives", `main a[href="/profil/directives"]`)
	pat.see("main", "Joindre un document", "Étape 1", "Modèle A", "Modèle B")
	pat.shot("directives-anticipees")

	// 6. The agenda: an appointment of her own, then seen in the agenda.
	pat.click("open Agenda", `nav a[href="/agenda"]`)
	pat.click("Ajouter un rendez-vous", `main a[href="/agenda/evenement/nouveau"]`)
	pat.see("main", "Ajouter un événement", "Rendez-vous", "Rappel")
	pat.shot("agenda-evenement-formulaire")
	pat.run("the appointment", chromedp.SendKeys(chromedp.CSS("#titre"), "Consultation ophtalmologue"),
		chromedp.SetValue(chromedp.CSS("#date"), time.Now().In(paris).AddDate(0, 0, 14).Format(time.DateOnly)),
		chromedp.SetValue(chromedp.CSS("#heure"), "10:30"), chromedp.Click(chromedp.CSS("#avec-ps")),
		chromedp.SendKeys(chromedp.CSS("#avec"), "Dr Claire Vue"))
	pat.click("save the appointment", `form[action="/agenda/evenement"] button[type="submit"]`)
	pat.see("main", "L'événement est ajouté à l'agenda.", "Consultation ophtalmologue", "à 10:30", "Avec Dr Claire Vue")
	docShot(pat.shot("agenda-evenement"), "agenda-evenement.png")
	pat.click("open Prévention", `nav a[href="/prevention"]`)
	pat.click("all the articles", `main a[href="/prevention/articles"]`)
	pat.see("main", "Tous les articles", "Tabac")
	pat.shot("prevention-articles")

	// 7. Mes proches: her son added; his space chosen, his agenda shows
	// the child exams and M'T dents.
	pat.click("open Mes proches", `nav a[href="/proches"]`)
	pat.see("main", "Mes proches", "Ajouter un enfant")
	pat.shot("proches")
	born := time.Now().In(paris).AddDate(-2, -10, 0).Format(time.DateOnly)
	pat.run("the child", chromedp.SendKeys(chromedp.CSS("#nom"), "Hugo Martin"), chromedp.SendKeys(chromedp.CSS("#ins"), ins("1230775123456")),
		chromedp.SetValue(chromedp.CSS("#naissance"), born), chromedp.Click(chromedp.CSS("#sexe-m")))
	pat.click("add the child", `form[action="/proches/enfant"] button[type="submit"]`)
	pat.see("main", "L'espace de l'enfant est ouvert", "Hugo Martin", "Garçon")
	pat.shot("proches-enfant")
	pat.click("show his space", `.person form[action="/personne"] button`)
	pat.see("main", "Agenda de Hugo Martin", "Examen de santé", "M'T dents")
	pat.see("header", "Espace de Hugo Martin")
	docShot(pat.shot("agenda-enfant"), "agenda-enfant.png")
	runValue(pat, "back to her own space", chromedp.Evaluate[bool](`(() => { const s = document.querySelector("#personne");
		for (const o of s.options) { if (o.text.includes("(vous)")) { s.value = o.value; } } return true; })()`))
	pat.click("show her space", `form.person button`)
	pat.see("main", "Agenda", "Consultation ophtalmologue")

	// 8. Mon compte: the second factor, then the login asks for the code.
	pat.click("open Mon compte", `nav a[href="/compte"]`)
	pat.click("start TOTP", `form[action="/compte/totp"] button`)
	pat.see("main", "Code de votre application d'authentification")
	secret := strings.ReplaceAll(pat.text("#cle"), " ", "")
	pat.shot("compte-totp")
	code, err := directory.TOTPCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pat.run("type the code", chromedp.SendKeys(chromedp.CSS("#code-activer"), code))
	pat.click("confirm", `form[action="/compte/totp/confirmer"] button`)
	pat.see("main", "La double authentification est activée")
	pat.click("sign out", `form.logout button`)
	login(pat, patient)
	pat.see("main", "Votre compte est protégé par la double authentification")
	pat.shot("connexion-code")
	code, _ = directory.TOTPCode(secret, time.Now())
	pat.run("type the code", chromedp.SendKeys(chromedp.CSS("#code"), code))
	pat.click("sign in with the code", `form[action="/connexion"] button[type="submit"]`)
	pat.see("main", "Bonjour Léa Martin")

	// 9. A professional who never cared for her: the record is refused.
	proCtx, cancelPro := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelPro()
	if err := chromedp.Do(proCtx); err != nil {
		t.Fatal(err)
	}
	doc := &tab{t: t, who: "professionnel", ctx: proCtx, base: base, shots: shots, axe: string(axe), step: &step}
	login(doc, pro)
	doc.click("open Dossier patient", `nav a[href="/patients"]`)
	doc.shot("dossier-patient")
	doc.run("type the INS", chromedp.SendKeys(chromedp.CSS("#ins"), patINS))
	doc.load("show the record", 403, chromedp.Click(chromedp.CSS(`form[action="/patients"] button`)))
	doc.see("main", "Vous n'avez pas accès au dossier de ce patient")
	doc.shot("dossier-patient-refuse")

	cancelPro()
	cancel()
	cancelAlloc()
	srv.stop(t)
	t.Logf("patient's space: %d pages checked, screenshots in %s, %s", step, shots, time.Since(start).Round(time.Millisecond))
}

// cssEscape makes an agenda item's code usable in a CSS id selector.
func cssEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
			continue
		}
		b.WriteByte('\\')
		b.WriteRune(r)
	}
	return b.String()
}

var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return l
}()
