package directory

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

const mipihDN = "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR"

func TestParseDN(t *testing.T) {
	dn, err := ParseDN(mipihDN)
	if err != nil {
		t.Fatal(err)
	}
	want := DN{{{"CN", "medimail-asip.mipih.fr"}}, {{"OU", "318310021300028"}}, {{"O", "GIP MIPIH"}},
		{{"ST", "Haute-Garonne (31)"}}, {{"C", "FR"}}}
	if !reflect.DeepEqual(dn, want) {
		t.Fatalf("ParseDN = %#v", dn)
	}
	if dn.String() != mipihDN {
		t.Errorf("String() = %q", dn.String())
	}
	for in, want := range map[string]DN{
		`CN=a\,b,O=x`:                        {{{"CN", "a,b"}}, {{"O", "x"}}},
		`CN=\41\C3\A9 z`:                     {{{"CN", "Aé z"}}},
		`O="Dupont, Fils + Cie"`:             {{{"O", "Dupont, Fils + Cie"}}},
		` cn = x , o = y  `:                  {{{"CN", "x"}}, {{"O", "y"}}},
		`CN=x\ ,O=y`:                         {{{"CN", "x "}}, {{"O", "y"}}},
		`emailAddress=a@b.fr`:                {{{"E", "a@b.fr"}}},
		`OID.2.5.4.3=x+2.5.4.5=42`:           {{{"CN", "x"}, {"SERIALNUMBER", "42"}}},
		`S=Paris,L=Lyon,street=1 rue`:        {{{"ST", "Paris"}}, {{"L", "Lyon"}}, {{"STREET", "1 rue"}}},
		`1.2.840.113549.1.9.1=#160461406221`: {{{"E", "a@b!"}}},
		`1.2.3.4=#0101ff`:                    {{{"1.2.3.4", "#0101ff"}}},
		`O=#1 Santé`:                         {{{"O", "#1 Santé"}}},
		`CN=a=b`:                             {{{"CN", "a=b"}}},
		`X-Custom=v`:                         {{{"X-CUSTOM", "v"}}},
	} {
		got, err := ParseDN(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseDN(%q) = %#v, %v; want %#v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "  ", "CN", "CN=x,", "=x", "CN=x,,O=y", "/C=FR/O=X/CN=Y", `CN=x\`,
		`CN="x`, "O=Dupont, Fils", "CN=x;", `CN="x"y`, "1=x", "01.2=x", "C N=x", "CN=\xff",
		strings.Repeat("OU=x,", 65) + "C=FR", "CN=" + strings.Repeat("x", maxDNLength)} {
		if dn, err := ParseDN(in); err == nil {
			t.Errorf("ParseDN(%q) = %v, want an error", in, dn)
		}
	}
}

func TestDNEqual(t *testing.T) {
	base, _ := ParseDN(mipihDN)
	for _, s := range []string{
		mipihDN,
		"cn=MEDIMAIL-ASIP.MIPIH.FR, ou=318310021300028, o=gip  mipih, st=haute-garonne (31), c=fr",
		"C=FR,ST=Haute-Garonne (31),O=GIP MIPIH,OU=318310021300028,CN=medimail-asip.mipih.fr", // OpenSSL order
		"C=FR,O=GIP MIPIH,CN=medimail-asip.mipih.fr,ST=Haute-Garonne (31),OU=318310021300028", // any order
		"commonName=medimail-asip.mipih.fr,2.5.4.11=318310021300028,O=\"GIP MIPIH\",S=Haute-Garonne \\2831\\29,countryName=FR",
		"CN=medimail-asip.mipih.fr+OU=318310021300028,O=GIP\tMIPIH ,ST=Haute-Garonne (31),C=FR",
	} {
		dn, err := ParseDN(s)
		if err != nil || !dn.Equal(base) {
			t.Errorf("%q: %v, not equal to the list's DN (%q vs %q)", s, err, dn.Key(), base.Key())
		}
	}
	for _, s := range []string{
		"CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31)",              // one missing
		"CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR,L=Paris", // one more
		"CN=medimail-asip.mipih.fr,OU=318310021300029,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR",         // other value
		"CN=medimail-asip.mipih.fr,O=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR",          // other type
		"CN=medimail-asip.mipih.fr,OU=318310021300028,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR",
		"CN=medimail-asip.mipih.fr\\,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR",
	} {
		if dn, err := ParseDN(s); err != nil || dn.Equal(base) {
			t.Errorf("%q: %v, equal to the list's DN", s, err)
		}
	}
	if base.Get("O") != "GIP MIPIH" || base.Get("L") != "" {
		t.Errorf("Get: %q %q", base.Get("O"), base.Get("L"))
	}
}

// A certificate's subject, as the MX sees it, matches the list's string.
func TestDNFromCertificate(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	subject := pkix.Name{
		CommonName: "mss.operateur.example", OrganizationalUnit: []string{"318310021300028"},
		Organization: []string{"GIP MIPIH"}, Province: []string{"Haute-Garonne (31)"}, Country: []string{"FR"},
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: "postmaster@operateur.example"}},
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := ParseDN("CN=mss.operateur.example,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR,E=postmaster@operateur.example")
	if err != nil {
		t.Fatal(err)
	}
	for name, dn := range map[string]DN{
		"certificate": DNFromCertificate(c), "parsed name": DNFromName(c.Subject), "built name": DNFromName(subject),
	} {
		if !dn.Equal(listed) {
			t.Errorf("%s: %q does not match %q", name, dn, listed)
		}
	}
	if got := DNFromCertificate(c).String(); !strings.HasPrefix(got, "E=postmaster@operateur.example,CN=mss.operateur.example,") {
		t.Errorf("certificate DN in string order: %q", got)
	}
	// Go's own rendering (emailAddress as #hex) parses to the same DN.
	if dn, err := ParseDN(c.Subject.String()); err != nil || !dn.Equal(listed) {
		t.Errorf("ParseDN(%q) = %q, %v", c.Subject.String(), dn, err)
	}
	// Without the e-mail attribute the subject is another DN.
	short, _ := ParseDN("CN=mss.operateur.example,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR")
	if short.Equal(DNFromCertificate(c)) {
		t.Error("a DN missing an attribute of the certificate matched it")
	}
}

// ParseDN(dn.String()) gives the same DN back, and Key is stable.
func FuzzParseDN(f *testing.F) {
	for _, s := range []string{mipihDN, `CN=a\,b+OU=\#x,O="q, r"`, `1.2.840.113549.1.9.1=#160461406221`, `CN=\20x\20`, "O=#1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dn, err := ParseDN(s)
		if err != nil {
			return
		}
		if len(dn.String()) > maxDNLength { // escaping grew it past the bound
			return
		}
		again, err := ParseDN(dn.String())
		if err != nil {
			t.Fatalf("ParseDN(%.200q).String() = %.200q does not parse: %v", s, dn.String(), err)
		}
		if !reflect.DeepEqual(again, dn) {
			t.Fatalf("round trip of %.200q: %.200q then %.200q", s, dn, again)
		}
		if again.Key() != dn.Key() {
			t.Fatalf("key changed")
		}
	})
}
