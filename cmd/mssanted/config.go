package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/BurntSushi/toml"
)

// ConfigFile is the name of the configuration inside the data directory.
const ConfigFile = "mssanted.toml"

// Config is DATA/mssanted.toml. Every key has a default, written with a
// comment by `mssanted init`; an unknown key is an error, so a typo never
// silently falls back to a default.
type Config struct {
	Instance struct {
		Domains       []string `toml:"domains"`
		PatientDomain string   `toml:"patient_domain"`
		Hostname      string   `toml:"hostname"`
		Organisation  string   `toml:"organisation"`
	} `toml:"instance"`
	Database struct {
		DSN string `toml:"dsn"`
	} `toml:"database"`
	Storage struct {
		BlobsDir string `toml:"blobs_dir"`
	} `toml:"storage"`
	Listen struct {
		SMTPMX          string `toml:"smtp_mx"`
		SMTPSubmission  string `toml:"smtp_submission"`
		SMTPSubmissions string `toml:"smtp_submissions"`
		IMAP            string `toml:"imap"`
		IMAPS           string `toml:"imaps"`
		HTTP            string `toml:"http"`
		Metrics         string `toml:"metrics"`
	} `toml:"listen"`
	Log struct {
		Format string `toml:"format"`
		Level  string `toml:"level"`
	} `toml:"log"`
	SMTP struct {
		MaxMessageBytes  int64    `toml:"max_message_bytes"`
		AuthFailureDelay Duration `toml:"auth_failure_delay"`
	} `toml:"smtp"`
	Outbound struct {
		Routes           map[string]string `toml:"routes"`
		DNS              bool              `toml:"dns"`
		RetryFor         Duration          `toml:"retry_for"`
		DelayNoticeAfter Duration          `toml:"delay_notice_after"`
		Workers          int               `toml:"workers"`
	} `toml:"outbound"`
	SMIME struct {
		InvalidSignature        string            `toml:"invalid_signature"`
		InvalidSignatureDomains map[string]string `toml:"invalid_signature_domains"`
		RequireEncryption       []string          `toml:"require_encryption"`
		SignWith                string            `toml:"sign_with"`
		Cipher                  string            `toml:"cipher"`
		OAEP                    bool              `toml:"oaep"`
	} `toml:"smime"`
	Auth struct {
		LockoutFailures int      `toml:"lockout_failures"`
		LockoutWindow   Duration `toml:"lockout_window"`
		LockoutDuration Duration `toml:"lockout_duration"`
	} `toml:"auth"`
	TLS struct {
		Anchors []string `toml:"anchors"`
	} `toml:"tls"`
	Notify struct {
		Relay       string `toml:"relay"`
		ImplicitTLS bool   `toml:"implicit_tls"`
		CAFile      string `toml:"ca_file"`
		Username    string `toml:"username"`
		Password    string `toml:"password"`
		From        string `toml:"from"`
		AppURL      string `toml:"app_url"`
	} `toml:"notify"`
	Shutdown struct {
		Grace Duration `toml:"grace"`
	} `toml:"shutdown"`
}

// Duration is a time.Duration written as "5m" in the file.
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %s is negative", b)
	}
	d.Duration = v
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DefaultConfig is the configuration of an instance serving domain.
func DefaultConfig(domain, patientDomain string) Config {
	var c Config
	c.Instance.Domains = []string{domain}
	if patientDomain == "" {
		patientDomain = "patient." + domain
	}
	c.Instance.PatientDomain = patientDomain
	c.Instance.Hostname = "mail." + domain
	c.Instance.Organisation = domain
	c.Listen.SMTPMX = "127.0.0.1:2525"
	c.Listen.SMTPSubmission = "127.0.0.1:5587"
	c.Listen.SMTPSubmissions = "127.0.0.1:5465"
	c.Listen.IMAP = "127.0.0.1:1143"
	c.Listen.IMAPS = "127.0.0.1:1993"
	c.Listen.HTTP = "127.0.0.1:8443"
	c.Listen.Metrics = "127.0.0.1:9464"
	c.Log.Format = "text"
	c.Log.Level = "info"
	c.SMTP.MaxMessageBytes = 25 << 20
	c.SMTP.AuthFailureDelay = Duration{time.Second}
	c.Outbound.Routes = map[string]string{}
	c.Outbound.RetryFor = Duration{96 * time.Hour}
	c.Outbound.DelayNoticeAfter = Duration{4 * time.Hour}
	c.Outbound.Workers = 4
	c.SMIME.InvalidSignature = "reject"
	c.SMIME.InvalidSignatureDomains = map[string]string{}
	c.SMIME.RequireEncryption = []string{}
	c.SMIME.SignWith = "mailbox"
	c.SMIME.Cipher = "aes-256-gcm"
	c.Auth.LockoutFailures = 10
	c.Auth.LockoutWindow = Duration{5 * time.Minute}
	c.Auth.LockoutDuration = Duration{15 * time.Minute}
	c.TLS.Anchors = []string{}
	c.Notify.From = "Messagerie santé <ne-pas-repondre@" + domain + ">"
	c.Shutdown.Grace = Duration{15 * time.Second}
	return c
}

