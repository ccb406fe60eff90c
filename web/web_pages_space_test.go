package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
)

// postOK posts a form and fails unless the page answers 200 (after the
// redirect).
func (b *browser) postOK(path string, v url.Values) string {
	b.t.Helper()
	status, body := b.post(path, v)
	if status != http.StatusOK {
		b.t.Fatalf("POST %s: %d\n%s", path, status, body)
	}
	return body
}

func (b *browser) postStatus(path string, v url.Values, want int) string {
	b.t.Helper()
	status, body := b.post(path, v)
	if status != want {
		b.t.Fatalf("POST %s: %d, want %d\n%s", path, status, want, body)
	}
	return body
}

func TestPagesProfileForms(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "pages-profile", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		srv := careServer(t, f, d)
		b := newBrowser(t, srv)
		b.login(f.pat)
		_, body := b.get("/profil")
		wantIn(t, body, "Caractéristiques de santé", "Don d'organes", "Directives anticipées", `href="/profil/rubrique/allergies/ajouter"`,
			"Ajouter une allergie", "Ajouter un traitement", "Ajouter une personne de l&#39;entourage")

		// One entry of every section, then edited, then deleted.
		entries := map[string]url.Values{
			"follow-ups":           {"title": {"Suivi du diabète"}, "date": {"03/2024"}},
			"diseases":             {"name": {"Asthme"}, "start": {"2010"}},
			"hospitalizations":     {"kind": {"SURGERY"}, "name": {"Appendicectomie"}, "start": {"12/05/2019"}},
			"treatments":           {"name": {"Ventoline"}, "dosage": {"2 bouffées si besoin"}},
			"disabilities":         {"name": {"Surdité partielle"}, "types": {"SENSORY"}, "human_help": {"NO"}},
			"allergies":            {"name": {"Pénicilline"}},
			"family-histories":     {"name": {"Diabète de type 2"}, "family_relationship": {"FATHER"}},
			"health-professionals": {"name": {"Dr Martin"}, "profession": {"Médecin"}, "role": {"MEDECIN_TRAITANT"}},
			"contacts": {"first_name": {"Marc"}, "last_name": {"Dupont"}, "contact_types": {"TRUSTED_CONTACT", "EMERGENCY_CONTACT"},
				"mobile_number": {"06 12 34 56 78"}, "postal_code": {"75011"}, "city": {"Paris"}},
		}
		for sec, v := range entries {
			_, body := b.get("/profil/rubrique/" + sec + "/ajouter")
			wantIn(t, body, `action="/profil/rubrique/`+sec+`"`)
			v.Set("csrf", b.csrf())
			body = b.postOK("/profil/rubrique/"+sec, v)
			wantIn(t, body, "L&#39;élément est ajouté à votre profil médical.", v.Get(firstKey(v)))
		}
		wantIn(t, b.last, "Pénicilline", "12/05/2019", "Marc")
		// Edit the allergy: the form is filled; the new name replaces it.
		id := regexp.MustCompile(`href="/profil/rubrique/allergies/(\d+)"`).FindStringSubmatch(b.last)[1]
		_, body = b.get("/profil/rubrique/allergies/" + id)
		wantIn(t, body, `value="Pénicilline"`, "Supprimer cet élément")
		body = b.postOK("/profil/rubrique/allergies/"+id, url.Values{"csrf": {b.csrf()}, "name": {"Amoxicilline"}, "comment": {"urticaire"}})
		wantIn(t, body, "L&#39;élément est modifié.", "Amoxicilline", "urticaire")
		// Validation: the store's sentence next to the field.
		body = b.postStatus("/profil/rubrique/allergies", url.Values{"csrf": {b.csrf()}, "name": {" "}}, http.StatusBadRequest)
		wantIn(t, body, `<p class="field-error" id="err-name">Nom de l&#39;allergie : champ obligatoire.</p>`, `aria-invalid="true" aria-describedby="err-name`)
		body = b.postStatus("/profil/rubrique/diseases", url.Values{"csrf": {b.csrf()}, "name": {"Grippe"}, "start": {"2020"}, "end": {"2019"}},
			http.StatusBadRequest)
		wantIn(t, body, `id="err-end">La date de fin précède la date de début.`, `value="Grippe"`)
		body = b.postStatus("/profil/rubrique/contacts", url.Values{"csrf": {b.csrf()}, "last_name": {"X"}, "mobile_number": {"0612345678"},
			"postal_code": {"75011"}, "city": {"Paris"}}, http.StatusBadRequest)
		wantIn(t, body, `id="err-contact_types">Choisissez au moins un rôle`)
		// No CSRF, no change.
		b.postStatus("/profil/rubrique/allergies", url.Values{"name": {"Arachide"}}, http.StatusForbidden)
		b.postStatus("/profil/rubrique/allergies/"+id+"/supprimer", url.Values{"confirme": {"oui"}}, http.StatusForbidden)
		// Delete: asked first, then done.
		b.get("/profil")
		body = b.postOK("/profil/rubrique/allergies/"+id+"/supprimer", url.Values{"csrf": {b.csrf()}})
		wantIn(t, body, "Supprimer cet élément ?", "Allergies : Amoxicilline", `name="confirme" value="oui"`)
		body = b.postOK("/profil/rubrique/allergies/"+id+"/supprimer", url.Values{"csrf": {b.csrf()}, "confirme": {"oui"}})
		wantIn(t, body, "L&#39;élément est supprimé.")
		if strings.Contains(body, "Amoxicilline") {
			t.Fatal("the deleted allergy is still shown")
		}
		if status, _ := b.get("/profil/rubrique/nulle-part/ajouter"); status != http.StatusNotFound {
			t.Fatalf("unknown section: %d", status)
		}

		// Blood group and organ donation.
		body = b.postOK("/profil/caracteristiques", url.Values{"csrf": {b.csrf()}, "groupe": {"AB-"}})
		wantIn(t, body, "Vos caractéristiques de santé sont enregistrées.", "<strong>AB-</strong>", `value="AB-" selected`)
		body = b.postStatus("/profil/caracteristiques", url.Values{"csrf": {b.csrf()}, "groupe": {"Z"}}, http.StatusBadRequest)
		wantIn(t, body, "Groupe sanguin inconnu")
		body = b.postOK("/profil/don-organes", url.Values{"csrf": {b.csrf()}, "informe": {"oui"}, "position": {"FAVORABLE"}})
		wantIn(t, body, "Votre position sur le don d&#39;organes est enregistrée.", `value="FAVORABLE" checked`)

		// Advance directives, online: steps in order, consent, witnesses
		// and the trusted person (Marc Dupont) rule.
		_, body = b.get("/profil/directives")
		wantIn(t, body, "Joindre un document", "Étape 1", "Remplissez d'abord l'étape 1.")
		body = b.postStatus("/profil/directives/etape", url.Values{"csrf": {b.csrf()}, "etape": {"1"}, "souhait": {"oui"}}, http.StatusBadRequest)
		wantIn(t, body, `id="err-model">Choisissez le modèle A`)
		body = b.postStatus("/profil/directives/etape", url.Values{"csrf": {b.csrf()}, "etape": {"1"}, "modele": {"B"}}, http.StatusBadRequest)
		wantIn(t, body, `id="err-step1">Étape 1 : confirmez votre souhait`)
		b.postOK("/profil/directives/etape", url.Values{"csrf": {b.csrf()}, "etape": {"1"}, "modele": {"B"}, "souhait": {"oui"}, "conserver": {"oui"}})
		wantIn(t, b.last, "Vos directives anticipées sont enregistrées.", "Étape 2", `id="valeurs"`)
		body = b.postStatus("/profil/directives/etape", url.Values{"csrf": {b.csrf()}, "etape": {"2"}}, http.StatusBadRequest)
		wantIn(t, body, `id="err-values">Étape 2 : exprimez vos valeurs ou vos souhaits.`)
		b.postOK("/profil/directives/etape", url.Values{"csrf": {b.csrf()}, "etape": {"2"}, "valeurs": {"Rester chez moi"}})
		step3 := url.Values{"csrf": {b.csrf()}, "etape": {"3"}, "t_REANIMATION": {"REFUSE"}, "lieu": {"Paris"}, "date": {time.Now().Format(time.DateOnly)}}
		body = b.postStatus("/profil/directives/etape", step3, http.StatusBadRequest)
		wantIn(t, body, `id="err-consent">Étape 3 : confirmez`, `value="Paris"`)
		step3.Set("consentement", "oui")
		step3.Set("ne_peut_ecrire", "oui")
		step3.Set("temoin1_prenom", "Anne")
		step3.Set("temoin1_nom", "Roy")
		body = b.postStatus("/profil/directives/etape", step3, http.StatusBadRequest)
		wantIn(t, body, `id="err-witnesses">Si vous ne pouvez pas écrire, deux témoins`)
		step3.Set("temoin2_prenom", "Paul")
		step3.Set("temoin2_nom", "Roy")
		body = b.postStatus("/profil/directives/etape", step3, http.StatusBadRequest)
		wantIn(t, body, `id="err-witnesses">Vous avez désigné une personne de confiance (Marc DUPONT)`)
		step3.Set("temoin2_prenom", "Marc")
		step3.Set("temoin2_nom", "Dupont")
		step3.Set("temoin2_confiance", "oui")
		b.postOK("/profil/directives/etape", step3)
		wantIn(t, b.last, "les trois étapes sont remplies", `value="REFUSE" checked`)
		b.postStatus("/profil/directives/supprimer", url.Values{"confirme": {"oui"}}, http.StatusForbidden)
		body = b.postOK("/profil/directives/supprimer", url.Values{"csrf": {b.csrf()}})
		wantIn(t, body, "Supprimer vos directives anticipées ?")
		body = b.postOK("/profil/directives/supprimer", url.Values{"csrf": {b.csrf()}, "confirme": {"oui"}})
		wantIn(t, body, "Vos directives anticipées sont supprimées.")

		// A minor: why not, and no form.
		k, _ := directory.INSKey("2250775123456")
		var child struct{ ID int64 }
		f.login(f.pat).do("POST", "/api/v1/persons", map[string]any{"name": "Léa Dupont", "ins": "2250775123456" + k, "birth_date": "2025-07-01", "sex": "F"},
			http.StatusCreated, &child)
		b.get("/profil")
		b.post("/personne", url.Values{"csrf": {b.csrf()}, "personne": {itoa(child.ID)}, "retour": {"/profil/directives"}})
		wantIn(t, b.last, "Directives anticipées de Léa Dupont", "réservées aux personnes majeures")
		if strings.Contains(b.last, "Étape 1") {
			t.Fatal("a minor is offered the directives form")
		}
		b.postStatus("/profil/directives/etape", url.Values{"csrf": {b.csrf()}, "etape": {"1"}, "modele": {"B"}, "souhait": {"oui"}}, http.StatusBadRequest)
		// The child's allergy is hers, not her mother's.
		b.postOK("/profil/rubrique/allergies", url.Values{"csrf": {b.csrf()}, "name": {"Lait de vache"}})
		wantIn(t, b.last, "Profil médical de Léa Dupont", "Lait de vache")
		b.post("/personne", url.Values{"csrf": {b.csrf()}, "personne": {itoa(f.pat.ID)}, "retour": {"/profil"}})
		if strings.Contains(b.last, "Lait de vache") {
			t.Fatal("the child's allergy shows in her mother's profile")
		}
		mine := regexp.MustCompile(`href="/profil/rubrique/treatments/(\d+)"`).FindStringSubmatch(b.last)[1]

		// Strangers: another patient reaches none of her entries; a
		// professional has no profile pages.
		o := newBrowser(t, srv)
		o.login(f.pat2)
		if status, _ := o.get("/profil/rubrique/treatments/" + mine); status != http.StatusNotFound {
			t.Fatalf("another patient opens her entry: %d", status)
		}
		o.get("/profil")
		o.postStatus("/profil/rubrique/treatments/"+mine+"/supprimer", url.Values{"csrf": {o.csrf()}, "confirme": {"oui"}}, http.StatusNotFound)
		o.postStatus("/profil/rubrique/treatments/"+mine, url.Values{"csrf": {o.csrf()}, "name": {"X"}}, http.StatusNotFound)
		doc := newBrowser(t, srv)
		doc.login(f.doc)
		for _, p := range []string{"/profil/directives", "/profil/rubrique/allergies/ajouter", "/agenda/evenement/nouveau", "/prevention/articles"} {
			if status, _ := doc.get(p); status != http.StatusNotFound {
				t.Fatalf("professional on %s: %d", p, status)
			}
		}
	}}})
}

