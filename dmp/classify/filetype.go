package classify

import (
	"bytes"
	"fmt"
	"net/http"
	"path"
	"strings"
)

// File types accepted from patients and in patient messaging.
//
// Sources: shared/reference.md ("Attachment types accepted in patient
// messaging: pdf, txt, rtf, jpg/jpeg, png, tiff, doc. Patient uploads: pdf,
// txt, rtf, jpg, jpeg, tiff, at most 5 MB each"), shared/domain.md
// ("Accepted uploads by the patient include pdf, rtf, tiff, jpg (png
// too)") and shared/mes-model.md §2 (5 MB per file). PNG is accepted for
// uploads as domain.md says.
//
// The extension says what the sender claims; the content decides. A file is
// accepted only when its bytes are of the type its extension names, so a
// renamed executable or an HTML page called .txt never reaches a patient's
// library, and the MIME type stored is the sniffed one, never the
// sender's.

// Kind is a file type by content.
type Kind string

// The kinds the policies know.
const (
	KindPDF  Kind = "pdf"
	KindText Kind = "txt"
	KindRTF  Kind = "rtf"
	KindJPEG Kind = "jpeg"
	KindPNG  Kind = "png"
	KindTIFF Kind = "tiff"
	KindDOC  Kind = "doc" // an OLE2 compound file (Word 97-2003)
)

var kindInfo = map[Kind]struct{ mime, label string }{
	KindPDF:  {"application/pdf", "document PDF"},
	KindText: {"text/plain; charset=utf-8", "texte"},
	KindRTF:  {"application/rtf", "document RTF"},
	KindJPEG: {"image/jpeg", "image JPEG"},
	KindPNG:  {"image/png", "image PNG"},
	KindTIFF: {"image/tiff", "image TIFF"},
	KindDOC:  {"application/msword", "document Word"},
}

// MIME is the type to store and serve for a kind.
func (k Kind) MIME() string { return kindInfo[k].mime }

var extKind = map[string]Kind{
	".pdf": KindPDF, ".txt": KindText, ".rtf": KindRTF, ".jpg": KindJPEG, ".jpeg": KindJPEG,
	".png": KindPNG, ".tif": KindTIFF, ".tiff": KindTIFF, ".doc": KindDOC,
}

// Policy is a set of accepted extensions and a size limit.
type Policy struct {
	Extensions []string // with the dot, lower case
	MaxBytes   int64    // 0: no limit here (the message size limit applies)
}

// PatientUpload is what a patient may add to their documents.
var PatientUpload = Policy{
	Extensions: []string{".pdf", ".txt", ".rtf", ".jpg", ".jpeg", ".png", ".tif", ".tiff"},
	MaxBytes:   5 << 20,
}

// MessageAttachment is what may be attached in patient messaging.
var MessageAttachment = Policy{
	Extensions: []string{".pdf", ".txt", ".rtf", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".doc"},
}

// Refusal is why a file was refused; Error is a French sentence for the
// user.
type Refusal struct {
	Code   string // "type", "size", "empty", "mismatch"
	Reason string
}

func (r *Refusal) Error() string { return r.Reason }

// Check accepts a file whose extension is in the policy and whose content
// is of that type, within the size limit. It returns the kind to store.
func (p Policy) Check(filename string, content []byte) (Kind, error) {
	ext := strings.ToLower(path.Ext(strings.TrimSpace(filename)))
	want, known := extKind[ext]
	if !known || !p.allows(ext) {
		shown := ext
		if shown == "" {
			shown = "sans extension"
		}
		return "", &Refusal{"type", fmt.Sprintf("Type de fichier non accepté (%s). Formats acceptés : %s.", shown, p.list())}
	}
	if len(content) == 0 {
		return "", &Refusal{"empty", "Le fichier est vide."}
	}
	if p.MaxBytes > 0 && int64(len(content)) > p.MaxBytes {
		return "", &Refusal{"size", fmt.Sprintf("Le fichier dépasse la taille maximale autorisée (%s).", megabytes(p.MaxBytes))}
	}
	got, ok := Sniff(content)
	if !ok || got != want {
		found := "contenu non reconnu"
		if ok {
			found = kindInfo[got].label
		}
		return "", &Refusal{"mismatch", fmt.Sprintf("Le contenu du fichier ne correspond pas à son extension %s (%s).", ext, found)}
	}
	return want, nil
}

func (p Policy) allows(ext string) bool {
	for _, e := range p.Extensions {
		if e == ext {
			return true
		}
	}
	return false
}

func (p Policy) list() string {
	var out []string
	for _, e := range p.Extensions {
		out = append(out, strings.ToUpper(strings.TrimPrefix(e, ".")))
	}
	return strings.Join(out, ", ")
}

func megabytes(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d Mo", n>>20)
	}
	return fmt.Sprintf("%d octets", n)
}

// Sniff tells the kind of a file by its first bytes: magic numbers for
// TIFF (TIFF 6.0 §2, "II*\0" / "MM\0*"), RTF ("{\rtf", RTF 1.9 spec) and
// DOC (the OLE2 compound file signature, MS-CFB §2.2; Excel and PowerPoint
// 97-2003 files share it and pass as DOC), then net/http's
// DetectContentType (the WHATWG MIME sniffing algorithm) for PDF, JPEG,
// PNG and plain text. Text is only text that algorithm finds free of
// binary bytes and of HTML/XML markup.
func Sniff(content []byte) (Kind, bool) {
	switch {
	case bytes.HasPrefix(content, []byte("II*\x00")), bytes.HasPrefix(content, []byte("MM\x00*")):
		return KindTIFF, true
	case bytes.HasPrefix(content, []byte(`{\rtf`)):
		return KindRTF, true
	case bytes.HasPrefix(content, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
		return KindDOC, true
	}
	switch ct := http.DetectContentType(content); {
	case ct == "application/pdf":
		return KindPDF, true
	case ct == "image/jpeg":
		return KindJPEG, true
	case ct == "image/png":
		return KindPNG, true
	case strings.HasPrefix(ct, "text/plain"):
		return KindText, true
	}
	return "", false
}
