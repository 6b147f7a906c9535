package executor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// evalPKGBUILD reports from inside the sandbox, through pkgdesc (which
// --printsrcinfo prints), what a PKGBUILD's global scope can see.
const evalPKGBUILD = `pkgname=probe
pkgver=1
pkgrel=1
arch=(any)
_seen=
[ -n "$PORTMAKE_TEST_SECRET" ] && _seen+=" secret"
[ -e "@PRIVATE@" ] && _seen+=" private"
[ -w /startdir ] && _seen+=" writable-startdir"
[ "$(id -u)" = 0 ] && _seen+=" root"
[ "$(grep -c : /proc/net/dev)" -gt 1 ] && _seen+=" network"
pkgdesc="seen:${_seen:- nothing}"
package() { :; }
`

func TestEvaluateSeesOnlyItsSandbox(t *testing.T) {
	sb := testSandbox(t)
	private := t.TempDir() // root's, mode 700, like a checkout under /root
	marker := filepath.Join(private, "marker")
	os.WriteFile(marker, nil, 0o644)
	src := filepath.Join(private, "pkg")
	os.MkdirAll(src, 0o700)
	os.WriteFile(filepath.Join(src, "PKGBUILD"), []byte(strings.Replace(evalPKGBUILD, "@PRIVATE@", marker, 1)), 0o600)
	t.Setenv("PORTMAKE_TEST_SECRET", "hunter2")
	out, err := sb.Evaluate(context.Background(), src, "", nil, "--printsrcinfo")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "pkgdesc = seen: nothing") {
		t.Errorf("the PKGBUILD saw more than its sandbox:\n%s", out)
	}
	if ents, _ := os.ReadDir(sb.ScratchDir); len(ents) != 0 {
		t.Errorf("evaluation left %v in the scratch dir", ents)
	}
}

func TestEvaluateLeavesNoDaemonAndTimesOut(t *testing.T) {
	sb := testSandbox(t)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "PKGBUILD"), []byte(`pkgname=d
pkgver=1
pkgrel=1
arch=(any)
(setsid sleep 1234 </dev/null >/dev/null 2>&1 &)
[ -e /startdir/hang ] && sleep 1000
package() { :; }
`), 0o644)
	if _, err := sb.Evaluate(context.Background(), src, "", nil, "--packagelist"); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command("pgrep", "-f", "sleep 1234").Output(); len(out) > 0 {
		t.Errorf("a daemon the PKGBUILD started outlived the evaluation: %s", out)
	}
	os.WriteFile(filepath.Join(src, "hang"), nil, 0o644)
	sb.EvalTimeout = 3 * time.Second
	start := time.Now()
	_, err := sb.Evaluate(context.Background(), src, "", nil, "--packagelist")
	if err == nil || !strings.Contains(err.Error(), "took longer than 3s to evaluate") {
		t.Errorf("a hanging PKGBUILD: %v", err)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("the timeout took %v", d)
	}
}

func TestCollectOutputsRefusesLinks(t *testing.T) {
	from, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	os.WriteFile(filepath.Join(from, "a-1-1-any.pkg.tar.zst"), []byte("package a"), 0o666)
	files, sums, err := collectOutputs([]string{"a-1-1-any.pkg.tar.zst", "a-debug-1-1-any.pkg.tar.zst"}, from, out)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(out, "a-1-1-any.pkg.tar.zst")
	if len(files) != 1 || files[0] != want || sums[want] != sum256([]byte("package a")) {
		t.Errorf("files %v sums %v", files, sums)
	}
	if fi, _ := os.Stat(want); fi.Mode().Perm() != 0o644 {
		t.Errorf("copied output mode %v", fi.Mode())
	}
	os.Symlink("/etc/passwd", filepath.Join(from, "b-1-1-any.pkg.tar.zst"))
	if _, _, err := collectOutputs([]string{"b-1-1-any.pkg.tar.zst"}, from, out); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a symlinked output: %v", err)
	}
	if _, _, err := collectOutputs([]string{"c-1-1-any.pkg.tar.zst"}, from, out); err == nil {
		t.Error("no output at all is not an error")
	}
}

