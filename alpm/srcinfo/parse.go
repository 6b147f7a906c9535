package srcinfo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/portmake/portmake/alpm"
)

// maxSize bounds what Parse reads. The largest real .SRCINFO files (big
// split packages such as texlive or kde bundles) are a few hundred KiB.
const maxSize = 16 << 20

// ParseFile reads and parses the .SRCINFO at path; errors name path.
func ParseFile(path string) (*Srcinfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError already names the file
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a .SRCINFO; source names the file in errors. A format error
// is an *Error, rendered "<source>:<line>: <message>" with a 1-based line.
// Parse stops at the first error.
func Parse(r io.Reader, source string) (*Srcinfo, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", source, err)
	}
	if len(data) > maxSize {
		return nil, &Error{Source: source, Line: 1, Msg: fmt.Sprintf("file is larger than %d MiB; not a .SRCINFO", maxSize>>20)}
	}
	return parse(string(data), source)
}

// parser holds the state of one Parse call. Values are substrings of the
// input, which is converted to a string once, so parsing allocates little
// beyond the slices that hold the values.
type parser struct {
	src  string
	s    Srcinfo
	line int

	started bool           // the pkgbase header was seen
	pkg     *Package       // current pkgname section; nil while in the pkgbase
	seen    map[string]int // keys assigned in the current section -> first line
	sets    []map[string]int
	uses    []archUse // <key>_<arch> assignments of the current section
}

// archUse is one architecture-specific assignment, checked against the
// section's architectures once the section is complete: the arch keyword
// may come after the assignments it governs.
type archUse struct {
	key, arch string
	line      int
}

