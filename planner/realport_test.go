package planner

import (
	"slices"
	"strings"
	"testing"
)

// What a port maintainer would not accept on real data (issue 13): a
// planned downgrade, a toolchain hold that leaks, a same-name package in a
// later repository that nobody sees, a database of the wrong architecture.

func warningOf(p *Plan, pkgbase string, kind WarningKind) *Warning {
	for i := range p.Warnings {
		if w := &p.Warnings[i]; w.Pkgbase == pkgbase && w.Kind == kind {
			return w
		}
	}
	return nil
}

// TestNoDowngradeForMissingDependency is the libbpf case: upstream's binary
// app was linked against libfoo.so.0, the port already has the newer libfoo
// with libfoo.so.1. The port rebuilds app against it; it must not plan
// libfoo 0.8 over 1.0.
func TestNoDowngradeForMissingDependency(t *testing.T) {
	mk := func() *Input {
		return simple(
			[]string{"app 2-1 d=libfoo.so=0-64", "libfoo 0.8-1 p=libfoo.so=0-64", "tool 1-1"},
			[]string{"app 1-1", "libfoo 1.0-1 p=libfoo.so=1-64", "tool 1.1-1"},
		)
	}
	p := mustBuild(t, mk())
	if got := sortedIDs(p); !slices.Equal(got, []string{"app"}) {
		t.Fatalf("nodes = %v, want only app", got)
	}
	w := warningOf(p, "app", WarnDowngrade)
	if w == nil || w.Relation != "libfoo.so=0-64" ||
		!strings.Contains(w.Message, "no downgrade: libfoo.so=0-64 (depends of app): only upstream's libfoo 0.8-1 satisfies it, older than the target's 1.0-1") ||
		!strings.Contains(w.Message, "--allow-downgrade") {
		t.Fatalf("warning = %+v; all: %+v", w, p.Warnings)
	}
	if st, _ := p.Status("libfoo"); st.Status != StatusTargetNewer {
		t.Errorf("libfoo status %s, want target-newer", st.Status)
	}

	// --allow-downgrade plans it, marked as a downgrade everywhere.
	in := mk()
	in.Options.AllowDowngrade = true
	p = mustBuild(t, in)
	n := node(t, p, "libfoo")
	if !n.Downgrade || n.Action != ActionDowngrade || n.Reason.Kind != ReasonMissingDependency || node(t, p, "app").Downgrade {
		t.Fatalf("libfoo node = %+v", n)
	}
	if p.Summary().Downgrades != 1 || warningOf(p, "libfoo", WarnDowngrade) == nil {
		t.Errorf("summary %+v, warnings %+v", p.Summary(), p.Warnings)
	}

	// --rebuild-repo leaves what the target has newer alone; --packages
	// is explicit, and marked.
	in = mk()
	in.Options.RebuildRepos = []string{"core"}
	p = mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"app"}) {
		t.Errorf("--rebuild-repo nodes = %v, want app (tool and libfoo are newer on the target)", got)
	}
	in.Options.AllowDowngrade = true
	if got := sortedIDs(mustBuild(t, in)); !slices.Equal(got, []string{"app", "libfoo", "tool"}) {
		t.Errorf("--rebuild-repo --allow-downgrade nodes = %v", got)
	}
	in = mk()
	in.Options.Packages = []string{"tool"}
	p = mustBuild(t, in)
	if n := node(t, p, "tool"); !n.Downgrade || n.Reason.Kind != ReasonForced {
		t.Errorf("forced tool = %+v", n)
	}
}

// TestToolchainHoldHolds: gcc and glibc pulled by missing-dependency edges
// stay held unless --bootstrap or --packages names them.
func TestToolchainHoldHolds(t *testing.T) {
	mk := func() *Input {
		in := simple(
			[]string{"glibc 2.36-1", "binutils 2.39-1 d=glibc", "gcc 12.2-1 d=glibc,binutils",
				"libtool 2.4.7-5 m=gcc>=12.2", "valgrind 3.19-5 m=lib32-glibc", "lib32-glibc 2.36-1 base=glibc",
				"app 2-1 m=binutils>=2.39"},
			[]string{"glibc 2.35-1", "gcc 12.1-1", "libtool 2.4.7-2", "valgrind 3.19-3", "app 1-1"},
		)
		in.Bootstrap = []string{"linux-api-headers", "glibc", "binutils", "gcc"}
		return in
	}
	p := mustBuild(t, mk())
	if got := sortedIDs(p); !slices.Equal(got, []string{"app", "libtool", "valgrind"}) {
		t.Fatalf("nodes = %v: the toolchain leaked into the plan", got)
	}
	var held []string
	for _, h := range p.Held {
		held = append(held, h.Pkgbase+":"+h.Reason.Kind.String())
	}
	// binutils needs no work of its own (the target lacks it): it is held
	// for what needs it.
	if want := []string{"binutils:missing-dependency", "gcc:outdated", "glibc:outdated"}; !slices.Equal(held, want) {
		t.Errorf("held = %v, want %v", held, want)
	}
	for base, dep := range map[string]string{"libtool": "gcc>=12.2", "valgrind": "lib32-glibc", "app": "binutils>=2.39"} {
		w := warningOf(p, base, WarnHeld)
		if w == nil || w.Relation != dep || !strings.Contains(w.Message, "build.bootstrap holds back; plan it with --bootstrap, or --packages") {
			t.Errorf("%s: held warning = %+v", base, w)
		}
	}

	// --bootstrap plans the toolchain first, and says why.
	in := mk()
	in.Options.Bootstrap = true
	p = mustBuild(t, in)
	for _, id := range []string{"glibc#b1", "binutils#b1", "gcc#b1", "glibc#b2", "binutils#b2", "gcc#b2"} {
		n := node(t, p, id)
		if n.Reason.Kind != ReasonBootstrap || len(n.Reasons) < 2 {
			t.Errorf("%s reasons = %+v, want bootstrap first", id, n.Reasons)
		}
	}
	if n := node(t, p, "binutils#b1"); n.Reasons[1].Kind != ReasonMissingDependency {
		t.Errorf("binutils reasons = %+v", n.Reasons)
	}
	if len(p.Held) != 0 {
		t.Errorf("held with --bootstrap: %+v", p.Held)
	}

	// --packages gcc builds gcc (and only gcc) of the toolchain.
	in = mk()
	in.Options.Packages = []string{"gcc"}
	p = mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"app", "gcc", "libtool", "valgrind"}) {
		t.Fatalf("nodes = %v", got)
	}
	if n := node(t, p, "gcc"); n.Reason.Kind != ReasonForced {
		t.Errorf("gcc reason %+v", n.Reason)
	}
}

