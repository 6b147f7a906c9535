package executor

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portmake/portmake/internal/testutil"
)

// The fake devtools record their argv, one argument per line and a
// "--end--" line per call, and do what the real ones leave behind: a base
// root, a working copy with its lock, and package files in $PKGDEST.
const fakeMakechrootpkg = `
printf '%s\n' "$@" --end-- >> "$FAKE_RECORD/makechrootpkg"
r= l= d=
while [ $# -gt 0 ]; do
	case $1 in
	-r) r=$2; shift ;;
	-l) l=$2; shift ;;
	-d) d=$2; shift ;;
	--) break ;;
	esac
	shift
done
mkdir -p "$r/$l/build" && : > "$r/$l.lock"
echo "==> Making package: $l"
if [ -n "$FAKE_CACHE_PROBE" ]; then
	# What the cache held when the build began; then a download lands in it.
	echo "cache: $(ls -A "$d")" >> "$FAKE_RECORD/cache"
	: > "$d/downloaded-1-1-x86_64.pkg.tar.zst"
fi
if [ -n "$FAKE_FAIL" ]; then echo "==> ERROR: A failure occurred in check()."; exit 2; fi
for f in $FAKE_OUT; do echo "pkg $f" > "$PKGDEST/$f"; done
`

const fakeMkarchroot = `
printf '%s\n' "$@" --end-- >> "$FAKE_RECORD/mkarchroot"
for a; do last=$prev; prev=$a; done
mkdir -p "$last"
`

const demoPKGBUILD = `pkgbase=demo
pkgname=(demo demo-libs)
pkgver=1.0
pkgrel=1
arch=(x86_64)
package_demo() { :; }
package_demo-libs() { :; }
`

// calls reads a fake's recorded invocations.
func calls(t *testing.T, record, name string) [][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(record, name))
	if err != nil {
		return nil
	}
	var out [][]string
	var cur []string
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if l == "--end--" {
			out = append(out, cur)
			cur = nil
			continue
		}
		cur = append(cur, l)
	}
	return out
}

type chrootFixture struct {
	record, chroot, pkgdest, src string
	b                            *Chroot
}

func newChrootFixture(t *testing.T) *chrootFixture {
	testutil.RequireTool(t, "makepkg", "sh")
	bin := t.TempDir()
	testutil.Script(t, bin, "makechrootpkg", fakeMakechrootpkg)
	testutil.Script(t, bin, "mkarchroot", fakeMkarchroot)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	f := &chrootFixture{record: t.TempDir(), chroot: filepath.Join(t.TempDir(), "chroot"), pkgdest: t.TempDir()}
	t.Setenv("FAKE_RECORD", f.record)
	// The sandbox copies the PKGBUILD tree: it may be private to root.
	f.src = t.TempDir()
	if err := os.WriteFile(filepath.Join(f.src, "PKGBUILD"), []byte(demoPKGBUILD), 0o644); err != nil {
		t.Fatal(err)
	}
	f.b = &Chroot{Dir: f.chroot, PacmanConf: "/etc/pacman.conf", MakepkgConf: "/etc/makepkg.conf", CacheDir: "/var/cache/pacman/pkg",
		PkgDest: f.pkgdest, WorkDir: t.TempDir(), Sandbox: testSandbox(t)}
	return f
}

func (f *chrootFixture) job(id string, stage int) *Job {
	return &Job{ID: id, Pkgbase: "demo", Version: "1.0-1", Stage: stage, SourceDir: f.src, Arch: "x86_64",
		// The PKGBUILD's packages, and a file of another build that
		// happens to land in the same place and must not be reported.
		Env: []string{"FAKE_OUT=demo-1.0-1-x86_64.pkg.tar.gz demo-libs-1.0-1-x86_64.pkg.tar.gz other-2-1-x86_64.pkg.tar.gz"}}
}

