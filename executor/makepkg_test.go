package executor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portmake/portmake/internal/testutil"
)

// realPKGBUILD is a split package whose build checks the sandbox from the
// inside: no network interface but lo, and a /tmp of its own.
const realPKGBUILD = `pkgbase=pmdemo
pkgname=(pmdemo pmdemo-libs)
pkgver=1.0
pkgrel=@REL@
arch=(x86_64 aarch64)
license=(MIT)
source=(hello.txt)
sha256sums=(SKIP)
build() {
	test "$(grep -c : /proc/net/dev)" -eq 1 || { echo "network is reachable"; cat /proc/net/dev; return 1; }
	test ! -e /tmp/portmake-canary || { echo "host /tmp is visible"; return 1; }
	cp "$srcdir/hello.txt" "$srcdir/built.txt"
}
package_pmdemo() { install -Dm644 "$srcdir/built.txt" "$pkgdir/usr/share/pmdemo/hello.txt"; }
package_pmdemo-libs() { install -Dm644 "$srcdir/hello.txt" "$pkgdir/usr/share/pmdemo/libs.txt"; }
`

func writeRealSource(t *testing.T, dir, rel string) {
	t.Helper()
	os.WriteFile(filepath.Join(dir, "PKGBUILD"), []byte(strings.Replace(realPKGBUILD, "@REL@", rel, 1)), 0o644)
	os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644)
}

// testSandbox returns a sandbox for tests: as root it drops to
// testutil.BuildUser, otherwise it runs as the test's user.
func testSandbox(t testing.TB) *Sandbox {
	t.Helper()
	testutil.RequireTool(t, "bwrap", "makepkg")
	if os.Geteuid() == 0 {
		testutil.RequireTool(t, "setpriv")
	}
	u, err := ResolveBuildUser(testutil.BuildUser)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return &Sandbox{User: u, ScratchDir: t.TempDir()}
}

// pacmanList runs pacman -Sl on a copy of the repo's DB, with a
// throw-away configuration.
func pacmanList(t *testing.T, db, repo string) string {
	t.Helper()
	tmp := t.TempDir()
	for _, d := range []string{"db/sync", "db/local", "cache", "gpg"} {
		os.MkdirAll(filepath.Join(tmp, d), 0o755)
	}
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(tmp, "db/sync", repo+".db"), data, 0o644)
	conf := filepath.Join(tmp, "pacman.conf")
	os.WriteFile(conf, []byte("[options]\nDBPath = "+tmp+"/db\nCacheDir = "+tmp+"/cache\nLogFile = "+tmp+"/log\nGPGDir = "+tmp+"/gpg\n"+
		"SigLevel = Never\nArchitecture = auto\n\n["+repo+"]\nServer = file:///nonexistent\n"), 0o644)
	out, err := exec.Command("pacman", "--config", conf, "-Sl", repo).CombinedOutput()
	if err != nil {
		t.Fatalf("pacman -Sl: %v\n%s", err, out)
	}
	return string(out)
}

