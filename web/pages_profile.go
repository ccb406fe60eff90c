package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/profile"
)

// Profil médical, the forms: an entry of any list section added, edited
// or deleted (one generic form, its fields described below by the JSON
// names dmp/profile decodes), the health characteristics, organ donation
// and the advance directives. dmp/profile validates everything; its
// French sentence is shown next to the field it names.

func (p *pages) registerProfile(mux *http.ServeMux) {
	mux.HandleFunc("POST /profil/caracteristiques", p.auth(p.careOnly(p.profileCharacteristics)))
	mux.HandleFunc("POST /profil/don-organes", p.auth(p.careOnly(p.profileDonation)))
	mux.HandleFunc("GET /profil/directives", p.auth(p.careOnly(p.directivesPage)))
	mux.HandleFunc("POST /profil/directives/document", p.auth(p.careOnly(p.directivesAttach)))
	mux.HandleFunc("POST /profil/directives/etape", p.auth(p.careOnly(p.directivesStep)))
	mux.HandleFunc("POST /profil/directives/supprimer", p.auth(p.careOnly(p.directivesDelete)))
	mux.HandleFunc("GET /profil/rubrique/{section}/ajouter", p.auth(p.careOnly(p.entryForm)))
	mux.HandleFunc("POST /profil/rubrique/{section}", p.auth(p.careOnly(p.entrySave)))
	mux.HandleFunc("GET /profil/rubrique/{section}/{id}", p.auth(p.careOnly(p.entryForm)))
	mux.HandleFunc("POST /profil/rubrique/{section}/{id}", p.auth(p.careOnly(p.entrySave)))
	mux.HandleFunc("POST /profil/rubrique/{section}/{id}/supprimer", p.auth(p.careOnly(p.entryDelete)))
}

var profileNotices = map[string]string{
	"ajoute":          "L'élément est ajouté à votre profil médical.",
	"modifie":         "L'élément est modifié.",
	"supprime":        "L'élément est supprimé.",
	"caracteristique": "Vos caractéristiques de santé sont enregistrées.",
	"don":             "Votre position sur le don d'organes est enregistrée.",
	"directives":      "Vos directives anticipées sont enregistrées.",
	"directives-supp": "Vos directives anticipées sont supprimées.",
}

type option struct{ Code, Label string }

// formField describes one field of a section's form; Name is the JSON name
// of dmp/profile's payload.
type formField struct {
	Name     string
	Label    string
	Kind     string // text, textarea, pdate, select, checks, tel, email
	Required bool
	Hint     string
	Options  []option
	Max      int
	// Filled in for a render:
	Value  string
	Values map[string]bool
	Error  string
}

var (
	pdateHint   = "AAAA, MM/AAAA ou JJ/MM/AAAA"
	commentFld  = formField{Name: "comment", Label: "Commentaire (facultatif)", Kind: "textarea", Max: 2000}
	relationFam = []option{{"MOTHER", "Mère"}, {"FATHER", "Père"}, {"GRANDMOTHER", "Grand-mère"}, {"GRANDFATHER", "Grand-père"},
		{"SISTER", "Sœur"}, {"BROTHER", "Frère"}, {"GREAT_GRANDMOTHER", "Arrière-grand-mère"}, {"GREAT_GRANDFATHER", "Arrière-grand-père"},
		{"AUNT", "Tante"}, {"UNCLE", "Oncle"}, {"OTHER", "Autre"}}
)

