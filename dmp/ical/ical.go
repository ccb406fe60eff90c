// Package ical writes the agenda as an iCalendar file (RFC 5545), so a
// patient can subscribe to it or import it in any calendar application.
//
// Only what the agenda needs is written: one VCALENDAR of VEVENTs, timed
// events in UTC and all-day (DATE) events. Lines end in CRLF and are folded
// at 75 octets without ever splitting a UTF-8 sequence (RFC 5545 §3.1: "a
// long line can be split between any two characters", and a split rune
// breaks the strict readers of some phones); TEXT values are escaped as §3.3.11
// says.
package ical

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one VEVENT.
type Event struct {
	// UID must stay the same for the same event across exports, or calendar
	// applications duplicate it on every refresh: build it with StableUID.
	UID         string
	Summary     string
	Description string
	Location    string
	URL         string
	Categories  []string
	// AllDay events use the calendar day of Start and End (their time of day
	// is ignored); End is the LAST day included, zero for a one-day event.
	// The writer turns it into the exclusive DTEND;VALUE=DATE that §3.6.1
	// requires. Timed events are written in UTC; a zero End means no DTEND.
	AllDay     bool
	Start, End time.Time
}

// Calendar is one VCALENDAR.
type Calendar struct {
	ProdID string // default "-//mssanted//Agenda//FR"
	Name   string // X-WR-CALNAME, shown by most applications; may be empty
	// Stamp is the DTSTAMP of every event, the time the file was produced.
	// It is a parameter, not time.Now, so the same agenda gives the same file.
	Stamp  time.Time
	Events []Event
}

// ErrInvalid reports an event the writer refuses to write.
var ErrInvalid = errors.New("ical: invalid event")

// StableUID derives a UID from the parts that identify an event (e.g. the
// patient, the prevention code and its window start), so exporting twice
// gives the same UID without storing one. The domain keeps UIDs globally
// unique as §3.8.4.7 asks.
func StableUID(domain string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		// Length-prefixed so ("ab","c") and ("a","bc") differ.
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16]) + "@" + domain
}

// Write writes c to w.
func Write(w io.Writer, c Calendar) error {
	if c.Stamp.IsZero() {
		return fmt.Errorf("%w: calendar has no DTSTAMP", ErrInvalid)
	}
	b := bufio.NewWriter(w)
	line := func(s string) { b.WriteString(Fold(s)) }
	prod := c.ProdID
	if prod == "" {
		prod = "-//mssanted//Agenda//FR"
	}
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:" + prod)
	line("CALSCALE:GREGORIAN")
	if c.Name != "" {
		line("X-WR-CALNAME:" + EscapeText(c.Name))
	}
	stamp := utcStamp(c.Stamp)
	for i, e := range c.Events {
		if e.UID == "" || strings.ContainsAny(e.UID, "\r\n") {
			return fmt.Errorf("%w: event %d has no usable UID", ErrInvalid, i)
		}
		if e.Start.IsZero() {
			return fmt.Errorf("%w: event %s has no start", ErrInvalid, e.UID)
		}
		line("BEGIN:VEVENT")
		line("UID:" + e.UID)
		line("DTSTAMP:" + stamp)
		if e.AllDay {
			last := e.End
			if last.IsZero() {
				last = e.Start
			}
			start, end := civil(e.Start), civil(last).AddDate(0, 0, 1)
			if !end.After(start) {
				return fmt.Errorf("%w: event %s ends before it starts", ErrInvalid, e.UID)
			}
			line("DTSTART;VALUE=DATE:" + start.Format("20060102"))
			line("DTEND;VALUE=DATE:" + end.Format("20060102"))
		} else {
			line("DTSTART:" + utcStamp(e.Start))
			if !e.End.IsZero() {
				if e.End.Before(e.Start) {
					return fmt.Errorf("%w: event %s ends before it starts", ErrInvalid, e.UID)
				}
				line("DTEND:" + utcStamp(e.End))
			}
		}
		line("SUMMARY:" + EscapeText(e.Summary))
		if e.Description != "" {
			line("DESCRIPTION:" + EscapeText(e.Description))
		}
		if e.Location != "" {
			line("LOCATION:" + EscapeText(e.Location))
		}
		if len(e.Categories) > 0 {
			cs := make([]string, len(e.Categories))
			for i, c := range e.Categories {
				cs[i] = EscapeText(c)
			}
			line("CATEGORIES:" + strings.Join(cs, ","))
		}
		if e.URL != "" {
			// URL is a URI value, not TEXT: no escaping, but no line break.
			if strings.ContainsAny(e.URL, "\r\n") {
				return fmt.Errorf("%w: event %s has a line break in its URL", ErrInvalid, e.UID)
			}
			line("URL:" + e.URL)
		}
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return b.Flush()
}

// civil keeps the calendar day of t as seen in its own location.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func utcStamp(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// EscapeText escapes a TEXT value (§3.3.11): backslash, semicolon and comma
// are backslash-escaped, every line break (CRLF, CR or LF) becomes "\n".
func EscapeText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', ';', ',':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b.WriteString(`\n`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// maxOctets is the longest a physical line may be, CRLF excluded (§3.1).
const maxOctets = 75

// Fold returns the content line s folded as §3.1 says, ending in CRLF: no
// physical line longer than 75 octets, each continuation starting with one
// space (which counts in its 75), and never inside a UTF-8 sequence.
func Fold(s string) string {
	var b strings.Builder
	limit := maxOctets
	for len(s) > limit {
		cut := limit
		// Back up to the start of a rune: a continuation byte is 10xxxxxx.
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = maxOctets - 1
	}
	b.WriteString(s)
	b.WriteString("\r\n")
	return b.String()
}
