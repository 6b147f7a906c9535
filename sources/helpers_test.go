package sources

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestMain keeps the user's and the system's git configuration out of the
// tests: the fixtures must behave the same on every machine.
func TestMain(m *testing.M) {
	os.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	os.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	os.Setenv("GIT_AUTHOR_NAME", "portmake test")
	os.Setenv("GIT_AUTHOR_EMAIL", "test@portmake.invalid")
	os.Setenv("GIT_COMMITTER_NAME", "portmake test")
	os.Setenv("GIT_COMMITTER_EMAIL", "test@portmake.invalid")
	os.Exit(m.Run())
}

// gitT runs git in dir and returns its trimmed stdout, failing the test on
// error.
func gitT(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// remote is a bare repository with a work tree that pushes to it, as a
// packaging or AUR repository would look from portmake's side.
type remote struct {
	t    testing.TB
	bare string // what portmake is given as the URL
	work string
}

func newRemote(t testing.TB, bare string) *remote {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(bare), 0o755); err != nil {
		t.Fatal(err)
	}
	gitT(t, filepath.Dir(bare), "init", "--quiet", "--bare", "-b", "main", bare)
	work := bare + ".work"
	gitT(t, filepath.Dir(bare), "init", "--quiet", "-b", "main", work)
	gitT(t, work, "remote", "add", "origin", bare)
	return &remote{t: t, bare: bare, work: work}
}

// commit writes files (path -> content) into the work tree, commits,
// pushes the branch and returns the commit.
func (r *remote) commit(files map[string]string) string {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	gitT(r.t, r.work, "add", "-A")
	gitT(r.t, r.work, "commit", "--quiet", "--allow-empty", "-m", fmt.Sprintf("commit %d", len(files)))
	branch := gitT(r.t, r.work, "symbolic-ref", "--short", "HEAD")
	gitT(r.t, r.work, "push", "--quiet", "--force", "origin", branch)
	return gitT(r.t, r.work, "rev-parse", "HEAD")
}

// tag tags HEAD (annotated or not) and pushes the tag.
func (r *remote) tag(name string, annotated bool) {
	r.t.Helper()
	if annotated {
		gitT(r.t, r.work, "tag", "-a", "-m", "release "+name, name)
	} else {
		gitT(r.t, r.work, "tag", name)
	}
	gitT(r.t, r.work, "push", "--quiet", "origin", "refs/tags/"+name)
}

// branch creates or moves a branch to HEAD and pushes it.
func (r *remote) branch(name string) {
	r.t.Helper()
	gitT(r.t, r.work, "branch", "--force", name)
	gitT(r.t, r.work, "push", "--quiet", "--force", "origin", "refs/heads/"+name)
}

// memCache is an in-memory Cache that counts its traffic.
type memCache struct {
	mu         sync.Mutex
	m          map[string]string
	gets, puts int
}

func newMemCache() *memCache { return &memCache{m: map[string]string{}} }

func (c *memCache) Get(_ context.Context, key string) (string, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	v, ok := c.m[key]
	return v, ok, nil
}

func (c *memCache) Put(_ context.Context, key, value string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.puts++
	c.m[key] = value
	return nil
}

// countGit puts a git wrapper first on PATH that logs each invocation
// before running the real git, and returns a function that reports how
// many invocations there were since.
func countGit(t *testing.T) func() int {
	t.Helper()
	real, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	log := filepath.Join(bin, "calls.log")
	script := "#!/bin/sh\necho \"$*\" >> '" + log + "'\nexec '" + real + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() int {
		b, err := os.ReadFile(log)
		if os.IsNotExist(err) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(b), "\n")
	}
}

// srcinfoText is a minimal valid .SRCINFO for pkgbase at version.
func srcinfoText(pkgbase, pkgver, pkgrel string, depends ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pkgbase = %s\n\tpkgver = %s\n\tpkgrel = %s\n\tarch = x86_64\n", pkgbase, pkgver, pkgrel)
	for _, d := range depends {
		fmt.Fprintf(&b, "\tdepends = %s\n", d)
	}
	fmt.Fprintf(&b, "\npkgname = %s\n", pkgbase)
	return b.String()
}

func pkgbuildText(pkgbase, pkgver, pkgrel string) string {
	return fmt.Sprintf("pkgname=%s\npkgver=%s\npkgrel=%s\npkgdesc='test'\narch=(x86_64)\nlicense=(MIT)\ndepends=(glibc)\nmakedepends=(cmake)\n\npackage() {\n  :\n}\n", pkgbase, pkgver, pkgrel)
}

// testLogger sends debug logs to t.Log, shown with -v or on failure.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
