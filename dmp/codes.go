package dmp

import (
	"bytes"
	"errors"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"
)

// The library's categories, as patients see them (reference.md,
// "Categories patients see in their library"), with stable ids.
var categories = []struct{ id, label string }{
	{"resume", "Ma santé en résumé"},
	{"ordonnances", "Ordonnances et soins"},
	{"imagerie", "Radio, écho, scanner, IRM"},
	{"biologie", "Résultats de biologie"},
	{"comptes-rendus", "Comptes rendus"},
	{"prevention", "Prévention et dépistages"},
	{"certificats", "Certificats médicaux"},
	{"administratif", "Pièces administratives"},
	{"synthese", "Synthèse médicale"},
	{"directives", "Directives anticipées"},
	{"questionnaire", "Questionnaire santé"},
	{"autres", "Autres documents"},
}

// IsCategory tells whether id is a category of the library.
func IsCategory(id string) bool { return CategoryLabel(id) != "" }

// CategoryLabel is the French label of a category id ("" if unknown).
func CategoryLabel(id string) string {
	for _, c := range categories {
		if c.id == id {
			return c.label
		}
	}
	return ""
}

// classOfType maps typeCodes to the DMP classCode (reference.md, "LOINC
// typeCodes -> class" and the local codes).
var classOfType = map[string]string{
	"11490-0": "10", "11502-2": "10", "11488-4": "10", "34112-3": "10", "15507-7": "10", "15508-5": "10",
	"18748-4": "31", "IMG-KOS": "31",
	"34133-9": "11", "18761-7": "11", "56445-0": "11", "60591-5": "11", "SYNTH": "11",
	"57833-6": "42", "57828-6": "42", "57832-8": "42", "61357-0": "42", "75468-9": "42", "PRESC-BIO": "42", "PRESC-KINE": "42", "PRESC-INF": "42",
	"60593-1": "43",
	"11369-6": "52", "87273-9": "52", "CERT_DECL": "52",
	"74465-6": "90",
	"59284-0": "95", "86531-1": "95",
	"REMB": "60",
}

// ClassOf returns the DMP class of a typeCode ("" if unknown).
func ClassOf(typeCode string) string {
	if c, ok := classOfType[typeCode]; ok {
		return c
	}
	if strings.HasPrefix(typeCode, "DOCPAT") {
		return "90"
	}
	return ""
}

// categoryOfClass is where each DMP class is shown to the patient.
var categoryOfClass = map[string]string{
	"10": "comptes-rendus", "11": "synthese", "31": "imagerie", "42": "ordonnances", "43": "ordonnances",
	"44": "ordonnances", "45": "ordonnances", "52": "certificats", "60": "administratif", "90": "autres", "95": "administratif",
}

// keywords classify a plain attachment from its message subject and file
// name when no code says what it is.
var keywords = []struct {
	words    []string
	category string
}{
	{[]string{"ordonnance", "prescription"}, "ordonnances"},
	{[]string{"radio", "irm", "scanner", "echo", "imagerie", "mammographie"}, "imagerie"},
	{[]string{"biologie", "analyse", "bilan sanguin", "prise de sang", "resultats de laboratoire"}, "biologie"},
	{[]string{"compte rendu", "compte-rendu", "cr ", "lettre de liaison", "courrier"}, "comptes-rendus"},
	{[]string{"certificat"}, "certificats"},
	{[]string{"depistage", "vaccin", "prevention"}, "prevention"},
	{[]string{"mutuelle", "attestation", "carte vitale", "securite sociale"}, "administratif"},
	{[]string{"synthese"}, "synthese"},
	{[]string{"directives anticipees"}, "directives"},
}

// CategoryFor picks the category of a document: from its typeCode, else
// its classCode, else words of text (the subject, the file name).
func CategoryFor(classCode, typeCode, text string) string {
	if c := ClassOf(typeCode); c != "" {
		if cat := categoryOfClass[c]; cat != "" {
			if typeCode == "11502-2" {
				return "biologie" // a lab report is a report the patient looks for as "biologie"
			}
			return cat
		}
	}
	if cat := categoryOfClass[classCode]; cat != "" && classCode != "90" {
		return cat
	}
	t := " " + fold(text) + " "
	for _, k := range keywords {
		for _, w := range k.words {
			if strings.Contains(t, w) {
				return k.category
			}
		}
	}
	return "autres"
}

