package imapd

import (
	"bytes"
	"io"
	"sort"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"mssanted/mailbox"
)

func (s *session) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	s.unselect()
	ctx, cancel := ctxOp()
	defer cancel()
	// The folder first, then its messages: a change between the two shows
	// up again in the changelog and is ignored as already known.
	f, err := s.access.Folder(ctx, name)
	if err != nil {
		return nil, s.toIMAP(err)
	}
	uids, firstUnseen, err := s.access.UIDs(ctx, f)
	if err != nil {
		return nil, s.toIMAP(err)
	}
	sel := &selected{folder: f, readOnly: options != nil && options.ReadOnly, modseq: f.HighestModSeq, uids: uids}
	sel.watch, sel.unwatch = s.cfg.Store.Watch(f.ID)
	s.sel = sel
	return &imap.SelectData{
		Flags:             []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft},
		PermanentFlags:    permanentFlags(sel.readOnly),
		NumMessages:       uint32(len(sel.uids)),
		FirstUnseenSeqNum: firstUnseen,
		UIDNext:           imap.UID(f.UIDNext),
		UIDValidity:       f.UIDValidity,
	}, nil
}

func permanentFlags(readOnly bool) []imap.Flag {
	if readOnly {
		return nil
	}
	return []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft, imap.FlagWildcard}
}

func (s *session) unselect() {
	if s.sel != nil {
		s.sel.unwatch()
		s.sel = nil
	}
	s.saved = nil
}

