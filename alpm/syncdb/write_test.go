package syncdb_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/portmake/portmake/alpm/pkgfile"
	"github.com/portmake/portmake/alpm/pkgfile/pkgfiletest"
	"github.com/portmake/portmake/alpm/syncdb"
)

// wBuild writes a small real package into dir and returns its path.
func wBuild(tb testing.TB, dir, name, version string, extra ...string) string {
	tb.Helper()
	info := fmt.Sprintf("pkgname = %s\npkgver = %s\npkgdesc = the %s package\nsize = 4\nbuilddate = 1700000000\narch = x86_64\n%s",
		name, version, name, strings.Join(extra, "\n"))
	files := []pkgfiletest.File{{Name: "usr/share/" + name + "/README", Data: []byte("hi\n")}}
	p, err := pkgfiletest.Build(dir, []byte(info), files, ".pkg.tar.zst")
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// wEntries returns the members of a database archive: name -> content,
// with directories as "".
func wEntries(tb testing.TB, path string) map[string]string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r, _, err := syncdb.Decompress(f)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	out := map[string]string{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			tb.Fatal(err)
		}
		out[h.Name] = string(data)
	}
}

func keys(m map[string]string) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// snapshot records every file in dir (name -> content, or "-> target" for
// symlinks), to prove that a failed call changed nothing.
func snapshot(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.Type()&os.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			out[e.Name()] = "-> " + l
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out[e.Name()] = string(data)
	}
	return out
}

func TestAddCreatesBothDatabases(t *testing.T) {
	dir := t.TempDir()
	a := wBuild(t, dir, "alpha", "1.0-1", "depend = glibc", "provides = libalpha.so=1-64")
	b := wBuild(t, dir, "beta-tools", "1:2.0-3.1")
	db := filepath.Join(dir, "port.db.tar.gz")
	if err := syncdb.Add(db, []string{a, b}, syncdb.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"db", "files"} {
		link := filepath.Join(dir, "port."+kind)
		if l, err := os.Readlink(link); err != nil || l != "port."+kind+".tar.gz" {
			t.Fatalf("%s -> %q, %v", link, l, err)
		}
	}
	pa, err := pkgfile.Read(a)
	if err != nil {
		t.Fatal(err)
	}
	ents := wEntries(t, db)
	wantKeys := []string{"alpha-1.0-1/", "alpha-1.0-1/desc", "beta-tools-1:2.0-3.1/", "beta-tools-1:2.0-3.1/desc"}
	if !reflect.DeepEqual(keys(ents), wantKeys) {
		t.Fatalf("db entries %q, want %q", keys(ents), wantKeys)
	}
	if ents["alpha-1.0-1/desc"] != string(syncdb.FormatDesc(pa)) {
		t.Fatalf("desc:\n%s", ents["alpha-1.0-1/desc"])
	}
	files := wEntries(t, filepath.Join(dir, "port.files.tar.gz"))
	if files["alpha-1.0-1/files"] != "%FILES%\nusr/\nusr/share/\nusr/share/alpha/\nusr/share/alpha/README\n" {
		t.Fatalf("files entry %q", files["alpha-1.0-1/files"])
	}
	if files["alpha-1.0-1/desc"] != ents["alpha-1.0-1/desc"] {
		t.Fatal("the .files database has another desc than the .db")
	}
	// The reader (and so pacman's view) agrees.
	got, err := syncdb.ReadFile(filepath.Join(dir, "port.db"))
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Find("beta-tools"); p == nil || p.Version != "1:2.0-3.1" {
		t.Fatalf("reader: %+v", got.Packages)
	}
	for _, f := range []string{"port.db.tar.gz.lck", "port.db.tar.gz.old"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s exists after the first add", f)
		}
	}
	assertNoTemp(t, dir)
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp.") || strings.HasSuffix(e.Name(), ".lck") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestAddCompressionFromName(t *testing.T) {
	tests := []struct {
		suffix string
		want   syncdb.Compression
	}{
		{"tar.gz", syncdb.Gzip}, {"tar.zst", syncdb.Zstd}, {"tar.xz", syncdb.Xz}, {"tar", syncdb.None},
	}
	for _, tt := range tests {
		t.Run(tt.suffix, func(t *testing.T) {
			dir := t.TempDir()
			p := wBuild(t, dir, "x", "1-1")
			db := filepath.Join(dir, "r.db."+tt.suffix)
			if err := syncdb.Add(db, []string{p}, syncdb.AddOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{db, filepath.Join(dir, "r.files."+tt.suffix)} {
				head := make([]byte, 6)
				fh, err := os.Open(f)
				if err != nil {
					t.Fatal(err)
				}
				io.ReadFull(fh, head)
				fh.Close()
				if got := syncdb.Detect(head); got != tt.want {
					t.Fatalf("%s is %v, want %v", f, got, tt.want)
				}
			}
			if got, err := syncdb.ReadFile(db); err != nil || len(got.Packages) != 1 {
				t.Fatalf("read back: %v", err)
			}
		})
	}
	for _, bad := range []string{"r.db.tar.bz2", "r.db.tar.lz4", "r.db", "r.files.tar.gz", ".db.tar.gz", "r.db.zip"} {
		dir := t.TempDir()
		p := wBuild(t, dir, "x", "1-1")
		before := snapshot(t, dir)
		if err := syncdb.Add(filepath.Join(dir, bad), []string{p}, syncdb.AddOptions{}); err == nil {
			t.Errorf("Add to %s: no error", bad)
		}
		if after := snapshot(t, dir); !reflect.DeepEqual(before, after) {
			t.Errorf("Add to %s changed the directory: %q", bad, keys(after))
		}
	}
}

