package planner

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// hashFields is the decision for every field of the hash inputs: true means
// it is written into the hash. A new field must be added here, on purpose.
var hashFields = map[string]map[string]bool{
	"hashInput": {
		"Salt": true, "Arch": true, "Pkgbase": true, "Version": true, "Source": true,
		"MakepkgConf": true, "PacmanConf": true, "Builder": true, "MakepkgArgs": true, "Nocheck": true, "Nointeg": true,
		"Stage": true, "Deps": true,
	},
	"Source": {
		"Kind": true, "URL": true, "Ref": true, "Commit": true, "TreeHash": true, "Patches": true,
		"Recipe": false, // derived from the commit or tree, which are hashed
	},
	"PatchRef": {"Name": true, "SHA256": true},
	"BuildEnv": {"MakepkgConf": true, "PacmanConf": true, "Builder": true, "MakepkgArgs": true},
}

func TestEveryHashFieldIsDecided(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[hashInput](), reflect.TypeFor[Source](), reflect.TypeFor[PatchRef](), reflect.TypeFor[BuildEnv]()} {
		decided := hashFields[typ.Name()]
		if decided == nil {
			t.Fatalf("no decisions for %s", typ.Name())
		}
		for f := range typ.Fields() {
			if _, ok := decided[f.Name]; !ok {
				t.Errorf("%s.%s: decide whether it is hashed (hash.go, hashFields)", typ.Name(), f.Name)
			}
		}
		if typ.NumField() != len(decided) {
			t.Errorf("%s: hashFields lists %d fields, the type has %d", typ.Name(), len(decided), typ.NumField())
		}
	}
}

// TestHashedFieldsChangeTheHash checks that each input marked hashed
// really changes the hash.
func TestHashedFieldsChangeTheHash(t *testing.T) {
	src := &Source{Kind: SourceOfficial, URL: "u", Ref: "r", Commit: "c", TreeHash: "t", Patches: []PatchRef{{"p", "s"}}}
	base := hashInput{Salt: Salt, Arch: "aarch64", Pkgbase: "a", Version: "1-1", Source: src, MakepkgConf: "m", PacmanConf: "p", Builder: "chroot", Stage: "0",
		Deps: []HashInput{{"dep b", "h1"}}}
	sum := func(in hashInput) string { return sumLines(newHash(), in.lines()) }
	ref := sum(base)
	muts := map[string]func(*hashInput){
		"Salt": func(h *hashInput) { h.Salt = "x" }, "Arch": func(h *hashInput) { h.Arch = "x" },
		"Pkgbase": func(h *hashInput) { h.Pkgbase = "x" }, "Version": func(h *hashInput) { h.Version = "x" },
		"MakepkgConf": func(h *hashInput) { h.MakepkgConf = "x" }, "PacmanConf": func(h *hashInput) { h.PacmanConf = "x" },
		"Builder": func(h *hashInput) { h.Builder = "x" }, "Nocheck": func(h *hashInput) { h.Nocheck = true },
		"MakepkgArgs": func(h *hashInput) { h.MakepkgArgs = `"--nocolor"` }, "Nointeg": func(h *hashInput) { h.Nointeg = true },
		"Stage": func(h *hashInput) { h.Stage = "1" }, "Deps": func(h *hashInput) { h.Deps = []HashInput{{"dep b", "h2"}} },
		"Source=nil":      func(h *hashInput) { h.Source = nil },
		"Source.Kind":     func(h *hashInput) { s := *src; s.Kind = SourceOverride; h.Source = &s },
		"Source.URL":      func(h *hashInput) { s := *src; s.URL = "x"; h.Source = &s },
		"Source.Ref":      func(h *hashInput) { s := *src; s.Ref = "x"; h.Source = &s },
		"Source.Commit":   func(h *hashInput) { s := *src; s.Commit = "x"; h.Source = &s },
		"Source.TreeHash": func(h *hashInput) { s := *src; s.TreeHash = "x"; h.Source = &s },
		"Source.Patches":  func(h *hashInput) { s := *src; s.Patches = []PatchRef{{"p", "x"}}; h.Source = &s },
		"Source.Recipe (not hashed)": func(h *hashInput) {
			s := *src
			s.Recipe = &Recipe{Pkgbase: "zzz"}
			h.Source = &s
		},
	}
	for name, mut := range muts {
		h := base
		mut(&h)
		changed := sum(h) != ref
		if want := name != "Source.Recipe (not hashed)"; changed != want {
			t.Errorf("%s: hash changed = %v, want %v", name, changed, want)
		}
	}
}

