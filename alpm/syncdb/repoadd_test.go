package syncdb_test

// These tests hold portmake's writer to pacman's own tools: real packages
// built by makepkg, added by both repo-add and syncdb.Add, must give the
// same desc and files entries byte for byte, and pacman must read
// portmake's databases.

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/portmake/portmake/alpm/pkgfile/pkgfiletest"
	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/internal/testutil"
)

// A split package with an epoch, and every relation field repo-add writes.
const splitPKGBUILD = `pkgbase=demo
pkgname=(demo-a demo-b)
epoch=2
pkgver=1.0
pkgrel=3
pkgdesc="Demo  split	package"
arch=(x86_64)
options=(!strip !debug !zipman !purge)
url="https://example.org/demo"
license=(MIT 'Apache-2.0 OR MIT')
groups=(demo-group other-group)
depends=(glibc 'zlib>=1.2')
makedepends=(cmake)
checkdepends=(python)
package_demo-a() {
  provides=('demo=2.0' 'libdemo.so=1-64')
  conflicts=('olddemo<1')
  replaces=(olddemo)
  optdepends=('python: for the scripts' 'ruby')
  install -Dm644 /dev/null "$pkgdir/usr/share/demo/empty"
  echo hello > "$pkgdir/usr/share/demo/hello.txt"
  ln -s hello.txt "$pkgdir/usr/share/demo/link"
}
package_demo-b() {
  pkgdesc="Second half"
  depends=(demo-a)
  install -d "$pkgdir/etc/demo"
}
`

// A plain package without epoch, for any architecture, no files at all.
const metaPKGBUILD = `pkgname=meta-thing
pkgver=0.1.r5.gabc
pkgrel=1.1
pkgdesc="A meta package"
arch=(any)
options=(!strip !debug !zipman !purge)
license=(GPL-3.0-or-later)
depends=('demo-a>=2:1.0' 'demo-b')
package() { :; }
`

// makepkgRepo builds the PKGBUILDs with makepkg and returns the package
// files, sorted by base name.
func makepkgRepo(t *testing.T) []string {
	t.Helper()
	testutil.RequireTool(t, "makepkg")
	root := testutil.BuilderDir(t)
	var pkgs []string
	for name, pkgbuild := range map[string]string{"split": splitPKGBUILD, "meta": metaPKGBUILD} {
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "PKGBUILD"), []byte(pkgbuild), 0o644); err != nil {
			t.Fatal(err)
		}
		testutil.ChownTree(t, dir)
		testutil.Makepkg(t, dir, "--nodeps", "--noconfirm")
		got, _ := filepath.Glob(filepath.Join(dir, "*.pkg.tar.zst"))
		pkgs = append(pkgs, got...)
	}
	// demo-a, demo-b, meta-thing
	sort.Slice(pkgs, func(i, j int) bool { return filepath.Base(pkgs[i]) < filepath.Base(pkgs[j]) })
	if len(pkgs) != 3 {
		t.Fatalf("makepkg built %q, want 3 packages", pkgs)
	}
	return pkgs
}