func firstKey(v url.Values) string {
	for _, k := range []string{"name", "title", "last_name"} {
		if v.Get(k) != "" {
			return k
		}
	}
	return ""
}

func TestPagesSpaceForms(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "pages-space", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		srv := careServer(t, f, d)
		b := newBrowser(t, srv)
		b.login(f.pat)
		soon := time.Now().AddDate(0, 0, 10).Format(time.DateOnly)

		// Agenda: an appointment created, seen, edited, deleted.
		_, body := b.get("/agenda")
		wantIn(t, body, `href="/agenda/evenement/nouveau"`, "Ajouter un rappel")
		_, body = b.get("/agenda/evenement/nouveau")
		wantIn(t, body, `<label for="titre">Titre</label>`, `value="appointment" checked`)
		body = b.postStatus("/agenda/evenement", url.Values{"csrf": {b.csrf()}, "type": {"appointment"}, "date": {soon}}, http.StatusBadRequest)
		wantIn(t, body, `id="err-title">Le titre est obligatoire.`)
		body = b.postStatus("/agenda/evenement", url.Values{"csrf": {b.csrf()}, "type": {"appointment"}, "titre": {"Dentiste"}, "date": {soon},
			"heure": {"25:99"}}, http.StatusBadRequest)
		wantIn(t, body, `id="err-time">L&#39;heure doit être au format HH:MM.`, `value="Dentiste"`)
		b.postStatus("/agenda/evenement", url.Values{"type": {"appointment"}, "titre": {"Dentiste"}, "date": {soon}}, http.StatusForbidden)
		body = b.postOK("/agenda/evenement", url.Values{"csrf": {b.csrf()}, "type": {"appointment"}, "titre": {"Dentiste"}, "date": {soon},
			"heure": {"09:30"}, "avec_type": {"practitioner"}, "avec": {"Dr Dent"}})
		wantIn(t, body, "L&#39;événement est ajouté à l&#39;agenda.", "<h3>Dentiste</h3>", "à 09:30", "Avec Dr Dent")
		ev := regexp.MustCompile(`href="/agenda/evenement/(\d+)"`).FindStringSubmatch(body)[1]
		_, body = b.get("/agenda/evenement/" + ev)
		wantIn(t, body, `value="Dentiste"`, `value="09:30"`, "Supprimer l'événement")
		body = b.postOK("/agenda/evenement/"+ev, url.Values{"csrf": {b.csrf()}, "type": {"reminder"}, "titre": {"Prendre rendez-vous chez le dentiste"}, "date": {soon}})
		wantIn(t, body, "L&#39;événement est modifié.", "Prendre rendez-vous chez le dentiste")
		o := newBrowser(t, srv)
		o.login(f.pat2)
		if status, _ := o.get("/agenda/evenement/" + ev); status != http.StatusNotFound {
			t.Fatalf("another patient opens her event: %d", status)
		}
		o.get("/agenda")
		o.postStatus("/agenda/evenement/"+ev+"/supprimer", url.Values{"csrf": {o.csrf()}, "confirme": {"oui"}}, http.StatusNotFound)
		body = b.postOK("/agenda/evenement/"+ev+"/supprimer", url.Values{"csrf": {b.csrf()}})
		wantIn(t, body, "Supprimer cet événement ?")
		body = b.postOK("/agenda/evenement/"+ev+"/supprimer", url.Values{"csrf": {b.csrf()}, "confirme": {"oui"}})
		wantIn(t, body, "L&#39;événement est supprimé de l&#39;agenda.")

		// Prévention: the whole library by theme, and one theme.
		_, body = b.get("/prevention")
		wantIn(t, body, `href="/prevention/articles"`)
		_, all := b.get("/prevention/articles")
		wantIn(t, all, "<h1>Tous les articles</h1>", `aria-label="Thèmes"`, "Tabac")
		theme := regexp.MustCompile(`<option value="([^"]+)">`).FindStringSubmatch(all[strings.Index(all, `id="theme"`):])[1]
		_, some := b.get("/prevention/articles?theme=" + theme)
		if n, m := strings.Count(all, `class="card article"`), strings.Count(some, `class="card article"`); m == 0 || m >= n {
			t.Fatalf("articles of a theme: %d of %d", m, n)
		}
		if status, _ := b.get("/prevention/articles?theme=nulle-part"); status != http.StatusBadRequest {
			t.Fatalf("unknown theme: %d", status)
		}

		// Vaccinations: a dose edited then deleted.
		today := time.Now().Format(time.DateOnly)
		b.get("/vaccinations")
		body = b.postOK("/vaccinations", url.Values{"csrf": {b.csrf()}, "vaccin": {"Grippe"}, "date": {today}})
		vid := regexp.MustCompile(`href="/vaccinations/(\d+)"`).FindStringSubmatch(body)[1]
		_, body = b.get("/vaccinations/" + vid)
		wantIn(t, body, `value="Grippe"`, "Supprimer cette vaccination")
		body = b.postStatus("/vaccinations/"+vid, url.Values{"csrf": {b.csrf()}, "vaccin": {""}, "date": {today}}, http.StatusBadRequest)
		wantIn(t, body, `id="err-vaccine">Le nom du vaccin est obligatoire.`)
		body = b.postOK("/vaccinations/"+vid, url.Values{"csrf": {b.csrf()}, "vaccin": {"Grippe saisonnière"}, "date": {today}, "lot": {"AB12"}})
		wantIn(t, body, "La vaccination est modifiée.", "Grippe saisonnière", "lot AB12")
		o.get("/vaccinations")
		o.postStatus("/vaccinations/"+vid, url.Values{"csrf": {o.csrf()}, "vaccin": {"X"}, "date": {today}}, http.StatusNotFound)
		b.postStatus("/vaccinations/"+vid+"/supprimer", url.Values{"confirme": {"oui"}}, http.StatusForbidden)
		body = b.postOK("/vaccinations/"+vid+"/supprimer", url.Values{"csrf": {b.csrf()}})
		wantIn(t, body, "Supprimer cette vaccination ?", "Grippe saisonnière")
		body = b.postOK("/vaccinations/"+vid+"/supprimer", url.Values{"csrf": {b.csrf()}, "confirme": {"oui"}})
		wantIn(t, body, "La vaccination est supprimée de votre carnet.", "Aucune vaccination enregistrée.")

		// Grossesse: one entered by mistake, deleted after confirmation.
		b.get("/grossesse")
		body = b.postOK("/grossesse", url.Values{"csrf": {b.csrf()}, "debut": {time.Now().AddDate(0, 0, -30).Format(time.DateOnly)}})
		pid := regexp.MustCompile(`action="/grossesse/(\d+)/supprimer"`).FindStringSubmatch(body)[1]
		o.get("/grossesse")
		o.postStatus("/grossesse/"+pid+"/supprimer", url.Values{"csrf": {o.csrf()}, "confirme": {"oui"}}, http.StatusNotFound)
		body = b.postOK("/grossesse/"+pid+"/supprimer", url.Values{"csrf": {b.csrf()}})
		wantIn(t, body, "Supprimer cette grossesse ?", "saisie par erreur")
		body = b.postOK("/grossesse/"+pid+"/supprimer", url.Values{"csrf": {b.csrf()}, "confirme": {"oui"}})
		wantIn(t, body, "La grossesse est supprimée.", "Ajouter une grossesse")
		if strings.Contains(body, "Grossesse en cours") {
			t.Fatal("the deleted pregnancy is still ongoing")
		}
	}}})
}

