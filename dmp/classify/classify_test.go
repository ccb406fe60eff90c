package classify

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestCategories(t *testing.T) {
	if len(Categories) != 12 {
		t.Fatalf("%d categories", len(Categories))
	}
	labels := []string{"Ma santé en résumé", "Ordonnances et soins", "Radio, écho, scanner, IRM", "Résultats de biologie",
		"Comptes rendus", "Prévention et dépistages", "Certificats médicaux", "Pièces administratives", "Synthèse médicale",
		"Directives anticipées", "Questionnaire santé", "Autres documents"}
	for i, c := range Categories {
		if c.Label() != labels[i] || !c.Valid() {
			t.Errorf("%s: %q", c, c.Label())
		}
		if got, ok := ParseCategory(c.AppCode()); !ok || got != c {
			t.Errorf("app code %s", c.AppCode())
		}
		if got, ok := ParseCategory(strings.ToUpper(string(c))); !ok || got != c {
			t.Errorf("id %s", c)
		}
	}
	if Category("x").Label() != "Autres documents" || Category("x").Valid() {
		t.Error("unknown category")
	}
	if _, ok := ParseCategory("REMB"); ok {
		t.Error("REMB is not a category the app shows")
	}
	if SyntheseMedicale.PatientMayChoose() || DirectivesAnticipees.PatientMayChoose() || !Ordonnances.PatientMayChoose() {
		t.Error("patient choices")
	}
}

func TestCategoryOf(t *testing.T) {
	for _, c := range []struct {
		class, typ string
		want       Category
	}{
		{"10", "11490-0", ComptesRendus},
		{"10", "11502-2", Biologie},
		{"", "11502-2", Biologie},
		{"31", "18748-4", Imagerie},
		{"31", "IMG-KOS", Imagerie}, // the DRIMbox KOS
		{"", "img-kos", Imagerie},
		{"42", "57833-6", Ordonnances},
		{"42", "PRESC-BIO", Ordonnances},
		{"", "PRESC-KINE", Ordonnances},
		{"43", "60593-1", Ordonnances},
		{"44", "", Ordonnances},
		{"45", "", Ordonnances},
		{"11", "60591-5", SyntheseMedicale},
		{"", "SYNTH", SyntheseMedicale},
		{"52", "CERT_DECL", Certificats},
		{"52", "11369-6", Prevention},
		{"60", "REMB", Administratif},
		{"", "REMB", Administratif},
		{"95", "59284-0", Administratif},
		{"90", "74465-6", QuestionnaireSante},
		{"90", "DOCPAT03", Autres},
		{"", "75320-2", DirectivesAnticipees},
		{"", "", Autres},
		{"99", "00000-0", Autres},
		{"urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", "E1762", Autres}, // an IHE DSG signature
	} {
		if got := CategoryOf(c.class, c.typ); got != c.want {
			t.Errorf("(%q, %q) = %s, want %s", c.class, c.typ, got, c.want)
		}
	}
	for typ, class := range map[string]string{"11490-0": "10", "18748-4": "31", "57833-6": "42", "60593-1": "43", "87273-9": "52",
		"74465-6": "90", "86531-1": "95", "DOCPAT01": "90", "DOCPAT09": "90", "DOCPAT10": "", "DOCPAT0": "", "x": ""} {
		if got := ClassOf(typ); got != class {
			t.Errorf("ClassOf(%s) = %q, want %q", typ, got, class)
		}
	}
	for _, c := range Classes {
		if ClassLabels[c] == "" || classCategory[c] == "" {
			t.Errorf("class %s has no label or category", c)
		}
	}
}

