package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/portmake/portmake/alpm/syncdb"
)

// testRepoDB writes DBs with portmake's own repo-add, as apply does.
var testRepoDB = FuncDB{Name: "portmake repo add --remove-old", Fn: func(db string, files []string) error {
	return syncdb.Add(db, files, syncdb.AddOptions{RemoveOld: true})
}}

// checkingDB is a RepoDB that asserts the publishing order: when the DB
// is written, every file it is about to list is already in place, and the
// versions it replaces are still there (they go only after the write).
type checkingDB struct {
	t       *testing.T
	mustBe  []string // files that must still exist at the DB write
	written [][]string
}

func (d *checkingDB) Add(_ context.Context, db string, files []string) error {
	for _, f := range append(slices.Clone(files), d.mustBe...) {
		if _, err := os.Stat(f); err != nil {
			d.t.Errorf("at the DB write: %v", err)
		}
	}
	d.written = append(d.written, files)
	return os.WriteFile(db, []byte(fmt.Sprint(files)), 0o644)
}

func (d *checkingDB) Command(db string, files []string) Command {
	return Command{Args: append([]string{"db-add", db}, files...)}
}

func TestDirPublisherOrder(t *testing.T) {
	out := t.TempDir()
	mk := func(name string, sig bool) string {
		p := filepath.Join(out, name)
		os.WriteFile(p, []byte(name), 0o644)
		if sig {
			os.WriteFile(p+".sig", []byte("sig"), 0o644)
		}
		return p
	}
	root := t.TempDir()
	db := &checkingDB{t: t}
	p := &DirPublisher{Root: root, Arch: "aarch64", DB: db}
	dir := p.Dir("extra")
	ctx := context.Background()

	v1 := []string{mk("foo-1.0-1-aarch64.pkg.tar.zst", true), mk("foo-libs-1.0-1-aarch64.pkg.tar.zst", false)}
	if _, err := p.Publish(ctx, "extra", v1); err != nil {
		t.Fatal(err)
	}
	// An unrelated package that must survive foo's update.
	other := []string{mk("bar-2-1-any.pkg.tar.zst", false)}
	if _, err := p.Publish(ctx, "extra", other); err != nil {
		t.Fatal(err)
	}
	db.mustBe = []string{filepath.Join(dir, "foo-1.0-1-aarch64.pkg.tar.zst"), filepath.Join(dir, "foo-1.0-1-aarch64.pkg.tar.zst.sig")}
	v2 := []string{mk("foo-1.1-1-aarch64.pkg.tar.zst", true), mk("foo-libs-1.1-1-aarch64.pkg.tar.zst", false)}
	got, err := p.Publish(ctx, "extra", v2)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "foo-1.1-1-aarch64.pkg.tar.zst"), filepath.Join(dir, "foo-libs-1.1-1-aarch64.pkg.tar.zst")}
	if !slices.Equal(got, want) || !slices.Equal(db.written[2], want) {
		t.Errorf("published %v, DB got %v, want %v", got, db.written[2], want)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	wantNames := []string{"bar-2-1-any.pkg.tar.zst", "extra.db.tar.gz", "foo-1.1-1-aarch64.pkg.tar.zst", "foo-1.1-1-aarch64.pkg.tar.zst.sig", "foo-libs-1.1-1-aarch64.pkg.tar.zst"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("repo dir holds %v, want %v (old versions and temp files gone)", names, wantNames)
	}

	for _, bad := range [][]string{nil, {filepath.Join(out, "not-a-package.txt")}} {
		if _, err := p.Publish(ctx, "extra", bad); err == nil {
			t.Errorf("published %v", bad)
		}
	}
	if _, err := p.Publish(ctx, "../etc", v2); err == nil {
		t.Error("published to a repository named ../etc")
	}
}

func TestInstallFileReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	os.WriteFile(dst, []byte("old"), 0o600)
	os.WriteFile(src, []byte("new content"), 0o600)
	if err := installFile(src, dst); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(dst)
	fi, _ := os.Stat(dst)
	if string(data) != "new content" || fi.Mode().Perm() != 0o644 {
		t.Errorf("dst %q mode %v", data, fi.Mode())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("temp file left: %v", ents)
	}
}
