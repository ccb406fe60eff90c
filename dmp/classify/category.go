// Package classify holds the data tables of the document library: the
// categories patients see and how a document's class and type codes map to
// them, the access matrix ("matrice d'habilitation") of professions to
// document classes, and the file types accepted from patients and in
// messages. Pure data and lookups, no storage: each table names its source.
package classify

import "strings"

// Category is a category of the patient's document library, by a stable
// identifier (lower case, French, never shown).
type Category string

// The categories in the order of shared/reference.md ("Document classes",
// "Categories patients see in their library"); labels as the French patient
// app shows them, with its codes (shared/mes-model.md §2, "Categories").
const (
	Resume               Category = "resume"                // Ma santé en résumé (SYNTHESE)
	Ordonnances          Category = "ordonnances"           // Ordonnances et soins (ORD_SOIN)
	Imagerie             Category = "imagerie"              // Radio, écho, scanner, IRM (RADIO_SC)
	Biologie             Category = "biologie"              // Résultats de biologie (BIOLOGIE)
	ComptesRendus        Category = "comptes-rendus"        // Comptes rendus (CPT_REND)
	Prevention           Category = "prevention"            // Prévention et dépistages (DEPISTAG)
	Certificats          Category = "certificats"           // Certificats médicaux (CERT_MED)
	Administratif        Category = "administratif"         // Pièces administratives (DOC_ADM)
	SyntheseMedicale     Category = "synthese-medicale"     // Synthèse médicale (SYNTH_PML)
	DirectivesAnticipees Category = "directives-anticipees" // Directives anticipées (DIR_ANT)
	QuestionnaireSante   Category = "questionnaire-sante"   // Questionnaire santé (QUEST_SANTE)
	Autres               Category = "autres"                // Autres documents (AUTR_DOC)
)

// Categories are all the categories, in display order.
var Categories = []Category{
	Resume, Ordonnances, Imagerie, Biologie, ComptesRendus, Prevention,
	Certificats, Administratif, SyntheseMedicale, DirectivesAnticipees, QuestionnaireSante, Autres,
}

var categoryInfo = map[Category]struct{ label, app string }{
	Resume:               {"Ma santé en résumé", "SYNTHESE"},
	Ordonnances:          {"Ordonnances et soins", "ORD_SOIN"},
	Imagerie:             {"Radio, écho, scanner, IRM", "RADIO_SC"},
	Biologie:             {"Résultats de biologie", "BIOLOGIE"},
	ComptesRendus:        {"Comptes rendus", "CPT_REND"},
	Prevention:           {"Prévention et dépistages", "DEPISTAG"},
	Certificats:          {"Certificats médicaux", "CERT_MED"},
	Administratif:        {"Pièces administratives", "DOC_ADM"},
	SyntheseMedicale:     {"Synthèse médicale", "SYNTH_PML"},
	DirectivesAnticipees: {"Directives anticipées", "DIR_ANT"},
	QuestionnaireSante:   {"Questionnaire santé", "QUEST_SANTE"},
	Autres:               {"Autres documents", "AUTR_DOC"},
}

// Label is the French label patients see; "Autres documents" for an
// unknown category.
func (c Category) Label() string {
	if i, ok := categoryInfo[c]; ok {
		return i.label
	}
	return categoryInfo[Autres].label
}

// AppCode is the code the French patient app uses (SYNTHESE, ORD_SOIN…).
func (c Category) AppCode() string {
	if i, ok := categoryInfo[c]; ok {
		return i.app
	}
	return categoryInfo[Autres].app
}

// Valid tells whether c is one of Categories.
func (c Category) Valid() bool { _, ok := categoryInfo[c]; return ok }

// PatientMayChoose: a patient may file a document under any category but
// the three produced by dedicated flows (shared/mes-model.md §2).
func (c Category) PatientMayChoose() bool {
	return c.Valid() && c != SyntheseMedicale && c != QuestionnaireSante && c != DirectivesAnticipees
}

// ParseCategory reads a category by identifier or app code, ignoring case.
func ParseCategory(s string) (Category, bool) {
	s = strings.TrimSpace(s)
	for _, c := range Categories {
		if strings.EqualFold(s, string(c)) || strings.EqualFold(s, c.AppCode()) {
			return c, true
		}
	}
	return "", false
}