func TestAddReplacesAndKeepsOtherEntriesByteForByte(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "core.db.tar.gz")
	// An existing database as an older repo-add or another tool left it:
	// a depends file, an unknown field, odd spacing, and an old version of
	// the package that will be replaced.
	legacyDesc := "%FILENAME%\nlegacy-0.1-1-any.pkg.tar.xz\n\n%NAME%\nlegacy\n\n%VERSION%\n0.1-1\n\n%FUTURE%\nsomething\n\n"
	legacyDeps := "%DEPENDS%\nglibc\n\n"
	oldDesc := "%FILENAME%\nalpha-0.9-1-x86_64.pkg.tar.zst\n\n%NAME%\nalpha\n\n%VERSION%\n0.9-1\n\n"
	writeDB(t, db, map[string]string{
		"legacy-0.1-1/desc": legacyDesc, "legacy-0.1-1/depends": legacyDeps, "alpha-0.9-1/desc": oldDesc,
	})
	before, _ := os.ReadFile(db)

	a := wBuild(t, dir, "alpha", "1.0-1")
	if err := syncdb.Add(db, []string{a}, syncdb.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	ents := wEntries(t, db)
	if ents["legacy-0.1-1/desc"] != legacyDesc || ents["legacy-0.1-1/depends"] != legacyDeps {
		t.Fatalf("kept entry changed: %q", ents)
	}
	if _, ok := ents["alpha-0.9-1/desc"]; ok {
		t.Fatal("old alpha entry kept")
	}
	if _, ok := ents["alpha-1.0-1/desc"]; !ok {
		t.Fatal("new alpha entry missing")
	}
	old, err := os.ReadFile(db + ".old")
	if err != nil || !bytes.Equal(old, before) {
		t.Fatalf(".old is not the previous database: %v", err)
	}
	assertNoTemp(t, dir)
}

