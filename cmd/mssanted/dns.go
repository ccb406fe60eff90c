package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"text/tabwriter"

	"mssanted/web"
)

// listenPort is the port a listener serves on: the bound one when it is
// running (a configured port 0 becomes a real one), else the configured
// one; 0 when the listener is off.
func listenPort(configured string, bound map[string]string, name string) int {
	addr := configured
	if b, ok := bound[name]; ok {
		addr = b
	}
	if addr == "" || addr == "off" {
		return 0
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return 0
	}
	return n
}

// mailClientSettings is what mail clients are told (autoconfig, Apple
// profile, DNS SRV records): the instance's host name and the ports of
// its IMAP and submission listeners. bound may be nil.
func mailClientSettings(cfg Config, bound map[string]string) web.MailClient {
	return web.MailClient{
		Hostname:     cfg.Instance.Hostname,
		Organisation: cfg.Instance.Organisation,
		Domains:      cfg.Instance.Domains,
		IMAP:         listenPort(cfg.Listen.IMAP, bound, "imap"),
		IMAPS:        listenPort(cfg.Listen.IMAPS, bound, "imaps"),
		Submission:   listenPort(cfg.Listen.SMTPSubmission, bound, "smtp-submission"),
		Submissions:  listenPort(cfg.Listen.SMTPSubmissions, bound, "smtp-submissions"),
	}
}

func fqdn(name string) string {
	if name == "." || strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

// cmdDNS prints the DNS records to publish for the instance, in zone-file
// syntax: MX for every domain; for the professionals' domains, the SRV
// records of RFC 6186 (_imap, _imaps, _submission; _pop3 and _pop3s as
// "not offered") and RFC 8314 (_submissions), with implicit TLS
// preferred, and the autoconfig CNAME Thunderbird looks for.
func cmdDNS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("dns", stderr)
	ttl := fs.Int("ttl", 3600, "TTL of the records, in seconds")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := requireData(*data); err != nil {
		return err
	}
	if *ttl <= 0 {
		return usagef("--ttl must be positive")
	}
	cfg, err := LoadConfig(*data)
	if err != nil {
		return err
	}
	mc := mailClientSettings(cfg, nil)
	host := fqdn(mc.Hostname)
	w := tabwriter.NewWriter(stdout, 0, 8, 1, ' ', 0)
	rr := func(name, typ, value string) {
		fmt.Fprintf(w, "%s\t%d\tIN\t%s\t%s\n", fqdn(name), *ttl, typ, value)
	}
	srv := func(service, domain string, priority, port int) {
		if port == 0 {
			rr(service+"._tcp."+domain, "SRV", "0 0 0 .") // RFC 6186 3.4: not offered
			return
		}
		rr(service+"._tcp."+domain, "SRV", fmt.Sprintf("%d 1 %d %s", priority, port, host))
	}
	fmt.Fprintf(w, "; DNS records for %s (mail host %s), printed by mssanted dns.\n", cfg.Instance.Organisation, mc.Hostname)
	fmt.Fprintf(w, "; %s also needs an A and/or AAAA record: the public address of this server.\n", host)
	if p := listenPort(cfg.Listen.SMTPMX, nil, "smtp-mx"); p != 25 {
		fmt.Fprintf(w, "; The MX listener is on %s: other operators connect to port 25, forward it there.\n", cfg.Listen.SMTPMX)
	}
	if local(cfg) {
		fmt.Fprintf(w, "; Some listeners bind a loopback address: set them to a public address in %s.\n", ConfigFile)
	}
	for _, d := range cfg.Instance.Domains {
		fmt.Fprintf(w, "\n; %s: professionals and pharmacies (mail clients)\n", d)
		rr(d, "MX", "10 "+host)
		srv("_submissions", d, 0, mc.Submissions) // RFC 8314: implicit TLS first
		srv("_submission", d, 10, mc.Submission)
		srv("_imaps", d, 0, mc.IMAPS)
		srv("_imap", d, 10, mc.IMAP)
		srv("_pop3s", d, 0, 0)
		srv("_pop3", d, 0, 0)
		rr("autoconfig."+d, "CNAME", host)
	}
	if p := cfg.Instance.PatientDomain; p != "" {
		fmt.Fprintf(w, "\n; %s: patients (the web app; no mail client)\n", p)
		rr(p, "MX", "10 "+host)
	}
	return w.Flush()
}

// local says whether a mail listener binds a loopback address only.
func local(cfg Config) bool {
	for _, a := range []string{cfg.Listen.SMTPMX, cfg.Listen.SMTPSubmission, cfg.Listen.SMTPSubmissions, cfg.Listen.IMAP, cfg.Listen.IMAPS} {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			continue
		}
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return true
		}
	}
	return false
}
