package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"mssanted/directory"
)

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("user: add, list, passwd, disable, enable or app-password")
	}
	switch args[0] {
	case "add":
		return userAdd(ctx, args[1:], stdin, stdout, stderr)
	case "list":
		return userList(ctx, args[1:], stdout, stderr)
	case "passwd":
		return userPasswd(ctx, args[1:], stdin, stdout, stderr)
	case "disable", "enable":
		return userDisable(ctx, args[0], args[1:], stdout, stderr)
	case "app-password":
		return userAppPassword(ctx, args[1:], stdout, stderr)
	}
	return usagef("user: unknown subcommand %q", args[0])
}

// readPassword takes the first line of stdin, without its line ending.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usagef("no password on standard input")
	}
	return pw, nil
}

func userAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("user add", stderr)
	role := fs.String("role", "", "professional, patient, pharmacy or admin")
	address := fs.String("address", "", "mail address")
	name := fs.String("name", "", "display name")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	mtype := fs.String("mailbox-type", "", "PER, ORG or APP (default: ORG for pharmacies, PER otherwise)")
	staffOf := fs.String("staff-of", "", "address of an ORG mailbox this account may open")
	ins := fs.String("ins", "", "patient: INS (15 characters)")
	birth := fs.String("birth-date", "", "patient: birth date YYYY-MM-DD")
	sex := fs.String("sex", "", "patient: F or M")
	rpps := fs.String("rpps", "", "professional: RPPS number (11 digits)")
	adeli := fs.String("adeli", "", "professional: ADELI number (9 digits)")
	profession := fs.String("profession", "", "professional: profession")
	finess := fs.String("finess", "", "pharmacy: FINESS number")
	paddr := fs.String("postal-address", "", "pharmacy: street address")
	pcode := fs.String("postal-code", "", "pharmacy: postal code")
	commune := fs.String("commune", "", "pharmacy: commune")
	reachable := fs.Bool("reachable-by-patients", false, "pharmacy: patients may write first")
	notifyEmail := fs.String("notify-email", "", "personal address told (never shown what) when something new arrives")
	if err := parse(fs, args); err != nil {
		return err
	}
	r, err := directory.ParseRole(*role)
	if err != nil {
		return usageError{err}
	}
	if !*pwStdin {
		return usagef("--password-stdin is required (passwords never go on the command line)")
	}
	n := directory.NewAccount{Address: *address, Role: r, DisplayName: *name,
		MailboxType: directory.MailboxType(strings.ToUpper(*mtype)), StaffOf: *staffOf, NotifyEmail: *notifyEmail}
	given := func(names ...string) []string {
		var out []string
		fs.Visit(func(f *flag.Flag) {
			for _, n := range names {
				if f.Name == n {
					out = append(out, "--"+n)
				}
			}
		})
		return out
	}
	roleFlags := map[directory.Role][]string{
		directory.Patient:      {"ins", "birth-date", "sex"},
		directory.Professional: {"rpps", "adeli", "profession"},
		directory.Pharmacy:     {"finess", "postal-address", "postal-code", "commune", "reachable-by-patients"},
	}
	for other, names := range roleFlags {
		if other != r {
			if g := given(names...); len(g) > 0 {
				return usagef("%s: not for a %s account", strings.Join(g, ", "), r)
			}
		}
	}
	switch r {
	case directory.Patient:
		bd, err := directory.ParseBirthDate(*birth, time.Now())
		if err != nil {
			return usageError{err}
		}
		n.Patient = &directory.PatientInfo{INS: *ins, BirthDate: bd, Sex: strings.ToUpper(*sex)}
	case directory.Professional:
		n.Professional = &directory.ProfessionalInfo{RPPS: *rpps, ADELI: *adeli, Profession: *profession}
	case directory.Pharmacy:
		n.Pharmacy = &directory.PharmacyInfo{FINESS: *finess, PostalAddress: *paddr, PostalCode: *pcode,
			Commune: *commune, ReachableByPatients: *reachable}
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	if n.Password, err = readPassword(stdin); err != nil {
		return err
	}
	a, err := in.dir.Create(ctx, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s (%s, %s mailbox, id %d) with its S/MIME certificate\n", a.Address, a.Role, a.MailboxType, a.ID)
	return nil
}

func userList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("user list", stderr)
	role := fs.String("role", "", "only this role")
	if err := parse(fs, args); err != nil {
		return err
	}
	var r directory.Role
	if *role != "" {
		var err error
		if r, err = directory.ParseRole(*role); err != nil {
			return usageError{err}
		}
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	accts, err := in.dir.List(ctx, r)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tROLE\tTYPE\tNAME\tDETAILS\tSTATE")
	for _, a := range accts {
		state := "active"
		if a.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Address, a.Role, a.MailboxType, a.DisplayName, details(a), state)
	}
	return tw.Flush()
}

func details(a directory.Account) string {
	switch {
	case a.Professional != nil:
		id := "RPPS " + a.Professional.RPPS
		if a.Professional.RPPS == "" {
			id = "ADELI " + a.Professional.ADELI
		}
		return a.Professional.Profession + ", " + id
	case a.Patient != nil:
		return fmt.Sprintf("INS %s, born %s, %s", a.Patient.INS, a.Patient.BirthDate.Format(time.DateOnly), a.Patient.Sex)
	case a.Pharmacy != nil:
		reach := ""
		if a.Pharmacy.ReachableByPatients {
			reach = ", reachable by patients"
		}
		return fmt.Sprintf("FINESS %s, %s, %s %s%s", a.Pharmacy.FINESS, a.Pharmacy.PostalAddress, a.Pharmacy.PostalCode, a.Pharmacy.Commune, reach)
	}
	return "-"
}

func userPasswd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("user passwd", stderr)
	address := fs.String("address", "", "account address")
	pwStdin := fs.Bool("password-stdin", false, "read the new password from standard input")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !*pwStdin || *address == "" {
		return usagef("--address and --password-stdin are required")
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	pw, err := readPassword(stdin)
	if err != nil {
		return err
	}
	if err := in.dir.SetPassword(ctx, *address, pw); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "password of %s changed\n", *address)
	return nil
}

func userDisable(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("user "+verb, stderr)
	address := fs.String("address", "", "account address")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *address == "" {
		return usagef("--address is required")
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := in.dir.SetDisabled(ctx, *address, verb == "disable"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %sd\n", *address, verb)
	return nil
}

func userAppPassword(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("user app-password", stderr)
	address := fs.String("address", "", "account address")
	label := fs.String("label", "", "what it is for, e.g. Thunderbird on the surgery PC")
	if err := parse(fs, args); err != nil {
		return err
	}
	in, err := openInstance(ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	secret, err := in.dir.AddAppPassword(ctx, *address, *label)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "app password for %s (%s), shown once:\n%s\n", *address, *label, secret)
	return nil
}