var sectionForms = map[profile.Section][]formField{
	profile.FollowUps: {
		{Name: "title", Label: "Objet du suivi", Kind: "text", Required: true, Max: 200, Hint: "Par exemple : consultation de suivi du diabète"},
		{Name: "date", Label: "Date (facultatif)", Kind: "pdate", Hint: pdateHint},
		{Name: "professional", Label: "Professionnel (facultatif)", Kind: "text", Max: 200},
		commentFld,
	},
	profile.Diseases: {
		{Name: "name", Label: "Maladie ou sujet de santé", Kind: "text", Required: true, Max: 200},
		{Name: "start", Label: "Date de début (facultatif)", Kind: "pdate", Hint: pdateHint},
		{Name: "end", Label: "Date de fin (facultatif)", Kind: "pdate", Hint: pdateHint},
		commentFld,
	},
	profile.Hospitalizations: {
		{Name: "kind", Label: "Type", Kind: "select", Required: true, Options: []option{{"HOSPITALIZATION", "Hospitalisation"}, {"SURGERY", "Chirurgie"}}},
		{Name: "name", Label: "Motif ou opération", Kind: "text", Required: true, Max: 200},
		{Name: "establishment", Label: "Établissement (facultatif)", Kind: "text", Max: 200},
		{Name: "start", Label: "Date de début", Kind: "pdate", Required: true, Hint: pdateHint},
		{Name: "end", Label: "Date de fin (facultatif)", Kind: "pdate", Hint: pdateHint},
		commentFld,
	},
	profile.Treatments: {
		{Name: "name", Label: "Nom du médicament", Kind: "text", Required: true, Max: 200},
		{Name: "dosage", Label: "Posologie (facultatif)", Kind: "text", Max: 200, Hint: "Par exemple : 1 comprimé le matin"},
		{Name: "start", Label: "Date de début (facultatif)", Kind: "pdate", Hint: pdateHint},
		{Name: "end", Label: "Date de fin (facultatif)", Kind: "pdate", Hint: pdateHint},
		commentFld,
	},
	profile.Disabilities: {
		{Name: "name", Label: "Handicap", Kind: "text", Required: true, Max: 200},
		{Name: "types", Label: "Type de handicap", Kind: "checks", Options: []option{{"SENSORY", "Sensoriel"},
			{"NEURO_DEVELOPMENTAL_DISORDER", "Trouble du neurodéveloppement"}, {"PSYCHIC", "Psychique"}, {"ENGINE", "Moteur"},
			{"POLY_DISABILITY", "Polyhandicap"}, {"DISABLING_DISEASES", "Maladie invalidante"}, {"OTHERS", "Autre"}}},
		{Name: "disability_rate", Label: "Taux d'incapacité", Kind: "select", Options: []option{{"LESS_THAN_50", "Moins de 50 %"},
			{"BETWEEN_50_AND_79", "De 50 à 79 %"}, {"BIGGER_THAN_80_OR_EQUAL", "80 % ou plus"}, {"UNKNOWN", "Taux inconnu"}}},
		{Name: "technical_help", Label: "Aide technique (facultatif)", Kind: "text", Max: 500},
		{Name: "human_help", Label: "Aide humaine", Kind: "select", Options: []option{{"YES", "Oui"}, {"NO", "Non"}, {"NONE", "Non renseigné"}}},
		commentFld,
	},
	profile.Allergies: {
		{Name: "name", Label: "Allergie ou intolérance", Kind: "text", Required: true, Max: 200, Hint: "Par exemple : pénicilline, arachide, pollen"},
		commentFld,
	},
	profile.FamilyHistories: {
		{Name: "name", Label: "Maladie", Kind: "text", Required: true, Max: 200},
		{Name: "family_relationship", Label: "Lien de parenté", Kind: "select", Required: true, Options: relationFam},
		commentFld,
	},
	profile.HealthProfessionals: {
		{Name: "role", Label: "Rôle", Kind: "select", Options: []option{{"MEDECIN_TRAITANT", "Médecin traitant"},
			{"PHARMACIEN_CORRESPONDANT", "Pharmacien correspondant"}, {"SAGE_FEMME_REFERENTE", "Sage-femme référente"}}},
		{Name: "mailbox", Label: "Adresse de messagerie sécurisée (facultatif)", Kind: "email", Max: 254,
			Hint: "Si le professionnel est dans l'annuaire, son nom et sa profession sont repris."},
		{Name: "name", Label: "Nom du professionnel", Kind: "text", Max: 200, Hint: "Obligatoire sans adresse de messagerie sécurisée"},
		{Name: "profession", Label: "Profession (facultatif)", Kind: "text", Max: 300, Hint: "Par exemple : Médecin, Pharmacien, Sage-Femme"},
		{Name: "speciality", Label: "Spécialité (facultatif)", Kind: "text", Max: 300},
		{Name: "address", Label: "Adresse postale (facultatif)", Kind: "text", Max: 300},
		{Name: "phone", Label: "Téléphone (facultatif)", Kind: "tel", Max: 30},
	},
	profile.Contacts: {
		{Name: "first_name", Label: "Prénom", Kind: "text", Max: 100},
		{Name: "last_name", Label: "Nom", Kind: "text", Required: true, Max: 100},
		{Name: "contact_types", Label: "Rôle", Kind: "checks", Required: true, Options: []option{{"TRUSTED_CONTACT", "Personne de confiance"},
			{"EMERGENCY_CONTACT", "Personne à prévenir en cas d'urgence"}, {"CAREGIVER_CONTACT", "Aidant"}, {"HELP_CONTACT", "Personne aidée"}}},
		{Name: "relation", Label: "Lien", Kind: "select", Options: []option{{"MOTHER", "Mère"}, {"FATHER", "Père"}, {"CHILD", "Enfant"},
			{"SPOUSE", "Conjoint"}, {"TUTEUR", "Tuteur"}, {"OTHER", "Autre"}}},
		{Name: "mobile_number", Label: "Téléphone portable", Kind: "tel", Required: true, Max: 30, Hint: "Par exemple : 06 12 34 56 78"},
		{Name: "fixed_line_number", Label: "Téléphone fixe (facultatif)", Kind: "tel", Max: 30},
		{Name: "email_address", Label: "Adresse e-mail (facultatif)", Kind: "email", Max: 254},
		{Name: "street_address_line", Label: "Adresse (facultatif)", Kind: "text", Max: 300},
		{Name: "postal_code", Label: "Code postal", Kind: "text", Required: true, Max: 20},
		{Name: "city", Label: "Ville", Kind: "text", Required: true, Max: 100},
		{Name: "country", Label: "Pays (facultatif)", Kind: "text", Max: 100},
	},
}

