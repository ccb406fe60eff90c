package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"mssanted/db"
)

// TestKillUnderLoad kills the real server with SIGKILL while 20 sessions
// submit, restarts it, lets the clients retry what was not acknowledged
// (as every SMTP client does), and counts: every message acknowledged with
// 250 is in the mailbox, and no message is there twice.
func TestKillUnderLoad(t *testing.T) {
	data := t.TempDir()
	mustMSS(t, "", "init", "--data", data, "--domain", "chu.example", "--patient-domain", "patient.example")
	mustMSS(t, testPassword+"\n", "user", "add", "--data", data, "--password-stdin", "--role", "professional",
		"--address", "dr@chu.example", "--name", "Dr A", "--rpps", rpps("1000000042"), "--profession", "Médecin généraliste")
	mustMSS(t, testPassword+"\n", "user", "add", "--data", data, "--password-stdin", "--role", "patient",
		"--address", "p@patient.example", "--name", "P", "--ins", ins("2850375123456"), "--birth-date", "1985-03-14", "--sex", "F")
	caPEM, err := os.ReadFile(filepath.Join(data, "pki", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)

	const sessions, perSession = 20, 15
	total := sessions * perSession
	acked := make([]atomic.Bool, total)
	body := func(i int) string {
		return fmt.Sprintf("From: <dr@chu.example>\r\nTo: <p@patient.example>\r\nMessage-ID: <load-%d@chu.example>\r\nSubject: n%d\r\n\r\nmessage %d\r\n", i, i, i)
	}
	// sendAll tries every message not yet acknowledged, once, through the
	// server at addr, and returns how many it could not send.
	sendAll := func(addr string, stop <-chan struct{}) int {
		var failed atomic.Int32
		var wg sync.WaitGroup
		for s := 0; s < sessions; s++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var c *smtp.Client
				for k := 0; k < perSession; k++ {
					i := s*perSession + k
					if acked[i].Load() {
						continue
					}
					select {
					case <-stop:
						failed.Add(1)
						continue
					default:
					}
					if c == nil {
						var err error
						c, err = smtp.DialStartTLS(addr, &tls.Config{RootCAs: roots, ServerName: "localhost"})
						if err == nil {
							err = c.Auth(sasl.NewPlainClient("", "dr@chu.example", testPassword))
						}
						if err != nil {
							if c != nil {
								c.Close()
							}
							c = nil
							failed.Add(1)
							continue
						}
					}
					if err := sendOne(c, body(i)); err != nil {
						c.Close()
						c = nil
						failed.Add(1)
						continue
					}
					acked[i].Store(true)
				}
				if c != nil {
					c.Quit()
				}
			}()
		}
		wg.Wait()
		return int(failed.Load())
	}

	srv := startServe(t, data)
	stop := make(chan struct{})
	go func() {
		// Kill once a part of the load is through, in the middle of it.
		for {
			n := 0
			for i := range acked {
				if acked[i].Load() {
					n++
				}
			}
			if n >= total/4 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		srv.cmd.Process.Signal(syscall.SIGKILL)
		close(stop)
	}()
	failedFirst := sendAll(srv.addrs["smtp-submission"], stop)
	<-srv.done
	ackedBeforeKill := 0
	for i := range acked {
		if acked[i].Load() {
			ackedBeforeKill++
		}
	}
	t.Logf("killed: %d acknowledged, %d not", ackedBeforeKill, failedFirst)
	if failedFirst == 0 {
		t.Fatal("the kill came after the load: nothing was in flight")
	}

	srv2 := startServe(t, data)
	if left := sendAll(srv2.addrs["smtp-submission"], nil); left != 0 {
		t.Fatalf("%d messages could not be sent after restart", left)
	}
	srv2.stop(t)

	d, err := db.Open(context.Background(), data, "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	counts := map[string]int{}
	rows, err := d.Read().QueryContext(context.Background(), `SELECT m.message_id FROM messages m JOIN accounts a ON a.id = m.account_id WHERE a.address = 'p@patient.example'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		counts[id]++
	}
	rows.Close()
	for i := 0; i < total; i++ {
		id := fmt.Sprintf("<load-%d@chu.example>", i)
		if counts[id] != 1 {
			t.Errorf("%s is in the mailbox %d times, want exactly once", id, counts[id])
		}
	}
	if len(counts) != total {
		t.Errorf("mailbox holds %d distinct messages, want %d", len(counts), total)
	}
}

func sendOne(c *smtp.Client, data string) error {
	if err := c.Mail("dr@chu.example", nil); err != nil {
		return err
	}
	if err := c.Rcpt("p@patient.example", nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, data); err != nil {
		return err
	}
	return w.Close()
}