func (p *parser) errf(line int, format string, args ...any) error {
	return &Error{Source: p.src, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func parse(data, source string) (*Srcinfo, error) {
	p := &parser{src: source}
	for len(data) > 0 {
		p.line++
		var line string
		if i := strings.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, ""
		}
		line = strings.TrimLeft(line, " \t")
		line = strings.TrimRight(line, " \t\r")
		if line == "" || line[0] == '#' {
			continue
		}
		if err := p.parseLine(line); err != nil {
			return nil, err
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return &p.s, nil
}

// splitLine splits "key = value". SRCINFO(5) asks for exactly " = ", and
// makepkg writes nothing else; runs of blanks around the '=' are accepted
// (as go-srcinfo does) since they cannot be misread. What is refused is a
// missing blank on either side ("pkgver=1.0"), which is a different file
// format (.PKGINFO-like or shell). makepkg writes "key = " for an empty
// value; it arrives here as "key =" since trailing blanks are trimmed.
func (p *parser) splitLine(line string) (key, value string, err error) {
	i := strings.IndexAny(line, " \t")
	if i < 0 {
		if strings.Contains(line, "=") {
			return "", "", p.errf(p.line, "invalid delimiter in %q: expected \" = \" (an equal sign surrounded by spaces)", line)
		}
		return "", "", p.errf(p.line, "expected \"key = value\", got %q", line)
	}
	key, rest := line[:i], strings.TrimLeft(line[i:], " \t")
	switch {
	case key == "=":
		return "", "", p.errf(p.line, "missing keyword before \" = \" in %q", line)
	case strings.Contains(key, "="):
		return "", "", p.errf(p.line, "invalid delimiter in %q: expected \" = \" (an equal sign surrounded by spaces)", line)
	case rest == "=":
		return key, "", nil
	case len(rest) > 1 && rest[0] == '=' && (rest[1] == ' ' || rest[1] == '\t'):
		return key, strings.TrimLeft(rest[1:], " \t"), nil
	case rest != "" && rest[0] == '=':
		return "", "", p.errf(p.line, "invalid delimiter in %q: expected \" = \" (an equal sign surrounded by spaces)", line)
	}
	return "", "", p.errf(p.line, "expected \"key = value\", got %q", line)
}

func (p *parser) parseLine(line string) error {
	if !utf8.ValidString(line) {
		return p.errf(p.line, "invalid UTF-8")
	}
	key, value, err := p.splitLine(line)
	if err != nil {
		return err
	}
	switch key {
	case "pkgbase":
		if p.started {
			return p.errf(p.line, "second pkgbase header (the first is at line %d); a .SRCINFO describes one pkgbase", p.s.Base.Line)
		}
		if err := alpm.CheckName(value); err != nil {
			return p.errf(p.line, "pkgbase: %v", err)
		}
		p.started = true
		p.s.Base.Name, p.s.Base.Line = value, p.line
		p.seen = map[string]int{}
		return nil
	case "pkgname":
		if !p.started {
			return p.errf(p.line, "pkgname section before the pkgbase header; a .SRCINFO starts with \"pkgbase = NAME\"")
		}
		if err := alpm.CheckName(value); err != nil {
			return p.errf(p.line, "pkgname: %v", err)
		}
		for i := range p.s.Packages {
			if p.s.Packages[i].Name == value {
				return p.errf(p.line, "duplicate pkgname %q (first at line %d)", value, p.s.Packages[i].Line)
			}
		}
		if err := p.endSection(); err != nil {
			return err
		}
		p.s.Packages = append(p.s.Packages, Package{Name: value, Line: p.line})
		p.pkg = &p.s.Packages[len(p.s.Packages)-1]
		p.seen = map[string]int{}
		p.sets = append(p.sets, p.seen)
		return nil
	}
	if !p.started {
		return p.errf(p.line, "%s before the pkgbase header; a .SRCINFO starts with \"pkgbase = NAME\"", key)
	}
	return p.assign(key, value)
}

func (p *parser) assign(key, value string) error {
	name, arch, hasArch := strings.Cut(key, "_")
	kw := keywords[name]
	if kw == nil {
		return p.errf(p.line, "unknown keyword %q", key)
	}
	if hasArch {
		if !kw.arch {
			return p.errf(p.line, "%s has no architecture-specific form, so %s is not a keyword", name, key)
		}
		if err := checkArch(arch); err != nil {
			return p.errf(p.line, "%s: %v", key, err)
		}
		if arch == "any" {
			return p.errf(p.line, "%s: architecture-specific values cannot target \"any\"", key)
		}
		p.uses = append(p.uses, archUse{key: key, arch: arch, line: p.line})
	}
	if p.pkg != nil && !kw.inPkg {
		return p.errf(p.line, "%s is only allowed in the pkgbase section, not in pkgname %s", name, p.pkg.Name)
	}
	first, dup := p.seen[key]
	if dup && !kw.multi {
		return p.errf(p.line, "%s is assigned twice (first at line %d); it takes a single value", key, first)
	}
	if !dup {
		p.seen[key] = p.line
		if p.pkg != nil {
			p.pkg.Overrides = append(p.pkg.Overrides, key)
		}
	}

	var t target
	if p.pkg != nil {
		t = p.pkg.target(name)
	} else {
		t = p.s.Base.target(name)
	}
	if value == "" {
		return p.clear(kw, key, dup, first, t, arch)
	}
	if kw.check != nil {
		if err := kw.check(value); err != nil {
			return p.errf(p.line, "%s: %v", key, err)
		}
	}
	switch {
	case t.str != nil:
		*t.str = value
	case t.list != nil:
		if name == "arch" {
			if err := p.checkArchList(*t.list, value); err != nil {
				return err
			}
		}
		*t.list = append(*t.list, value)
	case hasArch:
		if t.arch.ByArch == nil {
			t.arch.ByArch = map[string][]string{}
		}
		t.arch.ByArch[arch] = append(t.arch.ByArch[arch], value)
	default:
		t.arch.All = append(t.arch.All, value)
	}
	return nil
}

// clear handles "key =". In a pkgname section it drops the inherited value
// (assign already recorded the key as overridden, and the package's own
// field is still empty). The pkgbase has nothing to clear, so there only
// the optional single-valued keywords may be empty, meaning unset.
func (p *parser) clear(kw *keyword, key string, dup bool, first int, t target, arch string) error {
	if kw.name == "arch" {
		return p.errf(p.line, "empty arch: every package needs at least one architecture")
	}
	if p.pkg == nil {
		if !kw.multi && kw.check != nil {
			return p.errf(p.line, "%s: %v", key, kw.check(""))
		}
		if kw.multi {
			return p.errf(p.line, "empty %s value: only a pkgname section can clear a keyword", key)
		}
		return nil
	}
	if dup && t.len(arch) > 0 {
		return p.errf(p.line, "empty %s value after values (first at line %d): an empty value only clears the inherited list", key, first)
	}
	return nil
}

func (p *parser) checkArchList(list []string, value string) error {
	if slices.Contains(list, value) {
		return p.errf(p.line, "arch %q is listed twice", value)
	}
	if value == "any" && len(list) > 0 || slices.Contains(list, "any") {
		return p.errf(p.line, "arch \"any\" cannot be combined with other architectures")
	}
	return nil
}

// endSection validates the section that just ended: the pkgbase when the
// first pkgname header arrives (or at EOF), a pkgname at the next header.
// Missing required keywords are only reported by finish, after every
// line-specific problem: a file without arch that also misuses a keyword
// gets the error that points at the offending line.
func (p *parser) endSection() error {
	b := &p.s.Base
	if p.pkg == nil {
		if err := p.checkUses(b.Arch, "the pkgbase's"); err != nil {
			return err
		}
		return p.checkSums()
	}
	arch := b.Arch
	if _, ok := p.seen["arch"]; ok {
		arch = p.pkg.Arch
	}
	return p.checkUses(arch, "package "+p.pkg.Name+"'s")
}

// checkUses refuses <key>_<arch> for an architecture the section does not
// build for. makepkg --printsrcinfo only writes the variants of listed
// architectures, so anything else is a hand edit that makepkg would ignore.
func (p *parser) checkUses(arch []string, whose string) error {
	defer func() { p.uses = p.uses[:0] }()
	if len(arch) == 0 {
		return nil // reported as a missing arch
	}
	for _, u := range p.uses {
		if slices.Contains(arch, "any") {
			return p.errf(u.line, "%s: %s arch is \"any\", which takes no architecture-specific values", u.key, whose)
		}
		if !slices.Contains(arch, u.arch) {
			return p.errf(u.line, "%s: architecture %q is not in %s arch list (%s)", u.key, u.arch, whose, strings.Join(arch, " "))
		}
	}
	return nil
}

// checkSums enforces SRCINFO(5)'s pairing: a checksum keyword in use has
// exactly one value per source, per architecture. makepkg pairs them by
// position, so a miscount verifies the wrong file.
func (p *parser) checkSums() error {
	b := &p.s.Base
	for _, name := range checksumKeys {
		sums := b.target(name).arch
		if n := len(sums.All); n > 0 && n != len(b.Source.All) {
			return p.errf(p.seen[name], "%d %s for %d sources: each source needs exactly one", n, name, len(b.Source.All))
		}
		for _, a := range sums.Arches() {
			v := sums.ByArch[a]
			if src := b.Source.ByArch[a]; len(v) != len(src) {
				return p.errf(p.seen[name+"_"+a], "%d %s_%s for %d source_%s entries: each source needs exactly one", len(v), name, a, len(src), a)
			}
		}
	}
	return nil
}

func (p *parser) finish() error {
	if !p.started {
		return p.errf(max(p.line, 1), "no \"pkgbase = NAME\" header: not a .SRCINFO, or an empty one")
	}
	if err := p.endSection(); err != nil {
		return err
	}
	b := &p.s.Base
	if len(p.s.Packages) == 0 {
		return p.errf(b.Line, "pkgbase %s has no pkgname section; a .SRCINFO needs at least one \"pkgname = NAME\"", b.Name)
	}
	for _, k := range []struct{ name, val string }{{"pkgver", b.PkgVer}, {"pkgrel", b.PkgRel}} {
		if k.val == "" {
			return p.errf(b.Line, "pkgbase %s has no %s", b.Name, k.name)
		}
	}
	if len(b.Arch) == 0 {
		return p.errf(b.Line, "pkgbase %s has no arch", b.Name)
	}
	for i := range p.s.Packages {
		p.s.Packages[i].resolve(b, p.sets[i])
	}
	return nil
}

// target points at the field that holds a keyword's values; exactly one of
// its pointers is set.
type target struct {
	str  *string
	list *[]string
	arch *ArchList
}

func (t target) len(arch string) int {
	switch {
	case t.str != nil:
		return len(*t.str)
	case t.list != nil:
		return len(*t.list)
	case arch != "":
		return len(t.arch.ByArch[arch])
	}
	return len(t.arch.All)
}

func (b *Base) target(name string) target {
	switch name {
	case "pkgver":
		return target{str: &b.PkgVer}
	case "pkgrel":
		return target{str: &b.PkgRel}
	case "epoch":
		return target{str: &b.Epoch}
	case "validpgpkeys":
		return target{list: &b.ValidPGPKeys}
	case "noextract":
		return target{list: &b.NoExtract}
	case "makedepends":
		return target{arch: &b.MakeDepends}
	case "checkdepends":
		return target{arch: &b.CheckDepends}
	case "source":
		return target{arch: &b.Source}
	case "md5sums":
		return target{arch: &b.MD5Sums}
	case "sha1sums":
		return target{arch: &b.SHA1Sums}
	case "sha224sums":
		return target{arch: &b.SHA224Sums}
	case "sha256sums":
		return target{arch: &b.SHA256Sums}
	case "sha384sums":
		return target{arch: &b.SHA384Sums}
	case "sha512sums":
		return target{arch: &b.SHA512Sums}
	case "b2sums":
		return target{arch: &b.B2Sums}
	case "cksums":
		return target{arch: &b.CKSums}
	}
	return packageTarget(name, &b.PkgDesc, &b.URL, &b.Install, &b.Changelog,
		&b.Arch, &b.Groups, &b.License, &b.Backup, &b.Options,
		&b.Depends, &b.OptDepends, &b.Provides, &b.Conflicts, &b.Replaces)
}

func (p *Package) target(name string) target {
	return packageTarget(name, &p.PkgDesc, &p.URL, &p.Install, &p.Changelog,
		&p.Arch, &p.Groups, &p.License, &p.Backup, &p.Options,
		&p.Depends, &p.OptDepends, &p.Provides, &p.Conflicts, &p.Replaces)
}

// packageTarget maps the keywords that both section kinds share. The
// keyword table guarantees name is one of them.
func packageTarget(name string, desc, url, install, changelog *string,
	arch, groups, license, backup, options *[]string,
	depends, optdepends, provides, conflicts, replaces *ArchList) target {
	switch name {
	case "pkgdesc":
		return target{str: desc}
	case "url":
		return target{str: url}
	case "install":
		return target{str: install}
	case "changelog":
		return target{str: changelog}
	case "arch":
		return target{list: arch}
	case "groups":
		return target{list: groups}
	case "license":
		return target{list: license}
	case "backup":
		return target{list: backup}
	case "options":
		return target{list: options}
	case "depends":
		return target{arch: depends}
	case "optdepends":
		return target{arch: optdepends}
	case "provides":
		return target{arch: provides}
	case "conflicts":
		return target{arch: conflicts}
	case "replaces":
		return target{arch: replaces}
	}
	panic(errors.New("srcinfo: no field for keyword " + name))
}

// resolve fills in what the section did not assign from b. set holds the
// keys the section assigned, as written (depends, depends_x86_64).
func (p *Package) resolve(b *Base, set map[string]int) {
	str := func(key string, dst *string, base string) {
		if _, ok := set[key]; !ok {
			*dst = base
		}
	}
	list := func(key string, dst *[]string, base []string) {
		if _, ok := set[key]; !ok {
			*dst = slices.Clip(base)
		}
	}
	archList := func(key string, dst *ArchList, base ArchList) {
		if _, ok := set[key]; !ok {
			dst.All = slices.Clip(base.All)
		}
		own := dst.ByArch
		overridden := len(own) > 0
		for a := range base.ByArch {
			if _, ok := set[key+"_"+a]; ok {
				overridden = true
			}
		}
		if !overridden {
			dst.ByArch = base.ByArch // nothing to merge: share, read-only
			return
		}
		m := make(map[string][]string, len(base.ByArch)+len(own))
		for a, v := range base.ByArch {
			if _, ok := set[key+"_"+a]; !ok {
				m[a] = slices.Clip(v)
			}
		}
		for a, v := range own {
			m[a] = v
		}
		if len(m) == 0 {
			m = nil
		}
		dst.ByArch = m
	}
	str("pkgdesc", &p.PkgDesc, b.PkgDesc)
	str("url", &p.URL, b.URL)
	str("install", &p.Install, b.Install)
	str("changelog", &p.Changelog, b.Changelog)
	list("arch", &p.Arch, b.Arch)
	list("groups", &p.Groups, b.Groups)
	list("license", &p.License, b.License)
	list("backup", &p.Backup, b.Backup)
	list("options", &p.Options, b.Options)
	archList("depends", &p.Depends, b.Depends)
	archList("optdepends", &p.OptDepends, b.OptDepends)
	archList("provides", &p.Provides, b.Provides)
	archList("conflicts", &p.Conflicts, b.Conflicts)
	archList("replaces", &p.Replaces, b.Replaces)
}