// Document classes (DMP classCode, 1.2.250.1.213.1.1.4.1), from
// shared/reference.md ("Document classes").
const (
	ClassCompteRendu   = "10"
	ClassSynthese      = "11"
	ClassImagerie      = "31"
	ClassPrescription  = "42"
	ClassDispensation  = "43"
	ClassPlanDeSoins   = "44"
	ClassTraitement    = "45"
	ClassCertificat    = "52"
	ClassRemboursement = "60"
	ClassPatient       = "90"
	ClassGestion       = "95"
)

// Classes are every class, in the reference's order.
var Classes = []string{
	ClassCompteRendu, ClassSynthese, ClassImagerie, ClassPrescription, ClassDispensation,
	ClassPlanDeSoins, ClassTraitement, ClassCertificat, ClassRemboursement, ClassPatient, ClassGestion,
}

// ClassLabels are the French meanings of the classes (shared/reference.md).
var ClassLabels = map[string]string{
	ClassCompteRendu:   "Compte rendu",
	ClassSynthese:      "Synthèse",
	ClassImagerie:      "Imagerie médicale",
	ClassPrescription:  "Prescription",
	ClassDispensation:  "Dispensation",
	ClassPlanDeSoins:   "Plan de soins, protocole de soins",
	ClassTraitement:    "Traitement administré",
	ClassCertificat:    "Certificat, déclaration",
	ClassRemboursement: "Données de remboursement",
	ClassPatient:       "Document déposé par le patient",
	ClassGestion:       "Document de gestion",
}

// typeClass maps typeCodes to their class: the LOINC and local codes of
// shared/reference.md ("LOINC typeCodes -> class", "Local codes").
var typeClass = map[string]string{
	"11490-0": ClassCompteRendu, "11502-2": ClassCompteRendu, "11488-4": ClassCompteRendu,
	"34112-3": ClassCompteRendu, "15507-7": ClassCompteRendu, "15508-5": ClassCompteRendu,
	"18748-4": ClassImagerie, "IMG-KOS": ClassImagerie,
	"34133-9": ClassSynthese, "18761-7": ClassSynthese, "56445-0": ClassSynthese, "60591-5": ClassSynthese, "SYNTH": ClassSynthese,
	"57833-6": ClassPrescription, "57828-6": ClassPrescription, "57832-8": ClassPrescription,
	"61357-0": ClassPrescription, "75468-9": ClassPrescription,
	"PRESC-BIO": ClassPrescription, "PRESC-KINE": ClassPrescription, "PRESC-INF": ClassPrescription,
	"60593-1": ClassDispensation,
	"11369-6": ClassCertificat, "87273-9": ClassCertificat, "CERT_DECL": ClassCertificat,
	"74465-6": ClassPatient,
	"59284-0": ClassGestion, "86531-1": ClassGestion,
	"REMB": ClassRemboursement,
}

// ClassOf is the class of a typeCode, "" when unknown. DOCPAT01 to DOCPAT09
// are documents deposited by the patient (class 90).
func ClassOf(typeCode string) string {
	t := strings.ToUpper(strings.TrimSpace(typeCode))
	if c, ok := typeClass[t]; ok {
		return c
	}
	if len(t) == 8 && strings.HasPrefix(t, "DOCPAT0") && t[7] >= '1' && t[7] <= '9' {
		return ClassPatient
	}
	return ""
}

// typeCategory are the typeCodes whose category is finer than their
// class's. The class says "compte rendu" for a lab report; the patient
// looks for it under "Résultats de biologie". Choices of this project,
// following the labels (reference.md gives no type → category table):
//   - 11502-2 (laboratory report) → Résultats de biologie;
//   - 18748-4, IMG-KOS (imaging) → Radio, écho, scanner, IRM;
//   - 11369-6 (history of immunization), 87273-9 (immunization note) →
//     Prévention et dépistages: vaccinations are prevention to a patient;
//   - 74465-6 (questionnaire document) → Questionnaire santé;
//   - 75320-2 (LOINC "Advance directive") → Directives anticipées.
var typeCategory = map[string]Category{
	"11502-2": Biologie,
	"18748-4": Imagerie, "IMG-KOS": Imagerie,
	"11369-6": Prevention, "87273-9": Prevention,
	"74465-6": QuestionnaireSante,
	"75320-2": DirectivesAnticipees,
}

