// Package view renders the pacman formats for people and programs: a
// parsed .SRCINFO as text or JSON, and sync database entries like pacman
// -Sl and -Si. It only formats what the alpm packages parsed.
package view

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/portmake/portmake/alpm/srcinfo"

	"github.com/portmake/portmake/internal/jsonout"
)

// textBlock collects "key  value" rows so the value column lines up within
// one block. A list prints one value per line, key on the first only:
// values such as optdepends descriptions may contain any separator.
type textBlock struct {
	keys []string
	vals [][]string
	// assigned lists the keywords a pkgname section set itself. One that
	// ends up empty was cleared, and prints as "(cleared)": otherwise the
	// reader could not tell a clear from a keyword that never had values.
	assigned []string
}

func (b *textBlock) add(key string, vals ...string) {
	if len(vals) == 0 || len(vals) == 1 && vals[0] == "" {
		if !slices.Contains(b.assigned, key) {
			return
		}
		vals = []string{"(cleared)"}
	}
	b.keys = append(b.keys, key)
	b.vals = append(b.vals, vals)
}

func (b *textBlock) addArchList(key string, l srcinfo.ArchList) {
	b.add(key, l.All...)
	arches := l.Arches()
	for _, k := range b.assigned {
		if a, ok := strings.CutPrefix(k, key+"_"); ok && !slices.Contains(arches, a) {
			arches = append(arches, a)
		}
	}
	slices.Sort(arches)
	for _, a := range arches {
		b.add(key+"_"+a, l.ByArch[a]...)
	}
}

func (b *textBlock) write(w io.Writer) {
	width := 0
	for _, k := range b.keys {
		width = max(width, len(k))
	}
	for i, k := range b.keys {
		for j, v := range b.vals[i] {
			if j > 0 {
				k = ""
			}
			fmt.Fprintf(w, "  %-*s  %s\n", width, k, v)
		}
	}
}

// WriteSrcinfo writes the pkgbase and every package of s as aligned
// "key  value" blocks, package values resolved against the pkgbase.
func WriteSrcinfo(w io.Writer, s *srcinfo.Srcinfo) {
	b := &s.Base
	fmt.Fprintf(w, "pkgbase %s %s\n", b.Name, b.Version())
	var t textBlock
	t.add("pkgdesc", b.PkgDesc)
	t.add("url", b.URL)
	t.add("install", b.Install)
	t.add("changelog", b.Changelog)
	t.add("arch", b.Arch...)
	t.add("groups", b.Groups...)
	t.add("license", b.License...)
	t.add("backup", b.Backup...)
	t.add("options", b.Options...)
	t.addArchList("depends", b.Depends)
	t.addArchList("optdepends", b.OptDepends)
	t.addArchList("provides", b.Provides)
	t.addArchList("conflicts", b.Conflicts)
	t.addArchList("replaces", b.Replaces)
	t.addArchList("makedepends", b.MakeDepends)
	t.addArchList("checkdepends", b.CheckDepends)
	t.addArchList("source", b.Source)
	t.add("noextract", b.NoExtract...)
	t.add("validpgpkeys", b.ValidPGPKeys...)
	for _, sum := range baseSums(b) {
		t.addArchList(sum.key, sum.list)
	}
	t.write(w)
	for i := range s.Packages {
		p := &s.Packages[i]
		fmt.Fprintf(w, "\npackage %s\n", p.Name)
		t := textBlock{assigned: p.Overrides}
		t.add("pkgdesc", p.PkgDesc)
		t.add("url", p.URL)
		t.add("install", p.Install)
		t.add("changelog", p.Changelog)
		t.add("arch", p.Arch...)
		t.add("groups", p.Groups...)
		t.add("license", p.License...)
		t.add("backup", p.Backup...)
		t.add("options", p.Options...)
		t.addArchList("depends", p.Depends)
		t.addArchList("optdepends", p.OptDepends)
		t.addArchList("provides", p.Provides)
		t.addArchList("conflicts", p.Conflicts)
		t.addArchList("replaces", p.Replaces)
		t.write(w)
	}
}

