package engine

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/internal/testutil"
	"github.com/portmake/portmake/lang"
	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/sources"
)

// TestFetchRefusesAChangedTree checks the last check before a build: the
// prepared tree and the patches must be the ones the plan hashed.
func TestFetchRefusesAChangedTree(t *testing.T) {
	testutil.RequireTool(t, "patch")
	dir := t.TempDir()
	local := filepath.Join(dir, "pkgbuilds", "liba")
	os.MkdirAll(local, 0o755)
	os.WriteFile(filepath.Join(local, "PKGBUILD"), []byte("pkgname=liba\n"), 0o644)
	patch := filepath.Join(dir, "fix.patch")
	os.WriteFile(patch, []byte("--- a/PKGBUILD\n+++ b/PKGBUILD\n@@ -1 +1,2 @@\n pkgname=liba\n+pkgver=1\n"), 0o644)
	ov := &lang.PackageOverride{Name: "liba", Patches: []lang.Patch{{Files: []string{patch}}}}
	pf := &lang.Portfile{Dir: dir, Local: &lang.Local{Path: lang.Location{Raw: "pkgbuilds", Path: filepath.Join(dir, "pkgbuilds")}},
		Packages: []*lang.PackageOverride{ov}}
	tree, err := sources.TreeHash(local)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := patchRefs(ov)
	if err != nil {
		t.Fatal(err)
	}
	node := &planner.Node{ID: "liba", Pkgbase: "liba", Hash: "0123456789abcdef",
		Source: &planner.Source{Kind: planner.SourceLocal, TreeHash: tree, Patches: refs}}
	idx := &jobIndex{byID: map[string]*jobInfo{node.Hash: {node: node}}}
	f := &sourceFetcher{pf: pf, idx: idx}
	fetch := func() error {
		j := &executor.Job{ID: node.Hash, Pkgbase: "liba", SourceDir: filepath.Join(dir, "state", "src", "liba")}
		os.MkdirAll(filepath.Dir(j.SourceDir), 0o755)
		var log bytes.Buffer
		_, err := f.Fetch(context.Background(), j, &log)
		return err
	}
	if err := fetch(); err != nil {
		t.Fatalf("unchanged tree: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "state", "src", "liba", "PKGBUILD")); string(got) != "pkgname=liba\npkgver=1\n" {
		t.Errorf("patched PKGBUILD: %q", got)
	}

	os.WriteFile(patch, []byte("--- a/PKGBUILD\n+++ b/PKGBUILD\n@@ -1 +1,2 @@\n pkgname=liba\n+pkgver=2\n"), 0o644)
	if err := fetch(); err == nil || !strings.Contains(err.Error(), "patch fix.patch of liba changed since the plan was made") {
		t.Errorf("changed patch: %v", err)
	}
	os.WriteFile(filepath.Join(local, "PKGBUILD"), []byte("pkgname=liba # edited\n"), 0o644)
	if err := fetch(); err == nil || !strings.Contains(err.Error(), "changed since the plan was made") {
		t.Errorf("changed tree: %v", err)
	}
}

func TestStaleness(t *testing.T) {
	p := &Port{pf: &lang.Portfile{Dir: "/port", Local: &lang.Local{Path: lang.Location{Path: "/port/pkgbuilds"}}}}
	base := []string{
		"portfile - aaa",
		"db target:core:repos/core.db 111",
		"source liba local:tree:t1:1-1",
		"file liba/PKGBUILD f:p1",
		"patch gcc/fix.patch 222",
		"state - s1",
	}
	change := func(i int, line string) []string {
		out := append([]string(nil), base...)
		if line == "" {
			return append(out[:i], out[i+1:]...)
		}
		out[i] = line
		return out
	}
	for _, tc := range []struct {
		now  []string
		want string
	}{
		{base, ""},
		{change(0, "portfile - bbb"), "the Portfile changed since it was made"},
		{change(1, "db target:core:repos/core.db 999"), "repos/core.db changed since it was made"},
		{change(2, "source liba local:tree:t2:1-1"), "the source of liba changed since it was made"},
		{append(change(2, "source liba local:tree:t2:1-1"), "file liba/new file.patch f:p2"), "pkgbuilds/liba/new file.patch was added since it was made"},
		{change(3, ""), "pkgbuilds/liba/PKGBUILD was removed since it was made"},
		{change(3, "file liba/PKGBUILD x:p1"), "pkgbuilds/liba/PKGBUILD changed since it was made"},
		{change(4, "patch gcc/fix.patch 333"), "patch fix.patch of gcc changed since it was made"},
		{change(5, "state - s2"), "the state repository moved since it was made"},
	} {
		if got := p.staleness(base, tc.now); got != tc.want {
			t.Errorf("staleness(%v) = %q, want %q", tc.now, got, tc.want)
		}
	}
}
