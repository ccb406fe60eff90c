package profile

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"mssanted/dmp/classify"
)

// Section names a list section of the profile, by the identifier the API
// uses in its paths. The French titles are the labels users know
// (domain.md, "Medical profile").
type Section string

const (
	FollowUps           Section = "follow-ups"           // Suivi médical
	Diseases            Section = "diseases"             // Maladies et sujets de santé
	Hospitalizations    Section = "hospitalizations"     // Hospitalisations et chirurgies
	Treatments          Section = "treatments"           // Traitements
	Disabilities        Section = "disabilities"         // Handicaps
	Allergies           Section = "allergies"            // Allergies
	FamilyHistories     Section = "family-histories"     // Antécédents familiaux
	HealthProfessionals Section = "health-professionals" // Professionnels de santé
	Contacts            Section = "contacts"             // Entourage et volontés: the persons
)

// Sections are the list sections, in the order of the profile. Grossesse
// (Suivi médical > "Ajouter une grossesse") is the pregnancy pathway of
// dmp/care, not a list here; Caractéristiques de santé, Mesures, organ
// donation and Directives anticipées have their own methods.
var Sections = []Section{FollowUps, Diseases, Hospitalizations, Treatments, Disabilities, Allergies, FamilyHistories, HealthProfessionals, Contacts}

var sectionTitles = map[Section]string{
	FollowUps:           "Suivi médical",
	Diseases:            "Maladies et sujets de santé",
	Hospitalizations:    "Hospitalisations et chirurgies",
	Treatments:          "Traitements",
	Disabilities:        "Handicaps",
	Allergies:           "Allergies",
	FamilyHistories:     "Antécédents familiaux",
	HealthProfessionals: "Professionnels de santé",
	Contacts:            "Entourage et volontés",
}

// Title is the French title of the section.
func (s Section) Title() string { return sectionTitles[s] }

// Valid tells whether s is a list section.
func (s Section) Valid() bool { _, ok := sectionTitles[s]; return ok }

// Payload is the content of one entry of a list section. Each section has
// its type; check normalises (trims) and validates it.
type Payload interface {
	Section() Section
	check(c *checker) error
	// line is the entry as one line of the synthèse.
	line() string
}

func newPayload(s Section) Payload {
	switch s {
	case FollowUps:
		return &FollowUp{}
	case Diseases:
		return &Disease{}
	case Hospitalizations:
		return &Hospitalization{}
	case Treatments:
		return &Treatment{}
	case Disabilities:
		return &Disability{}
	case Allergies:
		return &Allergy{}
	case FamilyHistories:
		return &FamilyHistory{}
	case HealthProfessionals:
		return &HealthProfessional{}
	case Contacts:
		return &Contact{}
	}
	return nil
}

// FollowUp is a note of the medical follow-up ("Suivi médical"): a
// consultation, an exam, what was said.
type FollowUp struct {
	Title        string      `json:"title"`
	Date         PartialDate `json:"date,omitempty"`
	Professional string      `json:"professional,omitempty"`
	Comment      string      `json:"comment,omitempty"`
}

// Disease is a disease or health subject ("Maladies et sujets de santé").
type Disease struct {
	Name    string      `json:"name"`
	Start   PartialDate `json:"start,omitempty"`
	End     PartialDate `json:"end,omitempty"`
	Comment string      `json:"comment,omitempty"`
}

// Hospitalization is a stay in hospital or a surgery.
type Hospitalization struct {
	Kind          string      `json:"kind"` // HOSPITALIZATION or SURGERY
	Name          string      `json:"name"` // the reason, the operation
	Establishment string      `json:"establishment,omitempty"`
	Start         PartialDate `json:"start"`
	End           PartialDate `json:"end,omitempty"`
	Comment       string      `json:"comment,omitempty"`
}

// Treatment is a drug taken.
type Treatment struct {
	Name    string      `json:"name"` // the drug
	Dosage  string      `json:"dosage,omitempty"`
	Start   PartialDate `json:"start,omitempty"`
	End     PartialDate `json:"end,omitempty"`
	Comment string      `json:"comment,omitempty"`
}

