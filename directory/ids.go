package directory

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ValidINS checks a 15-character INS (NIR): sex digit, year, month,
// department (2A/2B for Corsica), commune, order number, then the key, which
// is 97 minus the first 13 characters modulo 97 (2A counts as 19, 2B as 18).
func ValidINS(ins string) error {
	if len(ins) != 15 {
		return fmt.Errorf("INS must have 15 characters, got %d", len(ins))
	}
	want, err := INSKey(ins[:13])
	if err != nil {
		return err
	}
	if ins[13:] != want {
		return fmt.Errorf("INS key %q is wrong (expected %s)", ins[13:], want)
	}
	return nil
}

// INSKey computes the two-digit key of the first 13 characters of an INS.
func INSKey(body string) (string, error) {
	if len(body) != 13 {
		return "", fmt.Errorf("INS body must have 13 characters")
	}
	if body[0] < '1' || body[0] > '8' {
		return "", fmt.Errorf("INS must start with 1 to 8")
	}
	b := strings.ToUpper(body)
	switch b[5:7] {
	case "2A":
		b = b[:5] + "19" + b[7:]
	case "2B":
		b = b[:5] + "18" + b[7:]
	}
	if !allDigits(b) {
		return "", fmt.Errorf("INS must be digits (2A/2B allowed for Corsica)")
	}
	n, _ := strconv.ParseUint(b, 10, 64)
	return fmt.Sprintf("%02d", 97-n%97), nil
}

// ValidRPPS checks an 11-digit RPPS number, whose last digit is a Luhn key.
func ValidRPPS(rpps string) error {
	if len(rpps) != 11 || !allDigits(rpps) {
		return fmt.Errorf("RPPS must be 11 digits")
	}
	if !luhn(rpps) {
		return fmt.Errorf("RPPS %s fails its check digit", rpps)
	}
	return nil
}

// ValidADELI checks a 9-digit ADELI number.
func ValidADELI(adeli string) error {
	if len(adeli) != 9 || !allDigits(adeli) {
		return fmt.Errorf("ADELI must be 9 digits")
	}
	return nil
}

// ValidFINESS checks a 9-character FINESS number: department (2A/2B for
// Corsica) then digits, the last one a Luhn key.
func ValidFINESS(f string) error {
	if len(f) != 9 {
		return fmt.Errorf("FINESS must have 9 characters")
	}
	rest := f[2:]
	if dep := strings.ToUpper(f[:2]); dep != "2A" && dep != "2B" && !allDigits(dep) {
		return fmt.Errorf("FINESS must start with a department number")
	}
	if !allDigits(rest) {
		return fmt.Errorf("FINESS must be digits after the department")
	}
	return nil
}

// ValidPostalCode checks a French postal code: five digits.
func ValidPostalCode(pc string) error {
	if len(pc) != 5 || !allDigits(pc) {
		return fmt.Errorf("postal code must be 5 digits")
	}
	return nil
}

// ParseBirthDate parses YYYY-MM-DD and refuses dates in the future.
func ParseBirthDate(s string, now time.Time) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("birth date must be YYYY-MM-DD")
	}
	if d.After(now) {
		return time.Time{}, fmt.Errorf("birth date %s is in the future", s)
	}
	if d.Year() < 1890 {
		return time.Time{}, fmt.Errorf("birth date %s is too far in the past", s)
	}
	return d, nil
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// luhn reports whether the digit string passes the Luhn check.
func luhn(s string) bool {
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// LuhnKey returns the digit that completes s so that it passes Luhn.
func LuhnKey(s string) byte {
	for k := byte('0'); k <= '9'; k++ {
		if luhn(s + string(k)) {
			return k
		}
	}
	return '0'
}
