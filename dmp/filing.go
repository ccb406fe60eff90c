package dmp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"mssanted/db"
	"mssanted/directory"
	"mssanted/dmp/cda"
	"mssanted/dmp/xdm"
	"mssanted/mailbox"
)

// Filing turns the attachments of a message to a patient into documents
// of their library (domain.md rule 6): plain files (PDF, images, text…),
// the documents of an IHE_XDM.ZIP with the metadata of its METADATA.XML,
// and CDA R2 documents read from their header. The message is read once,
// before the delivery transaction (Prepare); each patient recipient's
// documents are inserted in that transaction (File). Whatever is refused
// (a hostile archive, a type not accepted, another patient's INS) is
// recorded with its reason; the message itself is always delivered.

// Bounds of what one message may file.
const (
	maxAttachments      = 50
	maxAttachmentBytes  = 25 << 20
	maxFiledPerMessage  = 100
	xdmArchiveName      = "ihe_xdm.zip"
	problemTypeRefused  = "type-refused"
	problemTooMany      = "too-many"
	problemUnreadableMI = "mime"
)

// Filer returns the filer the delivery pipeline calls.
func (s *Store) Filer() mailbox.Filer { return filer{s} }

type filer struct{ s *Store }

// item is one document ready to file.
type item struct {
	doc       Document
	content   []byte
	sourceKey string
	// twinKey names the item this one is the rendering of (the PDF of a
	// CDA), resolved to TwinID at filing.
	twinKey string
	// patientIDs are the identities the document claims (XDM, CDA).
	patientIDs []xdm.PatientID
}

type problemRec struct {
	part, code, reason string
}

type plan struct {
	s        *Store
	msg      mailbox.FilingMessage
	items    []*item
	problems []problemRec
	// mdnByINS caches the integration check per patient.
	checked map[int64]*xdm.Problem
}

func (f filer) Prepare(ctx context.Context, m mailbox.FilingMessage) (mailbox.FilingPlan, error) {
	p := &plan{s: f.s, msg: m, checked: map[int64]*xdm.Problem{}}
	rc, err := f.s.blobs.Open(ctx, m.BlobKey)
	if err != nil {
		return nil, fmt.Errorf("dmp: open message: %w", err)
	}
	defer rc.Close()
	parts, err := attachments(rc)
	if err != nil {
		p.problems = append(p.problems, problemRec{"", problemUnreadableMI, "message illisible : " + err.Error()})
	}
	author := p.messageAuthor(ctx)
	var pdfs []*item
	var cdas []*item
	for i, a := range parts {
		key := fmt.Sprintf("%s#%d", m.MessageID, i)
		lower := strings.ToLower(a.name)
		switch {
		case lower == xdmArchiveName || strings.HasSuffix(lower, ".zip"):
			p.addXDM(key, a, author)
		case isXML(lower, a.data):
			if it := p.addCDA(key, a, author); it != nil {
				cdas = append(cdas, it)
			}
		default:
			mt, err := SniffAttachment(a.name, a.data)
			if err != nil {
				p.problems = append(p.problems, problemRec{a.name, problemTypeRefused, err.Error()})
				continue
			}
			it := &item{content: a.data, sourceKey: key, doc: author}
			it.doc.Title = titleFromName(a.name)
			it.doc.Filename, it.doc.MimeType, it.doc.Origin = a.name, mt, "message"
			it.doc.Category = CategoryFor("", "", m.Subject+" "+a.name)
			p.items = append(p.items, it)
			if mt == "application/pdf" {
				pdfs = append(pdfs, it)
			}
		}
	}
	p.linkTwins(cdas, pdfs)
	if len(p.items) > maxFiledPerMessage {
		p.problems = append(p.problems, problemRec{"", problemTooMany, fmt.Sprintf("plus de %d documents : les suivants ne sont pas classés", maxFiledPerMessage)})
		p.items = p.items[:maxFiledPerMessage]
	}
	return p, nil
}

// messageAuthor is who deposits the plain attachments: the sending
// professional, as the directory knows them.
func (p *plan) messageAuthor(ctx context.Context) Document {
	d := Document{AuthorAddress: strings.ToLower(p.msg.From), AuthorName: p.msg.From}
	if a := p.msg.Sender; a != nil {
		d.AuthorName = a.DisplayName
		if a.Professional != nil {
			d.AuthorID = firstNonEmpty(a.Professional.RPPS, a.Professional.ADELI)
			d.AuthorProfession = a.Professional.Profession
		}
		if a.Role == directory.Pharmacy {
			d.AuthorProfession = directory.PharmacyKindLabel
		}
		return d
	}
	if c, err := p.s.dir.CardOf(ctx, p.msg.From, p.msg.From); err == nil {
		d.AuthorName, d.AuthorProfession = c.Name, c.Profession
	}
	return d
}

