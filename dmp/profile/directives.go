package profile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/classify"
	"mssanted/dmp/summary"
)

// Advance directives ("directives anticipées", domain.md): adults only,
// written by the person themself. Either an existing document of their
// library (pdf, rtf, tiff, jpg), or the online form, model A (serious
// illness or end of life) or model B (in good health), in three steps:
// 1. the wish to write them and where they are kept; 2. values and wishes;
// 3. the directives themselves and the consent, with the attestation of
// two witnesses when the person cannot write (one of them the trusted
// person if one is designated). Professionals read them in the synthèse
// the person files (or, attached, in the document itself).

// Directives modes and models.
const (
	DirectivesDocument = "document"
	DirectivesOnline   = "online"
	ModelA             = "A" // "je suis atteint(e) d'une maladie grave ou en fin de vie"
	ModelB             = "B" // "je pense être en bonne santé"
)

var modelLabels = map[string]string{
	ModelA: "modèle A (maladie grave ou fin de vie)",
	ModelB: "modèle B (en bonne santé)",
}

// The treatments the form asks about, and the answers.
var directiveTreatments = []struct{ Code, Label string }{
	{"REANIMATION", "Réanimation cardiaque et respiratoire (massage cardiaque, tube pour respirer)"},
	{"VENTILATION", "Respiration artificielle par une machine"},
	{"DIALYSE", "Dialyse rénale"},
	{"CHIRURGIE", "Intervention chirurgicale"},
	{"NUTRITION_HYDRATATION", "Nutrition et hydratation artificielles"},
	{"SEDATION", "Sédation profonde et continue jusqu'au décès"},
}

var treatmentAnswers = map[string]string{
	"ACCEPT":    "j'accepte",
	"REFUSE":    "je refuse",
	"UNDECIDED": "je ne sais pas, je m'en remets à l'équipe médicale",
}

