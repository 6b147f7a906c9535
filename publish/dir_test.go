package publish

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func dirRepo(t testing.TB) (*Dir, *Repo) {
	t.Helper()
	d := &Dir{Root: t.TempDir()}
	return d, &Repo{Backend: d, Name: "extra", Arch: "aarch64", TempDir: t.TempDir()}
}

func TestDirPublishSupersedes(t *testing.T) {
	ctx := context.Background()
	d, r := dirRepo(t)
	out := t.TempDir()
	foo1 := mkpkg(t, filepath.Join(out, "1"), pkgSpec{name: "foo", ver: "1.0-1", payload: "a"})
	libs1 := mkpkg(t, filepath.Join(out, "1"), pkgSpec{name: "foo-libs", base: "foo", ver: "1.0-1", payload: "a"})
	bar := mkpkg(t, filepath.Join(out, "b"), pkgSpec{name: "bar", ver: "2-1", arch: "any", payload: "b"})
	if _, err := r.Publish(ctx, []File{foo1, libs1}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Publish(ctx, []File{bar}); err != nil {
		t.Fatal(err)
	}
	foo2 := mkpkg(t, filepath.Join(out, "2"), pkgSpec{name: "foo", ver: "1.1-1", payload: "c"})
	libs2 := mkpkg(t, filepath.Join(out, "2"), pkgSpec{name: "foo-libs", base: "foo", ver: "1.1-1", payload: "c"})
	pub, err := r.Publish(ctx, []File{foo2, libs2})
	if err != nil {
		t.Fatal(err)
	}
	if len(pub) != 2 || pub[0].Name != "foo-1.1-1-aarch64.pkg.tar.zst" || pub[0].SHA256 != foo2.SHA256 {
		t.Errorf("published %+v", pub)
	}
	names := consistent(t, d, r)
	want := []string{"bar-2-1-any.pkg.tar.zst", "foo-1.1-1-aarch64.pkg.tar.zst", "foo-libs-1.1-1-aarch64.pkg.tar.zst"}
	if !slices.Equal(names, want) {
		t.Errorf("database lists %v, want %v", names, want)
	}
	wantKeys := append(slices.Clone(want), "extra.db", "extra.db.tar.gz", "extra.files", "extra.files.tar.gz")
	slices.Sort(wantKeys)
	if got := keys(t, d, r); !slices.Equal(got, wantKeys) {
		t.Errorf("repository holds %v, want %v (old versions, journals, staged and temporary files gone)", got, wantKeys)
	}
	if l, err := os.Readlink(filepath.Join(d.Root, r.key("extra.db"))); err != nil || l != "extra.db.tar.gz" {
		t.Errorf("extra.db is not repo-add's symlink: %q %v", l, err)
	}
}

func TestPublishRefusesUnvouchedBytes(t *testing.T) {
	ctx := context.Background()
	d, r := dirRepo(t)
	f := mkpkg(t, t.TempDir(), pkgSpec{name: "foo", ver: "1-1", payload: "a"})
	for _, bad := range []File{
		{Path: f.Path, SHA256: strings.Repeat("0", 64), Size: f.Size},
		{Path: f.Path, Size: f.Size},
	} {
		if _, err := r.Publish(ctx, []File{bad}); err == nil {
			t.Errorf("published %+v", bad)
		}
	}
	if _, err := r.Publish(ctx, nil); err == nil {
		t.Error("published nothing without an error")
	}
	bad := *r
	bad.Name = "../etc"
	if _, err := bad.Publish(ctx, []File{f}); err == nil {
		t.Error("published to a repository named ../etc")
	}
	if got := keys(t, d, r); len(got) != 0 {
		t.Errorf("a refused publish left %v", got)
	}
}

// TestSameNameRebuildFailedDBWrite is issue 11.1's reproduction: a
// rebuild of the same version whose database write fails must leave the
// old file, which the database still lists, in place; the next publish
// then puts the new one in.
func TestSameNameRebuildFailedDBWrite(t *testing.T) {
	ctx := context.Background()
	d, r := dirRepo(t)
	f := &faulty{Backend: d}
	r.Backend = f
	v1 := mkpkg(t, filepath.Join(t.TempDir(), "1"), pkgSpec{name: "hello", ver: "1-1", payload: "first build"})
	if _, err := r.Publish(ctx, []File{v1}); err != nil {
		t.Fatal(err)
	}
	v2 := mkpkg(t, filepath.Join(t.TempDir(), "2"), pkgSpec{name: "hello", ver: "1-1", payload: "second build"})
	if v1.SHA256 == v2.SHA256 {
		t.Fatal("test packages should differ")
	}
	f.fail = func(op, key string) error {
		if op == "put" && key == r.DBKey() {
			return errInjected
		}
		return nil
	}
	if _, err := r.Publish(ctx, []File{v2}); !errors.Is(err, errInjected) {
		t.Fatalf("publish with a failing database write: %v", err)
	}
	consistent(t, d, r)
	got, _, _ := HashFile(filepath.Join(d.Root, r.key(filepath.Base(v1.Path))))
	if got != v1.SHA256 {
		t.Errorf("the listed file holds %s, want the first build's %s", got, v1.SHA256)
	}
	f.fail = nil
	if _, err := r.Publish(ctx, []File{v2}); err != nil {
		t.Fatal(err)
	}
	consistent(t, d, r)
	if got, _, _ := HashFile(filepath.Join(d.Root, r.key(filepath.Base(v2.Path)))); got != v2.SHA256 {
		t.Errorf("after the retry the file holds %s, want %s", got, v2.SHA256)
	}
	if k := keys(t, d, r); len(k) != 5 {
		t.Errorf("leftovers: %v", k)
	}
}

func TestStaleLockIsRecovered(t *testing.T) {
	ctx := context.Background()
	d, r := dirRepo(t)
	f := mkpkg(t, t.TempDir(), pkgSpec{name: "foo", ver: "1-1", payload: "a"})
	lck := filepath.Join(d.Root, r.DBKey()) + ".lck"
	os.MkdirAll(filepath.Dir(lck), 0o755)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	cases := []struct {
		name    string
		content string
		mtime   time.Time
		ok      bool
	}{
		{"repo-add's lock of a dead process", fmt.Sprintf("%d\n", dead.Process.Pid), time.Now(), true},
		{"portmake's lock of a dead process", fmt.Sprintf("%d\nhost %s\n", dead.Process.Pid, host), time.Now(), true},
		{"a live process", fmt.Sprintf("%d\n", os.Getppid()), time.Now(), false},
		{"a live pid reused after the lock was taken", fmt.Sprintf("%d\n", os.Getpid()), time.Now().Add(-24 * 365 * time.Hour), true},
		{"another host", fmt.Sprintf("%d\nhost another-%s\n", dead.Process.Pid, host), time.Now(), false},
		{"an empty lock being written", "", time.Now(), false},
		{"an empty lock an hour old", "", time.Now().Add(-time.Hour), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(lck, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(lck, c.mtime, c.mtime)
			_, err := r.Publish(ctx, []File{f})
			var le *LockedError
			switch {
			case c.ok && err != nil:
				t.Fatalf("publish: %v", err)
			case !c.ok && !errors.As(err, &le):
				t.Fatalf("publish over %q: %v, want a LockedError", c.content, err)
			case c.ok:
				if _, err := os.Stat(lck); !os.IsNotExist(err) {
					t.Errorf("lock left behind: %v", err)
				}
			default:
				data, _ := os.ReadFile(lck)
				if string(data) != c.content {
					t.Errorf("a live lock was changed to %q", data)
				}
				os.Remove(lck)
			}
		})
	}
}

func TestLeftoverTempFilesAreRemoved(t *testing.T) {
	ctx := context.Background()
	d, r := dirRepo(t)
	f := mkpkg(t, t.TempDir(), pkgSpec{name: "foo", ver: "1-1", payload: "a"})
	if _, err := r.Publish(ctx, []File{f}); err != nil {
		t.Fatal(err)
	}
	// What the old publisher left when killed mid-copy.
	leftover := filepath.Join(d.Root, r.dir(), ".portmake-foo-1-1-aarch64.pkg.tar.zst.3517299")
	os.WriteFile(leftover, []byte("partial"), 0o644)
	g := mkpkg(t, t.TempDir(), pkgSpec{name: "goo", ver: "1-1", payload: "a"})
	if _, err := r.Publish(ctx, []File{g}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	consistent(t, d, r)
}
