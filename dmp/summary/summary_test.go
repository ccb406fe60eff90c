package summary

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sample() Synthesis {
	return Synthesis{
		Identity: Identity{
			LastName:  "Lefèvre",
			FirstName: "Hélène",
			BirthDate: time.Date(1979, 3, 14, 0, 0, 0, 0, time.UTC),
			Sex:       "Femme",
			INS:       "279037512345607",
		},
		Sections: []Section{
			{Title: "Maladies et sujets de santé", Lines: []string{
				"Hypertension artérielle, suivie depuis 2019",
				"Œdème du genou droit (août 2024) — cœur et sœur : à préciser",
			}},
			{Title: "Traitements", Lines: []string{"Ramipril 5 mg, 1 comprimé le matin"}},
			{Title: "Allergies"},
			{Title: "Mesures", Lines: []string{"Tension : 128/82 mmHg le 02/06/2025", "Reste à charge estimé : 12,50 €"}},
		},
		Generated: time.Date(2025, 6, 16, 10, 30, 0, 0, time.UTC),
	}
}

// pdftotext is the reader a professional's tools are closest to; a missing
// binary is a broken test machine, never a reason to skip (scripts/test.sh
// installs poppler-utils).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatalf("pdftotext not found (install poppler-utils): %v", err)
	}
	path := filepath.Join(t.TempDir(), "s.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

func TestPDFReadsBackFrench(t *testing.T) {
	pdf, err := PDF(sample())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:16])
	}
	text := pdfText(t, pdf)
	for _, want := range []string{
		"Synthèse du profil médical",
		"Nom : LEFÈVRE",
		"Prénom : Hélène",
		"Date de naissance : 14/03/1979",
		"Document généré le 16 juin 2025",
		"Maladies et sujets de santé",
		"Hypertension artérielle, suivie depuis 2019",
		"Œdème du genou droit (août 2024) — cœur et sœur : à préciser",
		"Reste à charge estimé : 12,50 €",
		"Allergies",
		"Aucune information renseignée",
		"page 1/1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q:\n%s", want, text)
		}
	}
}

func TestPDFIsDeterministicAndPaginates(t *testing.T) {
	s := sample()
	for i := 0; i < 120; i++ {
		s.Sections[1].Lines = append(s.Sections[1].Lines, "Paracétamol 1 g si douleur, à renouveler — ligne de remplissage")
	}
	a, err := PDF(s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := PDF(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two renderings of the same synthèse differ")
	}
	text := pdfText(t, a)
	if !strings.Contains(text, "page 1/4") || !strings.Contains(text, "page 4/4") {
		t.Errorf("want 4 numbered pages:\n%s", text)
	}
}

func TestEmptyIdentityRefused(t *testing.T) {
	if _, err := PDF(Synthesis{}); !errors.Is(err, ErrEmpty) {
		t.Fatalf("err = %v, want ErrEmpty", err)
	}
}

func TestFrenchDateAndFileName(t *testing.T) {
	for _, c := range []struct {
		d    time.Time
		want string
	}{
		{time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), "1er juin 2025"},
		{time.Date(2025, 8, 16, 0, 0, 0, 0, time.UTC), "16 août 2025"},
		{time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC), "28 février 2026"},
	} {
		if got := FrenchDate(c.d); got != c.want {
			t.Errorf("FrenchDate(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	if got := FileName(time.Date(2025, 6, 16, 9, 0, 0, 0, time.UTC)); got != "Synthese_profil_medical_2025-06-16.pdf" {
		t.Errorf("FileName = %q", got)
	}
}
