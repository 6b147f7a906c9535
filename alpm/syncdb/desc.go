package syncdb

// Parsing of the per-package files of a sync database: desc, depends and
// files (alpm-repo-desc(5) v1 and v2, alpm-repo-files(5)).
//
// The layout is simple: a "%KEY%" header line, its values one per line, and
// a blank line (or, per the spec, the next header) that ends the section. libalpm reads it loosely: a scalar
// takes exactly the next line, a list takes every line up to the next blank
// one, and anything it does not know it skips. We read the same layout but
// are stricter where looseness would hide a broken file:
//
//   - a line outside any section that is not a "%KEY%" header is an error
//     (libalpm would silently treat it as an unknown key);
//   - a scalar section with more than one value, or a scalar that appears
//     twice in one file, is an error;
//   - %CSIZE%, %ISIZE% and %BUILDDATE% must be non-negative decimal numbers;
//   - %NAME% must be a valid package name and %VERSION% a full version
//     (pkgver-pkgrel).
//
// Like libalpm, lines are split on '\n' only: a CRLF file does not parse,
// because pacman does not read it either.
//
// Speed matters here (a full x86_64 database has 14,000+ entries), so the
// parser makes one string of the whole file and hands out substrings of it
// for every value, and puts all list values of a file into one backing
// array. A parsed Package therefore keeps its desc text alive, which costs
// nothing extra: the values are most of that text.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/portmake/portmake/alpm"
)

// ParseDesc merges the %KEY% sections of one desc, depends or files file
// into p, as libalpm does when it loads an entry: scalar fields are set,
// list fields are appended to, and sections it does not know are appended to
// p.Extra in file order. It does not default p.Base or check that p has a
// name and version; Read does that once all files of an entry are merged.
// Errors name the line.
func ParseDesc(data []byte, p *alpm.Package) error {
	var ps descParser
	return ps.parse(string(data), p)
}

// descParser holds scratch space reused from one file to the next.
type descParser struct {
	lines []string
}

// Scalar sections, as bits, to refuse a scalar given twice in one file.
const (
	secFilename = 1 << iota
	secName
	secBase
	secVersion
	secDesc
	secCSize
	secISize
	secMD5
	secSHA256
	secPGPSig
	secURL
	secArch
	secBuildDate
	secPackager
)

func (ps *descParser) parse(s string, p *alpm.Package) error {
	// Split into lines first: it tells how many values the file holds, so
	// that every list of this file can share one allocation.
	lines := ps.lines[:0]
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i])
		s = s[i+1:]
	}
	ps.lines = lines

	nvalues := 0
	for _, l := range lines {
		if l != "" {
			nvalues++
		}
	}
	arena := make([]string, 0, nvalues)

	var seen uint32
	for i := 0; i < len(lines); {
		header := lines[i]
		if header == "" {
			i++
			continue
		}
		lineno := i + 1
		if !isHeader(header) {
			return fmt.Errorf("line %d: %q is outside any section (want a %%KEY%% header)", lineno, clip(header))
		}
		i++
		start := len(arena)
		if isScalar(header) && i < len(lines) && lines[i] != "" {
			// libalpm takes the line after a scalar header as its value
			// whatever it looks like, even "%FOO%".
			arena = append(arena, lines[i])
			i++
		}
		// A section ends at a blank line or, as the spec allows, at the
		// next header.
		for i < len(lines) && lines[i] != "" && !isHeader(lines[i]) {
			arena = append(arena, lines[i])
			i++
		}
		// A full slice expression, so that appending to one list can never
		// overwrite the next list in the shared arena.
		vals := arena[start:len(arena):len(arena)]
		if err := ps.section(header, vals, p, &seen); err != nil {
			return fmt.Errorf("line %d: %s", lineno, err)
		}
	}
	return nil
}

