package engine

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portmake/portmake/internal/pkgspec"
	"github.com/portmake/portmake/lang"
	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/store"
)

// bootstrapPlan is binutils then gcc as the bootstrap sub-plan, and app,
// which needs gcc: binutils#b1 gcc#b1 binutils#b2 gcc#b2 app.
func bootstrapPlan(t *testing.T) *planner.Plan {
	t.Helper()
	repo := func(specs ...string) *planner.Repo {
		r := &planner.Repo{Name: "core"}
		for _, s := range specs {
			r.Packages = append(r.Packages, pkgspec.Must(s).Entry())
		}
		return r
	}
	p, err := planner.Build(&planner.Input{
		Arch: "aarch64", UpstreamArch: "x86_64",
		Repos: []planner.RepoPair{{Name: "core", Publish: "core",
			Upstream: repo("binutils 2-1", "gcc 14-1 m=binutils", "app 1-1 m=gcc"),
			Target:   repo("binutils 1-1 aarch64", "gcc 13-1 aarch64", "app 0.9-1 aarch64")}},
		Bootstrap: []string{"binutils", "gcc"},
		Options:   planner.Options{Bootstrap: true},
		BuildEnv:  planner.BuildEnv{MakepkgConf: []byte("CARCH=aarch64\n"), PacmanConf: []byte("[core]\n"), Builder: "makechrootpkg"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RestoreHashInputs(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range p.Nodes {
		ids = append(ids, n.ID)
	}
	if want := []string{"binutils#b1", "gcc#b1", "binutils#b2", "gcc#b2", "app"}; !slices.Equal(ids, want) {
		t.Fatalf("plan builds %v, want %v", ids, want)
	}
	return p
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// publish records a published build of a node's planned hash.
func publish(t *testing.T, st *store.Store, n *planner.Node) {
	t.Helper()
	ctx := context.Background()
	a, err := st.StartApply(ctx, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	id, err := st.StartBuild(ctx, &store.Build{ApplyID: a, Pkgbase: n.Pkgbase, Version: n.Version, Hash: n.Hash})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.FinishBuild(ctx, id, store.StatusSucceeded, store.BuildResult{Files: []string{"/pkg/" + n.Pkgbase}}); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkPublished(ctx, id); err != nil {
		t.Fatal(err)
	}
}

func TestSelectRun(t *testing.T) {
	plan := bootstrapPlan(t)
	for _, tc := range []struct {
		name            string
		startFrom, only string
		published       []string // node IDs published under their planned hash
		run             []string // node IDs, "=" marking those that only stand in
		left            []string
		err             string
	}{
		{name: "everything", run: []string{"binutils#b1", "gcc#b1", "binutils#b2", "gcc#b2", "app"}},
		{name: "start from a pkgbase", startFrom: "gcc",
			run: []string{"gcc#b1", "binutils#b2", "gcc#b2", "app"}, left: []string{"binutils#b1"}},
		{name: "start from a published point", startFrom: "gcc", published: []string{"binutils#b1"},
			run: []string{"=binutils#b1", "gcc#b1", "binutils#b2", "gcc#b2", "app"}, left: []string{"binutils#b1"}},
		{name: "start in stage 2", startFrom: "binutils#b2", published: []string{"gcc#b1"},
			run: []string{"=gcc#b1", "binutils#b2", "gcc#b2", "app"}, left: []string{"binutils#b1", "gcc#b1"}},
		{name: "only one build", only: "gcc#b2", published: []string{"gcc#b1", "app"},
			run: []string{"=gcc#b1", "gcc#b2"}, left: []string{"binutils#b1", "gcc#b1", "binutils#b2", "app"}},
		{name: "only a pkgbase: both its builds", only: "gcc",
			run: []string{"gcc#b1", "gcc#b2"}, left: []string{"binutils#b1", "binutils#b2", "app"}},
		{name: "not the toolchain", startFrom: "app", err: "--start-from app: not in the bootstrap sub-plan, which builds binutils, gcc"},
		{name: "both", startFrom: "gcc", only: "gcc", err: "contradict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			for _, id := range tc.published {
				publish(t, st, plan.Node(id))
			}
			run, sel, err := selectRun(context.Background(), st, plan, plan.Nodes, tc.startFrom, tc.only)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got, left []string
			for _, rn := range run {
				id := rn.node.ID
				if rn.recorded {
					id = "=" + id
					if !sel.Recorded[rn.node.ID] {
						t.Errorf("%s stands in but the selection does not say it is published", rn.node.ID)
					}
				}
				got = append(got, id)
			}
			for _, n := range sel.Left {
				left = append(left, n.ID)
			}
			if !slices.Equal(got, tc.run) || !slices.Equal(left, tc.left) {
				t.Errorf("run %v left %v, want %v and %v", got, left, tc.run, tc.left)
			}
		})
	}
}

func TestSelectRunWithoutBootstrap(t *testing.T) {
	plan := bootstrapPlan(t)
	var regular []*planner.Node
	for _, n := range plan.Nodes {
		if !n.Bootstrap {
			regular = append(regular, n)
		}
	}
	_, _, err := selectRun(context.Background(), openStore(t), plan, regular, "", "gcc")
	if err == nil || !strings.Contains(err.Error(), "--only: the plan has no bootstrap builds; pass --bootstrap") {
		t.Errorf("err %v", err)
	}
}

// TestJobsAgainstTheTarget checks the hashes of a run that leaves a
// dependency out: the builds that would have used it get variant IDs
// whose inputs say so, down the chain, and firm dependencies are marked.
func TestJobsAgainstTheTarget(t *testing.T) {
	plan := bootstrapPlan(t)
	p := &Port{pf: &lang.Portfile{Port: lang.Port{Arch: "aarch64"}, Build: lang.Build{Builder: "makechrootpkg"}}, stateDir: t.TempDir()}
	byNode := func(jobs []*Job, idx *jobIndex) map[string]*Job {
		m := map[string]*Job{}
		for _, j := range jobs {
			m[idx.node(j.ID).ID] = j
		}
		return m
	}

	// Everything: the planned hashes.
	all := make([]runNode, len(plan.Nodes))
	for i, n := range plan.Nodes {
		all[i] = runNode{node: n}
	}
	jobs, idx := p.jobs(plan, all)
	for id, j := range byNode(jobs, idx) {
		if n := plan.Node(id); j.ID != n.Hash || j.Against != nil {
			t.Errorf("%s: job %s against %v, want the planned %s", id, j.ID, j.Against, n.Hash)
		}
	}
	gcc2 := byNode(jobs, idx)["gcc#b2"]
	if want := []string{plan.Node("binutils#b2").Hash, plan.Node("gcc#b1").Hash}; !sameSet(gcc2.Firm, want) {
		t.Errorf("gcc#b2 firm on %v, want binutils#b2 and gcc#b1 %v", gcc2.Firm, want)
	}
	if app := byNode(jobs, idx)["app"]; len(app.Firm) != 0 {
		t.Errorf("app firm on %v, want nothing: the target's gcc may stand in", app.Firm)
	}

	// binutils#b1 left out and not published.
	jobs, idx = p.jobs(plan, all[1:])
	got := byNode(jobs, idx)
	against := map[string][]string{"gcc#b1": {"binutils (stage 1)"}, "binutils#b2": {"binutils (stage 1)"}, "gcc#b2": nil, "app": nil}
	for id, want := range against {
		j := got[id]
		if j.ID == plan.Node(id).Hash {
			t.Errorf("%s kept its planned hash though it does not use the planned binutils#b1", id)
		}
		if !slices.Equal(j.Against, want) {
			t.Errorf("%s: against %v, want %v", id, j.Against, want)
		}
	}
	inputs := idx.get(got["gcc#b1"].ID).inputs
	changes := planner.DiffInputs(plan.Node("gcc#b1").HashInputs, inputs)
	if len(changes) != 1 || changes[0].Key != "dep binutils#b1" || changes[0].New != planner.TargetDep {
		t.Errorf("gcc#b1 variant changes %v, want only dep binutils#b1 → target", changes)
	}
	if slices.Contains(got["gcc#b1"].Deps, plan.Node("binutils#b1").Hash) {
		t.Error("gcc#b1 waits for a job that is not in the run")
	}

	// A failure during the run: app built against the target's gcc#b2.
	app := got["app"]
	id, err := idx.rehash(app, map[string]string{got["gcc#b2"].ID: ""})
	if err != nil {
		t.Fatal(err)
	}
	if id == app.ID || idx.get(id) == nil || idx.node(id) != plan.Node("app") {
		t.Fatalf("rehash gave %s, not a new registered variant of app", id)
	}
	changes = planner.DiffInputs(idx.get(app.ID).inputs, idx.get(id).inputs)
	if len(changes) != 1 || changes[0].Key != "dep gcc#b2" || changes[0].New != planner.TargetDep {
		t.Errorf("app variant changes %v, want only dep gcc#b2 → target", changes)
	}
	if _, err := idx.rehash(&Job{ID: "nonesuch"}, nil); err == nil {
		t.Error("rehash of an unknown job: no error")
	}
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(s string) bool { return !slices.Contains(b, s) })
}