// The access matrix ("matrice d'habilitation"): the DMP classes each
// profession may read. Source: the DMP matrix published by the Assurance
// maladie / ANS (arrêté du 26 avril 2022 and its annex, as summarised in
// the DMP integration guides), reduced to the classes of reference.md. A
// sound default kept in this one table; professions not listed read
// nothing. Keys are lower-case profession labels as the directory holds
// them (directory.ProfessionalInfo.Profession); the first word matches.
var matrix = map[string][]string{
	"médecin":                  {"10", "11", "31", "42", "43", "44", "45", "52", "60", "90", "95"},
	"chirurgien-dentiste":      {"10", "11", "31", "42", "43", "44", "45", "90"},
	"sage-femme":               {"10", "11", "31", "42", "43", "44", "45", "52", "90"},
	"pharmacien":               {"11", "42", "43", "44", "45", "90"},
	"infirmier":                {"11", "42", "43", "44", "45", "90"},
	"masseur-kinésithérapeute": {"11", "42", "44", "90"},
	"pédicure-podologue":       {"11", "42", "44"},
	"radiologue":               {"10", "11", "31", "42", "90"},
}

// specialities read as their profession.
var professionAlias = map[string]string{
	"radiologue": "radiologue", "cardiologue": "médecin", "généraliste": "médecin", "pédiatre": "médecin",
	"gynécologue": "médecin", "psychiatre": "médecin", "infirmière": "infirmier", "kinésithérapeute": "masseur-kinésithérapeute",
	"dentiste": "chirurgien-dentiste", "pharmacie": "pharmacien",
}

// MayRead tells whether a profession may read documents of a DMP class.
func MayRead(profession, classCode string) bool {
	p := strings.ToLower(strings.TrimSpace(profession))
	classes, ok := matrix[p]
	if !ok {
		first, _, _ := strings.Cut(p, " ")
		if classes, ok = matrix[first]; !ok {
			classes = matrix[professionAlias[first]]
		}
	}
	if classCode == "" {
		classCode = "90" // a plain attachment, unclassified: as a patient's document
	}
	for _, c := range classes {
		if c == classCode {
			return true
		}
	}
	return false
}

// Accepted attachment and upload types (reference.md): extension and what
// the content must look like.
var fileTypes = map[string]string{
	".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
	".tif": "image/tiff", ".tiff": "image/tiff", ".rtf": "application/rtf", ".txt": "text/plain", ".doc": "application/msword",
}

var errType = errors.New("type de fichier non accepté (pdf, txt, rtf, jpg, jpeg, png, tiff) / file type not accepted")

// sniff returns the type of data, checked against its extension.
func sniff(name string, data []byte, allowed map[string]bool) (string, error) {
	ext := strings.ToLower(path.Ext(name))
	want, ok := fileTypes[ext]
	if !ok || !allowed[ext] {
		return "", errType
	}
	var got string
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		got = "application/pdf"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		got = "image/jpeg"
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		got = "image/png"
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		got = "image/tiff"
	case bytes.HasPrefix(data, []byte(`{\rtf`)):
		got = "application/rtf"
	case bytes.HasPrefix(data, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
		got = "application/msword"
	case utf8.Valid(data) && strings.HasPrefix(http.DetectContentType(data), "text/plain"):
		got = "text/plain"
	}
	if got != want {
		return "", errors.New("le contenu du fichier ne correspond pas à son extension " + ext + " / the content does not match the extension")
	}
	return got, nil
}

var attachmentExts = map[string]bool{".pdf": true, ".jpg": true, ".jpeg": true, ".png": true, ".tif": true, ".tiff": true, ".rtf": true, ".txt": true, ".doc": true}
var uploadExts = map[string]bool{".pdf": true, ".jpg": true, ".jpeg": true, ".png": true, ".tif": true, ".tiff": true, ".rtf": true, ".txt": true}

// SniffAttachment checks a message attachment: pdf, txt, rtf, jpg/jpeg,
// png, tiff, doc.
func SniffAttachment(name string, data []byte) (string, error) {
	return sniff(name, data, attachmentExts)
}

// SniffUpload checks a patient's upload: pdf, txt, rtf, jpg, jpeg, png, tiff.
func SniffUpload(name string, data []byte) (string, error) { return sniff(name, data, uploadExts) }
