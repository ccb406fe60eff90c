package dmp_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/dmp/xdm/xdmtest"
	"mssanted/mailbox"
)

// BenchmarkFiling measures documents filed per second through the whole
// delivery (blob, transaction, filing, notification): a letter with a 1 MB
// PDF, and one with an XDM of 3 documents (+ their PDF twins). Run it with
// bench/documents.sh, which prints SQLite and PostgreSQL side by side.
func BenchmarkFiling(b *testing.B) {
	pdf := append([]byte("%PDF-1.4\n"), make([]byte, 1<<20)...)
	rand.Read(pdf[9:])
	var docs []xdmtest.Doc
	for i := 1; i <= 3; i++ {
		docs = append(docs, xdmtest.Doc{File: fmt.Sprintf("DOC%04d.XML", i), Title: fmt.Sprintf("Compte rendu %d", i),
			Content: xdmtest.CDALevel1(xdmtest.CDA{Title: "CR"}), Class: "10", Type: "11490-0"})
	}
	arch := xdmtest.MustBuild(b, xdmtest.Spec{Documents: docs})
	cases := []struct {
		name  string
		atts  []attachment
		filed int
	}{
		{"pdf-1MB", []attachment{{"compte-rendu.pdf", "application/pdf", pdf}}, 1},
		{"xdm-3-documents", []attachment{{"IHE_XDM.ZIP", "application/zip", arch}}, 3},
	}
	dialects := []db.Dialect{db.SQLite}
	if v := os.Getenv("MSSANTED_TEST_PG_DSN"); v != "" && v != "off" {
		dialects = append(dialects, db.Postgres)
	}
	for _, dialect := range dialects {
		for _, c := range cases {
			b.Run(string(dialect)+"/"+c.name, func(b *testing.B) {
				d := dbtest.Open(b, dialect)
				f := newFixture(b, d)
				ctx := context.Background()
				raws := make([]string, b.N)
				for i := range raws {
					raws[i] = letter(f.doc.Address, f.pat.Address, fmt.Sprintf("Envoi %d", i), "", c.atts...)
					raws[i] = strings.Replace(raws[i], "Message-ID: <", fmt.Sprintf("Message-ID: <%d.", i), 1)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					tx := f.p.Begin(mailbox.Envelope{Door: mailbox.Submission, From: f.doc.Address, Auth: f.doc})
					if err := tx.AddRecipient(ctx, mailbox.Recipient{Address: f.pat.Address}); err != nil {
						b.Fatal(err)
					}
					if _, err := tx.Deliver(ctx, strings.NewReader(raws[i])); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*c.filed)/b.Elapsed().Seconds(), "docs/s")
			})
		}
	}
}
