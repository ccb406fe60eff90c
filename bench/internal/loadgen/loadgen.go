// Package loadgen holds the small helpers that the bench load generators
// (bench/smtpload, bench/imapload) share: the loopback-only address check,
// the client TLS configuration, password files, appending to their TSV
// result files, the nearest-rank percentile and the Markdown tables of their
// report subcommands.
package loadgen

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// CheckLoopback refuses any HOST:PORT whose host is not in 127.0.0.0/8,
// ::1 or localhost, and any port that is not a number.
func CheckLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("bad address %q: %v", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("bad port in %q", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing non-loopback address %q (only 127.0.0.0/8, ::1, localhost)", addr)
}

// TLSConfig is the client configuration for the server at addr: TLS 1.2 or
// later, verifying serverName (default: the host of addr) against the CAs
// of the PEM file caFile (default: the system roots).
func TLSConfig(addr, serverName, caFile string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if conf.ServerName == "" {
		conf.ServerName, _, _ = net.SplitHostPort(addr)
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate", caFile)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// FirstLine is the first line of the file at path, without its line end
// (how the password files of -pass-file and -auth-pass-file are read).
func FirstLine(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(strings.TrimRight(string(b), "\r\n"), "\n")
	return line, nil
}

// AppendTSV appends rows to the TSV file at path, writing header first when
// the file does not exist yet. Cells are written as they are: the caller
// keeps tabs and newlines out of them.
func AppendTSV(path string, header []string, rows [][]string) error {
	_, err := os.Stat(path)
	isNew := errors.Is(err, os.ErrNotExist)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if isNew {
		fmt.Fprintln(w, strings.Join(header, "\t"))
	}
	for _, r := range rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Percentile is the nearest-rank p-th percentile of sorted, -1 when it is
// empty.
func Percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return -1
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

// OrDash is s, or "-" when s is empty (the empty cell of the TSV files).
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// PrintTable prints t to standard output as a Markdown table: t[0] is the
// header, every column padded to its widest cell.
func PrintTable(t [][]string) {
	w := make([]int, len(t[0]))
	for _, r := range t {
		for i, c := range r {
			w[i] = max(w[i], len([]rune(c)))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range r {
			fmt.Fprintf(&b, " %-*s |", w[i], c)
		}
		fmt.Println(b.String())
	}
	line(t[0])
	sep := make([]string, len(w))
	for i := range w {
		sep[i] = strings.Repeat("-", w[i])
	}
	line(sep)
	for _, r := range t[1:] {
		line(r)
	}
}
