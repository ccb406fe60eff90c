package certs

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// The small MIME reader S/MIME needs. It works on offsets into the
// message as received, never on a re-serialised copy: a detached
// signature covers the exact bytes of the first part of multipart/signed
// (RFC 1847 section 2.1, RFC 8551 section 3.5), and a parser that
// normalises headers or line endings would break it.

// maxHeaderFields bounds the fields read from one header: a hostile
// message made of millions of tiny fields must not cost gigabytes.
const maxHeaderFields = 10000

// field is one header field as received.
type field struct {
	name       string
	start, end int // its lines in entity.raw, line endings included
	valueStart int // just after the colon
}

// entity is a MIME entity or RFC 5322 message: header fields, then the
// body from bodyStart.
type entity struct {
	raw       []byte
	fields    []field
	bodyStart int

	mt     string // cached by mediaType
	params map[string]string
}

func parseEntity(raw []byte) *entity {
	e := &entity{raw: raw, bodyStart: len(raw)}
	for i := 0; i < len(raw); {
		next := len(raw)
		if j := bytes.IndexByte(raw[i:], '\n'); j >= 0 {
			next = i + j + 1
		}
		line := trimEOL(raw[i:next])
		switch {
		case len(line) == 0: // the blank line ending the header
			e.bodyStart = next
			return e
		case line[0] == ' ' || line[0] == '\t':
			if len(e.fields) == 0 {
				e.bodyStart = i
				return e
			}
			e.fields[len(e.fields)-1].end = next // folded (RFC 5322 2.2.3)
		default:
			colon := bytes.IndexByte(line, ':')
			if colon <= 0 || !validFieldName(line[:colon]) || len(e.fields) >= maxHeaderFields {
				// Not a header line: a message without header, or one
				// whose blank line is missing. The body starts here.
				e.bodyStart = i
				return e
			}
			e.fields = append(e.fields, field{name: string(line[:colon]), start: i, end: next, valueStart: i + colon + 1})
		}
		i = next
	}
	return e
}

