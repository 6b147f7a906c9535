// Package srcinfo owns the .SRCINFO format (SRCINFO(5)): it parses a file
// into a pkgbase section and its pkgname sections, checks it against the
// spec with line-numbered errors, resolves each package's overrides and
// gives the per-architecture view that build planning needs.
//
// It keeps relation values (depends, provides, ...) as the raw strings of
// the file; turning them into alpm.Relation is the caller's job. It must not
// run makepkg, read a PKGBUILD or touch the network: a .SRCINFO is read as
// plain text, because the whole point of the format is that no shell has to
// evaluate anything.
//
// # Inheritance, overrides and clears
//
// The pkgbase section holds defaults; each pkgname section may assign a
// subset of the keywords again. The unit of inheritance is the keyword, and
// an arch-specific keyword (depends_x86_64) is a keyword of its own:
//
//   - A keyword that a pkgname section never assigns is inherited whole from
//     the pkgbase.
//   - The first assignment of a keyword in a pkgname section drops the whole
//     inherited list for that keyword; later assignments of the same keyword
//     in the section append. That is how makepkg --printsrcinfo writes a
//     package() that sets depends=(...) or depends+=(...): it always prints
//     the package's complete list, so "extending" is re-listing.
//   - An assignment with an empty value ("depends =") clears: the package
//     gets an empty list (or an unset pkgdesc, url, install, changelog).
//   - Overriding or clearing depends leaves depends_x86_64 alone, and the
//     other way round. The effective list for one architecture is the
//     resolved plain list followed by the resolved list for that
//     architecture (see ForArch).
//
// The version keywords, validpgpkeys, build and check dependencies, sources,
// noextract and checksums belong to the pkgbase only; the parser refuses
// them in a pkgname section.
package srcinfo

import (
	"fmt"
	"maps"
	"slices"
)

// Srcinfo is one parsed .SRCINFO. Treat it as immutable: Packages share
// backing arrays with Base for the lists they inherit.
type Srcinfo struct {
	Base Base // the pkgbase section
	// Packages are the pkgname sections in file order, each with its
	// overrides and clears already resolved against Base.
	Packages []Package
}

// Base is the pkgbase section: the keywords shared by every package built
// from one PKGBUILD, including those that only the pkgbase may hold.
type Base struct {
	Name string // pkgbase
	Line int    // line of the "pkgbase = " header

	PkgVer string
	PkgRel string
	Epoch  string // "" when the file has none

	PkgDesc   string
	URL       string
	Install   string
	Changelog string

	Arch    []string
	Groups  []string
	License []string
	Backup  []string
	Options []string

	Depends      ArchList
	OptDepends   ArchList
	Provides     ArchList
	Conflicts    ArchList
	Replaces     ArchList
	MakeDepends  ArchList
	CheckDepends ArchList

	Source       ArchList
	NoExtract    []string
	ValidPGPKeys []string

	MD5Sums    ArchList
	SHA1Sums   ArchList
	SHA224Sums ArchList
	SHA256Sums ArchList
	SHA384Sums ArchList
	SHA512Sums ArchList
	B2Sums     ArchList
	CKSums     ArchList
}

// Package is one pkgname section resolved against the pkgbase: every field
// holds the package's effective value, inherited or overridden.
type Package struct {
	Name string // pkgname
	Line int    // line of the "pkgname = " header

	PkgDesc   string
	URL       string
	Install   string
	Changelog string

	Arch    []string
	Groups  []string
	License []string
	Backup  []string
	Options []string

	Depends    ArchList
	OptDepends ArchList
	Provides   ArchList
	Conflicts  ArchList
	Replaces   ArchList

	// Overrides lists the keywords the section assigned itself (for example
	// "depends", "depends_x86_64"), in the order they first appear, so a
	// view can tell an inherited value from an overridden or cleared one.
	Overrides []string
}

// ArchList is a repeatable keyword with its architecture-specific variants:
// All holds the values of "key", ByArch[a] those of "key_a". ByArch never
// holds an empty list, and is nil when there are no arch-specific values.
type ArchList struct {
	All    []string
	ByArch map[string][]string
}

// For returns the values that apply on arch: All followed by ByArch[arch].
// The result is a fresh slice.
func (l ArchList) For(arch string) []string {
	extra := l.ByArch[arch]
	out := make([]string, 0, len(l.All)+len(extra))
	out = append(out, l.All...)
	return append(out, extra...)
}

// Arches returns the architectures that have specific values, sorted.
func (l ArchList) Arches() []string {
	return slices.Sorted(maps.Keys(l.ByArch))
}

// Empty reports whether the list has no values at all.
func (l ArchList) Empty() bool { return len(l.All) == 0 && len(l.ByArch) == 0 }

// Version returns the full version of the pkgbase, [epoch:]pkgver-pkgrel.
func (s *Srcinfo) Version() string { return s.Base.Version() }

// Version returns the full version, [epoch:]pkgver-pkgrel.
func (b *Base) Version() string {
	if b.Epoch != "" && b.Epoch != "0" {
		return b.Epoch + ":" + b.PkgVer + "-" + b.PkgRel
	}
	return b.PkgVer + "-" + b.PkgRel
}

// ArchPackage is the effective view of one package on one architecture.
// Relation lists hold the raw strings; parse them with alpm.ParseRelation.
type ArchPackage struct {
	Name    string
	Base    string
	Version string   // [epoch:]pkgver-pkgrel
	Arch    []string // the package's declared architectures

	Depends      []string
	MakeDepends  []string
	CheckDepends []string
	Provides     []string
	Conflicts    []string
	Replaces     []string
	OptDepends   []string
}

// Supports reports whether the package declares arch, or "any".
func (p ArchPackage) Supports(arch string) bool {
	return slices.Contains(p.Arch, arch) || slices.Contains(p.Arch, "any")
}

// ForArch returns every package's effective view on arch, in file order:
// the arch-independent values followed by the <key>_<arch> values, after
// the pkgname overrides and clears. makedepends and checkdepends come from
// the pkgbase, since a package cannot override them.
//
// It does not drop packages whose arch list lacks arch: a port builds
// x86_64-only PKGBUILDs for its own architecture with makepkg --ignorearch,
// and makepkg then uses the <key>_<CARCH> values exactly as computed here.
// Callers that want only the declared packages filter with Supports.
func (s *Srcinfo) ForArch(arch string) []ArchPackage {
	out := make([]ArchPackage, 0, len(s.Packages))
	version := s.Version()
	for i := range s.Packages {
		p := &s.Packages[i]
		out = append(out, ArchPackage{
			Name:         p.Name,
			Base:         s.Base.Name,
			Version:      version,
			Arch:         slices.Clip(p.Arch),
			Depends:      p.Depends.For(arch),
			MakeDepends:  s.Base.MakeDepends.For(arch),
			CheckDepends: s.Base.CheckDepends.For(arch),
			Provides:     p.Provides.For(arch),
			Conflicts:    p.Conflicts.For(arch),
			Replaces:     p.Replaces.For(arch),
			OptDepends:   p.OptDepends.For(arch),
		})
	}
	return out
}

// Package returns the package named name, or nil.
func (s *Srcinfo) Package(name string) *Package {
	for i := range s.Packages {
		if s.Packages[i].Name == name {
			return &s.Packages[i]
		}
	}
	return nil
}

// Error is a problem in a .SRCINFO, at a 1-based line.
type Error struct {
	Source string // the file, as named by the caller of Parse
	Line   int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Msg) }
