package xdm

import (
	"errors"
	"fmt"
)

// Integration error codes reported back to the sender in a failure MDN
// ("processed/Error: <code>^<label>"), from shared/reference.md
// ("Documents travelling by mail").
const (
	MDNWrongVersion      = 900 // wrong version
	MDNNotAllowed        = 901 // author may not replace/delete
	MDNUnknownPatient    = 902 // unknown patient
	MDNINSMissing        = 903 // INS missing
	MDNINSMismatch       = 904 // INS mismatch
	MDNINSIncomplete     = 905 // INS incomplete
	MDNOther             = 906 // any other integration error
	mdnFirst, mdnLast    = MDNWrongVersion, MDNOther
	defaultProblemReason = "archive IHE_XDM refusée"
)

// Code is a stable, machine-readable reason for a refusal.
type Code string

// Codes of the refusals. The archive-level ones make Open fail; the
// document-level ones (marked) only refuse one document.
const (
	CodeNotZip           Code = "not-zip"            // not a readable zip archive
	CodeTooManyEntries   Code = "too-many-entries"   // more entries than Limits.MaxEntries
	CodeTooLarge         Code = "too-large"          // a file or the total beyond the byte limits
	CodeBomb             Code = "zip-bomb"           // compression ratio beyond Limits.MaxRatio
	CodeUnsafePath       Code = "unsafe-path"        // "..", absolute, backslash, control character, duplicate
	CodeSpecialFile      Code = "special-file"       // symlink, device, other non-regular entry
	CodeEncrypted        Code = "encrypted"          // encrypted zip entry
	CodeUnsupported      Code = "unsupported"        // compression method other than store/deflate
	CodeNestedArchive    Code = "nested-archive"     // an archive inside the archive
	CodeNoMetadata       Code = "no-metadata"        // no IHE_XDM/<subset>/METADATA.XML
	CodeMetadataXML      Code = "metadata-xml"       // METADATA.XML not well-formed or not namespace-well-formed
	CodeMetadataContent  Code = "metadata-content"   // well-formed, but not an ebRIM SubmitObjectsRequest we can use
	CodeNoDocument       Code = "no-document"        // no DocumentEntry
	CodeMissingFile      Code = "missing-file"       // document: its URI names no file of the archive
	CodeHashMismatch     Code = "hash-mismatch"      // document: SHA-1 differs from the metadata, or is absent
	CodeSizeMismatch     Code = "size-mismatch"      // document: size differs from the metadata, or is absent
	CodePatientUnknown   Code = "patient-unknown"    // 902
	CodePatientMissing   Code = "patient-missing"    // 903
	CodePatientMismatch  Code = "patient-mismatch"   // 904
	CodePatientNotQualif Code = "patient-incomplete" // 905
)

// Problem is why an archive or one of its documents was refused.
//
// Reason is a French sentence for the people involved (the sender reads it in
// the MDN, the patient's space may show it); English is the same in English
// for logs and operators. MDN is the integration error code to report: 902 to
// 905 for patient-identity problems, 906 for everything else.
type Problem struct {
	Code    Code
	Reason  string // French
	English string
	MDN     int
	Path    string // the archive entry or document concerned, if any
	Err     error  // the underlying error, if any
}

func (p *Problem) Error() string {
	s := "xdm: " + p.English
	if p.Path != "" {
		s += " (" + p.Path + ")"
	}
	if p.Err != nil {
		s += ": " + p.Err.Error()
	}
	return s
}

func (p *Problem) Unwrap() error { return p.Err }

// MDNText is the value that follows "processed/Error: " in a failure MDN:
// "<code>^<label>" (shared/reference.md, "Acknowledgements"). The label is
// the French reason with the characters that would break the field removed.
func (p *Problem) MDNText() string {
	code := p.MDN
	if code < mdnFirst || code > mdnLast {
		code = MDNOther
	}
	label := p.Reason
	if label == "" {
		label = defaultProblemReason
	}
	clean := make([]rune, 0, len(label))
	for _, r := range label {
		switch {
		case r == '^' || r == '\r' || r == '\n' || r == ';':
			clean = append(clean, ' ')
		case r < 0x20:
		default:
			clean = append(clean, r)
		}
	}
	return fmt.Sprintf("%d^%s", code, string(clean))
}

// AsProblem returns the *Problem in err's chain, if any.
func AsProblem(err error) (*Problem, bool) {
	var p *Problem
	ok := errors.As(err, &p)
	return p, ok
}

func problem(code Code, path string, err error, fr, en string, args ...any) *Problem {
	return &Problem{
		Code:    code,
		Reason:  fmt.Sprintf(fr, args...),
		English: fmt.Sprintf(en, args...),
		MDN:     MDNOther,
		Path:    path,
		Err:     err,
	}
}

// UnknownPatient is the refusal to report when the archive names a
// well-formed INS that matches no patient of the space (MDN 902). Only the
// caller, who holds the directory, can tell.
func UnknownPatient(ins string) *Problem {
	return &Problem{
		Code:    CodePatientUnknown,
		Reason:  fmt.Sprintf("patient inconnu : aucun usager n'a l'INS %s", ins),
		English: fmt.Sprintf("unknown patient: no patient has INS %s", ins),
		MDN:     MDNUnknownPatient,
	}
}
