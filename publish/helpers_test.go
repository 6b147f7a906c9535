package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/portmake/portmake/alpm/pkgfile/pkgfiletest"
	"github.com/portmake/portmake/alpm/syncdb"
)

// pkgSpec describes a test package.
type pkgSpec struct {
	name, ver, arch string
	base            string
	payload         string // content of usr/share/<name>/data; differs per build
	depends         []string
	provides        []string
}

// mkpkg builds a real package file in dir and returns it as a File with
// its recorded sha256.
func mkpkg(t testing.TB, dir string, s pkgSpec) File {
	t.Helper()
	if s.arch == "" {
		s.arch = "aarch64"
	}
	if s.base == "" {
		s.base = s.name
	}
	var info strings.Builder
	fmt.Fprintf(&info, "pkgname = %s\npkgbase = %s\npkgver = %s\narch = %s\nbuilddate = 1700000000\npackager = test\nsize = 10\n", s.name, s.base, s.ver, s.arch)
	for _, d := range s.depends {
		fmt.Fprintf(&info, "depend = %s\n", d)
	}
	for _, p := range s.provides {
		fmt.Fprintf(&info, "provides = %s\n", p)
	}
	os.MkdirAll(dir, 0o755)
	p, err := pkgfiletest.Build(dir, []byte(info.String()), []pkgfiletest.File{{Name: "usr/share/" + s.name + "/data", Data: []byte(s.payload)}}, ".pkg.tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	sha, size, err := HashFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return File{Path: p, SHA256: sha, Size: size}
}

// readBack reads the repository's database straight from the backend.
func readBack(t testing.TB, b Backend, key string) *syncdb.DB {
	t.Helper()
	var buf bytes.Buffer
	if _, err := b.Get(context.Background(), key, &buf); err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	db, err := syncdb.Read(&buf, key)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// consistent checks, without the package's own Verify, that every package
// the database lists is present with the listed sha256 and size, that the
// alias holds the database's bytes, and that the .files database lists the
// same entries. It returns the listed file names.
func consistent(t testing.TB, b Backend, r *Repo) []string {
	t.Helper()
	ctx := context.Background()
	var dbBytes bytes.Buffer
	if _, err := b.Get(ctx, r.dbKey("db"), &dbBytes); err != nil {
		t.Fatalf("read the database: %v", err)
	}
	db, err := syncdb.Read(bytes.NewReader(dbBytes.Bytes()), "db")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range db.Packages {
		got, err := b.Get(ctx, r.key(p.Filename), io.Discard)
		if err != nil {
			t.Errorf("the database lists %s, which is missing: %v", p.Filename, err)
			continue
		}
		if got.SHA256 != p.SHA256Sum || got.Size != p.CSize {
			t.Errorf("%s: holds sha256 %s (%d bytes), the database lists %s (%d bytes)", p.Filename, got.SHA256, got.Size, p.SHA256Sum, p.CSize)
		}
		names = append(names, p.Filename)
	}
	var alias bytes.Buffer
	if _, err := b.Get(ctx, r.key(r.Name+".db"), &alias); err != nil {
		t.Errorf("alias: %v", err)
	} else if !bytes.Equal(alias.Bytes(), dbBytes.Bytes()) {
		t.Errorf("%s.db differs from %s", r.Name, r.dbKey("db"))
	}
	files := readBack(t, b, r.dbKey("files"))
	var fn []string
	for _, p := range files.Packages {
		fn = append(fn, p.Filename)
	}
	if !slices.Equal(fn, names) {
		t.Errorf(".files database lists %v, the database %v", fn, names)
	}
	return names
}

// keys lists every key under the repository, sorted.
func keys(t testing.TB, b Backend, r *Repo) []string {
	t.Helper()
	objs, err := b.List(context.Background(), r.dir(), true)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		out = append(out, strings.TrimPrefix(o.Key, r.dir()))
	}
	slices.Sort(out)
	return out
}

var errInjected = errors.New("injected failure")

// faulty wraps a Backend and fails chosen operations. fail is called
// before every mutating operation with its name and key; a non-nil result
// is returned instead of doing it.
type faulty struct {
	Backend
	mu   sync.Mutex
	fail func(op, key string) error
	ops  []string // every mutating operation, "op key"
}

func (f *faulty) before(op, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, op+" "+key)
	if f.fail != nil {
		return f.fail(op, key)
	}
	return nil
}

func (f *faulty) Put(ctx context.Context, key string, src Source, cond Cond) (Object, error) {
	if err := f.before("put", key); err != nil {
		return Object{}, err
	}
	return f.Backend.Put(ctx, key, src, cond)
}

func (f *faulty) Copy(ctx context.Context, src, dst, etag string, link bool) error {
	if err := f.before("copy", dst); err != nil {
		return err
	}
	return f.Backend.Copy(ctx, src, dst, etag, link)
}

func (f *faulty) Move(ctx context.Context, src, dst string) error {
	if err := f.before("move", dst); err != nil {
		return err
	}
	return f.Backend.Move(ctx, src, dst)
}

func (f *faulty) Delete(ctx context.Context, key string) error {
	if err := f.before("delete", key); err != nil {
		return err
	}
	return f.Backend.Delete(ctx, key)
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
