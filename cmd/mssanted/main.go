// Command mssanted is the secure health messaging gateway: SMTP and IMAP
// for professionals, a web app and JSON API for patients, the pharmacy
// directory and the patient document library, in one binary.
//
// The command line is a contract (DESIGN.md): scripts and tests rely on it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"mssanted/directory"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `mssanted: a secure health messaging gateway

usage:
  mssanted demo [--data DIR]                 init if empty, seed demo accounts, serve
  mssanted init --data DIR --domain D [--patient-domain P]
  mssanted serve --data DIR [--smtp-mx A] [--smtp-submission A] [--smtp-submissions A]
                 [--imap A] [--imaps A] [--http A] [--metrics A]
  mssanted migrate --data DIR
  mssanted user add --data DIR --role professional|patient|pharmacy|admin --address A
                 --name N --password-stdin [role flags]
  mssanted user list|passwd|disable|enable|app-password --data DIR ...
  mssanted certs list|issue|revoke|export|crl --data DIR [--address A]
  mssanted certs import-recipient --data DIR --address A FILE.pem
  mssanted trust import --data DIR FILE.xml | trust list --data DIR [--domain D]
  mssanted queue list|retry|drop --data DIR [--state queued|sent|failed] [--id N]
  mssanted directory import --data DIR FILE | search --data DIR [--name N] [--place P] [--professionals] | sources
  mssanted dns --data DIR [--ttl N]          print the DNS records to publish (MX, SRV, autoconfig)
  mssanted version
`

// usageError is bad input on the command line: exit status 2.
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "mssanted:", err)
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, directory.ErrInvalid) || errors.Is(err, directory.ErrExists) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("a command is required")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "init":
		return cmdInit(ctx, rest, stdout, stderr)
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "user":
		return cmdUser(ctx, rest, stdin, stdout, stderr)
	case "certs":
		return cmdCerts(ctx, rest, stdout, stderr)
	case "trust":
		return cmdTrust(ctx, rest, stdout, stderr)
	case "queue":
		return cmdQueue(ctx, rest, stdout, stderr)
	case "directory":
		return cmdDirectory(ctx, rest, stdout, stderr)
	case "dns":
		return cmdDNS(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usagef("unknown command %q", cmd)
}

func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && v == "dev" {
				v += "+" + s.Value
			}
		}
		return fmt.Sprintf("mssanted %s (%s)", v, bi.GoVersion)
	}
	return "mssanted " + v
}

// newFlags returns a flag set that reports errors instead of exiting, with
// the --data flag every command but version takes.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("mssanted "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "data directory")
	return fs, data
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func requireData(data string) error {
	if data == "" {
		return usagef("--data DIR is required")
	}
	return nil
}
