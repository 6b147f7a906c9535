package syncdb

// Parsing of the per-package files of a sync database: desc, depends and
// files (alpm-repo-desc(5) v1 and v2, alpm-repo-files(5)).
//
// The layout is simple: a "%KEY%" header line, its values one per line, and
// a blank line that ends the section. The parser reads it the way libalpm
// (pacman 6.0.2, sync_db_read) does, line by line, so that it agrees with
// pacman on every file repo-add can write:
//
//   - a list section (%DEPENDS%, %PROVIDES%, %FILES%, ...) takes every line
//     up to the next blank one, whatever it looks like: a dependency named
//     "%VERSION%" is a dependency, not a header;
//   - a scalar section (%NAME%, %DESC%, ...) takes exactly the next line,
//     even a blank one or one that looks like a header;
//   - a line that is not a header libalpm knows is skipped. A "%KEY%" header
//     it does not know is kept, with its values up to the next blank line or
//     header, in Package.Extra (pacman skips those lines too, so nothing is
//     read differently; the fields survive a round trip).
//
// Where repo-add cannot produce a file, the parser is stricter than libalpm,
// because looseness there would hide a broken or hostile file:
//
//   - a scalar section with more than one value, or a scalar that appears
//     twice in one file, is an error;
//   - %CSIZE%, %ISIZE% and %BUILDDATE% must be non-negative decimal numbers;
//   - %NAME% must be a valid package name and %VERSION% a full version
//     (pkgver-pkgrel);
//   - a line longer than Limits.Line is an error (libalpm's own limit is
//     512 KiB).
//
// Like libalpm, lines are split on '\n' only: a CRLF file does not parse
// (its "%NAME%\r" is no header), because pacman does not read it either.
//
// Speed matters here (a full x86_64 database has 14,000+ entries), so the
// full parser makes one string of the whole file and hands out substrings of
// it for every value, and puts all list values of a file into one backing
// array. A parsed Package therefore keeps its desc text alive, which costs
// nothing extra: the values are most of that text. The index parser (see
// index.go) keeps nothing of the text: it interns the few fields it needs.

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
	ps.line = DefaultLimits.Line
	return ps.parse(string(data), &pkgSink{p: p})
}

// section is a header libalpm knows.
type section uint8

const (
	secNone section = iota
	// Scalars; their bits in a seen mask refuse a scalar given twice.
	secFilename
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
	// Lists.
	secGroups
	secLicense
	secReplaces
	secConflicts
	secProvides
	secDepends
	secOptDepends
	secMakeDepends
	secCheckDepends
	secData
	secFiles
)

// lookup returns the section of a header line, or secNone.
func lookup(l string) section {
	if len(l) < 3 || l[0] != '%' {
		return secNone
	}
	switch l {
	case "%FILENAME%":
		return secFilename
	case "%NAME%":
		return secName
	case "%BASE%":
		return secBase
	case "%VERSION%":
		return secVersion
	case "%DESC%":
		return secDesc
	case "%CSIZE%":
		return secCSize
	case "%ISIZE%":
		return secISize
	case "%MD5SUM%":
		return secMD5
	case "%SHA256SUM%":
		return secSHA256
	case "%PGPSIG%":
		return secPGPSig
	case "%URL%":
		return secURL
	case "%ARCH%":
		return secArch
	case "%BUILDDATE%":
		return secBuildDate
	case "%PACKAGER%":
		return secPackager
	case "%GROUPS%":
		return secGroups
	case "%LICENSE%":
		return secLicense
	case "%REPLACES%":
		return secReplaces
	case "%CONFLICTS%":
		return secConflicts
	case "%PROVIDES%":
		return secProvides
	case "%DEPENDS%":
		return secDepends
	case "%OPTDEPENDS%":
		return secOptDepends
	case "%MAKEDEPENDS%":
		return secMakeDepends
	case "%CHECKDEPENDS%":
		return secCheckDepends
	case "%DATA%":
		return secData
	case "%FILES%":
		return secFiles
	}
	return secNone
}

func (s section) scalar() bool { return s >= secFilename && s <= secPackager }

// sink receives what the parser read and checked.
type sink interface {
	// setScalar stores a scalar; n is its value for the numeric ones.
	setScalar(s section, v string, n int64)
	// addList appends the values of a list section. vals is only valid
	// during the call.
	addList(s section, vals []string)
	// addExtra appends an unknown section. vals is only valid during the
	// call.
	addExtra(key string, vals []string)
}

// descParser holds scratch space reused from one file to the next.
type descParser struct {
	lines  []string
	line   int // the longest line allowed
	values int // non-empty lines parsed so far, in every file
}

// parseCounted is parse for a database's reader: it also counts the
// values of every file it parsed, and refuses to go past max of them.
func (ps *descParser) parseCounted(s string, out sink, max int) error {
	if err := ps.parse(s, out); err != nil {
		return err
	}
	for _, l := range ps.lines {
		if l != "" {
			ps.values++
		}
	}
	if ps.values > max {
		return fmt.Errorf("more than %d values in the database, the limit for a sync database", max)
	}
	return nil
}