// Directives are the person's advance directives.
type Directives struct {
	Mode          string `json:"mode"` // document or online
	DocumentID    int64  `json:"document_id,omitempty"`
	DocumentTitle string `json:"document_title,omitempty"`
	Model         string `json:"model,omitempty"`
	// Step1…Step3 are the online form's steps, filled in order.
	Step1 *DirectivesStep1 `json:"step1,omitempty"`
	Step2 *DirectivesStep2 `json:"step2,omitempty"`
	Step3 *DirectivesStep3 `json:"step3,omitempty"`
	// NextStep is the step to fill next (1 to 3), 0 once complete.
	NextStep  int       `json:"next_step"`
	Complete  bool      `json:"complete"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DirectivesStep1 is "1. Mon souhait de rédiger mes directives et de les
// conserver".
type DirectivesStep1 struct {
	WishToWrite  bool   `json:"wish_to_write"`
	KeepInSpace  bool   `json:"keep_in_space"`            // kept in the documents of the space
	CopiesHeldBy string `json:"copies_held_by,omitempty"` // who else holds a copy
}

// DirectivesStep2 is "2. Mes valeurs et mes souhaits".
type DirectivesStep2 struct {
	Situation string `json:"situation,omitempty"` // model A: my illness, what I know of it
	Values    string `json:"values"`              // what matters to me
	Wishes    string `json:"wishes,omitempty"`
}

// DirectivesStep3 is "3. Mes directives et mon consentement".
type DirectivesStep3 struct {
	Treatments  map[string]string `json:"treatments,omitempty"` // treatment code -> ACCEPT, REFUSE, UNDECIDED
	OtherWishes string            `json:"other_wishes,omitempty"`
	Consent     bool              `json:"consent"`
	Place       string            `json:"place"`
	SignedOn    PartialDate       `json:"signed_on"`
	// CannotWrite: the person cannot write or sign; two witnesses attest
	// that the directives are their free and informed will.
	CannotWrite bool      `json:"cannot_write"`
	Witnesses   []Witness `json:"witnesses,omitempty"`
}

// Witness attests the directives of a person who cannot write.
type Witness struct {
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	Quality       string `json:"quality,omitempty"` // link with the person
	TrustedPerson bool   `json:"trusted_person"`
}

// DirectivesForm is what the person sends of the online form: the model
// and the steps filled so far.
type DirectivesForm struct {
	Model string
	Step1 *DirectivesStep1
	Step2 *DirectivesStep2
	Step3 *DirectivesStep3
}

// directivesAuthor checks who may write advance directives for personID:
// an adult, themself.
func (s *Store) directivesAuthor(ctx context.Context, actor *directory.Account, personID int64) (*directory.Account, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	if person.Patient == nil || person.Patient.BirthDate.IsZero() {
		return nil, invalid("Les directives anticipées sont réservées aux personnes majeures : la date de naissance n'est pas connue",
			"advance directives are for adults: unknown birth date")
	}
	if !adult(person, s.now()) {
		return nil, invalid("Les directives anticipées sont réservées aux personnes majeures : une personne mineure ne peut pas en rédiger",
			"advance directives are for adults only")
	}
	if person.ID != actor.ID {
		return nil, fmt.Errorf("%w: seule la personne elle-même rédige ses directives anticipées / only the person writes their advance directives", dmp.ErrForbidden)
	}
	return person, nil
}

// Directives returns the advance directives; nil when there are none.
func (s *Store) Directives(ctx context.Context, actor *directory.Account, personID int64) (*Directives, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	one, err := s.loadSingletons(ctx, s.db.Read(), person.ID)
	if err != nil {
		return nil, err
	}
	return one.Directives, nil
}

// acceptedDirectiveTypes are the formats of an attached directive
// (domain.md: pdf, rtf, tiff, jpg).
var acceptedDirectiveTypes = []string{"application/pdf", "application/rtf", "text/rtf", "image/tiff", "image/jpeg"}

// AttachDirectives makes a document of the person's library their advance
// directives (it moves to the category Directives anticipées).
func (s *Store) AttachDirectives(ctx context.Context, actor *directory.Account, personID, documentID int64) (*Directives, error) {
	person, err := s.directivesAuthor(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	d, err := s.docs.Get(ctx, actor, documentID)
	if errors.Is(err, dmp.ErrNotFound) || err == nil && d.PatientID != person.ID {
		return nil, invalid("Ce document n'est pas dans vos documents", "no such document in the person's library")
	}
	if err != nil {
		return nil, err
	}
	if !slices.Contains(acceptedDirectiveTypes, d.MimeType) {
		return nil, invalid("Joignez un document PDF, RTF, TIFF ou JPG", "attach a pdf, rtf, tiff or jpg document")
	}
	cat := string(classify.DirectivesAnticipees)
	if d, err = s.docs.Update(ctx, actor, documentID, dmp.Patch{Category: &cat}); err != nil {
		return nil, err
	}
	dir := &Directives{Mode: DirectivesDocument, DocumentID: d.ID, DocumentTitle: d.Title, Complete: true, UpdatedAt: s.now()}
	if err := s.saveSingleton(ctx, s.db.Write(), person.ID, "directives", dir); err != nil {
		return nil, err
	}
	return dir, nil
}

// WriteDirectives saves the online form: the model, and the steps filled
// so far, in order; with step 3 consented, the directives are complete.
// It replaces whatever directives there were.
func (s *Store) WriteDirectives(ctx context.Context, actor *directory.Account, personID int64, f DirectivesForm) (*Directives, error) {
	person, err := s.directivesAuthor(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	dir := &Directives{Mode: DirectivesOnline, Model: strings.ToUpper(strings.TrimSpace(f.Model)), UpdatedAt: s.now(), NextStep: 1}
	if _, ok := modelLabels[dir.Model]; !ok {
		return nil, invalid("Choisissez le modèle A (maladie grave ou fin de vie) ou le modèle B (en bonne santé)", "model must be A or B")
	}
	if f.Step1 != nil {
		if !f.Step1.WishToWrite {
			return nil, invalid("Étape 1 : confirmez votre souhait de rédiger des directives anticipées", "step 1: confirm the wish to write")
		}
		if err := text(&f.Step1.CopiesHeldBy, "Personnes qui détiennent un exemplaire", "copies_held_by", false, 500); err != nil {
			return nil, err
		}
		dir.Step1, dir.NextStep = f.Step1, 2
	}
	if f.Step2 != nil {
		if dir.Step1 == nil {
			return nil, invalid("Remplissez les étapes dans l'ordre : l'étape 1 d'abord", "fill the steps in order: step 1 first")
		}
		st := f.Step2
		for _, v := range []*string{&st.Situation, &st.Values, &st.Wishes} {
			if err := comment(v, 5000); err != nil {
				return nil, err
			}
		}
		if st.Values == "" && st.Wishes == "" {
			return nil, invalid("Étape 2 : exprimez vos valeurs ou vos souhaits", "step 2: values or wishes required")
		}
		dir.Step2, dir.NextStep = st, 3
	}
	if f.Step3 != nil {
		if dir.Step2 == nil {
			return nil, invalid("Remplissez les étapes dans l'ordre : l'étape 2 d'abord", "fill the steps in order: step 2 first")
		}
		if err := s.checkStep3(ctx, person, f.Step3); err != nil {
			return nil, err
		}
		dir.Step3, dir.NextStep, dir.Complete = f.Step3, 0, true
	}
	if err := s.saveSingleton(ctx, s.db.Write(), person.ID, "directives", dir); err != nil {
		return nil, err
	}
	return dir, nil
}

func (s *Store) checkStep3(ctx context.Context, person *directory.Account, st *DirectivesStep3) error {
	clean := map[string]string{}
	for code, answer := range st.Treatments {
		code = strings.ToUpper(strings.TrimSpace(code))
		if !slices.ContainsFunc(directiveTreatments, func(t struct{ Code, Label string }) bool { return t.Code == code }) {
			return invalid("Étape 3 : traitement inconnu ("+code+")", "step 3: unknown treatment")
		}
		if err := oneOf(&answer, "Étape 3 : réponse", "treatment answer", true, treatmentAnswers); err != nil {
			return err
		}
		clean[code] = answer
	}
	st.Treatments = clean
	if err := comment(&st.OtherWishes, 5000); err != nil {
		return err
	}
	if len(clean) == 0 && st.OtherWishes == "" {
		return invalid("Étape 3 : indiquez au moins une volonté", "step 3: at least one wish")
	}
	if !st.Consent {
		return invalid("Étape 3 : confirmez que ces directives expriment votre volonté libre et éclairée", "step 3: consent required")
	}
	if err := text(&st.Place, "Fait à", "place", true, 100); err != nil {
		return err
	}
	c := s.checker(ctx, person)
	if err := c.date(&st.SignedOn, "Date de signature", "signed_on", true); err != nil {
		return err
	}
	if len(st.SignedOn) != 10 {
		return invalid("Date de signature : le jour, le mois et l'année (AAAA-MM-JJ)", "signed_on must be a full date")
	}
	if !st.CannotWrite {
		if len(st.Witnesses) > 0 {
			return invalid("Les témoins n'attestent que si vous ne pouvez pas écrire vous-même", "witnesses only when the person cannot write")
		}
		return nil
	}
	return s.checkWitnesses(ctx, person, st.Witnesses)
}

// checkWitnesses: two witnesses, named, distinct; one of them the trusted
// person when one is designated (the contact of the entourage), and none
// called so otherwise.
func (s *Store) checkWitnesses(ctx context.Context, person *directory.Account, ws []Witness) error {
	if len(ws) != 2 {
		return invalid("Si vous ne pouvez pas écrire, deux témoins attestent vos directives : indiquez-en deux", "two witnesses are required")
	}
	for i := range ws {
		w := &ws[i]
		if err := text(&w.FirstName, "Prénom du témoin", "witness first_name", true, 100); err != nil {
			return err
		}
		if err := text(&w.LastName, "Nom du témoin", "witness last_name", true, 100); err != nil {
			return err
		}
		if err := text(&w.Quality, "Qualité du témoin", "witness quality", false, 100); err != nil {
			return err
		}
	}
	if fold(ws[0].FirstName+" "+ws[0].LastName) == fold(ws[1].FirstName+" "+ws[1].LastName) {
		return invalid("Les deux témoins doivent être deux personnes différentes", "the two witnesses must differ")
	}
	contacts, err := s.entries(ctx, s.db.Read(), person.ID, Contacts)
	if err != nil {
		return err
	}
	var trusted *Contact
	for _, e := range contacts {
		if c := e.Data.(*Contact); c.IsTrusted() {
			trusted = c
		}
	}
	n := 0
	for _, w := range ws {
		if w.TrustedPerson {
			n++
		}
	}
	if trusted == nil {
		if n > 0 {
			return invalid("Vous n'avez pas désigné de personne de confiance : désignez-la dans Entourage et volontés, ou décochez « personne de confiance »",
				"no trusted person is designated")
		}
		return nil
	}
	if n != 1 {
		return invalid("Vous avez désigné une personne de confiance ("+trusted.FullName()+") : elle doit être l'un des deux témoins",
			"the trusted person must be one of the two witnesses")
	}
	for _, w := range ws {
		if w.TrustedPerson && (fold(w.LastName) != fold(trusted.LastName) || trusted.FirstName != "" && fold(w.FirstName) != fold(trusted.FirstName)) {
			return invalid("Le témoin « personne de confiance » doit être "+trusted.FullName()+", votre personne de confiance désignée",
				"the trusted-person witness is not the designated trusted person")
		}
	}
	return nil
}

var foldAccents = strings.NewReplacer("é", "e", "è", "e", "ê", "e", "ë", "e", "à", "a", "â", "a", "ä", "a", "î", "i", "ï", "i",
	"ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "ç", "c", "œ", "oe", "æ", "ae", "-", " ", "'", " ")

func fold(s string) string {
	return strings.Join(strings.Fields(foldAccents.Replace(strings.ToLower(s))), " ")
}

// DeleteDirectives removes the advance directives (an attached document
// stays in the library).
func (s *Store) DeleteDirectives(ctx context.Context, actor *directory.Account, personID int64) error {
	person, err := s.directivesAuthor(ctx, actor, personID)
	if err != nil {
		return err
	}
	old, err := s.loadSingletons(ctx, s.db.Read(), person.ID)
	if err != nil {
		return err
	}
	if old.Directives == nil {
		return dmp.ErrNotFound
	}
	return s.saveSingleton(ctx, s.db.Write(), person.ID, "directives", nil)
}

// directiveLines are the directives as lines of a document.
func directiveLines(d *Directives) []string {
	if d == nil {
		return nil
	}
	if d.Mode == DirectivesDocument {
		return []string{"Directives anticipées jointes : « " + d.DocumentTitle + " » (dans les documents)"}
	}
	out := []string{"Rédigées en ligne, " + modelLabels[d.Model] + ", mises à jour le " + summary.FrenchDate(d.UpdatedAt)}
	if !d.Complete {
		out[0] += fmt.Sprintf(" — en cours (étape %d sur 3)", d.NextStep)
	}
	if st := d.Step1; st != nil {
		keep := "conservées dans Mon espace santé"
		if !st.KeepInSpace {
			keep = "conservées hors de Mon espace santé"
		}
		out = append(out, "1. Souhait de rédiger mes directives : oui ; "+keep)
		if st.CopiesHeldBy != "" {
			out = append(out, "   Exemplaires détenus par : "+st.CopiesHeldBy)
		}
	}
	if st := d.Step2; st != nil {
		out = append(out, "2. Mes valeurs et mes souhaits")
		if st.Situation != "" {
			out = append(out, "   Ma situation : "+st.Situation)
		}
		if st.Values != "" {
			out = append(out, "   Ce qui compte pour moi : "+st.Values)
		}
		if st.Wishes != "" {
			out = append(out, "   Mes souhaits : "+st.Wishes)
		}
	}
	if st := d.Step3; st != nil {
		out = append(out, "3. Mes directives")
		for _, t := range directiveTreatments {
			if a, ok := st.Treatments[t.Code]; ok {
				out = append(out, "   "+t.Label+" : "+treatmentAnswers[a])
			}
		}
		if st.OtherWishes != "" {
			out = append(out, "   Autres volontés : "+st.OtherWishes)
		}
		out = append(out, "   Je confirme que ces directives expriment ma volonté libre et éclairée. Fait à "+st.Place+", le "+st.SignedOn.French()+".")
		if st.CannotWrite {
			out = append(out, "   Attestation des témoins (la personne ne peut pas écrire) :")
			for _, w := range st.Witnesses {
				l := "   - " + strings.TrimSpace(w.FirstName+" "+strings.ToUpper(w.LastName))
				if w.Quality != "" {
					l += ", " + w.Quality
				}
				if w.TrustedPerson {
					l += " (personne de confiance)"
				}
				out = append(out, l)
			}
		}
	}
	return out
}
