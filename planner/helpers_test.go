package planner

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/internal/pkgspec"
)

// pkg builds a package from "name version key=v,v ...": keys are arch,
// base, d (depends), m (makedepends), c (checkdepends), p (provides).
func pkg(spec string) *alpm.Package { return pkgspec.Must(spec) }

func repo(name string, specs ...string) *Repo {
	r := &Repo{Name: name}
	for _, s := range specs {
		r.Packages = append(r.Packages, pkg(s).Entry())
	}
	return r
}

// tgrepo is repo for the port's side: packages built for x86_64 (the
// listing default) are aarch64 there, as the planner's arch check wants.
func tgrepo(name string, specs ...string) *Repo {
	r := repo(name, specs...)
	for i := range r.Packages {
		if r.Packages[i].Arch == "x86_64" {
			r.Packages[i].Arch = "aarch64"
		}
	}
	return r
}

// simple returns an input with one repo pair "core".
func simple(up, tg []string) *Input {
	return &Input{
		Arch: "aarch64", UpstreamArch: "x86_64",
		Repos:    []RepoPair{{Name: "core", Upstream: repo("core", up...), Target: tgrepo("core", tg...), Publish: "core-testing"}},
		BuildEnv: BuildEnv{MakepkgConf: []byte("CARCH=aarch64\n"), PacmanConf: []byte("[core]\n"), Builder: "chroot"},
	}
}

func mustBuild(t testing.TB, in *Input) *Plan {
	t.Helper()
	p, err := Build(in)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	checkInvariants(t, p)
	return p
}

// checkInvariants checks what must hold for every plan.
func checkInvariants(t testing.TB, p *Plan) {
	t.Helper()
	pos := make(map[string]int)
	for i, n := range p.Nodes {
		if _, dup := pos[n.ID]; dup {
			t.Fatalf("duplicate node %s", n.ID)
		}
		pos[n.ID] = i
		if n.Hash == "" || len(n.HashInputs) == 0 {
			t.Fatalf("node %s has no hash", n.ID)
		}
		if n.Reason.Kind == 0 || n.Reason != n.Reasons[0] {
			t.Fatalf("node %s: bad reason %+v", n.ID, n.Reasons)
		}
	}
	for _, n := range p.Nodes {
		for _, d := range n.Deps {
			j, ok := pos[d.ID]
			if !ok {
				t.Fatalf("node %s depends on %s, which is not in the plan", n.ID, d.ID)
			}
			if j >= pos[n.ID] {
				t.Fatalf("node %s is ordered before its dependency %s", n.ID, d.ID)
			}
			if p.Nodes[j].Priority <= n.Priority {
				t.Fatalf("priority of %s (%d) not above its dependent %s (%d)", d.ID, p.Nodes[j].Priority, n.ID, n.Priority)
			}
		}
	}
}

func ids(p *Plan) []string {
	var out []string
	for _, n := range p.Nodes {
		out = append(out, n.ID)
	}
	return out
}

func sortedIDs(p *Plan) []string {
	out := ids(p)
	slices.Sort(out)
	return out
}

func node(t testing.TB, p *Plan, id string) *Node {
	t.Helper()
	n := p.Node(id)
	if n == nil {
		t.Fatalf("no node %s in plan %v", id, ids(p))
	}
	return n
}

func before(t testing.TB, p *Plan, a, b string) {
	t.Helper()
	ia, ib := slices.Index(ids(p), a), slices.Index(ids(p), b)
	if ia < 0 || ib < 0 || ia >= ib {
		t.Fatalf("want %s before %s in %v", a, b, ids(p))
	}
}

func hasWarning(p *Plan, pkgbase, substr string) bool {
	for _, w := range p.Warnings {
		if w.Pkgbase == pkgbase && strings.Contains(w.Message, substr) {
			return true
		}
	}
	return false
}

// shuffled returns a deep copy of in with every package list shuffled.
func shuffled(in *Input, r *rand.Rand) *Input {
	out := *in
	out.Repos = slices.Clone(in.Repos)
	sh := func(x *Repo) *Repo {
		if x == nil {
			return nil
		}
		c := &Repo{Name: x.Name, Packages: slices.Clone(x.Packages)}
		r.Shuffle(len(c.Packages), func(i, j int) { c.Packages[i], c.Packages[j] = c.Packages[j], c.Packages[i] })
		return c
	}
	for i := range out.Repos {
		rp := &out.Repos[i]
		rp.Upstream, rp.UpstreamTesting, rp.Target, rp.TargetTesting = sh(rp.Upstream), sh(rp.UpstreamTesting), sh(rp.Target), sh(rp.TargetTesting)
	}
	return &out
}

func hashes(p *Plan) map[string]string {
	out := make(map[string]string)
	for _, n := range p.Nodes {
		out[n.ID] = n.Hash
	}
	return out
}

func dump(p *Plan) string {
	var b strings.Builder
	for _, n := range p.Nodes {
		fmt.Fprintf(&b, "%s %s->%s %s %v\n", n.ID, n.Current, n.Version, n.Reason.Kind, n.Deps)
	}
	return b.String()
}
