package planner

import (
	"slices"
	"strings"
	"testing"
)

func TestDiffSplitPackages(t *testing.T) {
	p := mustBuild(t, simple(
		[]string{"foo 1-2 base=foo", "foo-libs 1-3 base=foo", "bar 2-1"},
		[]string{"foo 1-2 base=foo", "foo-libs 1-2 base=foo", "bar 2-1"},
	))
	if got := sortedIDs(p); !slices.Equal(got, []string{"foo"}) {
		t.Fatalf("nodes = %v, want [foo]", got)
	}
	n := node(t, p, "foo")
	if n.Version != "1-3" || n.Current != "1-2" || !slices.Equal(n.Packages, []string{"foo", "foo-libs"}) {
		t.Errorf("foo = %s → %s %v; want 1-2 → 1-3 [foo foo-libs]", n.Current, n.Version, n.Packages)
	}
	if n.Reason.Kind != ReasonOutdated {
		t.Errorf("reason = %v", n.Reason)
	}
}

func TestDiffTableOfSections(t *testing.T) {
	tests := []struct {
		name     string
		up, tg   []string
		nodes    []string
		anySync  []string
		newer    []string
		missing  []string
		uptodate []string
	}{
		{name: "outdated epoch", up: []string{"a 1:1.0-1"}, tg: []string{"a 2.0-1"}, nodes: []string{"a"}},
		{name: "equal", up: []string{"a 1.0-1"}, tg: []string{"a 1.0-1"}, uptodate: []string{"a"}},
		{name: "target newer", up: []string{"a 1.0-1"}, tg: []string{"a 1.1-1"}, newer: []string{"a"}},
		{name: "port rebuild is not newer", up: []string{"a 1.0-1"}, tg: []string{"a 1.0-1.1"}, uptodate: []string{"a"}},
		{name: "any outdated and missing", up: []string{"a 2-1 arch=any", "b 1-1 arch=any", "c 1-1 arch=any"}, tg: []string{"a 1-1 arch=any", "c 1-1 arch=any"}, anySync: []string{"a", "b"}},
		{name: "missing is listed, not built", up: []string{"a 1-1", "b 1-1"}, tg: []string{"a 1-1"}, missing: []string{"b"}, uptodate: []string{"a"}},
		{name: "rc tilde", up: []string{"a 1.0-1"}, tg: []string{"a 1.0~rc1-1"}, newer: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustBuild(t, simple(tt.up, tt.tg))
			if got := sortedIDs(p); !slices.Equal(got, tt.nodes) {
				t.Errorf("nodes = %v, want %v", got, tt.nodes)
			}
			var anys, newer, missing, utd []string
			for _, a := range p.AnySync {
				anys = append(anys, a.Pkgbase)
			}
			for _, v := range p.TargetNewer {
				newer = append(newer, v.Pkgbase)
			}
			for _, v := range p.Missing {
				missing = append(missing, v.Pkgbase)
			}
			for _, b := range p.Bases {
				if b.Status == StatusUpToDate {
					utd = append(utd, b.Pkgbase)
				}
			}
			for _, c := range []struct {
				what      string
				got, want []string
			}{{"any-sync", anys, tt.anySync}, {"target-newer", newer, tt.newer}, {"missing", missing, tt.missing}, {"up-to-date", utd, tt.uptodate}} {
				if !slices.Equal(c.got, c.want) {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestVersionedAndVirtualDependencies(t *testing.T) {
	p := mustBuild(t, simple(
		[]string{
			"app 2-1 d=lib>=2,sh,java-runtime=17",
			"lib 2-1", "bash 5-1 p=sh", "jre17 17-1 p=java-runtime=17", "jre11 11-1 p=java-runtime=11", "other 1-1 p=lib=2",
		},
		[]string{"app 1-1", "bash 5-1 p=sh", "jre11 11-1 p=java-runtime=11", "other 1-1 p=lib"},
	))
	// lib>=2: the target's lib 1-1 fails, and other's unversioned provide
	// never satisfies a versioned dependency; upstream's exact name wins.
	// java-runtime=17: only jre17 provides version 17. sh: the target has it.
	if got := sortedIDs(p); !slices.Equal(got, []string{"app", "jre17", "lib"}) {
		t.Fatalf("nodes = %v\n%s", got, dump(p))
	}
	lib := node(t, p, "lib")
	if lib.Reason.Kind != ReasonMissingDependency || lib.Reason.Via != "app" || lib.Reason.Detail != "depends of app (lib>=2)" {
		t.Errorf("lib reason = %+v", lib.Reason)
	}
	before(t, p, "lib", "app")
	before(t, p, "jre17", "app")
}

func TestProviderChoiceFollowsPacman(t *testing.T) {
	// No exact name: the first provider in repository order, then by name.
	in := simple([]string{"app 2-1 d=java-runtime", "zjre 1-1 p=java-runtime", "ajre 1-1 p=java-runtime"}, []string{"app 1-1"})
	in.Repos = append(in.Repos, RepoPair{Name: "extra", Upstream: repo("extra", "bjre 1-1 p=java-runtime"), Target: tgrepo("extra")})
	p := mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"ajre", "app"}) {
		t.Fatalf("nodes = %v", got)
	}
	// An exact name beats an earlier provider.
	in = simple([]string{"app 2-1 d=java-runtime", "ajre 1-1 p=java-runtime"}, []string{"app 1-1"})
	in.Repos = append(in.Repos, RepoPair{Name: "extra", Upstream: repo("extra", "java-runtime 1-1"), Target: tgrepo("extra")})
	p = mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"app", "java-runtime"}) {
		t.Fatalf("nodes = %v", got)
	}
}

func TestSonames(t *testing.T) {
	// The target's libfoo provides libfoo.so=1-64: bar's new build needs =2.
	p := mustBuild(t, simple(
		[]string{"bar 2-1 d=libfoo.so=2-64", "libfoo 2-1 p=libfoo.so=2-64", "baz 1-1 d=libfoo.so=1-64"},
		[]string{"bar 1-1", "libfoo 1-1 p=libfoo.so=1-64", "baz 1-1"},
	))
	if got := sortedIDs(p); !slices.Equal(got, []string{"bar", "libfoo"}) {
		t.Fatalf("nodes = %v", got)
	}
	if e := node(t, p, "bar").Edges; len(e) != 1 || e[0].To != "libfoo" || e[0].Package != "libfoo" {
		t.Errorf("bar edges = %+v", e)
	}
	// baz is up to date and not in the plan, so its soname is not checked.
	// Force it: the planned libfoo no longer provides =1, so it is flagged.
	in := simple(
		[]string{"bar 2-1 d=libfoo.so=2-64", "libfoo 2-1 p=libfoo.so=2-64", "baz 1-1 d=libfoo.so=1-64"},
		[]string{"bar 1-1", "libfoo 1-1 p=libfoo.so=1-64", "baz 1-1"},
	)
	in.Options.Packages = []string{"baz"}
	p = mustBuild(t, in)
	if !hasWarning(p, "baz", "unresolvable: libfoo.so=1-64 (depends of baz)") {
		t.Errorf("warnings = %+v", p.Warnings)
	}
}

func TestTransitiveMissingDependencies(t *testing.T) {
	p := mustBuild(t, simple(
		[]string{"vim 9-1 m=python", "python 3.10-1 d=libffi,mpdecimal>=2", "libffi 3-1", "mpdecimal 2-1 d=glibc", "glibc 2.36-1"},
		[]string{"vim 8-1", "glibc 2.36-1", "mpdecimal 1-1"},
	))
	if got := sortedIDs(p); !slices.Equal(got, []string{"libffi", "mpdecimal", "python", "vim"}) {
		t.Fatalf("nodes = %v", got)
	}
	if r := node(t, p, "python").Reason; r.Detail != "makedepends of vim (python)" {
		t.Errorf("python reason = %+v", r)
	}
	if r := node(t, p, "libffi").Reason; r.Via != "python" || r.DepKind != KindDepends {
		t.Errorf("libffi reason = %+v", r)
	}
	if r := node(t, p, "mpdecimal").Reason; r.Kind != ReasonOutdated {
		t.Errorf("mpdecimal reason = %+v", r)
	}
	before(t, p, "libffi", "python")
	before(t, p, "python", "vim")
}

func TestUnresolvableIsAWarning(t *testing.T) {
	p := mustBuild(t, simple([]string{"bar 2-1 d=libfoo.so=2-64,nothere"}, []string{"bar 1-1"}))
	if got := sortedIDs(p); !slices.Equal(got, []string{"bar"}) {
		t.Fatalf("nodes = %v", got)
	}
	for _, want := range []string{"unresolvable: libfoo.so=2-64 (depends of bar)", "unresolvable: nothere (depends of bar)"} {
		if !hasWarning(p, "bar", want) {
			t.Errorf("missing warning %q in %+v", want, p.Warnings)
		}
	}
	if len(node(t, p, "bar").Warnings) != 2 {
		t.Errorf("node warnings = %v", node(t, p, "bar").Warnings)
	}
}

func TestTwoCycle(t *testing.T) {
	p := mustBuild(t, simple([]string{"a 2-1 d=b", "b 2-1 m=a"}, []string{"a 1-1", "b 1-1"}))
	if got := sortedIDs(p); !slices.Equal(got, []string{"a#1", "a#2", "b#1", "b#2"}) {
		t.Fatalf("nodes = %v", got)
	}
	if len(p.Cycles) != 1 || p.Cycles[0].Stages != 2 || len(p.Cycles[0].Broken) != 1 {
		t.Fatalf("cycles = %+v", p.Cycles)
	}
	// a and b tie on every count, so a goes first and its edge to b breaks.
	if br := p.Cycles[0].Broken[0]; br.From != "a" || br.To != "b" || !br.InTarget {
		t.Errorf("broken = %+v", br)
	}
	if !node(t, p, "a#1").Nocheck || node(t, p, "a#2").Nocheck {
		t.Error("stage 1 must run --nocheck and stage 2 with checks")
	}
	before(t, p, "a#1", "b#1")
	before(t, p, "b#1", "a#2")
	before(t, p, "a#2", "b#2")
	if s := p.Summary(); s.Stage1 != 2 || s.Cycles != 1 || s.Build != 4 {
		t.Errorf("summary = %+v", s)
	}
}

func TestCycleStartsWithMemberTheTargetHas(t *testing.T) {
	// b is new (pulled in): a must go first in stage 1 so b#1 can use a#1.
	p := mustBuild(t, simple([]string{"a 2-1 d=b", "b 1-1 m=a"}, []string{"a 1-1"}))
	if c := p.Cycles[0]; !slices.Equal(c.Members, []string{"a", "b"}) && c.Broken[0].To != "a" {
		t.Fatalf("cycle = %+v", c)
	}
	if br := p.Cycles[0].Broken; len(br) != 1 || br[0].From != "b" || br[0].To != "a" || !br[0].InTarget {
		// b lacks a target binary; the order must break the edge into a.
		t.Fatalf("broken = %+v", br)
	}
}

func TestThreeCycleAndSingleStage(t *testing.T) {
	in := simple([]string{"a 2-1 d=b", "b 2-1 d=c", "c 2-1 m=a", "x 2-1 d=c"}, []string{"a 1-1", "b 1-1", "c 1-1", "x 1-1"})
	p := mustBuild(t, in)
	if len(p.Cycles) != 1 || len(p.Cycles[0].Members) != 3 || len(p.Nodes) != 7 {
		t.Fatalf("plan = %s cycles %+v", dump(p), p.Cycles)
	}
	for _, m := range []string{"a#2", "b#2", "c#2"} {
		before(t, p, m, "x")
		_ = m
	}
	if d := node(t, p, "x").Deps; len(d) != 1 || d[0].ID != "c#2" {
		t.Errorf("x deps = %+v", d)
	}
	in.Options.SingleStage = true
	p = mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"a", "b", "c", "x"}) || p.Cycles[0].Stages != 1 {
		t.Fatalf("single stage nodes = %v", got)
	}
	if node(t, p, "a").Nocheck {
		t.Error("single-stage builds run checks")
	}
}

