package web

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mssanted/directory"
	"mssanted/dmp"
)

// A FHIR R4 read face on the library for professionals' software:
// DocumentReference search by patient and Binary read. The same store
// calls as the JSON API, so the access matrix, masks, blocks and traces
// apply unchanged.

// insSystem is the FHIR identifier system of the INS-NIR (urn:oid form of
// reference.md's OID).
const insSystem = "urn:oid:1.2.250.1.213.1.4.8"

func (a *api) fhirRoutes() []route {
	return []route{
		{"GET", "/fhir/r4/DocumentReference", false, a.fhirDocumentReferences},
		{"GET", "/fhir/r4/Binary/{id}", false, a.fhirBinary},
	}
}

// fhirIssue writes an OperationOutcome, the FHIR way to say what failed.
func fhirIssue(w http.ResponseWriter, status int, code, text string) error {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	return writeJSONBody(w, map[string]any{"resourceType": "OperationOutcome",
		"issue": []map[string]any{{"severity": "error", "code": code, "diagnostics": text}}})
}

func (a *api) fhirDocumentReferences(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	p := r.URL.Query().Get("patient.identifier")
	if p == "" {
		p = r.URL.Query().Get("patient")
	}
	sys, ins, ok := strings.Cut(p, "|")
	if !ok {
		ins, sys = sys, insSystem
	}
	if ins == "" || sys != insSystem && sys != "urn:oid:1.2.250.1.213.1.4.10" {
		return fhirIssue(w, http.StatusBadRequest, "required", "search by patient.identifier="+insSystem+"|<INS>")
	}
	patient, err := a.o.Docs.PatientByINS(r.Context(), ins)
	if err != nil {
		return fhirIssue(w, http.StatusNotFound, "not-found", "unknown patient")
	}
	docs, err := a.o.Docs.List(r.Context(), s.Account, patient.ID, dmp.Query{})
	if err != nil {
		if st, ok := isDocErr(err); ok && st == http.StatusForbidden {
			return fhirIssue(w, http.StatusForbidden, "forbidden", "no access to this patient's record")
		}
		return err
	}
	base := "https://" + r.Host + "/fhir/r4/"
	entries := []map[string]any{}
	for i := range docs {
		d := &docs[i]
		entries = append(entries, map[string]any{"fullUrl": base + "DocumentReference/" + strconv.FormatInt(d.ID, 10),
			"resource": documentReference(d, ins), "search": map[string]string{"mode": "match"}})
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	return writeJSONBody(w, map[string]any{"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})
}

func documentReference(d *dmp.Document, ins string) map[string]any {
	dr := map[string]any{
		"resourceType": "DocumentReference",
		"id":           strconv.FormatInt(d.ID, 10),
		"status":       "current",
		"subject":      map[string]any{"identifier": map[string]string{"system": insSystem, "value": ins}},
		"date":         d.FiledAt.UTC().Format(time.RFC3339),
		"description":  d.Title,
		"category":     []map[string]any{{"coding": []map[string]string{{"system": "urn:mssanted:category", "code": d.Category, "display": dmp.CategoryLabel(d.Category)}}}},
		"content": []map[string]any{{"attachment": map[string]any{"contentType": d.MimeType, "url": "Binary/" + strconv.FormatInt(d.ID, 10),
			"size": d.Size, "title": d.Title, "creation": d.Date.UTC().Format(time.RFC3339)}}},
	}
	if d.TypeCode != "" {
		dr["type"] = map[string]any{"coding": []map[string]string{{"system": "http://loinc.org", "code": d.TypeCode}}}
	}
	if d.ClassCode != "" {
		dr["category"] = append(dr["category"].([]map[string]any), map[string]any{"coding": []map[string]string{{"system": "urn:oid:1.2.250.1.213.1.1.4.1", "code": d.ClassCode}}})
	}
	if d.AuthorName != "" {
		dr["author"] = []map[string]string{{"display": d.AuthorName}}
	}
	if d.Confidentiality != "" {
		var sec []map[string]string
		for _, c := range strings.Split(d.Confidentiality, ",") {
			sec = append(sec, map[string]string{"code": c})
		}
		dr["securityLabel"] = []map[string]any{{"coding": sec}}
	}
	return dr
}

// fhirBinary returns the content; as FHIR JSON (base64) when asked for
// application/fhir+json, the raw bytes otherwise.
func (a *api) fhirBinary(w http.ResponseWriter, r *http.Request, s *directory.Session) error {
	id, err := docID(r)
	if err != nil {
		return fhirIssue(w, http.StatusNotFound, "not-found", "no such Binary")
	}
	d, rc, err := a.o.Docs.Open(r.Context(), s.Account, id)
	if err != nil {
		return fhirIssue(w, http.StatusNotFound, "not-found", "no such Binary")
	}
	defer rc.Close()
	if strings.Contains(r.Header.Get("Accept"), "application/fhir+json") {
		b, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		return writeJSONBody(w, map[string]any{"resourceType": "Binary", "id": fmt.Sprint(d.ID), "contentType": d.MimeType,
			"data": base64.StdEncoding.EncodeToString(b)})
	}
	w.Header().Set("Content-Type", d.MimeType)
	_, err = io.Copy(w, rc)
	return err
}