// copyPkgs copies package files (and their .sig) into dir and returns the
// new paths.
func copyPkgs(t *testing.T, dir string, pkgs []string) []string {
	t.Helper()
	var out []string
	for _, p := range pkgs {
		for _, f := range []string{p, p + ".sig"} {
			data, err := os.ReadFile(f)
			if os.IsNotExist(err) && f != p {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, filepath.Join(dir, filepath.Base(p)))
	}
	return out
}

// runTool runs one of pacman's scripts in the C locale and fails the test on
// error.
func runTool(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return out
}

// sameEntries compares the members of two archives: names and contents.
func sameEntries(t *testing.T, ours, theirs string) {
	t.Helper()
	o, r := wEntries(t, ours), wEntries(t, theirs)
	if !reflect.DeepEqual(keys(o), keys(r)) {
		t.Fatalf("members differ:\nportmake %q\nrepo-add %q", keys(o), keys(r))
	}
	for _, k := range keys(o) {
		if o[k] != r[k] {
			t.Errorf("%s differs:\n--- portmake\n%s\n--- repo-add\n%s", k, o[k], r[k])
		}
	}
}

func TestAddMatchesRepoAdd(t *testing.T) {
	testutil.RequireTool(t, "repo-add", "repo-remove", "bsdtar", "pacman")
	pkgs := makepkgRepo(t)
	sig := make([]byte, 566) // any bytes; repo-add only base64s them
	rand.Read(sig)
	if err := os.WriteFile(pkgs[0]+".sig", sig, 0o644); err != nil {
		t.Fatal(err)
	}
	ours, theirs := t.TempDir(), t.TempDir()
	ourPkgs, theirPkgs := copyPkgs(t, ours, pkgs), copyPkgs(t, theirs, pkgs)
	ourDB, theirDB := filepath.Join(ours, "port.db.tar.gz"), filepath.Join(theirs, "port.db.tar.gz")

	runTool(t, "repo-add", append([]string{theirDB}, theirPkgs...)...)
	if err := syncdb.Add(ourDB, ourPkgs, syncdb.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	sameEntries(t, ourDB, theirDB)
	sameEntries(t, filepath.Join(ours, "port.files.tar.gz"), filepath.Join(theirs, "port.files.tar.gz"))
	if d := wEntries(t, ourDB); !strings.Contains(d[entryDir(t, pkgs[0])+"/desc"], "%PGPSIG%\n") {
		t.Fatal("signature not recorded")
	}

	// pacman reads portmake's database, and sees what it sees in repo-add's.
	for _, args := range [][]string{{"-Sl", "port"}, {"-Si", "demo-a"}, {"-Si", "demo-b"}, {"-Si", "meta-thing"}, {"-Sg", "demo-group"}} {
		got, want := pacmanRun(t, ours, args...), pacmanRun(t, theirs, args...)
		if got != want {
			t.Errorf("pacman %q differs:\n--- portmake\n%s\n--- repo-add\n%s", args, got, want)
		}
		if args[0] == "-Sl" && !strings.Contains(got, "port demo-a 2:1.0-3\n") {
			t.Errorf("pacman -Sl:\n%s", got)
		}
	}
	if got, want := pacmanRun(t, ours, "-Fl", "demo-a"), pacmanRun(t, theirs, "-Fl", "demo-a"); got != want || !strings.Contains(got, "usr/share/demo/hello.txt") {
		t.Errorf("pacman -Fl differs:\n--- portmake\n%s\n--- repo-add\n%s", got, want)
	}

	// Re-adding the same package and removing one keep the two in step.
	runTool(t, "repo-add", theirDB, theirPkgs[1])
	if err := syncdb.Add(ourDB, ourPkgs[1:2], syncdb.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	sameEntries(t, ourDB, theirDB)
	runTool(t, "repo-remove", theirDB, "demo-b")
	if err := syncdb.Remove(ourDB, []string{"demo-b"}); err != nil {
		t.Fatal(err)
	}
	sameEntries(t, ourDB, theirDB)
	sameEntries(t, filepath.Join(ours, "port.files.tar.gz"), filepath.Join(theirs, "port.files.tar.gz"))
	sameEntries(t, ourDB+".old", theirDB+".old")

	// Remove round-trips: the result is what adding the rest gives.
	fresh := t.TempDir()
	freshDB := filepath.Join(fresh, "port.db.tar.gz")
	rest := copyPkgs(t, fresh, []string{pkgs[0], pkgs[2]})
	if err := syncdb.Add(freshDB, rest, syncdb.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	sameEntries(t, ourDB, freshDB)

	// Down to empty: pacman still reads it.
	runTool(t, "repo-remove", theirDB, "demo-a", "meta-thing")
	if err := syncdb.Remove(ourDB, []string{"demo-a", "meta-thing"}); err != nil {
		t.Fatal(err)
	}
	sameEntries(t, ourDB, theirDB)
	if got := pacmanRun(t, ours, "-Sl", "port"); got != "" {
		t.Errorf("pacman -Sl of an empty database: %q", got)
	}
}

// entryDir is "<pkgname>-<version>" of a package file.
func entryDir(t *testing.T, pkg string) string {
	out := strings.Fields(string(runTool(t, "bsdtar", "-xOf", pkg, ".PKGINFO")))
	var name, ver string
	for i := 0; i+2 < len(out); i++ {
		switch out[i] {
		case "pkgname":
			name = out[i+2]
		case "pkgver":
			ver = out[i+2]
		}
	}
	return name + "-" + ver
}

// pacmanRun runs pacman against the "port" database in dir with a
// throw-away configuration, and fails on any error or warning.
func pacmanRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	tmp := t.TempDir()
	sync := filepath.Join(tmp, "sync")
	os.MkdirAll(sync, 0o755)
	os.MkdirAll(filepath.Join(tmp, "local"), 0o755)
	for _, kind := range []string{"db", "files"} {
		data, err := os.ReadFile(filepath.Join(dir, "port."+kind))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sync, "port."+kind), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(tmp, "pacman.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("[options]\nDBPath = %s/\nSigLevel = Never\n\n[port]\nServer = file:///nonexistent\n", tmp)), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pacman", append([]string{"--config", conf, "--dbpath", tmp, "--noconfirm"}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("pacman %q: %v\n%s", args, err, stderr.Bytes())
	}
	return stdout.String()
}

// TestAddMatchesRepoAddOnOddPKGINFO feeds repo-add and Add hand-made
// packages whose .PKGINFO uses every quirk of repo-add's parsing that
// portmake reproduces: spacing, tabs, '=' in values, comments, duplicate
// keys, no pkgbase, and file lists with "./" prefixes and dot directories.
func TestAddMatchesRepoAddOnOddPKGINFO(t *testing.T) {
	testutil.RequireTool(t, "repo-add", "bsdtar")
	infos := []string{
		"# comment\npkgname = odd\npkgver = 1:0.1+git=2-1\npkgdesc =   spaced\t\tout  desc  \nsize = 0\nbuilddate = 0\narch = any\n" +
			"  license = A  B\nlicense=C\ndepend = x=1\ndepend = y>=2\noptdepend = z: for = things\nprovides=p=3\nurl = https://x/?a=b\n",
		"pkgname=dup\npkgver=1-1\npkgver=2-2\npkgdesc=first\npkgdesc=second = last ==\nsize=10\nbuilddate=5\npackager = A <a@b>\ngroup = g\n",
		"pkgname = nodesc\npkgbase = base-of-it\npkgver = 3-1\nsize = 7\nbuilddate = 1\narch = x86_64\nxdata = pkgtype=pkg\nbackup = etc/x\n",
	}
	files := []pkgfiletest.File{
		{Name: "./usr/bin/x", Data: []byte("x")}, {Name: "usr/bin/x", Data: []byte("x")},
		{Name: ".hidden/y", Data: []byte("y")}, {Name: "usr/.dot", Data: nil}, {Name: "usr/B"}, {Name: "usr/a/"},
		{Name: ".INSTALL", Data: []byte("post_install() { :; }\n")},
	}
	src := t.TempDir()
	var pkgs []string
	for i, info := range infos {
		ext := []string{".pkg.tar.zst", ".pkg.tar.xz", ".pkg.tar.gz"}[i]
		p, err := pkgfiletest.Build(src, []byte(info), files[:len(files)-i], ext)
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	ours, theirs := t.TempDir(), t.TempDir()
	ourPkgs, theirPkgs := copyPkgs(t, ours, pkgs), copyPkgs(t, theirs, pkgs)
	runTool(t, "repo-add", append([]string{filepath.Join(theirs, "odd.db.tar.zst")}, theirPkgs...)...)
	if err := syncdb.Add(filepath.Join(ours, "odd.db.tar.zst"), ourPkgs, syncdb.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	sameEntries(t, filepath.Join(ours, "odd.db.tar.zst"), filepath.Join(theirs, "odd.db.tar.zst"))
	sameEntries(t, filepath.Join(ours, "odd.files.tar.zst"), filepath.Join(theirs, "odd.files.tar.zst"))
}