func TestPagesPersons(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "pages-persons", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		srv := careServer(t, f, d)
		b := newBrowser(t, srv)
		b.login(f.pat)
		_, body := b.get("/proches")
		wantIn(t, body, `href="/proches" aria-current="page"`, "<h1>Mes proches</h1>", "Vous ne représentez personne", "Ajouter un enfant")
		k, _ := directory.INSKey("2250775123456")
		ins := "2250775123456" + k
		child := url.Values{"nom": {"Léa Dupont"}, "ins": {ins}, "naissance": {"2022-07-01"}, "sexe": {"F"}}
		b.postStatus("/proches/enfant", child, http.StatusForbidden)
		for field, bad := range map[string]url.Values{
			"nom":       {"ins": {ins}, "naissance": {"2022-07-01"}, "sexe": {"F"}},
			"ins":       {"nom": {"Léa"}, "ins": {"123"}, "naissance": {"2022-07-01"}, "sexe": {"F"}},
			"naissance": {"nom": {"Léa"}, "ins": {ins}, "naissance": {"2001-07-01"}, "sexe": {"F"}},
			"sexe":      {"nom": {"Léa"}, "ins": {ins}, "naissance": {"2022-07-01"}},
		} {
			bad.Set("csrf", b.csrf())
			body = b.postStatus("/proches/enfant", bad, http.StatusBadRequest)
			wantIn(t, body, `<p class="field-error" id="err-`+field+`">`, `aria-describedby="err-`+field)
		}
		body = b.postStatus("/proches/enfant", url.Values{"csrf": {b.csrf()}, "nom": {"Léa"}, "ins": {ins}, "naissance": {"2022-07-01"}}, http.StatusBadRequest)
		wantIn(t, body, "Choisissez le sexe de l&#39;enfant.", `value="Léa"`)
		child.Set("csrf", b.csrf())
		body = b.postOK("/proches/enfant", child)
		wantIn(t, body, "L&#39;espace de l&#39;enfant est ouvert", "<h3>Léa Dupont</h3>", "Né(e) le 1 juillet 2022", "Espace affiché")
		id := regexp.MustCompile(`id="personne-(\d+)"`).FindStringSubmatch(body)[1]
		child.Set("csrf", b.csrf())
		body = b.postStatus("/proches/enfant", child, http.StatusBadRequest)
		wantIn(t, body, "Un espace existe déjà pour ce numéro INS.")

		// The second legal representative: invited by address, accepts.
		body = b.postStatus("/proches/"+id+"/inviter", url.Values{"csrf": {b.csrf()}, "adresse": {"personne@nulle-part.example"}}, http.StatusBadRequest)
		wantIn(t, body, "Cette adresse n&#39;est pas celle d&#39;un usager de l&#39;espace.", `aria-invalid="true" aria-describedby="err-adresse-`+id)
		body = b.postOK("/proches/"+id+"/inviter", url.Values{"csrf": {b.csrf()}, "adresse": {f.pat2.Address}})
		wantIn(t, body, "L&#39;invitation est envoyée")
		o := newBrowser(t, srv)
		o.login(f.pat2)
		_, body = o.get("/proches")
		wantIn(t, body, "Invitations reçues", "<strong>Léa Dupont</strong>")
		o.postStatus("/proches/"+id+"/accepter", url.Values{}, http.StatusForbidden)
		body = o.postOK("/proches/"+id+"/accepter", url.Values{"csrf": {o.csrf()}})
		wantIn(t, body, "Vous représentez désormais cette personne", "<h3>Léa Dupont</h3>")
		doc := newBrowser(t, srv)
		doc.login(f.doc)
		if status, _ := doc.get("/proches"); status != http.StatusNotFound {
			t.Fatalf("a professional's Mes proches: %d", status)
		}
		// Nobody invites for a stranger, nor accepts what was not offered.
		b.get("/proches")
		b.postStatus("/proches/"+itoa(f.pat2.ID)+"/inviter", url.Values{"csrf": {b.csrf()}, "adresse": {f.doc.Address}}, http.StatusForbidden)
		if status, _ := b.post("/proches/"+itoa(f.pat2.ID)+"/accepter", url.Values{"csrf": {b.csrf()}}); status != http.StatusNotFound && status != http.StatusForbidden {
			t.Fatalf("accepting what was not offered: %d", status)
		}

		// The child's Documents: her folders, her upload, her history.
		b.post("/personne", url.Values{"csrf": {b.csrf()}, "personne": {id}, "retour": {"/documents"}})
		wantIn(t, b.last, "Documents de Léa Dupont", "Ajouter un document", "Gérer ses dossiers")
		_, body = b.get("/documents/dossiers")
		wantIn(t, body, "<h1>Dossiers de Léa Dupont</h1>")
		body = b.postOK("/documents/dossiers", url.Values{"csrf": {b.csrf()}, "nom": {"Vaccins de Léa"}})
		wantIn(t, body, "Le dossier a été créé.", "Vaccins de Léa")
		folder := regexp.MustCompile(`action="/documents/dossiers/(\d+)/renommer"`).FindStringSubmatch(body)[1]
		body = b.postOK("/documents/dossiers/"+folder+"/renommer", url.Values{"csrf": {b.csrf()}, "nom": {"Carnet de Léa"}})
		wantIn(t, body, "Carnet de Léa")
		b.get("/documents")
		status, body := b.postMultipart("/documents/ajouter", map[string]string{"csrf": b.csrf(), "titre": "Carnet de santé", "dossier": folder},
			map[file][]byte{{"fichier", "carnet.pdf", "application/pdf"}: []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")})
		if status != http.StatusOK {
			t.Fatalf("upload for the child: %d\n%s", status, body)
		}
		wantIn(t, body, "Documents de Léa Dupont", "Le document a été ajouté", "Carnet de santé", "Dossier « Carnet de Léa »")
		_, body = b.get("/documents/historique")
		wantIn(t, body, "Historique des accès de Léa Dupont", "Carnet de santé")
		// Her mother's own library holds neither.
		b.post("/personne", url.Values{"csrf": {b.csrf()}, "personne": {itoa(f.pat.ID)}, "retour": {"/documents"}})
		if strings.Contains(b.last, "Carnet de santé") || strings.Contains(b.last, "Carnet de Léa") {
			t.Fatal("the child's document or folder shows in her mother's library")
		}
	}}})
}