// Disability is a handicap (mes-model.md: types, rate, help).
type Disability struct {
	Name           string   `json:"name"`
	Types          []string `json:"types,omitempty"`
	DisabilityRate string   `json:"disability_rate,omitempty"`
	TechnicalHelp  string   `json:"technical_help,omitempty"`
	HumanHelp      string   `json:"human_help,omitempty"`
	Comment        string   `json:"comment,omitempty"`
}

// Allergy is an allergy or intolerance.
type Allergy struct {
	Name    string `json:"name"`
	Comment string `json:"comment,omitempty"`
}

// FamilyHistory is a disease of a relative ("Antécédents familiaux").
type FamilyHistory struct {
	Name               string `json:"name"`
	FamilyRelationship string `json:"family_relationship"`
	Comment            string `json:"comment,omitempty"`
}

// Roles of a health professional for the person (one holder per role).
const (
	RoleMedecinTraitant         = "MEDECIN_TRAITANT"
	RolePharmacienCorrespondant = "PHARMACIEN_CORRESPONDANT"
	RoleSageFemmeReferente      = "SAGE_FEMME_REFERENTE"
)

var roleLabels = map[string]string{
	RoleMedecinTraitant:         "Médecin traitant",
	RolePharmacienCorrespondant: "Pharmacien correspondant",
	RoleSageFemmeReferente:      "Sage-femme référente",
}

// roleProfession is the profession (G15 code) a role requires.
var roleProfession = map[string]string{
	RoleMedecinTraitant:         classify.ProfMedecin,
	RolePharmacienCorrespondant: classify.ProfPharmacien,
	RoleSageFemmeReferente:      classify.ProfSageFemme,
}

// HealthProfessional is a member of the care circle, with a role or none.
// Either a secure mailbox of the directory (name and profession then come
// from it when not given) or a name typed freely.
type HealthProfessional struct {
	Role       string `json:"role,omitempty"`
	Name       string `json:"name"`
	Profession string `json:"profession,omitempty"`
	Speciality string `json:"speciality,omitempty"`
	Mailbox    string `json:"mailbox,omitempty"` // a secure address of the directory
	Address    string `json:"address,omitempty"` // postal address, free text
	Phone      string `json:"phone,omitempty"`
}

// Contact types of the entourage (mes-model.md, "Entourage et volontés").
const (
	EmergencyContact = "EMERGENCY_CONTACT" // personne à prévenir
	TrustedContact   = "TRUSTED_CONTACT"   // personne de confiance (one only)
	CaregiverContact = "CAREGIVER_CONTACT" // aidant
	HelpContact      = "HELP_CONTACT"      // personne aidée
)

var contactTypeLabels = map[string]string{
	EmergencyContact: "personne à prévenir",
	TrustedContact:   "personne de confiance",
	CaregiverContact: "aidant",
	HelpContact:      "personne aidée",
}

// Contact is a person of the entourage, in one or several roles.
type Contact struct {
	FirstName         string   `json:"first_name"`
	LastName          string   `json:"last_name"`
	ContactTypes      []string `json:"contact_types"`
	Relation          string   `json:"relation,omitempty"`
	MobileNumber      string   `json:"mobile_number"`
	FixedLineNumber   string   `json:"fixed_line_number,omitempty"`
	EmailAddress      string   `json:"email_address,omitempty"`
	StreetAddressLine string   `json:"street_address_line,omitempty"`
	PostalCode        string   `json:"postal_code"`
	City              string   `json:"city"`
	Country           string   `json:"country,omitempty"`
}

// FullName is "First LAST".
func (c *Contact) FullName() string {
	return strings.TrimSpace(c.FirstName + " " + strings.ToUpper(c.LastName))
}

// IsTrusted tells whether the contact is the trusted person.
func (c *Contact) IsTrusted() bool { return slices.Contains(c.ContactTypes, TrustedContact) }

func (*FollowUp) Section() Section           { return FollowUps }
func (*Disease) Section() Section            { return Diseases }
func (*Hospitalization) Section() Section    { return Hospitalizations }
func (*Treatment) Section() Section          { return Treatments }
func (*Disability) Section() Section         { return Disabilities }
func (*Allergy) Section() Section            { return Allergies }
func (*FamilyHistory) Section() Section      { return FamilyHistories }
func (*HealthProfessional) Section() Section { return HealthProfessionals }
func (*Contact) Section() Section            { return Contacts }