func (p *plan) addXDM(key string, a part, author Document) {
	arch, err := xdm.Open(bytes.NewReader(a.data), int64(len(a.data)), xdm.Limits{})
	if err != nil {
		pr, ok := xdm.AsProblem(err)
		if !ok {
			pr = &xdm.Problem{Code: "archive", Reason: "archive IHE_XDM illisible", MDN: xdm.MDNOther}
		}
		p.problems = append(p.problems, problemRec{a.name, string(pr.Code), pr.Reason})
		return
	}
	for _, d := range arch.Refused() {
		p.problems = append(p.problems, problemRec{a.name + ":" + d.Path, string(d.Problem.Code), d.Problem.Reason})
	}
	for _, d := range arch.Accepted() {
		e := d.Entry
		if e.IsSignature() {
			continue // the IHE DSG signature of the set is evidence, not a document for the patient
		}
		it := &item{content: d.Content, sourceKey: key + ":" + d.Path, doc: author}
		it.doc.Origin, it.doc.Filename = "xdm", path.Base(d.Path)
		it.doc.Title = firstNonEmpty(e.Title, titleFromName(d.Path))
		it.doc.MimeType = firstNonEmpty(e.MimeType, "application/octet-stream")
		it.doc.ClassCode, it.doc.TypeCode, it.doc.FormatCode = e.Class.Code, e.Type.Code, e.Format.Code
		it.doc.Category = CategoryFor(e.Class.Code, e.Type.Code, p.msg.Subject)
		it.doc.Date = firstTime(e.CreationTime, e.ServiceStartTime)
		if !e.ServiceStartTime.IsZero() {
			it.doc.serviceStart = e.ServiceStartTime
		}
		if !e.ServiceStopTime.IsZero() {
			it.doc.serviceStop = e.ServiceStopTime
		}
		if len(e.Authors) > 0 {
			au := e.Authors[0]
			if n := au.Person.Name(); n != "" {
				it.doc.AuthorName, it.doc.AuthorID = n, au.Person.ID
			}
			if len(au.Institutions) > 0 {
				it.doc.Institution = au.Institutions[0].Name
			}
			if len(au.Specialties) > 0 && au.Specialties[0].Display != "" {
				it.doc.AuthorProfession = au.Specialties[0].Display
			}
		}
		conf := []string{}
		for _, c := range e.Confidentiality {
			conf = append(conf, c.Code)
		}
		it.doc.Confidentiality = strings.Join(conf, ",")
		it.doc.Masked, it.doc.InvisiblePatient, it.doc.InvisibleReps = e.MaskedFromProfessionals(), e.InvisibleToPatient(), e.InvisibleToLegalRepresentatives()
		it.doc.uniqueID = e.UniqueID
		it.patientIDs = append(it.patientIDs, e.PatientID)
		p.items = append(p.items, it)
	}
}

func (p *plan) addCDA(key string, a part, author Document) *item {
	h, err := cda.ParseHeader(a.data)
	if err != nil {
		p.problems = append(p.problems, problemRec{a.name, "cda", "document CDA illisible : " + err.Error()})
		return nil
	}
	it := &item{content: a.data, sourceKey: key, doc: author}
	it.doc.Origin, it.doc.Filename, it.doc.MimeType = "cda", a.name, "text/xml"
	it.doc.Title = firstNonEmpty(h.Title, titleFromName(a.name))
	it.doc.TypeCode = h.Code.Code
	it.doc.Category = CategoryFor("", h.Code.Code, p.msg.Subject)
	it.doc.ClassCode = ClassOf(h.Code.Code)
	it.doc.Date = h.EffectiveTime
	it.doc.Confidentiality = h.Confidentiality.Code
	if len(h.Authors) > 0 {
		au := h.Authors[0]
		if n := au.Name.Full(); n != "" {
			it.doc.AuthorName, it.doc.AuthorID = n, au.ID.Extension
		}
		it.doc.Institution = au.Organization.Name
	}
	if h.Patient.INS != "" {
		it.patientIDs = append(it.patientIDs, xdm.PatientID{ID: h.Patient.INS, OID: h.Patient.INSRoot, Type: "NH"})
	}
	p.items = append(p.items, it)
	// A level 1 CDA carries its document (a PDF): filed as its twin.
	if h.Body != nil && len(h.Body.Content) > 0 && h.Body.MediaType == "application/pdf" {
		pdf := &item{content: h.Body.Content, sourceKey: key + ":body", doc: it.doc, patientIDs: it.patientIDs}
		pdf.doc.Filename = strings.TrimSuffix(a.name, path.Ext(a.name)) + ".pdf"
		pdf.doc.MimeType, pdf.doc.Origin = "application/pdf", "cda"
		pdf.twinKey, it.twinKey = it.sourceKey, pdf.sourceKey
		p.items = append(p.items, pdf)
	}
	return it
}

