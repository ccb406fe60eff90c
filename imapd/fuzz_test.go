package imapd_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"mssanted/db"
	"mssanted/db/dbtest"
)

// FuzzSession sends arbitrary command streams to a logged-in, selected
// session over real TLS. Whatever comes in, the server must not panic, must
// answer, and must keep serving the next connection; the mailbox it leaves
// must still be selectable.
func FuzzSession(f *testing.F) {
	for _, seed := range []string{
		"a FETCH 1:* (FLAGS UID ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER] BINARY.PEEK[1] BINARY.SIZE[1])",
		"a UID FETCH 1:* (BODY[1.2.MIME]<0.10>)",
		"a STORE 1 +FLAGS (\\Deleted $Label1)\r\nb EXPUNGE",
		"a SEARCH RETURN (SAVE MIN) OR SUBJECT x NOT BODY y\r\nb FETCH $ (UID)\r\nc MOVE $ Archive",
		"a APPEND INBOX (\\Seen) {5+}\r\nhello",
		"a APPEND INBOX {3}\r\n",
		"a COPY 999:* Trash\r\nb UID EXPUNGE 1:*",
		"a LIST \"\" * RETURN (STATUS (MESSAGES SIZE) SPECIAL-USE)\r\nb CREATE x/y/z\r\nc RENAME x q\r\nd DELETE q/y/z",
		"a IDLE\r\nDONE\r\nb NOOP",
		"a SELECT \"\"\r\nb EXAMINE INBOX\r\nc STORE 1 FLAGS ()",
		"a SEARCH CHARSET ISO-8859-1 TEXT x\r\nb SEARCH UID 4294967295:1 LARGER 99999999999",
		"a ENABLE IMAP4rev2 UTF8=ACCEPT\r\nb STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE APPENDLIMIT)",
	} {
		f.Add(seed)
	}
	e := newEnv(f, dbtest.Open(f, db.SQLite))
	e.deliver(e.pat, "un", "", "1\r\n")
	e.deliver(e.pat, "=?utf-8?q?deux_=C3=A9?=", "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n",
		"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b\r\nContent-Type: text/plain; charset=latin1\r\nContent-Transfer-Encoding: base64\r\n\r\n6Q==\r\n--b--\r\n")
	session := func(body string) (string, error) {
		c, err := tls.Dial("tcp", e.imaps, e.tlsConfig())
		if err != nil {
			return "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		fmt.Fprintf(c, "l LOGIN %s %q\r\ns SELECT INBOX\r\n%s\r\nz LOGOUT\r\n", e.pat.Address, pw, body)
		c.CloseWrite()
		out, _ := io.ReadAll(c)
		return string(out), nil
	}
	f.Fuzz(func(t *testing.T, input string) {
		if _, err := session(input); err != nil {
			t.Fatalf("handshake: %v", err)
		}
		out, err := session("n NOOP")
		if err != nil || !strings.Contains(out, "s OK") || !strings.Contains(out, "n OK") {
			t.Fatalf("server unusable after input %q: %v\n%s", input, err, out)
		}
	})
}
