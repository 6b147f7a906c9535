package syncdb

import (
	"bytes"
	"strconv"

	"github.com/portmake/portmake/alpm"
)

// What repo-add writes, field by field.
//
// repo-add (pacman 6.0.2) builds desc with format_entry, which writes
// "%KEY%\n", each value and "\n", then "\n" — but only when the FIRST value
// is non-empty. So an empty scalar or an empty list leaves the key out, and
// the numbers are always there: CSIZE is the file size, ISIZE is .PKGINFO's
// size and BUILDDATE its builddate, which makepkg always writes (pkgfile
// requires them) even when they are 0. The keys come in this fixed order:
//
//	FILENAME NAME BASE VERSION DESC GROUPS CSIZE ISIZE MD5SUM SHA256SUM
//	PGPSIG URL LICENSE ARCH BUILDDATE PACKAGER REPLACES CONFLICTS PROVIDES
//	DEPENDS OPTDEPENDS MAKEDEPENDS CHECKDEPENDS
//
// %DATA% (pacman 7) and unknown fields are not written: repo-add 6.0.2 has
// no such keys, and pacman 6 would not read them.
//
// The files entry is "%FILES%\n" and then the package's file list, one per
// line, sorted by bytes and without duplicates, directories with their
// trailing '/'. In the .files database each entry directory holds both desc
// and files; the .db database holds desc only.

// FormatDesc returns the desc entry repo-add 6.0.2 writes for p, byte for
// byte.
func FormatDesc(p *alpm.Package) []byte {
	var b bytes.Buffer
	b.Grow(512 + len(p.PGPSig) + len(p.Desc))
	one := func(key, v string) {
		if v != "" {
			b.WriteString("%" + key + "%\n")
			b.WriteString(v)
			b.WriteString("\n\n")
		}
	}
	list := func(key string, vs []string) {
		if len(vs) > 0 && vs[0] != "" {
			b.WriteString("%" + key + "%\n")
			for _, v := range vs {
				b.WriteString(v)
				b.WriteByte('\n')
			}
			b.WriteByte('\n')
		}
	}
	one("FILENAME", p.Filename)
	one("NAME", p.Name)
	one("BASE", p.Base)
	one("VERSION", p.Version)
	one("DESC", p.Desc)
	list("GROUPS", p.Groups)
	one("CSIZE", strconv.FormatInt(p.CSize, 10))
	one("ISIZE", strconv.FormatInt(p.ISize, 10))
	one("MD5SUM", p.MD5Sum)
	one("SHA256SUM", p.SHA256Sum)
	one("PGPSIG", p.PGPSig)
	one("URL", p.URL)
	list("LICENSE", p.License)
	one("ARCH", p.Arch)
	one("BUILDDATE", strconv.FormatInt(p.BuildDate, 10))
	one("PACKAGER", p.Packager)
	list("REPLACES", p.Replaces)
	list("CONFLICTS", p.Conflicts)
	list("PROVIDES", p.Provides)
	list("DEPENDS", p.Depends)
	list("OPTDEPENDS", p.OptDepends)
	list("MAKEDEPENDS", p.MakeDepends)
	list("CHECKDEPENDS", p.CheckDepends)
	return b.Bytes()
}

// FormatFiles returns the files entry of the .files database for p: the
// %FILES% header and p.Files, which must already be sorted and unique
// (pkgfile.Read returns it so). A package without files gets the bare
// header, as repo-add writes for a meta package.
func FormatFiles(p *alpm.Package) []byte {
	n := len("%FILES%\n")
	for _, f := range p.Files {
		n += len(f) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, "%FILES%\n"...)
	for _, f := range p.Files {
		b = append(b, f...)
		b = append(b, '\n')
	}
	return b
}
