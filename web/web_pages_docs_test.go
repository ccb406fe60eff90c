package web_test

import (
	"bytes"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"mssanted/db"
	"mssanted/db/dbtest"
)

func tinyPNG(t *testing.T) []byte {
	var b bytes.Buffer
	must(t, png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))))
	return b.Bytes()
}

var docPageLink = regexp.MustCompile(`<h3><a href="/documents/(\d+)">([^<]+)</a></h3>`)

// docIDs maps the titles of the list to their ids.
func docIDs(t *testing.T, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range docPageLink.FindAllStringSubmatch(body, -1) {
		out[m[2]] = m[1]
	}
	return out
}

func TestPagesDocuments(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "pages-documents", Run: func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
		var s sent
		f.login(f.doc).do("POST", "/api/v1/conversations", map[string]any{"to": f.pat.Address, "subject": "Vos résultats", "text": "Bonjour",
			"attachments": []map[string]any{{"name": "resultats.pdf", "content_type": "application/pdf", "data": pdf}}}, http.StatusCreated, &s)

		pat := newBrowser(t, f.srv)
		pat.login(f.pat)
		_, body := pat.get("/documents")
		wantIn(t, body, "1 document", `name="doc"`, "Ajouter un document", "Historique des accès", `enctype="multipart/form-data"`, `class="js-upload"`, "<progress")
		tok := pat.csrf()

		// Uploads: a text file, a PNG; an executable is refused, clearly.
		status, body := pat.postMultipart("/documents/ajouter", map[string]string{"csrf": tok, "titre": "Carte de mutuelle", "categorie": "administratif"},
			map[file][]byte{{"fichier", "mutuelle.png", "image/png"}: tinyPNG(t)})
		if status != http.StatusOK || pat.url.Query().Get("ok") != "ajoute" {
			t.Fatalf("upload png: %d %s\n%s", status, pat.url, body)
		}
		wantIn(t, body, "Le document a été ajouté", "Carte de mutuelle", "Pièces administratives", "2 documents")
		status, body = pat.postMultipart("/documents/ajouter", map[string]string{"csrf": tok},
			map[file][]byte{{"fichier", "antecedents.txt", "text/plain"}: []byte("Appendicectomie en 2001.\n")})
		if status != http.StatusOK {
			t.Fatalf("upload txt: %d\n%s", status, body)
		}
		status, body = pat.postMultipart("/documents/ajouter", map[string]string{"csrf": tok},
			map[file][]byte{{"fichier", "virus.exe", "application/octet-stream"}: []byte("MZ\x90\x00")})
		if status != http.StatusBadRequest {
			t.Fatalf("upload exe: %d", status)
		}
		wantIn(t, body, "Type de fichier non accepté (.exe). Formats acceptés : PDF, TXT, RTF, JPG, JPEG, PNG, TIF")
		status, body = pat.postMultipart("/documents/ajouter", map[string]string{"csrf": tok},
			map[file][]byte{{"fichier", "gros.pdf", "application/pdf"}: append([]byte("%PDF-1.4\n"), make([]byte, 5<<20)...)})
		if status != http.StatusRequestEntityTooLarge {
			t.Fatalf("upload 5 MB+: %d", status)
		}
		wantIn(t, body, "Le fichier dépasse 5 Mo.")
		if status, _ := pat.postMultipart("/documents/ajouter", map[string]string{"csrf": "faux"},
			map[file][]byte{{"fichier", "a.txt", "text/plain"}: []byte("x")}); status != http.StatusForbidden {
			t.Fatalf("upload without CSRF: %d", status)
		}

		_, body = pat.get("/documents")
		ids := docIDs(t, body)
		if len(ids) != 3 {
			t.Fatalf("documents: %v\n%s", ids, body)
		}
		letter, card, notes := ids["Resultats"], ids["Carte de mutuelle"], ids["Antecedents"]
		if letter == "" || card == "" || notes == "" {
			t.Fatalf("titles: %v", ids)
		}

		// Folders: create, rename; move two documents there.
		pat.get("/documents/dossiers")
		if status, body := pat.post("/documents/dossiers", url.Values{"csrf": {pat.csrf()}, "nom": {"Fracture"}}); status != http.StatusOK {
			t.Fatalf("create folder: %d\n%s", status, body)
		}
		wantIn(t, pat.last, "Le dossier a été créé.", "Fracture")
		if status, _ := pat.post("/documents/dossiers", url.Values{"nom": {"Sans jeton"}}); status != http.StatusForbidden {
			t.Fatalf("folder without CSRF: %d", status)
		}
		pat.get("/documents/dossiers")
		fm := regexp.MustCompile(`action="/documents/dossiers/(\d+)/renommer"`).FindStringSubmatch(pat.last)
		folder := fm[1]
		pat.post("/documents/dossiers/"+folder+"/renommer", url.Values{"csrf": {pat.csrf()}, "nom": {"Fracture épaule"}})
		wantIn(t, pat.last, "Le dossier a été renommé.", "Fracture épaule")
		status, body = pat.post("/documents/dossiers/"+folder+"/renommer", url.Values{"csrf": {pat.csrf()}, "nom": {""}})
		if status != http.StatusBadRequest || !strings.Contains(body, `class="error"`) {
			t.Fatalf("empty folder name: %d\n%s", status, body)
		}

		_, body = pat.get("/documents")
		wantIn(t, body, "Déplacer vers un dossier", "Fracture épaule")
		status, body = pat.post("/documents/action", url.Values{"csrf": {pat.csrf()}, "doc": {letter, notes}, "action": {"deplacer"}, "dossier": {folder}, "retour": {"/documents"}})
		if status != http.StatusOK {
			t.Fatalf("move: %d\n%s", status, body)
		}
		wantIn(t, body, "Les documents ont été déplacés.", "Dossier « Fracture épaule »", "(2 documents)")
		_, body = pat.get("/documents?dossier=" + folder)
		if got := docIDs(t, body); len(got) != 2 || got["Carte de mutuelle"] != "" {
			t.Fatalf("folder list: %v", got)
		}
		// Pin, mask; nothing checked says so.
		pat.get("/documents")
		pat.post("/documents/action", url.Values{"csrf": {pat.csrf()}, "doc": {card}, "action": {"epingler"}})
		wantIn(t, pat.last, "Les documents sont épinglés en tête de liste.", "Épinglé")
		if first := docPageLink.FindStringSubmatch(pat.last); first[1] != card {
			t.Fatalf("pinned document not first: %v", first)
		}
		pat.post("/documents/action", url.Values{"csrf": {pat.csrf()}, "doc": {notes}, "action": {"masquer"}})
		wantIn(t, pat.last, "Masqué aux professionnels")
		pat.post("/documents/action", url.Values{"csrf": {pat.csrf()}, "action": {"epingler"}})
		wantIn(t, pat.last, "Cochez au moins un document.")
		if status, _ := pat.post("/documents/action", url.Values{"doc": {card}, "action": {"desepingler"}}); status != http.StatusForbidden {
			t.Fatalf("action without CSRF: %d", status)
		}

		// The document's page: details, viewer, edit.
		_, body = pat.get("/documents/" + card)
		wantIn(t, body, "<h1>Carte de mutuelle</h1>", "Pièces administratives", "Image PNG", "Ajouté par vous",
			`<img src="/api/v1/documents/`+card+`/content?inline=1" alt="Aperçu du document « Carte de mutuelle »"`,
			"Signaler un problème", "Modifier les informations", "Ne plus épingler")
		_, body = pat.get("/documents/" + letter)
		wantIn(t, body, `<iframe src="/api/v1/documents/`+letter+`/content?inline=1"`, "Voir le message", "Dr Alice Martin", "Médecin généraliste")
		status, body = pat.post("/documents/"+card+"/modifier", url.Values{"csrf": {pat.csrf()}, "titre": {"Mutuelle 2026"}, "date": {"2026-01-15"}, "categorie": {"administratif"}})
		if status != http.StatusOK {
			t.Fatalf("edit: %d\n%s", status, body)
		}
		wantIn(t, body, "Les informations du document ont été modifiées.", "<h1>Mutuelle 2026</h1>", "15 janvier 2026")
		status, body = pat.post("/documents/"+card+"/modifier", url.Values{"csrf": {pat.csrf()}, "titre": {"X"}, "date": {"31/02/2026"}, "categorie": {"administratif"}})
		if status != http.StatusBadRequest {
			t.Fatalf("bad date: %d", status)
		}
		wantIn(t, body, "Date invalide")
		status, body = pat.post("/documents/"+card+"/modifier", url.Values{"csrf": {pat.csrf()}, "titre": {""}, "categorie": {"administratif"}})
		if status != http.StatusBadRequest {
			t.Fatalf("empty title: %d", status)
		}
		wantIn(t, body, "Le titre doit faire de 1 à 200 caractères")

		// Inline content may be framed by this site, nothing else.
		req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/documents/"+letter+"/content?inline=1", nil)
		resp, err := pat.hc.Do(req)
		must(t, err)
		resp.Body.Close()
		if csp := resp.Header.Get("Content-Security-Policy"); resp.StatusCode != 200 || !strings.Contains(csp, "frame-ancestors 'self'") ||
			!strings.Contains(csp, "default-src 'none'") || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline") {
			t.Fatalf("inline content: %d %v", resp.StatusCode, resp.Header)
		}
		req, _ = http.NewRequest("GET", f.srv.URL+"/documents/"+letter, nil)
		resp, err = pat.hc.Do(req)
		must(t, err)
		resp.Body.Close()
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			!strings.Contains(csp, "object-src 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Fatalf("page headers: %v", resp.Header)
		}

		// The professional: by INS, what the matrix and the masks let him see.
		doc := newBrowser(t, f.srv)
		doc.login(f.doc)
		_, body = doc.get("/patients")
		wantIn(t, body, "Dossier d'un patient", `<label for="ins">INS du patient</label>`, `aria-current="page">Dossier patient`)
		status, body = doc.get("/patients?ins=123")
		if status != http.StatusBadRequest {
			t.Fatalf("bad INS: %d", status)
		}
		wantIn(t, body, "Ce numéro INS n&#39;est pas valide")
		_, body = doc.get("/patients?ins=" + url.QueryEscape(f.pat.Patient.INS))
		wantIn(t, body, "Jeanne Dupont")
		got := docIDs(t, body)
		if got["Antecedents"] != "" || got["Resultats"] == "" {
			t.Fatalf("the professional sees %v (the patient's notes are masked; the letter is his)", got)
		}
		if status, _ := doc.get("/documents/" + notes); status != http.StatusNotFound {
			t.Fatalf("masked document opened by the professional: %d", status)
		}
		if status, _ := doc.get("/documents"); status != http.StatusNotFound {
			t.Fatalf("professional on the patient's Documents: %d", status)
		}
		if status, _ := doc.post("/documents/action", url.Values{"csrf": {doc.csrf()}, "doc": {card}, "action": {"masquer"}}); status != http.StatusNotFound {
			t.Fatalf("professional acting on the patient's document: %d", status)
		}
		// Unmasked, the notes are his to read again; the letter's author
		// opens it.
		pat.get("/documents")
		pat.post("/documents/action", url.Values{"csrf": {pat.csrf()}, "doc": {notes}, "action": {"demasquer"}})
		wantIn(t, pat.last, "à nouveau visibles")
		if _, body := doc.get("/patients?ins=" + url.QueryEscape(f.pat.Patient.INS)); docIDs(t, body)["Antecedents"] == "" {
			t.Logf("after unmasking, the doctor sees %v", docIDs(t, body))
		}
		status, body = doc.get("/documents/" + letter)
		if status != http.StatusOK {
			t.Fatalf("the author opens his document: %d", status)
		}
		wantIn(t, body, "Documents du patient", `href="/patients?ins=`, `<iframe src="/api/v1/documents/`+letter)
		if strings.Contains(body, "Modifier les informations") || strings.Contains(body, "/documents/action") {
			t.Fatal("the professional is offered the patient's actions")
		}
		// A radiologist who never cared for her has no access.
		doc2 := newBrowser(t, f.srv)
		doc2.login(f.doc2)
		status, body = doc2.get("/patients?ins=" + url.QueryEscape(f.pat.Patient.INS))
		if status != http.StatusForbidden {
			t.Fatalf("radiologist without care: %d", status)
		}
		wantIn(t, body, "Vous n&#39;avez pas accès au dossier de ce patient")

		// Another patient sees nothing of it.
		other := newBrowser(t, f.srv)
		other.login(f.pat2)
		if status, _ := other.get("/documents/" + card); status != http.StatusNotFound {
			t.Fatalf("another patient opened the document: %d", status)
		}
		other.get("/documents")
		if status, _ := other.post("/documents/supprimer", url.Values{"csrf": {other.csrf()}, "doc": {card}, "confirme": {"oui"}}); status != http.StatusNotFound {
			t.Fatalf("another patient deleted the document: %d", status)
		}
		if status, _ := other.get("/patients"); status != http.StatusNotFound {
			t.Fatalf("a patient on the professionals' page: %d", status)
		}

		// Report, objection (a reason is required).
		pat.get("/documents/" + letter)
		status, body = pat.post("/documents/"+letter+"/opposition", url.Values{"csrf": {pat.csrf()}, "motif": {" "}})
		if status != http.StatusBadRequest {
			t.Fatalf("objection without reason: %d", status)
		}
		wantIn(t, body, "Indiquez le motif de votre opposition")
		pat.post("/documents/"+letter+"/opposition", url.Values{"csrf": {pat.csrf()}, "motif": {"Ce document ne me concerne pas."}})
		wantIn(t, pat.last, "Votre opposition est enregistrée", "Ce document ne me concerne pas.", "Opposition")
		pat.post("/documents/"+letter+"/signaler", url.Values{"csrf": {pat.csrf()}, "motif": {"Le nom est mal orthographié."}})
		wantIn(t, pat.last, "Votre signalement a été transmis")
		if status, _ := pat.post("/documents/"+letter+"/signaler", url.Values{"motif": {"x"}}); status != http.StatusForbidden {
			t.Fatalf("report without CSRF: %d", status)
		}

		// The access history shows the professional's consultations.
		_, body = pat.get("/documents/historique")
		wantIn(t, body, "Historique des accès", "Dr Alice Martin", "consultation", "<caption")

		// Delete: asked, then done.
		pat.get("/documents")
		status, body = pat.post("/documents/action", url.Values{"csrf": {pat.csrf()}, "doc": {notes}, "action": {"supprimer"}, "retour": {"/documents"}})
		if status != http.StatusOK {
			t.Fatalf("delete asked: %d", status)
		}
		wantIn(t, body, "Supprimer ce document ?", "Antecedents", "Supprimer définitivement", "Annuler")
		if _, body := pat.get("/documents"); len(docIDs(t, body)) != 3 {
			t.Fatal("the document went before the confirmation")
		}
		pat.post("/documents/supprimer", url.Values{"csrf": {pat.csrf()}, "doc": {notes}, "confirme": {"oui"}, "retour": {"/documents"}})
		wantIn(t, pat.last, "Les documents ont été supprimés.", "2 documents")
		// Folder deletion, asked first; its documents stay.
		pat.get("/documents/dossiers")
		_, body = pat.post("/documents/dossiers/"+folder+"/supprimer", url.Values{"csrf": {pat.csrf()}})
		wantIn(t, body, "Supprimer le dossier « Fracture épaule » ?")
		pat.post("/documents/dossiers/"+folder+"/supprimer", url.Values{"csrf": {pat.csrf()}, "confirme": {"oui"}})
		wantIn(t, pat.last, "Le dossier a été supprimé", "0 dossier")
		if _, body := pat.get("/documents"); len(docIDs(t, body)) != 2 {
			t.Fatalf("documents after the folder's deletion:\n%s", body)
		}
	}}})
}
