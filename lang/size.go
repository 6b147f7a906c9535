package lang

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// sizeRE is a size as build.memory takes it: a decimal number and a unit.
var sizeRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?) ?([A-Za-z]*)$`)

// sizeUnits are the binary units ParseSize accepts, lower-cased. K, M, G
// and T mean the same as KiB..TiB, as in Slurm's --mem and GNU tools.
var sizeUnits = map[string]int64{
	"b": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tib": 1 << 40,
}

// maxSize bounds a size: a petabyte of memory is a typo.
const maxSize = 1 << 50

// ParseSize reads a memory size such as "24GiB", "512MiB", "1.5G" or
// "64M": a decimal number and a binary unit (B, KiB, MiB, GiB, TiB, or K,
// M, G, T for the same). Decimal units (GB) are refused as ambiguous, and a
// bare number as unitless. The result is in bytes, rounded down, and at
// least one.
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, errors.New("that is not a number followed by a unit")
	}
	unit := strings.ToLower(m[2])
	switch {
	case unit == "":
		return 0, fmt.Errorf("it has no unit; write %siB, %sGiB or another binary unit", m[1]+"M", m[1])
	case unit == "kb" || unit == "mb" || unit == "gb" || unit == "tb":
		return 0, fmt.Errorf("%s is ambiguous (powers of 1000 or of 1024); write %s%ciB", m[2], m[1], strings.ToUpper(unit)[0])
	}
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%q is not a unit; use B, KiB, MiB, GiB or TiB", m[2])
	}
	f, _, err := big.ParseFloat(m[1], 10, 128, big.ToZero)
	if err != nil {
		return 0, err
	}
	f.Mul(f, new(big.Float).SetInt64(mult))
	if f.Cmp(new(big.Float).SetInt64(maxSize)) > 0 {
		return 0, fmt.Errorf("that is more than a PiB")
	}
	n, _ := f.Int64()
	if n < 1 {
		return 0, errors.New("that is less than one byte")
	}
	return n, nil
}
