package analyze

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/portmake/portmake/planner"
)

// depWorld: libfoo is needed by bar (its soname), by the cycle a ↔ b, by
// old (a version that no longer exists), and by tst for its checks only;
// baz builds with bar and app needs baz. The target is up to date, so
// only --rebuild-dependents plans anything. At depth 1, b is not rebuilt,
// so a is built once against the target's b: no cycle.
func depWorld() *planner.Input {
	up := []string{
		"libfoo 2-1 p=libfoo.so=2-64",
		"bar 1-1 d=libfoo.so=2-64",
		"baz 1-1 m=bar",
		"app 1-1 d=baz",
		"old 1-1 d=libfoo<2",
		"a 1-1 d=b,libfoo",
		"b 1-1 d=a",
		"tst 1-1 c=libfoo",
		"doc 1-1 any d=libfoo",
	}
	var tg []string
	for _, s := range up {
		tg = append(tg, s+" arch=aarch64")
	}
	return &planner.Input{Arch: "aarch64", UpstreamArch: "x86_64",
		Repos: []planner.RepoPair{{Name: "core", Upstream: repo("core", up...), Target: repo("core", tg...)}}}
}

func TestDependentsHuman(t *testing.T) {
	tests := []struct {
		name string
		o    DependentsOptions
		want string
	}{
		{"libfoo", DependentsOptions{}, `libfoo 2-1 core: 8 dependents
  depth  pkgbase  dependency
  1      a        depends libfoo (libfoo)
  1      bar      depends libfoo.so=2-64 (libfoo)
  1      doc      depends libfoo (libfoo)
  1      old      depends libfoo<2 (libfoo, unsatisfied)
  1      tst      checkdepends libfoo (libfoo)
  2      b        depends a (a)
  2      baz      makedepends bar (bar)
  3      app      depends baz (baz)

Rebuild order (portmake plan --rebuild-dependents libfoo; depends and makedepends): 8 builds
  1  a#1  1-1 → 1-1  core
  2  b#1  1-1 → 1-1  core
  3  bar  1-1 → 1-1  core
  4  a#2  1-1 → 1-1  core
  5  baz  1-1 → 1-1  core
  6  app  1-1 → 1-1  core
  7  b#2  1-1 → 1-1  core
  8  old  1-1 → 1-1  core
`},
		{"libfoo", DependentsOptions{Depth: 1, Kinds: []planner.DepKind{planner.KindDepends}}, `libfoo 2-1 core: 4 dependents (depends only, depth 1)
  depth  pkgbase  dependency
  1      a        depends libfoo (libfoo)
  1      bar      depends libfoo.so=2-64 (libfoo)
  1      doc      depends libfoo (libfoo)
  1      old      depends libfoo<2 (libfoo, unsatisfied)

Rebuild order (portmake plan --rebuild-dependents libfoo --dependents-depth 1; depends and makedepends): 3 builds
  1  a    1-1 → 1-1  core
  2  bar  1-1 → 1-1  core
  3  old  1-1 → 1-1  core
`},
		{"app", DependentsOptions{Forward: true}, `app 1-1 core: 3 dependencies
  depth  pkgbase  dependency
  1      baz      depends baz of app (baz)
  2      bar      makedepends bar of baz (bar)
  3      libfoo   depends libfoo.so=2-64 of bar (libfoo)
`},
	}
	for _, tt := range tests {
		r, err := Dependents(depWorld(), tt.name, tt.o)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := RenderDependents(&b, r); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != tt.want {
			t.Errorf("%s %+v:\n%s", tt.name, tt.o, diffLines(got, tt.want))
		}
	}
	if _, err := Dependents(depWorld(), "nosuch", DependentsOptions{}); err == nil {
		t.Error("want an error for an unknown package")
	}
}

func TestDependentsJSON(t *testing.T) {
	r, err := Dependents(depWorld(), "bar", DependentsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := RenderDependentsJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema  string `json:"schema"`
		Reached []struct {
			Pkgbase, From, To, Kind, Relation, Package string
			Depth                                      int
		} `json:"reached"`
		Order []struct{ ID string } `json:"order"`
		Kinds []string              `json:"kinds"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "portmake.dependents/v1" || len(doc.Reached) != 2 || doc.Reached[0].Pkgbase != "baz" ||
		doc.Reached[0].Kind != "makedepends" || doc.Reached[1].Pkgbase != "app" || doc.Reached[1].Depth != 2 ||
		len(doc.Order) != 2 || doc.Order[0].ID != "baz" || doc.Kinds == nil {
		t.Errorf("doc = %s", b.String())
	}
}
