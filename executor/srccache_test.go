package executor

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm/srcinfo"
)

func TestDownloadName(t *testing.T) {
	for _, c := range []struct {
		source, name string
		ok           bool
	}{
		{"https://example.org/foo-1.0.tar.gz", "foo-1.0.tar.gz", true},
		{"foo-1.0.tar.gz::https://example.org/v1.0.tar.gz", "foo-1.0.tar.gz", true},
		{"https://example.org/dl?file=x", "dl?file=x", true},
		{"ftp://example.org/pub/a.tar.xz", "a.tar.xz", true},
		{"file:///srv/a.patch", "a.patch", true},
		{"local.patch", "", false},
		{"git+https://example.org/foo.git#tag=v1", "", false},
		{"foo::git+https://example.org/foo.git", "", false},
		{"svn+https://example.org/trunk", "", false},
		{"hg+https://example.org/foo", "", false},
		{"https://example.org/", "", false},
		{"../..::https://example.org/x", "", false},
		{"..::https://example.org/x", "", false},
	} {
		name, ok := downloadName(c.source)
		if name != c.name || ok != c.ok {
			t.Errorf("downloadName(%q) = %q, %v; want %q, %v", c.source, name, ok, c.name, c.ok)
		}
	}
}

func FuzzDownloadName(f *testing.F) {
	for _, s := range []string{"https://a/b", "n::https://a/b", "git+https://a/b", "x", "a/b::ftp://c/d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, ok := downloadName(s)
		if !ok {
			return
		}
		// A name is one path element: the cache and SRCDEST are joined
		// with it.
		if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
			t.Errorf("downloadName(%q) = %q", s, name)
		}
	})
}

const cacheSrcinfo = `pkgbase = p
	pkgver = 1
	pkgrel = 1
	arch = x86_64
	arch = aarch64
	source = a.txt::https://example.org/a
	source = https://example.org/b.txt
	source = local.patch
	source = git+https://example.org/r.git
	source_aarch64 = https://example.org/c-aarch64.bin
	sha256sums = @A@
	sha256sums = SKIP
	sha256sums = SKIP
	sha256sums = SKIP
	sha512sums = @A512@
	sha512sums = SKIP
	sha512sums = SKIP
	sha512sums = SKIP
	sha256sums_aarch64 = @C@

pkgname = p
`

func sum256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func sum512(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }

func TestSourceCache(t *testing.T) {
	a, c := []byte("source a\n"), []byte("aarch64 blob\n")
	text := strings.NewReplacer("@A@", sum256(a), "@A512@", sum512(a), "@C@", strings.ToUpper(sum256(c))).Replace(cacheSrcinfo)
	si, err := srcinfo.Parse(strings.NewReader(text), "test")
	if err != nil {
		t.Fatal(err)
	}
	files := downloadedSources(si, "aarch64")
	var names []string
	for _, f := range files {
		names = append(names, f.name)
	}
	if got := strings.Join(names, " "); got != "a.txt b.txt c-aarch64.bin" {
		t.Fatalf("downloaded sources %q", got)
	}
	if algo, d, ok := files[0].key(); !ok || algo != "sha512" || d != sum512(a) {
		t.Errorf("a.txt key %s %s %v: the strongest pinned digest names it", algo, d, ok)
	}
	if _, _, ok := files[1].key(); ok {
		t.Error("b.txt pins only SKIP, yet it can be cached")
	}
	if files[2].sums["sha256"] != sum256(c) {
		t.Errorf("digests are lower-cased: %q", files[2].sums["sha256"])
	}
	if got := downloadedSources(si, "x86_64"); len(got) != 2 {
		t.Errorf("x86_64 gets the aarch64 source: %v", got)
	}

	cache := &SourceCache{Dir: t.TempDir()}
	build1 := t.TempDir()
	os.WriteFile(filepath.Join(build1, "a.txt"), a, 0o644)
	os.WriteFile(filepath.Join(build1, "b.txt"), []byte("b"), 0o644)
	os.WriteFile(filepath.Join(build1, "c-aarch64.bin"), []byte("not what the PKGBUILD pins"), 0o644)
	var log bytes.Buffer
	if err := cache.store(files, build1, &log); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(cache.entry("sha512", sum512(a))); err != nil || !bytes.Equal(data, a) {
		t.Errorf("a.txt not cached: %v", err)
	}
	if _, err := os.Stat(cache.entry("sha256", sum256(c))); err == nil {
		t.Error("a file that does not match its pinned digest was cached")
	}
	if !strings.Contains(log.String(), "not caching c-aarch64.bin") {
		t.Errorf("log: %s", log.String())
	}

	// A later build gets a.txt from the cache...
	build2 := t.TempDir()
	log.Reset()
	if err := cache.seed(files, build2, nil, &log); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(build2, "a.txt")); !bytes.Equal(data, a) {
		t.Errorf("seeded a.txt = %q", data)
	}
	if _, err := os.Stat(filepath.Join(build2, "b.txt")); err == nil {
		t.Error("b.txt was seeded though nothing pins it")
	}
	// ...but not once the entry is tampered with: it is removed instead.
	os.WriteFile(cache.entry("sha512", sum512(a)), []byte("EVIL"), 0o644)
	build3 := t.TempDir()
	log.Reset()
	if err := cache.seed(files, build3, nil, &log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(build3, "a.txt")); err == nil {
		t.Error("a tampered cache entry reached a build")
	}
	if _, err := os.Stat(cache.entry("sha512", sum512(a))); err == nil {
		t.Error("the tampered entry is still in the cache")
	}
	if !strings.Contains(log.String(), "does not match the PKGBUILD's checksums") {
		t.Errorf("log: %s", log.String())
	}
	// A symlink in a build's SRCDEST is never followed into the cache.
	build4 := t.TempDir()
	os.Symlink("/etc/passwd", filepath.Join(build4, "a.txt"))
	log.Reset()
	if err := cache.store(files, build4, &log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cache.entry("sha512", sum512(a))); err == nil {
		t.Error("a symlink was followed into the cache")
	}
}

// BenchmarkCopyVerbatim measures copying a build output out of the build
// user's reach while hashing it (sha256), per MiB.
func BenchmarkCopyVerbatim(b *testing.B) {
	src := filepath.Join(b.TempDir(), "pkg")
	data := bytes.Repeat([]byte("portmake"), 8<<20/8) // 8 MiB
	os.WriteFile(src, data, 0o644)
	dir := b.TempDir()
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		dst := filepath.Join(dir, "out")
		os.Remove(dst)
		if _, err := copyVerbatim(src, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopyChecked measures seeding a cached source: a copy checked
// against a sha256 and a sha512 digest.
func BenchmarkCopyChecked(b *testing.B) {
	src := filepath.Join(b.TempDir(), "src")
	data := bytes.Repeat([]byte("portmake"), 8<<20/8)
	os.WriteFile(src, data, 0o644)
	sums := map[string]string{"sha256": sum256(data), "sha512": sum512(data)}
	dir := b.TempDir()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		dst := filepath.Join(dir, "out")
		os.Remove(dst)
		if err := copyChecked(src, dst, sums); err != nil {
			b.Fatal(err)
		}
	}
}
