// Package ascii folds protocol reply text to printable US-ASCII: SMTP
// replies (RFC 5321 4.2, unless SMTPUTF8) and IMAP responses to IMAP4rev1
// clients (RFC 3501 resp-text) must not carry 8-bit text, while the
// gateway's sentences are written in French first.
package ascii

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold drops the accents of Latin letters, spells the few ligatures and
// quotation marks French uses in ASCII, and turns anything else that is not
// printable ASCII into '?'.
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case unicode.Is(unicode.Mn, r):
		case r == '«' || r == '»' || r == '“' || r == '”':
			b.WriteByte('"')
		case r == '’' || r == '‘':
			b.WriteByte('\'')
		case r == 'œ':
			b.WriteString("oe")
		case r == 'Œ':
			b.WriteString("OE")
		case r == 'æ':
			b.WriteString("ae")
		case r == '\u00a0' || r == '\u202f':
			b.WriteByte(' ')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