func TestLimitedBuffer(t *testing.T) {
	b := &limitedBuffer{max: 5}
	for _, s := range []string{"abc", "def", "g"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("write %q: %d %v", s, n, err)
		}
	}
	if string(b.buf) != "abcde" || !b.over {
		t.Errorf("buf %q over %v", b.buf, b.over)
	}
}

func TestSweepScratch(t *testing.T) {
	dir := t.TempDir()
	dead := exec.Command("true")
	dead.Run()
	for _, name := range []string{
		"portmake-eval-" + itoa(dead.Process.Pid) + "-1", // a killed portmake's: removed
		"portmake-eval-" + itoa(os.Getpid()) + "-2",      // ours: kept
		"portmake-eval-1-3",                              // init's, alive: kept
		"portmake-packagelist-4",                         // an older version's, fresh: kept
		"portmake-packagelist-5",                         // an older version's, old: removed
		"unrelated",
	} {
		os.MkdirAll(filepath.Join(dir, name, "sub"), 0o700)
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(filepath.Join(dir, "portmake-packagelist-5"), old, old)
	(&Sandbox{ScratchDir: dir}).sweepScratch()
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	want := "portmake-eval-1-3 portmake-eval-" + itoa(os.Getpid()) + "-2 portmake-packagelist-4 unrelated"
	if got := strings.Join(left, " "); got != want {
		t.Errorf("left %q, want %q", got, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// BenchmarkEvaluate measures one sandboxed makepkg --printsrcinfo of a
// small PKGBUILD: the cost the sandbox adds to planning a local PKGBUILD
// without .SRCINFO, and to each build (four makepkg calls).
func BenchmarkEvaluate(b *testing.B) {
	sb := testSandbox(b)
	src := b.TempDir()
	os.WriteFile(filepath.Join(src, "PKGBUILD"), []byte("pkgname=b\npkgver=1\npkgrel=1\narch=(any)\npackage() { :; }\n"), 0o644)
	for b.Loop() {
		if _, err := sb.Evaluate(context.Background(), src, "", nil, "--printsrcinfo"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestProxyReachesOnlyTheDownloadSandbox: the proxy settings of
// portmake's environment are passed to the sandbox that downloads sources
// and to no other, and a proxy password never shows in the command line.
func TestProxyReachesOnlyTheDownloadSandbox(t *testing.T) {
	t.Setenv("https_proxy", "http://farm:s3cret@proxy.example:3128")
	t.Setenv("NO_PROXY", "localhost")
	t.Setenv("http_proxy", "")
	s := &Sandbox{}
	ws := &workspace{dir: t.TempDir()}
	setenv := func(c Command) map[string]string {
		m := map[string]string{}
		for i := 0; i+2 < len(c.Args); i++ {
			if c.Args[i] == "--setenv" {
				m[c.Args[i+1]] = c.Args[i+2]
			}
		}
		return m
	}
	dl := s.command(inSandbox{ws: ws, network: true, writable: true, args: []string{"makepkg", "--verifysource"}})
	env := setenv(dl)
	if env["https_proxy"] != "http://farm:s3cret@proxy.example:3128" || env["NO_PROXY"] != "localhost" {
		t.Errorf("download sandbox environment %v", env)
	}
	if _, ok := env["http_proxy"]; ok {
		t.Error("an empty proxy variable was passed")
	}
	if strings.Contains(dl.String(), "s3cret") {
		t.Errorf("the proxy password shows: %s", dl)
	}
	build := s.command(inSandbox{ws: ws, writable: true, args: []string{"makepkg"}})
	if env := setenv(build); env["https_proxy"] != "" || env["NO_PROXY"] != "" {
		t.Errorf("the build sandbox (no network) got the proxy: %v", env)
	}
}