// sectionSingular is the "Ajouter …" of each section.
var sectionAdd = map[profile.Section]string{
	profile.FollowUps:           "Ajouter un suivi",
	profile.Diseases:            "Ajouter une maladie ou un sujet de santé",
	profile.Hospitalizations:    "Ajouter une hospitalisation ou une chirurgie",
	profile.Treatments:          "Ajouter un traitement",
	profile.Disabilities:        "Ajouter un handicap",
	profile.Allergies:           "Ajouter une allergie",
	profile.FamilyHistories:     "Ajouter un antécédent familial",
	profile.HealthProfessionals: "Ajouter un professionnel de santé",
	profile.Contacts:            "Ajouter une personne de l'entourage",
}

// frPartial writes a partial date as it is typed: "2019", "05/2019",
// "12/05/2019".
func frPartial(s string) string {
	switch len(s) {
	case 7:
		return s[5:7] + "/" + s[:4]
	case 10:
		return s[8:10] + "/" + s[5:7] + "/" + s[:4]
	}
	return s
}

var (
	reDMY = regexp.MustCompile(`^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$`)
	reMY  = regexp.MustCompile(`^(\d{1,2})[/.-](\d{4})$`)
)

// isoPartial reads a typed partial date into dmp/profile's form; what it
// does not understand goes as typed, for the store to refuse.
func isoPartial(s string) string {
	s = strings.TrimSpace(s)
	if m := reDMY.FindStringSubmatch(s); m != nil {
		return m[3] + "-" + pad2(m[2]) + "-" + pad2(m[1])
	}
	if m := reMY.FindStringSubmatch(s); m != nil {
		return m[2] + "-" + pad2(m[1])
	}
	return s
}

