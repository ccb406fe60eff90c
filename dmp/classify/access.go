package classify

import (
	"sort"
	"strings"
)

// The access matrix ("matrice d'habilitation"): which document classes a
// professional may read, by profession.
//
// Source: the public DMP "matrice d'habilitation des professionnels de
// santé" (annex to the CSP article R. 1111-46 decrees, published by the
// CNAM/ANS and revised over the years), as best known here: it could not be
// consulted from this machine, so this table is a sound default, not a copy.
// Its principles, kept: the physician (and the midwife, whose scope covers
// the whole perinatal follow-up) reads every class; the other professions
// read what their practice needs — the pharmacist the medication chain
// (prescriptions, dispensations, treatments, care plans) and the reports and
// syntheses that carry treatment changes; the nurse the care chain; the
// physiotherapist the same plus imaging; the other paramedical professions
// the syntheses, prescriptions and care plans. Every profession reads the
// documents deposited by the patient (90) and management documents (95).
// Reimbursement data (60) stays with the prescribing professions. An
// unknown profession reads nothing.
//
// It is one table on purpose: a change of the official matrix is a change
// here and nowhere else. Masking (MASQUE_PS), the author's own access and
// the patient's blocking of a named professional are the caller's rules
// (shared/reference.md, "Access to the record").
//
// Keys are the RPPS/ADELI profession codes (nomenclature G15
// "Profession de santé", the "Code Profession" column 14 of the directory
// extract, see directory/import.go).
var accessMatrix = map[string][]string{
	ProfMedecin:          all(),
	ProfSageFemme:        all(),
	ProfChirDentiste:     {ClassCompteRendu, ClassSynthese, ClassImagerie, ClassPrescription, ClassDispensation, ClassPlanDeSoins, ClassTraitement, ClassCertificat, ClassRemboursement, ClassPatient, ClassGestion},
	ProfPharmacien:       {ClassCompteRendu, ClassSynthese, ClassPrescription, ClassDispensation, ClassPlanDeSoins, ClassTraitement, ClassRemboursement, ClassPatient, ClassGestion},
	ProfInfirmier:        {ClassCompteRendu, ClassSynthese, ClassPrescription, ClassDispensation, ClassPlanDeSoins, ClassTraitement, ClassPatient, ClassGestion},
	ProfInfirmierPsy:     {ClassCompteRendu, ClassSynthese, ClassPrescription, ClassDispensation, ClassPlanDeSoins, ClassTraitement, ClassPatient, ClassGestion},
	ProfKine:             {ClassCompteRendu, ClassSynthese, ClassImagerie, ClassPrescription, ClassPlanDeSoins, ClassTraitement, ClassPatient, ClassGestion},
	ProfPodologue:        {ClassCompteRendu, ClassSynthese, ClassImagerie, ClassPrescription, ClassPlanDeSoins, ClassPatient, ClassGestion},
	ProfOrthophoniste:    paramedical(),
	ProfOrthoptiste:      paramedical(),
	ProfErgotherapeute:   paramedical(),
	ProfDieteticien:      paramedical(),
	ProfPsychomotricien:  paramedical(),
	ProfManipulateurERM:  {ClassSynthese, ClassImagerie, ClassPrescription, ClassPatient, ClassGestion},
	ProfTechnicienLabo:   {ClassPrescription, ClassPatient, ClassGestion},
	ProfAudioprothesiste: appareilleur(),
	ProfOpticien:         appareilleur(),
	ProfOrthoprothesiste: appareilleur(),
	ProfPodoOrthesiste:   appareilleur(),
	ProfOrthopediste:     appareilleur(),
	ProfOculariste:       appareilleur(),
	ProfEpithesiste:      appareilleur(),
}

func all() []string { return append([]string(nil), Classes...) }
func paramedical() []string {
	return []string{ClassCompteRendu, ClassSynthese, ClassPrescription, ClassPlanDeSoins, ClassPatient, ClassGestion}
}
func appareilleur() []string {
	return []string{ClassSynthese, ClassPrescription, ClassPatient, ClassGestion}
}

// Profession codes (G15, RPPS/ADELI).
const (
	ProfMedecin          = "10"
	ProfPharmacien       = "21"
	ProfAudioprothesiste = "26"
	ProfOpticien         = "28"
	ProfChirDentiste     = "40"
	ProfSageFemme        = "50"
	ProfInfirmier        = "60"
	ProfInfirmierPsy     = "69"
	ProfKine             = "70"
	ProfPodologue        = "80"
	ProfOrthoprothesiste = "81"
	ProfPodoOrthesiste   = "82"
	ProfOrthopediste     = "83"
	ProfOculariste       = "84"
	ProfEpithesiste      = "85"
	ProfTechnicienLabo   = "86"
	ProfOrthophoniste    = "91"
	ProfOrthoptiste      = "92"
	ProfErgotherapeute   = "94"
	ProfDieteticien      = "95"
	ProfPsychomotricien  = "96"
	ProfManipulateurERM  = "98"
)

