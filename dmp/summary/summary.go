// Package summary writes the patient's "synthèse" of the medical profile as a
// PDF: identity, then each section of the profile as a title and its lines,
// and the generation date. The profile itself is not visible to
// professionals; the synthèse is what the patient saves in the documents so
// that they can read it (domain.md, Medical profile).
//
// The text is set in DejaVu Sans, embedded in the binary, because the core PDF
// fonts only cover Latin-1 in fpdf: "œ" (cœur, sœur) and "€" would be lost.
// The fonts and their licence are in fonts/ (Bitstream Vera licence, DejaVu
// changes in the public domain).
package summary

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

//go:embed fonts/DejaVuSans.ttf
var regularTTF []byte

//go:embed fonts/DejaVuSans-Bold.ttf
var boldTTF []byte

// Identity is who the synthèse is about.
type Identity struct {
	LastName  string
	FirstName string
	BirthDate time.Time // zero: not printed
	Sex       string    // as the profile shows it: "Femme", "Homme"…
	INS       string    // may be empty
}

// Section is one part of the medical profile ("Allergies", "Traitements"…):
// a title and its lines, printed in order. A section with no line prints
// "Aucune information renseignée" so the reader knows it was not forgotten.
type Section struct {
	Title string
	Lines []string
}

// Synthesis is the whole document.
type Synthesis struct {
	Identity  Identity
	Sections  []Section
	Generated time.Time // printed, and used as the PDF creation date
}

// ErrEmpty is returned when the synthèse would name nobody.
var ErrEmpty = errors.New("summary: identity has no name")

const family = "DejaVu"

// Write renders s as a PDF on w. The output depends only on s, so two
// renderings of the same synthèse are byte-identical (fpdf's clock is
// replaced by Generated).
func Write(w io.Writer, s Synthesis) error {
	if strings.TrimSpace(s.Identity.LastName+s.Identity.FirstName) == "" {
		return ErrEmpty
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes(family, "", regularTTF)
	pdf.AddUTF8FontFromBytes(family, "B", boldTTF)
	pdf.SetCreationDate(s.Generated)
	pdf.SetModificationDate(s.Generated)
	pdf.SetCatalogSort(true)
	title := "Synthèse du profil médical"
	pdf.SetTitle(title+" — "+fullName(s.Identity), true)
	pdf.SetCreator("mssanted", true)
	pdf.SetMargins(20, 20, 20)
	pdf.SetAutoPageBreak(true, 20)
	pdf.AliasNbPages("")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-15)
		pdf.SetFont(family, "", 8)
		pdf.SetTextColor(90, 90, 90)
		pdf.CellFormat(0, 5, fmt.Sprintf("%s — générée le %s — page %d/{nb}",
			fullName(s.Identity), FrenchDate(s.Generated), pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()

	pdf.SetFont(family, "B", 16)
	pdf.MultiCell(0, 8, title, "", "L", false)
	pdf.Ln(2)
	pdf.SetFont(family, "", 11)
	for _, l := range identityLines(s.Identity) {
		pdf.MultiCell(0, 6, l, "", "L", false)
	}
	pdf.MultiCell(0, 6, "Document généré le "+FrenchDate(s.Generated), "", "L", false)

	for _, sec := range s.Sections {
		pdf.Ln(4)
		pdf.SetFont(family, "B", 13)
		pdf.SetTextColor(0, 0, 0)
		pdf.MultiCell(0, 7, sec.Title, "B", "L", false)
		pdf.Ln(1)
		pdf.SetFont(family, "", 11)
		lines := sec.Lines
		if len(lines) == 0 {
			pdf.SetTextColor(90, 90, 90)
			lines = []string{"Aucune information renseignée"}
		}
		for _, l := range lines {
			pdf.MultiCell(0, 6, l, "", "L", false)
		}
		pdf.SetTextColor(0, 0, 0)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("summary: render PDF: %w", err)
	}
	return nil
}

// PDF renders s and returns the bytes, for storing as a document.
func PDF(s Synthesis) ([]byte, error) {
	var b bytes.Buffer
	if err := Write(&b, s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// FileName is the name under which the synthèse is saved in the documents,
// e.g. "Synthese_profil_medical_2025-06-16.pdf" (ASCII only: some mail
// clients of professionals still mangle accented attachment names).
func FileName(generated time.Time) string {
	return "Synthese_profil_medical_" + generated.Format("2006-01-02") + ".pdf"
}

func fullName(id Identity) string {
	return strings.TrimSpace(id.FirstName + " " + strings.ToUpper(id.LastName))
}

func identityLines(id Identity) []string {
	out := []string{"Nom : " + strings.ToUpper(id.LastName), "Prénom : " + id.FirstName}
	if !id.BirthDate.IsZero() {
		out = append(out, "Date de naissance : "+id.BirthDate.Format("02/01/2006"))
	}
	if id.Sex != "" {
		out = append(out, "Sexe : "+id.Sex)
	}
	if id.INS != "" {
		out = append(out, "INS : "+id.INS)
	}
	return out
}

var months = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet",
	"août", "septembre", "octobre", "novembre", "décembre"}

// FrenchDate writes a date as French users read it: "1er juin 2025",
// "16 juin 2025".
func FrenchDate(t time.Time) string {
	d := fmt.Sprint(t.Day())
	if t.Day() == 1 {
		d = "1er"
	}
	return fmt.Sprintf("%s %s %d", d, months[t.Month()-1], t.Year())
}
