package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The patient's journey in a real headless Chromium, against the real
// binary: a professional's letter with a PDF submitted with Python's
// smtplib, read, its attachment opened, answered; closed by the
// professional in his own web view; then a message with a photo to a
// pharmacy found in the directory, which the pharmacy reads with Python's
// imaplib. Every page visited is checked with axe-core (testdata/axe:
// axe.min.js 4.10.2 from `npm pack axe-core@4.10.2`, MPL-2.0): a
// violation of impact "serious" or "critical" fails the test. Full-page
// screenshots of each step go to $MSSANTED_ARTIFACTS (default: a
// temporary directory); with MSSANTED_DOCS_SCREENSHOT=1 the patient's
// Messagerie is also written to docs/screenshots/messagerie.png.
//
// Chromium is a real peer like the others: the test fails, never skips,
// without it (scripts/test.sh installs it).

const (
	browserPro      = "dr.martin@chu.example"
	browserPatient  = "jeanne@patient.example"
	browserPharmacy = "gare.paris@chu.example"
)

// browserSendLetter submits a letter with a PDF over submission
// (STARTTLS), as a practice's mail client would.
const browserSendLetter = `
import smtplib, ssl, sys
from email.message import EmailMessage
port, ca, pw, frm, to, pdf = sys.argv[1:7]
msg = EmailMessage()
msg["From"] = "Dr Alice Martin <%s>" % frm
msg["To"] = to
msg["Subject"] = "Compte rendu de consultation"
msg.set_content("Bonjour Madame Durand,\n\nVeuillez trouver ci-joint le compte rendu de votre consultation.\n\nBien cordialement,\nDr Alice Martin")
with open(pdf, "rb") as f:
    msg.add_attachment(f.read(), maintype="application", subtype="pdf", filename="compte-rendu.pdf")
s = smtplib.SMTP("localhost", int(port), timeout=30)
s.starttls(context=ssl.create_default_context(cafile=ca))
s.login(frm, pw)
s.send_message(msg)
s.quit()
print("ok   letter submitted")
`

// browserReadOrder reads the patient's message in the pharmacy's INBOX
// over IMAPS and checks the photo, byte for byte.
const browserReadOrder = `
import email, hashlib, imaplib, ssl, sys
from email import policy
port, ca, user, pw, want = sys.argv[1:6]
m = imaplib.IMAP4_SSL("localhost", int(port), ssl_context=ssl.create_default_context(cafile=ca))
m.login(user, pw)
m.select("INBOX", readonly=True)
typ, data = m.search(None, "SUBJECT", "Ordonnance")
ids = data[0].split()
if len(ids) != 1:
    print("FAIL messages with subject Ordonnance:", ids); sys.exit(1)
typ, data = m.fetch(ids[0], "(RFC822)")
msg = email.message_from_bytes(data[0][1], policy=policy.default)
print("ok   from:", msg["From"], "subject:", msg["Subject"])
if "Jeanne Durand" not in str(msg["From"]):
    print("FAIL From:", msg["From"]); sys.exit(1)
body = msg.get_body(preferencelist=("plain",))
if body is None or "voici mon ordonnance" not in body.get_content():
    print("FAIL text:", body and body.get_content()); sys.exit(1)
photos = [p for p in msg.iter_attachments() if p.get_filename() == "ordonnance.jpg"]
if len(photos) != 1 or photos[0].get_content_type() != "image/jpeg":
    print("FAIL attachments:", [(p.get_filename(), p.get_content_type()) for p in msg.iter_attachments()]); sys.exit(1)
got = hashlib.sha256(photos[0].get_payload(decode=True)).hexdigest()
if got != want:
    print("FAIL photo sha256", got, "want", want); sys.exit(1)
print("ok   photo ordonnance.jpg, sha256", got)
m.logout()
`

// browserPath finds Chromium; a missing one fails the test.
func browserPath(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/usr/bin/chromium"); err == nil && fi.Mode()&0o111 != 0 {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: the web app is tested in a real headless Chromium (scripts/test.sh installs it)")
	return ""
}