// linkTwins pairs each CDA with the PDF of the same mail (reference.md:
// "the same documents as PDF/A-1"): by file name stem, else in order when
// the counts agree. The PDF takes the CDA's metadata.
func (p *plan) linkTwins(cdas, pdfs []*item) {
	used := map[*item]bool{}
	pair := func(c, pdf *item) {
		used[pdf] = true
		pdf.twinKey, c.twinKey = c.sourceKey, pdf.sourceKey
		pdf.doc.Title, pdf.doc.ClassCode, pdf.doc.TypeCode, pdf.doc.Category = c.doc.Title, c.doc.ClassCode, c.doc.TypeCode, c.doc.Category
		pdf.doc.Date, pdf.doc.AuthorName, pdf.doc.Confidentiality = c.doc.Date, c.doc.AuthorName, c.doc.Confidentiality
		pdf.doc.Masked, pdf.doc.InvisiblePatient, pdf.doc.InvisibleReps = c.doc.Masked, c.doc.InvisiblePatient, c.doc.InvisibleReps
		pdf.patientIDs = c.patientIDs
	}
	stem := func(n string) string { return strings.ToLower(strings.TrimSuffix(n, path.Ext(n))) }
	var xdmDocs []*item
	for _, it := range p.items {
		if it.doc.Origin == "xdm" && strings.Contains(it.doc.MimeType, "xml") {
			xdmDocs = append(xdmDocs, it)
		}
	}
	cdas = append(cdas, xdmDocs...)
	for _, c := range cdas {
		for _, pdf := range pdfs {
			if !used[pdf] && stem(pdf.doc.Filename) == stem(c.doc.Filename) {
				pair(c, pdf)
				break
			}
		}
	}
	var freeC, freeP []*item
	for _, c := range cdas {
		if c.twinKey == "" {
			freeC = append(freeC, c)
		}
	}
	for _, pdf := range pdfs {
		if !used[pdf] {
			freeP = append(freeP, pdf)
		}
	}
	if len(freeC) == len(freeP) {
		for i := range freeC {
			pair(freeC[i], freeP[i])
		}
	}
}

// Check is the integration check of reference.md: the documents must be
// about the recipient (their INS).
func (p *plan) Check(patient *directory.Account) string {
	pr := p.check(patient)
	if pr == nil {
		return ""
	}
	return pr.MDNText()
}

func (p *plan) check(patient *directory.Account) *xdm.Problem {
	if pr, ok := p.checked[patient.ID]; ok {
		return pr
	}
	var ids []xdm.PatientID
	for _, it := range p.items {
		ids = append(ids, it.patientIDs...)
	}
	var pr *xdm.Problem
	if len(ids) > 0 && patient.Patient != nil {
		pr = xdm.CheckPatientIDs(ids, patient.Patient.INS)
	}
	p.checked[patient.ID] = pr
	return pr
}

