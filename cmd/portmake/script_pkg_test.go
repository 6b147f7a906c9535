package main

import (
	"os"
	"path/filepath"

	"github.com/portmake/portmake/alpm/pkgfile/pkgfiletest"
	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	// mkpkg [-o DIR] [-z zst|gz|xz|none] PKGINFO [ROOT] builds a small but
	// real package file in-process, so scenarios need no makepkg.
	//
	//   PKGINFO  a file (usually from the txtar) that becomes .PKGINFO
	//            verbatim; it must have pkgname and pkgver, and should have
	//            arch (default "any"), size and builddate like makepkg's.
	//   ROOT     optional directory whose tree becomes the package contents
	//            (paths relative to ROOT; directories, files and symlinks).
	//   -o DIR   where to write the package (default: the current directory).
	//   -z EXT   compression: zst (default), gz, xz or none (.pkg.tar).
	//
	// The file is named <pkgname>-<pkgver>-<arch>.pkg.tar.<ext>. Every
	// entry's mtime is the builddate, so the same input gives the same bytes
	// (and checksums) on every run.
	scriptCommands["mkpkg"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg {
			ts.Fatalf("unsupported: ! mkpkg")
		}
		out, ext := ".", ".pkg.tar.zst"
		for len(args) >= 2 && (args[0] == "-o" || args[0] == "-z") {
			switch args[0] {
			case "-o":
				out = args[1]
			case "-z":
				switch args[1] {
				case "zst", "gz", "xz":
					ext = ".pkg.tar." + args[1]
				case "none":
					ext = ".pkg.tar"
				default:
					ts.Fatalf("mkpkg: -z %s: want zst, gz, xz or none", args[1])
				}
			}
			args = args[2:]
		}
		if len(args) < 1 || len(args) > 2 {
			ts.Fatalf("usage: mkpkg [-o DIR] [-z zst|gz|xz|none] PKGINFO [ROOT]")
		}
		info, err := os.ReadFile(ts.MkAbs(args[0]))
		ts.Check(err)
		var files []pkgfiletest.File
		if len(args) == 2 {
			files, err = pkgfiletest.DirFiles(ts.MkAbs(args[1]))
			ts.Check(err)
		}
		dir := ts.MkAbs(out)
		ts.Check(os.MkdirAll(dir, 0o755))
		path, err := pkgfiletest.Build(dir, info, files, ext)
		ts.Check(err)
		ts.Logf("mkpkg: wrote %s", filepath.Base(path))
	}
}
