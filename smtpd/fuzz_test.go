package smtpd_test

import (
	"crypto/tls"
	"io"
	"strings"
	"testing"
	"time"
)

// FuzzSession drives the submission door with arbitrary command streams
// (and DATA contents) after a real TLS handshake and AUTH: whatever the
// client sends, the server answers without panicking and keeps serving new
// sessions, and a message it accepts is in the store.
func FuzzSession(f *testing.F) {
	for _, seed := range []string{
		"MAIL FROM:<dr@hopital.example>\r\nRCPT TO:<jeanne@patient.example>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n",
		"MAIL FROM:<dr@hopital.example> BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=abc\r\nRCPT TO:<jeanne@patient.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y\r\nBDAT 12 LAST\r\nSubject: y\r\n\r\n",
		"MAIL FROM:<>\r\nRCPT TO:<>\r\nDATA\r\n.\r\n",
		"RCPT TO:<jeanne@patient.example>\r\nDATA\r\n",
		"MAIL FROM:<dr@hopital.example>\r\nRCPT TO:<jeanne@patient.example>\r\nDATA\r\n\r\n..\r\n.\r\n",
		"MAIL FROM:<dr@hopital.example>\r\nRCPT TO:<jeanne@patient.example>\r\nDATA\r\nFrom: =?utf-8?q?=C3=A9?= <a@b>\r\nSubject: =?bogus?x?y?=\r\n\r\n\xff\xfe\r\n.\r\n",
		"VRFY root\r\nEXPN staff\r\nHELP\r\nNOOP\r\nRSET\r\nSTARTTLS\r\nAUTH LOGIN\r\n*\r\n",
		"MAIL FROM:<dr@hopital.example>\r\nRCPT TO:<jeanne@patient.example>\r\nBDAT 999999999999\r\n",
	} {
		f.Add(seed)
	}
	e := newEnv(f, nil)
	f.Fuzz(func(t *testing.T, input string) {
		session := func(body string) (string, error) {
			c, err := tls.Dial("tcp", e.subs, e.tlsConfig())
			if err != nil {
				return "", err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(3 * time.Second))
			io.WriteString(c, "EHLO fuzz.example\r\nAUTH PLAIN "+plain("dr@hopital.example", pw)+"\r\n"+body+"\r\nQUIT\r\n")
			// End of input (close_notify): the server sees EOF, even in
			// the middle of DATA or BDAT, and closes its side.
			c.CloseWrite()
			out, _ := io.ReadAll(c)
			return string(out), nil
		}
		if _, err := session(input); err != nil {
			t.Fatalf("handshake: %v", err)
		}
		out, err := session("NOOP\r\n")
		if err != nil || !strings.Contains(out, "\r\n250 ") && !strings.Contains(out, "250 2.0.0") {
			t.Fatalf("server does not answer after input %q: %v %q", input, err, out)
		}
	})
}