func TestTwoDependentCycles(t *testing.T) {
	// Cycle {c, d} needs x, which needs cycle {a, b}.
	p := mustBuild(t, simple(
		[]string{"a 2-1 d=b", "b 2-1 d=a", "x 2-1 d=b", "c 2-1 d=d,x", "d 2-1 d=c", "y 2-1 d=c"},
		[]string{"a 1-1", "b 1-1", "x 1-1", "c 1-1", "d 1-1", "y 1-1"},
	))
	if len(p.Cycles) != 2 || !slices.Equal(p.Cycles[0].Members, []string{"a", "b"}) || !slices.Equal(p.Cycles[1].Members, []string{"c", "d"}) {
		t.Fatalf("cycles = %+v", p.Cycles)
	}
	before(t, p, "a#2", "x")
	before(t, p, "b#2", "x")
	before(t, p, "x", "c#1")
	before(t, p, "x", "d#1")
	before(t, p, "c#2", "y")
	if n := node(t, p, "c#1"); n.Cycle != 2 {
		t.Errorf("c#1 cycle = %d", n.Cycle)
	}
}

func TestCheckdependsOnlyCycle(t *testing.T) {
	p := mustBuild(t, simple([]string{"a 2-1 d=b", "b 2-1 c=a"}, []string{"a 1-1", "b 1-1"}))
	if got := sortedIDs(p); !slices.Equal(got, []string{"a", "b"}) || len(p.Cycles) != 0 {
		t.Fatalf("nodes = %v cycles = %+v", got, p.Cycles)
	}
	b := node(t, p, "b")
	if !b.Nocheck || !strings.Contains(b.NocheckBy, "checkdepends cycle") {
		t.Errorf("b nocheck = %v %q", b.Nocheck, b.NocheckBy)
	}
	if node(t, p, "a").Nocheck {
		t.Error("a should run its checks")
	}
	before(t, p, "b", "a")
	// With --nocheck there is no check edge at all.
	in := simple([]string{"a 2-1 d=b", "b 2-1 c=a"}, []string{"a 1-1", "b 1-1"})
	in.Options.NoCheck = true
	p = mustBuild(t, in)
	if len(node(t, p, "b").Edges) != 0 || node(t, p, "b").NocheckBy != "nocheck setting" {
		t.Errorf("b = %+v", node(t, p, "b"))
	}
}

