package imapd

import (
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"mssanted/mailbox"
)

func (s *session) Create(name string, options *imap.CreateOptions) error {
	ctx, cancel := ctxOp()
	defer cancel()
	special := ""
	if options != nil && len(options.SpecialUse) > 0 {
		if len(options.SpecialUse) > 1 {
			return noCode(imap.ResponseCodeCannot, "Un seul usage spécial / One special-use attribute at most")
		}
		special = string(options.SpecialUse[0])
	}
	return s.toIMAP(s.access.CreateFolder(ctx, name, special))
}

func (s *session) Delete(name string) error {
	ctx, cancel := ctxOp()
	defer cancel()
	return s.toIMAP(s.access.DeleteFolder(ctx, name))
}

func (s *session) Rename(from, to string, _ *imap.RenameOptions) error {
	ctx, cancel := ctxOp()
	defer cancel()
	return s.toIMAP(s.access.RenameFolder(ctx, from, to))
}

func (s *session) Subscribe(name string) error {
	ctx, cancel := ctxOp()
	defer cancel()
	return s.toIMAP(s.access.SetSubscribed(ctx, name, true))
}

func (s *session) Unsubscribe(name string) error {
	ctx, cancel := ctxOp()
	defer cancel()
	return s.toIMAP(s.access.SetSubscribed(ctx, name, false))
}

func (s *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	ctx, cancel := ctxOp()
	defer cancel()
	if options == nil {
		options = &imap.ListOptions{}
	}
	if len(patterns) == 0 { // LIST "" "": the hierarchy delimiter (RFC 9051 6.3.9)
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: mailbox.Delimiter})
	}
	folders, err := s.access.Folders(ctx)
	if err != nil {
		return s.toIMAP(err)
	}
	for _, f := range folders {
		match := false
		for _, p := range patterns {
			if imapserver.MatchList(f.Name, mailbox.Delimiter, ref, p) {
				match = true
				break
			}
		}
		if !match {
			continue
		}
		if options.SelectSubscribed && !f.Subscribed {
			continue
		}
		if options.SelectSpecialUse && f.SpecialUse == "" {
			continue
		}
		data := &imap.ListData{Mailbox: f.Name, Delim: mailbox.Delimiter}
		if hasChildren(folders, f.Name) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasChildren)
		} else {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasNoChildren)
		}
		if f.SpecialUse != "" {
			data.Attrs = append(data.Attrs, imap.MailboxAttr(f.SpecialUse))
		}
		if f.Subscribed && (options.SelectSubscribed || options.ReturnSubscribed) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
		}
		if options.ReturnStatus != nil {
			st, err := s.status(f.Name, options.ReturnStatus)
			if err != nil {
				return err
			}
			data.Status = st
		}
		if err := w.WriteList(data); err != nil {
			return err
		}
	}
	return nil
}

func hasChildren(folders []mailbox.Folder, name string) bool {
	for _, f := range folders {
		if strings.HasPrefix(f.Name, name+string(mailbox.Delimiter)) {
			return true
		}
	}
	return false
}

func (s *session) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	return s.status(name, options)
}

func (s *session) status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	ctx, cancel := ctxOp()
	defer cancel()
	st, err := s.access.Status(ctx, name)
	if err != nil {
		return nil, s.toIMAP(err)
	}
	data := &imap.StatusData{Mailbox: st.Name}
	if options.NumMessages {
		data.NumMessages = &st.Messages
	}
	if options.UIDNext {
		data.UIDNext = imap.UID(st.UIDNext)
	}
	if options.UIDValidity {
		data.UIDValidity = st.UIDValidity
	}
	if options.NumUnseen {
		data.NumUnseen = &st.Unseen
	}
	if options.NumDeleted {
		data.NumDeleted = &st.Deleted
	}
	if options.Size {
		data.Size = &st.Size
	}
	if options.NumRecent {
		var zero uint32
		data.NumRecent = &zero
	}
	if options.AppendLimit {
		limit := s.cfg.AppendLimit
		data.AppendLimit = &limit
	}
	return data, nil
}

func (s *session) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	ctx, cancel := ctxOp()
	defer cancel()
	if r.Size() > int64(s.cfg.AppendLimit) {
		return nil, noCode(imap.ResponseCodeTooBig, "Message trop volumineux / Message too big")
	}
	var flags []string
	for _, f := range options.Flags {
		flags = append(flags, string(f))
	}
	if _, err := s.access.Folder(ctx, name); err != nil {
		if err2 := s.toIMAP(err); err2 != nil {
			var ie *imap.Error
			if e, ok := err2.(*imap.Error); ok && e.Code == imap.ResponseCodeNonExistent {
				ie = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeTryCreate, Text: e.Text}
				return nil, ie
			}
			return nil, err2
		}
	}
	uv, uid, err := s.access.Append(ctx, name, flags, options.Time, r)
	if err != nil {
		return nil, s.toIMAP(err)
	}
	return &imap.AppendData{UID: imap.UID(uid), UIDValidity: uv}, nil
}
