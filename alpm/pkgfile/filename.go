package pkgfile

import (
	"fmt"
	"strings"

	"github.com/portmake/portmake/alpm"
)

// Name is a package file name taken apart:
// <Pkgname>-<Version>-<Arch><Ext>, e.g. "glibc", "2.40+r16-1", "x86_64",
// ".pkg.tar.zst".
type Name struct {
	Pkgname string
	Version string // [epoch:]pkgver-pkgrel
	Arch    string
	Ext     string // ".pkg.tar" plus the compression suffix, if any
}

// String returns the file name Name was parsed from.
func (n Name) String() string {
	return n.Pkgname + "-" + n.Version + "-" + n.Arch + n.Ext
}

// exts are the package extensions makepkg can produce (PKGEXT), longest
// first so that ".pkg.tar" does not shadow the compressed forms.
var exts = []string{
	".pkg.tar.zst", ".pkg.tar.xz", ".pkg.tar.gz", ".pkg.tar.bz2",
	".pkg.tar.lrz", ".pkg.tar.lzo", ".pkg.tar.lz4", ".pkg.tar.lz", ".pkg.tar.Z",
	".pkg.tar",
}

// ParseFilename splits a package file's base name. Package names may contain
// '-', and pkgver and pkgrel may not, so the last two '-' separate the
// version and the architecture: that is how pacman and repo-add split it too.
// The result is checked so that every part is safe as a path element: a base
// holding '/' or a name starting with '-' or '.' is refused.
func ParseFilename(base string) (Name, error) {
	var n Name
	if strings.ContainsAny(base, "/\x00") {
		return n, fmt.Errorf("package file name %q: must be a base name, without '/'", base)
	}
	for _, e := range exts {
		if strings.HasSuffix(base, e) {
			n.Ext = e
			break
		}
	}
	if n.Ext == "" {
		return n, fmt.Errorf("package file name %q: no .pkg.tar[.<compression>] extension", base)
	}
	stem := strings.TrimSuffix(base, n.Ext)
	i := strings.LastIndexByte(stem, '-')
	if i < 0 {
		return n, fmt.Errorf("package file name %q: want <name>-<version>-<arch>%s", base, n.Ext)
	}
	n.Arch, stem = stem[i+1:], stem[:i]
	j := strings.LastIndexByte(stem, '-')
	if j < 0 {
		return n, fmt.Errorf("package file name %q: want <name>-<pkgver>-<pkgrel>-<arch>%s", base, n.Ext)
	}
	k := strings.LastIndexByte(stem[:j], '-')
	if k < 0 {
		return n, fmt.Errorf("package file name %q: want <name>-<pkgver>-<pkgrel>-<arch>%s", base, n.Ext)
	}
	n.Pkgname, n.Version = stem[:k], stem[k+1:]
	if err := alpm.CheckName(n.Pkgname); err != nil {
		return n, fmt.Errorf("package file name %q: %w", base, err)
	}
	if err := CheckVersion(n.Version); err != nil {
		return n, fmt.Errorf("package file name %q: %w", base, err)
	}
	if err := checkArch(n.Arch); err != nil {
		return n, fmt.Errorf("package file name %q: %w", base, err)
	}
	return n, nil
}

// CheckVersion returns an error when v is not a full package version
// [epoch:]pkgver-pkgrel that is safe to put into a database entry's
// directory name "<name>-<version>". pkgver and pkgrel must not contain '-'
// (repo-add finds an entry's package name by stripping the last two
// '-'-separated parts), ':' (only the epoch ends with it), '/', whitespace or
// control characters. The epoch, when present, is a run of digits.
func CheckVersion(v string) error {
	if v == "" {
		return fmt.Errorf("invalid version: empty")
	}
	pv := alpm.ParseVersion(v)
	if !pv.HasRel {
		return fmt.Errorf("invalid version %q: no -pkgrel", v)
	}
	if i := strings.IndexByte(v, ':'); i >= 0 && pv.Epoch == "" {
		return fmt.Errorf("invalid version %q: the epoch before ':' must be digits", v)
	}
	for _, part := range [...]struct{ what, s string }{{"pkgver", pv.Pkgver}, {"pkgrel", pv.Pkgrel}} {
		if part.s == "" {
			return fmt.Errorf("invalid version %q: empty %s", v, part.what)
		}
		for i := 0; i < len(part.s); i++ {
			c := part.s[i]
			if c <= ' ' || c >= 0x7f || c == '-' || c == ':' || c == '/' {
				return fmt.Errorf("invalid version %q: character %q is not allowed in %s", v, c, part.what)
			}
		}
	}
	return nil
}

// checkArch accepts alpm-architecture values: letters, digits and '_'.
func checkArch(a string) error {
	if a == "" {
		return fmt.Errorf("invalid architecture: empty")
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("invalid architecture %q: character %q is not allowed", a, c)
		}
	}
	return nil
}