func TestCheckEdgeInsideRealCycleKeepsStages(t *testing.T) {
	// {a, b} is a real cycle; c joins it only through a checkdepends edge.
	p := mustBuild(t, simple([]string{"a 2-1 d=b,c", "b 2-1 d=a", "c 2-1 c=a"}, []string{"a 1-1", "b 1-1", "c 1-1"}))
	if len(p.Cycles) != 1 || !slices.Equal(p.Cycles[0].Members, []string{"a", "b"}) {
		t.Fatalf("cycles = %+v", p.Cycles)
	}
	if c := node(t, p, "c"); !c.Nocheck || c.Stage != 0 {
		t.Errorf("c = %+v", c)
	}
	before(t, p, "c", "a#1")
}

func TestBlacklistChains(t *testing.T) {
	up := []string{"vim 9-1 m=python-foo", "python-foo 2-1 d=python", "python 3.10-1", "emacs 29-1 d=python", "nano 7-1"}
	in := simple(up, []string{"vim 8-1", "emacs 28-1", "nano 6-1"})
	in.Blacklist = []BlacklistEntry{{Pattern: "pyth?n", Reason: "does not build on aarch64", Origin: "Portfile.hcl:3"}}
	p := mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"nano"}) {
		t.Fatalf("nodes = %v\n%s", got, dump(p))
	}
	got := map[string]Blocked{}
	for _, b := range p.Blocked {
		got[b.Pkgbase] = b
	}
	if len(got) != 4 {
		t.Fatalf("blocked = %+v", p.Blocked)
	}
	v := got["vim"]
	if !slices.Equal(v.Chain, []string{"vim", "python-foo", "python"}) || v.Root != "python" || v.Action != ActionBlocked {
		t.Errorf("vim = %+v", v)
	}
	want := "vim: blocked by python (blacklist: 'pyth?n' does not build on aarch64) via vim → python-foo → python; needs python-foo"
	if msg := BlockedMessage(v); msg != want {
		t.Errorf("message\n got %s\nwant %s", msg, want)
	}
	if got["python"].Action != ActionSkipBlacklisted {
		t.Errorf("python = %+v", got["python"])
	}

	// When the target still has a python that satisfies, nothing is blocked.
	in = simple(up, []string{"vim 8-1", "emacs 28-1", "nano 6-1", "python 3.9-1"})
	in.Options.Exclude = []string{"python"}
	p = mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"emacs", "nano", "python-foo", "vim"}) {
		t.Fatalf("nodes = %v", got)
	}
	// python itself is outdated and excluded: reported as blacklisted.
	if len(p.Blocked) != 1 || p.Blocked[0].Pkgbase != "python" || p.Blocked[0].Entry.Origin != "--exclude" {
		t.Errorf("blocked = %+v", p.Blocked)
	}
}