var configTemplate = template.Must(template.New("config").Funcs(template.FuncMap{"q": tomlString, "list": tomlList, "routes": tomlRoutes}).Parse(
	`# mssanted configuration, written by ` + "`mssanted init`" + `.
# Every key is present with its value at creation; an unknown key is refused.

[instance]
# Professional domains served here (professionals, pharmacies, services).
domains = {{list .Instance.Domains}}
# The patient domain: every patient address lives there.
patient_domain = {{q .Instance.PatientDomain}}
# Host name announced in SMTP greetings and carried by the TLS certificate.
hostname = {{q .Instance.Hostname}}
# Organisation named in the instance CA and certificates.
organisation = {{q .Instance.Organisation}}

[database]
# PostgreSQL DSN (postgres://user@host:5432/db); empty: embedded SQLite in the data directory.
dsn = {{q .Database.DSN}}

[storage]
# Where message and document bodies are kept (content-addressed files); empty: DATA/blobs.
# Nodes sharing one PostgreSQL database must share this directory too.
blobs_dir = {{q .Storage.BlobsDir}}

[listen]
# SMTP MX for the trust space (STARTTLS, mutual TLS between operators).
smtp_mx = {{q .Listen.SMTPMX}}
# SMTP submission for users (STARTTLS, authentication required).
smtp_submission = {{q .Listen.SMTPSubmission}}
# SMTP submission with implicit TLS.
smtp_submissions = {{q .Listen.SMTPSubmissions}}
# IMAP (STARTTLS; no login before TLS).
imap = {{q .Listen.IMAP}}
# IMAP with implicit TLS.
imaps = {{q .Listen.IMAPS}}
# HTTPS: the patient web app and the JSON API.
http = {{q .Listen.HTTP}}
# Prometheus metrics (plain HTTP: keep it on a private address).
metrics = {{q .Listen.Metrics}}

[log]
# text or json.
format = {{q .Log.Format}}
# debug, info, warn or error.
level = {{q .Log.Level}}

[smtp]
# Largest message accepted (SIZE, RFC 1870), in bytes.
max_message_bytes = {{.SMTP.MaxMessageBytes}}
# Pause before answering a failed AUTH, to slow down password guessing.
auth_failure_delay = {{q .SMTP.AuthFailureDelay.String}}

[outbound]
# Where mail for other operators' domains goes: domain = "host:port" (mutual TLS, STARTTLS).
routes = {{routes .Outbound.Routes}}
# Look up MX records for domains without a route (production); false: unrouted domains fail.
dns = {{.Outbound.DNS}}
# How long a message is retried before it bounces with a final DSN.
retry_for = {{q .Outbound.RetryFor.String}}
# When the sender is told the message is delayed (DSN "delayed", once).
delay_notice_after = {{q .Outbound.DelayNoticeAfter.String}}
# Concurrent outbound deliveries.
workers = {{.Outbound.Workers}}

[smime]
# A message from the trust space whose S/MIME signature does not verify: "reject" (5.7.7) or "mark" (stored, flagged).
invalid_signature = {{q .SMIME.InvalidSignature}}
# Per-domain exceptions: domain = "reject" | "mark".
invalid_signature_domains = {{routes .SMIME.InvalidSignatureDomains}}
# Recipient domains mail never leaves in clear: without their certificate it bounces (DSN, 5.7.10).
require_encryption = {{list .SMIME.RequireEncryption}}
# Outbound signature: "mailbox" (the sender's certificate) or "operator" (the instance's TLS certificate).
sign_with = {{q .SMIME.SignWith}}
# Content encryption: aes-256-gcm, aes-128-gcm (AuthEnvelopedData) or aes-256-cbc, aes-128-cbc (EnvelopedData).
cipher = {{q .SMIME.Cipher}}
# RSA key transport: true for RSAES-OAEP, false for PKCS #1 v1.5 (understood by every peer).
oaep = {{.SMIME.OAEP}}

[auth]
# Failed authentications (per account and per client address) that lock ...
lockout_failures = {{.Auth.LockoutFailures}}
# ... when they happen within this window ...
lockout_window = {{q .Auth.LockoutWindow.String}}
# ... for this long.
lockout_duration = {{q .Auth.LockoutDuration.String}}

[tls]
# Extra trust anchors (PEM files), e.g. the IGC-Santé roots of the trust space.
anchors = {{list .TLS.Anchors}}

[notify]
# E-mail notifications to patients' personal addresses ("Du nouveau dans votre espace santé"; never who or what).
# The SMTP relay to the Internet, "host:port"; empty: no e-mail notifications (in-app ones always exist).
relay = {{q .Notify.Relay}}
# true: implicit TLS (port 465); false: STARTTLS, required.
implicit_tls = {{.Notify.ImplicitTLS}}
# PEM roots the relay's certificate must chain to; empty: the system roots.
ca_file = {{q .Notify.CAFile}}
# AUTH PLAIN on the relay when set.
username = {{q .Notify.Username}}
password = {{q .Notify.Password}}
from = {{q .Notify.From}}
# Where the patient logs in, given in the mail; empty: https:// and the [listen] http address.
app_url = {{q .Notify.AppURL}}

[shutdown]
# How long in-flight work may take to finish after SIGTERM.
grace = {{q .Shutdown.Grace.String}}
`))