func TestMakepkgBuildAndPublish(t *testing.T) {
	testutil.RequireTool(t, "makepkg", "bwrap", "pacman", "repo-add")
	if os.Geteuid() == 0 {
		testutil.RequireTool(t, "runuser")
	}
	os.WriteFile("/tmp/portmake-canary", nil, 0o644)
	defer os.Remove("/tmp/portmake-canary")
	// A private directory, as root's /root or t.TempDir: the build user
	// never needs to reach it.
	base := t.TempDir()
	src := filepath.Join(base, "src")
	os.MkdirAll(src, 0o755)
	writeRealSource(t, src, "1")
	b := &Makepkg{Sandbox: testSandbox(t), WorkDir: filepath.Join(base, "work"), PkgDest: filepath.Join(base, "pkg")}
	repo := t.TempDir()
	pub := &DirPublisher{Root: repo, Arch: "x86_64", DB: testRepoDB}
	rec := newMemRecorder()
	logs := t.TempDir()
	e := &Executor{Builder: b, Publisher: pub, Recorder: rec, Options: Options{Jobs: 2, LogDir: logs, KeepLogs: 3}}
	j := &Job{ID: "hash1", Pkgbase: "pmdemo", Version: "1.0-1", SourceDir: src, Publish: "port", Arch: "x86_64"}
	s, err := e.Run(context.Background(), []*Job{j})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Results["hash1"]
	if r.Outcome != Built {
		data, _ := os.ReadFile(r.LogPath)
		t.Fatalf("%v: %v\n%s", r.Outcome, r.Err, data)
	}
	if r.MaxRSS <= 0 || r.ExitCode != 0 {
		t.Errorf("peak RSS %d, exit %d", r.MaxRSS, r.ExitCode)
	}
	wantFiles := []string{
		filepath.Join(b.PkgDest, "hash1", "pmdemo-1.0-1-x86_64.pkg.tar.zst"),
		filepath.Join(b.PkgDest, "hash1", "pmdemo-libs-1.0-1-x86_64.pkg.tar.zst"),
	}
	if !slices.Equal(r.Files, wantFiles) {
		t.Errorf("files %v, want %v", r.Files, wantFiles)
	}
	if _, err := os.Stat(b.workspace(j).dir); err == nil {
		t.Error("workspace left after a successful build")
	}
	for _, f := range r.Files {
		data, _ := os.ReadFile(f)
		if sum := sha256.Sum256(data); r.SHA256[f] != hex.EncodeToString(sum[:]) {
			t.Errorf("sha256 of %s: result says %q", f, r.SHA256[f])
		}
		if fi, err := os.Stat(f); err != nil || fi.Sys().(*syscall.Stat_t).Uid != uint32(os.Geteuid()) || fi.Mode().Perm()&0o022 != 0 {
			t.Errorf("%s is not portmake's own, read-only for others: %v", f, fi.Mode())
		}
	}
	db := filepath.Join(pub.Dir("port"), "port.db.tar.gz")
	if got, want := pacmanList(t, db, "port"), "port pmdemo 1.0-1\nport pmdemo-libs 1.0-1\n"; got != want {
		t.Errorf("pacman -Sl:\n%s\nwant\n%s", got, want)
	}
	if got := rec.builds[1].published; len(got) != 2 {
		t.Errorf("publication not recorded: %v", got)
	}
	logData, _ := os.ReadFile(r.LogPath)
	for _, want := range []string{"setpriv --reuid", "--unshare-net", "==> Finished making: pmdemo 1.0-1", "result: built"} {
		if os.Geteuid() != 0 && strings.HasPrefix(want, "setpriv") {
			continue
		}
		if !bytes.Contains(logData, []byte(want)) {
			t.Errorf("log lacks %q:\n%s", want, logData)
		}
	}

	// A new release replaces the old one in the repository.
	writeRealSource(t, src, "2")
	j2 := &Job{ID: "hash2", Pkgbase: "pmdemo", Version: "1.0-2", SourceDir: src, Publish: "port", Arch: "x86_64"}
	s, err = e.Run(context.Background(), []*Job{j2})
	if err != nil || !s.OK() {
		t.Fatalf("%v %v", err, s.Results["hash2"].Err)
	}
	if got, want := pacmanList(t, db, "port"), "port pmdemo 1.0-2\nport pmdemo-libs 1.0-2\n"; got != want {
		t.Errorf("pacman -Sl:\n%s\nwant\n%s", got, want)
	}
	ents, _ := os.ReadDir(pub.Dir("port"))
	for _, e := range ents {
		if strings.Contains(e.Name(), "1.0-1") {
			t.Errorf("old version %s left in the repository", e.Name())
		}
	}
	// And a second run builds nothing.
	s, _ = e.Run(context.Background(), []*Job{j2})
	if s.Results["hash2"].Outcome != UpToDate {
		t.Errorf("second run: %v", s.Results["hash2"].Outcome)
	}
}

func TestMakepkgBuildFailureAndAbort(t *testing.T) {
	testutil.RequireTool(t, "makepkg", "bwrap")
	base := t.TempDir()
	src := filepath.Join(base, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "PKGBUILD"), []byte(`pkgname=pmslow
pkgver=1
pkgrel=1
arch=(any)
build() { echo started > "$startdir/started"; sleep 1000; }
package() { :; }
`), 0o644)
	b := &Makepkg{Sandbox: testSandbox(t), WorkDir: filepath.Join(base, "work"), PkgDest: filepath.Join(base, "pkg")}
	j := &Job{ID: "slow", Pkgbase: "pmslow", Version: "1-1", SourceDir: src}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(filepath.Join(b.workspace(j).startdir(), "started")); err == nil {
				cancel()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var log bytes.Buffer
	_, err := b.Build(ctx, j, &log, nil)
	if err == nil || !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("build ended without the cancellation: %v\n%s", err, log.String())
	}
	if _, err := os.Stat(b.workspace(j).dir); err == nil {
		t.Error("an aborted build's workspace was kept")
	}
	out, _ := exec.Command("pgrep", "-f", "sleep 1000").Output()
	if len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("sandboxed processes survived the cancellation: %s", out)
	}
}

// TestMakepkgConcurrentBuilds runs two builds at once on one fresh
// builder, so that one worker computes its commands while the other
// probes the sandbox. CI runs it under -race.
func TestMakepkgConcurrentBuilds(t *testing.T) {
	base := t.TempDir()
	b := &Makepkg{Sandbox: testSandbox(t), WorkDir: filepath.Join(base, "work"), PkgDest: filepath.Join(base, "pkg")}
	var jobs []*Job
	for _, name := range []string{"pmone", "pmtwo"} {
		src := filepath.Join(base, "src-"+name)
		os.MkdirAll(src, 0o755)
		pkgbuild := "pkgname=" + name + "\npkgver=1\npkgrel=1\narch=(any)\npackage() { :; }\n"
		os.WriteFile(filepath.Join(src, "PKGBUILD"), []byte(pkgbuild), 0o644)
		jobs = append(jobs, &Job{ID: "hash-" + name, Pkgbase: name, Version: "1-1", SourceDir: src, Arch: "x86_64"})
	}
	e := &Executor{Builder: b, Recorder: newMemRecorder(), Options: Options{Jobs: 2, LogDir: t.TempDir()}}
	s, err := e.Run(context.Background(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if r := s.Results[j.ID]; r.Outcome != Built {
			data, _ := os.ReadFile(r.LogPath)
			t.Errorf("%s: %v: %v\n%s", j.Pkgbase, r.Outcome, r.Err, data)
		}
	}
}