// value is the unfolded, trimmed value of f (RFC 5322 section 2.2.3:
// unfolding removes the line breaks, keeping the blanks after them). Only
// the first maxFieldValue bytes count: no legitimate field is longer, and
// a hostile one must not be copied and parsed again and again.
func (e *entity) value(f field) string {
	v := e.raw[f.valueStart:f.end]
	if len(v) > maxFieldValue {
		v = v[:maxFieldValue]
	}
	if bytes.IndexByte(trimEOL(v), '\n') < 0 {
		return strings.TrimSpace(string(v))
	}
	var b strings.Builder
	b.Grow(len(v))
	for _, c := range v {
		if c != '\r' && c != '\n' {
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

// validFieldName: printable US-ASCII except colon (RFC 5322 section 2.2).
func validFieldName(b []byte) bool {
	for _, c := range b {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}

func (e *entity) get(name string) string {
	for _, f := range e.fields {
		if strings.EqualFold(f.name, name) {
			return e.value(f)
		}
	}
	return ""
}

func (e *entity) has(name string) bool {
	for _, f := range e.fields {
		if strings.EqualFold(f.name, name) {
			return true
		}
	}
	return false
}

func (e *entity) body() []byte { return e.raw[e.bodyStart:] }

// mediaType returns the lowercased media type and its parameters
// (text/plain when absent, RFC 2045 section 5.2). Parameters that
// mime.ParseMediaType rejects (unquoted '=' in boundaries is common) are
// read again leniently.
func (e *entity) mediaType() (string, map[string]string) {
	if e.mt != "" {
		return e.mt, e.params
	}
	v := e.get("Content-Type")
	if len(v) > maxContentType {
		v = v[:maxContentType] // hostile; the type and boundary come first
	}
	if v == "" {
		e.mt, e.params = "text/plain", map[string]string{}
		return e.mt, e.params
	}
	mt, params, err := mime.ParseMediaType(v)
	if mt == "" {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
	}
	if err != nil || params == nil {
		params = looseParams(v)
	}
	if mt == "" {
		mt = "application/octet-stream" // unreadable: opaque
	}
	e.mt, e.params = mt, params
	return mt, params
}

// maxContentType bounds the Content-Type value parsed; maxFieldValue
// any field value.
const (
	maxContentType = 16 << 10
	maxFieldValue  = 64 << 10
)

// looseParams reads name=value pairs after the first ';', values quoted
// or not, names lowercased.
func looseParams(v string) map[string]string {
	out := map[string]string{}
	_, rest, ok := strings.Cut(v, ";")
	for ok {
		rest = strings.TrimLeft(rest, " \t;")
		name, after, found := strings.Cut(rest, "=")
		if !found {
			break
		}
		name = strings.ToLower(strings.TrimSpace(name))
		after = strings.TrimLeft(after, " \t")
		var val string
		if strings.HasPrefix(after, `"`) {
			end := strings.IndexByte(after[1:], '"')
			if end < 0 {
				val, rest, ok = after[1:], "", false
			} else {
				val, rest = after[1:1+end], after[2+end:]
				_, rest, ok = strings.Cut(rest, ";")
			}
		} else {
			val, rest, ok = strings.Cut(after, ";")
			val = strings.TrimSpace(val)
		}
		if _, dup := out[name]; !dup && name != "" {
			out[name] = val
		}
	}
	return out
}

// decodedBody undoes the Content-Transfer-Encoding.
func (e *entity) decodedBody() ([]byte, error) {
	switch strings.ToLower(e.get("Content-Transfer-Encoding")) {
	case "base64":
		return decodeBase64(e.body())
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(bytes.NewReader(e.body())))
	}
	return e.body(), nil
}

// decodeBase64 ignores line breaks and blanks, and missing padding. The
// decoder skips CR and LF itself, so the common case is one pass.
func decodeBase64(b []byte) ([]byte, error) {
	strip := func(b []byte, all bool) []byte {
		clean := make([]byte, 0, len(b))
		for _, c := range b {
			if c != ' ' && c != '\t' && (!all || (c != '\r' && c != '\n')) {
				clean = append(clean, c)
			}
		}
		return clean
	}
	if bytes.IndexByte(b, ' ') >= 0 || bytes.IndexByte(b, '\t') >= 0 {
		b = strip(b, false)
	}
	// Sized for the unpadded decoding too (RawStdEncoding needs more
	// room than StdEncoding.DecodedLen gives for a short tail).
	out := make([]byte, len(b)*3/4+3)
	n, err := base64.StdEncoding.Decode(out, b)
	if err != nil {
		n, err = base64.RawStdEncoding.Decode(out, bytes.TrimRight(strip(b, true), "="))
	}
	return out[:n], err
}

// encodeBase64 wraps at 76 columns with CRLF (RFC 2045 section 6.8).
func encodeBase64(b []byte) []byte {
	return appendBase64(make([]byte, 0, base64Len(len(b))), b)
}

// base64Len is the size of appendBase64's output for n bytes.
func base64Len(n int) int {
	enc := base64.StdEncoding.EncodedLen(n)
	return enc + (enc+75)/76*2
}

// appendBase64 encodes 57 input bytes (76 characters) per line, straight
// into dst: no intermediate string, one pass.
func appendBase64(dst, b []byte) []byte {
	for len(b) > 0 {
		n := min(len(b), 57)
		dst = base64.StdEncoding.AppendEncode(dst, b[:n])
		dst = append(dst, '\r', '\n')
		b = b[n:]
	}
	return dst
}

// span is a part of a multipart body: raw[start:end].
type span struct{ start, end int }

// splitMultipart finds the first max parts of a multipart body (RFC 2046
// section 5.1.1). The line break before a delimiter belongs to the
// delimiter, so a part is exactly the bytes a signature covers. closed
// reports whether the close delimiter was seen.
func splitMultipart(body []byte, boundary string, max int) (parts []span, closed bool) {
	if boundary == "" || len(boundary) > 200 {
		return nil, false
	}
	delim := []byte("--" + boundary)
	open := false
	partStart := 0
	for i := 0; i < len(body); {
		next := len(body)
		if j := bytes.IndexByte(body[i:], '\n'); j >= 0 {
			next = i + j + 1
		}
		line := trimEOL(body[i:next])
		if bytes.HasPrefix(line, delim) {
			rest := line[len(delim):]
			isClose := bytes.HasPrefix(rest, []byte("--"))
			if isClose {
				rest = rest[2:]
			}
			if len(bytes.TrimRight(rest, " \t")) == 0 {
				if open {
					end := i
					switch {
					case end >= 2 && body[end-2] == '\r' && body[end-1] == '\n':
						end -= 2
					case end >= 1 && body[end-1] == '\n':
						end--
					}
					if end < partStart {
						end = partStart
					}
					parts = append(parts, span{partStart, end})
					if len(parts) >= max {
						return parts, false
					}
				}
				if isClose {
					return parts, true
				}
				open, partStart = true, next
			}
		}
		i = next
	}
	if open {
		parts = append(parts, span{partStart, len(body)})
	}
	return parts, false
}

// canonicalCRLF turns bare LF into CRLF: the canonical form every MIME
// entity takes before it is signed or encrypted (RFC 8551 section 3.1.1).
func canonicalCRLF(b []byte) []byte {
	if !hasBareLF(b) {
		return b
	}
	out := make([]byte, 0, len(b)+bytes.Count(b, []byte("\n")))
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

func hasBareLF(b []byte) bool {
	for i := 0; ; i++ {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return false
		}
		if i += j; i == 0 || b[i-1] != '\r' {
			return true
		}
	}
}

// fromAddresses returns the lowercased addresses of the From field.
func fromAddresses(e *entity) []string {
	v := e.get("From")
	if v == "" {
		return nil
	}
	var out []string
	if list, err := mail.ParseAddressList(v); err == nil {
		for _, a := range list {
			out = append(out, strings.ToLower(a.Address))
		}
		return out
	}
	// Unparsable (an unknown charset in the display name, say): take
	// what sits in angle brackets, or the bare field.
	rest := v
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			break
		}
		out = append(out, strings.ToLower(strings.TrimSpace(rest[i+1:i+j])))
		rest = rest[i+j+1:]
	}
	if len(out) == 0 && strings.Contains(v, "@") && !strings.ContainsAny(v, " \t,") {
		out = append(out, strings.ToLower(v))
	}
	return out
}

// isContentField tells the fields that describe the MIME entity (they go
// inside the signature or the encryption) from those of the message (they
// stay outside, where the MTAs read them).
func isContentField(name string) bool {
	return len(name) > 8 && strings.EqualFold(name[:8], "content-")
}

// sevenBit rewrites the leaf parts of ent that carry 8-bit or binary data
// or lines over 998 octets as quoted-printable (text) or base64 (the
// rest), so that no relay downgrading 8BITMIME ever changes signed bytes
// (RFC 8551 section 3.1.2). Multipart bodies are rewritten part by part,
// keeping their delimiters, preamble and epilogue; message/* parts are
// left alone (RFC 2046 forbids encoding them).
func sevenBit(ent []byte, depth int) []byte {
	e := parseEntity(ent)
	mt, params := e.mediaType()
	cte := strings.ToLower(e.get("Content-Transfer-Encoding"))
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if depth > 16 {
			return ent
		}
		body := e.body()
		parts, _ := splitMultipart(body, params["boundary"], maxHeaderFields)
		changed := false
		var out []byte
		prev := 0
		for _, p := range parts {
			np := sevenBit(body[p.start:p.end], depth+1)
			if !bytes.Equal(np, body[p.start:p.end]) {
				changed = true
			}
			out = append(out, body[prev:p.start]...)
			out = append(out, np...)
			prev = p.end
		}
		if !changed {
			return ent
		}
		out = append(out, body[prev:]...)
		return append(append([]byte{}, ent[:e.bodyStart]...), out...)
	case strings.HasPrefix(mt, "message/"):
		return ent
	case cte == "base64" || cte == "quoted-printable":
		return ent
	}
	body := e.body()
	binary := cte == "binary" || bytes.IndexByte(body, 0) >= 0
	if !binary && !needsEncoding(body) {
		return ent
	}
	var out bytes.Buffer
	for _, f := range e.fields {
		if !strings.EqualFold(f.name, "Content-Transfer-Encoding") {
			out.Write(ent[f.start:f.end])
			if !bytes.HasSuffix(ent[f.start:f.end], []byte("\n")) {
				out.WriteString("\r\n")
			}
		}
	}
	if strings.HasPrefix(mt, "text/") && !binary {
		out.WriteString("Content-Transfer-Encoding: quoted-printable\r\n\r\n")
		w := quotedprintable.NewWriter(&out)
		w.Write(body)
		w.Close()
	} else {
		out.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
		out.Write(encodeBase64(body))
	}
	return out.Bytes()
}

// needsEncoding: 8-bit octets or a line longer than 998 octets
// (RFC 5322 section 2.1.1).
func needsEncoding(b []byte) bool {
	run := 0
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
		if c == '\n' {
			run = 0
			continue
		}
		if run++; run > 998 {
			return true
		}
	}
	return false
}
