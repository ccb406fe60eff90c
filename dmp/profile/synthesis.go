package profile

import (
	"context"
	"fmt"
	"strings"

	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/classify"
	"mssanted/dmp/summary"
)

// "Générer ma synthèse": the profile becomes a PDF filed in the person's
// documents (category synthese-medicale, DMP class 11, LOINC 60591-5
// "Patient summary"), where professionals read it under the access
// matrix. Each generation files a new dated document.

// SummaryTypeCode is the LOINC typeCode of the synthèse.
const SummaryTypeCode = "60591-5"

// SummaryPart adds sections to the synthèse from outside the profile: the
// pregnancy pathway (dmp/care) adds its Grossesse section this way.
type SummaryPart func(ctx context.Context, person *directory.Account) ([]summary.Section, error)

// AddSummaryPart registers a part; call it while wiring, before serving.
func (s *Store) AddSummaryPart(p SummaryPart) { s.parts = append(s.parts, p) }

// GenerateSummary builds the synthèse of the profile, renders it and files
// it in the person's documents.
func (s *Store) GenerateSummary(ctx context.Context, actor *directory.Account, personID int64) (*dmp.Document, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	syn, err := s.Synthesis(ctx, actor, person.ID)
	if err != nil {
		return nil, err
	}
	pdf, err := summary.PDF(*syn)
	if err != nil {
		return nil, fmt.Errorf("profile: synthèse: %w", err)
	}
	return s.docs.FileGenerated(ctx, actor, person.ID, dmp.Generated{
		Title:    "Synthèse médicale du " + syn.Generated.Format("02/01/2006"),
		Category: string(classify.SyntheseMedicale), ClassCode: classify.ClassSynthese, TypeCode: SummaryTypeCode,
		Filename: summary.FileName(syn.Generated), MimeType: "application/pdf", Data: pdf, Date: syn.Generated,
	})
}

// Synthesis builds the synthèse of the profile without filing it.
func (s *Store) Synthesis(ctx context.Context, actor *directory.Account, personID int64) (*summary.Synthesis, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	p, err := s.profile(ctx, person)
	if err != nil {
		return nil, err
	}
	lines := func(sec Section) []string {
		var out []string
		for _, e := range p.Sections[sec] {
			out = append(out, e.Data.line())
		}
		return out
	}
	var charac []string
	if g := p.Characteristics.BloodGroup; g != "" {
		charac = append(charac, "Groupe sanguin : "+g)
	}
	if c := p.Characteristics.Comment; c != "" {
		charac = append(charac, c)
	}
	var measures []string
	for _, m := range p.Measures.Latest {
		measures = append(measures, fmt.Sprintf("%s : %s (le %s)", m.Label, m.Formatted, m.Date.Format("02/01/2006")))
	}
	if b := p.Measures.BMI; b != nil {
		l := "IMC : " + shortNumber(b.Value, 1) + " kg/m²"
		if b.Category != "" {
			l += " (" + b.Category + ")"
		}
		measures = append(measures, l+", calculé avec le dernier poids et la dernière taille")
	}
	entourage := lines(Contacts)
	od := p.OrganDonation
	switch {
	case od.Position != "":
		entourage = append(entourage, "Don d'organes : "+donationLabels[od.Position])
	case od.Informed:
		entourage = append(entourage, "Don d'organes : a pris connaissance des règles (consentement présumé)")
	}
	if od.Comment != "" {
		entourage = append(entourage, "Don d'organes : "+od.Comment)
	}
	syn := &summary.Synthesis{Identity: identity(person), Generated: s.now(), Sections: []summary.Section{
		{Title: "Caractéristiques de santé", Lines: charac},
		{Title: Allergies.Title(), Lines: lines(Allergies)},
		{Title: Diseases.Title(), Lines: lines(Diseases)},
		{Title: Treatments.Title(), Lines: lines(Treatments)},
		{Title: "Mesures", Lines: measures},
		{Title: Hospitalizations.Title(), Lines: lines(Hospitalizations)},
		{Title: Disabilities.Title(), Lines: lines(Disabilities)},
		{Title: FamilyHistories.Title(), Lines: lines(FamilyHistories)},
		{Title: HealthProfessionals.Title(), Lines: lines(HealthProfessionals)},
		{Title: Contacts.Title(), Lines: entourage},
		{Title: "Directives anticipées", Lines: directiveLines(p.Directives)},
		{Title: FollowUps.Title(), Lines: lines(FollowUps)},
	}}
	for _, part := range s.parts {
		secs, err := part(ctx, person)
		if err != nil {
			return nil, err
		}
		syn.Sections = append(syn.Sections, secs...)
	}
	return syn, nil
}

// identity is who the synthèse is about: the display name split into
// first name and last name (the last words).
func identity(person *directory.Account) summary.Identity {
	id := summary.Identity{}
	words := strings.Fields(person.DisplayName)
	switch len(words) {
	case 0:
		id.LastName = person.Address
	case 1:
		id.LastName = words[0]
	default:
		id.FirstName, id.LastName = words[0], strings.Join(words[1:], " ")
	}
	if pi := person.Patient; pi != nil {
		id.BirthDate, id.INS = pi.BirthDate, pi.INS
		id.Sex = map[string]string{"F": "Femme", "M": "Homme"}[pi.Sex]
	}
	return id
}