// tab is one person's browser tab.
type tab struct {
	t     *testing.T
	who   string
	ctx   context.Context
	base  string
	shots string
	axe   string
	step  *int
	pages []string // HTML of every page seen
}

// run runs actions with a bounded wait.
func (b *tab) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.who, what, err)
	}
}

func runValue[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.who, what, err)
	}
	return v
}

// load runs a step that loads a page (a navigation, a click on a link or
// a submit button) and waits for it; the page must answer want.
func (b *tab) load(what string, want int64, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.who, what, err)
	}
	if resp == nil || resp.Status != want {
		st := int64(0)
		if resp != nil {
			st = resp.Status
		}
		b.t.Fatalf("%s: %s: HTTP %d, want %d\n%s", b.who, what, st, want, b.html())
	}
}

func (b *tab) open(path string) {
	b.t.Helper()
	b.load("open "+path, 200, chromedp.Navigate(b.base+path))
}

func (b *tab) click(what, css string) {
	b.t.Helper()
	b.load(what, 200, chromedp.Click(chromedp.CSS(css)))
}

func (b *tab) html() string {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	h, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	return h
}

func (b *tab) text(css string) string {
	b.t.Helper()
	return runValue(b, "text of "+css, chromedp.Text(chromedp.CSS(css)))
}

// see checks that the element holds every sentence.
func (b *tab) see(css string, sentences ...string) {
	b.t.Helper()
	txt := b.text(css)
	for _, s := range sentences {
		if !strings.Contains(txt, s) {
			b.t.Fatalf("%s: %s lacks %q:\n%s", b.who, css, s, txt)
		}
	}
}