// writeDB writes a gzipped database archive with the given members.
func writeDB(tb testing.TB, path string, members map[string]string) {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	dirs := map[string]bool{}
	for _, name := range keys(members) {
		d, _, _ := strings.Cut(name, "/")
		if !dirs[d] {
			dirs[d] = true
			tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		}
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(members[name]))})
		tw.Write([]byte(members[name]))
	}
	tw.Close()
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func TestAddErrorsComeBeforeAnyWrite(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "core.db.tar.zst")
	good := wBuild(t, dir, "good", "1-1")
	if err := syncdb.Add(db, []string{good}, syncdb.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	good2 := wBuild(t, dir, "good2", "1-1")
	notPkg := filepath.Join(dir, "broken-1-1-any.pkg.tar.zst")
	os.WriteFile(notPkg, []byte("not a package"), 0o644)
	badName, err := pkgfiletest.Build(dir, []byte("pkgname = bad\npkgver = 1-1\nsize = 1\nbuilddate = 1\npkgbase = -evil\n"), nil, ".pkg.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	armored := wBuild(t, dir, "signed", "1-1")
	os.WriteFile(armored+".sig", []byte("-----BEGIN PGP SIGNATURE-----\n"), 0o644)

	before := snapshot(t, dir)
	err = syncdb.Add(db, []string{good2, notPkg, filepath.Join(dir, "missing.pkg.tar.zst"), badName, armored}, syncdb.AddOptions{})
	if err == nil {
		t.Fatal("no error")
	}
	// Every bad file is named, not just the first.
	for _, want := range []string{"broken-1-1-any", "missing.pkg.tar.zst", "pkgbase", "armored"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if after := snapshot(t, dir); !reflect.DeepEqual(before, after) {
		t.Fatalf("a failed Add changed files: before %q, after %q", keys(before), keys(after))
	}

	// A corrupt existing database is an error too, and stays as it is.
	raw, _ := os.ReadFile(db)
	os.WriteFile(db, raw[:len(raw)-10], 0o644)
	before = snapshot(t, dir)
	if err := syncdb.Add(db, []string{good2}, syncdb.AddOptions{}); err == nil {
		t.Fatal("truncated database: no error")
	}
	if after := snapshot(t, dir); !reflect.DeepEqual(before, after) {
		t.Fatal("a failed Add on a truncated database changed files")
	}
}

func TestAddLock(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "core.db.tar.gz")
	p := wBuild(t, dir, "x", "1-1")
	os.WriteFile(db+".lck", []byte("4242\n"), 0o644)
	err := syncdb.Add(db, []string{p}, syncdb.AddOptions{})
	if err == nil || !strings.Contains(err.Error(), "4242") {
		t.Fatalf("locked: err = %v", err)
	}
	if _, err := os.Stat(db); err == nil {
		t.Fatal("wrote a locked database")
	}
	if _, err := os.Stat(db + ".lck"); err != nil {
		t.Fatal("removed someone else's lock")
	}
	os.Remove(db + ".lck")
	if err := syncdb.Add(db, []string{p}, syncdb.AddOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestAddOptions(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "core.db.tar.gz")
	v1 := wBuild(t, dir, "foo", "1-1")
	v2 := wBuild(t, dir, "foo", "2-1")
	os.WriteFile(v1+".sig", []byte{1, 2, 3}, 0o644)
	var logs bytes.Buffer
	opt := syncdb.AddOptions{Log: slog.New(slog.NewTextHandler(&logs, nil))}
	version := func() string {
		d, err := syncdb.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		return d.Find("foo").Version
	}

	if err := syncdb.Add(db, []string{v2}, opt); err != nil {
		t.Fatal(err)
	}
	// Downgrade: warned, done unless PreventDowngrade.
	o := opt
	o.PreventDowngrade = true
	if err := syncdb.Add(db, []string{v1}, o); err != nil || version() != "2-1" {
		t.Fatalf("PreventDowngrade: %v, version %s", err, version())
	}
	if !strings.Contains(logs.String(), "newer version") {
		t.Fatalf("no downgrade warning: %s", logs.String())
	}
	if err := syncdb.Add(db, []string{v1}, opt); err != nil || version() != "1-1" {
		t.Fatalf("downgrade: %v, version %s", err, version())
	}
	// Same version again: warned, skipped with NewOnly.
	logs.Reset()
	o = opt
	o.NewOnly = true
	if err := syncdb.Add(db, []string{v1}, o); err != nil || !strings.Contains(logs.String(), "already existed") {
		t.Fatalf("NewOnly: %v; %s", err, logs.String())
	}
	// RemoveOld: re-adding the same version deletes nothing ...
	o = opt
	o.RemoveOld = true
	if err := syncdb.Add(db, []string{v1}, o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(v1); err != nil {
		t.Fatal("RemoveOld deleted the re-added file")
	}
	// ... and an upgrade deletes the old file and its signature, after
	// writing the database.
	if err := syncdb.Add(db, []string{v2}, o); err != nil || version() != "2-1" {
		t.Fatal(err)
	}
	for _, f := range []string{v1, v1 + ".sig"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("RemoveOld kept %s", f)
		}
	}
	if _, err := os.Stat(v2); err != nil {
		t.Fatal("RemoveOld deleted the new file")
	}
}

func TestAddRemoveOldRefusesPathsInFilename(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "repo")
	os.Mkdir(sub, 0o755)
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep me"), 0o644)
	db := filepath.Join(sub, "core.db.tar.gz")
	writeDB(t, db, map[string]string{"foo-0.1-1/desc": "%FILENAME%\n../victim\n\n%NAME%\nfoo\n\n%VERSION%\n0.1-1\n\n"})
	p := wBuild(t, sub, "foo", "1-1")
	before := snapshot(t, sub)
	err := syncdb.Add(db, []string{p}, syncdb.AddOptions{RemoveOld: true})
	if err == nil || !strings.Contains(err.Error(), "../victim") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatal("victim deleted")
	}
	if after := snapshot(t, sub); !reflect.DeepEqual(before, after) {
		t.Fatal("refused Add changed files")
	}
}

