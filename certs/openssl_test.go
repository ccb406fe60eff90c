package certs

import (
	"crypto/tls"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// OpenSSL is the independent peer: what it accepts, mail clients and other
// operators' MTAs built on it accept too.

func TestOpenSSLVerify(t *testing.T) {
	needOpenSSL(t)
	a := shared(t)
	caFile := filepath.Join(fix.dir, CAFile)
	tc, err := a.ServerCertificate()
	if err != nil {
		t.Fatal(err)
	}
	leaf := writeTemp(t, "leaf.pem", certPEM(tc.Leaf))
	mbox := writeTemp(t, "mbox.pem", fix.alice.CertPEM)
	for _, c := range []struct{ purpose, file string }{
		{"sslserver", leaf}, {"sslclient", leaf},
		{"smimesign", mbox}, {"smimeencrypt", mbox},
	} {
		out, err := openssl(t, "verify", "-CAfile", caFile, "-purpose", c.purpose, c.file)
		if err != nil || !strings.Contains(out, ": OK") {
			t.Errorf("openssl verify -purpose %s: %v\n%s", c.purpose, err, out)
		}
	}
	// The negative case proves the purposes above were checked.
	if out, err := openssl(t, "verify", "-CAfile", caFile, "-purpose", "smimesign", leaf); err == nil {
		t.Errorf("openssl accepted the TLS certificate for S/MIME:\n%s", out)
	}
	out, err := openssl(t, "x509", "-noout", "-ext", "subjectAltName", "-in", mbox)
	if err != nil || !strings.Contains(out, "email:"+aliceAddr) {
		t.Errorf("openssl x509 -ext subjectAltName: %v\n%s", err, out)
	}
}

// TestTLSHandshake runs mutual TLS with the server certificate on both
// sides, as two operators do, first with Go then with OpenSSL as client.
func TestTLSHandshake(t *testing.T) {
	a := shared(t)
	cert, err := a.ServerCertificate()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    a.CAPool(),
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if c.(*tls.Conn).Handshake() == nil {
					io.WriteString(c, "220 ok\r\n")
					io.Copy(io.Discard, c)
				}
			}()
		}
	}()
	addr := ln.Addr().String()

	for _, name := range []string{"localhost", "127.0.0.1"} {
		c, err := tls.Dial("tcp", addr, &tls.Config{
			RootCAs:      a.CAPool(),
			ServerName:   name,
			Certificates: []tls.Certificate{cert},
		})
		if err != nil {
			t.Errorf("Go client, ServerName %s: %v", name, err)
			continue
		}
		line := make([]byte, 8)
		if _, err := io.ReadFull(c, line); err != nil {
			t.Errorf("read after handshake: %v", err)
		}
		c.Close()
	}
	// Without a client certificate the server refuses.
	if c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: a.CAPool(), ServerName: "localhost"}); err == nil {
		_, err = c.Read(make([]byte, 1))
		c.Close()
		if err == nil {
			t.Error("server accepted a client without certificate")
		}
	}

	needOpenSSL(t)
	_, port, _ := net.SplitHostPort(addr)
	out, err := openssl(t, "s_client", "-connect", "127.0.0.1:"+port, "-servername", "localhost",
		"-verify_return_error", "-verify_hostname", "localhost",
		"-CAfile", filepath.Join(fix.dir, CAFile),
		"-cert", filepath.Join(fix.dir, TLSFile), "-key", filepath.Join(fix.dir, TLSKeyFile))
	if err != nil || !strings.Contains(out, "Verify return code: 0 (ok)") {
		t.Errorf("openssl s_client: %v\n%s", err, out)
	}
}
