// Command gen writes the offline demo's sync databases: small but real
// pacman repositories, so that the demo plans and builds without a network.
//
// Run it from the module root:
//
//	go run ./examples/demo/repos/gen
//
// It builds tiny package files with pkgfiletest in a temporary directory
// and adds them with syncdb.Add, the writer behind `portmake repo add`. Only
// the upstream arch=any package files are kept, beside their databases as
// on a mirror: apply copies them into the port (any-sync); planning needs
// only the databases. Every run first
// deletes the databases it owns, so their contents depend only on the
// tables below. (syncdb stamps each tar entry with the time it is written,
// so the archive bytes, and their sha256 in a plan, change on every run.)
//
// The data is chosen so that the demo's plan has every kind of node and is
// still buildable offline. Official packages cannot be fetched offline, so
// upstream and the port agree on every official package that is not
// arch=any:
//
//   - glibc, bash, zlib: same version on both sides (up to date).
//   - python: the port has 3.12.7-1.1, a port-only minor pkgrel over
//     upstream's 3.12.7-1, which counts as up to date.
//   - iana-etc: the port's is older; arch=any, so it is synced, not built.
//   - python-setuptools: missing from the port; arch=any, synced.
//   - the demo repository is empty: the local PKGBUILDs (hello-port,
//     demo-split, demo-tools) are new sources.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/portmake/portmake/alpm/pkgfile/pkgfiletest"
	"github.com/portmake/portmake/alpm/syncdb"
)

// pkg is one package of a demo repository.
type pkg struct {
	name, version, arch string
	desc                string
	depends, provides   []string
	file                string // the one file it installs
}

// repo is one demo database, relative to the repos directory.
type repo struct {
	db   string // <dir>/<name>.db.tar.gz
	pkgs []pkg
}

// builddate is the same for every package, so that the packages (and the
// checksums recorded in the databases) are the same on every run.
const builddate = 1733011200 // 2024-12-01T00:00:00Z

var (
	upstreamCore = []pkg{
		{name: "glibc", version: "2.40+r16-1", arch: "x86_64", desc: "GNU C Library", provides: []string{"libc.so=6-64"}, file: "usr/lib/libc.so.6"},
		{name: "bash", version: "5.2.037-1", arch: "x86_64", desc: "The GNU Bourne Again shell", depends: []string{"glibc"}, provides: []string{"sh"}, file: "usr/bin/bash"},
		{name: "filesystem", version: "2024.11.21-1", arch: "any", desc: "Base Arch Linux files", file: "etc/os-release"},
		{name: "iana-etc", version: "20241206-1", arch: "any", desc: "/etc/protocols and /etc/services provided by IANA", file: "etc/services"},
	}
	upstreamExtra = []pkg{
		{name: "zlib", version: "1:1.3.1-2", arch: "x86_64", desc: "Compression library implementing the deflate compression method found in gzip and PKZIP", depends: []string{"glibc"}, file: "usr/lib/libz.so.1"},
		{name: "python", version: "3.12.7-1", arch: "x86_64", desc: "The Python programming language", depends: []string{"glibc", "zlib"}, file: "usr/bin/python3"},
		{name: "python-setuptools", version: "1:75.6.0-1", arch: "any", desc: "Easily download, build, install, upgrade, and uninstall Python packages", depends: []string{"python"}, file: "usr/lib/python3.12/site-packages/setuptools/__init__.py"},
	}
	portCore = []pkg{
		{name: "glibc", version: "2.40+r16-1", arch: "aarch64", desc: "GNU C Library", provides: []string{"libc.so=6-64"}, file: "usr/lib/libc.so.6"},
		{name: "bash", version: "5.2.037-1", arch: "aarch64", desc: "The GNU Bourne Again shell", depends: []string{"glibc"}, provides: []string{"sh"}, file: "usr/bin/bash"},
		{name: "filesystem", version: "2024.11.21-1", arch: "any", desc: "Base Arch Linux files", file: "etc/os-release"},
		{name: "iana-etc", version: "20240305-1", arch: "any", desc: "/etc/protocols and /etc/services provided by IANA", file: "etc/services"},
	}
	portExtra = []pkg{
		{name: "zlib", version: "1:1.3.1-2", arch: "aarch64", desc: "Compression library implementing the deflate compression method found in gzip and PKZIP", depends: []string{"glibc"}, file: "usr/lib/libz.so.1"},
		{name: "python", version: "3.12.7-1.1", arch: "aarch64", desc: "The Python programming language", depends: []string{"glibc", "zlib"}, file: "usr/bin/python3"},
	}

	repos = []repo{
		{"upstream/core/os/x86_64/core.db.tar.gz", upstreamCore},
		{"upstream/extra/os/x86_64/extra.db.tar.gz", upstreamExtra},
		{"port/core/os/aarch64/core.db.tar.gz", portCore},
		{"port/extra/os/aarch64/extra.db.tar.gz", portExtra},
		{"port/demo/os/aarch64/demo.db.tar.gz", nil}, // empty: the local PKGBUILDs are new
	}
)

