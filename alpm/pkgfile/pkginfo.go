package pkgfile

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/portmake/portmake/alpm"
)

// How repo-add reads .PKGINFO, and why ParsePKGINFO copies it.
//
// A database entry must be byte-identical to the one repo-add (pacman 6.0.2)
// writes for the same package file, so the values must be split and cleaned
// exactly as repo-add's bash does:
//
//	while read -r line; do
//		[[ ${line:0:1} = '#' ]] && continue
//		IFS=' =' read -r var val < <(printf '%s\n' "$line")
//		declare "$var=${val//+([[:space:]])/ }"
//
// The outer read trims spaces and tabs at both ends of the line. The inner
// read splits at the first delimiter made of spaces and at most one '=',
// then gives the rest to val, minus trailing spaces, and minus a trailing
// single delimiter when the rest is exactly one field ("a = b=" gives "b").
// Finally every run of whitespace in the value becomes one space. A key seen
// twice keeps its last value; list keys (depend, license, ...) append.
// bashRead below is a port of bash 5's read builtin for exactly this IFS,
// checked against bash itself in the tests.
//
// Deliberate differences from repo-add, all for inputs makepkg never writes:
// empty values of list keys are dropped (repo-add writes them as blank
// lines, which end the field early for pacman), a last line without a
// newline is read (bash's read drops it), and size and builddate are
// required canonical integers (the spec requires them; repo-add copies
// whatever text is there).

// ParsePKGINFO parses a .PKGINFO file (PKGINFO(5), versions 1 and 2) into a
// Package. pkgname and pkgver are required and checked (a valid name, and a
// version that is safe in a path). Base is empty when there is no pkgbase,
// so that FormatDesc leaves %BASE% out as repo-add does. xdata values
// go to Data, and backup and unknown keys to Extra in file order, so nothing
// is lost. The returned Package has no FILENAME, CSIZE or checksums: Read
// adds those from the file.
func ParsePKGINFO(data []byte) (*alpm.Package, error) {
	p := &alpm.Package{}
	var haveSize, haveDate bool
	lineno := 0
	for len(data) > 0 {
		lineno++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		s := strings.Trim(string(line), " \t")
		if s == "" || s[0] == '#' {
			continue
		}
		key, val := bashRead(s)
		val = squeezeSpace(val)
		switch key {
		case "":
			return nil, fmt.Errorf(".PKGINFO line %d: %q has no key", lineno, s)
		case "pkgname":
			p.Name = val
		case "pkgbase":
			p.Base = val
		case "pkgver":
			p.Version = val
		case "pkgdesc":
			p.Desc = val
		case "url":
			p.URL = val
		case "arch":
			p.Arch = val
		case "packager":
			p.Packager = val
		case "size", "builddate":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 || strconv.FormatInt(n, 10) != val {
				return nil, fmt.Errorf(".PKGINFO line %d: %s = %q: want a non-negative integer without leading zeros", lineno, key, val)
			}
			if key == "size" {
				p.ISize, haveSize = n, true
			} else {
				p.BuildDate, haveDate = n, true
			}
		case "group":
			p.Groups = appendNonEmpty(p.Groups, val)
		case "license":
			p.License = appendNonEmpty(p.License, val)
		case "replaces":
			p.Replaces = appendNonEmpty(p.Replaces, val)
		case "depend":
			p.Depends = appendNonEmpty(p.Depends, val)
		case "conflict":
			p.Conflicts = appendNonEmpty(p.Conflicts, val)
		case "provides":
			p.Provides = appendNonEmpty(p.Provides, val)
		case "optdepend":
			p.OptDepends = appendNonEmpty(p.OptDepends, val)
		case "makedepend":
			p.MakeDepends = appendNonEmpty(p.MakeDepends, val)
		case "checkdepend":
			p.CheckDepends = appendNonEmpty(p.CheckDepends, val)
		case "xdata":
			p.Data = appendNonEmpty(p.Data, val)
		default:
			// backup and keys from future PKGINFO versions.
			if n := len(p.Extra); n > 0 && p.Extra[n-1].Key == key {
				p.Extra[n-1].Values = append(p.Extra[n-1].Values, val)
			} else {
				p.Extra = append(p.Extra, alpm.Field{Key: key, Values: []string{val}})
			}
		}
	}
	switch {
	case p.Name == "":
		return nil, fmt.Errorf(".PKGINFO: no pkgname")
	case p.Version == "":
		return nil, fmt.Errorf(".PKGINFO: no pkgver")
	case !haveSize:
		return nil, fmt.Errorf(".PKGINFO: no size")
	case !haveDate:
		return nil, fmt.Errorf(".PKGINFO: no builddate")
	}
	if err := alpm.CheckName(p.Name); err != nil {
		return nil, fmt.Errorf(".PKGINFO: pkgname: %w", err)
	}
	if err := CheckVersion(p.Version); err != nil {
		return nil, fmt.Errorf(".PKGINFO: pkgver: %w", err)
	}
	// Base stays empty without a pkgbase line (makepkg always writes one):
	// repo-add then writes no %BASE%, and readers default it to the name.
	if p.Base != "" {
		if err := alpm.CheckName(p.Base); err != nil {
			return nil, fmt.Errorf(".PKGINFO: pkgbase: %w", err)
		}
	}
	return p, nil
}

func appendNonEmpty(list []string, v string) []string {
	if v == "" {
		return list
	}
	return append(list, v)
}

// bashRead does what `IFS=' =' read -r var val` does to a line (after the
// line was trimmed of spaces and tabs): see get_word_from_string in bash's
// subst.c and the last-variable rule in builtins/read.def.
func bashRead(s string) (key, val string) {
	s = strings.TrimLeft(s, " ")
	if s == "" {
		return "", ""
	}
	key, rest := bashWord(s)
	if rest == "" {
		return key, ""
	}
	// The last variable: if exactly one more field remains, it gets that
	// field without its delimiter; otherwise it gets the whole rest minus
	// trailing IFS whitespace.
	if w, after := bashWord(rest); after == "" {
		return key, w
	}
	return key, strings.TrimRight(rest, " ")
}

// bashWord splits off one field: the text up to the first ' ' or '=', then
// the delimiter (spaces, optionally one '=' and more spaces, or one '=' and
// spaces). Leading spaces are skipped first.
func bashWord(s string) (word, rest string) {
	s = strings.TrimLeft(s, " ")
	i := strings.IndexAny(s, " =")
	if i < 0 {
		return s, ""
	}
	word = s[:i]
	white := s[i] == ' '
	i++
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if white && i < len(s) && s[i] == '=' {
		i++
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	return word, s[i:]
}

// squeezeSpace is ${val//+([[:space:]])/ } in the C locale.
func squeezeSpace(s string) string {
	if !strings.ContainsAny(s, "\t\n\v\f\r") && !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	inSpace := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			if !inSpace {
				b.WriteByte(' ')
			}
			inSpace = true
		default:
			b.WriteByte(s[i])
			inSpace = false
		}
	}
	return b.String()
}
