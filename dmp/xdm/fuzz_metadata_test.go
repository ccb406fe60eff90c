package xdm

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseMetadata: no panic; an error always wraps ErrMetadata; parsed
// times are UTC, sizes are -1 or more, hashes lower case.
func FuzzParseMetadata(f *testing.F) {
	real := string(readTestdata(f, drimboxMetadata))
	start := strings.Index(real, "<ns3:SubmitObjectsRequest>")
	end := strings.Index(real, "</ns3:SubmitObjectsRequest>") + len("</ns3:SubmitObjectsRequest>")
	for _, s := range []string{
		real,
		real[start:end], // the stripped DRIM-M form: ns3 undeclared
		strings.Replace(real[start:end], "<ns3:SubmitObjectsRequest>", `<ns3:SubmitObjectsRequest xmlns:ns3="`+NSLcm+`" xmlns="`+NSRim+`">`, 1),
		asipMetadata,
		`<SubmitObjectsRequest xmlns="` + NSLcm + `"><RegistryObjectList xmlns="` + NSRim + `"><ExtrinsicObject id="x"><Slot name="size"><ValueList><Value>-3</Value></ValueList></Slot></ExtrinsicObject></RegistryObjectList></SubmitObjectsRequest>`,
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ParseMetadata(in)
		if err != nil {
			if !errors.Is(err, ErrMetadata) {
				t.Fatalf("error not ErrMetadata: %v", err)
			}
			return
		}
		for _, e := range m.Documents {
			if e.CreationTime.Location().String() != "UTC" || e.ServiceStartTime.Location().String() != "UTC" {
				t.Fatalf("time not UTC: %v", e.CreationTime)
			}
			if e.Size < -1 || e.Hash != strings.ToLower(e.Hash) {
				t.Fatalf("size %d hash %q", e.Size, e.Hash)
			}
		}
	})
}
