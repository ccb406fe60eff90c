package mailbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"mssanted/db"
	"mssanted/directory"
)

// Errors of folder operations; doors map them to protocol replies.
var (
	ErrNoFolder     = errors.New("no such folder")
	ErrFolderExists = errors.New("folder already exists")
	ErrFolderName   = errors.New("invalid folder name")
	ErrForbidden    = errors.New("not allowed")
	ErrHasChildren  = errors.New("folder has subfolders")
)

// Delimiter separates the levels of folder names.
const Delimiter = '/'

// Access is an account's authorized handle on one mailbox owner's folders:
// its own, or an organisational mailbox it is staff of. Every folder and
// message operation goes through it, so the check that the acting account
// may see these folders is made here, in the store, once per session.
type Access struct {
	s     *Store
	Actor *directory.Account
	Owner *directory.Account
}

// Open checks that actor may open owner's mailbox (its own, or an ORG
// mailbox it is staff of) and returns the handle.
func (s *Store) Open(ctx context.Context, dir *directory.Store, actor *directory.Account, owner string) (*Access, error) {
	if owner == "" || strings.EqualFold(owner, actor.Address) {
		if _, err := s.EnsureFolders(ctx, actor.ID); err != nil {
			return nil, err
		}
		return &Access{s: s, Actor: actor, Owner: actor}, nil
	}
	ok, err := dir.MaySendAs(ctx, actor, owner)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s may not open %s", ErrForbidden, actor.Address, owner)
	}
	o, err := dir.ByAddress(ctx, owner)
	if err != nil {
		return nil, err
	}
	if _, err := s.EnsureFolders(ctx, o.ID); err != nil {
		return nil, err
	}
	return &Access{s: s, Actor: actor, Owner: o}, nil
}

// Folder is one folder of a mailbox.
type Folder struct {
	ID            int64
	Name          string
	SpecialUse    string
	UIDValidity   uint32
	UIDNext       uint32
	HighestModSeq uint64
	Subscribed    bool
}

// FolderStatus adds the counts of STATUS.
type FolderStatus struct {
	Folder
	Messages uint32
	Unseen   uint32
	Deleted  uint32
	Size     int64
}

// NormalizeFolder validates a folder name and spells INBOX in capitals
// (RFC 3501 5.1: INBOX is case-insensitive).
func NormalizeFolder(name string) (string, error) {
	name = strings.TrimSuffix(name, string(Delimiter))
	if strings.EqualFold(name, "INBOX") {
		return "INBOX", nil
	}
	if name == "" || len(name) > 255 || !utf8.ValidString(name) || strings.ContainsAny(name, "*%") ||
		strings.HasPrefix(name, string(Delimiter)) || strings.Contains(name, string(Delimiter)+string(Delimiter)) {
		return "", fmt.Errorf("%w: %q", ErrFolderName, name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%w: %q", ErrFolderName, name)
		}
	}
	if strings.HasPrefix(strings.ToUpper(name), "INBOX/") {
		name = "INBOX" + name[5:]
	}
	return name, nil
}

const folderColumns = `id, name, COALESCE(special_use, ''), uidvalidity, uidnext, highest_modseq, subscribed`

func scanFolder(sc interface{ Scan(...any) error }) (*Folder, error) {
	var f Folder
	var uv, un, hm int64
	if err := sc.Scan(&f.ID, &f.Name, &f.SpecialUse, &uv, &un, &hm, &f.Subscribed); err != nil {
		return nil, err
	}
	f.UIDValidity, f.UIDNext, f.HighestModSeq = uint32(uv), uint32(un), uint64(hm)
	return &f, nil
}

// Folders lists the owner's folders by name.
func (a *Access) Folders(ctx context.Context) ([]Folder, error) {
	rows, err := a.s.db.Read().QueryContext(ctx, `SELECT `+folderColumns+` FROM mailboxes WHERE account_id = $1 ORDER BY name`, a.Owner.ID)
	if err != nil {
		return nil, fmt.Errorf("mailbox: folders: %w", err)
	}
	defer rows.Close()
	var out []Folder
	for rows.Next() {
		f, err := scanFolder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *f)
	}
	return out, rows.Err()
}

// Folder returns one folder by name.
func (a *Access) Folder(ctx context.Context, name string) (*Folder, error) {
	return a.folder(ctx, a.s.db.Read(), name)
}

func (a *Access) folder(ctx context.Context, q db.Querier, name string) (*Folder, error) {
	n, err := NormalizeFolder(name)
	if err != nil {
		return nil, err
	}
	f, err := scanFolder(q.QueryRowContext(ctx, `SELECT `+folderColumns+` FROM mailboxes WHERE account_id = $1 AND name = $2`, a.Owner.ID, n))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNoFolder, n)
	}
	if err != nil {
		return nil, fmt.Errorf("mailbox: folder %s: %w", n, err)
	}
	return f, nil
}

// Status returns a folder with its counts.
func (a *Access) Status(ctx context.Context, name string) (*FolderStatus, error) {
	f, err := a.Folder(ctx, name)
	if err != nil {
		return nil, err
	}
	st := &FolderStatus{Folder: *f}
	var msgs, seen, deleted, size int64
	err = a.s.db.Read().QueryRowContext(ctx, `SELECT count(*),
		COALESCE(sum(CASE WHEN seen THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN deleted THEN 1 ELSE 0 END), 0),
		COALESCE(sum(size), 0)
		FROM messages WHERE mailbox_id = $1`, f.ID).Scan(&msgs, &seen, &deleted, &size)
	if err != nil {
		return nil, fmt.Errorf("mailbox: status %s: %w", f.Name, err)
	}
	st.Messages, st.Unseen, st.Deleted, st.Size = uint32(msgs), uint32(msgs-seen), uint32(deleted), size
	return st, nil
}

