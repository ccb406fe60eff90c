package mailbox

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"mssanted/db"
)

// System flags (RFC 9051 2.3.2), spelled canonically.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
)

// Message is one message of a folder as IMAP sees it.
type Message struct {
	ID           int64
	UID          uint32
	ModSeq       uint64
	Flags        []string
	Size         int64
	InternalDate time.Time
	BlobKey      string
	// Subject and From are the decoded header values kept at delivery:
	// SEARCH SUBJECT / FROM read them instead of every message body.
	Subject, From string

	// owner is the account whose folder the row was read from, set by the
	// Access methods that checked it: OpenBody trusts it instead of asking
	// the database again for every message of a FETCH or SEARCH.
	owner int64
}

// CanonicalFlags normalises flag spellings (system flags are
// case-insensitive), drops duplicates and \Recent (not stored, RFC 9051
// removed it), and sorts.
func CanonicalFlags(flags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range flags {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.HasPrefix(f, `\`) {
			switch strings.ToLower(f) {
			case `\seen`:
				f = FlagSeen
			case `\answered`:
				f = FlagAnswered
			case `\flagged`:
				f = FlagFlagged
			case `\deleted`:
				f = FlagDeleted
			case `\draft`:
				f = FlagDraft
			default:
				continue // \Recent and unknown system flags are not stored
			}
		}
		if !seen[strings.ToLower(f)] {
			seen[strings.ToLower(f)] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}

func splitFlags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

const messageColumns = `id, uid, modseq, flags, size, internal_date, blob_key, subject, from_header`

func scanMessage(sc interface{ Scan(...any) error }) (*Message, error) {
	var m Message
	var uid, modseq, idate int64
	var flags string
	if err := sc.Scan(&m.ID, &uid, &modseq, &flags, &m.Size, &idate, &m.BlobKey, &m.Subject, &m.From); err != nil {
		return nil, err
	}
	m.UID, m.ModSeq, m.Flags, m.InternalDate = uint32(uid), uint64(modseq), splitFlags(flags), db.Time(idate)
	return &m, nil
}

// Messages returns the messages of a folder with UID in [minUID, maxUID]
// (maxUID 0: no upper bound), in UID order.
func (a *Access) Messages(ctx context.Context, f *Folder, minUID, maxUID uint32) ([]Message, error) {
	if err := a.owns(ctx, f); err != nil {
		return nil, err
	}
	q := `SELECT ` + messageColumns + ` FROM messages WHERE mailbox_id = $1 AND uid >= $2`
	args := []any{f.ID, int64(minUID)}
	if maxUID > 0 {
		q += ` AND uid <= $3`
		args = append(args, int64(maxUID))
	}
	rows, err := a.s.db.Read().QueryContext(ctx, q+` ORDER BY uid`, args...)
	if err != nil {
		return nil, fmt.Errorf("mailbox: messages: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		m.owner = a.Owner.ID
		out = append(out, *m)
	}
	return out, rows.Err()
}

// UIDs returns the UIDs of a folder in order and the position (1-based) of
// the first message without \Seen, 0 if none: what SELECT needs, without
// loading the rows.
func (a *Access) UIDs(ctx context.Context, f *Folder) ([]uint32, uint32, error) {
	if err := a.owns(ctx, f); err != nil {
		return nil, 0, err
	}
	rows, err := a.s.db.Read().QueryContext(ctx, `SELECT uid, seen FROM messages WHERE mailbox_id = $1 ORDER BY uid`, f.ID)
	if err != nil {
		return nil, 0, fmt.Errorf("mailbox: uids: %w", err)
	}
	defer rows.Close()
	var uids []uint32
	var firstUnseen uint32
	for rows.Next() {
		var uid int64
		var seen bool
		if err := rows.Scan(&uid, &seen); err != nil {
			return nil, 0, err
		}
		uids = append(uids, uint32(uid))
		if !seen && firstUnseen == 0 {
			firstUnseen = uint32(len(uids))
		}
	}
	return uids, firstUnseen, rows.Err()
}

// owns checks that the folder belongs to the handle's owner: a folder id
// from elsewhere is refused, whatever door passed it.
func (a *Access) owns(ctx context.Context, f *Folder) error {
	var n int
	if err := a.s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM mailboxes WHERE id = $1 AND account_id = $2`, f.ID, a.Owner.ID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: folder %d", ErrForbidden, f.ID)
	}
	return nil
}

// OpenBody returns the stored message (trace headers included).
func (a *Access) OpenBody(ctx context.Context, m *Message) (io.ReadCloser, error) {
	if m.owner != 0 {
		if m.owner != a.Owner.ID {
			return nil, fmt.Errorf("%w: message %d", ErrForbidden, m.ID)
		}
		return a.s.blobs.Open(ctx, m.BlobKey)
	}
	var n int
	if err := a.s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE id = $1 AND account_id = $2`, m.ID, a.Owner.ID).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: message %d", ErrForbidden, m.ID)
	}
	return a.s.blobs.Open(ctx, m.BlobKey)
}

// Append stores a message given by a client (IMAP APPEND, a Sent copy) in
// a folder and returns its UIDVALIDITY and UID.
func (a *Access) Append(ctx context.Context, folder string, flags []string, date time.Time, r io.Reader) (uint32, uint32, error) {
	f, err := a.Folder(ctx, folder)
	if err != nil {
		return 0, 0, err
	}
	// Only the bytes the client sent are stored; the header is read once
	// for the search columns.
	var head bytes.Buffer
	key, size, err := a.s.blobs.Put(ctx, io.TeeReader(r, &limitedBuffer{buf: &head, max: maxHeaderBytes}))
	if err != nil {
		return 0, 0, fmt.Errorf("mailbox: append: %w", err)
	}
	h := parseHeaderLoose(head.Bytes())
	if date.IsZero() {
		date = time.Now()
	}
	m := stored{accountID: a.Owner.ID, mailboxID: f.ID, flags: strings.Join(CanonicalFlags(flags), " "), blobKey: key, size: size,
		internalDate: db.Micros(date), messageID: strings.TrimSpace(h.Get("Message-Id")), inReplyTo: strings.TrimSpace(h.Get("In-Reply-To")),
		subject: decodeHeader(h.Get("Subject")), from: decodeHeader(h.Get("From")), trace: "door=append; actor=" + a.Actor.Address}
	var uid int64
	err = a.s.db.Tx(ctx, func(tx *sql.Tx) error {
		id, err := appendMessage(ctx, tx, a.s.db, &m)
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT uid FROM messages WHERE id = $1`, id).Scan(&uid)
	})
	if err != nil {
		return 0, 0, err
	}
	a.s.notify(f.ID)
	return f.UIDValidity, uint32(uid), nil
}

