package xdm

import (
	"fmt"
	"strconv"
	"strings"
)

// A mail carrying health documents concerns one patient (shared/reference.md,
// "Documents travelling by mail"): every patientId of its XDM archive must be
// the qualified INS of the mail's patient. The codes reported are those of
// the MDN integration errors: 903 INS missing, 904 INS mismatch, 905 INS
// incomplete (902 unknown patient needs the directory: see UnknownPatient).

// PatientIDs are the patient ids of the archive: each submission set's,
// then each document entry's, in order, empty ones included.
func (a *Archive) PatientIDs() []PatientID {
	var out []PatientID
	for _, s := range a.Sets {
		out = append(out, s.Metadata.SubmissionSet.PatientID)
		for _, e := range s.Metadata.Documents {
			out = append(out, e.PatientID)
		}
	}
	return out
}

// HasQualifiedINS tells whether the archive carries a qualified INS (the
// submission set's patientId, else every entry's): the value of the
// X-MSS-INS header, "O" or "N" (shared/reference.md, "Headers specific to
// the space").
func (a *Archive) HasQualifiedINS() bool {
	ids := a.PatientIDs()
	if len(ids) == 0 {
		return false
	}
	for _, id := range ids {
		if QualifiedINS(id) != nil {
			return false
		}
	}
	return true
}

// CheckPatient checks every patient id of the archive against the INS the
// mail's recipient holds. See CheckPatientIDs.
func (a *Archive) CheckPatient(expectedINS string) *Problem {
	return CheckPatientIDs(a.PatientIDs(), expectedINS)
}

// CheckPatientIDs returns nil when every id is the qualified INS
// expectedINS, else the most serious problem found: 904 when one is a
// qualified INS of someone else, then 905 when one is not a qualified INS
// (assigning authority other than INS-NIR 1.2.250.1.213.1.4.8 or its test
// authority 1.2.250.1.213.1.4.10 (the INS-C 1.2.250.1.213.1.4.2 included),
// not 15 characters, a wrong key, a type other than NH), then 903 when one
// is missing or there are none. The test authority is accepted: the real
// samples use it, and the directory does not record which one a patient's
// INS belongs to. The type code may be absent, as in the ASIP examples.
func CheckPatientIDs(ids []PatientID, expectedINS string) *Problem {
	want := strings.ToUpper(strings.TrimSpace(expectedINS))
	if err := validINS(want); err != nil {
		return &Problem{
			Code:    CodePatientNotQualif,
			Reason:  "l'INS attendu du patient est invalide",
			English: fmt.Sprintf("the expected INS %q is invalid: %v", expectedINS, err),
			MDN:     MDNOther,
		}
	}
	var missing, incomplete, mismatch *PatientID
	for i := range ids {
		id := &ids[i]
		switch {
		case id.ID == "":
			if missing == nil {
				missing = id
			}
		case QualifiedINS(*id) != nil:
			if incomplete == nil {
				incomplete = id
			}
		case strings.ToUpper(id.ID) != want:
			if mismatch == nil {
				mismatch = id
			}
		}
	}
	switch {
	case mismatch != nil:
		return &Problem{
			Code:    CodePatientMismatch,
			Reason:  "l'INS du patient dans les métadonnées ne correspond pas au destinataire",
			English: fmt.Sprintf("patient id %s does not match the recipient's INS %s", mismatch.ID, want),
			MDN:     MDNINSMismatch,
		}
	case incomplete != nil:
		return &Problem{
			Code:    CodePatientNotQualif,
			Reason:  "l'identifiant du patient dans les métadonnées n'est pas un INS qualifié",
			English: fmt.Sprintf("patient id %q is not a qualified INS: %v", incomplete.Raw, QualifiedINS(*incomplete)),
			MDN:     MDNINSIncomplete,
		}
	case missing != nil || len(ids) == 0:
		return &Problem{
			Code:    CodePatientMissing,
			Reason:  "l'INS du patient est absent des métadonnées",
			English: "the patient's INS is missing from the metadata",
			MDN:     MDNINSMissing,
		}
	}
	return nil
}

// QualifiedINS returns nil when id is an INS-NIR (or test INS-NIR) with a
// valid 15-character NIR and, if given, the type code NH.
func QualifiedINS(id PatientID) error {
	if id.OID != OIDINSNIR && id.OID != OIDINSNIRTest {
		return fmt.Errorf("assigning authority %s is not INS-NIR (%s or %s)", id.OID, OIDINSNIR, OIDINSNIRTest)
	}
	if id.Type != "" && id.Type != "NH" {
		return fmt.Errorf("identifier type %s is not NH", id.Type)
	}
	return validINS(strings.ToUpper(id.ID))
}

// validINS checks a NIR: 15 characters, 2A/2B allowed for Corsica, and the
// key 97 - (first 13 digits mod 97).
func validINS(ins string) error {
	if len(ins) != 15 {
		return fmt.Errorf("an INS has 15 characters, not %d", len(ins))
	}
	body := ins[:13]
	switch body[5:7] {
	case "2A":
		body = body[:5] + "19" + body[7:]
	case "2B":
		body = body[:5] + "18" + body[7:]
	}
	if !allDigits(body) || !allDigits(ins[13:]) || body[0] < '1' || body[0] > '8' {
		return fmt.Errorf("an INS is digits, starting with 1 to 8")
	}
	n, _ := strconv.ParseUint(body, 10, 64)
	if key := fmt.Sprintf("%02d", 97-n%97); key != ins[13:] {
		return fmt.Errorf("INS key %s is wrong", ins[13:])
	}
	return nil
}
