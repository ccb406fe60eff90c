package xdm_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"testing"

	"mssanted/dmp/xdm"
	"mssanted/dmp/xdm/xdmtest"
)

// FuzzOpen: no panic; an error is always a *Problem with a reason; an
// accepted document's bytes match its metadata hash and size, a refused one
// has no bytes; nothing read exceeds the limits.
func FuzzOpen(f *testing.F) {
	f.Add(zipDir(f, "testdata/KA202401"))
	for _, s := range []xdmtest.Spec{
		{},
		{Envelope: true, BOM: true, URIWithSubset: true, Subset: "SS000001"},
		{Documents: []xdmtest.Doc{{}, {WrongHash: true}, {OmitFile: true}, {URI: "../x"}}},
		{Hostile: xdmtest.Hostile{Traversal: true}},
		{Hostile: xdmtest.Hostile{NestedZip: true}},
		{Hostile: xdmtest.Hostile{Symlink: true}},
		{Hostile: xdmtest.Hostile{BrokenXML: true}},
		{Hostile: xdmtest.Hostile{UndeclaredPrefix: true}},
		{Hostile: xdmtest.Hostile{Bomb: 64 << 10}},
	} {
		f.Add(xdmtest.MustBuild(f, s))
	}
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	lim := xdm.Limits{MaxEntries: 64, MaxFileBytes: 1 << 20, MaxTotalBytes: 2 << 20, MaxMetadataBytes: 1 << 20, MaxRatio: 50, RatioFloor: 64 << 10}
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := xdm.Open(bytes.NewReader(in), int64(len(in)), lim)
		if err != nil {
			p, ok := xdm.AsProblem(err)
			if !ok || p.Reason == "" || p.English == "" || p.Code == "" || a != nil {
				t.Fatalf("error %#v", err)
			}
			return
		}
		var total int
		for _, d := range a.Documents() {
			if d.Problem != nil {
				if d.Content != nil || d.Problem.Reason == "" {
					t.Fatalf("refused document with content or no reason: %+v", d.Problem)
				}
				continue
			}
			sum := sha1.Sum(d.Content)
			if hex.EncodeToString(sum[:]) != d.Entry.Hash || int64(len(d.Content)) != d.Entry.Size {
				t.Fatalf("accepted document does not match its metadata: %s", d.Path)
			}
			total += len(d.Content)
		}
		if total > int(lim.MaxTotalBytes) {
			t.Fatalf("%d bytes read", total)
		}
	})
}