type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		if len(p) > room {
			l.buf.Write(p[:room])
		} else {
			l.buf.Write(p)
		}
	}
	return len(p), nil
}

// FlagOp says how StoreFlags changes flags.
type FlagOp int

const (
	FlagsSet FlagOp = iota
	FlagsAdd
	FlagsRemove
)

// StoreFlags changes the flags of the messages with these UIDs and returns
// the messages whose flags changed, with their new flags and MODSEQ.
func (a *Access) StoreFlags(ctx context.Context, f *Folder, uids []uint32, op FlagOp, flags []string) ([]Message, error) {
	if err := a.owns(ctx, f); err != nil {
		return nil, err
	}
	flags = CanonicalFlags(flags)
	var changed []Message
	err := a.s.db.Tx(ctx, func(tx *sql.Tx) error {
		changed = nil
		cur, err := messagesByUID(ctx, tx, f.ID, uids)
		if err != nil {
			return err
		}
		modseq, err := lockFolder(ctx, tx, a.s.db, f.ID)
		if err != nil {
			return err
		}
		for _, m := range cur {
			var next []string
			switch op {
			case FlagsSet:
				next = flags
			case FlagsAdd:
				next = CanonicalFlags(append(append([]string{}, m.Flags...), flags...))
			case FlagsRemove:
				for _, x := range m.Flags {
					if !hasFlag(flags, x) {
						next = append(next, x)
					}
				}
			}
			if strings.Join(next, " ") == strings.Join(m.Flags, " ") {
				continue
			}
			modseq++
			if _, err := tx.ExecContext(ctx, `UPDATE messages SET flags = $1, seen = $2, deleted = $3, modseq = $4 WHERE id = $5`,
				strings.Join(next, " "), hasFlag(next, FlagSeen), hasFlag(next, FlagDeleted), int64(modseq), m.ID); err != nil {
				return err
			}
			if err := logChange(ctx, tx, f.ID, modseq, m.UID, "flags"); err != nil {
				return err
			}
			m.Flags, m.ModSeq = next, modseq
			changed = append(changed, m)
		}
		if len(changed) > 0 {
			_, err = tx.ExecContext(ctx, `UPDATE mailboxes SET highest_modseq = $1 WHERE id = $2`, int64(modseq), f.ID)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox: store flags: %w", err)
	}
	if len(changed) > 0 {
		a.s.notify(f.ID)
	}
	return changed, nil
}

// Expunge removes the messages flagged \Deleted, only those among uids when
// uids is not nil, and returns the UIDs removed in ascending order.
func (a *Access) Expunge(ctx context.Context, f *Folder, uids []uint32) ([]uint32, error) {
	if err := a.owns(ctx, f); err != nil {
		return nil, err
	}
	var gone []uint32
	err := a.s.db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT uid FROM messages WHERE mailbox_id = $1 AND deleted ORDER BY uid`, f.ID)
		if err != nil {
			return err
		}
		var del []uint32
		want := map[uint32]bool{}
		for _, u := range uids {
			want[u] = true
		}
		for rows.Next() {
			var u int64
			rows.Scan(&u)
			if uids == nil || want[uint32(u)] {
				del = append(del, uint32(u))
			}
		}
		rows.Close()
		gone, err = expungeUIDs(ctx, tx, a.s.db, f.ID, del)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox: expunge: %w", err)
	}
	if len(gone) > 0 {
		a.s.notify(f.ID)
	}
	return gone, nil
}

// Copy copies messages to another folder of the same owner and returns the
// destination UIDVALIDITY and the source and destination UIDs, pairwise.
// With move set, the sources are expunged in the same transaction (MOVE,
// RFC 6851: never both or neither visible).
func (a *Access) Copy(ctx context.Context, f *Folder, uids []uint32, dest string, move bool) (uint32, []uint32, []uint32, error) {
	if err := a.owns(ctx, f); err != nil {
		return 0, nil, nil, err
	}
	var dst *Folder
	var src, out []uint32
	err := a.s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if dst, err = a.folder(ctx, tx, dest); err != nil {
			return err
		}
		cur, err := messagesByUID(ctx, tx, f.ID, uids)
		if err != nil {
			return err
		}
		src = src[:0]
		for _, m := range cur {
			src = append(src, m.UID)
		}
		if out, err = copyMessages(ctx, tx, a.s.db, f.ID, dst.ID, src); err != nil {
			return err
		}
		if move {
			_, err = expungeUIDs(ctx, tx, a.s.db, f.ID, src)
		}
		return err
	})
	if err != nil {
		return 0, nil, nil, err
	}
	a.s.notify(f.ID, dst.ID)
	return dst.UIDValidity, src, out, nil
}

// Change is one entry of a folder's changelog.
type Change struct {
	ModSeq uint64
	UID    uint32
	Kind   string // append, flags, expunge
}

// Changes returns the changelog of a folder after a MODSEQ, in order.
func (a *Access) Changes(ctx context.Context, f *Folder, after uint64) ([]Change, error) {
	rows, err := a.s.db.Read().QueryContext(ctx, `SELECT c.modseq, c.uid, c.kind FROM changes c JOIN mailboxes b ON b.id = c.mailbox_id
		WHERE c.mailbox_id = $1 AND b.account_id = $2 AND c.modseq > $3 ORDER BY c.modseq`, f.ID, a.Owner.ID, int64(after))
	if err != nil {
		return nil, fmt.Errorf("mailbox: changes: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var ms, uid int64
		if err := rows.Scan(&ms, &uid, &c.Kind); err != nil {
			return nil, err
		}
		c.ModSeq, c.UID = uint64(ms), uint32(uid)
		out = append(out, c)
	}
	return out, rows.Err()
}

// MessagesByUID returns the current state of some messages of a folder.
func (a *Access) MessagesByUID(ctx context.Context, f *Folder, uids []uint32) ([]Message, error) {
	if err := a.owns(ctx, f); err != nil {
		return nil, err
	}
	msgs, err := messagesByUID(ctx, a.s.db.Read(), f.ID, uids)
	for i := range msgs {
		msgs[i].owner = a.Owner.ID
	}
	return msgs, err
}

func messagesByUID(ctx context.Context, q db.Querier, mailboxID int64, uids []uint32) ([]Message, error) {
	var out []Message
	for start := 0; start < len(uids); start += 500 {
		chunk := uids[start:min(start+500, len(uids))]
		args := []any{mailboxID}
		for _, u := range chunk {
			args = append(args, int64(u))
		}
		rows, err := q.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE mailbox_id = $1 AND uid IN (`+
			db.Placeholders(2, len(chunk))+`) ORDER BY uid`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, *m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	return out, nil
}

func allUIDs(ctx context.Context, tx *sql.Tx, mailboxID int64) ([]uint32, error) {
	rows, err := tx.QueryContext(ctx, `SELECT uid FROM messages WHERE mailbox_id = $1 ORDER BY uid`, mailboxID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var u int64
		rows.Scan(&u)
		out = append(out, uint32(u))
	}
	return out, rows.Err()
}

// lockFolder takes the folder row for update and returns its MODSEQ.
func lockFolder(ctx context.Context, tx *sql.Tx, d *db.DB, mailboxID int64) (uint64, error) {
	var ms int64
	err := tx.QueryRowContext(ctx, `SELECT highest_modseq FROM mailboxes WHERE id = $1`+d.ForUpdate(), mailboxID).Scan(&ms)
	return uint64(ms), err
}

func logChange(ctx context.Context, tx *sql.Tx, mailboxID int64, modseq uint64, uid uint32, kind string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO changes (mailbox_id, modseq, uid, kind, at) VALUES ($1, $2, $3, $4, $5)`,
		mailboxID, int64(modseq), int64(uid), kind, db.Now())
	return err
}

// expungeUIDs deletes messages and logs one expunge per UID.
func expungeUIDs(ctx context.Context, tx *sql.Tx, d *db.DB, mailboxID int64, uids []uint32) ([]uint32, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	modseq, err := lockFolder(ctx, tx, d, mailboxID)
	if err != nil {
		return nil, err
	}
	var gone []uint32
	for _, u := range uids {
		res, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE mailbox_id = $1 AND uid = $2`, mailboxID, int64(u))
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		modseq++
		if err := logChange(ctx, tx, mailboxID, modseq, u, "expunge"); err != nil {
			return nil, err
		}
		gone = append(gone, u)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET highest_modseq = $1 WHERE id = $2`, int64(modseq), mailboxID); err != nil {
		return nil, err
	}
	return gone, nil
}

// copyMessages copies rows (the blob is shared: bodies are immutable) and
// returns the new UIDs in the order of uids.
func copyMessages(ctx context.Context, tx *sql.Tx, d *db.DB, from, to int64, uids []uint32) ([]uint32, error) {
	cur, err := messagesByUID(ctx, tx, from, uids)
	if err != nil {
		return nil, err
	}
	var out []uint32
	for _, m := range cur {
		var st stored
		var flags string
		err := tx.QueryRowContext(ctx, `SELECT account_id, flags, blob_key, size, internal_date, envelope_from, message_id, in_reply_to,
			subject, from_header, trace, smime_signed, smime_verified, smime_encrypted, smime_signer, smime_problem, evidence_blob
			FROM messages WHERE id = $1`, m.ID).Scan(&st.accountID, &flags, &st.blobKey, &st.size,
			&st.internalDate, &st.envelopeFrom, &st.messageID, &st.inReplyTo, &st.subject, &st.from, &st.trace,
			&st.smimeSigned, &st.smimeVerified, &st.smimeEncrypted, &st.smimeSigner, &st.smimeProblem, &st.evidence)
		if err != nil {
			return nil, err
		}
		st.mailboxID, st.flags = to, flags
		id, err := appendMessage(ctx, tx, d, &st)
		if err != nil {
			return nil, err
		}
		var uid int64
		if err := tx.QueryRowContext(ctx, `SELECT uid FROM messages WHERE id = $1`, id).Scan(&uid); err != nil {
			return nil, err
		}
		out = append(out, uint32(uid))
	}
	return out, nil
}
