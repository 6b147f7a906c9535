package syncdb

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/internal/testutil"
)

type manifestEntry struct {
	file     string // relative to syncdb/
	packages int
	comp     string
}

// readManifest reads syncdb/MANIFEST.tsv, which records the package count
// and real compression of every corpus database.
func readManifest(t testing.TB) []manifestEntry {
	t.Helper()
	path := filepath.Join(testutil.Corpus(t), "syncdb", "MANIFEST.tsv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var cols map[string]int
	var out []manifestEntry
	for line := 1; sc.Scan(); line++ {
		fields := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = map[string]int{}
			for i, c := range fields {
				cols[c] = i
			}
			for _, c := range []string{"file", "packages", "compression"} {
				if _, ok := cols[c]; !ok {
					t.Fatalf("%s: no %q column", path, c)
				}
			}
			continue
		}
		n, err := strconv.Atoi(fields[cols["packages"]])
		if err != nil {
			t.Fatalf("%s:%d: packages: %v", path, line, err)
		}
		out = append(out, manifestEntry{file: fields[cols["file"]], packages: n, comp: fields[cols["compression"]]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s lists no databases", path)
	}
	return out
}

// TestReadCorpus reads every real database and checks the package count
// against MANIFEST.tsv, plus the invariants Read promises.
func TestReadCorpus(t *testing.T) {
	for _, m := range readManifest(t) {
		t.Run(m.file, func(t *testing.T) {
			path := filepath.Join(testutil.Corpus(t), "syncdb", m.file)
			db, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(db.Packages) != m.packages {
				t.Errorf("%d packages, MANIFEST.tsv says %d", len(db.Packages), m.packages)
			}
			if !slices.IsSortedFunc(db.Packages, func(a, b *alpm.Package) int { return strings.Compare(a.Name, b.Name) }) {
				t.Errorf("packages are not sorted by name")
			}
			withDeps := 0
			for _, p := range db.Packages {
				if !alpm.ValidName(p.Name) || p.Version == "" || p.Base == "" || p.Arch == "" || p.Filename == "" {
					t.Errorf("incomplete package: %+v", p)
				}
				if len(p.Depends) > 0 {
					withDeps++
				}
				if db.Find(p.Name) != p {
					t.Errorf("Find(%q) does not return the package", p.Name)
				}
			}
			// Every corpus database has packages with dependencies, whether
			// they live in desc or in a separate depends file.
			if withDeps == 0 {
				t.Errorf("no package has %%DEPENDS%%: depends files not merged?")
			}
		})
	}
}

// TestReadSpotChecks pins fields of real entries, including ones that come
// from a separate depends file listed before desc in the archive.
func TestReadSpotChecks(t *testing.T) {
	corpus := testutil.Corpus(t)
	read := func(rel string) *DB {
		t.Helper()
		db, err := ReadFile(filepath.Join(corpus, "syncdb", rel))
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	get := func(db *DB, name string) *alpm.Package {
		t.Helper()
		p := db.Find(name)
		if p == nil {
			t.Fatalf("%s: no package %q", db.Name, name)
		}
		return p
	}

	alarm := read("armv6h-2015-01-07-alarm/alarm.db")
	if alarm.Name != "alarm" {
		t.Errorf("Name = %q", alarm.Name)
	}
	// devtools-alarm's depends entry comes before its desc entry.
	dt := get(alarm, "devtools-alarm")
	if dt.Version != "20141224-1" || dt.Base != "devtools-alarm" || len(dt.Depends) == 0 {
		t.Errorf("devtools-alarm: version %q base %q depends %q", dt.Version, dt.Base, dt.Depends)
	}
	blank := get(alarm, "blank") // empty depends file
	if blank.Version != "1-1" || blank.Depends != nil {
		t.Errorf("blank: version %q depends %q", blank.Version, blank.Depends)
	}

	chaotic := read("x86_64-2022-09-12-thirdparty/chaotic-aur.db.tar.xz")
	if chaotic.Name != "chaotic-aur" {
		t.Errorf("Name = %q", chaotic.Name)
	}
	core := read("x86_64-2022-09-12/core.db.tar.gz")
	glibc := get(core, "glibc")
	if glibc.Arch != "x86_64" || glibc.CSize <= 0 || glibc.ISize <= 0 || glibc.BuildDate < 1.6e9 ||
		len(glibc.SHA256Sum) != 64 || len(glibc.MD5Sum) != 32 || glibc.PGPSig == "" || glibc.Packager == "" ||
		!slices.Contains(glibc.Depends, "filesystem") || len(glibc.MakeDepends) == 0 || !strings.HasPrefix(glibc.Filename, "glibc-") {
		t.Errorf("glibc: %+v", glibc)
	}
}

// tarEntry is a member of a test archive; a name ending in "/" is a
// directory.
type tarEntry struct {
	name, body string
}

func makeTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const fooDesc = "%FILENAME%\nfoo-1.0-1-x86_64.pkg.tar.zst\n\n%NAME%\nfoo\n\n%VERSION%\n1.0-1\n\n%ARCH%\nx86_64\n\n"

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		want    []string // name-version in order
		wantErr string
	}{
		{name: "merge desc depends files", data: makeTar(t,
			tarEntry{"foo-1.0-1/", ""},
			tarEntry{"foo-1.0-1/depends", "%DEPENDS%\nbar\n\n%PROVIDES%\nlibfoo.so=1-64\n"},
			tarEntry{"foo-1.0-1/desc", fooDesc + "%DEPENDS%\nbaz\n\n%XNEW%\nx\n"},
			tarEntry{"foo-1.0-1/files", "%FILES%\nusr/\nusr/bin/foo\n"},
		), want: []string{"foo-1.0-1"}},
		{name: "sorted by byte order", data: makeTar(t,
			tarEntry{"b-1-1/desc", "%NAME%\nb\n%VERSION%\n1-1\n"},
			tarEntry{"B-1-1/desc", "%NAME%\nB\n%VERSION%\n1-1\n"},
			tarEntry{"a+-2:1-1/desc", "%NAME%\na+\n%VERSION%\n2:1-1\n"},
			tarEntry{"a-1-1/desc", "%NAME%\na\n%VERSION%\n1-1\n"},
		), want: []string{"B-1-1", "a-1-1", "a+-2:1-1", "b-1-1"}},
		{name: "empty tar", data: makeTar(t), want: nil},
		{name: "gzip empty tar", data: gz(t, makeTar(t)), want: nil},
		{name: "unknown file in entry ignored", data: makeTar(t,
			tarEntry{"foo-1.0-1/desc", fooDesc}, tarEntry{"foo-1.0-1/deltas", "junk"},
		), want: []string{"foo-1.0-1"}},

		{name: "zero bytes", data: nil, wantErr: "read src/core.db: empty file"},
		{name: "gzip of nothing", data: gz(t, nil), wantErr: "read src/core.db: empty file"},
		{name: "missing name", data: makeTar(t, tarEntry{"foo-1.0-1/desc", "%VERSION%\n1.0-1\n"}),
			wantErr: `read src/core.db: entry "foo-1.0-1/desc": no %NAME%`},
		{name: "missing version", data: makeTar(t, tarEntry{"foo-1.0-1/desc", "%NAME%\nfoo\n"}),
			wantErr: `read src/core.db: entry "foo-1.0-1/desc": no %VERSION%`},
		{name: "no desc", data: makeTar(t, tarEntry{"foo-1.0-1/depends", "%DEPENDS%\nbar\n"}),
			wantErr: `read src/core.db: entry "foo-1.0-1/": package directory has no desc file`},
		{name: "directory mismatch", data: makeTar(t, tarEntry{"foo-1.0-2/desc", fooDesc}),
			wantErr: `read src/core.db: entry "foo-1.0-2/desc": %NAME% "foo" and %VERSION% "1.0-1" do not match the directory "foo-1.0-2"`},
		{name: "duplicate name", data: makeTar(t,
			tarEntry{"foo-1.0-1/desc", fooDesc},
			tarEntry{"foo-2.0-1/desc", "%NAME%\nfoo\n\n%VERSION%\n2.0-1\n"},
		), wantErr: `read src/core.db: entry "foo-2.0-1/": package "foo" is also in entry "foo-1.0-1/"`},
		{name: "invalid name", data: makeTar(t, tarEntry{"f%o-1-1/desc", "%NAME%\nf%o\n\n%VERSION%\n1-1\n"}),
			wantErr: `read src/core.db: entry "f%o-1-1/desc": line 1: %NAME%: invalid package name "f%o"`},
		{name: "malformed field", data: makeTar(t, tarEntry{"foo-1.0-1/desc", fooDesc + "%CSIZE%\n12k\n"}),
			wantErr: `read src/core.db: entry "foo-1.0-1/desc": line 13: %CSIZE%: "12k" is not a non-negative decimal number`},
		{name: "top-level file", data: makeTar(t, tarEntry{".PKGINFO", "pkgname = foo\n"}),
			wantErr: `read src/core.db: entry ".PKGINFO": a file outside any package directory`},
		{name: "no end marker", data: makeTar(t, tarEntry{"foo-1.0-1/desc", fooDesc})[:1024],
			wantErr: `read src/core.db: after entry "foo-1.0-1/desc": archive is truncated (no end-of-archive marker)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Read(bytes.NewReader(tt.data), "src/core.db")
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error\n  %v\nwant prefix\n  %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if db.Name != "core" {
				t.Errorf("Name = %q", db.Name)
			}
			var got []string
			for _, p := range db.Packages {
				got = append(got, p.Name+"-"+p.Version)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("packages %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadMerge(t *testing.T) {
	data := makeTar(t,
		tarEntry{"foo-1.0-1/depends", "%DEPENDS%\nbar\n\n%PROVIDES%\nlibfoo.so=1-64\n"},
		tarEntry{"foo-1.0-1/desc", fooDesc + "%DEPENDS%\nbaz\n\n%XNEW%\nx\ny\n"},
		tarEntry{"foo-1.0-1/files", "%FILES%\nusr/\nusr/bin/foo\n"},
		tarEntry{"nofiles-1-1/desc", "%NAME%\nnofiles\n\n%VERSION%\n1-1\n"},
		tarEntry{"nofiles-1-1/files", "%FILES%\n\n"},
	)
	db, err := Read(bytes.NewReader(data), "/srv/repo/x86_64/core.files.tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	p := db.Find("foo")
	if p == nil {
		t.Fatal("no foo")
	}
	if !slices.Equal(p.Depends, []string{"bar", "baz"}) || !slices.Equal(p.Provides, []string{"libfoo.so=1-64"}) ||
		!slices.Equal(p.Files, []string{"usr/", "usr/bin/foo"}) || p.Base != "foo" ||
		len(p.Extra) != 1 || p.Extra[0].Key != "XNEW" || !slices.Equal(p.Extra[0].Values, []string{"x", "y"}) {
		t.Errorf("merged package: %+v", p)
	}
	if nf := db.Find("nofiles"); nf == nil || nf.Files == nil || len(nf.Files) != 0 {
		t.Errorf("nofiles: Files = %#v, want empty non-nil", nf)
	}
	if db.Find("bar") != nil || db.Find("") != nil || db.Find("zzz") != nil {
		t.Errorf("Find returns packages that are not there")
	}
}

func TestRepoName(t *testing.T) {
	tests := map[string]string{
		"core.db":                       "core",
		"core.db.tar.gz":                "core",
		"/var/lib/pacman/sync/extra.db": "extra",
		"chaotic-aur.db.tar.xz":         "chaotic-aur",
		"core.files":                    "core",
		"core.files.tar.zst":            "core",
		"repo.db.tar":                   "repo",
		"repo.db.tar.Z":                 "repo",
		"https://mirror.example/core/os/x86_64/core.db":     "core",
		"https://mirror.example/core.db.tar.gz?sig=abc#top": "core",
		"my.repo.db.tar.bz2":                                "my.repo",
		"plain":                                             "plain",
		"archive.tar.gz":                                    "archive",
		".db":                                               ".db",
	}
	for in, want := range tests {
		if got := RepoName(in); got != want {
			t.Errorf("RepoName(%q) = %q, want %q", in, got, want)
		}
	}
}