// checker validates payloads for one person at one moment.
type checker struct {
	now   time.Time
	birth time.Time // zero when unknown
	// card looks up a secure mailbox in the directory: its name and
	// profession, ok false when the directory does not know it.
	card func(address string) (name, profession string, ok bool, err error)
}

// text checks a one-line text field: required or not, at most max runes.
func text(v *string, fr, en string, required bool, max int) error {
	*v = strings.TrimSpace(*v)
	if *v == "" {
		if required {
			return invalid(fr+" : champ obligatoire", en+": required")
		}
		return nil
	}
	if utf8.RuneCountInString(*v) > max || strings.ContainsAny(*v, "\r\n\t") {
		return invalid(fmt.Sprintf("%s : %d caractères au plus, sur une ligne", fr, max), fmt.Sprintf("%s: at most %d characters on one line", en, max))
	}
	return nil
}

// comment checks a free text of several lines.
func comment(v *string, max int) error {
	*v = strings.TrimSpace(strings.ReplaceAll(*v, "\r\n", "\n"))
	if utf8.RuneCountInString(*v) > max {
		return invalid(fmt.Sprintf("Le commentaire fait %d caractères au plus", max), fmt.Sprintf("the comment is at most %d characters", max))
	}
	return nil
}

func oneOf(v *string, fr, en string, required bool, allowed map[string]string) error {
	*v = strings.ToUpper(strings.TrimSpace(*v))
	if *v == "" && !required {
		return nil
	}
	if _, ok := allowed[*v]; !ok {
		return invalid(fr+" : valeur inconnue ("+keys(allowed)+")", en+": unknown value")
	}
	return nil
}

func keys(m map[string]string) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// period checks a start and an end date: valid, not in the future, not
// before birth, the end not before the start.
func (c *checker) period(start, end *PartialDate, startRequired bool) error {
	if err := c.date(start, "Date de début", "start", startRequired); err != nil {
		return err
	}
	if end == nil {
		return nil
	}
	if err := c.date(end, "Date de fin", "end", false); err != nil {
		return err
	}
	if *start != "" && *end != "" && end.last().Before(start.first()) {
		return invalid("La date de fin précède la date de début", "the end is before the start")
	}
	return nil
}

func (c *checker) date(d *PartialDate, fr, en string, required bool) error {
	*d = PartialDate(strings.TrimSpace(string(*d)))
	if *d == "" {
		if required {
			return invalid(fr+" : champ obligatoire", en+": required")
		}
		return nil
	}
	if !d.Valid() {
		return invalid(fr+" invalide : AAAA, AAAA-MM ou AAAA-MM-JJ", en+": YYYY, YYYY-MM or YYYY-MM-DD")
	}
	if d.first().After(c.now) {
		return invalid(fr+" dans le futur", en+" in the future")
	}
	if !c.birth.IsZero() && d.last().Before(c.birth) {
		return invalid(fr+" avant la date de naissance", en+" before the birth date")
	}
	return nil
}

func (p *FollowUp) check(c *checker) error {
	if err := text(&p.Title, "Objet du suivi", "title", true, 200); err != nil {
		return err
	}
	if err := text(&p.Professional, "Professionnel", "professional", false, 200); err != nil {
		return err
	}
	if err := c.date(&p.Date, "Date", "date", false); err != nil {
		return err
	}
	return comment(&p.Comment, 2000)
}

func (p *Disease) check(c *checker) error {
	if err := text(&p.Name, "Nom de la maladie", "name", true, 200); err != nil {
		return err
	}
	if err := c.period(&p.Start, &p.End, false); err != nil {
		return err
	}
	return comment(&p.Comment, 2000)
}

var hospitalizationKinds = map[string]string{"HOSPITALIZATION": "Hospitalisation", "SURGERY": "Chirurgie"}