// WriteSrcinfoArch writes the effective values of every package of s for
// one architecture: plain values plus <key>_<arch> ones.
func WriteSrcinfoArch(w io.Writer, s *srcinfo.Srcinfo, arch string) {
	fmt.Fprintf(w, "pkgbase %s %s, for %s\n", s.Base.Name, s.Version(), arch)
	for _, p := range s.ForArch(arch) {
		note := ""
		if !p.Supports(arch) {
			note = fmt.Sprintf(" (its arch does not list %s)", arch)
		}
		fmt.Fprintf(w, "\npackage %s%s\n", p.Name, note)
		var t textBlock
		t.add("arch", p.Arch...)
		t.add("depends", p.Depends...)
		t.add("makedepends", p.MakeDepends...)
		t.add("checkdepends", p.CheckDepends...)
		t.add("optdepends", p.OptDepends...)
		t.add("provides", p.Provides...)
		t.add("conflicts", p.Conflicts...)
		t.add("replaces", p.Replaces...)
		t.write(w)
	}
}

type namedList struct {
	key  string
	list srcinfo.ArchList
}

func baseSums(b *srcinfo.Base) []namedList {
	return []namedList{
		{"md5sums", b.MD5Sums}, {"sha1sums", b.SHA1Sums}, {"sha224sums", b.SHA224Sums},
		{"sha256sums", b.SHA256Sums}, {"sha384sums", b.SHA384Sums}, {"sha512sums", b.SHA512Sums},
		{"b2sums", b.B2Sums}, {"cksums", b.CKSums},
	}
}

// JSON views. Their shapes are documented in SrcinfoCmd.Help.

type archListJSON struct {
	All    []string            `json:"all"`
	ByArch map[string][]string `json:"by_arch"`
}

func listJSON(l srcinfo.ArchList) archListJSON {
	m := make(map[string][]string, len(l.ByArch))
	for a, v := range l.ByArch {
		m[a] = v
	}
	return archListJSON{All: nz(l.All), ByArch: m}
}