// CreateFolder creates a folder (and its missing parents, RFC 3501 6.3.3).
func (a *Access) CreateFolder(ctx context.Context, name, specialUse string) error {
	n, err := NormalizeFolder(name)
	if err != nil {
		return err
	}
	if n == "INBOX" {
		return fmt.Errorf("%w: INBOX", ErrFolderExists)
	}
	switch specialUse {
	case "", `\Sent`, `\Drafts`, `\Trash`, `\Archive`, `\Junk`, `\All`, `\Flagged`:
	default:
		return fmt.Errorf("%w: special use %s", ErrFolderName, specialUse)
	}
	return a.s.db.Tx(ctx, func(tx *sql.Tx) error {
		parts := strings.Split(n, string(Delimiter))
		for i := range parts {
			cur := strings.Join(parts[:i+1], string(Delimiter))
			var special *string
			if i == len(parts)-1 && specialUse != "" {
				special = &specialUse
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO mailboxes (account_id, name, special_use, uidvalidity, created_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, name) DO NOTHING`, a.Owner.ID, cur, special, newUIDValidity(), db.Now())
			if err != nil {
				return fmt.Errorf("mailbox: create %s: %w", cur, err)
			}
			if n, _ := res.RowsAffected(); n == 0 && i == len(parts)-1 {
				return fmt.Errorf("%w: %s", ErrFolderExists, cur)
			}
		}
		return nil
	})
}

// DeleteFolder deletes a folder and its messages. INBOX cannot be deleted;
// a folder with children keeps them (RFC 3501 6.3.4 allows refusing; we
// refuse, so no message is lost by surprise).
func (a *Access) DeleteFolder(ctx context.Context, name string) error {
	n, err := NormalizeFolder(name)
	if err != nil {
		return err
	}
	if n == "INBOX" {
		return fmt.Errorf("%w: INBOX cannot be deleted", ErrForbidden)
	}
	return a.s.db.Tx(ctx, func(tx *sql.Tx) error {
		f, err := a.folder(ctx, tx, n)
		if err != nil {
			return err
		}
		var kids int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM mailboxes WHERE account_id = $1 AND name LIKE $2 ESCAPE '\'`,
			a.Owner.ID, likePrefix(n+string(Delimiter))).Scan(&kids); err != nil {
			return err
		}
		if kids > 0 {
			return fmt.Errorf("%w: %s", ErrHasChildren, n)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE mailbox_id = $1`, f.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM changes WHERE mailbox_id = $1`, f.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM mailboxes WHERE id = $1`, f.ID)
		return err
	})
}

// RenameFolder renames a folder and its children. Renaming INBOX moves its
// messages to the new folder and leaves INBOX empty (RFC 3501 6.3.5).
func (a *Access) RenameFolder(ctx context.Context, from, to string) error {
	src, err := NormalizeFolder(from)
	if err != nil {
		return err
	}
	dst, err := NormalizeFolder(to)
	if err != nil {
		return err
	}
	if dst == "INBOX" {
		return fmt.Errorf("%w: INBOX", ErrFolderExists)
	}
	var touched []int64
	err = a.s.db.Tx(ctx, func(tx *sql.Tx) error {
		f, err := a.folder(ctx, tx, src)
		if err != nil {
			return err
		}
		if _, err := a.folder(ctx, tx, dst); err == nil {
			return fmt.Errorf("%w: %s", ErrFolderExists, dst)
		}
		if src == "INBOX" {
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO mailboxes (account_id, name, uidvalidity, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
				a.Owner.ID, dst, newUIDValidity(), db.Now()).Scan(&id); err != nil {
				return err
			}
			uids, err := allUIDs(ctx, tx, f.ID)
			if err != nil {
				return err
			}
			if _, err := copyMessages(ctx, tx, a.s.db, f.ID, id, uids); err != nil {
				return err
			}
			if _, err := expungeUIDs(ctx, tx, a.s.db, f.ID, uids); err != nil {
				return err
			}
			touched = append(touched, f.ID, id)
			return nil
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, name FROM mailboxes WHERE account_id = $1 AND (name = $2 OR name LIKE $3 ESCAPE '\')`,
			a.Owner.ID, src, likePrefix(src+string(Delimiter)))
		if err != nil {
			return err
		}
		type ren struct {
			id   int64
			name string
		}
		var rs []ren
		for rows.Next() {
			var r ren
			rows.Scan(&r.id, &r.name)
			rs = append(rs, r)
		}
		rows.Close()
		for _, r := range rs {
			// A renamed folder is a new folder to clients: new UIDVALIDITY.
			if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET name = $1, uidvalidity = $2 WHERE id = $3`,
				dst+strings.TrimPrefix(r.name, src), newUIDValidity(), r.id); err != nil {
				return fmt.Errorf("mailbox: rename: %w", err)
			}
		}
		return nil
	})
	if err == nil {
		a.s.notify(touched...)
	}
	return err
}

// SetSubscribed subscribes to or unsubscribes from a folder.
func (a *Access) SetSubscribed(ctx context.Context, name string, on bool) error {
	f, err := a.Folder(ctx, name)
	if err != nil {
		return err
	}
	_, err = a.s.db.Write().ExecContext(ctx, `UPDATE mailboxes SET subscribed = $1 WHERE id = $2`, on, f.ID)
	return err
}

// likePrefix escapes LIKE wildcards in a prefix and appends %.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}
