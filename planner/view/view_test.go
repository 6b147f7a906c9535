package view

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/internal/pkgspec"
	"github.com/portmake/portmake/planner"
)

func pkg(spec string) *alpm.Package { return pkgspec.Must(spec) }

func repo(name string, specs ...string) *planner.Repo {
	r := &planner.Repo{Name: name}
	for _, s := range specs {
		r.Packages = append(r.Packages, pkg(s).Entry())
	}
	return r
}

// tgrepo is repo for the port's side, whose packages are aarch64.
func tgrepo(name string, specs ...string) *planner.Repo {
	r := repo(name, specs...)
	for i := range r.Packages {
		if r.Packages[i].Arch == "x86_64" {
			r.Packages[i].Arch = "aarch64"
		}
	}
	return r
}

// medium is the golden scenario: a split package, a soname, a transitive
// missing dependency, two dependent cycles, a checkdepends-only cycle, a
// blacklist chain, ARCH=any, target-newer, an unresolvable dependency, a
// new source and a held toolchain package.
func medium() *planner.Input {
	return &planner.Input{
		Arch: "aarch64", UpstreamArch: "x86_64",
		Repos: []planner.RepoPair{
			{Name: "core", Publish: "core-testing",
				Upstream: repo("core", "glibc 2.36-1", "gcc 12.2-1 d=glibc", "zlib 1:1.2.13-1 d=glibc p=libz.so=1-64",
					"python 3.10.8-1 d=libffi.so=8-64,zlib", "libffi 3.4.4-1 p=libffi.so=8-64",
					"python-setuptools 65-1 arch=any d=python", "ca-certificates 20220905-1 arch=any"),
				Target: tgrepo("core", "glibc 2.36-1", "gcc 12.1-1", "zlib 1:1.2.12-1 p=libz.so=1-64", "python 3.10.7-1",
					"ca-certificates 20220801-1 arch=any")},
			{Name: "extra", Publish: "extra-testing",
				Upstream: repo("extra",
					"vim 9.0-1 base=vim d=python m=lua", "vim-runtime 9.0-2 base=vim arch=any", "lua 5.4-1",
					"a 2-1 d=b", "b 2-1 m=a", "x 2-1 d=b", "c 2-1 d=d,x", "d 2-1 d=c",
					"t 2-1 d=u", "u 2-1 c=t",
					"emacs 29-1 d=gtk-bad", "gtk-bad 1-1", "nano 7-1 d=libmagic.so=2-64", "htop 3.2-1"),
				Target: tgrepo("extra", "vim 8.2-1 base=vim", "a 1-1", "b 1-1", "x 1-1", "c 1-1", "d 1-1", "t 1-1", "u 1-1",
					"emacs 28-1", "nano 6-1", "htop 3.3-1")},
		},
		NewSources: []planner.NewSource{{Repo: "extra", Source: planner.Source{Kind: planner.SourceAUR, URL: "https://aur.archlinux.org/yay.git", Ref: "master", Commit: "0123abcd",
			Recipe: &planner.Recipe{Pkgbase: "yay", Version: "12.0.5-1", Packages: []planner.SplitPackage{{Name: "yay", Depends: []string{"glibc"}}}}}}},
		Sources: map[string]planner.Source{
			"python": {Kind: planner.SourceOfficial, URL: "https://gitlab.archlinux.org/archlinux/packaging/packages/python.git", Ref: "3.10.8-1", Commit: "feedf00d",
				Patches: []planner.PatchRef{{Name: "aarch64.patch", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}},
		},
		Blacklist: []planner.BlacklistEntry{{Pattern: "gtk-*", Reason: "needs a GPU", Origin: "Portfile.hcl:14"}},
		Bootstrap: []string{"glibc", "gcc"},
		Options:   planner.Options{Missing: true},
		BuildEnv:  planner.BuildEnv{MakepkgConf: []byte("CARCH=aarch64\n"), PacmanConf: []byte("[core]\n"), Builder: "chroot"},
		Meta: planner.Meta{PortfileHash: "sha256:1111", CommandLine: []string{"portmake", "plan"},
			DBs: []planner.DBChecksum{{Repo: "core", Side: "upstream", URL: "file:///repo/core.db", SHA256: "2222"}}},
	}
}

func build(t *testing.T) *planner.Plan {
	t.Helper()
	p, err := planner.Build(medium())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", name)
	if os.Getenv("PORTMAKE_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with PORTMAKE_UPDATE_GOLDEN=1 to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (PORTMAKE_UPDATE_GOLDEN=1 rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGoldenHuman(t *testing.T) {
	var b bytes.Buffer
	if err := RenderHuman(&b, build(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan_medium.txt.golden", b.Bytes())
}

func TestGoldenJSON(t *testing.T) {
	var b bytes.Buffer
	if err := RenderJSON(&b, build(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan_medium.json.golden", b.Bytes())

	// The required fields are there, and reason is one of the five words.
	var doc struct {
		Nodes []map[string]any `json:"nodes"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Nodes) == 0 {
		t.Fatal("no nodes")
	}
	for _, n := range doc.Nodes {
		for _, k := range []string{"pkgbase", "version", "current", "repo", "reason", "reason_detail", "stage", "cycle", "hash", "deps", "priority"} {
			if _, ok := n[k]; !ok {
				t.Errorf("node %v lacks %q", n["id"], k)
			}
		}
		switch n["reason"] {
		case "outdated", "missing-dependency", "forced", "rebuild-repo", "new-source", "bootstrap":
		default:
			t.Errorf("node %v: reason %v", n["id"], n["reason"])
		}
	}
}

func TestGoldenDOT(t *testing.T) {
	var b bytes.Buffer
	if err := RenderDOT(&b, build(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan_medium.dot.golden", b.Bytes())
	var g bytes.Buffer
	if err := RenderGraphJSON(&g, build(t)); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(g.Bytes()) || !strings.Contains(g.String(), `"from": "a#2"`) {
		t.Errorf("graph json = %s", g.String())
	}
}

func TestSummaryLine(t *testing.T) {
	got := SummaryLine(build(t))
	want := "Plan: 18 to build (2 cycles, 4 builds in stage 1), 2 blocked, 2 any-sync, 1 target-newer, 1 held, 1 warning."
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestWhy(t *testing.T) {
	p := build(t)
	tests := []struct{ name, want string }{
		{"libffi", "chain:  libffi ← depends of python (outdated)"},
		{"vim-runtime", "vim-runtime is a package of pkgbase vim."},
		{"a", "cycle 1 with b (2 stages)\n  in the cycle because: a needs b (depends b), which needs a (makedepends a)\n  its first build uses the target's binaries of: b (depends b)"},
		{"emacs", "emacs: blocked by gtk-bad (blacklist: 'gtk-*' needs a GPU)"},
		{"glibc", "only the target has it"}, // up to date, see below
		{"htop", "the target is newer than upstream"},
		{"ca-certificates", "any-sync: outdated"},
		{"gcc", "only built with --bootstrap"},
		{"nosuch", "no such pkgbase or pkgname"},
		{"u", "--nocheck: checkdepends cycle"},
	}
	for _, tt := range tests {
		got := Why(p, tt.name)
		if tt.name == "glibc" {
			tt.want = "the target is up to date"
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("Why(%s) =\n%s\nwant it to contain %q", tt.name, got, tt.want)
		}
	}
}

func TestExplain(t *testing.T) {
	p := build(t)
	n := p.NodesOf("python")[0]
	var b bytes.Buffer
	if err := Explain(&b, n, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "no previous successful build") || !strings.Contains(b.String(), "source.commit feedf00d") {
		t.Errorf("explain:\n%s", b.String())
	}
	prev := append([]planner.HashInput(nil), n.HashInputs...)
	for i := range prev {
		if prev[i].Key == "source.commit" {
			prev[i].Value = "0ld"
		}
	}
	prev = append(prev, planner.HashInput{Key: "dep gone", Value: "h"})
	b.Reset()
	if err := Explain(&b, n, prev); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"~ source.commit feedf00d (was 0ld)", "- dep gone h", "2 inputs changed"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("explain lacks %q:\n%s", want, b.String())
		}
	}
}

// A stored plan renders exactly like the plan that was stored: show and
// plan must never disagree.
func TestStoredPlanRendersTheSame(t *testing.T) {
	p := build(t)
	data, err := planner.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := planner.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	// The document leaves the hash inputs out; they are recomputed.
	if err := q.RestoreHashInputs(); err != nil {
		t.Fatal(err)
	}
	for _, render := range []func(io.Writer, *planner.Plan) error{RenderJSON, RenderHuman, RenderDOT, RenderGraphJSON} {
		var a, b bytes.Buffer
		if err := render(&a, p); err != nil {
			t.Fatal(err)
		}
		if err := render(&b, q); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Fatalf("stored plan renders differently:\n%s\n---\n%s", a.String(), b.String())
		}
	}
}

// bigPlan is a port where the human view must stay readable: a cycle of
// 60 members (each needs the next, and all need p0), every member missing
// the same two dependencies, a few missing their own.
func bigPlan(t *testing.T) *planner.Plan {
	t.Helper()
	var up, tg []string
	const n = 60
	for i := range n {
		d := fmt.Sprintf("p%d,p0,ghost-lib,ghost-tool", (i+1)%n)
		if i%20 == 0 {
			d += fmt.Sprintf(",own%d", i)
		}
		up = append(up, fmt.Sprintf("p%d 2-1 d=%s", i, d))
		tg = append(tg, fmt.Sprintf("p%d 1-1", i))
	}
	in := &planner.Input{Arch: "aarch64", UpstreamArch: "x86_64",
		Repos:    []planner.RepoPair{{Name: "core", Upstream: repo("core", up...), Target: tgrepo("core", tg...), Publish: "core"}},
		BuildEnv: planner.BuildEnv{Builder: "chroot"}}
	p, err := planner.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHumanBigPlan(t *testing.T) {
	var b bytes.Buffer
	if err := RenderHuman(&b, bigPlan(t)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"  cycle 1 (2 stages, 60 members): p0, p59, p58, p57, p56, p55, p54, p53, p52, p51, p50, p49 … and 48 more (--json lists all)\n",
		"    hint: --single-stage builds each cycle once: 60 builds instead of 120 for this one\n",
		"Warnings (123: 123 unresolvable):\n",
		"  ! unresolvable: ghost-lib (depends of 60 pkgbases: p0, p1, p10, p11, p12, p13, p14, p15 … and 52 more (--json lists all))\n",
		"  ! unresolvable: own20 (depends of p20)\n",
		"Plan: 120 to build (1 cycle, 60 builds in stage 1), 0 blocked, 0 any-sync, 123 warnings.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("human view lacks %q:\n%s", want, out)
		}
	}
	if lines := strings.Count(out, "\n"); lines > 120+40 {
		t.Errorf("%d lines for 120 builds", lines)
	}
	why := Why(bigPlan(t), "p5")
	for _, want := range []string{
		"cycle 1 with p0, p59, p58, p57, p56, p55, p54, p53, p52, p51, p50, p49 … and 47 more (--json lists all) (2 stages)",
		"in the cycle because: p5 needs p0 (depends p0), which needs p1 (depends p1), which needs p2 (depends p2), which needs p3 (depends p3), which needs p4 (depends p4), which needs p5 (depends p5)",
	} {
		if !strings.Contains(why, want) {
			t.Errorf("why p5 lacks %q:\n%s", want, why)
		}
	}
}

// TestHumanCutsBrokenEdges: a cycle's "is built before" lines stop at
// brokenLimit.
func TestHumanCutsBrokenEdges(t *testing.T) {
	c := planner.Cycle{ID: 1, Stages: 1, Members: []string{"a", "b"}}
	for i := range 20 {
		c.Broken = append(c.Broken, planner.BrokenEdge{From: "a", To: fmt.Sprintf("b%d", i), Kind: planner.KindDepends, Relation: "b", InTarget: true})
	}
	var b bytes.Buffer
	RenderHuman(&b, &planner.Plan{Cycles: []planner.Cycle{c}})
	if got := strings.Count(b.String(), " is built before "); got != brokenLimit {
		t.Errorf("%d broken edges shown, want %d:\n%s", got, brokenLimit, b.String())
	}
	if !strings.Contains(b.String(), "    … and 12 more such edges (--json lists all)\n") || strings.Contains(b.String(), "hint:") {
		t.Errorf("no cut line, or a hint for a small cycle:\n%s", b.String())
	}
}

// TestHumanDowngrade: a downgrade has its own symbol, action and count.
func TestHumanDowngrade(t *testing.T) {
	in := &planner.Input{Arch: "aarch64", UpstreamArch: "x86_64",
		Repos: []planner.RepoPair{{Name: "core", Publish: "core",
			Upstream: repo("core", "app 2-1 d=libfoo.so=0-64", "libfoo 0.8-1 p=libfoo.so=0-64"),
			Target:   tgrepo("core", "app 1-1", "libfoo 1.0-1 p=libfoo.so=1-64")}},
		BuildEnv: planner.BuildEnv{Builder: "chroot"}, Options: planner.Options{AllowDowngrade: true}}
	p, err := planner.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var b, j bytes.Buffer
	RenderHuman(&b, p)
	RenderJSON(&j, p)
	for _, want := range []string{"  <  libfoo  1.0-1 → 0.8-1", ", 1 downgrade, 1 warning."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("human view lacks %q:\n%s", want, b.String())
		}
	}
	for _, want := range []string{`"action": "downgrade",`, `"downgrade": true,`, `"downgrades": 1`} {
		if !strings.Contains(j.String(), want) {
			t.Errorf("JSON lacks %q", want)
		}
	}
	if why := Why(p, "libfoo"); !strings.Contains(why, "libfoo: downgrade, priority") || !strings.Contains(why, "warning: downgrade: the target has 1.0-1") {
		t.Errorf("why libfoo:\n%s", why)
	}
}
