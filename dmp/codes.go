package dmp

import (
	"mssanted/dmp/classify"
)

// The library's codes come from dmp/classify (categories, DMP classes, the
// access matrix, accepted file types); these are the few calls the store
// makes, in its own terms.

// IsCategory tells whether id is a category of the library.
func IsCategory(id string) bool { _, ok := classify.ParseCategory(id); return ok }

// CategoryLabel is the French label of a category id ("" if unknown).
func CategoryLabel(id string) string {
	c, ok := classify.ParseCategory(id)
	if !ok {
		return ""
	}
	return c.Label()
}

// ClassOf returns the DMP class of a typeCode ("" if unknown).
func ClassOf(typeCode string) string { return classify.ClassOf(typeCode) }

// CategoryFor picks the category of a document: from its codes, else from
// words of text (the subject, the file name).
func CategoryFor(classCode, typeCode, text string) string {
	if c := classify.CategoryOf(classCode, typeCode); c != classify.Autres || classCode != "" && classCode != "90" {
		return string(c)
	}
	return string(classify.CategoryFromText(text))
}

// MayRead is the access matrix: a plain attachment with no class is read
// as a document deposited for the patient (class 90).
func MayRead(profession, classCode string) bool {
	if classCode == "" {
		classCode = "90"
	}
	return classify.MayRead(profession, classCode)
}

// SniffAttachment checks a message attachment (pdf, txt, rtf, jpg/jpeg,
// png, tiff, doc) and returns its MIME type.
func SniffAttachment(name string, data []byte) (string, error) {
	k, err := classify.MessageAttachment.Check(name, data)
	if err != nil {
		return "", err
	}
	return k.MIME(), nil
}

// SniffUpload checks a patient's upload (pdf, txt, rtf, jpg, jpeg, png,
// tiff; 5 MB) and returns its MIME type.
func SniffUpload(name string, data []byte) (string, error) {
	k, err := classify.PatientUpload.Check(name, data)
	if err != nil {
		return "", err
	}
	return k.MIME(), nil
}