// File inserts the documents for one patient in the delivery transaction.
func (p *plan) File(ctx context.Context, tx *sql.Tx, patient *directory.Account, msgRow int64, now time.Time) ([]mailbox.FiledDocument, error) {
	us := db.Micros(now)
	record := func(part, code, reason string) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO filing_problems (patient_id, message_row, part, code, reason, at) VALUES ($1, $2, $3, $4, $5, $6)`,
			patient.ID, msgRow, part, code, reason, us)
		return err
	}
	for _, pr := range p.problems {
		if err := record(pr.part, pr.code, pr.reason); err != nil {
			return nil, fmt.Errorf("dmp: record filing problem: %w", err)
		}
	}
	identity := p.check(patient)
	if identity != nil {
		if err := record("", string(identity.Code), identity.Reason); err != nil {
			return nil, fmt.Errorf("dmp: record filing problem: %w", err)
		}
	}
	var maskNew bool
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT mask_new FROM record_settings WHERE patient_id = $1), FALSE)`, patient.ID).Scan(&maskNew); err != nil {
		return nil, err
	}
	var out []mailbox.FiledDocument
	ids := map[string]int64{}
	for _, it := range p.items {
		if identity != nil && len(it.patientIDs) > 0 {
			continue // another patient's documents are never filed here (904)
		}
		key, _, err := p.s.blobs.Put(ctx, bytes.NewReader(it.content))
		if err != nil {
			return nil, fmt.Errorf("dmp: store document: %w", err)
		}
		sum := sha256.Sum256(it.content)
		d := it.doc
		if d.Date.IsZero() {
			d.Date = now
		}
		if d.Confidentiality == "" {
			d.Confidentiality = "N"
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO documents (patient_id, title, category, class_code, type_code, format_code, filename, mime_type, size,
			blob_key, sha256, doc_date, service_start, service_stop, filed_at, origin, author_name, author_id, author_address, author_profession,
			institution, confidentiality, masked, invisible_patient, invisible_reps, source_message_row, source_message_id, source_key, unique_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)
			ON CONFLICT (patient_id, source_key) DO NOTHING RETURNING id`,
			patient.ID, truncate(d.Title, 200), d.Category, d.ClassCode, d.TypeCode, d.FormatCode, d.Filename, d.MimeType, int64(len(it.content)),
			key, hex.EncodeToString(sum[:]), db.Micros(d.Date), nullTime(d.serviceStart), nullTime(d.serviceStop), us, d.Origin,
			d.AuthorName, d.AuthorID, d.AuthorAddress, d.AuthorProfession, d.Institution, d.Confidentiality,
			d.Masked || maskNew, d.InvisiblePatient, d.InvisibleReps, msgRow, p.msg.MessageID, it.sourceKey, d.uniqueID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue // already filed (the same message delivered again)
		}
		if err != nil {
			return nil, fmt.Errorf("dmp: file document: %w", err)
		}
		ids[it.sourceKey] = id
		out = append(out, mailbox.FiledDocument{ID: id, Title: d.Title, Visible: !d.InvisiblePatient})
	}
	for _, it := range p.items {
		if a, b := ids[it.sourceKey], ids[it.twinKey]; a != 0 && b != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE documents SET twin_id = $1 WHERE id = $2`, b, a); err != nil {
				return nil, fmt.Errorf("dmp: link twin: %w", err)
			}
		}
	}
	if len(out) > 0 {
		actor := &directory.Account{Address: p.msg.From, DisplayName: firstNonEmpty(p.items[0].doc.AuthorName, p.msg.From), Role: directory.Professional}
		if p.msg.Sender != nil {
			actor = p.msg.Sender
		}
		for _, d := range out {
			if err := p.s.trace(ctx, tx, patient.ID, d.ID, actor, "dépôt"); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// part is one attachment of a message.
type part struct {
	name string
	data []byte
}

// attachments reads the attachments of a message (inline parts with a file
// name count, as mail clients send photos inline).
func attachments(r io.Reader) ([]part, error) {
	mr, err := mail.CreateReader(r)
	if err != nil && mr == nil {
		return nil, err
	}
	defer mr.Close()
	var out []part
	for len(out) < maxAttachments {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if strings.Contains(err.Error(), "unknown charset") {
				continue
			}
			return out, err
		}
		var name, ct string
		switch h := p.Header.(type) {
		case *mail.AttachmentHeader:
			name, _ = h.Filename()
			ct, _, _ = h.ContentType()
		case *mail.InlineHeader:
			ct, params, _ := h.ContentType()
			name = params["name"]
			if _, dp, err := h.ContentDisposition(); err == nil && dp["filename"] != "" {
				name = dp["filename"]
			}
			if name == "" || strings.HasPrefix(ct, "text/") && !strings.Contains(strings.ToLower(name), ".") {
				continue
			}
		}
		if ct == "application/pkcs7-signature" || ct == "application/x-pkcs7-signature" || name == "" && ct == "" {
			continue
		}
		if name == "" {
			name = "document"
		}
		data, err := io.ReadAll(io.LimitReader(p.Body, maxAttachmentBytes+1))
		if err != nil {
			return out, err
		}
		if len(data) > maxAttachmentBytes {
			continue
		}
		out = append(out, part{name: path.Base(strings.ReplaceAll(name, "\\", "/")), data: data})
	}
	return out, nil
}

func isXML(name string, data []byte) bool {
	if strings.HasSuffix(name, ".xml") {
		return true
	}
	head := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	return bytes.HasPrefix(head, []byte("<?xml")) && bytes.Contains(data[:min(len(data), 4096)], []byte("ClinicalDocument"))
}

func titleFromName(name string) string {
	base := path.Base(name)
	t := strings.TrimSpace(strings.NewReplacer("_", " ", "-", " ").Replace(strings.TrimSuffix(base, path.Ext(base))))
	if t == "" {
		return "Document"
	}
	return strings.ToUpper(t[:1]) + t[1:]
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.Micros(t)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