func main() {
	dir := flag.String("dir", "examples/demo/repos", "the demo's repos directory")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		return fmt.Errorf("%s does not look like the demo's repos directory (run from the module root, or pass -dir): %w", dir, err)
	}
	tmp, err := os.MkdirTemp("", "portmake-demo-pkgs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, r := range repos {
		if err := write(filepath.Join(dir, filepath.FromSlash(r.db)), r.pkgs, tmp); err != nil {
			return err
		}
		fmt.Printf("wrote %s (%d packages)\n", filepath.Join(dir, filepath.FromSlash(r.db)), len(r.pkgs))
	}
	return nil
}

// write replaces the database at db with one holding pkgs.
func write(db string, pkgs []pkg, tmp string) error {
	d := filepath.Dir(db)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	name := strings.TrimSuffix(filepath.Base(db), ".db.tar.gz")
	for _, kind := range []string{"db", "files"} {
		for _, f := range []string{name + "." + kind, name + "." + kind + ".tar.gz", name + "." + kind + ".tar.gz.old"} {
			if err := os.Remove(filepath.Join(d, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	// Each repository gets its own package directory: upstream and port
	// packages can share a file name (arch=any ones).
	pkgDir, err := os.MkdirTemp(tmp, name+"-")
	if err != nil {
		return err
	}
	var files []string
	for _, p := range pkgs {
		f, err := build(pkgDir, p)
		if err != nil {
			return fmt.Errorf("%s: build %s: %w", db, p.name, err)
		}
		files = append(files, f)
	}
	// With no files, Add writes a valid empty database.
	if err := syncdb.Add(db, files, syncdb.AddOptions{}); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(d, "*.pkg.tar.zst"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	if !strings.HasPrefix(filepath.ToSlash(db), "upstream/") && !strings.Contains(filepath.ToSlash(db), "/upstream/") {
		return nil
	}
	for i, p := range pkgs {
		if p.arch != "any" {
			continue
		}
		data, err := os.ReadFile(files[i])
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, filepath.Base(files[i])), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// build writes p as a zstd package file into dir and returns its path.
func build(dir string, p pkg) (string, error) {
	data := []byte(fmt.Sprintf("%s %s (portmake demo placeholder)\n", p.name, p.version))
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%s = %s\n", k, v) }
	b.WriteString("# Generated by portmake's demo generator\n")
	line("pkgname", p.name)
	line("pkgbase", p.name)
	line("pkgver", p.version)
	line("pkgdesc", p.desc)
	line("url", "https://example.org/portmake-demo")
	line("builddate", fmt.Sprint(builddate))
	line("packager", "portmake demo <demo@example.org>")
	line("size", fmt.Sprint(len(data)))
	line("arch", p.arch)
	line("license", "custom")
	for _, v := range p.provides {
		line("provides", v)
	}
	for _, v := range p.depends {
		line("depend", v)
	}
	return pkgfiletest.Build(dir, []byte(b.String()), []pkgfiletest.File{{Name: p.file, Data: data}}, ".pkg.tar.zst")
}