func TestRemove(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "extra.db.tar.gz")
	a, b, c := wBuild(t, dir, "a", "1-1"), wBuild(t, dir, "b", "1-1"), wBuild(t, dir, "c", "1-1")
	if err := syncdb.Add(db, []string{a, b}, syncdb.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	files := filepath.Join(dir, "extra.files.tar.gz")
	wantDB, wantFiles := wEntries(t, db), wEntries(t, files)
	if err := syncdb.Add(db, []string{c}, syncdb.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := syncdb.Remove(db, []string{"c"}); err != nil {
		t.Fatal(err)
	}
	if got := wEntries(t, db); !reflect.DeepEqual(got, wantDB) {
		t.Fatalf("add+remove changed the db: %q", keys(got))
	}
	if got := wEntries(t, files); !reflect.DeepEqual(got, wantFiles) {
		t.Fatalf("add+remove changed the files db: %q", keys(got))
	}

	// One unknown name: nothing changes, and the error names it.
	before := snapshot(t, dir)
	err := syncdb.Remove(db, []string{"a", "nope", "c"})
	if err == nil || !strings.Contains(err.Error(), "nope, c") {
		t.Fatalf("err = %v", err)
	}
	if after := snapshot(t, dir); !reflect.DeepEqual(before, after) {
		t.Fatal("failed Remove changed files")
	}

	// The last package out leaves a valid empty database.
	if err := syncdb.Remove(db, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	got, err := syncdb.ReadFile(db)
	if err != nil || len(got.Packages) != 0 {
		t.Fatalf("empty database: %v, %d packages", err, len(got.Packages))
	}
	if n := len(wEntries(t, files)); n != 0 {
		t.Fatalf("files db has %d members", n)
	}

	if err := syncdb.Remove(filepath.Join(dir, "missing.db.tar.gz"), []string{"a"}); err == nil {
		t.Fatal("Remove from a missing database: no error")
	}
	assertNoTemp(t, dir)
}

// BenchmarkAdd adds one package to a database of 1000 entries: read both
// archives, replace one entry, write, sync and rotate both.
func BenchmarkAdd(b *testing.B) {
	for _, suffix := range []string{"tar.gz", "tar.zst"} {
		b.Run(suffix, func(b *testing.B) {
			dir := b.TempDir()
			var pkgs []string
			for i := 0; i < 1000; i++ {
				pkgs = append(pkgs, wBuild(b, dir, fmt.Sprintf("pkg%04d", i), "1.0-1", "depend = glibc", "depend = zlib"))
			}
			db := filepath.Join(dir, "big.db."+suffix)
			if err := syncdb.Add(db, pkgs, syncdb.AddOptions{}); err != nil {
				b.Fatal(err)
			}
			one := wBuild(b, dir, "newcomer", "1-1")
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := syncdb.Add(db, []string{one}, syncdb.AddOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAddCopiesUnchangedMembersBlockForBlock: an entry Add does not touch
// is written back as the blocks it was read from, PAX records (a long
// name, sub-second times, an owner name) included, and the result still
// reads the same.
func TestAddCopiesUnchangedMembersBlockForBlock(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "core.db.tar.gz")
	long := "python-a-package-with-a-name-long-enough-to-need-a-pax-path-record-" + strings.Repeat("x", 40) + "-1.0-1"
	desc := "%FILENAME%\n" + long + "-any.pkg.tar.zst\n\n%NAME%\n" + strings.TrimSuffix(long, "-1.0-1") + "\n\n%VERSION%\n1.0-1\n\n"
	mtime := time.Unix(1700000000, 123456789)
	var member bytes.Buffer // the long entry's blocks, as archive/tar writes them
	writeMember := func(tw *tar.Writer) {
		tw.WriteHeader(&tar.Header{Name: long + "/desc", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(desc)),
			ModTime: mtime, Uname: "a-builder-with-a-long-user-name", Format: tar.FormatPAX})
		tw.Write([]byte(desc))
		tw.Flush()
	}
	writeMember(tar.NewWriter(&member))
	if member.Len() <= 1024 {
		t.Fatalf("the member has no PAX header (%d bytes)", member.Len())
	}
	var raw bytes.Buffer
	zw := gzip.NewWriter(&raw)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: long + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX})
	writeMember(tw)
	tw.Close()
	zw.Close()
	if err := os.WriteFile(db, raw.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	if err := syncdb.Add(db, []string{wBuild(t, dir, "alpha", "1.0-1")}, syncdb.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	after, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(after, member.Bytes()) {
		t.Error("the unchanged entry's blocks were not copied as they were")
	}
	ents := wEntries(t, db)
	if ents[long+"/desc"] != desc {
		t.Errorf("the unchanged entry reads %q", ents[long+"/desc"])
	}
	if _, ok := ents["alpha-1.0-1/desc"]; !ok {
		t.Errorf("the new entry is missing: %v", keys(ents))
	}
}