func tomlString(s string) string {
	var b bytes.Buffer
	toml.NewEncoder(&b).Encode(map[string]string{"v": s})
	return strings.TrimSpace(strings.TrimPrefix(b.String(), "v = "))
}

func tomlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = tomlString(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func tomlRoutes(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = tomlString(k) + " = " + tomlString(m[k])
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// Render writes the configuration in the commented layout of init.
func (c Config) Render() ([]byte, error) {
	var b bytes.Buffer
	if err := configTemplate.Execute(&b, c); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// LoadConfig reads DATA/mssanted.toml over the defaults.
func LoadConfig(dataDir string) (Config, error) {
	path := filepath.Join(dataDir, ConfigFile)
	c := DefaultConfig("localhost", "")
	c.Instance.Domains = nil
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return c, fmt.Errorf("config %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	return c, c.validate()
}

func (c Config) validate() error {
	if len(c.Instance.Domains) == 0 || c.Instance.PatientDomain == "" {
		return fmt.Errorf("config: instance.domains and instance.patient_domain are required")
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("config: log.format must be text or json")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log.level must be debug, info, warn or error")
	}
	if c.SMTP.MaxMessageBytes < 1024 {
		return fmt.Errorf("config: smtp.max_message_bytes must be at least 1024")
	}
	if c.Outbound.Workers < 1 {
		return fmt.Errorf("config: outbound.workers must be at least 1")
	}
	okPolicy := func(v string) bool { return v == "reject" || v == "mark" }
	if !okPolicy(c.SMIME.InvalidSignature) {
		return fmt.Errorf("config: smime.invalid_signature must be reject or mark")
	}
	for d, v := range c.SMIME.InvalidSignatureDomains {
		if !okPolicy(v) {
			return fmt.Errorf("config: smime.invalid_signature_domains.%s must be reject or mark", d)
		}
	}
	if c.SMIME.SignWith != "mailbox" && c.SMIME.SignWith != "operator" {
		return fmt.Errorf("config: smime.sign_with must be mailbox or operator")
	}
	switch c.SMIME.Cipher {
	case "aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-128-cbc":
	default:
		return fmt.Errorf("config: smime.cipher must be aes-256-gcm, aes-128-gcm, aes-256-cbc or aes-128-cbc")
	}
	if c.Auth.LockoutFailures < 1 {
		return fmt.Errorf("config: auth.lockout_failures must be at least 1")
	}
	return nil
}