// classCategory is the category of each class. Prescriptions,
// dispensations, care plans and administered treatments are all
// "Ordonnances et soins"; reimbursement data and management documents
// (consents) are administrative; syntheses are the "Synthèse médicale"
// (the patient's own profile summary, "Ma santé en résumé", is produced by
// the space itself, which files it directly).
var classCategory = map[string]Category{
	ClassCompteRendu:   ComptesRendus,
	ClassSynthese:      SyntheseMedicale,
	ClassImagerie:      Imagerie,
	ClassPrescription:  Ordonnances,
	ClassDispensation:  Ordonnances,
	ClassPlanDeSoins:   Ordonnances,
	ClassTraitement:    Ordonnances,
	ClassCertificat:    Certificats,
	ClassRemboursement: Administratif,
	ClassPatient:       Autres,
	ClassGestion:       Administratif,
}

// CategoryOf files a document by its classCode and typeCode: the typeCode
// when it says more than the class, else the class (from the metadata, or
// deduced from the typeCode), else Autres.
func CategoryOf(classCode, typeCode string) Category {
	t := strings.ToUpper(strings.TrimSpace(typeCode))
	if c, ok := typeCategory[t]; ok {
		return c
	}
	class := strings.TrimSpace(classCode)
	if _, ok := classCategory[class]; !ok {
		class = ClassOf(t)
	}
	if c, ok := classCategory[class]; ok {
		return c
	}
	return Autres
}

// textRules are tried in order on the words of a subject or file name
// (accents and case folded). More specific before more general: an
// "ordonnance de biologie" is a prescription, a "compte rendu de radio" an
// imaging document. A rule matches a word equal to one of exact, or
// starting with one of prefixes, or a phrase contained in the text.
var textRules = []struct {
	cat      Category
	exact    []string
	prefixes []string
	phrases  []string
}{
	{Ordonnances, []string{"ordo"}, []string{"ordonnance", "prescription"}, []string{"plan de soins"}},
	{Imagerie, []string{"irm", "tdm", "scanner", "scanographie", "scintigraphie", "radio", "radios", "echo", "echos", "pet"},
		[]string{"radiograph", "radiolog", "echograph", "echodoppler", "mammograph", "imagerie", "arthroscan"}, nil},
	{Biologie, []string{"analyses", "analyse", "labo", "nfs", "bilan"}, []string{"biolog", "laboratoire", "hemato", "serolog"},
		[]string{"prise de sang", "bilan sanguin", "resultats d analyse"}},
	{Certificats, nil, []string{"certificat"}, nil},
	{Prevention, nil, []string{"vaccin", "depistage", "prevention"}, nil},
	{DirectivesAnticipees, nil, nil, []string{"directives anticipees", "directive anticipee"}},
	{QuestionnaireSante, nil, []string{"questionnaire"}, nil},
	{SyntheseMedicale, []string{"vsm"}, []string{"synthese"}, nil},
	{Administratif, []string{"cmu", "css"}, []string{"mutuelle", "attestation", "facture", "administrati"},
		[]string{"carte vitale", "securite sociale", "assurance maladie", "carte de tiers payant"}},
	{ComptesRendus, []string{"cr", "crh", "cro"}, []string{"compte", "lettre", "courrier"},
		[]string{"compte rendu", "compte-rendu"}},
}

// CategoryFromText guesses a category from a message subject or a file
// name, for a document that came without metadata (a plain attachment);
// Autres when nothing matches. The XDM prefix of subjects
// (XDM/1.0/DDM+, shared/reference.md) is ignored like any other word.
func CategoryFromText(s string) Category {
	f := " " + strings.Join(words(s), " ") + " "
	ws := words(s)
	for _, r := range textRules {
		for _, w := range ws {
			for _, e := range r.exact {
				if w == e {
					return r.cat
				}
			}
			for _, p := range r.prefixes {
				if strings.HasPrefix(w, p) {
					return r.cat
				}
			}
		}
		for _, p := range r.phrases {
			if strings.Contains(f, " "+strings.Join(words(p), " ")+" ") {
				return r.cat
			}
		}
	}
	return Autres
}

// words lower-cases, folds French accents and splits on anything that is
// not a letter or a digit.
func words(s string) []string {
	s = foldAccents(strings.ToLower(s))
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

var accentFolder = strings.NewReplacer(
	"à", "a", "â", "a", "ä", "a", "á", "a", "ã", "a",
	"é", "e", "è", "e", "ê", "e", "ë", "e",
	"î", "i", "ï", "i", "í", "i",
	"ô", "o", "ö", "o", "ó", "o", "õ", "o",
	"ù", "u", "û", "u", "ü", "u", "ú", "u",
	"ÿ", "y", "ç", "c", "ñ", "n", "œ", "oe", "æ", "ae",
	"’", "'", // a typographic apostrophe splits words like a plain one
)

func foldAccents(s string) string { return accentFolder.Replace(s) }