// TestSameNameInTwoRepos resolves like libalpm: the packages of the exact
// name in repository order, the first that satisfies; then providers.
func TestSameNameInTwoRepos(t *testing.T) {
	in := &Input{Arch: "aarch64", UpstreamArch: "x86_64", BuildEnv: BuildEnv{Builder: "chroot"},
		Repos: []RepoPair{
			{Name: "core", Publish: "core",
				Upstream: repo("core", "app 2-1 d=foo>=2", "gui 2-1 d=bar>=2", "foo 1.0-1", "bar 1-1", "prov 1-1 p=bar=3"),
				Target:   tgrepo("core", "app 1-1", "gui 1-1", "foo 1.0-1", "bar 1-1", "prov 1-1")},
			{Name: "extra", Publish: "extra",
				Upstream: repo("extra", "foo 2.0-1 base=foo-ng", "bar 2-1 base=bar-ng"),
				Target:   tgrepo("extra", "foo 2.0-1 base=foo-ng")},
		}}
	p := mustBuild(t, in)
	// app: the target's extra/foo 2.0 satisfies foo>=2 (core/foo does not).
	// gui: the target has no bar>=2 (prov provides bar=3 only upstream),
	// and upstream's extra/bar 2 is the exact name, so bar-ng is built
	// rather than a provider.
	if got := sortedIDs(p); !slices.Equal(got, []string{"app", "bar-ng", "gui"}) {
		t.Fatalf("nodes = %v; warnings %+v", got, p.Warnings)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings: %+v", p.Warnings)
	}
	if e := node(t, p, "gui").Edges; len(e) != 1 || e[0].To != "bar-ng" || e[0].Package != "bar" {
		t.Errorf("gui edges = %+v", e)
	}
}

// TestArchStrays: a target that holds a few packages of another
// architecture (as Arch Linux ARM's armv6h community did) is planned with
// those left out, each with a warning, and the input is not changed.
func TestArchStrays(t *testing.T) {
	in := simple([]string{"a 1-1", "b 1-1", "k 2-1"}, []string{"a 1-1", "b 1-1"})
	in.Repos[0].Target = tgrepo("core", "a 1-1", "b 1-1", "k 2-1 arch=armv7h")
	in.Repos[0].Target.URL = "tg/core.db"
	p := mustBuild(t, in)
	if len(p.Missing) != 1 || p.Missing[0].Pkgbase != "k" {
		t.Errorf("missing = %+v, want k (the armv7h k does not count)", p.Missing)
	}
	if len(p.Warnings) != 1 || p.Warnings[0].Kind != WarnArch || p.Warnings[0].Pkgbase != "k" ||
		p.Warnings[0].Message != "k 2-1 in core (target, tg/core.db) is armv7h, not aarch64 or any: left out, as pacman would not install it" {
		t.Errorf("warnings = %+v", p.Warnings)
	}
	if len(in.Repos[0].Target.Packages) != 3 {
		t.Errorf("the input's target lost entries: %d left", len(in.Repos[0].Target.Packages))
	}
}

// TestArchMismatch: a database of the wrong architecture is an error
// naming the repository, the side and the URL; ARCH=any is fine.
func TestArchMismatch(t *testing.T) {
	in := simple([]string{"a 1-1", "b 1-1 arch=any"}, []string{"a 1-1", "b 1-1 arch=any"})
	in.Repos[0].Target = repo("core", "a 1-1", "b 1-1 arch=any") // x86_64: the upstream snapshot
	in.Repos[0].Target.URL = "https://port.example/core/os/aarch64/core.db"
	_, err := Build(in)
	if err == nil || err.Error() != "repository core (target, https://port.example/core/os/aarch64/core.db): 1 of 2 packages are not for aarch64 or any (a 1-1 is x86_64): is this the right database for this side?" {
		t.Fatalf("error = %v", err)
	}
	in = simple([]string{"a 1-1", "b 1-1 arch=any"}, []string{"a 1-1"})
	in.UpstreamArch = "armv7h"
	if _, err := Build(in); err == nil || !strings.Contains(err.Error(), "repository core (upstream, (no URL)): 1 of 2 packages are not for armv7h or any") {
		t.Fatalf("upstream error = %v", err)
	}
	in.UpstreamArch = "x86_64"
	mustBuild(t, in)
}
