package dmp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/xdm/xdmtest"
	"mssanted/mailbox"
)

const pw = "correct horse battery staple"

type fixture struct {
	d     *db.DB
	dir   *directory.Store
	store *mailbox.Store
	docs  *dmp.Store
	p     *mailbox.Pipeline

	doc, doc2, kine, pat *directory.Account
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := directory.New(d, nil, nil, nil)
	must(t, dir.AddDomain(ctx, "hopital.example", directory.ProfessionalDomain))
	must(t, dir.AddDomain(ctx, "patient.example", directory.PatientDomain))
	create := func(n directory.NewAccount) *directory.Account {
		n.Password = pw
		a, err := dir.Create(ctx, n)
		must(t, err)
		return a
	}
	rpps := func(s string) string { return s + string(directory.LuhnKey(s)) }
	f := &fixture{d: d, dir: dir}
	f.doc = create(directory.NewAccount{Address: "dr@hopital.example", Role: directory.Professional, DisplayName: "Dr Alice Martin",
		Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000001"), Profession: "Médecin généraliste"}})
	f.doc2 = create(directory.NewAccount{Address: "dr2@hopital.example", Role: directory.Professional, DisplayName: "Dr Paul Petit",
		Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000002"), Profession: "Médecin cardiologue"}})
	f.kine = create(directory.NewAccount{Address: "kine@hopital.example", Role: directory.Professional, DisplayName: "Luc Kiné",
		Professional: &directory.ProfessionalInfo{RPPS: rpps("1000000003"), Profession: "Masseur-kinésithérapeute"}})
	f.pat = create(directory.NewAccount{Address: "dominique@patient.example", Role: directory.Patient, DisplayName: "Dominique Pat-Trois",
		Patient: &directory.PatientInfo{INS: xdmtest.PatientINS, BirthDate: time.Date(1979, 3, 28, 0, 0, 0, 0, time.UTC), Sex: "F"}})
	blobs, err := db.NewFSBlobs(t.TempDir())
	must(t, err)
	f.store = mailbox.New(d, blobs)
	f.docs = dmp.New(d, blobs, dir)
	f.p = &mailbox.Pipeline{Store: f.store, Dir: dir, Hostname: "mail.hopital.example", Filer: f.docs.Filer(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type attachment struct {
	name, ctype string
	data        []byte
}

// letter is a professional's message with attachments, as a mail client
// writes it (multipart/mixed, base64 parts).
func letter(from, to, subject, extra string, atts ...attachment) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%d@hopital.example>\r\n%sMIME-Version: 1.0\r\n", from, to, subject, time.Now().UnixNano(), extra)
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\nci-joint.\r\n")
	for _, a := range atts {
		fmt.Fprintf(&b, "--b\r\nContent-Type: %s\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
			a.ctype, a.name, base64.StdEncoding.EncodeToString(a.data))
	}
	b.WriteString("--b--\r\n")
	return b.String()
}

func (f *fixture) deliver(t *testing.T, from *directory.Account, to, raw string) {
	t.Helper()
	ctx := context.Background()
	tx := f.p.Begin(mailbox.Envelope{Door: mailbox.Submission, From: from.Address, Auth: from})
	must(t, tx.AddRecipient(ctx, mailbox.Recipient{Address: to}))
	_, err := tx.Deliver(ctx, strings.NewReader(raw))
	must(t, err)
}

func titles(ds []dmp.Document) map[string]dmp.Document {
	out := map[string]dmp.Document{}
	for _, d := range ds {
		out[d.Title] = d
	}
	return out
}

func TestFiling(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{
		{Name: "letter-with-pdf-and-xdm", Run: testLetter},
		{Name: "ins-mismatch-mdn-904", Run: testMismatch},
		{Name: "hostile-archives-keep-the-message", Run: testHostile},
		{Name: "uploads-and-library", Run: testLibrary},
	})
}

func testLetter(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	report := xdmtest.CDALevel1(xdmtest.CDA{Title: "Lettre de liaison", Code: "11490-0"})
	arch := xdmtest.MustBuild(t, xdmtest.Spec{Documents: []xdmtest.Doc{
		{File: "DOC0001.XML", Content: report, Title: "Lettre de liaison", Class: "10", Type: "11490-0"},
		{File: "DOC0002.XML", Content: xdmtest.CDALevel1(xdmtest.CDA{Title: "Ordonnance", Code: "57833-6"}), Title: "Ordonnance de sortie",
			Class: "42", Type: "57833-6", Confidentiality: []string{"N", "MASQUE_PS"}},
		{File: "DOC0003.XML", Content: xdmtest.CDALevel1(xdmtest.CDA{Title: "Note interne"}), Title: "Note interne", Class: "52", Type: "CERT_DECL",
			Confidentiality: []string{"N", "INVISIBLE_PATIENT"}},
	}})
	f.deliver(t, f.doc, f.pat.Address, letter(f.doc.Address, f.pat.Address, "XDM/1.0/DDM+Lettre de liaison PAT-TROIS DOMINIQUE 19790328", "",
		attachment{"IHE_XDM.ZIP", "application/zip", arch},
		attachment{"DOC0001.pdf", "application/pdf", xdmtest.TinyPDF},
		attachment{"radio-epaule.jpg", "image/jpeg", []byte("\xff\xd8\xff\xe0 jpeg")},
		attachment{"virus.exe", "application/octet-stream", []byte("MZ")}))

	// The patient sees the report, its PDF twin, the masked prescription,
	// the photo; never the INVISIBLE_PATIENT note; the .exe is refused.
	mine, err := f.docs.List(ctx, f.pat, f.pat.ID, dmp.Query{})
	must(t, err)
	got := titles(mine)
	if len(mine) != 4 || got["Note interne"].ID != 0 {
		t.Fatalf("patient's library: %v", got)
	}
	cr := got["Lettre de liaison"]
	if cr.Category != "comptes-rendus" || cr.ClassCode != "10" || cr.Origin != "xdm" || cr.AuthorName != "Charles DAVID" || cr.TwinID == 0 {
		t.Fatalf("report: %+v", cr)
	}
	twin, err := f.docs.Get(ctx, f.pat, cr.TwinID)
	must(t, err)
	if twin.MimeType != "application/pdf" || twin.Title != "Lettre de liaison" || twin.Filename != "DOC0001.pdf" {
		t.Fatalf("PDF twin: %+v", twin)
	}
	if o := got["Ordonnance de sortie"]; o.Category != "ordonnances" || !o.Masked {
		t.Fatalf("prescription: %+v", o)
	}
	if r := got["Radio epaule"]; r.Category != "imagerie" || r.AuthorName != "Dr Alice Martin" || r.Origin != "message" {
		t.Fatalf("photo: %+v", r)
	}
	_, rc, err := f.docs.Open(ctx, f.pat, twin.ID)
	must(t, err)
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(b, xdmtest.TinyPDF) {
		t.Fatal("PDF content differs")
	}
	// One notification per visible document.
	ns, _, err := f.store.Notifications(ctx, f.pat.ID, 50)
	must(t, err)
	docs := 0
	for _, n := range ns {
		if n.Kind == mailbox.NotifyDocument {
			docs++
		}
	}
	if docs != 4 {
		t.Fatalf("%d document notifications, want 4", docs)
	}

	// Professionals: the author sees everything they deposited, masked
	// included (and the INVISIBLE_PATIENT note); a cardiologist with a
	// conversation sees the reports, not the masked prescription; a
	// physiotherapist's matrix excludes certificates (class 52).
	seen := func(a *directory.Account) map[string]dmp.Document {
		t.Helper()
		ds, err := f.docs.List(ctx, a, f.pat.ID, dmp.Query{})
		must(t, err)
		return titles(ds)
	}
	if s := seen(f.doc); len(s) != 4 || s["Note interne"].ID == 0 || s["Ordonnance de sortie"].ID == 0 {
		t.Fatalf("author sees %v", s)
	}
	// No care relationship yet: no access at all.
	if _, err := f.docs.List(ctx, f.doc2, f.pat.ID, dmp.Query{}); !errors.Is(err, dmp.ErrForbidden) {
		t.Fatalf("a stranger read the record: %v", err)
	}
	f.deliver(t, f.doc2, f.pat.Address, letter(f.doc2.Address, f.pat.Address, "Rendez-vous", ""))
	f.deliver(t, f.kine, f.pat.Address, letter(f.kine.Address, f.pat.Address, "Séances", ""))
	if s := seen(f.doc2); s["Lettre de liaison"].ID == 0 || s["Ordonnance de sortie"].ID != 0 || s["Note interne"].ID == 0 {
		t.Fatalf("cardiologist sees %v", s)
	}
	if s := seen(f.kine); s["Note interne"].ID != 0 || s["Lettre de liaison"].ID == 0 || s["Radio epaule"].ID == 0 {
		t.Fatalf("physiotherapist sees %v", s)
	}
	// Objection withdraws a document from professionals; a block shuts the
	// record to that professional.
	must(t, f.docs.Object(ctx, f.pat, cr.ID, "Document erroné"))
	if s := seen(f.doc2); s["Lettre de liaison"].ID != 0 && s["Lettre de liaison"].ID == cr.ID {
		t.Fatalf("objected document still shown: %v", s)
	}
	must(t, f.docs.Block(ctx, f.pat, f.doc2.Address, true))
	if _, err := f.docs.List(ctx, f.doc2, f.pat.ID, dmp.Query{}); !errors.Is(err, dmp.ErrForbidden) {
		t.Fatalf("blocked professional: %v", err)
	}
	if _, err := f.docs.Get(ctx, f.doc2, twin.ID); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatalf("blocked professional opened a document: %v", err)
	}

	// Every access is traced, and the patient reads it.
	tr, err := f.docs.Traces(ctx, f.pat, 100)
	must(t, err)
	var list, deposit int
	for _, x := range tr {
		if x.ActorName == "Dr Paul Petit" && x.ActorType == dmp.ActorProfessional && strings.Contains(x.Action, "liste") {
			list++
		}
		if x.Action == "dépôt" {
			deposit++
		}
	}
	if list < 1 || deposit != 5 {
		t.Fatalf("traces: %d list consultations by Dr Petit, %d deposits: %+v", list, deposit, tr)
	}
	if _, err := d.Write().ExecContext(ctx, `DELETE FROM access_traces`); err == nil {
		t.Fatal("the access trace could be deleted")
	}
	if _, err := f.docs.Traces(ctx, f.doc, 10); !errors.Is(err, dmp.ErrForbidden) {
		t.Fatal("a professional read the patient's trace")
	}
}

func testMismatch(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	k, _ := directory.INSKey("1850775123456")
	other := "1850775123456" + k
	arch := xdmtest.MustBuild(t, xdmtest.Spec{Patient: xdmtest.Patient{INS: other}})
	f.deliver(t, f.doc, f.pat.Address, letter(f.doc.Address, f.pat.Address, "Compte rendu", "Disposition-Notification-To: <dr@hopital.example>\r\n",
		attachment{"IHE_XDM.ZIP", "application/zip", arch}))
	// Delivered, nothing filed, the reason recorded.
	in, err := f.store.Inbox(ctx, f.pat.ID)
	must(t, err)
	if len(in) != 1 {
		t.Fatal("the message was not delivered")
	}
	mine, err := f.docs.List(ctx, f.pat, f.pat.ID, dmp.Query{})
	must(t, err)
	if len(mine) != 0 {
		t.Fatalf("another patient's document was filed: %+v", mine)
	}
	var code string
	must(t, d.Read().QueryRowContext(ctx, `SELECT code FROM filing_problems WHERE patient_id = $1`, f.pat.ID).Scan(&code))
	if code != "patient-mismatch" {
		t.Fatalf("problem %q", code)
	}
	// The MDN the sender asked for says 904.
	out, err := f.store.Inbox(ctx, f.doc.ID)
	must(t, err)
	if len(out) != 1 {
		t.Fatalf("sender has %d messages, want the MDN", len(out))
	}
	acc, err := f.store.Open(ctx, f.dir, f.doc, "")
	must(t, err)
	inbox, err := acc.Folder(ctx, "INBOX")
	must(t, err)
	ms, err := acc.Messages(ctx, inbox, 1, 0)
	must(t, err)
	rc, err := acc.OpenBody(ctx, &ms[0])
	must(t, err)
	body, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Contains(body, []byte("Disposition: automatic-action/MDN-sent-automatically; processed/Error: 904^")) {
		t.Fatalf("MDN:\n%s", body)
	}
}

func testHostile(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	cases := []xdmtest.Hostile{{Traversal: true}, {NestedZip: true}, {BrokenXML: true}, {Bomb: 64 << 20}, {Symlink: true}}
	for i, h := range cases {
		arch := xdmtest.MustBuild(t, xdmtest.Spec{Hostile: h})
		f.deliver(t, f.doc, f.pat.Address, letter(f.doc.Address, f.pat.Address, fmt.Sprintf("Envoi %d", i), "",
			attachment{"IHE_XDM.ZIP", "application/zip", arch}))
	}
	// A document whose hash does not match is refused, its sibling filed.
	arch := xdmtest.MustBuild(t, xdmtest.Spec{Documents: []xdmtest.Doc{{Title: "Bon"}, {Title: "Mauvais", WrongHash: true}}})
	f.deliver(t, f.doc, f.pat.Address, letter(f.doc.Address, f.pat.Address, "Envoi hash", "", attachment{"IHE_XDM.ZIP", "application/zip", arch}))

	in, err := f.store.Inbox(ctx, f.pat.ID)
	must(t, err)
	if len(in) != len(cases)+1 {
		t.Fatalf("%d messages kept, want %d", len(in), len(cases)+1)
	}
	mine, err := f.docs.List(ctx, f.pat, f.pat.ID, dmp.Query{})
	must(t, err)
	if len(mine) != 1 || mine[0].Title != "Bon" {
		t.Fatalf("filed: %+v", mine)
	}
	rows, err := d.Read().QueryContext(ctx, `SELECT code FROM filing_problems WHERE patient_id = $1 ORDER BY id`, f.pat.ID)
	must(t, err)
	var codes []string
	for rows.Next() {
		var c string
		must(t, rows.Scan(&c))
		codes = append(codes, c)
	}
	rows.Close()
	want := "unsafe-path nested-archive metadata-xml zip-bomb special-file hash-mismatch"
	if strings.Join(codes, " ") != want {
		t.Fatalf("problems %v, want %s", codes, want)
	}
}

func testLibrary(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	up, err := f.docs.AddDocument(ctx, f.pat, dmp.Upload{Name: "carte-mutuelle.pdf", Data: xdmtest.TinyPDF})
	must(t, err)
	if up.Category != "administratif" || up.Origin != "upload" || up.ClassCode != "90" {
		t.Fatalf("upload: %+v", up)
	}
	for _, bad := range []dmp.Upload{
		{Name: "x.exe", Data: []byte("MZ")},
		{Name: "x.pdf", Data: []byte("not a pdf")},
		{Name: "big.pdf", Data: append([]byte("%PDF-"), make([]byte, dmp.MaxUploadBytes)...)},
		{Name: "x.doc", Data: []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")}, // .doc is a mail attachment, not an upload
	} {
		if _, err := f.docs.AddDocument(ctx, f.pat, bad); !errors.Is(err, dmp.ErrInvalid) {
			t.Fatalf("upload %s: %v", bad.Name, err)
		}
	}
	if _, err := f.docs.AddDocument(ctx, f.doc, dmp.Upload{Name: "a.pdf", Data: xdmtest.TinyPDF}); !errors.Is(err, dmp.ErrForbidden) {
		t.Fatal("a professional uploaded into a patient's library")
	}
	fo, err := f.docs.CreateFolder(ctx, f.pat, "Fracture épaule")
	must(t, err)
	title, pinned, folder := "Carte de mutuelle 2026", true, fo.ID
	u, err := f.docs.Update(ctx, f.pat, up.ID, dmp.Patch{Title: &title, Pinned: &pinned, FolderID: &folder})
	must(t, err)
	if u.Title != title || !u.Pinned || u.FolderID != fo.ID {
		t.Fatalf("update: %+v", u)
	}
	fs, err := f.docs.Folders(ctx, f.pat)
	must(t, err)
	if len(fs) != 1 || fs[0].Documents != 1 {
		t.Fatalf("folders: %+v", fs)
	}
	found, err := f.docs.List(ctx, f.pat, f.pat.ID, dmp.Query{Text: "mutuelle", Category: "administratif"})
	must(t, err)
	if len(found) != 1 {
		t.Fatalf("search: %+v", found)
	}
	must(t, f.docs.ReportProblem(ctx, f.pat, up.ID, "Mauvaise date"))
	must(t, f.docs.DeleteFolder(ctx, f.pat, fo.ID))
	must(t, f.docs.Delete(ctx, f.pat, up.ID))
	if _, err := f.docs.Get(ctx, f.pat, up.ID); !errors.Is(err, dmp.ErrNotFound) {
		t.Fatal("a deleted document is still there")
	}
}