func TestCategoryFromText(t *testing.T) {
	for in, want := range map[string]Category{
		"Ordonnance du 12/03":                     Ordonnances,
		"ordonnance_biologie.pdf":                 Ordonnances,
		"XDM/1.0/DDM+Prescription PAT-TROIS":      Ordonnances,
		"Compte rendu de radio du genou":          Imagerie,
		"IRM lombaire":                            Imagerie,
		"CR scanner thoracique":                   Imagerie,
		"Échographie T2":                          Imagerie,
		"echo.jpg":                                Imagerie,
		"Résultats d'analyses":                    Biologie,
		"Biologie - bilan":                        Biologie,
		"Votre prise de sang":                     Biologie,
		"Compte rendu opératoire":                 ComptesRendus,
		"Compte-rendu de consultation":            ComptesRendus,
		"CRH_2024.pdf":                            ComptesRendus,
		"Lettre de liaison":                       ComptesRendus,
		"Certificat de sport":                     Certificats,
		"Vaccination grippe":                      Prevention,
		"Dépistage du cancer colorectal":          Prevention,
		"Mes directives anticipées":               DirectivesAnticipees,
		"Attestation de droits":                   Administratif,
		"Carte vitale recto":                      Administratif,
		"carte de mutuelle":                       Administratif,
		"Synthèse médicale (VSM)":                 SyntheseMedicale,
		"Confirmation de rendez-vous":             Autres, // "irm" inside a word is no MRI
		"Bonjour":                                 Autres,
		"":                                        Autres,
		"Radiologie : compte rendu d’échographie": Imagerie,
	} {
		if got := CategoryFromText(in); got != want {
			t.Errorf("%q = %s, want %s", in, got, want)
		}
	}
}

func TestMayRead(t *testing.T) {
	for _, c := range []struct {
		profession, class string
		want              bool
	}{
		{"10", "60", true},
		{"Médecin généraliste", "31", true},
		{"Radiologue", "31", true},
		{"Cardiologue", "10", true},
		{"Pédiatre", "11", true},
		{"Sage-femme", "52", true},
		{"Pharmacien", "42", true},
		{"Pharmacien", "43", true},
		{"pharmacien", "11", true},
		{"Pharmacien", "31", false},
		{"Pharmacien", "52", false},
		{"Infirmier", "44", true},
		{"Infirmière", "45", true},
		{"Infirmier", "31", false},
		{"Infirmier", "60", false},
		{"Masseur-kinésithérapeute", "31", true},
		{"Masseur-kinésithérapeute", "43", false},
		{"Chirurgien-dentiste", "31", true},
		{"Pédicure-podologue", "44", true},
		{"Orthophoniste", "31", false},
		{"Psychologue", "10", false}, // not in the matrix
		{"Biologiste", "10", false},  // physician or pharmacist: unknown
		{"", "10", false},
		{"Plombier", "90", false},
		{"10", "99", false},
		{"21", " 42 ", true},
	} {
		if got := MayRead(c.profession, c.class); got != c.want {
			t.Errorf("MayRead(%q, %q) = %v", c.profession, c.class, got)
		}
	}
	for label, code := range map[string]string{
		"Chirurgien-dentiste": "40", "Chirurgien orthopédiste": "10", "Sage femme": "50", "Maïeuticien": "50",
		"Podo-orthésiste": "82", "Pédicure-podologue": "80", "Infirmier psychiatrique": "69", "Technicien de laboratoire médical": "86",
		"Manipulateur d'électroradiologie médicale": "98", "Médecin biologiste": "10", "Pharmacien biologiste": "21", "Diététicienne": "95",
	} {
		if got, ok := ProfessionCode(label); !ok || got != code {
			t.Errorf("ProfessionCode(%q) = %q, want %s", label, got, code)
		}
	}
	if got := ReadableClasses("Médecin"); strings.Join(got, ",") != strings.Join(Classes, ",") {
		t.Errorf("physician %q", got)
	}
	if got := ReadableClasses("Pharmacien"); strings.Join(got, ",") != "10,11,42,43,44,45,60,90,95" {
		t.Errorf("pharmacist %q", got)
	}
	if ReadableClasses("x") != nil {
		t.Error("unknown profession reads something")
	}
	// Every class of every row is a known class, and every profession
	// reads the patient's own documents.
	known := map[string]bool{}
	for _, c := range Classes {
		known[c] = true
	}
	for prof, classes := range accessMatrix {
		for _, c := range classes {
			if !known[c] {
				t.Errorf("%s: unknown class %s", prof, c)
			}
		}
		if !MayRead(prof, ClassPatient) {
			t.Errorf("%s cannot read class 90", prof)
		}
	}
}