func (p *Hospitalization) check(c *checker) error {
	if strings.TrimSpace(p.Kind) == "" {
		p.Kind = "HOSPITALIZATION"
	}
	if err := oneOf(&p.Kind, "Type", "kind", true, hospitalizationKinds); err != nil {
		return err
	}
	if err := text(&p.Name, "Motif", "name", true, 200); err != nil {
		return err
	}
	if err := text(&p.Establishment, "Établissement", "establishment", false, 200); err != nil {
		return err
	}
	if err := c.period(&p.Start, &p.End, true); err != nil {
		return err
	}
	return comment(&p.Comment, 2000)
}

func (p *Treatment) check(c *checker) error {
	if err := text(&p.Name, "Nom du médicament", "name", true, 200); err != nil {
		return err
	}
	if err := text(&p.Dosage, "Posologie", "dosage", false, 200); err != nil {
		return err
	}
	if err := c.period(&p.Start, &p.End, false); err != nil {
		return err
	}
	return comment(&p.Comment, 2000)
}

var disabilityTypes = map[string]string{
	"SENSORY": "sensoriel", "NEURO_DEVELOPMENTAL_DISORDER": "trouble du neurodéveloppement", "PSYCHIC": "psychique",
	"ENGINE": "moteur", "POLY_DISABILITY": "polyhandicap", "DISABLING_DISEASES": "maladie invalidante", "OTHERS": "autre",
}
var disabilityRates = map[string]string{
	"LESS_THAN_50": "moins de 50 %", "BETWEEN_50_AND_79": "de 50 à 79 %", "BIGGER_THAN_80_OR_EQUAL": "80 % ou plus", "UNKNOWN": "taux inconnu",
}
var humanHelps = map[string]string{"YES": "oui", "NO": "non", "NONE": "non renseigné"}

func (p *Disability) check(c *checker) error {
	if err := text(&p.Name, "Nom du handicap", "name", true, 200); err != nil {
		return err
	}
	seen := map[string]bool{}
	var types []string
	for _, t := range p.Types {
		if err := oneOf(&t, "Type de handicap", "type", true, disabilityTypes); err != nil {
			return err
		}
		if !seen[t] {
			seen[t] = true
			types = append(types, t)
		}
	}
	p.Types = types
	if err := oneOf(&p.DisabilityRate, "Taux d'incapacité", "disability_rate", false, disabilityRates); err != nil {
		return err
	}
	if err := oneOf(&p.HumanHelp, "Aide humaine", "human_help", false, humanHelps); err != nil {
		return err
	}
	if err := text(&p.TechnicalHelp, "Aide technique", "technical_help", false, 500); err != nil {
		return err
	}
	return comment(&p.Comment, 2000)
}

func (p *Allergy) check(c *checker) error {
	if err := text(&p.Name, "Nom de l'allergie", "name", true, 200); err != nil {
		return err
	}
	return comment(&p.Comment, 2000)
}

var relationships = map[string]string{
	"MOTHER": "mère", "FATHER": "père", "GRANDMOTHER": "grand-mère", "GRANDFATHER": "grand-père", "SISTER": "sœur", "BROTHER": "frère",
	"GREAT_GRANDMOTHER": "arrière-grand-mère", "GREAT_GRANDFATHER": "arrière-grand-père", "AUNT": "tante", "UNCLE": "oncle", "OTHER": "autre",
}

func (p *FamilyHistory) check(c *checker) error {
	if err := text(&p.Name, "Nom de la maladie", "name", true, 200); err != nil {
		return err
	}
	if err := oneOf(&p.FamilyRelationship, "Lien de parenté", "family_relationship", true, relationships); err != nil {
		return err
	}
	return comment(&p.Comment, 2000)
}

