package imapd

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	gomessage "github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode ISO-8859-1 and others in SEARCH and ENVELOPE
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"mssanted/mailbox"
)

func envelopeOf(raw []byte) *imap.Envelope {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return &imap.Envelope{}
	}
	return imapserver.ExtractEnvelope(h)
}

func (s *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	ctx, cancel := ctxOp()
	defer cancel()
	all, err := s.access.Messages(ctx, s.sel.folder, 1, 0)
	if err != nil {
		return nil, s.toIMAP(err)
	}
	s.sel.mu.Lock()
	seqs := make(map[uint32]uint32, len(s.sel.uids))
	for i, u := range s.sel.uids {
		seqs[u] = uint32(i + 1)
	}
	last := uint32(len(s.sel.uids))
	lastUID := uint32(0)
	if last > 0 {
		lastUID = s.sel.uids[last-1]
	}
	s.sel.mu.Unlock()

	data := &imap.SearchData{}
	var seqSet imap.SeqSet
	var uidSet imap.UIDSet
	var matched []uint32
	for i := range all {
		m := &all[i]
		seq := seqs[m.UID]
		if seq == 0 {
			continue // not announced to this session yet
		}
		c := &candidate{s: s, m: m, seq: seq, last: last, lastUID: lastUID}
		if !c.match(criteria) {
			continue
		}
		if c.err != nil {
			return nil, s.toIMAP(c.err)
		}
		matched = append(matched, m.UID)
		num := seq
		if kind == imapserver.NumKindUID {
			num = m.UID
			uidSet.AddNum(imap.UID(m.UID))
		} else {
			seqSet.AddNum(seq)
		}
		if data.Min == 0 || num < data.Min {
			data.Min = num
		}
		if num > data.Max {
			data.Max = num
		}
		data.Count++
	}
	if kind == imapserver.NumKindUID {
		data.All = uidSet
	} else {
		data.All = seqSet
	}
	if options != nil && options.ReturnSave {
		s.saved = matched
	}
	return data, nil
}

// candidate is one message under evaluation; its body is read at most once,
// and only when a criterion needs it.
type candidate struct {
	s       *session
	m       *mailbox.Message
	seq     uint32
	last    uint32
	lastUID uint32
	raw     []byte
	read    bool
	err     error
}

func (c *candidate) body() []byte {
	if !c.read {
		c.read = true
		c.raw, c.err = c.s.readBody(c.m)
	}
	return c.raw
}

func (c *candidate) header() textproto.Header {
	h, _ := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(c.body())))
	return h
}

func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (c *candidate) match(cr *imap.SearchCriteria) bool {
	for _, set := range cr.SeqNum {
		if !inSpans(seqSpans(set, c.last), c.seq) {
			return false
		}
	}
	for _, set := range cr.UID {
		if imap.IsSearchRes(set) {
			found := false
			for _, u := range c.s.saved {
				if u == c.m.UID {
					found = true
				}
			}
			if !found {
				return false
			}
			continue
		}
		if !inSpans(uidSpans(set, c.lastUID), c.m.UID) {
			return false
		}
	}
	internal := dateOnly(c.m.InternalDate)
	if !cr.Since.IsZero() && internal.Before(dateOnly(cr.Since)) {
		return false
	}
	if !cr.Before.IsZero() && !internal.Before(dateOnly(cr.Before)) {
		return false
	}
	if !cr.SentSince.IsZero() || !cr.SentBefore.IsZero() {
		// Without a usable Date header the internal date stands in, as
		// other servers do (RFC 9051 leaves it open).
		mh := mail.Header{Header: gomessage.Header{Header: c.header()}}
		sent, err := mh.Date()
		if err != nil || sent.IsZero() {
			sent = c.m.InternalDate
		}
		sent = dateOnly(sent)
		if !cr.SentSince.IsZero() && sent.Before(dateOnly(cr.SentSince)) {
			return false
		}
		if !cr.SentBefore.IsZero() && !sent.Before(dateOnly(cr.SentBefore)) {
			return false
		}
	}
	for _, f := range cr.Flag {
		if !hasFlagFold(c.m.Flags, string(f)) {
			return false
		}
	}
	for _, f := range cr.NotFlag {
		if hasFlagFold(c.m.Flags, string(f)) {
			return false
		}
	}
	if cr.Larger > 0 && c.m.Size <= cr.Larger {
		return false
	}
	if cr.Smaller > 0 && c.m.Size >= cr.Smaller {
		return false
	}
	for _, hf := range cr.Header {
		// Subject and From were decoded and kept at delivery: no need to
		// read the message (SEARCH on a large folder).
		if kept, ok := map[string]string{"subject": c.m.Subject, "from": c.m.From}[strings.ToLower(hf.Key)]; ok && hf.Value != "" {
			if !containsFold(kept, hf.Value) {
				return false
			}
			continue
		}
		h := c.header()
		vals := h.Values(hf.Key)
		if len(vals) == 0 {
			return false
		}
		if hf.Value == "" {
			continue
		}
		found := false
		for _, v := range vals {
			if containsFold(decodeWords(v), hf.Value) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	for _, text := range cr.Body {
		if !c.bodyContains(text, false) {
			return false
		}
	}
	for _, text := range cr.Text {
		if !c.bodyContains(text, true) {
			return false
		}
	}
	for i := range cr.Not {
		if c.match(&cr.Not[i]) {
			return false
		}
	}
	for _, or := range cr.Or {
		if !c.match(&or[0]) && !c.match(&or[1]) {
			return false
		}
	}
	return true
}

func hasFlagFold(flags []string, f string) bool {
	for _, x := range flags {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func decodeWords(v string) string {
	h := gomessage.Header{}
	h.Set("X", v)
	if d, err := h.Text("X"); err == nil {
		return d
	}
	return v
}

// bodyContains searches the decoded text parts (and the header when
// withHeader is set), so that a quoted-printable or base64 body and a
// Latin-1 charset are searched as a reader sees them.
func (c *candidate) bodyContains(text string, withHeader bool) bool {
	raw := c.body()
	e, err := gomessage.Read(bytes.NewReader(raw))
	if err != nil && e == nil {
		return containsFold(string(raw), text)
	}
	if withHeader {
		fields := e.Header.Fields()
		for fields.Next() {
			v, _ := fields.Text()
			if containsFold(fields.Key()+": "+v, text) {
				return true
			}
		}
	}
	found := false
	e.Walk(func(path []int, part *gomessage.Entity, err error) error {
		if err != nil || found {
			return nil
		}
		t, _, _ := part.Header.ContentType()
		if strings.HasPrefix(t, "multipart/") {
			return nil
		}
		if t != "" && !strings.HasPrefix(t, "text/") && !strings.HasPrefix(t, "message/") {
			return nil
		}
		b, _ := io.ReadAll(io.LimitReader(part.Body, 16<<20))
		if containsFold(string(b), text) {
			found = true
		}
		return nil
	})
	return found
}