func TestBlockedCheckdependsTurnsChecksOff(t *testing.T) {
	in := simple([]string{"a 2-1 c=pytest", "pytest 1-1"}, []string{"a 1-1"})
	in.Blacklist = []BlacklistEntry{{Pattern: "pytest", Reason: "slow"}}
	p := mustBuild(t, in)
	a := node(t, p, "a")
	if !a.Nocheck || !strings.Contains(a.NocheckBy, "blocked by pytest") {
		t.Errorf("a = %+v", a)
	}
}

func TestForcedRebuildRepoAndPreserveOrder(t *testing.T) {
	mk := func() *Input {
		in := simple([]string{"a 1-1 d=b", "b 1-1", "c 1-1", "foo 1-1 base=foobase"}, []string{"a 1-1", "b 1-1", "c 1-1", "foo 1-1 base=foobase"})
		in.Repos = append(in.Repos, RepoPair{Name: "extra", Upstream: repo("extra", "e1 1-1", "e2 1-1 d=a", "e3 1-1 arch=any"), Target: tgrepo("extra", "e1 1-1", "e2 1-1")})
		return in
	}
	in := mk()
	in.Options.Packages = []string{"foo", "a"} // a pkgname resolves to its pkgbase
	p := mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"a", "foobase"}) {
		t.Fatalf("forced nodes = %v", got)
	}
	if node(t, p, "foobase").Reason.Kind != ReasonForced {
		t.Error("want forced")
	}

	in = mk()
	in.Options.RebuildRepos = []string{"extra"}
	p = mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"e1", "e2"}) {
		t.Fatalf("rebuild-repo nodes = %v", got)
	}
	if r := node(t, p, "e1").Reason; r.Kind != ReasonRebuildRepo || r.Detail != "--rebuild-repo extra" {
		t.Errorf("reason = %+v", r)
	}

	// Preserve order: b, c, a in command-line order, although a needs b.
	in = mk()
	in.Options.Packages = []string{"c", "a", "b"}
	in.Options.PreserveOrder = true
	p = mustBuild(t, in)
	if got := ids(p); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Fatalf("preserve-order = %v", got)
	}
	if !hasWarning(p, "a", "--preserve-order: a needs b") {
		t.Errorf("warnings = %+v", p.Warnings)
	}
	// Without it, the graph decides.
	in.Options.PreserveOrder = false
	p = mustBuild(t, in)
	before(t, p, "b", "a")

	for _, bad := range []func(*Input){
		func(in *Input) { in.Options.Packages = []string{"nosuch"} },
		func(in *Input) { in.Options.RebuildRepos = []string{"nosuch"} },
		func(in *Input) { in.Options.Exclude = []string{"[bad"} },
	} {
		in := mk()
		bad(in)
		if _, err := Build(in); err == nil || !strings.Contains(err.Error(), "nosuch") && !strings.Contains(err.Error(), "[bad") {
			t.Errorf("want an error naming the bad value, got %v", err)
		}
	}
}