func medium() *Input {
	in := simple(
		[]string{"glibc 2.36-1", "a 2-1 d=b,glibc", "b 2-1 m=a", "c 3-1 d=a c=pytest", "pytest 7-1 d=c", "d 1-1 d=libx.so=2-64", "libx 2-1 p=libx.so=2-64", "e 1-1 arch=any", "f 1-1 d=zzz"},
		[]string{"glibc 2.35-1", "a 1-1", "b 1-1", "c 2-1", "pytest 7-1", "d 0.9-1", "libx 1-1 p=libx.so=1-64", "f 0.1-1"},
	)
	in.Sources = map[string]Source{"a": {Kind: SourceOfficial, URL: "https://x/a.git", Ref: "2-1", Commit: "aaaa"}}
	return in
}

func TestSameInputsSameHashesInAnyOrder(t *testing.T) {
	ref := mustBuild(t, medium())
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		p := mustBuild(t, shuffled(medium(), r))
		if !reflect.DeepEqual(hashes(p), hashes(ref)) || !slices.Equal(ids(p), ids(ref)) {
			t.Fatalf("run %d: plan differs:\n%s\nvs\n%s", i, dump(p), dump(ref))
		}
	}
}

func TestChangedInputRebuildsDependents(t *testing.T) {
	ref := mustBuild(t, medium())
	in := medium()
	in.Sources["a"] = Source{Kind: SourceOfficial, URL: "https://x/a.git", Ref: "2-1", Commit: "bbbb"}
	p := mustBuild(t, in)
	old, cur := hashes(ref), hashes(p)
	var changed []string
	for id := range cur {
		if cur[id] != old[id] {
			changed = append(changed, id)
		}
	}
	slices.Sort(changed)
	// a's stages, b#2 (built against a#2), b#1 built after a#1, c needs a.
	want := []string{"a#1", "a#2", "b#1", "b#2", "c"}
	if !slices.Equal(changed, want) {
		t.Fatalf("changed = %v, want %v", changed, want)
	}
	ch := DiffInputs(ref.Node("a#1").HashInputs, p.Node("a#1").HashInputs)
	if len(ch) != 1 || ch[0].Key != "source.commit" || ch[0].Old != "aaaa" || ch[0].New != "bbbb" {
		t.Errorf("DiffInputs = %+v", ch)
	}
	ch = DiffInputs(ref.Node("c").HashInputs, p.Node("c").HashInputs)
	if len(ch) != 1 || ch[0].Key != "dep a#2" {
		t.Errorf("DiffInputs(c) = %+v", ch)
	}
	in = medium()
	in.BuildEnv.PacmanConf = []byte("changed")
	p = mustBuild(t, in)
	for id, h := range hashes(p) {
		if h == old[id] {
			t.Errorf("%s: pacman.conf changed but the hash did not", id)
		}
	}

	// build.makepkg_args reach every build (issue 16: two plans that
	// differed only in --nocolor gave the same hashes), and say so.
	in = medium()
	in.BuildEnv.MakepkgArgs = []string{"--nocolor"}
	p = mustBuild(t, in)
	for id, h := range hashes(p) {
		if h == old[id] {
			t.Errorf("%s: makepkg_args changed but the hash did not", id)
		}
	}
	if ch := DiffInputs(ref.Node("d").HashInputs, p.Node("d").HashInputs); len(ch) == 0 || ch[0].Key != "makepkg.args" || ch[0].New != `"--nocolor"` {
		t.Errorf("DiffInputs(d) = %+v", ch)
	}
	// A package's nointeg changes its hash and its dependents'.
	in = medium()
	in.Overrides = map[string]Override{"a": {Nointeg: true}}
	p = mustBuild(t, in)
	if p.Node("d").Hash != old["d"] || p.Node("c").Hash == old["c"] || !p.Node("a#1").Nointeg {
		t.Errorf("nointeg of a: d %v, c %v", p.Node("d").Hash != old["d"], p.Node("c").Hash == old["c"])
	}
}

func TestDiffInputs(t *testing.T) {
	old := []HashInput{{"salt", "s"}, {"version", "1"}, {"dep x", "h"}}
	cur := []HashInput{{"salt", "s"}, {"version", "2"}, {"dep y", "h"}}
	got := DiffInputs(old, cur)
	want := []Change{{"version", "1", "2"}, {"dep y", "", "h"}, {"dep x", "h", ""}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v want %+v", got, want)
	}
}
