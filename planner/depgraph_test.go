package planner

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// graphInput is a small world: libfoo's soname is needed by bar (depends)
// and by the split package qux-tools of qux; baz builds with bar; doc
// only checks with libfoo; app needs baz; old needs a libfoo release that
// no longer exists; gcc-libs and gcc-ada are split packages of gcc.
func graphInput() *Input {
	return simple([]string{
		"libfoo 2-1 p=libfoo.so=2-64",
		"bar 1-1 d=libfoo.so=2-64",
		"baz 1-1 m=bar",
		"app 1-1 d=baz",
		"doc 1-1 arch=any c=libfoo",
		"qux 1-1",
		"qux-tools 1-1 base=qux d=libfoo,qux",
		"old 1-1 d=libfoo<2",
		"gcc-libs 13-1 base=gcc",
		"gcc-ada 13-1 base=gcc d=gcc-libs",
		"gcc 13-1 base=gcc d=gcc-libs",
		"gnat-user 1-1 d=gcc-ada",
		"libs-user 1-1 d=gcc-libs",
	}, nil)
}

func reached(rs []Reached) string {
	var parts []string
	for _, r := range rs {
		s := fmt.Sprintf("%s@%d", r.Pkgbase, r.Depth)
		if r.Via.Unsatisfied {
			s += "!"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestGraphReach(t *testing.T) {
	g, err := NewGraph(graphInput())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		roots []string
		walk  Walk
		want  string
	}{
		{[]string{"libfoo"}, Walk{Reverse: true}, "bar@1 doc@1 old@1! qux@1 baz@2 app@3"},
		{[]string{"libfoo"}, Walk{Reverse: true, Depth: 1}, "bar@1 doc@1 old@1! qux@1"},
		{[]string{"libfoo"}, Walk{Reverse: true, Kinds: []DepKind{KindDepends}}, "bar@1 old@1! qux@1"},
		{[]string{"libfoo"}, Walk{Reverse: true, Kinds: []DepKind{KindMakeDepends}}, ""},
		{[]string{"bar"}, Walk{Reverse: true, Kinds: []DepKind{KindMakeDepends}}, "baz@1"},
		// A pkgname that is not its pkgbase's name restricts the first step
		// to its own edges, both ways.
		{[]string{"gcc-ada"}, Walk{Reverse: true}, "gnat-user@1"},
		{[]string{"gcc"}, Walk{Reverse: true}, "gnat-user@1 libs-user@1"},
		{[]string{"qux-tools"}, Walk{}, "libfoo@1"},
		{[]string{"app"}, Walk{}, "baz@1 bar@2 libfoo@3"},
		{[]string{"app"}, Walk{Depth: 2}, "baz@1 bar@2"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.roots, tt.walk), func(t *testing.T) {
			rs, err := g.Reach(tt.roots, tt.walk)
			if err != nil {
				t.Fatal(err)
			}
			if got := reached(rs); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	if _, err := g.Reach([]string{"nosuch"}, Walk{}); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("unknown root: err = %v", err)
	}
	// The edge says which relation and pkgname made it.
	deps := g.Dependents("libfoo")
	i := slices.IndexFunc(deps, func(e DepEdge) bool { return e.From == "bar" })
	if i < 0 || deps[i].Relation != "libfoo.so=2-64" || deps[i].Package != "libfoo" || deps[i].Kind != KindDepends || deps[i].Unsatisfied {
		t.Errorf("edge bar → libfoo = %+v", deps)
	}
	if got := g.Packages("gcc"); !slices.Equal(got, []string{"gcc", "gcc-ada", "gcc-libs"}) {
		t.Errorf("packages of gcc = %v", got)
	}
	if v, r := g.Version("qux"); v != "1-1" || r != "core" {
		t.Errorf("version of qux = %s %s", v, r)
	}
}

func TestRebuildDependents(t *testing.T) {
	in := graphInput()
	// The target has everything at the upstream version: only the option
	// puts anything in the plan.
	for _, p := range in.Repos[0].Upstream.Packages {
		if p.Arch != "any" {
			p.Arch = "aarch64"
		}
		in.Repos[0].Target.Packages = append(in.Repos[0].Target.Packages, p)
	}
	in.Options.RebuildDependents = []string{"libfoo"}
	p := mustBuild(t, in)
	// doc is ARCH=any and only checks with libfoo; old's edge is
	// unsatisfied but still a dependent.
	if got := sortedIDs(p); !slices.Equal(got, []string{"app", "bar", "baz", "old", "qux"}) {
		t.Fatalf("nodes = %v\n%s", got, dump(p))
	}
	before(t, p, "bar", "baz")
	before(t, p, "baz", "app")
	r := node(t, p, "baz").Reason
	if r.Kind != ReasonRebuildDependents || r.Detail != "--rebuild-dependents libfoo: makedepends bar (depth 2)" || r.Via != "bar" {
		t.Errorf("baz reason = %+v", r)
	}
	if r := node(t, p, "bar").Reason; r.Detail != "--rebuild-dependents libfoo: depends libfoo.so=2-64" {
		t.Errorf("bar reason = %+v", r)
	}
	if r.Kind.String() != "rebuild-dependents" {
		t.Errorf("kind = %s", r.Kind)
	}

	// A dependent the target has newer is not downgraded.
	for i := range in.Repos[0].Target.Packages {
		if tp := &in.Repos[0].Target.Packages[i]; tp.Name == "old" {
			tp.Version = "2-1"
		}
	}
	p = mustBuild(t, in)
	if p.Node("old") != nil || !hasWarning(p, "old", "not rebuilt for --rebuild-dependents: the target's 2-1 is newer than upstream's 1-1") {
		t.Errorf("target-newer dependent: nodes %v, warnings %v", sortedIDs(p), p.Warnings)
	}

	in.Options.DependentsDepth = 1
	p = mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"bar", "qux"}) {
		t.Fatalf("depth 1: nodes = %v", got)
	}

	in.Options.RebuildDependents = []string{"nosuch"}
	if _, err := Build(in); err == nil || !strings.Contains(err.Error(), "--rebuild-dependents nosuch") {
		t.Errorf("err = %v", err)
	}
}

// BenchmarkGraph resolves the dependency graph of the full-size scenario
// (14,562 packages) and walks every dependent of glibc, which is most of
// it: what `portmake dependents glibc` costs on top of reading the DBs.
func BenchmarkGraph(b *testing.B) {
	in := fullSize(b)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		g, err := NewGraph(in)
		if err != nil {
			b.Fatal(err)
		}
		rs, err := g.Reach([]string{"glibc"}, Walk{Reverse: true})
		if err != nil {
			b.Fatal(err)
		}
		n = len(rs)
	}
	b.ReportMetric(float64(n), "dependents")
}

// BenchmarkBuildRebuildDependents plans the full-size scenario with
// --rebuild-dependents zstd (every pkgbase that links it, transitively).
func BenchmarkBuildRebuildDependents(b *testing.B) {
	benchBuild(b, func(in *Input) { in.Options.RebuildDependents = []string{"zstd"}; in.Options.DependentsDepth = 1 })
}