func TestTestingOverlays(t *testing.T) {
	in := simple([]string{"a 1-1", "b 1-1"}, []string{"a 1-1", "b 0.9-1"})
	in.Repos[0].UpstreamTesting = repo("core-testing", "a 2-1", "b 0.5-1")
	in.Repos[0].TargetTesting = tgrepo("core-testing", "b 1-1")
	p := mustBuild(t, in)
	// a: upstream testing is newer. b: testing older upstream is ignored,
	// and the target's testing 1-1 is already current.
	if got := sortedIDs(p); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("nodes = %v", got)
	}
	if n := node(t, p, "a"); n.Version != "2-1" {
		t.Errorf("a version = %s", n.Version)
	}
}

func TestAnyPulledByDependency(t *testing.T) {
	p := mustBuild(t, simple([]string{"app 2-1 d=pylib", "pylib 1-1 arch=any d=clib", "clib 1-1"}, []string{"app 1-1"}))
	if got := sortedIDs(p); !slices.Equal(got, []string{"app", "clib"}) {
		t.Fatalf("nodes = %v", got)
	}
	if len(p.AnySync) != 1 || p.AnySync[0].Detail != "missing" {
		t.Fatalf("any-sync = %+v", p.AnySync)
	}
	if r := node(t, p, "clib").Reason; r.Via != "pylib" {
		t.Errorf("clib reason = %+v", r)
	}
}

