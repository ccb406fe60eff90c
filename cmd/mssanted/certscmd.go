package main

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"mssanted/certs"
	"mssanted/directory"
)

// crlValidity is how long a CRL written by the CLI stays current.
const crlValidity = 7 * 24 * time.Hour

// expiryWarning is how long before expiry a certificate is flagged, in
// `certs list` and in the log at start-up.
const expiryWarning = 30 * 24 * time.Hour

func cmdCerts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("certs: list, issue, revoke, export, import-recipient or crl")
	}
	verb := args[0]
	fs, data := newFlags("certs "+verb, stderr)
	address := fs.String("address", "", "mailbox address")
	serial := fs.String("serial", "", "revoke: certificate serial (hex) instead of --address")
	reason := fs.Int("reason", 0, "revoke: RFC 5280 reason code (0 unspecified, 1 key compromise, 4 superseded, 5 cessation)")
	var file string
	if verb == "import-recipient" {
		// mssanted certs import-recipient --address A FILE.pem
		pos, err := parseWithArgs(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("certs import-recipient: one PEM file is required")
		}
		file = pos[0]
	} else if err := parse(fs, args[1:]); err != nil {
		return err
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	switch verb {
	case "list":
		entries, err := in.certs.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SERIAL\tKIND\tSUBJECT\tADDRESS\tNOT AFTER\tSTATE")
		for _, e := range entries {
			if *address != "" && e.Address != *address {
				continue
			}
			state := "valid"
			if e.Revoked {
				state = "revoked " + e.RevokedAt.Format(time.DateOnly)
			} else if time.Now().After(e.NotAfter) {
				state = "expired"
			} else if left := time.Until(e.NotAfter); left < expiryWarning {
				state = fmt.Sprintf("expires in %d days", int(left.Hours()/24))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Serial, e.Kind, e.Subject, e.Address, e.NotAfter.Format(time.DateOnly), state)
		}
		return tw.Flush()
	case "export":
		if *address == "" {
			return usagef("certs export: --address is required")
		}
		c, err := in.certs.ByAddress(ctx, *address)
		if errors.Is(err, certs.ErrNotFound) {
			return usagef("no valid certificate for %s", *address)
		}
		if err != nil {
			return err
		}
		return pem.Encode(stdout, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	case "issue":
		// A new key pair for an existing mailbox (lost key, renewal); the
		// old certificates stay valid until revoked.
		if *address == "" {
			return usagef("certs issue: --address is required")
		}
		a, err := in.dir.ByAddress(ctx, *address)
		if errors.Is(err, directory.ErrNotFound) {
			return usagef("no account %s", *address)
		}
		if err != nil {
			return err
		}
		iss, err := in.ca.IssueMailbox(a.Address, a.DisplayName)
		if err != nil {
			return err
		}
		if err := in.certs.Record(ctx, nil, iss, a.Address); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "issued %s for %s, valid until %s\n", iss.Serial(), a.Address, iss.Cert.NotAfter.Format(time.DateOnly))
		return nil
	case "import-recipient":
		if *address == "" {
			return usagef("certs import-recipient: --address is required")
		}
		body, err := os.ReadFile(file)
		if err != nil {
			return usageError{err}
		}
		anchors, err := in.anchors()
		if err != nil {
			return err
		}
		c, err := in.certs.ImportRecipient(ctx, *address, body, anchors, filepath.Base(file))
		if errors.Is(err, certs.ErrInvalidCert) {
			return usagef("%v", err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "imported the certificate of %s (%s), valid until %s: mail to it will be encrypted\n",
			*address, c.Subject.String(), c.NotAfter.Format(time.DateOnly))
		return nil
	case "revoke":
		switch {
		case *serial != "":
			err = in.certs.Revoke(ctx, *serial, *reason)
		case *address != "":
			err = in.certs.RevokeAddress(ctx, *address, *reason)
		default:
			return usagef("certs revoke: --address or --serial is required")
		}
		if errors.Is(err, certs.ErrNotFound) {
			return usagef("%v", err)
		}
		if err != nil {
			return err
		}
		fallthrough
	case "crl":
		if _, err := in.certs.CRL(ctx, crlValidity); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "CRL written to %s\n", filepath.Join(pkiDir(in.dataDir), "crl.pem"))
		return nil
	}
	return usagef("certs: unknown subcommand %q", verb)
}
