// Package testutil holds helpers shared by portmake's tests: locating the
// real-data corpus, requiring external tools, and running makepkg as an
// unprivileged user. It is imported only from _test.go files.
package testutil

import (
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// BuildUser is the unprivileged account tests use to run makepkg when they
// run as root. .ci/run creates it.
const BuildUser = "builder"

// Corpus returns the shared real-data directory ($PORTMAKE_CORPUS, else
// ../shared/data beside the repository). It skips the test when the corpus
// is missing, unless CI is set, where a missing corpus is a failure.
func Corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("PORTMAKE_CORPUS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "data")
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus %s: %v (CI is set, so this is a failure)", dir, err)
		}
		t.Skipf("corpus %s not found; set PORTMAKE_CORPUS", dir)
	}
	return dir
}

// RequireTool skips the test when a tool is not on PATH, unless CI is set:
// CI installs every tool, so there a missing one fails the test.
func RequireTool(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not found on PATH (CI is set, so this is a failure)", n)
			}
			t.Skipf("%s not found on PATH", n)
		}
	}
}

// BuilderDir returns a fresh directory that the build user can write: when
// running as root it lives outside t.TempDir (whose parents are private to
// root) and is owned by BuildUser. It is removed at the end of the test.
func BuilderDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "portmake-build-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		uid, gid := lookupBuildUser(t)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Makepkg runs makepkg with args in dir, as BuildUser when running as root,
// with PKGEXT=.pkg.tar.zst. It returns combined output and fails the test
// on error.
func Makepkg(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	RequireTool(t, "makepkg")
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		lookupBuildUser(t)
		RequireTool(t, "runuser")
		cmd = exec.Command("runuser", append([]string{"-u", BuildUser, "--", "makepkg"}, args...)...)
	} else {
		cmd = exec.Command("makepkg", args...)
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PKGEXT=.pkg.tar.zst", "PKGDEST="+dir, "SRCDEST="+dir, "BUILDDIR="+filepath.Join(dir, "build"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("makepkg %v in %s: %v\n%s", args, dir, err, out.Bytes())
	}
	return out.Bytes()
}

// ChownTree hands every file under dir to the build user (when root), for
// fixtures written by the test before makepkg runs.
func ChownTree(t testing.TB, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	uid, gid := lookupBuildUser(t)
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func lookupBuildUser(t testing.TB) (int, int) {
	t.Helper()
	u, err := user.Lookup(BuildUser)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("user %q is missing (create it with useradd -m %s)", BuildUser, BuildUser)
		}
		t.Skipf("user %q is missing; run: useradd -m %s", BuildUser, BuildUser)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid
}

// Script writes an executable /bin/sh script named name into dir and
// returns its path.
func Script(t testing.TB, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