func TestChrootBuilderInvocations(t *testing.T) {
	f := newChrootFixture(t)
	ctx := context.Background()
	stage1 := f.job("0123456789abcdef", 1)
	deps := []string{"/pkgs/a-1-1-x86_64.pkg.tar.zst", "/pkgs/b-1-1-x86_64.pkg.tar.zst"}
	var log bytes.Buffer
	out, err := f.b.Build(ctx, stage1, &log, deps)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	stage2 := f.job("fedcba9876543210", 2)
	stage2.IgnoreArch = true
	if _, err := f.b.Build(ctx, stage2, &log, nil); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	nocheck := f.job("nocheck00000000", 0)
	nocheck.Nocheck = true
	if _, err := f.b.Build(ctx, nocheck, &log, nil); err != nil {
		t.Fatal(err)
	}

	wantRoot := [][]string{{"-C", "/etc/pacman.conf", "-M", "/etc/makepkg.conf", filepath.Join(f.chroot, "root"), "base-devel"}}
	if got := calls(t, f.record, "mkarchroot"); !slices.EqualFunc(got, wantRoot, slices.Equal) {
		t.Errorf("mkarchroot calls %q, want %q (once)", got, wantRoot)
	}
	common := []string{"--", "--syncdeps", "--noconfirm", "--log", "--holdver", "--skippgpcheck"}
	var user []string
	if os.Geteuid() == 0 {
		user = []string{"-U", testutil.BuildUser}
	}
	head := func(l string) []string {
		return append(append([]string{"-r", f.chroot, "-l", l}, user...), "-d", "/var/cache/pacman/pkg")
	}
	want := [][]string{
		append(append(head("portmake-demo-0123456789ab"), "-I", deps[0], "-I", deps[1]), append(common, "--nocheck")...),
		append(head("portmake-demo-fedcba987654"), append(common, "--ignorearch")...),
		append(head("portmake-demo-nocheck00000"), append(common, "--nocheck")...),
	}
	got := calls(t, f.record, "makechrootpkg")
	if len(got) != len(want) {
		t.Fatalf("makechrootpkg calls:\n%q\nwant\n%q", got, want)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("makechrootpkg call %d:\n%q\nwant\n%q", i, got[i], want[i])
		}
	}
	wantFiles := []string{
		filepath.Join(f.pkgdest, stage1.ID, "demo-1.0-1-x86_64.pkg.tar.gz"),
		filepath.Join(f.pkgdest, stage1.ID, "demo-libs-1.0-1-x86_64.pkg.tar.gz"),
	}
	if !slices.Equal(out.Files, wantFiles) {
		t.Errorf("files %q, want %q (from makepkg --packagelist, not a glob)", out.Files, wantFiles)
	}
	ents, _ := os.ReadDir(f.chroot)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, []string{"root"}) {
		t.Errorf("chroot dir holds %v, want only root (working copies removed)", left)
	}
}

func TestChrootFreshCache(t *testing.T) {
	f := newChrootFixture(t)
	t.Setenv("FAKE_CACHE_PROBE", "1")
	shared := t.TempDir()
	f.b.CacheDir = shared
	build := func(id string) {
		t.Helper()
		var log bytes.Buffer
		if _, err := f.b.Build(context.Background(), f.job(id, 0), &log, nil); err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
	}
	// The shared cache keeps what a build downloaded, for the next one.
	build("aaaaaaaaaaaaaaaa")
	build("bbbbbbbbbbbbbbbb")
	// --no-cache: each build starts from an empty cache of its own, which
	// is gone afterwards; the shared one is not touched.
	fresh := filepath.Join(t.TempDir(), "nocache")
	f.b.FreshCache = fresh
	build("cccccccccccccccc")
	build("dddddddddddddddd")
	data, _ := os.ReadFile(filepath.Join(f.record, "cache"))
	want := "cache: \ncache: downloaded-1-1-x86_64.pkg.tar.zst\ncache: \ncache: \n"
	if string(data) != want {
		t.Errorf("the builds saw these caches:\n%s\nwant\n%s", data, want)
	}
	got := calls(t, f.record, "makechrootpkg")
	cacheArg := func(argv []string) string {
		if i := slices.Index(argv, "-d"); i >= 0 && i+1 < len(argv) {
			return argv[i+1]
		}
		return ""
	}
	if len(got) != 4 || cacheArg(got[2]) != filepath.Join(fresh, "portmake-demo-cccccccccccc") || cacheArg(got[3]) != filepath.Join(fresh, "portmake-demo-dddddddddddd") {
		t.Errorf("makechrootpkg calls %q, want -d %s/<copy> for the last two", got, fresh)
	}
	if ents, _ := os.ReadDir(fresh); len(ents) != 0 {
		t.Errorf("fresh caches left behind: %v", ents)
	}
	if ents, _ := os.ReadDir(shared); len(ents) != 1 {
		t.Errorf("shared cache holds %v, want only the first builds' download", ents)
	}
	// The dry run shows the fresh cache too.
	cmds, err := f.b.Commands(f.job("eeeeeeeeeeeeeeee", 0), nil)
	if err != nil || !slices.Contains(cmds[len(cmds)-1].Args, filepath.Join(fresh, "portmake-demo-eeeeeeeeeeee")) {
		t.Errorf("Commands: %v %v, want the fresh cache", cmds, err)
	}
}

func TestChrootBuilderKeepsFailedCopies(t *testing.T) {
	f := newChrootFixture(t)
	t.Setenv("FAKE_FAIL", "1")
	j := f.job("aaaaaaaaaaaaaaaa", 0)
	var log bytes.Buffer
	out, err := f.b.Build(context.Background(), j, &log, nil)
	if err == nil || out.ExitCode != 2 {
		t.Fatalf("exit %d, err %v", out.ExitCode, err)
	}
	copyDir := filepath.Join(f.chroot, copyName(j))
	if _, err := os.Stat(copyDir); err != nil {
		t.Errorf("the failed build's working copy is gone: %v", err)
	}
	if !strings.Contains(log.String(), "kept the working copy "+copyDir) {
		t.Errorf("log does not say where the copy is:\n%s", log.String())
	}
	// The next attempt starts from a clean copy and, told to, cleans up.
	os.WriteFile(filepath.Join(copyDir, "stale"), nil, 0o644)
	f.b.CleanupOnFailure = true
	if _, err := f.b.Build(context.Background(), j, &log, nil); err == nil {
		t.Fatal("no error")
	}
	for _, p := range []string{copyDir, copyDir + ".lock"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left with --cleanup-on-failure", p)
		}
	}
}