// nz keeps JSON lists as [] instead of null.
func nz(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type baseJSON struct {
	Name         string       `json:"name"`
	Version      string       `json:"version"`
	PkgVer       string       `json:"pkgver"`
	PkgRel       string       `json:"pkgrel"`
	Epoch        string       `json:"epoch"`
	PkgDesc      string       `json:"pkgdesc"`
	URL          string       `json:"url"`
	Install      string       `json:"install"`
	Changelog    string       `json:"changelog"`
	Arch         []string     `json:"arch"`
	Groups       []string     `json:"groups"`
	License      []string     `json:"license"`
	Backup       []string     `json:"backup"`
	Options      []string     `json:"options"`
	ValidPGPKeys []string     `json:"validpgpkeys"`
	NoExtract    []string     `json:"noextract"`
	Depends      archListJSON `json:"depends"`
	OptDepends   archListJSON `json:"optdepends"`
	Provides     archListJSON `json:"provides"`
	Conflicts    archListJSON `json:"conflicts"`
	Replaces     archListJSON `json:"replaces"`
	MakeDepends  archListJSON `json:"makedepends"`
	CheckDepends archListJSON `json:"checkdepends"`
	Source       archListJSON `json:"source"`
	MD5Sums      archListJSON `json:"md5sums"`
	SHA1Sums     archListJSON `json:"sha1sums"`
	SHA224Sums   archListJSON `json:"sha224sums"`
	SHA256Sums   archListJSON `json:"sha256sums"`
	SHA384Sums   archListJSON `json:"sha384sums"`
	SHA512Sums   archListJSON `json:"sha512sums"`
	B2Sums       archListJSON `json:"b2sums"`
	CKSums       archListJSON `json:"cksums"`
}

type packageJSON struct {
	Name       string       `json:"name"`
	PkgDesc    string       `json:"pkgdesc"`
	URL        string       `json:"url"`
	Install    string       `json:"install"`
	Changelog  string       `json:"changelog"`
	Arch       []string     `json:"arch"`
	Groups     []string     `json:"groups"`
	License    []string     `json:"license"`
	Backup     []string     `json:"backup"`
	Options    []string     `json:"options"`
	Depends    archListJSON `json:"depends"`
	OptDepends archListJSON `json:"optdepends"`
	Provides   archListJSON `json:"provides"`
	Conflicts  archListJSON `json:"conflicts"`
	Replaces   archListJSON `json:"replaces"`
	Overrides  []string     `json:"overrides"`
}

// SrcinfoDoc is the JSON view of a whole .SRCINFO (portmake srcinfo --json).
type SrcinfoDoc struct {
	Pkgbase  baseJSON      `json:"pkgbase"`
	Packages []packageJSON `json:"packages"`
}

// SrcinfoJSON returns the JSON view of s.
func SrcinfoJSON(s *srcinfo.Srcinfo) SrcinfoDoc {
	b := &s.Base
	v := SrcinfoDoc{Pkgbase: baseJSON{
		Name: b.Name, Version: b.Version(), PkgVer: b.PkgVer, PkgRel: b.PkgRel, Epoch: b.Epoch,
		PkgDesc: b.PkgDesc, URL: b.URL, Install: b.Install, Changelog: b.Changelog,
		Arch: nz(b.Arch), Groups: nz(b.Groups), License: nz(b.License), Backup: nz(b.Backup),
		Options: nz(b.Options), ValidPGPKeys: nz(b.ValidPGPKeys), NoExtract: nz(b.NoExtract),
		Depends: listJSON(b.Depends), OptDepends: listJSON(b.OptDepends), Provides: listJSON(b.Provides),
		Conflicts: listJSON(b.Conflicts), Replaces: listJSON(b.Replaces),
		MakeDepends: listJSON(b.MakeDepends), CheckDepends: listJSON(b.CheckDepends),
		Source: listJSON(b.Source), MD5Sums: listJSON(b.MD5Sums), SHA1Sums: listJSON(b.SHA1Sums),
		SHA224Sums: listJSON(b.SHA224Sums), SHA256Sums: listJSON(b.SHA256Sums),
		SHA384Sums: listJSON(b.SHA384Sums), SHA512Sums: listJSON(b.SHA512Sums),
		B2Sums: listJSON(b.B2Sums), CKSums: listJSON(b.CKSums),
	}, Packages: []packageJSON{}}
	for i := range s.Packages {
		p := &s.Packages[i]
		v.Packages = append(v.Packages, packageJSON{
			Name: p.Name, PkgDesc: p.PkgDesc, URL: p.URL, Install: p.Install, Changelog: p.Changelog,
			Arch: nz(p.Arch), Groups: nz(p.Groups), License: nz(p.License), Backup: nz(p.Backup),
			Options: nz(p.Options), Depends: listJSON(p.Depends), OptDepends: listJSON(p.OptDepends),
			Provides: listJSON(p.Provides), Conflicts: listJSON(p.Conflicts), Replaces: listJSON(p.Replaces),
			Overrides: nz(p.Overrides),
		})
	}
	return v
}

type archPackageJSON struct {
	Name         string   `json:"name"`
	Pkgbase      string   `json:"pkgbase"`
	Version      string   `json:"version"`
	Arch         []string `json:"arch"`
	Supported    bool     `json:"supported"`
	Depends      []string `json:"depends"`
	MakeDepends  []string `json:"makedepends"`
	CheckDepends []string `json:"checkdepends"`
	Provides     []string `json:"provides"`
	Conflicts    []string `json:"conflicts"`
	Replaces     []string `json:"replaces"`
	OptDepends   []string `json:"optdepends"`
}

// ArchDoc is the JSON view of a .SRCINFO for one architecture
// (portmake srcinfo --json --arch).
type ArchDoc struct {
	Arch     string            `json:"arch"`
	Pkgbase  string            `json:"pkgbase"`
	Version  string            `json:"version"`
	Packages []archPackageJSON `json:"packages"`
}

// SrcinfoArchJSON returns the JSON view of s for one architecture.
func SrcinfoArchJSON(s *srcinfo.Srcinfo, arch string) ArchDoc {
	v := ArchDoc{Arch: arch, Pkgbase: s.Base.Name, Version: s.Version(), Packages: []archPackageJSON{}}
	for _, p := range s.ForArch(arch) {
		v.Packages = append(v.Packages, archPackageJSON{
			Name: p.Name, Pkgbase: p.Base, Version: p.Version, Arch: nz(p.Arch), Supported: p.Supports(arch),
			Depends: nz(p.Depends), MakeDepends: nz(p.MakeDepends), CheckDepends: nz(p.CheckDepends),
			Provides: nz(p.Provides), Conflicts: nz(p.Conflicts), Replaces: nz(p.Replaces),
			OptDepends: nz(p.OptDepends),
		})
	}
	return v
}

// WriteJSON writes v as indented JSON (see jsonout).
func WriteJSON(w io.Writer, v any) error { return jsonout.Write(w, v) }