func pad2(s string) string {
	if len(s) == 1 {
		return "0" + s
	}
	return s
}

// fieldOfError names the field a refusal of dmp/profile is about, read from
// its English half ("name: required", "the end is before the start").
func fieldOfError(err error, names []string) string {
	_, en, ok := strings.Cut(err.Error(), " / ")
	if !ok {
		return ""
	}
	en = strings.ToLower(en)
	head := en
	if i := strings.IndexAny(head, ": "); i > 0 {
		head = head[:i]
	}
	for _, n := range names {
		if head == n {
			return n
		}
	}
	keywords := []struct{ in, field string }{
		{"end is before", "end"}, {"comment", "comment"}, {"contact type", "contact_types"}, {"secure mailbox", "mailbox"},
		{"e-mail", "email_address"}, {"postal code", "postal_code"}, {"requires the matching profession", "profession"},
		{"phone", "mobile_number"}, {"type", "types"},
		{"model", "model"}, {"step 1", "step1"}, {"step 2", "values"}, {"consent", "consent"}, {"at least one wish", "other_wishes"},
		{"treatment", "treatments"}, {"signed_on", "signed_on"}, {"witness", "witnesses"}, {"trusted person", "witnesses"},
	}
	for _, k := range keywords {
		if strings.Contains(en, k.in) {
			for _, n := range names {
				if n == k.field {
					return n
				}
			}
		}
	}
	return ""
}

type entryFormData struct {
	page
	Whose   string
	Section profile.Section
	Heading string
	Action  string
	EntryID int64
	Fields  []formField
}

func (p *pages) entrySection(w http.ResponseWriter, r *http.Request, s *websession) (profile.Section, int64, bool) {
	sec := profile.Section(r.PathValue("section"))
	if !sec.Valid() {
		p.notFound(w, r, s)
		return "", 0, false
	}
	var id int64
	if v := r.PathValue("id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			p.notFound(w, r, s)
			return "", 0, false
		}
		id = n
	}
	return sec, id, true
}

// fieldsOf copies the section's fields, filled with values (the JSON of an
// entry, or the form posted).
func fieldsOf(sec profile.Section, values map[string]any) []formField {
	var out []formField
	for _, f := range sectionForms[sec] {
		f.Values = map[string]bool{}
		switch v := values[f.Name].(type) {
		case string:
			f.Value = v
			if f.Kind == "pdate" {
				f.Value = frPartial(v)
			}
			f.Values[v] = true
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					f.Values[s] = true
				}
			}
		case []string:
			for _, s := range v {
				f.Values[s] = true
			}
		}
		out = append(out, f)
	}
	return out
}

func (p *pages) entryForm(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	sec, id, ok := p.entrySection(w, r, s)
	if !ok {
		return
	}
	values := map[string]any{}
	if id != 0 {
		es, err := p.o.Profile.Entries(r.Context(), s.Account, person.ID, sec)
		if err != nil {
			p.careFail(w, r, s, err)
			return
		}
		found := false
		for _, e := range es {
			if e.ID == id {
				raw, _ := json.Marshal(e.Data)
				json.Unmarshal(raw, &values)
				found = true
			}
		}
		if !found {
			p.notFound(w, r, s)
			return
		}
	}
	p.renderEntryForm(w, r, pg, http.StatusOK, sec, id, fieldsOf(sec, values))
}

func (p *pages) renderEntryForm(w http.ResponseWriter, r *http.Request, pg page, status int, sec profile.Section, id int64, fields []formField) {
	d := entryFormData{page: titled(pg, sec.Title(), "profil"), Whose: whose(pg), Section: sec, Fields: fields, EntryID: id,
		Heading: sectionAdd[sec], Action: "/profil/rubrique/" + string(sec)}
	if id != 0 {
		d.Heading = "Modifier : " + sec.Title()
		d.Action += "/" + strconv.FormatInt(id, 10)
	}
	d.Title = d.Heading
	p.render(w, r, status, "profile_entry", d)
}

