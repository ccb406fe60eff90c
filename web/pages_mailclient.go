package web

import (
	"bytes"
	"crypto/sha1"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"

	"mssanted/directory"
)

// MailClient is what a professional's mail client needs to connect: the
// public host name and the ports of the IMAP and submission listeners (0
// for one that is off). It feeds Thunderbird's autoconfig, the Apple
// profile and the set-up page.
type MailClient struct {
	Hostname     string
	Organisation string
	Domains      []string // the mail domains served (professionals')
	IMAP         int      // IMAP with STARTTLS (RFC 9051; 143 by convention)
	IMAPS        int      // IMAP over implicit TLS (RFC 8314; 993)
	Submission   int      // SMTP submission with STARTTLS (RFC 6409; 587)
	Submissions  int      // SMTP submission over implicit TLS (RFC 8314; 465)
}

func (p *pages) mailClient() (MailClient, bool) {
	if p.o.MailClient == nil {
		return MailClient{}, false
	}
	mc := p.o.MailClient()
	return mc, mc.Hostname != ""
}

// serves says whether domain is one of the mail domains of the instance.
func (mc MailClient) serves(domain string) bool {
	for _, d := range mc.Domains {
		if strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}

// Thunderbird's autoconfig format, version 1.1
// (https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat).
type acServer struct {
	Type           string `xml:"type,attr"`
	Hostname       string `xml:"hostname"`
	Port           int    `xml:"port"`
	SocketType     string `xml:"socketType"`
	Authentication string `xml:"authentication"`
	Username       string `xml:"username"`
}

type acProvider struct {
	ID               string     `xml:"id,attr"`
	Domains          []string   `xml:"domain"`
	DisplayName      string     `xml:"displayName"`
	DisplayShortName string     `xml:"displayShortName"`
	Incoming         []acServer `xml:"incomingServer"`
	Outgoing         []acServer `xml:"outgoingServer"`
}

type acConfig struct {
	XMLName  xml.Name   `xml:"clientConfig"`
	Version  string     `xml:"version,attr"`
	Provider acProvider `xml:"emailProvider"`
}

// autoconfig answers Thunderbird (and other clients that read its
// format) at /.well-known/autoconfig/mail/config-v1.1.xml and at
// /mail/config-v1.1.xml?emailaddress=… (the autoconfig.<domain> host of
// `mssanted dns`). Implicit TLS comes first, as RFC 8314 recommends.
func (p *pages) autoconfig(w http.ResponseWriter, r *http.Request) {
	mc, ok := p.mailClient()
	if !ok || len(mc.Domains) == 0 {
		http.NotFound(w, r)
		return
	}
	domain := mc.Domains[0]
	if addr := r.URL.Query().Get("emailaddress"); addr != "" {
		_, d, found := strings.Cut(addr, "@")
		if !found || len(addr) > 254 || !mc.serves(d) {
			http.Error(w, "Adresse inconnue de ce service", http.StatusNotFound)
			return
		}
		domain = strings.ToLower(d)
	}
	server := func(typ string, port int, socket string) acServer {
		return acServer{Type: typ, Hostname: mc.Hostname, Port: port, SocketType: socket, Authentication: "password-cleartext", Username: "%EMAILADDRESS%"}
	}
	c := acConfig{Version: "1.1", Provider: acProvider{ID: domain, Domains: mc.Domains,
		DisplayName: mc.Organisation + " — messagerie sécurisée de santé", DisplayShortName: mc.Organisation}}
	if mc.IMAPS != 0 {
		c.Provider.Incoming = append(c.Provider.Incoming, server("imap", mc.IMAPS, "SSL"))
	}
	if mc.IMAP != 0 {
		c.Provider.Incoming = append(c.Provider.Incoming, server("imap", mc.IMAP, "STARTTLS"))
	}
	if mc.Submissions != 0 {
		c.Provider.Outgoing = append(c.Provider.Outgoing, server("smtp", mc.Submissions, "SSL"))
	}
	if mc.Submission != 0 {
		c.Provider.Outgoing = append(c.Provider.Outgoing, server("smtp", mc.Submission, "STARTTLS"))
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(c); err != nil {
		p.o.Logger.Error("web: autoconfig", "err", err)
		http.Error(w, "Erreur interne", http.StatusInternalServerError)
		return
	}
	buf.WriteString("\n")
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(buf.Bytes())
}

// stableUUID is a name-based UUID (RFC 9562 version 5 layout over SHA-1):
// downloading the profile again replaces the installed one instead of
// adding a second.
func stableUUID(name string) string {
	h := sha1.Sum([]byte("mssanted mobileconfig\x00" + name))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// plist writes the few property-list values a configuration profile needs.
type plist struct{ bytes.Buffer }

func (p *plist) key(k string) {
	p.WriteString("<key>")
	xml.EscapeText(&p.Buffer, []byte(k))
	p.WriteString("</key>")
}

func (p *plist) str(k, v string) {
	p.key(k)
	p.WriteString("<string>")
	xml.EscapeText(&p.Buffer, []byte(v))
	p.WriteString("</string>\n")
}

func (p *plist) integer(k string, v int) {
	p.key(k)
	fmt.Fprintf(&p.Buffer, "<integer>%d</integer>\n", v)
}

func (p *plist) boolean(k string, v bool) {
	p.key(k)
	if v {
		p.WriteString("<true/>\n")
	} else {
		p.WriteString("<false/>\n")
	}
}

// mobileConfig is an unsigned Apple configuration profile with one
// com.apple.mail.managed payload for the signed-in user (IMAP over TLS,
// submission over TLS, password asked on the device: no secret inside).
func (p *pages) mobileConfig(w http.ResponseWriter, r *http.Request, s *websession) {
	mc, ok := p.mailClient()
	if !ok || s.Account.Role == directory.Patient || (mc.IMAPS == 0 && mc.IMAP == 0) || (mc.Submissions == 0 && mc.Submission == 0) {
		p.notFound(w, r, s)
		return
	}
	addr := s.Account.Address
	inPort, inSSL := mc.IMAPS, true
	if inPort == 0 {
		inPort, inSSL = mc.IMAP, false // STARTTLS: Mail upgrades when offered
	}
	outPort, outSSL := mc.Submissions, true
	if outPort == 0 {
		outPort, outSSL = mc.Submission, false
	}
	ident := "fr.mssanted." + strings.ReplaceAll(mc.Hostname, ".", "-")
	var pl plist
	pl.WriteString(xml.Header)
	pl.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	pl.WriteString("<plist version=\"1.0\">\n<dict>\n")
	pl.key("PayloadContent")
	pl.WriteString("\n<array>\n<dict>\n")
	pl.str("PayloadType", "com.apple.mail.managed")
	pl.integer("PayloadVersion", 1)
	pl.str("PayloadIdentifier", ident+".mail."+addr)
	pl.str("PayloadUUID", stableUUID("mail "+addr))
	pl.str("PayloadDisplayName", "Messagerie sécurisée de santé")
	pl.str("EmailAccountDescription", mc.Organisation+" — messagerie sécurisée de santé")
	pl.str("EmailAccountName", s.Account.DisplayName)
	pl.str("EmailAccountType", "EmailTypeIMAP")
	pl.str("EmailAddress", addr)
	pl.str("IncomingMailServerAuthentication", "EmailAuthPassword")
	pl.str("IncomingMailServerHostName", mc.Hostname)
	pl.integer("IncomingMailServerPortNumber", inPort)
	pl.boolean("IncomingMailServerUseSSL", inSSL)
	pl.str("IncomingMailServerUsername", addr)
	pl.str("OutgoingMailServerAuthentication", "EmailAuthPassword")
	pl.str("OutgoingMailServerHostName", mc.Hostname)
	pl.integer("OutgoingMailServerPortNumber", outPort)
	pl.boolean("OutgoingMailServerUseSSL", outSSL)
	pl.str("OutgoingMailServerUsername", addr)
	pl.boolean("OutgoingPasswordSameAsIncomingPassword", true)
	pl.boolean("SMIMEEnabled", false)
	pl.WriteString("</dict>\n</array>\n")
	pl.str("PayloadDisplayName", mc.Organisation+" — messagerie sécurisée de santé")
	pl.str("PayloadDescription", "Configure Mail pour la messagerie sécurisée de santé de "+addr+".")
	pl.str("PayloadIdentifier", ident+"."+addr)
	pl.str("PayloadOrganization", mc.Organisation)
	pl.boolean("PayloadRemovalDisallowed", false)
	pl.str("PayloadType", "Configuration")
	pl.str("PayloadUUID", stableUUID("profile "+addr))
	pl.integer("PayloadVersion", 1)
	pl.WriteString("</dict>\n</plist>\n")
	w.Header().Set("Content-Type", "application/x-apple-aspen-config")
	w.Header().Set("Content-Disposition", `attachment; filename="messagerie-sante.mobileconfig"`)
	w.Write(pl.Bytes())
}

type mailClientData struct {
	page
	MC      MailClient
	Address string
}

// mailClientPage tells a professional how to connect a mail client.
func (p *pages) mailClientPage(w http.ResponseWriter, r *http.Request, s *websession) {
	mc, ok := p.mailClient()
	if !ok || s.Account.Role == directory.Patient {
		p.notFound(w, r, s)
		return
	}
	p.render(w, r, http.StatusOK, "mailclient", mailClientData{page: p.newPage(s, "Logiciel de messagerie", "configuration"), MC: mc, Address: s.Account.Address})
}
