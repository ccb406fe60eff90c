package mailbox

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/textproto"
)

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// decodeHeader decodes RFC 2047 encoded words for display and search; a
// value that does not decode is kept as it came.
func decodeHeader(v string) string {
	v = strings.TrimSpace(v)
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// newMessageID makes a globally unique Message-ID (RFC 5322 3.6.4).
func newMessageID(host string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return fmt.Sprintf("<%s.%s@%s>", time.Now().UTC().Format("20060102150405"), hex.EncodeToString(b), host)
}

// mimeWord encodes a header value as RFC 2047 words when it is not ASCII.
func mimeWord(s string) string { return mime.QEncoding.Encode("utf-8", s) }

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// parseHeaderLoose reads what it can of a header section; a message a
// client appends is stored whatever its header looks like.
func parseHeaderLoose(b []byte) textproto.Header {
	h, err := textproto.ReadHeader(bufioReader(b))
	if err != nil {
		return textproto.Header{}
	}
	return h
}