func (b *tab) path() string {
	b.t.Helper()
	loc := runValue(b, "location", chromedp.Location())
	return strings.TrimPrefix(loc, b.base)
}

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// shot saves a full-page screenshot of the step and checks the page with
// axe-core.
func (b *tab) shot(name string) []byte {
	b.t.Helper()
	*b.step++
	png := runValue(b, "screenshot", chromedp.FullScreenshot(100))
	file := filepath.Join(b.shots, fmt.Sprintf("%02d-%s-%s.png", *b.step, b.who, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.pages = append(b.pages, b.html())
	if ok := runValue(b, "inject axe", chromedp.Evaluate[bool](b.axe+"\n;typeof axe === 'object'")); !ok {
		b.t.Fatal("axe-core did not load")
	}
	if *b.step == 1 {
		// axe itself works: an image without a text alternative (a
		// critical violation) is found, then taken away.
		n := runValue(b, "axe canary", chromedp.Evaluate[int](`(async () => {
			const img = document.createElement("img");
			img.src = "data:,"; img.id = "axe-canary";
			document.querySelector("main").appendChild(img);
			const r = await axe.run(document, {runOnly: ["image-alt"]});
			img.remove();
			return r.violations.filter(v => v.impact === "critical").length;
		})()`, chromedp.EvalAwaitPromise))
		if n != 1 {
			b.t.Fatalf("axe did not find the canary violation (%d)", n)
		}
	}
	vs := runValue(b, "axe.run", chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))})))`, chromedp.EvalAwaitPromise))
	for _, v := range vs {
		msg := fmt.Sprintf("axe %s on %s (%s): %s [%s]\n    %s", v.Impact, name, b.path(), v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Error(msg)
		} else {
			b.t.Log(msg)
		}
	}
	b.t.Logf("%s: %s checked with axe (%d violations), %s", b.who, name, len(vs), file)
	return png
}

// smallPDF is a one-page PDF with a line of text.
func smallPDF() []byte {
	content := "BT /F1 18 Tf 72 720 Td (Compte rendu de consultation) Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// smallJPEG is a photo of a prescription, as far as a test can tell.
func smallJPEG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 120, 160))
	for y := 0; y < 160; y++ {
		for x := 0; x < 120; x++ {
			c := color.RGBA{250, 250, 245, 255}
			if y%20 < 2 && x > 10 && x < 110 {
				c = color.RGBA{40, 40, 120, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// browserDocuments adds a photo to the library with the progress bar's
// script, pins it and opens its viewer; then the letter's PDF in its
// frame, which the page's policy lets this site frame.
func browserDocuments(t *testing.T, pat *tab, photo string) {
	t.Helper()
	// The script posts the form with XMLHttpRequest; what it did is kept
	// in sessionStorage, which outlives the navigation that follows.
	pat.run("choose the file",
		chromedp.Evaluate[chromedp.Void](`(() => {
			const send = XMLHttpRequest.prototype.send;
			XMLHttpRequest.prototype.send = function (body) {
				sessionStorage.setItem("xhr", "1");
				sessionStorage.setItem("bar", String(!document.querySelector(".upload-progress").hidden));
				this.upload.addEventListener("progress", e => sessionStorage.setItem("progress", String(Math.round(e.loaded * 100 / e.total))));
				return send.call(this, body);
			};
		})()`),
		chromedp.SetUploadFiles(chromedp.CSS("#fichier"), []string{photo}),
		chromedp.SendKeys(chromedp.CSS("#titre"), "Carte de mutuelle"),
		chromedp.SetValue(chromedp.CSS("#categorie"), "administratif"),
		chromedp.WaitVisible(chromedp.CSS(".upload-status:not(:empty)")))
	pat.see(".upload-status", "ordonnance.jpg")
	pat.shot("document-a-ajouter")
	pat.click("upload with the progress bar", `form.js-upload button[type="submit"]`)
	pat.run("wait for the list", chromedp.WaitVisible(chromedp.CSS(".documents .added")))
	pat.see("main", "Le document a été ajouté", "Carte de mutuelle", "Pièces administratives", "2 documents")
	type upload struct {
		XHR      string `json:"xhr"`
		Bar      string `json:"bar"`
		Progress string `json:"progress"`
	}
	up := runValue(pat, "what the script did", chromedp.Evaluate[upload](`({xhr: sessionStorage.getItem("xhr") || "", bar: sessionStorage.getItem("bar") || "", progress: sessionStorage.getItem("progress") || ""})`))
	if up.XHR != "1" || up.Bar != "true" || up.Progress != "100" {
		t.Fatalf("upload with progress: %+v", up)
	}
	t.Logf("upload through XMLHttpRequest, progress bar shown, last progress event %s %%", up.Progress)
	id := strings.TrimPrefix(runValue(pat, "added id", chromedp.Evaluate[string](`document.querySelector(".documents .added").id`)), "doc-")
	pat.run("check it, choose Épingler",
		chromedp.Click(chromedp.CSS("#choix-"+id)),
		chromedp.SetValue(chromedp.CSS("#action"), "epingler"))
	pat.click("pin it", `.actions button[type="submit"]`)
	pat.see("main", "Les documents sont épinglés en tête de liste.", "Épinglé")
	if first := runValue(pat, "first document", chromedp.Evaluate[string](`document.querySelector(".documents h3 a").textContent`)); first != "Carte de mutuelle" {
		t.Fatalf("pinned document is not first: %q", first)
	}
	pat.shot("documents-epingle")
	pat.click("open the document", `.documents h3 a[href="/documents/`+id+`"]`)
	runValue(pat, "wait for the image", chromedp.Poll[bool](`(() => { const i = document.querySelector(".viewer img"); return i && i.complete && i.naturalWidth > 0; })()`))
	pat.see("main", "Carte de mutuelle", "Pièces administratives", "Image JPEG", "Ajouté par vous", "Ne plus épingler", "Signaler un problème")
	pat.shot("document-visionneuse")

	// The letter's PDF in the viewer's frame: it loads (a page framing a
	// document this site refused to frame would show an error page).
	pat.click("back to Documents", `.back a`)
	pat.click("open the letter's PDF", `.documents h3 a:not([href="/documents/`+id+`"])`)
	runValue(pat, "wait for the frame", chromedp.Poll[bool](`(() => { const f = document.querySelector(".viewer iframe");
		try { return !!(f && f.contentDocument && f.contentDocument.URL.includes("/content?inline=1")); } catch (e) { return false; } })()`))
	pat.see("main", "Dr Alice Martin", "Médecin généraliste", "Voir le message", "PDF")
	pat.shot("document-pdf")
}

func TestBrowserPatientJourney(t *testing.T) {
	t.Parallel()
	start := time.Now()
	chromium := browserPath(t)
	python := peerTool(t, "python3")
	axe, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("MSSANTED_ARTIFACTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	// A demo-like instance: a doctor, a patient, a pharmacy in Paris 11e
	// reachable by patients and one of the same name in Moulins.
	data := t.TempDir()
	mustMSS(t, "", "init", "--data", data, "--domain", "chu.example", "--patient-domain", "patient.example")
	add := func(args ...string) {
		mustMSS(t, testPassword+"\n", append([]string{"user", "add", "--data", data, "--password-stdin"}, args...)...)
	}
	add("--role", "professional", "--address", browserPro, "--name", "Dr Alice Martin", "--rpps", rpps("1010000001"), "--profession", "Médecin généraliste")
	add("--role", "patient", "--address", browserPatient, "--name", "Jeanne Durand", "--ins", ins("2850375123456"), "--birth-date", "1985-03-14", "--sex", "F")
	add("--role", "pharmacy", "--address", browserPharmacy, "--name", "Pharmacie de la Gare", "--finess", "750001237",
		"--postal-address", "38 AV Parmentier", "--postal-code", "75011", "--commune", "Paris", "--reachable-by-patients")
	add("--role", "pharmacy", "--address", "gare.moulins@chu.example", "--name", "Pharmacie de la Gare", "--finess", "030001230",
		"--postal-address", "12 AV de la Gare", "--postal-code", "03000", "--commune", "Moulins", "--reachable-by-patients")
	srv := startServe(t, data)
	ca := filepath.Join(data, "pki", "ca.pem")
	base := "https://" + srv.addrs["https"]

	// 1. The professional's letter, from a mail client.
	tmp := t.TempDir()
	pdfPath, jpgPath := filepath.Join(tmp, "compte-rendu.pdf"), filepath.Join(tmp, "ordonnance.jpg")
	photo := smallJPEG(t)
	for p, b := range map[string][]byte{pdfPath: smallPDF(), jpgPath: photo} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, src := range map[string]string{"send.py": browserSendLetter, "read.py": browserReadOrder} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, code := peerRun(t, "", python, filepath.Join(tmp, "send.py"), peerPort(t, srv.addrs["smtp-submission"]), ca, testPassword,
		browserPro, browserPatient, pdfPath)
	if code != 0 {
		t.Fatalf("smtplib: exit %d\n%s", code, out)
	}

	// 2. Chromium, headless, a phone-sized window.
	rootCtx, stop := context.WithTimeout(context.Background(), 3*time.Minute)
	defer stop()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.IgnoreCertErrors, chromedp.WindowSize(412, 915), chromedp.Flag("lang", "fr-FR"))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(rootCtx, opts...)
	defer cancelAlloc()
	patCtx, cancelPat := chromedp.NewContext(allocCtx)
	defer cancelPat()
	// The first run starts the browser and binds it to its context: no
	// timeout there (rootCtx bounds the whole test).
	if err := chromedp.Do(patCtx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	step := 0
	pat := &tab{t: t, who: "patient", ctx: patCtx, base: base, shots: shots, axe: string(axe), step: &step}

	// Signed out: the login page.
	pat.open("/")
	if p := pat.path(); !strings.HasPrefix(p, "/connexion") {
		t.Fatalf("signed out, / went to %s", p)
	}
	pat.shot("connexion")
	pat.run("fill the login form",
		chromedp.SendKeys(chromedp.CSS("#adresse"), browserPatient),
		chromedp.SendKeys(chromedp.CSS("#mot_de_passe"), testPassword))
	pat.click("sign in", `form[action="/connexion"] button[type="submit"]`)
	pat.see("main", "Bonjour Jeanne Durand", "Nouveau message de Dr Alice Martin", "Vous avez 1 message non lu")
	pat.shot("accueil")

	// Messagerie, then the letter.
	pat.click("open Messagerie", `nav a[href="/messagerie"]`)
	pat.see("main", "Compte rendu de consultation", "Dr Alice Martin", "Médecin généraliste", "1 non lu")
	pat.shot("messagerie")
	pat.click("open the letter", `.conversations h2 a`)
	pat.see("main", "Compte rendu de consultation", "Dr Alice Martin", "Médecin généraliste", "Veuillez trouver ci-joint", "compte-rendu.pdf")
	sig := pat.text(".message .sig")
	if sig != "Signé et vérifié" && sig != "Non signé" && sig != "Signature non vérifiée" {
		t.Fatalf("signature status %q", sig)
	}
	t.Logf("the letter's signature status: %s", sig)
	pat.shot("lettre")
	convPath := pat.path()

	// The attachment link opens the PDF with the browser's session.
	type fetched struct {
		Status int    `json:"status"`
		Type   string `json:"type"`
		Head   string `json:"head"`
		Size   int    `json:"size"`
	}
	got := runValue(pat, "open the attachment", chromedp.Evaluate[fetched](`(async () => {
		const a = document.querySelector(".attachments a");
		const r = await fetch(a.href);
		const b = new Uint8Array(await r.arrayBuffer());
		return {status: r.status, type: r.headers.get("content-type"), head: String.fromCharCode(...b.slice(0, 5)), size: b.length};
	})()`, chromedp.EvalAwaitPromise))
	if got.Status != 200 || got.Type != "application/pdf" || got.Head != "%PDF-" || got.Size != len(smallPDF()) {
		t.Fatalf("attachment: %+v", got)
	}

	// The reply.
	pat.run("write the reply", chromedp.SendKeys(chromedp.CSS("#texte"), "Merci docteur, j'ai bien reçu le compte rendu."))
	pat.click("send the reply", `.reply button[type="submit"]`)
	pat.see("main", "Votre message a été envoyé.", "Merci docteur, j'ai bien reçu le compte rendu.", "Jeanne Durand (vous)")
	pat.shot("reponse")

	// The letter's PDF was filed in the document library.
	pat.click("open Documents", `nav a[href="/documents"]`)
	pat.see("main", "1 document", "par Dr Alice Martin, Médecin généraliste", "PDF")
	pat.shot("documents")
	browserDocuments(t, pat, jpgPath)

	// 3. The professional closes, in a browser context of his own.
	proCtx, cancelPro := chromedp.NewContext(patCtx, chromedp.WithNewBrowserContext())
	defer cancelPro()
	// The first run opens the tab and binds it to its context: no timeout.
	if err := chromedp.Do(proCtx); err != nil {
		t.Fatalf("open the professional's browser context: %v", err)
	}
	pro := &tab{t: t, who: "professionnel", ctx: proCtx, base: base, shots: shots, axe: string(axe), step: &step}
	pro.open("/connexion")
	pro.run("fill the login form",
		chromedp.SendKeys(chromedp.CSS("#adresse"), browserPro),
		chromedp.SendKeys(chromedp.CSS("#mot_de_passe"), testPassword))
	pro.click("sign in", `form[action="/connexion"] button[type="submit"]`)
	pro.see("main", "Bonjour Dr Alice Martin", "Compte rendu de consultation")
	pro.shot("accueil")
	pro.click("open the mail-client set-up", `nav a[href="/configuration"]`)
	pro.see("main", "mail.chu.example", peerPort(t, srv.addrs["imaps"]), peerPort(t, srv.addrs["smtp-submissions"]), "Télécharger le profil de configuration")
	pro.shot("logiciel-de-messagerie")
	pro.click("open Messagerie", `nav a[href="/messagerie"]`)
	pro.see("main", "Compte rendu de consultation", "Jeanne Durand", browserPatient)
	pro.click("open the conversation", `.conversations h2 a`)
	pro.see("main", "Merci docteur, j'ai bien reçu le compte rendu.", "Clôturer la conversation")
	pro.shot("conversation")
	pro.click("close the conversation", "#cloturer")
	pro.see("main", "La conversation est clôturée", "Fin de la conversation")
	pro.shot("cloture")

	// The patient sees the sentence in place of the reply box.
	pat.open(convPath)
	pat.see("#fin", "Dr Alice Martin a mis fin à vos échanges")
	if n := runValue(pat, "count reply boxes", chromedp.Evaluate[int](`document.querySelectorAll("#texte, form[action$='/repondre']").length`)); n != 0 {
		t.Fatalf("%d reply boxes on a closed conversation", n)
	}
	pat.shot("conversation-cloturee")

	// 4. A message to a pharmacy: search (empty first), select, write,
	// attach a photo, send.
	pat.click("open Nouveau message", `nav a[href="/messagerie/nouveau"]`)
	pat.load("search with nothing", 400, chromedp.Click(chromedp.CSS(`form[role="search"] button[type="submit"]`)))
	pat.see("#recherche", "Saisissez au moins un champ")
	pat.shot("recherche-vide")
	pat.run("fill the search",
		chromedp.SendKeys(chromedp.CSS("#nom"), "Pharmacie de la Gare"),
		chromedp.SendKeys(chromedp.CSS("#lieu"), "Paris - 75"))
	pat.click("search", `form[role="search"] button[type="submit"]`)
	pat.see("#resultats", "1 pharmacie trouvée", "Pharmacie de la Gare", "Pharmacie d'officine", "38 AV Parmentier, 75011 Paris", "Modifier ma recherche")
	if strings.Contains(pat.text("#resultats"), "Moulins") {
		t.Fatal("the search in Paris - 75 found the pharmacy of Moulins")
	}
	pat.shot("recherche")
	pat.click("select the pharmacy", `.pharmacy button[type="submit"]`)
	pat.see("main", "Pharmacie de la Gare", "Pharmacie d'officine", "Prendre une photo")
	pat.run("write the message",
		chromedp.SendKeys(chromedp.CSS("#objet"), "Ordonnance"),
		chromedp.SendKeys(chromedp.CSS("#texte"), "Bonjour, voici mon ordonnance. Je passerai demain."),
		chromedp.SetUploadFiles(chromedp.CSS("#photo"), []string{jpgPath}),
		chromedp.WaitVisible(chromedp.CSS(".files-status:not(:empty)")))
	pat.see(".files-status", "1 fichier joint")
	pat.shot("nouveau-message")
	pat.click("send to the pharmacy", `form.js-files button[type="submit"]`)
	pat.see("main", "Votre message a été envoyé.", "Ordonnance", "voici mon ordonnance", "ordonnance.jpg", "Pharmacie de la Gare")
	pat.shot("message-envoye")
	pat.click("open Messagerie", `nav a[href="/messagerie"]`)
	pat.see("main", "Ordonnance", "Compte rendu de consultation", "Clôturée")
	png := pat.shot("messagerie-fin")
	if os.Getenv("MSSANTED_DOCS_SCREENSHOT") == "1" {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", "messagerie.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The patient never saw a professional's or a pharmacy's address.
	for _, h := range pat.pages {
		for _, addr := range []string{browserPro, browserPharmacy, "gare.moulins@chu.example"} {
			if strings.Contains(h, addr) {
				t.Fatalf("the patient was shown %s:\n%s", addr, h)
			}
		}
	}

	// 5. The pharmacy reads it with imaplib.
	sum := sha256.Sum256(photo)
	out, code = peerRun(t, "", python, filepath.Join(tmp, "read.py"), peerPort(t, srv.addrs["imaps"]), ca, browserPharmacy, testPassword, hex.EncodeToString(sum[:]))
	if code != 0 {
		t.Fatalf("imaplib: exit %d\n%s", code, out)
	}
	t.Logf("%s", out)
	cancelPro()
	cancelPat()
	cancelAlloc()
	srv.stop(t)
	t.Logf("browser journey: %d pages checked, screenshots in %s, %s", step, shots, time.Since(start).Round(time.Millisecond))
}
