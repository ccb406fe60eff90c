// Command gen writes the gazetteer's data file, communes.tsv.gz, from the
// npm package @etalab/decoupage-administratif (data: Licence Ouverte /
// Etalab 2.0, https://www.etalab.gouv.fr/licence-ouverte-open-licence; the
// package's code is MIT). It reads data/regions.json, data/departements.json
// and data/communes.json of the package.
//
//	go generate ./directory/gazetteer          # npm pack @etalab/decoupage-administratif@6.0.0
//	go run ./directory/gazetteer/gen -src DIR  # an unpacked package, or its .tgz
//
// The output is deterministic (sorted lines, no gzip timestamp): running it
// again on the same package version gives the same bytes.
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

const pkg = "@etalab/decoupage-administratif"

type region struct {
	Code string `json:"code"`
	Name string `json:"nom"`
}

type department struct {
	Code   string `json:"code"`
	Region string `json:"region"`
	Name   string `json:"nom"`
}

type commune struct {
	Code        string   `json:"code"`
	Name        string   `json:"nom"`
	Type        string   `json:"type"`
	Department  string   `json:"departement"`
	Commune     string   `json:"commune"`  // arrondissement-municipal: its commune
	ChefLieu    string   `json:"chefLieu"` // commune-deleguee/associee: the current commune
	PostalCodes []string `json:"codesPostaux"`
	Population  int      `json:"population"`
}

func main() {
	src := flag.String("src", "", "unpacked package directory or its .tgz (default: npm pack "+pkg+"@VERSION)")
	version := flag.String("version", "6.0.0", "package version to fetch with npm pack (and to check against package.json)")
	out := flag.String("out", "communes.tsv.gz", "output file")
	flag.Parse()
	if err := run(*src, *version, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gazetteer gen:", err)
		os.Exit(1)
	}
}

func run(src, version, out string) error {
	if src == "" {
		tmp, err := os.MkdirTemp("", "gazetteer-gen-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		cmd := exec.Command("npm", "pack", "--silent", pkg+"@"+version)
		cmd.Dir, cmd.Stderr = tmp, os.Stderr
		name, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("npm pack %s@%s: %w", pkg, version, err)
		}
		src = filepath.Join(tmp, strings.TrimSpace(string(name)))
	}
	files, err := readPackage(src)
	if err != nil {
		return err
	}
	var meta struct{ Name, Version string }
	if err := json.Unmarshal(files["package.json"], &meta); err != nil {
		return fmt.Errorf("package.json: %w", err)
	}
	if meta.Name != pkg || version != "" && meta.Version != version {
		return fmt.Errorf("%s is %s@%s, want %s@%s", src, meta.Name, meta.Version, pkg, version)
	}
	var regions []region
	var depts []department
	var communes []commune
	for name, v := range map[string]any{"data/regions.json": &regions, "data/departements.json": &depts, "data/communes.json": &communes} {
		if err := json.Unmarshal(files[name], v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	data, err := build(meta.Version, regions, depts, communes)
	if err != nil {
		return err
	}
	return os.WriteFile(out, data, 0o644)
}

// readPackage returns the files of the package that matter, from a
// directory or an npm tarball (whose entries are under package/).
func readPackage(src string) (map[string][]byte, error) {
	want := []string{"package.json", "data/regions.json", "data/departements.json", "data/communes.json"}
	out := map[string][]byte{}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		for _, w := range want {
			b, err := os.ReadFile(filepath.Join(src, w))
			if err != nil {
				return nil, err
			}
			out[w] = b
		}
		return out, nil
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(h.Name, "package/")
		for _, w := range want {
			if name == w {
				if out[w], err = io.ReadAll(tr); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, w := range want {
		if out[w] == nil {
			return nil, fmt.Errorf("%s: no %s in the package", src, w)
		}
	}
	return out, nil
}

func clean(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\t", " ")), " ")
}

// build renders the data file. Lines, tab-separated, sorted by kind then code:
//
//	R code name                                  region
//	D code region name                           department
//	C code department name postal-codes population   commune (postal codes space-separated,
//	                                                 population to two significant digits)
//	M code commune name postal-codes population      arrondissement municipal of a commune
//	A code current-commune name                  former commune (déléguée, associée) → the current one
func build(version string, regions []region, depts []department, communes []commune) ([]byte, error) {
	var lines []string
	for _, r := range regions {
		lines = append(lines, strings.Join([]string{"R", r.Code, clean(r.Name)}, "\t"))
	}
	for _, d := range depts {
		lines = append(lines, strings.Join([]string{"D", d.Code, d.Region, clean(d.Name)}, "\t"))
	}
	current := map[string]commune{}
	for _, c := range communes {
		if c.Type == "commune-actuelle" {
			current[c.Code] = c
		}
	}
	for _, c := range communes {
		pcs := strings.Join(c.PostalCodes, " ")
		switch c.Type {
		case "commune-actuelle":
			lines = append(lines, strings.Join([]string{"C", c.Code, c.Department, clean(c.Name), pcs, round2(c.Population)}, "\t"))
		case "arrondissement-municipal":
			if _, ok := current[c.Commune]; !ok {
				return nil, fmt.Errorf("arrondissement %s: no commune %s", c.Code, c.Commune)
			}
			lines = append(lines, strings.Join([]string{"M", c.Code, c.Commune, clean(c.Name), pcs, round2(c.Population)}, "\t"))
		case "commune-deleguee", "commune-associee":
			cur, ok := current[c.ChefLieu]
			if !ok || strings.EqualFold(cur.Name, c.Name) {
				continue // unknown chef-lieu, or the same name as the current commune
			}
			lines = append(lines, strings.Join([]string{"A", c.Code, c.ChefLieu, clean(c.Name)}, "\t"))
		}
	}
	order := map[byte]int{'R': 0, 'D': 1, 'C': 2, 'M': 3, 'A': 4}
	sort.SliceStable(lines, func(i, j int) bool {
		if oi, oj := order[lines[i][0]], order[lines[j][0]]; oi != oj {
			return oi < oj
		}
		return lines[i] < lines[j]
	})
	lines = dedupe(lines)
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(zw)
	fmt.Fprintf(w, "# French communes, departments and regions, from %s@%s (INSEE COG, La Poste postal codes).\n", pkg, version)
	fmt.Fprintf(w, "# Data licence: Licence Ouverte / Etalab 2.0. Generated by directory/gazetteer/gen: do not edit.\n")
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// round2 keeps two significant digits of a population: it only orders
// communes, and the exact figures would double the file's size.
func round2(n int) string {
	s := fmt.Sprint(n)
	if len(s) <= 2 {
		return s
	}
	return s[:2] + strings.Repeat("0", len(s)-2)
}

func dedupe(lines []string) []string {
	out := lines[:0]
	for i, l := range lines {
		if i == 0 || l != lines[i-1] {
			out = append(out, l)
		}
	}
	return out
}