// MayRead tells whether a professional of this profession may read
// documents of this class. The profession is a G15 code ("10") or the
// free-text profession stored on accounts ("Médecin généraliste",
// "Pharmacien", "Sage-femme", "Radiologue": see ProfessionCode).
func MayRead(profession, class string) bool {
	code, ok := ProfessionCode(profession)
	if !ok {
		return false
	}
	class = strings.TrimSpace(class)
	for _, c := range accessMatrix[code] {
		if c == class {
			return true
		}
	}
	return false
}

// ReadableClasses are the classes a profession may read, in the order of
// Classes; none for an unknown profession.
func ReadableClasses(profession string) []string {
	code, ok := ProfessionCode(profession)
	if !ok {
		return nil
	}
	out := append([]string(nil), accessMatrix[code]...)
	order := map[string]int{}
	for i, c := range Classes {
		order[c] = i
	}
	sort.Slice(out, func(i, j int) bool { return order[out[i]] < order[out[j]] })
	return out
}

// professionWords map words of a free-text profession to a code, tried in
// order (the dentist before the surgeon, the psychologist and the
// podiatrist before the "-logue" physicians).
var professionWords = []struct {
	code  string
	words []string // a word of the profession equal to, or (over 3 letters) starting with, one of these; or a phrase
}{
	{ProfChirDentiste, []string{"dentiste", "odontolog", "orthodontiste", "stomatolog"}},
	{ProfSageFemme, []string{"sage femme", "sagefemme", "maieuticien"}},
	{ProfPharmacien, []string{"pharmacien", "pharmacie"}},
	{ProfInfirmierPsy, []string{"infirmier psychiatrique"}},
	{ProfInfirmier, []string{"infirmier", "infirmiere", "ide", "ipa", "puericultrice"}},
	{ProfKine, []string{"kinesitherapeute", "kine", "masseur", "physiotherapeute"}},
	{ProfPodologue, []string{"podologue", "pedicure"}},
	{ProfOrthophoniste, []string{"orthophoniste"}},
	{ProfOrthoptiste, []string{"orthoptiste"}},
	{ProfErgotherapeute, []string{"ergotherapeute"}},
	{ProfDieteticien, []string{"dieteticien"}},
	{ProfPsychomotricien, []string{"psychomotricien"}},
	{ProfManipulateurERM, []string{"manipulateur", "manipulatrice"}},
	{ProfTechnicienLabo, []string{"technicien de laboratoire", "technicienne de laboratoire"}},
	{ProfAudioprothesiste, []string{"audioprothesiste"}},
	{ProfOpticien, []string{"opticien"}},
	{ProfOrthoprothesiste, []string{"orthoprothesiste"}},
	{ProfPodoOrthesiste, []string{"podo orthesiste"}},
	{ProfOrthopediste, []string{"orthopediste orthesiste", "orthesiste"}},
	{ProfOculariste, []string{"oculariste"}},
	{ProfEpithesiste, []string{"epithesiste"}},
	{ProfMedecin, []string{"medecin", "docteur", "generaliste", "chirurgien", "anesthesiste", "interniste", "urgentiste",
		"ophtalmologiste", "pediatre", "psychiatre", "geriatre", "radiotherapeute", "cancerologue", "oncologue"}},
}

// notPhysicians end in -logue but are not physicians.
var notPhysicians = map[string]bool{"psychologue": true, "podologue": true, "biologiste": true}

// ProfessionCode reads a profession: a G15 code of the matrix as is, or a
// free-text profession or specialty (accents and case ignored). A
// specialist's title ending in -logue or -iatre ("Cardiologue",
// "Radiologue", "Pédiatre") is a physician. "Biologiste" is left unknown on
// purpose: a medical biologist is a physician or a pharmacist.
func ProfessionCode(profession string) (string, bool) {
	p := strings.TrimSpace(profession)
	if _, ok := accessMatrix[p]; ok {
		return p, true
	}
	folded := foldAccents(strings.ToLower(p))
	tokens := strings.FieldsFunc(folded, func(r rune) bool {
		return !(r >= 'a' && r <= 'z')
	})
	joined := " " + strings.Join(tokens, " ") + " "
	for _, pw := range professionWords {
		for _, w := range pw.words {
			if strings.Contains(w, " ") {
				if strings.Contains(joined, " "+w+" ") {
					return pw.code, true
				}
				continue
			}
			for _, t := range tokens {
				if t == w || strings.HasPrefix(t, w) && len(w) > 3 {
					return pw.code, true
				}
			}
		}
	}
	for _, t := range tokens {
		if notPhysicians[t] {
			continue
		}
		if strings.HasSuffix(t, "logue") || strings.HasSuffix(t, "iatre") {
			return ProfMedecin, true
		}
	}
	return "", false
}
