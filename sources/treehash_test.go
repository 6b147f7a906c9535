package sources

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeTree writes files (path -> content; a content starting with "->"
// makes a symlink to the rest) under dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func baseTree() map[string]string {
	return map[string]string{
		"PKGBUILD":           pkgbuildText("foo", "1.2", "1"),
		".SRCINFO":           srcinfoText("foo", "1.2", "1"),
		"fix-build.patch":    "--- a\n+++ b\n",
		"patches/0001.patch": "diff\n",
		"foo.install":        "post_install() { :; }\n",
		"keys/pgp/ABCD.asc":  "-----BEGIN PGP PUBLIC KEY BLOCK-----\n",
		"link":               "->fix-build.patch",
	}
}

func hashOf(t *testing.T, dir string) string {
	t.Helper()
	h, err := TreeHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 64 {
		t.Fatalf("TreeHash = %q, want 64 hex digits", h)
	}
	return h
}

func TestTreeHashStable(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeTree(t, a, baseTree())
	writeTree(t, b, baseTree())
	ha := hashOf(t, a)
	if hb := hashOf(t, b); ha != hb {
		t.Fatalf("same content in two places: %s != %s", ha, hb)
	}
	// Times, non-exec permission bits and what makepkg leaves behind do not
	// count.
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(b, "PKGBUILD"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(b, "foo.install"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeTree(t, b, map[string]string{
		"src/foo-1.2/main.c":                     "int main(){}",
		"pkg/foo/usr/bin/foo":                    "ELF",
		"foo-1.2-1-x86_64.pkg.tar.zst":           "zstd",
		"foo-debug-1.2-1-x86_64.pkg.tar.zst.sig": "sig",
		"foo-1.2-1-x86_64-build.log":             "log",
		".git/HEAD":                              "ref: refs/heads/main\n",
		"patches/.git":                           "gitdir: ../.git/modules/patches\n",
	})
	if hb := hashOf(t, b); ha != hb {
		t.Errorf("build leftovers, times or permissions changed the hash: %s != %s", ha, hb)
	}
	if again := hashOf(t, a); again != ha {
		t.Errorf("TreeHash is not deterministic: %s then %s", ha, again)
	}
}

func TestTreeHashSensitive(t *testing.T) {
	ref := t.TempDir()
	writeTree(t, ref, baseTree())
	want := hashOf(t, ref)

	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
	}{
		{"PKGBUILD content", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"PKGBUILD": pkgbuildText("foo", "1.2", "2")})
		}},
		{"one byte of a patch", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"patches/0001.patch": "diff!"})
		}},
		{"new file", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"extra.patch": ""})
		}},
		{"removed file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "foo.install"))
		}},
		{"renamed file", func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, "foo.install"), filepath.Join(dir, "foo2.install"))
		}},
		{"moved between directories", func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, "patches/0001.patch"), filepath.Join(dir, "0001.patch"))
		}},
		{"exec bit", func(t *testing.T, dir string) {
			os.Chmod(filepath.Join(dir, "foo.install"), 0o755)
		}},
		{"symlink target", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "link"))
			writeTree(t, dir, map[string]string{"link": "->foo.install"})
		}},
		{"symlink replaced by its target's content", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "link"))
			writeTree(t, dir, map[string]string{"link": "--- a\n+++ b\n"})
		}},
		{"nested src directory counts", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"patches/src/x.patch": "x"})
		}},
		{"content moved between files", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"fix-build.patch": "--- a\n", "patches/0001.patch": "+++ b\ndiff\n"})
		}},
	}
	seen := map[string]string{want: "reference"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, baseTree())
			tt.change(t, dir)
			got := hashOf(t, dir)
			if prev, ok := seen[got]; ok {
				t.Errorf("hash %s equals the hash of %q", got, prev)
			}
			seen[got] = tt.name
		})
	}
}

func TestTreeHashErrors(t *testing.T) {
	if _, err := TreeHash(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing dir: %v", err)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := TreeHash(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file: %v", err)
	}
}

// BenchmarkTreeHash hashes a typical PKGBUILD directory: the PKGBUILD, its
// .SRCINFO, a dozen patches and a key, with build leftovers to skip.
func BenchmarkTreeHash(b *testing.B) {
	dir := b.TempDir()
	files := map[string]string{
		"PKGBUILD": strings.Repeat(pkgbuildText("foo", "1.2", "1"), 20),
		".SRCINFO": strings.Repeat(srcinfoText("foo", "1.2", "1", "glibc"), 10),
	}
	for i := range 12 {
		files[fmt.Sprintf("patches/%04d-fix.patch", i)] = strings.Repeat("+ a patched line of code\n", 200)
	}
	files["keys/pgp/ABCD.asc"] = strings.Repeat("A", 3000)
	files["src/foo-1.2/big.c"] = strings.Repeat("x", 1<<20)
	writeTree(b, dir, files)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := TreeHash(dir); err != nil {
			b.Fatal(err)
		}
	}
}