func (p *HealthProfessional) check(c *checker) error {
	if err := oneOf(&p.Role, "Rôle", "role", false, roleLabels); err != nil {
		return err
	}
	p.Mailbox = strings.ToLower(strings.TrimSpace(p.Mailbox))
	if p.Mailbox != "" {
		if _, err := mail.ParseAddress(p.Mailbox); err != nil || !strings.Contains(p.Mailbox, "@") {
			return invalid("Adresse de messagerie sécurisée invalide", "invalid secure mailbox address")
		}
		name, profession, ok, err := c.card(p.Mailbox)
		if err != nil {
			return err
		}
		if !ok {
			return invalid("Cette adresse de messagerie sécurisée n'est pas dans l'annuaire", "this secure mailbox is not in the directory")
		}
		if strings.TrimSpace(p.Name) == "" {
			p.Name = name
		}
		if strings.TrimSpace(p.Profession) == "" {
			p.Profession = profession
		}
	}
	if err := text(&p.Name, "Nom du professionnel", "name", true, 200); err != nil {
		return err
	}
	for _, f := range []struct {
		v      *string
		fr, en string
	}{{&p.Profession, "Profession", "profession"}, {&p.Speciality, "Spécialité", "speciality"}, {&p.Address, "Adresse", "address"}} {
		if err := text(f.v, f.fr, f.en, false, 300); err != nil {
			return err
		}
	}
	if err := phone(&p.Phone, false); err != nil {
		return err
	}
	if want, ok := roleProfession[p.Role]; ok {
		code, _ := classify.ProfessionCode(p.Profession)
		if code != want {
			return invalid(fmt.Sprintf("Le rôle « %s » demande un professionnel de cette profession : indiquez sa profession", roleLabels[p.Role]),
				fmt.Sprintf("the role %s requires the matching profession", p.Role))
		}
	}
	return nil
}

var contactRelations = map[string]string{"MOTHER": "mère", "FATHER": "père", "CHILD": "enfant", "SPOUSE": "conjoint", "TUTEUR": "tuteur", "OTHER": "autre"}

func (p *Contact) check(c *checker) error {
	if err := text(&p.FirstName, "Prénom", "first_name", false, 100); err != nil {
		return err
	}
	if err := text(&p.LastName, "Nom", "last_name", true, 100); err != nil {
		return err
	}
	if len(p.ContactTypes) == 0 {
		return invalid("Choisissez au moins un rôle : personne de confiance, personne à prévenir, aidant ou personne aidée",
			"choose at least one contact type")
	}
	seen := map[string]bool{}
	var types []string
	for _, t := range p.ContactTypes {
		if err := oneOf(&t, "Rôle", "contact_type", true, contactTypeLabels); err != nil {
			return err
		}
		if !seen[t] {
			seen[t] = true
			types = append(types, t)
		}
	}
	p.ContactTypes = types
	if err := oneOf(&p.Relation, "Lien", "relation", false, contactRelations); err != nil {
		return err
	}
	if err := phone(&p.MobileNumber, true); err != nil {
		return err
	}
	if err := phone(&p.FixedLineNumber, false); err != nil {
		return err
	}
	p.EmailAddress = strings.TrimSpace(p.EmailAddress)
	if p.EmailAddress != "" {
		if a, err := mail.ParseAddress(p.EmailAddress); err != nil || a.Address != p.EmailAddress {
			return invalid("Adresse e-mail invalide", "invalid e-mail address")
		}
	}
	if err := text(&p.StreetAddressLine, "Adresse", "street_address_line", false, 300); err != nil {
		return err
	}
	if err := text(&p.City, "Ville", "city", true, 100); err != nil {
		return err
	}
	if err := text(&p.Country, "Pays", "country", false, 100); err != nil {
		return err
	}
	p.PostalCode = strings.TrimSpace(p.PostalCode)
	if p.PostalCode == "" {
		return invalid("Code postal : champ obligatoire", "postal_code: required")
	}
	if france(p.Country) && !fivedigits(p.PostalCode) {
		return invalid("Code postal invalide : 5 chiffres", "postal code must be 5 digits")
	}
	return text(&p.PostalCode, "Code postal", "postal_code", true, 20)
}

func france(country string) bool {
	c := strings.ToLower(strings.TrimSpace(country))
	return c == "" || c == "france" || c == "fr"
}