func (s *session) Unselect() error {
	s.unselect()
	return nil
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

func imapFlags(flags []string) []imap.Flag {
	out := make([]imap.Flag, len(flags))
	for i, f := range flags {
		out[i] = imap.Flag(f)
	}
	return out
}

// --- updates ---

// Poll reads the folder's changelog since this connection last did and
// tells the client: EXPUNGE for the messages gone (when allowed), EXISTS
// for the new ones, FETCH FLAGS for flags other sessions changed.
func (s *session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if s.sel == nil {
		return nil
	}
	sel := s.sel
	sel.mu.Lock()
	defer sel.mu.Unlock()
	ctx, cancel := ctxOp()
	defer cancel()
	changes, err := s.access.Changes(ctx, sel.folder, sel.modseq)
	if err != nil {
		return s.toIMAP(err)
	}
	if len(changes) == 0 && (len(sel.pending) == 0 || !allowExpunge) {
		return nil
	}
	known := make(map[uint32]bool, len(sel.uids))
	for _, u := range sel.uids {
		known[u] = true
	}
	maxUID := uint32(0)
	if n := len(sel.uids); n > 0 {
		maxUID = sel.uids[n-1]
	}
	expunged := map[uint32]bool{}
	flagged := map[uint32]bool{}
	var added []uint32
	for _, c := range changes {
		switch c.Kind {
		case "append":
			if c.UID > maxUID {
				added = append(added, c.UID)
				maxUID = c.UID
			}
		case "expunge":
			expunged[c.UID] = true
		case "flags":
			if sel.mine[c.ModSeq] {
				delete(sel.mine, c.ModSeq)
			} else {
				flagged[c.UID] = true
			}
		}
		sel.modseq = c.ModSeq
	}
	// Messages both added and expunged since the last poll were never
	// announced: they are simply skipped.
	var gone []uint32
	for u := range expunged {
		if known[u] {
			gone = append(gone, u)
		}
	}
	gone = append(gone, sel.pending...)
	sel.pending = nil
	if allowExpunge {
		sort.Slice(gone, func(i, j int) bool { return gone[i] > gone[j] })
		for _, u := range gone {
			if seq := sel.seqOf(u); seq > 0 {
				if err := w.WriteExpunge(seq); err != nil {
					return err
				}
				sel.uids = append(sel.uids[:seq-1], sel.uids[seq:]...)
			}
		}
	} else {
		sel.pending = gone
	}
	var fresh []uint32
	for _, u := range added {
		if !expunged[u] {
			fresh = append(fresh, u)
		}
	}
	if len(fresh) > 0 || len(gone) > 0 && allowExpunge {
		sel.uids = append(sel.uids, fresh...)
		if err := w.WriteNumMessages(uint32(len(sel.uids))); err != nil {
			return err
		}
	}
	var flagUIDs []uint32
	for u := range flagged {
		if known[u] && !expunged[u] {
			flagUIDs = append(flagUIDs, u)
		}
	}
	if len(flagUIDs) > 0 {
		msgs, err := s.access.MessagesByUID(ctx, sel.folder, flagUIDs)
		if err != nil {
			return s.toIMAP(err)
		}
		for _, m := range msgs {
			if seq := sel.seqOf(m.UID); seq > 0 {
				if err := w.WriteMessageFlags(seq, imap.UID(m.UID), imapFlags(m.Flags)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// own records flag changes made by this session.
func (sel *selected) own(changed []mailbox.Message) {
	sel.mu.Lock()
	defer sel.mu.Unlock()
	if sel.mine == nil {
		sel.mine = map[uint64]bool{}
	}
	for _, m := range changed {
		sel.mine[m.ModSeq] = true
	}
}

// seqOf returns the sequence number of a UID, 0 if unknown.
func (sel *selected) seqOf(uid uint32) uint32 {
	i := sort.Search(len(sel.uids), func(i int) bool { return sel.uids[i] >= uid })
	if i < len(sel.uids) && sel.uids[i] == uid {
		return uint32(i + 1)
	}
	return 0
}

// idlePoll is how often IDLE re-reads the changelog when no notification
// came: the safety net for a change made by a node whose notification was
// lost.
const idlePoll = 30 * time.Second

func (s *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if s.sel == nil {
		<-stop
		return nil
	}
	tick := time.NewTicker(idlePoll)
	defer tick.Stop()
	for {
		if err := s.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-s.sel.watch:
		case <-tick.C:
		}
	}
}

// --- message sets ---

type target struct {
	seq uint32
	uid uint32
}

// resolve turns a sequence or UID set (or $, the saved search) into the
// messages it names, in ascending order.
func (s *session) resolve(numSet imap.NumSet) []target {
	sel := s.sel
	sel.mu.Lock()
	defer sel.mu.Unlock()
	var out []target
	if imap.IsSearchRes(numSet) {
		for _, u := range s.saved {
			if seq := sel.seqOf(u); seq > 0 {
				out = append(out, target{seq, u})
			}
		}
		return out
	}
	n := uint32(len(sel.uids))
	if n == 0 {
		return nil
	}
	last := sel.uids[n-1]
	// Walk the ranges of the set, not the whole folder: a FETCH of one
	// message in a folder of 100,000 costs a binary search, not a scan.
	seen := map[uint32]bool{}
	add := func(seq uint32) {
		if !seen[seq] {
			seen[seq] = true
			out = append(out, target{seq, sel.uids[seq-1]})
		}
	}
	switch set := numSet.(type) {
	case imap.SeqSet:
		for _, sp := range seqSpans(set, n) {
			for seq := sp.lo; seq <= min(sp.hi, n); seq++ {
				add(seq)
			}
		}
	case imap.UIDSet:
		for _, sp := range uidSpans(set, last) {
			i := sort.Search(len(sel.uids), func(i int) bool { return sel.uids[i] >= sp.lo })
			for ; i < len(sel.uids) && sel.uids[i] <= sp.hi; i++ {
				add(uint32(i + 1))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// span is a range of a sequence or UID set with "*" (go-imap's 0) replaced
// by the last number in use and its ends in order.
type span struct{ lo, hi uint32 }

func mkSpan(lo, hi, last uint32) span {
	if lo == 0 {
		lo = last
	}
	if hi == 0 {
		hi = last
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return span{lo, hi}
}

func seqSpans(set imap.SeqSet, last uint32) []span {
	out := make([]span, len(set))
	for i, r := range set {
		out[i] = mkSpan(r.Start, r.Stop, last)
	}
	return out
}

func uidSpans(set imap.UIDSet, last uint32) []span {
	out := make([]span, len(set))
	for i, r := range set {
		out[i] = mkSpan(uint32(r.Start), uint32(r.Stop), last)
	}
	return out
}

func inSpans(ss []span, v uint32) bool {
	for _, s := range ss {
		if v >= s.lo && v <= s.hi {
			return true
		}
	}
	return false
}

func uidsOf(ts []target) []uint32 {
	out := make([]uint32, len(ts))
	for i, t := range ts {
		out[i] = t.uid
	}
	return out
}

// --- FETCH ---

func (s *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	ts := s.resolve(numSet)
	if len(ts) == 0 {
		return nil
	}
	ctx, cancel := ctxOp()
	defer cancel()
	msgs, err := s.access.MessagesByUID(ctx, s.sel.folder, uidsOf(ts))
	if err != nil {
		return s.toIMAP(err)
	}
	byUID := make(map[uint32]*mailbox.Message, len(msgs))
	for i := range msgs {
		byUID[msgs[i].UID] = &msgs[i]
	}
	// Fetching a body section without PEEK sets \Seen (RFC 9051 6.4.5),
	// except in a folder opened with EXAMINE.
	markSeen := false
	if !s.sel.readOnly {
		for _, bs := range options.BodySection {
			if !bs.Peek {
				markSeen = true
			}
		}
		for _, bs := range options.BinarySection {
			if !bs.Peek {
				markSeen = true
			}
		}
	}
	if markSeen {
		var unseen []uint32
		for _, m := range msgs {
			if !hasFlag(m.Flags, mailbox.FlagSeen) {
				unseen = append(unseen, m.UID)
			}
		}
		if len(unseen) > 0 {
			changed, err := s.access.StoreFlags(ctx, s.sel.folder, unseen, mailbox.FlagsAdd, []string{mailbox.FlagSeen})
			if err != nil {
				return s.toIMAP(err)
			}
			s.sel.own(changed)
			for _, c := range changed {
				if m := byUID[c.UID]; m != nil {
					m.Flags = c.Flags
				}
			}
		}
	}
	needBody := options.Envelope || options.BodyStructure != nil || len(options.BodySection) > 0 ||
		len(options.BinarySection) > 0 || len(options.BinarySectionSize) > 0
	for _, t := range ts {
		m := byUID[t.uid]
		if m == nil {
			continue // expunged by another session since: its EXPUNGE is pending
		}
		var raw []byte
		if needBody {
			if raw, err = s.readBody(m); err != nil {
				return s.toIMAP(err)
			}
		}
		if err := writeFetch(w.CreateMessage(t.seq), m, raw, options, markSeen); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) readBody(m *mailbox.Message) ([]byte, error) {
	ctx, cancel := ctxOp()
	defer cancel()
	rc, err := s.access.OpenBody(ctx, m)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func writeFetch(rw *imapserver.FetchResponseWriter, m *mailbox.Message, raw []byte, o *imap.FetchOptions, flagsChanged bool) error {
	if o.UID {
		rw.WriteUID(imap.UID(m.UID))
	}
	if o.Flags || flagsChanged {
		rw.WriteFlags(imapFlags(m.Flags))
	}
	if o.InternalDate {
		rw.WriteInternalDate(m.InternalDate)
	}
	if o.RFC822Size {
		rw.WriteRFC822Size(m.Size)
	}
	if o.Envelope {
		rw.WriteEnvelope(envelopeOf(raw))
	}
	if o.BodyStructure != nil {
		rw.WriteBodyStructure(imapserver.ExtractBodyStructure(bytes.NewReader(raw)))
	}
	for _, bs := range o.BodySection {
		buf := imapserver.ExtractBodySection(bytes.NewReader(raw), bs)
		if err := writeAll(rw.WriteBodySection(bs, int64(len(buf))), buf); err != nil {
			return err
		}
	}
	for _, bs := range o.BinarySection {
		buf := imapserver.ExtractBinarySection(bytes.NewReader(raw), bs)
		if err := writeAll(rw.WriteBinarySection(bs, int64(len(buf))), buf); err != nil {
			return err
		}
	}
	for _, bss := range o.BinarySectionSize {
		rw.WriteBinarySectionSize(bss, imapserver.ExtractBinarySectionSize(bytes.NewReader(raw), bss))
	}
	return rw.Close()
}

func writeAll(wc io.WriteCloser, buf []byte) error {
	if _, err := wc.Write(buf); err != nil {
		wc.Close()
		return err
	}
	return wc.Close()
}

// --- STORE, EXPUNGE, COPY, MOVE ---

func (s *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	if s.sel.readOnly {
		return noCode(imap.ResponseCodeCannot, "Dossier ouvert en lecture seule (EXAMINE) / Mailbox is read-only")
	}
	ts := s.resolve(numSet)
	if len(ts) == 0 {
		return nil
	}
	ctx, cancel := ctxOp()
	defer cancel()
	op := map[imap.StoreFlagsOp]mailbox.FlagOp{imap.StoreFlagsSet: mailbox.FlagsSet, imap.StoreFlagsAdd: mailbox.FlagsAdd, imap.StoreFlagsDel: mailbox.FlagsRemove}[flags.Op]
	var fl []string
	for _, f := range flags.Flags {
		fl = append(fl, string(f))
	}
	changed, err := s.access.StoreFlags(ctx, s.sel.folder, uidsOf(ts), op, fl)
	if err != nil {
		return s.toIMAP(err)
	}
	s.sel.own(changed)
	if flags.Silent {
		return nil
	}
	msgs, err := s.access.MessagesByUID(ctx, s.sel.folder, uidsOf(ts))
	if err != nil {
		return s.toIMAP(err)
	}
	seqs := map[uint32]uint32{}
	for _, t := range ts {
		seqs[t.uid] = t.seq
	}
	_, byUID := numSet.(imap.UIDSet)
	for _, m := range msgs {
		rw := w.CreateMessage(seqs[m.UID])
		if byUID { // RFC 9051 6.4.9: a UID command's FETCH carries the UID
			rw.WriteUID(imap.UID(m.UID))
		}
		rw.WriteFlags(imapFlags(m.Flags))
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	if s.sel.readOnly {
		if *w == (imapserver.ExpungeWriter{}) {
			// CLOSE (go-imap calls Expunge with a silent writer): in a
			// read-only folder it expunges nothing and succeeds (RFC 9051 6.4.1).
			return nil
		}
		return noCode(imap.ResponseCodeCannot, "Dossier ouvert en lecture seule (EXAMINE) / Mailbox is read-only")
	}
	ctx, cancel := ctxOp()
	defer cancel()
	var only []uint32
	if uids != nil {
		only = uidsOf(s.resolve(*uids))
		if len(only) == 0 {
			return nil
		}
	}
	gone, err := s.access.Expunge(ctx, s.sel.folder, only)
	if err != nil {
		return s.toIMAP(err)
	}
	return s.sel.forget(gone, w.WriteExpunge)
}

// forget removes UIDs this session expunged itself and reports their
// sequence numbers, highest first so that each stays valid.
func (sel *selected) forget(uids []uint32, write func(uint32) error) error {
	sel.mu.Lock()
	defer sel.mu.Unlock()
	sort.Slice(uids, func(i, j int) bool { return uids[i] > uids[j] })
	for _, u := range uids {
		if seq := sel.seqOf(u); seq > 0 {
			if err := write(seq); err != nil {
				return err
			}
			sel.uids = append(sel.uids[:seq-1], sel.uids[seq:]...)
		}
	}
	return nil
}

func (s *session) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	data, _, err := s.copy(numSet, dest, false)
	return data, err
}

func (s *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	if s.sel.readOnly {
		return noCode(imap.ResponseCodeCannot, "Dossier ouvert en lecture seule (EXAMINE) / Mailbox is read-only")
	}
	data, moved, err := s.copy(numSet, dest, true)
	if err != nil {
		return err
	}
	if err := w.WriteCopyData(data); err != nil {
		return err
	}
	return s.sel.forget(moved, w.WriteExpunge)
}

func (s *session) copy(numSet imap.NumSet, dest string, move bool) (*imap.CopyData, []uint32, error) {
	ts := s.resolve(numSet)
	ctx, cancel := ctxOp()
	defer cancel()
	if _, err := s.access.Folder(ctx, dest); err != nil {
		e := s.toIMAP(err)
		if ie, ok := e.(*imap.Error); ok && ie.Code == imap.ResponseCodeNonExistent {
			ie.Code = imap.ResponseCodeTryCreate
		}
		return nil, nil, e
	}
	if len(ts) == 0 {
		return &imap.CopyData{}, nil, nil
	}
	uv, src, dst, err := s.access.Copy(ctx, s.sel.folder, uidsOf(ts), dest, move)
	if err != nil {
		return nil, nil, s.toIMAP(err)
	}
	data := &imap.CopyData{UIDValidity: uv}
	for i := range src {
		data.SourceUIDs.AddNum(imap.UID(src[i]))
		data.DestUIDs.AddNum(imap.UID(dst[i]))
	}
	return data, src, nil
}