func TestChrootDryRunPrintsExactCommands(t *testing.T) {
	f := newChrootFixture(t)
	repo := t.TempDir()
	pub := &DirPublisher{Root: repo, Arch: "x86_64", DB: testRepoDB}
	a := f.job("1111111111111111", 1)
	a.Publish = "core-testing"
	b := &Job{ID: "2222222222222222", Pkgbase: "demo", Version: "1.0-1", Stage: 2, Deps: []string{a.ID}, SourceDir: f.src, Publish: "core-testing"}
	var out bytes.Buffer
	s, err := (&Executor{Builder: f.b, Recorder: newMemRecorder(), Publisher: pub, Options: Options{DryRun: &out}}).Run(context.Background(), []*Job{b, a})
	if err != nil || !s.OK() {
		t.Fatal(err, outcomeOf(s))
	}
	pd1 := filepath.Join(f.pkgdest, a.ID)
	dst := filepath.Join(repo, "core-testing", "os", "x86_64")
	wa, wb := f.b.workspace(a), f.b.workspace(b)
	user := ""
	if os.Geteuid() == 0 {
		user = " -U " + testutil.BuildUser
	}
	want := strings.NewReplacer("$CHROOT", f.chroot, "$SRC", f.src, "$PD1", pd1, "$PD2", filepath.Join(f.pkgdest, b.ID), "$DST", dst,
		"$VERIFY1", f.b.verifySource(a).String(), "$VERIFY2", f.b.verifySource(b).String(), "$USER", user,
		"$W1", wa.dir, "$W2", wb.dir).Replace(
		`# build demo (stage 1) 1.0-1 [1111111111111111]
mkarchroot -C /etc/pacman.conf -M /etc/makepkg.conf $CHROOT/root base-devel
$VERIFY1
cd $SRC && PKGDEST=$W1/pkgdest SRCDEST=$W1/srcdest FAKE_OUT='demo-1.0-1-x86_64.pkg.tar.gz demo-libs-1.0-1-x86_64.pkg.tar.gz other-2-1-x86_64.pkg.tar.gz' makechrootpkg -r $CHROOT -l portmake-demo-111111111111$USER -d /var/cache/pacman/pkg -- --syncdeps --noconfirm --log --holdver --skippgpcheck --nocheck
# publish demo (stage 1) to core-testing
install -D -m 0644 $PD1/demo-1.0-1-x86_64.pkg.tar.gz $DST/demo-1.0-1-x86_64.pkg.tar.gz
install -D -m 0644 $PD1/demo-libs-1.0-1-x86_64.pkg.tar.gz $DST/demo-libs-1.0-1-x86_64.pkg.tar.gz
portmake repo add --remove-old $DST/core-testing.db.tar.gz $DST/demo-1.0-1-x86_64.pkg.tar.gz $DST/demo-libs-1.0-1-x86_64.pkg.tar.gz
# build demo (stage 2) 1.0-1 [2222222222222222]
mkarchroot -C /etc/pacman.conf -M /etc/makepkg.conf $CHROOT/root base-devel
$VERIFY2
cd $SRC && PKGDEST=$W2/pkgdest SRCDEST=$W2/srcdest makechrootpkg -r $CHROOT -l portmake-demo-222222222222$USER -d /var/cache/pacman/pkg -I $PD1/demo-1.0-1-x86_64.pkg.tar.gz -I $PD1/demo-libs-1.0-1-x86_64.pkg.tar.gz -- --syncdeps --noconfirm --log --holdver --skippgpcheck
# publish demo (stage 2) to core-testing
install -D -m 0644 $PD2/demo-1.0-1-x86_64.pkg.tar.gz $DST/demo-1.0-1-x86_64.pkg.tar.gz
install -D -m 0644 $PD2/demo-libs-1.0-1-x86_64.pkg.tar.gz $DST/demo-libs-1.0-1-x86_64.pkg.tar.gz
portmake repo add --remove-old $DST/core-testing.db.tar.gz $DST/demo-1.0-1-x86_64.pkg.tar.gz $DST/demo-libs-1.0-1-x86_64.pkg.tar.gz
`)
	if out.String() != want {
		t.Errorf("dry run:\n%s\nwant\n%s", out.String(), want)
	}
	if calls(t, f.record, "makechrootpkg") != nil || calls(t, f.record, "mkarchroot") != nil {
		t.Error("the dry run ran a builder command")
	}
}