func TestPagesShare(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "pages-share", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		srv := careServer(t, f, d)
		var s struct {
			ConversationID int64 `json:"conversation_id"`
		}
		doc := f.login(f.doc)
		doc.do("POST", "/api/v1/conversations", map[string]any{"to": f.pat.Address, "subject": "Votre bilan", "text": "Envoyez-moi vos analyses."},
			http.StatusCreated, &s)
		conv := itoa(s.ConversationID)
		b := newBrowser(t, srv)
		b.login(f.pat)
		b.get("/documents")
		pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
		b.postMultipart("/documents/ajouter", map[string]string{"csrf": b.csrf(), "titre": "Prise de sang"},
			map[file][]byte{{"fichier", "analyses.pdf", "application/pdf"}: pdf})
		id := regexp.MustCompile(`id="doc-(\d+)"`).FindStringSubmatch(b.last)[1]
		_, body := b.get("/documents/" + id)
		wantIn(t, body, `href="/documents/partager?doc=`+id+`"`)

		// From the list's selection: the share page.
		b.get("/documents")
		body = b.postOK("/documents/action", url.Values{"csrf": {b.csrf()}, "doc": {id}, "action": {"partager"}, "retour": {"/documents"}})
		wantIn(t, body, "<h1>Partager un document</h1>", "Prise de sang", "Dr Alice Martin · Votre bilan", `href="/messagerie/nouveau?documents=`+id+`"`)
		b.postStatus("/documents/partager", url.Values{"doc": {id}, "conversation": {conv}}, http.StatusForbidden)
		body = b.postStatus("/documents/partager", url.Values{"csrf": {b.csrf()}, "doc": {id}}, http.StatusBadRequest)
		wantIn(t, body, "Choisissez le professionnel de santé")
		body = b.postOK("/documents/partager", url.Values{"csrf": {b.csrf()}, "doc": {id}, "conversation": {conv}, "texte": {"Voici mes analyses."}})
		if b.url.Path != "/messagerie/"+conv {
			t.Fatalf("after sharing: %s", b.url)
		}
		wantIn(t, body, "Voici mes analyses.", ">analyses.pdf</a>")

		// Another patient shares none of her documents.
		o := newBrowser(t, srv)
		o.login(f.pat2)
		if status, _ := o.get("/documents/partager?doc=" + id); status != http.StatusNotFound && status != http.StatusForbidden {
			t.Fatalf("a stranger's share page: %d", status)
		}

		// Closed by the doctor: the messaging rule refuses, its sentence
		// shown, the draft kept.
		doc.do("POST", "/api/v1/conversations/"+conv+"/close", map[string]any{"text": "Bonne continuation."}, http.StatusOK, nil)
		_, body = b.get("/documents/partager?doc=" + id)
		wantIn(t, body, "Aucune conversation ouverte")
		status, body := b.post("/documents/partager", url.Values{"csrf": {b.csrf()}, "doc": {id}, "conversation": {conv}})
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("share into a closed conversation: %d\n%s", status, body)
		}
		wantIn(t, body, "Dr Alice Martin a mis fin à vos échanges", "conservé dans vos brouillons")

		// To a pharmacy, through the pharmacy search.
		_, body = b.get("/messagerie/nouveau?recherche=1&nom=Gare&documents=" + id)
		wantIn(t, body, "Documents à partager", "Prise de sang", `name="documents" value="`+id+`"`)
		tok := regexp.MustCompile(`name="pharmacie" value="([^"]+)"`).FindStringSubmatch(body)[1]
		_, body = b.get("/messagerie/nouveau/message?documents=" + id + "&pharmacie=" + url.QueryEscape(tok))
		wantIn(t, body, "Documents joints de mon espace", "Prise de sang", "&amp;documents="+id)
		status, body = b.postMultipart("/messagerie/nouveau/message?pharmacie="+url.QueryEscape(tok)+"&documents="+id,
			map[string]string{"csrf": b.csrf(), "objet": "Mes analyses", "texte": "Bonjour"}, nil)
		if status != http.StatusOK || !strings.HasPrefix(b.url.Path, "/messagerie/") {
			t.Fatalf("share to the pharmacy: %d %s\n%s", status, b.url, body)
		}
		wantIn(t, body, "Pharmacie de la Gare", ">analyses.pdf</a>")
	}}})
}
