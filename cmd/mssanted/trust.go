package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"mssanted/directory"
)

// cmdTrust manages the trust-space whitelist: the operator domains and the
// certificate DNs the MX accepts server-to-server mail from.
func cmdTrust(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("trust: import or list")
	}
	switch args[0] {
	case "import":
		return trustImport(ctx, args[1:], stdout, stderr)
	case "list":
		return trustList(ctx, args[1:], stdout, stderr)
	}
	return usagef("trust: unknown subcommand %q", args[0])
}

// parseWithArgs is parse for commands that take positional arguments: flags may
// come before or after them (flag stops at the first non-flag).
func parseWithArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func trustImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("trust import", stderr)
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("trust import: one whitelist file is required (mssanted trust import --data DIR FILE.xml)")
	}
	if err := requireData(*data); err != nil {
		return err
	}
	file := pos[0]
	f, err := os.Open(file)
	if err != nil {
		return usagef("%v", err)
	}
	defer f.Close()
	// Parsed before the database is touched: a file that is not a whitelist
	// changes nothing (exit 2, ErrInvalid).
	wl, err := directory.ParseWhitelist(f)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	rep, err := in.dir.ImportTrust(ctx, wl, file)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	generated := wl.GeneratedAt
	if generated == "" {
		generated = "(no DateDeGeneration)"
	}
	fmt.Fprintf(stdout, "imported %d entries (%d domains, %d operators) from %s, generated %s; %d rejected",
		rep.Entries, rep.Domains, rep.Operators, file, generated, len(wl.Rejected))
	if len(wl.Rejected) > 0 {
		fmt.Fprint(stdout, ":")
	}
	fmt.Fprintln(stdout)
	for _, r := range wl.Rejected {
		d := r.Domain
		if d == "" {
			d = "(no domain)"
		}
		fmt.Fprintf(stdout, "  rejected <Domaine> #%d %s: %s\n", r.Index, d, r.Reason)
	}
	fmt.Fprintf(stdout, "  %d <Domaine> read, %d repeating a (domain, DN) pair collapsed\n", wl.Read, wl.Duplicates)
	if wl.Unterminated {
		fmt.Fprintf(stdout, "  the file does not close <%s> (as the published list does not): accepted, its last entry being complete\n", wl.Root)
	}
	fmt.Fprintf(stdout, "  previous list: %d entries; %d added, %d removed\n", rep.Previous, rep.Added, rep.Removed)
	return nil
}

func trustList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("trust list", stderr)
	domain := fs.String("domain", "", "only the entries of this domain")
	if err := parse(fs, args); err != nil {
		return err
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	meta, ok, err := in.dir.TrustMeta(ctx)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintf(stdout, "no trust list imported (mssanted trust import --data %s FILE.xml)\n", *data)
		return nil
	}
	es, err := in.dir.TrustList(ctx, *domain)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# %s, generated %s, imported %s: %d entries\n", meta.Source, meta.GeneratedAt,
		meta.ImportedAt.Format(time.RFC3339), meta.Entries)
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tOPERATOR DN\tUPDATED\tDESCRIPTION")
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Domain, e.OperatorDN, e.Updated,
			strings.Join(strings.Fields(e.Description), " ")) // a line break would break the table
	}
	return tw.Flush()
}