func fivedigits(s string) bool {
	if len(s) != 5 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// phone checks a telephone number: a French one (10 digits from 0) or an
// international one (+ and 8 to 15 digits); spaces, dots and dashes are
// allowed between digits.
func phone(v *string, required bool) error {
	*v = strings.TrimSpace(*v)
	if *v == "" {
		if required {
			return invalid("Numéro de téléphone portable : champ obligatoire", "mobile_number: required")
		}
		return nil
	}
	digits := strings.NewReplacer(" ", "", ".", "", "-", "").Replace(*v)
	ok := false
	switch {
	case strings.HasPrefix(digits, "+"):
		ok = len(digits) >= 9 && len(digits) <= 16 && allDigits(digits[1:])
	default:
		ok = len(digits) == 10 && digits[0] == '0' && allDigits(digits)
	}
	if !ok {
		return invalid("Numéro de téléphone invalide (ex. 06 12 34 56 78 ou +33 6 12 34 56 78)", "invalid phone number")
	}
	return nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// Lines of the synthèse.

func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " — ")
}

func (p *FollowUp) line() string {
	return join(p.Title, p.Date.French(), p.Professional, p.Comment)
}

func (p *Disease) line() string { return join(p.Name, since(p.Start, p.End), p.Comment) }

func (p *Hospitalization) line() string {
	return join(hospitalizationKinds[p.Kind]+" : "+p.Name, p.Establishment, since(p.Start, p.End), p.Comment)
}

func (p *Treatment) line() string { return join(p.Name, p.Dosage, since(p.Start, p.End), p.Comment) }

func (p *Disability) line() string {
	var ts []string
	for _, t := range p.Types {
		ts = append(ts, disabilityTypes[t])
	}
	help := ""
	if p.HumanHelp != "" {
		help = "aide humaine : " + humanHelps[p.HumanHelp]
	}
	tech := ""
	if p.TechnicalHelp != "" {
		tech = "aide technique : " + p.TechnicalHelp
	}
	return join(p.Name, strings.Join(ts, ", "), disabilityRates[p.DisabilityRate], tech, help, p.Comment)
}

func (p *Allergy) line() string { return join(p.Name, p.Comment) }

func (p *FamilyHistory) line() string {
	return join(p.Name, relationships[p.FamilyRelationship], p.Comment)
}

func (p *HealthProfessional) line() string {
	role := roleLabels[p.Role]
	if role != "" {
		role += " : "
	}
	return join(role+p.Name, p.Profession, p.Speciality, p.Address, p.Phone, p.Mailbox)
}

func (p *Contact) line() string {
	var ts []string
	for _, t := range p.ContactTypes {
		ts = append(ts, contactTypeLabels[t])
	}
	addr := strings.TrimSpace(strings.Join([]string{p.StreetAddressLine, p.PostalCode, p.City}, " "))
	return join(p.FullName(), strings.Join(ts, ", "), contactRelations[p.Relation], p.MobileNumber, p.FixedLineNumber, p.EmailAddress, addr)
}

func since(start, end PartialDate) string {
	switch {
	case start != "" && end != "":
		return "du " + start.French() + " au " + end.French()
	case start != "":
		return "depuis " + start.French()
	case end != "":
		return "jusqu'au " + end.French()
	}
	return ""
}

// PartialDate is a date known to the year, the month or the day:
// "2019", "2019-05" or "2019-05-12" (mes-model.md: start year required,
// month and day optional).
type PartialDate string

func (d PartialDate) layout() string {
	switch len(d) {
	case 4:
		return "2006"
	case 7:
		return "2006-01"
	case 10:
		return time.DateOnly
	}
	return ""
}

// Valid tells whether d is a partial date.
func (d PartialDate) Valid() bool {
	l := d.layout()
	if l == "" {
		return false
	}
	t, err := time.Parse(l, string(d))
	return err == nil && t.Year() >= 1900
}

// first is the first day d may mean; last the last.
func (d PartialDate) first() time.Time {
	t, _ := time.Parse(d.layout(), string(d))
	return t
}

func (d PartialDate) last() time.Time {
	t := d.first()
	switch len(d) {
	case 4:
		return t.AddDate(1, 0, -1)
	case 7:
		return t.AddDate(0, 1, -1)
	}
	return t
}

var frenchMonths = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// French is the date as French readers write it: "2019", "mai 2019",
// "12/05/2019".
func (d PartialDate) French() string {
	if d == "" || !d.Valid() {
		return string(d)
	}
	t := d.first()
	switch len(d) {
	case 4:
		return t.Format("2006")
	case 7:
		return frenchMonths[t.Month()-1] + " " + t.Format("2006")
	}
	return t.Format("02/01/2006")
}
