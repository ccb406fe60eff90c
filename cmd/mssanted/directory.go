package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"mssanted/directory"
)

// cmdDirectory imports the national directory extract and searches the
// directory (pharmacies, professionals) from the command line.
func cmdDirectory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("directory: import, search or sources")
	}
	switch args[0] {
	case "import":
		return directoryImport(ctx, args[1:], stdout, stderr)
	case "search":
		return directorySearch(ctx, args[1:], stdout, stderr)
	case "sources":
		return directorySources(ctx, args[1:], stdout, stderr)
	}
	return usagef("directory: unknown subcommand %q", args[0])
}

func directoryImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("directory import", stderr)
	source := fs.String("source", directory.DefaultExtractSource, "name of the directory the file is an extract of; a re-import replaces it")
	quiet := fs.Bool("quiet", false, "no progress on standard error")
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("directory import: one extract file is required (mssanted directory import --data DIR Extraction_Correspondance_MSSante_AAAAMMJJhhmm.txt)")
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
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	opt := directory.ExtractImport{Source: *source, File: file}
	if !*quiet {
		opt.Progress = func(n int) { fmt.Fprintf(stderr, "  %d lines read\n", n) }
	}
	rep, err := in.dir.ImportExtract(ctx, f, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	extracted := ""
	if rep.ExtractedAt != "" {
		extracted = ", extracted " + rep.ExtractedAt
	}
	fmt.Fprintf(stdout, "imported %d entries from %s into source %q%s in %s\n", rep.Entries, rep.File, rep.Source,
		extracted, rep.Duration.Round(10*time.Millisecond))
	fmt.Fprintf(stdout, "  %d pharmacies (Pharmacie d'officine), %d professionals, %d organisations, %d applications\n",
		rep.Kinds[directory.KindPharmacy], rep.Kinds[directory.KindProfessional], rep.Kinds[directory.KindOrganisation],
		rep.Kinds[directory.KindApplication])
	fmt.Fprintf(stdout, "  %d lines read, %d rejected (%d repeating an address)", rep.Lines, rep.Rejected, rep.Duplicates)
	if rep.Rejected > 0 {
		fmt.Fprint(stdout, ":")
	}
	fmt.Fprintln(stdout)
	for _, r := range rep.RejectedLines {
		fmt.Fprintf(stdout, "  rejected line %d: %s\n", r.Line, r.Reason)
	}
	if more := rep.Rejected - len(rep.RejectedLines); more > 0 {
		fmt.Fprintf(stdout, "  … and %d more rejected lines\n", more)
	}
	fmt.Fprintf(stdout, "  previous import of %q: %d entries, replaced; %d distinct words indexed\n", rep.Source, rep.Previous, rep.Words)
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }
	fmt.Fprintf(stdout, "  time: %s entries, %s vocabulary, %s indexes, %s swap, %s dropping the previous tables\n",
		r(rep.WriteTime), r(rep.VocabTime), r(rep.IndexTime), r(rep.SwapTime), r(rep.CleanupTime))
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		fmt.Fprintf(stdout, "  peak memory (max RSS): %d MiB\n", ru.Maxrss/1024)
	}
	return nil
}

func directorySearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("directory search", stderr)
	name := fs.String("name", "", "name (pharmacy, or professional with --professionals)")
	place := fs.String("place", "", "commune, postal code or department: Moulins, 03000, 03, Allier, \"Paris - 75\"")
	pros := fs.Bool("professionals", false, "search professionals instead of pharmacies")
	profession := fs.String("profession", "", "with --professionals: profession or speciality")
	rpps := fs.String("rpps", "", "with --professionals: RPPS number")
	page := fs.Int("page", 1, "page, from 1")
	size := fs.Int("page-size", directory.DefaultPageSize, fmt.Sprintf("results per page, at most %d", directory.MaxPageSize))
	asJSON := fs.Bool("json", false, "print the page as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !*pros && (*profession != "" || *rpps != "") {
		return usagef("--profession and --rpps go with --professionals")
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	if *pros {
		p, err := in.dir.SearchProfessionals(ctx, directory.ProfessionalQuery{Actor: directory.Admin, Name: *name,
			Profession: *profession, RPPS: *rpps, Place: *place, Page: *page, PageSize: *size})
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, p)
		}
		header(stdout, p.Total, p.Page, p.PageSize, len(p.Results), p.Place, p.Truncated)
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tPROFESSION\tRPPS\tADDRESS\tMAILBOX")
		for _, r := range p.Results {
			prof := strings.TrimSuffix(r.Profession+", "+r.Speciality, ", ")
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, prof, r.RPPS, r.Address, r.Mailbox)
		}
		return tw.Flush()
	}
	p, err := in.dir.SearchPharmacies(ctx, directory.PharmacyQuery{Name: *name, Place: *place, Page: *page, PageSize: *size})
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, p)
	}
	header(stdout, p.Total, p.Page, p.PageSize, len(p.Results), p.Place, p.Truncated)
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tADDRESS\tMAILBOX")
	for _, r := range p.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Kind, r.Address, r.Mailbox)
	}
	return tw.Flush()
}

func header(w io.Writer, total, page, size, n int, place string, truncated bool) {
	first, last := (page-1)*size+1, (page-1)*size+n
	if n == 0 {
		first = 0
	}
	fmt.Fprintf(w, "# %d found", total)
	if truncated {
		fmt.Fprint(w, " (at least: the name matches too many, refine the search)")
	}
	if place != "" {
		fmt.Fprintf(w, " in %s", place)
	}
	fmt.Fprintf(w, "; page %d, results %d-%d\n", page, first, last)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func directorySources(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("directory sources", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	srcs, err := in.dir.ExtractSources(ctx)
	if err != nil {
		return err
	}
	if len(srcs) == 0 {
		fmt.Fprintf(stdout, "no directory extract imported (mssanted directory import --data %s FILE)\n", *data)
		return nil
	}
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].Name < srcs[j].Name })
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tFILE\tEXTRACTED\tIMPORTED\tENTRIES\tPHARMACIES\tREJECTED")
	for _, s := range srcs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\n", s.Name, s.File, s.ExtractedAt, s.ImportedAt.Format(time.RFC3339),
			s.Entries, s.Pharmacies, s.Rejected)
	}
	return tw.Flush()
}
