package engine

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/internal/archweb"
	"github.com/portmake/portmake/internal/porttest"
	"github.com/portmake/portmake/internal/testutil"
	"github.com/portmake/portmake/planner"
)

// TestPlanFullSizeContent plans the whole archweb dump (14,562 packages)
// against a target derived from it, and checks the plan's content against
// what the derivation implies, computed here independently of the planner:
//
//   - every non-any pkgbase made older on the target is planned as
//     outdated, except the held toolchain, and nothing else is outdated;
//   - every missing-dependency node is a pkgbase removed from the target;
//   - with --rebuild-repo core, every non-any core pkgbase is planned.
//
// It is the CI-sized sibling of cmd/portmake's timed TestPlanFullSize.
func TestPlanFullSizeContent(t *testing.T) {
	testutil.RequireTool(t, "git")
	pkgs, repos := archweb.Load(t)
	dir := t.TempDir()
	writeConfig(t, dir, "x86_64")
	up := map[string][]*alpm.Package{}
	tg := map[string][]*alpm.Package{}
	older, removed := map[string]bool{}, map[string]bool{}
	anyBase := map[string]bool{}
	coreBases := map[string]bool{}
	for i, p := range pkgs {
		up[repos[i]] = append(up[repos[i]], p)
		if p.Arch == "any" {
			anyBase[p.Base] = true
		}
		if repos[i] == "core" {
			coreBases[p.Base] = true
		}
		h := fnv.New32a()
		h.Write([]byte(p.Base))
		switch r := h.Sum32() % 100; {
		case r < 5:
			removed[p.Base] = true
		case r < 15:
			old := *p
			old.Version = p.Version[:strings.LastIndexByte(p.Version, '-')] + "-0"
			tg[repos[i]] = append(tg[repos[i]], &old)
			older[p.Base] = true
		default:
			tg[repos[i]] = append(tg[repos[i]], p)
		}
	}
	var pf strings.Builder
	pf.WriteString("port {\n  arch = \"x86_64\"\n}\n")
	for _, n := range []string{"core", "extra", "multilib"} {
		porttest.WriteDB(t, filepath.Join(dir, "up", n+".db.tar.gz"), up[n])
		porttest.WriteDB(t, filepath.Join(dir, "tg", n+".db.tar.gz"), tg[n])
		fmt.Fprintf(&pf, "repo %q {\n  upstream = \"up/%s.db.tar.gz\"\n  target = \"tg/%s.db.tar.gz\"\n}\n", n, n, n)
	}
	state := porttest.MakeStateRepo(t, filepath.Join(dir, "state"), pkgs, repos, "x86_64")
	fmt.Fprintf(&pf, "sources {\n  packaging = \"file:///nonexistent/{project}.git\"\n  state = \"file://%s\"\n}\n", state)
	pf.WriteString("build {\n  builder = \"makepkg\"\n}\n")
	os.WriteFile(filepath.Join(dir, "Portfile.hcl"), []byte(pf.String()), 0o644)

	p, err := Open(filepath.Join(dir, "Portfile.hcl"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	r, err := p.Plan(ctx, PlanOptions{Refresh: true})
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	for _, b := range p.Portfile().Build.Bootstrap {
		held[b.Name] = true
	}
	var wantOutdated []string
	for base := range older {
		if !anyBase[base] && !held[base] {
			wantOutdated = append(wantOutdated, base)
		}
	}
	slices.Sort(wantOutdated)
	var gotOutdated []string
	for _, n := range r.Plan.Nodes {
		switch n.Reason.Kind {
		case planner.ReasonOutdated:
			gotOutdated = append(gotOutdated, n.Pkgbase)
		case planner.ReasonMissingDependency:
			if !removed[n.Pkgbase] {
				t.Errorf("%s is planned as a missing dependency, but the target has it", n.Pkgbase)
			}
		default:
			t.Errorf("%s: unexpected reason %v", n.ID, n.Reason.Kind)
		}
		if n.Source == nil || n.Source.Commit == "" {
			t.Errorf("%s: no source commit from the state repository", n.ID)
		}
	}
	slices.Sort(gotOutdated)
	gotOutdated = slices.Compact(gotOutdated)
	if !slices.Equal(gotOutdated, wantOutdated) {
		t.Errorf("%d outdated pkgbases planned, want %d", len(gotOutdated), len(wantOutdated))
	}
	if len(wantOutdated) < 500 {
		t.Errorf("only %d outdated pkgbases in the scenario: the dump is smaller than expected", len(wantOutdated))
	}

	r, err = p.Plan(ctx, PlanOptions{RebuildRepo: []string{"core"}})
	if err != nil {
		t.Fatal(err)
	}
	planned := map[string]bool{}
	for _, n := range r.Plan.Nodes {
		planned[n.Pkgbase] = true
	}
	for base := range coreBases {
		if !anyBase[base] && !held[base] && !planned[base] {
			t.Errorf("--rebuild-repo core: %s is not planned", base)
		}
	}
}
