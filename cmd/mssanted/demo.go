package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"mssanted/directory"
)

// The demo instance: one professional domain, one patient domain, and the
// people of domain.md — a general practitioner, a midwife, a radiologist,
// patients with test INS numbers, two pharmacies reachable by patients (one
// with a pharmacist on its staff), and an administrator.
const (
	demoDomain        = "hopital.example"
	demoPatientDomain = "patient.example"
	demoAccountsFile  = "demo-accounts.txt"
)

func demoAccounts() []directory.NewAccount {
	rpps := func(p string) string { return p + string(directory.LuhnKey(p)) }
	ins := func(body string) string { k, _ := directory.INSKey(body); return body + k }
	date := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	patient := func(body, name, birth, sex string) directory.NewAccount {
		i := ins(body)
		return directory.NewAccount{Address: i + "@" + demoPatientDomain, Role: directory.Patient, DisplayName: name,
			Patient: &directory.PatientInfo{INS: i, BirthDate: date(birth), Sex: sex}}
	}
	return []directory.NewAccount{
		{Address: "dr.martin@" + demoDomain, Role: directory.Professional, DisplayName: "Dr Alice Martin",
			Professional: &directory.ProfessionalInfo{RPPS: rpps("1010000001"), Profession: "Médecin généraliste"}},
		{Address: "sf.bernard@" + demoDomain, Role: directory.Professional, DisplayName: "Claire Bernard",
			Professional: &directory.ProfessionalInfo{RPPS: rpps("1010000002"), Profession: "Sage-femme"}},
		{Address: "dr.petit@" + demoDomain, Role: directory.Professional, DisplayName: "Dr Paul Petit",
			Professional: &directory.ProfessionalInfo{RPPS: rpps("1010000003"), Profession: "Radiologue"}},
		patient("2850375123456", "Jeanne Durand", "1985-03-14", "F"),
		patient("1520169123045", "Louis Moreau", "1952-01-20", "M"),
		patient("2980775056078", "Léa Roux", "1998-07-02", "F"),
		{Address: "pharmacie.gare@" + demoDomain, Role: directory.Pharmacy, DisplayName: "Pharmacie de la Gare",
			Pharmacy: &directory.PharmacyInfo{FINESS: "030001230", PostalAddress: "12 AV de la Gare", PostalCode: "03000",
				Commune: "Moulins", ReachableByPatients: true}},
		{Address: "pharmacie.parmentier@" + demoDomain, Role: directory.Pharmacy, DisplayName: "Pharmacie Parmentier",
			Pharmacy: &directory.PharmacyInfo{FINESS: "750001237", PostalAddress: "38 AV Parmentier", PostalCode: "75011",
				Commune: "Paris 11e Arrondissement", ReachableByPatients: true}},
		{Address: "m.lefevre@" + demoDomain, Role: directory.Professional, DisplayName: "Marc Lefèvre",
			StaffOf:      "pharmacie.gare@" + demoDomain,
			Professional: &directory.ProfessionalInfo{RPPS: rpps("1010000004"), Profession: "Pharmacien"}},
		{Address: "admin@" + demoDomain, Role: directory.Admin, DisplayName: "Administrateur"},
	}
}

// demoPassword is random: a demo reachable on a network must not have a
// password everybody knows. The passwords are kept in DATA/demo-accounts.txt
// (0600) so that every start can print them.
func demoPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return fmt.Sprintf("%s-%s-%s-%s", b[:4], b[4:8], b[8:12], b[12:])
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("demo", stderr)
	lf := addListenFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *data == "" {
		*data = "demo-data"
	}
	empty, err := isEmptyDir(*data)
	if err != nil {
		return err
	}
	if empty {
		if err := seedDemo(ctx, *data, stdout); err != nil {
			return err
		}
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	lf.apply(&in.cfg)
	accounts, err := os.ReadFile(filepath.Join(*data, demoAccountsFile))
	if err != nil {
		return fmt.Errorf("demo: %w (is %s a demo data directory?)", err, *data)
	}
	return serve(ctx, in, stderr, func(bound map[string]string) {
		fmt.Fprintf(stdout, "\nmssanted demo is running (data in %s). Accounts:\n\n%s\n", *data, accounts)
		fmt.Fprintf(stdout, "Listeners:\n")
		names := make([]string, 0, len(bound))
		for n := range bound {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stdout, "  %-17s %s\n", n, bound[n])
		}
		fmt.Fprintf(stdout, "\nCA to trust: %s\nWeb app:     https://localhost:%s/\n\nStop with Ctrl-C.\n",
			filepath.Join(pkiDir(*data), "ca.pem"), portOf(bound["https"]))
	})
}

func portOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

func isEmptyDir(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	return len(entries) == 0, err
}

func seedDemo(ctx context.Context, dataDir string, stdout io.Writer) error {
	cfg := DefaultConfig(demoDomain, demoPatientDomain)
	cfg.Instance.Organisation = "Démo mssanted"
	if err := initialize(ctx, dataDir, cfg, stdout); err != nil {
		return err
	}
	in, err := openInstance(ctx, dataDir)
	if err != nil {
		return err
	}
	defer in.Close()
	var list strings.Builder
	for _, n := range demoAccounts() {
		n.Password = demoPassword()
		a, err := in.dir.Create(ctx, n)
		if err != nil {
			return fmt.Errorf("demo: %s: %w", n.Address, err)
		}
		fmt.Fprintf(&list, "  %-13s %-45s %-24s password %s\n", a.Role, a.Address, a.DisplayName, n.Password)
	}
	return os.WriteFile(filepath.Join(dataDir, demoAccountsFile), []byte(list.String()), 0o600)
}
