package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// peerRulesScript checks each messaging rule through SMTP submission with
// Python's smtplib: exact reply codes, enhanced codes and sentences.
// argv: port, ca, password, then the addresses: doctor, patient, other
// patient, reachable pharmacy, unreachable pharmacy.
const peerRulesScript = `
import smtplib, ssl, sys
port, ca, pw, doc, pat, pat2, ph, ph_closed = sys.argv[1:9]
ctx = ssl.create_default_context(cafile=ca)

def send(user, to, subject, extra=""):
    s = smtplib.SMTP("localhost", int(port), timeout=30)
    s.starttls(context=ctx)
    s.login(user, pw)
    try:
        s.sendmail(user, [to], "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n%s\r\ncorps\r\n" % (user, to, subject, extra))
        return None
    except smtplib.SMTPRecipientsRefused as e:
        code, msg = e.recipients[to]
        return code, msg.decode()
    finally:
        s.quit()

def ok(what, r):
    if r is not None:
        print("FAIL", what, "refused:", r); sys.exit(1)
    print("ok  ", what)

def refused(what, r, sentence):
    if r is None or r[0] != 550 or not r[1].startswith("5.7.1") or sentence not in r[1]:
        print("FAIL", what, "got", r, "want 550 5.7.1 with", repr(sentence)); sys.exit(1)
    print("ok  ", what, "->", r[0], r[1])

refused("patient starts with a professional", send(pat, doc, "Bonjour"), "Seul un professionnel de sante peut commencer")
ok("professional starts", send(doc, pat, "Vos resultats"))
ok("patient replies while open", send(pat, doc, "Re: Vos resultats"))
ok("professional closes with [FIN]", send(doc, pat, "[FIN]"))
refused("patient after [FIN]", send(pat, doc, "Re: encore"), "Dr Alice Martin a mis fin a vos echanges")
ok("professional writes again (reopens)", send(doc, pat, "Nouveau rendez-vous"))
ok("patient replies again", send(pat, doc, "Re: Nouveau rendez-vous"))
ok("professional closes with X-MSS-MES: FIN", send(doc, pat, "Au revoir", "X-MSS-MES: FIN\r\n"))
refused("patient after X-MSS-MES: FIN", send(pat, doc, "Re: Au revoir"), "a mis fin a vos echanges")
refused("patient to patient", send(pat, pat2, "Coucou"), "Un patient ne peut pas ecrire a un autre patient")
ok("patient writes first to a reachable pharmacy", send(pat, ph, "Ordonnance"))
refused("patient to a pharmacy not reachable", send(pat, ph_closed, "Ordonnance"), "ne recoit pas de messages des patients")
ok("pharmacy replies", send(ph, pat, "Re: Ordonnance"))
ok("professionals write freely", send(doc, ph, "Avis"))
`

func TestRulesThroughSMTP(t *testing.T) {
	t.Parallel()
	python := peerTool(t, "python3")
	data := t.TempDir()
	mustMSS(t, "", "init", "--data", data, "--domain", "chu.example", "--patient-domain", "patient.example")
	add := func(args ...string) {
		mustMSS(t, testPassword+"\n", append([]string{"user", "add", "--data", data, "--password-stdin"}, args...)...)
	}
	add("--role", "professional", "--address", "dr@chu.example", "--name", "Dr Alice Martin", "--rpps", rpps("1000000042"), "--profession", "Médecin généraliste")
	add("--role", "patient", "--address", "jeanne@patient.example", "--name", "Jeanne", "--ins", ins("2850375123456"), "--birth-date", "1985-03-14", "--sex", "F")
	add("--role", "patient", "--address", "paul@patient.example", "--name", "Paul", "--ins", ins("1850775123456"), "--birth-date", "1985-07-01", "--sex", "M")
	add("--role", "pharmacy", "--address", "gare@chu.example", "--name", "Pharmacie de la Gare", "--finess", "030001230",
		"--postal-address", "12 AV de la Gare", "--postal-code", "03000", "--commune", "Moulins", "--reachable-by-patients")
	add("--role", "pharmacy", "--address", "fermee@chu.example", "--name", "Pharmacie Fermée", "--finess", "030001248",
		"--postal-address", "2 rue X", "--postal-code", "03000", "--commune", "Moulins")
	srv := startServe(t, data)
	script := filepath.Join(t.TempDir(), "rules.py")
	if err := os.WriteFile(script, []byte(peerRulesScript), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := peerRun(t, "", python, script, peerPort(t, srv.addrs["smtp-submission"]), filepath.Join(data, "pki", "ca.pem"), testPassword,
		"dr@chu.example", "jeanne@patient.example", "paul@patient.example", "gare@chu.example", "fermee@chu.example")
	if code != 0 || strings.Count(out, "ok  ") != 14 {
		t.Fatalf("rules through smtplib: exit %d\n%s", code, out)
	}
	t.Logf("%s", out)
	srv.stop(t)
}