// isHeader reports whether l is a section header: %KEY% with KEY made of
// upper-case letters, digits and '_'.
func isHeader(l string) bool {
	if len(l) < 3 || l[0] != '%' || l[len(l)-1] != '%' {
		return false
	}
	for i := 1; i < len(l)-1; i++ {
		c := l[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// isScalar reports whether header is a section with a single value.
func isScalar(header string) bool {
	switch header {
	case "%FILENAME%", "%NAME%", "%BASE%", "%VERSION%", "%DESC%", "%CSIZE%", "%ISIZE%",
		"%MD5SUM%", "%SHA256SUM%", "%PGPSIG%", "%URL%", "%ARCH%", "%BUILDDATE%", "%PACKAGER%":
		return true
	}
	return false
}

func (ps *descParser) section(header string, vals []string, p *alpm.Package, seen *uint32) error {
	switch header {
	case "%FILENAME%":
		return scalar(header, vals, secFilename, seen, &p.Filename)
	case "%NAME%":
		if err := scalar(header, vals, secName, seen, &p.Name); err != nil {
			return err
		}
		if err := alpm.CheckName(p.Name); err != nil {
			return fmt.Errorf("%s: %w", header, err)
		}
	case "%BASE%":
		if err := scalar(header, vals, secBase, seen, &p.Base); err != nil {
			return err
		}
		if p.Base != "" && !alpm.ValidName(p.Base) {
			return fmt.Errorf("%s: invalid package base %q", header, clip(p.Base))
		}
	case "%VERSION%":
		if err := scalar(header, vals, secVersion, seen, &p.Version); err != nil {
			return err
		}
		return checkVersion(p.Version)
	case "%DESC%":
		return scalar(header, vals, secDesc, seen, &p.Desc)
	case "%CSIZE%":
		return number(header, vals, secCSize, seen, &p.CSize)
	case "%ISIZE%":
		return number(header, vals, secISize, seen, &p.ISize)
	case "%MD5SUM%":
		return scalar(header, vals, secMD5, seen, &p.MD5Sum)
	case "%SHA256SUM%":
		return scalar(header, vals, secSHA256, seen, &p.SHA256Sum)
	case "%PGPSIG%":
		return scalar(header, vals, secPGPSig, seen, &p.PGPSig)
	case "%URL%":
		return scalar(header, vals, secURL, seen, &p.URL)
	case "%ARCH%":
		return scalar(header, vals, secArch, seen, &p.Arch)
	case "%BUILDDATE%":
		return number(header, vals, secBuildDate, seen, &p.BuildDate)
	case "%PACKAGER%":
		return scalar(header, vals, secPackager, seen, &p.Packager)
	case "%GROUPS%":
		p.Groups = merge(p.Groups, vals)
	case "%LICENSE%":
		p.License = merge(p.License, vals)
	case "%REPLACES%":
		p.Replaces = merge(p.Replaces, vals)
	case "%CONFLICTS%":
		p.Conflicts = merge(p.Conflicts, vals)
	case "%PROVIDES%":
		p.Provides = merge(p.Provides, vals)
	case "%DEPENDS%":
		p.Depends = merge(p.Depends, vals)
	case "%OPTDEPENDS%":
		p.OptDepends = merge(p.OptDepends, vals)
	case "%MAKEDEPENDS%":
		p.MakeDepends = merge(p.MakeDepends, vals)
	case "%CHECKDEPENDS%":
		p.CheckDepends = merge(p.CheckDepends, vals)
	case "%DATA%":
		p.Data = merge(p.Data, vals)
	case "%FILES%":
		// A package without files still has a (empty) list once a files
		// file was read: nil means "not read".
		p.Files = merge(p.Files, vals)
		if p.Files == nil {
			p.Files = []string{}
		}
	default:
		p.Extra = append(p.Extra, alpm.Field{Key: header[1 : len(header)-1], Values: vals})
	}
	return nil
}

// merge appends vals to list without copying when list is still empty.
func merge(list, vals []string) []string {
	if len(list) == 0 {
		if len(vals) == 0 {
			return list
		}
		return vals
	}
	return append(list, vals...)
}

// scalar stores the single value of a scalar section. An empty section
// stores "" (libalpm reads the blank line as the value); two values, or the
// section twice in one file, is an error.
func scalar(header string, vals []string, bit uint32, seen *uint32, dst *string) error {
	if *seen&bit != 0 {
		return fmt.Errorf("%s given twice", header)
	}
	*seen |= bit
	switch len(vals) {
	case 0:
		*dst = ""
	case 1:
		*dst = vals[0]
	default:
		return fmt.Errorf("%s has %d values, want 1 (%q, %q, ...)", header, len(vals), clip(vals[0]), clip(vals[1]))
	}
	return nil
}

func number(header string, vals []string, bit uint32, seen *uint32, dst *int64) error {
	var s string
	if err := scalar(header, vals, bit, seen, &s); err != nil {
		return err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || s[0] == '+' {
		return fmt.Errorf("%s: %q is not a non-negative decimal number", header, clip(s))
	}
	*dst = n
	return nil
}

// checkVersion accepts a full version, [epoch:]pkgver-pkgrel, made of
// printable ASCII without spaces or '/': enough to keep a version safe in
// "name-version" directory names and output, without second-guessing
// pacman's lenient ordering of odd pkgvers.
func checkVersion(v string) error {
	if v == "" {
		return fmt.Errorf("%%VERSION%% is empty")
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f || c == '/' {
			return fmt.Errorf("%%VERSION%% %q: character %q is not allowed", clip(v), c)
		}
	}
	pv := alpm.ParseVersion(v)
	if !pv.HasRel || pv.Pkgver == "" || pv.Pkgrel == "" {
		return fmt.Errorf("%%VERSION%% %q is not a full version (want pkgver-pkgrel)", clip(v))
	}
	return nil
}

// clip shortens s for an error message, so that a binary file fed to the
// parser does not flood the terminal.
func clip(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
