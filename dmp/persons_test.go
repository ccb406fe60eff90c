package dmp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
	"mssanted/directory"
	"mssanted/dmp"
	"mssanted/dmp/xdm/xdmtest"
)

func TestPersons(t *testing.T) {
	dbtest.Suite(t, []dbtest.Case{{Name: "children-and-representatives", Run: testPersons}})
}

func testPersons(t *testing.T, d *db.DB) {
	f := newFixture(t, d)
	ctx := context.Background()
	k, _ := directory.INSKey("1150775123456")
	childINS := "1150775123456" + k
	child, err := f.docs.AddChild(ctx, f.pat, dmp.NewChild{Name: "Léo Pat-Trois", INS: childINS, BirthDate: time.Date(2015, 7, 1, 0, 0, 0, 0, time.UTC), Sex: "M"})
	must(t, err)
	if _, err := f.docs.AddChild(ctx, f.pat, dmp.NewChild{Name: "Adulte", INS: childINS, BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), Sex: "M"}); !errors.Is(err, dmp.ErrInvalid) {
		t.Fatalf("an adult as a child: %v", err)
	}
	ps, err := f.docs.Persons(ctx, f.pat)
	must(t, err)
	if len(ps) != 2 || !ps[0].Self || ps[1].ID != child.ID || ps[1].Role != "représentant légal" {
		t.Fatalf("persons: %+v", ps)
	}
	if a, err := f.docs.ActFor(ctx, f.pat, child.ID); err != nil || a.ID != child.ID {
		t.Fatalf("act for the child: %v", err)
	}
	// The pediatrician's letter for the child: one document for everyone
	// who represents the child, one hidden from representatives.
	arch := xdmtest.MustBuild(t, xdmtest.Spec{Patient: xdmtest.Patient{INS: childINS, OID: "1.2.250.1.213.1.4.8"}, Documents: []xdmtest.Doc{
		{File: "DOC0001.XML", Content: xdmtest.CDALevel1(xdmtest.CDA{}), Title: "Bilan des 6 ans", Class: "10", Type: "11488-4"},
		{File: "DOC0002.XML", Content: xdmtest.CDALevel1(xdmtest.CDA{}), Title: "Consultation confidentielle", Class: "10", Type: "11488-4",
			Confidentiality: []string{"N", "INVISIBLE_REPRESENTANTS_LEGAUX"}},
	}})
	f.deliver(t, f.doc, child.Address, letter(f.doc.Address, child.Address, "Bilan", "", attachment{"IHE_XDM.ZIP", "application/zip", arch}))
	seen, err := f.docs.List(ctx, f.pat, child.ID, dmp.Query{})
	must(t, err)
	if got := titles(seen); len(seen) != 1 || got["Bilan des 6 ans"].ID == 0 {
		t.Fatalf("the parent sees %v", got)
	}
	// The parent manages the child's library: folders, uploads, the trace.
	fo, err := f.docs.CreateFolderFor(ctx, f.pat, child.ID, "Vaccins")
	must(t, err)
	up, err := f.docs.AddDocument(ctx, f.pat, dmp.Upload{PersonID: child.ID, Name: "carnet.pdf", Data: xdmtest.TinyPDF, FolderID: fo.ID})
	must(t, err)
	if up.PatientID != child.ID {
		t.Fatalf("upload went to %d", up.PatientID)
	}
	if fs, err := f.docs.FoldersFor(ctx, f.pat, child.ID); err != nil || len(fs) != 1 || fs[0].Documents != 1 {
		t.Fatalf("child's folders: %+v %v", fs, err)
	}
	if own, _ := f.docs.Folders(ctx, f.pat); len(own) != 0 {
		t.Fatalf("the child's folder shows in the parent's library: %+v", own)
	}
	if tr, err := f.docs.TracesFor(ctx, f.pat, child.ID, 50); err != nil || len(tr) == 0 {
		t.Fatalf("child's trace: %v", err)
	}
	// Nobody else acts for the child; a second representative is invited
	// and accepts.
	other, err := f.dir.Create(ctx, directory.NewAccount{Address: "camille@patient.example", Role: directory.Patient, DisplayName: "Camille", Password: pw,
		Patient: &directory.PatientInfo{INS: func() string { k, _ := directory.INSKey("2880675123456"); return "2880675123456" + k }(),
			BirthDate: time.Date(1988, 6, 1, 0, 0, 0, 0, time.UTC), Sex: "F"}})
	must(t, err)
	if _, err := f.docs.ActFor(ctx, other, child.ID); !errors.Is(err, dmp.ErrForbidden) {
		t.Fatalf("a stranger acts for the child: %v", err)
	}
	if _, err := f.docs.List(ctx, other, child.ID, dmp.Query{}); !errors.Is(err, dmp.ErrForbidden) {
		t.Fatalf("a stranger lists the child's documents: %v", err)
	}
	if _, err := f.docs.CreateFolderFor(ctx, other, child.ID, "x"); !errors.Is(err, dmp.ErrForbidden) {
		t.Fatalf("a stranger made a folder for the child: %v", err)
	}
	if _, err := f.docs.AddDocument(ctx, other, dmp.Upload{PersonID: child.ID, Name: "x.pdf", Data: xdmtest.TinyPDF}); !errors.Is(err, dmp.ErrForbidden) {
		t.Fatalf("a stranger uploaded for the child: %v", err)
	}
	if _, err := f.docs.ActFor(ctx, f.doc, child.ID); !errors.Is(err, dmp.ErrForbidden) {
		t.Fatal("a professional acted for a patient")
	}
	must(t, f.docs.InviteRepresentative(ctx, f.pat, child.ID, other.Address))
	if _, err := f.docs.ActFor(ctx, other, child.ID); !errors.Is(err, dmp.ErrForbidden) {
		t.Fatal("an invitation acts before it is accepted")
	}
	inv, err := f.docs.Invitations(ctx, other)
	must(t, err)
	if len(inv) != 1 || inv[0].ID != child.ID {
		t.Fatalf("invitations: %+v", inv)
	}
	must(t, f.docs.AcceptRepresentation(ctx, other, child.ID))
	if _, err := f.docs.ActFor(ctx, other, child.ID); err != nil {
		t.Fatalf("after accepting: %v", err)
	}
}