func (ps *descParser) parse(s string, out sink) error {
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

	var seen uint32
	for i := 0; i < len(lines); {
		header := lines[i]
		lineno := i + 1
		i++
		if len(header) > ps.line {
			return fmt.Errorf("line %d: %d bytes, more than the %s a line may have", lineno, len(header), size(int64(ps.line)))
		}
		sec := lookup(header)
		switch {
		case header == "":
			continue
		case sec == secNone && !isHeader(header):
			// libalpm skips lines it does not know.
			continue
		case sec == secNone:
			start := i
			for i < len(lines) && lines[i] != "" && !isHeader(lines[i]) {
				i++
			}
			if err := ps.checkLines(lines[start:i], start); err != nil {
				return err
			}
			out.addExtra(header[1:len(header)-1], lines[start:i])
			continue
		}
		var vals []string
		if sec.scalar() {
			// libalpm takes the line after a scalar header as its value
			// whatever it looks like, even "%FOO%" or a blank line.
			start := i
			if i < len(lines) {
				i++
			}
			for i < len(lines) && lines[i] != "" && !isHeader(lines[i]) {
				i++
			}
			vals = lines[start:i]
		} else {
			start := i
			for i < len(lines) && lines[i] != "" {
				i++
			}
			vals = lines[start:i]
		}
		if err := ps.checkLines(vals, lineno); err != nil {
			return err
		}
		if err := ps.section(sec, header, vals, out, &seen); err != nil {
			return fmt.Errorf("line %d: %s", lineno, err)
		}
	}
	return nil
}

// checkLines refuses a line longer than the limit; lines start at line
// number first+1.
func (ps *descParser) checkLines(vals []string, first int) error {
	for k, v := range vals {
		if len(v) > ps.line {
			return fmt.Errorf("line %d: %d bytes, more than the %s a line may have", first+k+1, len(v), size(int64(ps.line)))
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

func (ps *descParser) section(sec section, header string, vals []string, out sink, seen *uint32) error {
	if !sec.scalar() {
		out.addList(sec, vals)
		return nil
	}
	bit := uint32(1) << sec
	if *seen&bit != 0 {
		return fmt.Errorf("%s given twice", header)
	}
	*seen |= bit
	var v string
	switch len(vals) {
	case 0:
	case 1:
		v = vals[0]
	default:
		return fmt.Errorf("%s has %d values, want 1 (%q, %q, ...)", header, len(vals), clip(vals[0]), clip(vals[1]))
	}
	var n int64
	switch sec {
	case secName:
		if err := alpm.CheckName(v); err != nil {
			return fmt.Errorf("%s: %w", header, err)
		}
	case secBase:
		if v != "" && !alpm.ValidName(v) {
			return fmt.Errorf("%s: invalid package base %q", header, clip(v))
		}
	case secVersion:
		if err := checkVersion(v); err != nil {
			return err
		}
	case secCSize, secISize, secBuildDate:
		var err error
		n, err = strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || v[0] == '+' {
			return fmt.Errorf("%s: %q is not a non-negative decimal number", header, clip(v))
		}
	}
	out.setScalar(sec, v, n)
	return nil
}

// pkgSink fills a full Package. List values are copied into one arena per
// file, so that the parser's scratch lines can be reused.
type pkgSink struct {
	p     *alpm.Package
	arena []string
}

func (k *pkgSink) setScalar(s section, v string, n int64) {
	p := k.p
	switch s {
	case secFilename:
		p.Filename = v
	case secName:
		p.Name = v
	case secBase:
		p.Base = v
	case secVersion:
		p.Version = v
	case secDesc:
		p.Desc = v
	case secCSize:
		p.CSize = n
	case secISize:
		p.ISize = n
	case secMD5:
		p.MD5Sum = v
	case secSHA256:
		p.SHA256Sum = v
	case secPGPSig:
		p.PGPSig = v
	case secURL:
		p.URL = v
	case secArch:
		p.Arch = v
	case secBuildDate:
		p.BuildDate = n
	case secPackager:
		p.Packager = v
	}
}

// keep copies vals into the arena and returns them with a capped
// capacity, so that appending to one list never overwrites the next.
func (k *pkgSink) keep(vals []string) []string {
	if len(vals) == 0 {
		return nil
	}
	if cap(k.arena)-len(k.arena) < len(vals) {
		k.arena = make([]string, 0, max(64, 2*len(vals)))
	}
	start := len(k.arena)
	k.arena = append(k.arena, vals...)
	return k.arena[start:len(k.arena):len(k.arena)]
}

func (k *pkgSink) addList(s section, vals []string) {
	l := listField(k.p, s)
	*l = merge(*l, k.keep(vals))
	// A package without files still has a (empty) list once a files file
	// was read: nil means "not read".
	if s == secFiles && *l == nil {
		*l = []string{}
	}
}

// listField returns the field of p that list section s fills.
func listField(p *alpm.Package, s section) *[]string {
	switch s {
	case secGroups:
		return &p.Groups
	case secLicense:
		return &p.License
	case secReplaces:
		return &p.Replaces
	case secConflicts:
		return &p.Conflicts
	case secProvides:
		return &p.Provides
	case secDepends:
		return &p.Depends
	case secOptDepends:
		return &p.OptDepends
	case secMakeDepends:
		return &p.MakeDepends
	case secCheckDepends:
		return &p.CheckDepends
	case secData:
		return &p.Data
	}
	return &p.Files
}

func (k *pkgSink) addExtra(key string, vals []string) {
	v := k.keep(vals)
	if v == nil {
		v = []string{}
	}
	k.p.Extra = append(k.p.Extra, alpm.Field{Key: key, Values: v})
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