func TestNewSources(t *testing.T) {
	in := simple([]string{"glibc 2.36-1"}, []string{"glibc 2.36-1", "old-aur 1-1"})
	in.NewSources = []NewSource{
		{Repo: "core", Source: Source{Kind: SourceAUR, URL: "https://aur.archlinux.org/yay.git", Commit: "abc",
			Recipe: &Recipe{Pkgbase: "yay", Version: "12.0-1", Packages: []SplitPackage{{Name: "yay", Arch: []string{"x86_64", "aarch64"}, Depends: []string{"glibc"}, MakeDepends: []string{"go"}}}}}},
		{Repo: "core", Source: Source{Kind: SourceLocal, URL: "pkgs/old-aur", TreeHash: "t1",
			Recipe: &Recipe{Pkgbase: "old-aur", Version: "1-1", Packages: []SplitPackage{{Name: "old-aur"}}}}},
		{Repo: "core", Source: Source{Kind: SourceLocal, URL: "pkgs/go", TreeHash: "t2",
			Recipe: &Recipe{Pkgbase: "go", Version: "2:1.20-1", Packages: []SplitPackage{{Name: "go", Arch: []string{"any"}}}}}},
	}
	p := mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"go", "yay"}) {
		t.Fatalf("nodes = %v", got)
	}
	y := node(t, p, "yay")
	if y.Reason.Kind != ReasonNewSource || y.Source == nil || y.Source.Commit != "abc" {
		t.Errorf("yay = %+v", y)
	}
	before(t, p, "go", "yay")
	if node(t, p, "go").Arch != "any" {
		t.Error("go is ARCH=any and still built: it is a new source")
	}
	in.NewSources[0].Repo = "nosuch"
	if _, err := Build(in); err == nil || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("err = %v", err)
	}
}

func TestBuildDepsFromRecipeWhenDBHasNone(t *testing.T) {
	in := simple([]string{"a 2-1", "cmake 3-1"}, []string{"a 1-1"})
	p := mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("nodes = %v", got)
	}
	in.Sources = map[string]Source{"a": {Kind: SourceOfficial, Commit: "c1", Recipe: &Recipe{Pkgbase: "a", Version: "2-1", Packages: []SplitPackage{{Name: "a", MakeDepends: []string{"cmake"}}}}}}
	p = mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"a", "cmake"}) {
		t.Fatalf("nodes with recipe = %v", got)
	}
}

func TestBootstrap(t *testing.T) {
	mk := func() *Input {
		in := simple(
			[]string{"glibc 2.36-1", "binutils 2.39-1 d=glibc", "gcc 12-1 d=glibc,binutils", "zlib 1.3-1 d=glibc", "bash 5-1 d=glibc"},
			[]string{"glibc 2.35-1", "binutils 2.38-1", "gcc 12-1", "zlib 1.2-1", "bash 5-1"},
		)
		in.Bootstrap = []string{"glibc", "binutils", "gcc"}
		return in
	}
	p := mustBuild(t, mk())
	if got := sortedIDs(p); !slices.Equal(got, []string{"zlib"}) {
		t.Fatalf("nodes = %v", got)
	}
	if len(p.Held) != 2 || p.Held[0].Pkgbase != "binutils" || p.Held[1].Pkgbase != "glibc" {
		t.Fatalf("held = %+v", p.Held)
	}
	in := mk()
	in.Options.Bootstrap = true
	p = mustBuild(t, in)
	want := []string{"glibc#b1", "binutils#b1", "glibc#b2", "binutils#b2", "zlib"}
	if got := ids(p); !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
	if d := node(t, p, "zlib").Deps; len(d) != 1 || d[0].ID != "glibc#b2" {
		t.Errorf("zlib deps = %+v", d)
	}
	// Forcing a toolchain member without --bootstrap builds it normally.
	in = mk()
	in.Options.Packages = []string{"gcc"}
	p = mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"gcc", "zlib"}) {
		t.Fatalf("nodes = %v", got)
	}
}