func TestFileTypes(t *testing.T) {
	pdf, err := os.ReadFile("../cda/testdata/IMG_CR_IMG_2023.11_Doc_metier.pdf")
	if err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	tiff := []byte("II*\x00\x08\x00\x00\x00")
	tiffBE := []byte("MM\x00*\x00\x00\x00\x08")
	rtf := []byte(`{\rtf1\ansi Bonjour}`)
	doc := []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00")
	txt := []byte("Bonjour docteur,\r\nvoici mes résultats.\r\n")
	for _, c := range []struct {
		p       Policy
		name    string
		content []byte
		want    Kind
		code    string
	}{
		{PatientUpload, "cr.pdf", pdf, KindPDF, ""},
		{PatientUpload, "CR.PDF", pdf, KindPDF, ""},
		{PatientUpload, "photo.jpg", jpeg, KindJPEG, ""},
		{PatientUpload, "photo.jpeg", jpeg, KindJPEG, ""},
		{PatientUpload, "scan.png", png, KindPNG, ""},
		{PatientUpload, "scan.tiff", tiff, KindTIFF, ""},
		{PatientUpload, "scan.tif", tiffBE, KindTIFF, ""},
		{PatientUpload, "lettre.rtf", rtf, KindRTF, ""},
		{PatientUpload, "note.txt", txt, KindText, ""},
		{PatientUpload, "lettre.doc", doc, "", "type"}, // doc only in messages
		{MessageAttachment, "lettre.doc", doc, KindDOC, ""},
		{MessageAttachment, "scan.png", png, KindPNG, ""},
		{PatientUpload, "virus.exe", []byte("MZ\x90\x00"), "", "type"},
		{PatientUpload, "ordonnance.pdf.exe", pdf, "", "type"},
		{PatientUpload, "sans-extension", pdf, "", "type"},
		{PatientUpload, "vide.pdf", nil, "", "empty"},
		{PatientUpload, "gros.pdf", append(append([]byte(nil), pdf...), make([]byte, 5<<20)...), "", "size"},
		{PatientUpload, "faux.pdf", jpeg, "", "mismatch"},
		{PatientUpload, "page.txt", []byte("<html><script>alert(1)</script></html>"), "", "mismatch"},
		{PatientUpload, "binaire.txt", []byte("\x00\x01\x02\x03"), "", "mismatch"},
		{PatientUpload, "renomme.jpg", []byte("MZ\x90\x00"), "", "mismatch"},
		{MessageAttachment, "archive.doc", []byte("PK\x03\x04"), "", "mismatch"},
	} {
		got, err := c.p.Check(c.name, c.content)
		var r *Refusal
		switch {
		case c.code == "" && (err != nil || got != c.want):
			t.Errorf("%s: %v %v", c.name, got, err)
		case c.code != "" && (!errors.As(err, &r) || r.Code != c.code || got != ""):
			t.Errorf("%s: %v, want refusal %s", c.name, err, c.code)
		}
	}
	_, err = PatientUpload.Check("x.exe", []byte("x"))
	if err == nil || err.Error() != "Type de fichier non accepté (.exe). Formats acceptés : PDF, TXT, RTF, JPG, JPEG, PNG, TIF, TIFF." {
		t.Errorf("message %v", err)
	}
	_, err = PatientUpload.Check("x.pdf", make([]byte, 6<<20))
	if err == nil || !strings.Contains(err.Error(), "5 Mo") {
		t.Errorf("message %v", err)
	}
	_, err = PatientUpload.Check("x.pdf", jpeg)
	if err == nil || err.Error() != "Le contenu du fichier ne correspond pas à son extension .pdf (image JPEG)." {
		t.Errorf("message %v", err)
	}
	if KindPDF.MIME() != "application/pdf" || KindDOC.MIME() != "application/msword" {
		t.Error("mime")
	}
	if k, ok := Sniff(append([]byte("\x7fELF\x02\x01"), bytes.Repeat([]byte{0}, 8)...)); ok {
		t.Errorf("sniffed %s", k)
	}
}