// entrySave adds (no id) or replaces (id) an entry from the posted form.
func (p *pages) entrySave(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	sec, id, ok := p.entrySection(w, r, s)
	if !ok {
		return
	}
	values := map[string]any{}
	var names []string
	for _, f := range sectionForms[sec] {
		names = append(names, f.Name)
		switch f.Kind {
		case "checks":
			list := []string{}
			for _, v := range r.PostForm[f.Name] {
				if v = strings.TrimSpace(v); v != "" {
					list = append(list, v)
				}
			}
			values[f.Name] = list
		case "pdate":
			values[f.Name] = isoPartial(r.PostFormValue(f.Name))
		default:
			values[f.Name] = r.PostFormValue(f.Name)
		}
	}
	raw, _ := json.Marshal(values)
	payload, err := profile.DecodeEntry(sec, raw)
	if err == nil {
		if id == 0 {
			_, err = p.o.Profile.AddEntry(r.Context(), s.Account, person.ID, payload)
		} else {
			_, err = p.o.Profile.UpdateEntry(r.Context(), s.Account, person.ID, id, payload)
		}
	}
	if errors.Is(err, dmp.ErrInvalid) {
		fields := fieldsOf(sec, values)
		msg := docMessage(err)
		if n := fieldOfError(err, names); n != "" {
			for i := range fields {
				if fields[i].Name == n {
					fields[i].Error = msg
				}
			}
		}
		pg.Error = msg
		p.renderEntryForm(w, r, pg, http.StatusBadRequest, sec, id, fields)
		return
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	ok2 := "ajoute"
	if id != 0 {
		ok2 = "modifie"
	}
	http.Redirect(w, r, "/profil?ok="+ok2+"#s-"+string(sec), http.StatusSeeOther)
}

// confirmPageData is the generic "are you sure" page of a deletion.
type confirmPageData struct {
	page
	Question string
	Detail   string
	Action   string
	Button   string
	Cancel   string
	Hidden   []option // extra hidden fields (name, value)
}

func (p *pages) confirm(w http.ResponseWriter, r *http.Request, pg page, d confirmPageData) {
	d.page = pg
	d.Title = d.Question
	p.render(w, r, http.StatusOK, "confirm", d)
}

func (p *pages) entryDelete(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	sec, id, ok := p.entrySection(w, r, s)
	if !ok {
		return
	}
	if r.PostFormValue("confirme") != "oui" {
		es, err := p.o.Profile.Entries(r.Context(), s.Account, person.ID, sec)
		if err != nil {
			p.careFail(w, r, s, err)
			return
		}
		for _, e := range es {
			if e.ID == id {
				p.confirm(w, r, pg, confirmPageData{Question: "Supprimer cet élément ?", Detail: sec.Title() + " : " + profileEntryOf(e).Title,
					Action: "/profil/rubrique/" + string(sec) + "/" + strconv.FormatInt(id, 10) + "/supprimer", Button: "Supprimer définitivement",
					Cancel: "/profil#s-" + string(sec)})
				return
			}
		}
		p.notFound(w, r, s)
		return
	}
	if err := p.o.Profile.DeleteEntry(r.Context(), s.Account, person.ID, sec, id); err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/profil?ok=supprime#s-"+string(sec), http.StatusSeeOther)
}

// --- Caractéristiques de santé, don d'organes

var bloodGroupOptions = []string{"A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"}

func (p *pages) profileCharacteristics(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	_, err := p.o.Profile.SetCharacteristics(r.Context(), s.Account, person.ID, profile.Characteristics{
		BloodGroup: r.PostFormValue("groupe"), Comment: r.PostFormValue("commentaire")})
	if msg := careMessage(err); msg != "" {
		p.renderProfile(w, r, s, person, pg, http.StatusBadRequest, msg)
		return
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/profil?ok=caracteristique#caracteristiques", http.StatusSeeOther)
}

func (p *pages) profileDonation(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	_, err := p.o.Profile.SetOrganDonation(r.Context(), s.Account, person.ID, profile.OrganDonation{
		Informed: r.PostFormValue("informe") == "oui", Position: r.PostFormValue("position"), Comment: r.PostFormValue("commentaire")})
	if msg := careMessage(err); msg != "" {
		p.renderProfile(w, r, s, person, pg, http.StatusBadRequest, msg)
		return
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/profil?ok=don#don", http.StatusSeeOther)
}

// adultNow tells whether person is of age today; known tells whether the
// birth date is.
func (p *pages) adultNow(person *directory.Account) (adult, known bool) {
	if person.Patient == nil || person.Patient.BirthDate.IsZero() {
		return false, false
	}
	return !person.Patient.BirthDate.AddDate(18, 0, 0).After(p.o.Care.Today()), true
}

// --- Directives anticipées

var directiveTreatments = []option{
	{"REANIMATION", "Réanimation cardiaque et respiratoire (massage cardiaque, tube pour respirer)"},
	{"VENTILATION", "Respiration artificielle par une machine"},
	{"DIALYSE", "Dialyse rénale"},
	{"CHIRURGIE", "Intervention chirurgicale"},
	{"NUTRITION_HYDRATATION", "Nutrition et hydratation artificielles"},
	{"SEDATION", "Sédation profonde et continue jusqu'au décès"},
}

var treatmentAnswers = []option{{"ACCEPT", "J'accepte"}, {"REFUSE", "Je refuse"}, {"UNDECIDED", "Je ne sais pas, je m'en remets à l'équipe médicale"}}

type treatmentView struct {
	Code, Label, Answer string
}

type directivesData struct {
	page
	Whose    string
	Adult    bool
	Self     bool
	Why      string // why the directives cannot be written here
	Current  *profile.Directives
	Form     profile.DirectivesForm // shown in the forms (stored, or posted)
	Step     int                    // the step of the form posted, when refused
	Errors   map[string]string      // field -> French sentence
	Docs     []documentItem         // documents that may be attached
	Treats   []treatmentView
	Answers  []option
	Witness  [2]profile.Witness
	Today    string
	SignedOn string
}

func (p *pages) directivesPage(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	p.renderDirectives(w, r, s, person, pg, http.StatusOK, nil, 0, nil)
}

func (p *pages) renderDirectives(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page, status int,
	posted *profile.DirectivesForm, step int, errs map[string]string) {
	ctx := r.Context()
	d := directivesData{page: titled(pg, "Directives anticipées", "profil"), Whose: whose(pg), Self: person.ID == s.Account.ID,
		Step: step, Errors: errs, Answers: treatmentAnswers, Today: p.o.Care.Today().Format(time.DateOnly)}
	if errs == nil {
		d.Notice = profileNotices[r.URL.Query().Get("ok")]
	}
	adult, known := p.adultNow(person)
	d.Adult = adult
	switch {
	case !known:
		d.Why = "Les directives anticipées sont réservées aux personnes majeures : la date de naissance n'est pas connue."
	case !adult:
		d.Why = "Les directives anticipées sont réservées aux personnes majeures : une personne mineure ne peut pas en rédiger, et ses représentants légaux non plus."
	case !d.Self:
		d.Why = "Seule la personne elle-même rédige ses directives anticipées."
	}
	if d.Why != "" {
		p.render(w, r, status, "directives", d)
		return
	}
	cur, err := p.o.Profile.Directives(ctx, s.Account, person.ID)
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	d.Current = cur
	if posted != nil {
		d.Form = *posted
	} else if cur != nil && cur.Mode == profile.DirectivesOnline {
		d.Form = profile.DirectivesForm{Model: cur.Model, Step1: cur.Step1, Step2: cur.Step2, Step3: cur.Step3}
	}
	var answers map[string]string
	if d.Form.Step3 != nil {
		answers = d.Form.Step3.Treatments
		for i := 0; i < len(d.Form.Step3.Witnesses) && i < 2; i++ {
			d.Witness[i] = d.Form.Step3.Witnesses[i]
		}
		d.SignedOn = string(d.Form.Step3.SignedOn)
	}
	if d.SignedOn == "" {
		d.SignedOn = d.Today
	}
	for _, t := range directiveTreatments {
		d.Treats = append(d.Treats, treatmentView{Code: t.Code, Label: t.Label, Answer: answers[t.Code]})
	}
	ds, err := p.o.Docs.List(ctx, s.Account, person.ID, dmp.Query{})
	if err != nil {
		p.docFail(w, r, s, err)
		return
	}
	var ok []dmp.Document
	for _, doc := range ds {
		switch doc.MimeType {
		case "application/pdf", "application/rtf", "text/rtf", "image/tiff", "image/jpeg":
			ok = append(ok, doc)
		}
	}
	d.Docs = documentItems(ok, nil)
	p.render(w, r, status, "directives", d)
}

func (p *pages) directivesAttach(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	id, err := strconv.ParseInt(r.PostFormValue("document"), 10, 64)
	if err != nil || id <= 0 {
		p.renderDirectives(w, r, s, person, pg, http.StatusBadRequest, nil, 0, map[string]string{"document": "Choisissez le document à joindre."})
		return
	}
	_, err = p.o.Profile.AttachDirectives(r.Context(), s.Account, person.ID, id)
	if errors.Is(err, dmp.ErrInvalid) {
		p.renderDirectives(w, r, s, person, pg, http.StatusBadRequest, nil, 0, map[string]string{"document": docMessage(err)})
		return
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/profil/directives?ok=directives", http.StatusSeeOther)
}

// directivesStep saves one step of the online form: the steps already
// stored are kept, the step posted replaces its own.
func (p *pages) directivesStep(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	ctx := r.Context()
	step, _ := strconv.Atoi(r.PostFormValue("etape"))
	if step < 1 || step > 3 {
		p.notFound(w, r, s)
		return
	}
	var f profile.DirectivesForm
	cur, err := p.o.Profile.Directives(ctx, s.Account, person.ID)
	if err != nil && !errors.Is(err, dmp.ErrInvalid) {
		p.careFail(w, r, s, err)
		return
	}
	if cur != nil && cur.Mode == profile.DirectivesOnline {
		f = profile.DirectivesForm{Model: cur.Model, Step1: cur.Step1, Step2: cur.Step2, Step3: cur.Step3}
	}
	v := func(n string) string { return strings.TrimSpace(r.PostFormValue(n)) }
	switch step {
	case 1:
		f.Model = v("modele")
		f.Step1 = &profile.DirectivesStep1{WishToWrite: v("souhait") == "oui", KeepInSpace: v("conserver") == "oui", CopiesHeldBy: v("exemplaires")}
	case 2:
		f.Step2 = &profile.DirectivesStep2{Situation: v("situation"), Values: v("valeurs"), Wishes: v("souhaits")}
	case 3:
		st := &profile.DirectivesStep3{Treatments: map[string]string{}, OtherWishes: v("autres"), Consent: v("consentement") == "oui",
			Place: v("lieu"), SignedOn: profile.PartialDate(isoPartial(v("date"))), CannotWrite: v("ne_peut_ecrire") == "oui"}
		for _, t := range directiveTreatments {
			if a := v("t_" + t.Code); a != "" {
				st.Treatments[t.Code] = a
			}
		}
		if st.CannotWrite {
			for i := 1; i <= 2; i++ {
				n := strconv.Itoa(i)
				wt := profile.Witness{FirstName: v("temoin" + n + "_prenom"), LastName: v("temoin" + n + "_nom"), Quality: v("temoin" + n + "_qualite"),
					TrustedPerson: v("temoin"+n+"_confiance") == "oui"}
				if wt.FirstName != "" || wt.LastName != "" || wt.Quality != "" || wt.TrustedPerson {
					st.Witnesses = append(st.Witnesses, wt)
				}
			}
		}
		f.Step3 = st
	}
	if f.Model == "" && step > 1 {
		f.Model = v("modele")
	}
	posted := f
	_, err = p.o.Profile.WriteDirectives(ctx, s.Account, person.ID, f)
	if errors.Is(err, dmp.ErrInvalid) {
		names := []string{"model", "step1", "values", "treatments", "other_wishes", "consent", "place", "signed_on", "witnesses"}
		field := fieldOfError(err, names)
		if field == "" {
			field = "step" + strconv.Itoa(step)
		}
		p.renderDirectives(w, r, s, person, pg, http.StatusBadRequest, &posted, step, map[string]string{field: docMessage(err)})
		return
	}
	if err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/profil/directives?ok=directives#etape-"+strconv.Itoa(min(step+1, 3)), http.StatusSeeOther)
}

func (p *pages) directivesDelete(w http.ResponseWriter, r *http.Request, s *websession, person *directory.Account, pg page) {
	if r.PostFormValue("confirme") != "oui" {
		p.confirm(w, r, pg, confirmPageData{Question: "Supprimer vos directives anticipées ?",
			Detail: "Un document joint reste dans vos documents ; le formulaire rédigé en ligne est effacé.",
			Action: "/profil/directives/supprimer", Button: "Supprimer mes directives", Cancel: "/profil/directives"})
		return
	}
	if err := p.o.Profile.DeleteDirectives(r.Context(), s.Account, person.ID); err != nil {
		p.careFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/profil/directives?ok=directives-supp", http.StatusSeeOther)
}

// profileEntryOf shows an entry of any section: its name (a contact's full
// name), then its other fields in the form's order, codes by their labels
// and dates as French readers write them.
func profileEntryOf(e profile.Entry) profileEntryPage {
	m := map[string]any{}
	if raw, err := json.Marshal(e.Data); err == nil {
		json.Unmarshal(raw, &m)
	}
	v := profileEntryPage{ID: e.ID}
	if c, ok := e.Data.(*profile.Contact); ok {
		v.Title = c.FullName()
		delete(m, "first_name")
		delete(m, "last_name")
	}
	label := func(f formField, code string) string {
		for _, o := range f.Options {
			if o.Code == code {
				return o.Label
			}
		}
		return code
	}
	fields := sectionForms[e.Data.Section()]
	for _, k := range []string{"name", "title"} {
		if s, ok := m[k].(string); ok && s != "" && v.Title == "" {
			v.Title = s
			delete(m, k)
		}
	}
	for _, f := range fields {
		switch x := m[f.Name].(type) {
		case string:
			switch {
			case x == "":
			case f.Kind == "pdate":
				v.Meta = append(v.Meta, f.Label2()+profile.PartialDate(x).French())
			case f.Kind == "select":
				v.Meta = append(v.Meta, label(f, x))
			default:
				v.Meta = append(v.Meta, x)
			}
		case []any:
			var ls []string
			for _, y := range x {
				if s, ok := y.(string); ok {
					ls = append(ls, label(f, s))
				}
			}
			if len(ls) > 0 {
				v.Meta = append(v.Meta, strings.Join(ls, ", "))
			}
		}
	}
	if v.Title == "" {
		v.Title = e.Data.Section().Title()
	}
	return v
}

// Label2 is the short prefix of a date in a list: "depuis", "jusqu'au"…
func (f formField) Label2() string {
	switch f.Name {
	case "start":
		return "début : "
	case "end":
		return "fin : "
	}
	return ""
}
