package analyze

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/internal/testutil"
	"github.com/portmake/portmake/planner"
)

// pair is a real upstream/port snapshot pair of the corpus: repo pair
// names, and for each the upstream and target DB file (relative to the
// snapshot directories; "" when that side has none).
type pair struct {
	name, up, tg string
	arch         string
	repos        [][3]string
}

var pairs = []pair{
	{"2022", "x86_64-2022-09-12", "aarch64-2022-11-19-alarm", "aarch64", [][3]string{
		{"core", "core.db.tar.gz", "core.db"}, {"extra", "extra.db.tar.gz", "extra.db"}, {"alarm", "", "alarm.db"}}},
	{"2014", "x86_64-2014-10-21", "armv6h-2015-01-07-alarm", "armv6h", [][3]string{
		{"core", "core.db", "core.db"}, {"extra", "extra.db", "extra.db"}, {"community", "community.db", "community.db"},
		{"alarm", "", "alarm.db"}, {"aur", "", "aur.db"}}},
}

// loadPair reads a pair as the engine does for analyze: the planner's
// entries, and the target packages' file names (Options.Files).
func loadPair(t testing.TB, p pair) (*planner.Input, Options) {
	t.Helper()
	dir := filepath.Join(testutil.Corpus(t), "syncdb")
	o := Options{Files: map[string]string{}}
	read := func(sub, file string, target bool) *planner.Repo {
		if file == "" {
			return nil
		}
		db, err := syncdb.ReadFile(filepath.Join(dir, sub, file))
		if err != nil {
			t.Fatal(err)
		}
		r := &planner.Repo{Name: syncdb.RepoName(file)}
		for _, pkg := range db.Packages {
			if target && pkg.Arch != p.arch && pkg.Arch != "any" {
				// The planner refuses a database holding another
				// architecture's packages (the 2014 armv6h community
				// has two armv7h kernels): leave them out.
				continue
			}
			r.Packages = append(r.Packages, pkg.Entry())
			if target {
				o.Files[r.Name+"/"+pkg.Name] = pkg.Filename
			}
		}
		return r
	}
	in := &planner.Input{Arch: p.arch, UpstreamArch: "x86_64"}
	for _, r := range p.repos {
		in.Repos = append(in.Repos, planner.RepoPair{Name: r[0], Upstream: read(p.up, r[1], false), Target: read(p.tg, r[2], true), Publish: r[0]})
	}
	return in, o
}

// relName is the name part of a relation string, without the version.
func relName(s string) string {
	if i := strings.IndexAny(s, "<>="); i >= 0 {
		return s[:i]
	}
	return s
}

// rawSide lists every package of one side of in, before any overlay.
func rawSide(in *planner.Input, upstream bool) []*alpm.Entry {
	var out []*alpm.Entry
	for _, rp := range in.Repos {
		for _, r := range []*planner.Repo{rp.Target, rp.TargetTesting} {
			if upstream {
				r = nil
			}
			if r != nil {
				for i := range r.Packages {
					out = append(out, &r.Packages[i])
				}
			}
		}
		if upstream && rp.Upstream != nil {
			for i := range rp.Upstream.Packages {
				out = append(out, &rp.Upstream.Packages[i])
			}
		}
	}
	return out
}

// TestRealData analyses the corpus's snapshot pairs. The counts are pinned
// (the data never changes); the samples were checked by hand against the
// DB contents with bsdtar; and every item of the categories that are easy
// to recompute is checked again here by a plain scan of the raw package
// lists, without the index the analysis uses.
func TestRealData(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	// 2014: without the two armv7h packages of the armv6h community DB
	// (loadPair), so 201 target-only pkgbases instead of 202.
	want := map[string]Summary{
		"2022": {Missing: 31, MissingProvided: 1, Outdated: 11, AnyMissing: 9, AnyOutdated: 1, TargetNewer: 929, TargetOnly: 79, Orphaned: 42, Broken: 262, Unsatisfied: 20, SonameDrift: 20},
		"2014": {Missing: 504, MissingProvided: 5, Outdated: 31, AnyMissing: 211, AnyOutdated: 8, WrongRepo: 18, Duplicates: 1, TargetNewer: 1567, TargetOnly: 201, Orphaned: 128, Broken: 7, Unsatisfied: 1},
	}
	samples := map[string][]string{
		"2022": {
			"missing beep 1.4.11-1 extra", "provided atk by at-spi2-core (atk=2.46.0-2)", "outdated rhythmbox 3.4.5-1 3.4.6-1",
			"any-missing archiso", "any-outdated pacman-mirrorlist", "newer curl 7.86.0-1 7.85.0-1",
			"orphaned debugedit core", "broken asp depends jq", "drift qemu-system-aarch64 libbpf.so=0-64 libbpf.so=1-64",
		},
		"2014": {
			"wrong sqlite extra core", "dup blank 5", "broken xmms depends gtk", "unsatisfied packagekit pacman<4.2.0 pacman",
			"provided dirmngr by gnupg (dirmngr)",
		},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			in, o := loadPair(t, p)
			r, err := Run(in, o)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Summary(); got != want[p.name] {
				t.Errorf("summary:\n got  %+v\n want %+v", got, want[p.name])
			}
			for _, s := range samples[p.name] {
				if !hasSample(r, s) {
					t.Errorf("sample %q not in the report", s)
				}
			}
			checkRaw(t, in, r)
		})
	}
}

// hasSample finds one hand-checked item, written "category fields...".
func hasSample(r *Report, s string) bool {
	f := strings.Fields(s)
	switch f[0] {
	case "missing":
		return slices.ContainsFunc(r.Missing, func(m Missing) bool {
			return m.Pkgbase == f[1] && m.Version == f[2] && m.Repo == f[3] && len(m.ProvidedBy) == 0
		})
	case "provided":
		return slices.ContainsFunc(r.Missing, func(m Missing) bool {
			return m.Pkgbase == f[1] && len(m.ProvidedBy) == 1 && m.ProvidedBy[0].By == f[3] && "("+m.ProvidedBy[0].Provide+")" == f[4]
		})
	case "outdated":
		return slices.ContainsFunc(r.Outdated, func(b Base) bool { return b.Pkgbase == f[1] && b.Current == f[2] && b.Version == f[3] })
	case "any-missing", "any-outdated", "newer":
		list := map[string][]Base{"any-missing": r.AnyMissing, "any-outdated": r.AnyOutdated, "newer": r.TargetNewer}[f[0]]
		return slices.ContainsFunc(list, func(b Base) bool {
			return b.Pkgbase == f[1] && (f[0] != "newer" || b.Current == f[2] && b.Version == f[3])
		})
	case "orphaned":
		return slices.ContainsFunc(r.TargetOnly, func(o TargetOnly) bool { return o.Pkgbase == f[1] && o.Repo == f[2] && o.Orphaned })
	case "broken":
		return slices.ContainsFunc(r.Broken, func(d DepProblem) bool { return d.Package == f[1] && d.Kind.String() == f[2] && d.Dependency == f[3] })
	case "drift", "unsatisfied":
		return slices.ContainsFunc(r.Unsatisfied, func(d DepProblem) bool {
			return d.Package == f[1] && d.Dependency == f[2] && d.Soname == (f[0] == "drift") &&
				slices.ContainsFunc(d.Candidates, func(c Candidate) bool { return c.Provide == f[3] || c.Provide == "" && c.Name == f[3] })
		})
	case "wrong":
		return slices.ContainsFunc(r.WrongRepo, func(w WrongRepo) bool {
			return w.Pkgbase == f[1] && w.Upstream == f[2] && slices.Equal(w.Target, f[3:])
		})
	case "dup":
		return slices.ContainsFunc(r.Duplicates, func(d Duplicate) bool { return d.Name == f[1] && strconv.Itoa(len(d.In)) == f[2] })
	}
	return false
}

func checkRaw(t *testing.T, in *planner.Input, r *Report) {
	up, tg := rawSide(in, true), rawSide(in, false)
	provides := func(list []*alpm.Entry, name string) bool {
		return slices.ContainsFunc(list, func(p *alpm.Entry) bool {
			return p.Name == name || slices.ContainsFunc(p.Provides, func(s string) bool { return relName(s) == name })
		})
	}
	for _, d := range r.Broken {
		if provides(tg, relName(d.Dependency)) {
			t.Errorf("broken %s %s: the target has something of that name", d.Package, d.Dependency)
		}
	}
	for _, d := range r.Unsatisfied {
		if !provides(tg, relName(d.Dependency)) {
			t.Errorf("unsatisfied %s %s: the target has nothing of that name", d.Package, d.Dependency)
		}
	}
	for _, m := range r.Missing {
		if slices.ContainsFunc(tg, func(p *alpm.Entry) bool { return p.Base == m.Pkgbase || slices.Contains(m.Packages, p.Name) }) {
			t.Errorf("missing %s: the target has it", m.Pkgbase)
		}
	}
	// Who names what as a dependency, on either side.
	wanted := map[string][]*alpm.Entry{}
	for _, p := range append(slices.Clone(up), tg...) {
		for _, d := range slices.Concat(p.Depends, p.MakeDepends, p.CheckDepends) {
			wanted[relName(d)] = append(wanted[relName(d)], p)
		}
	}
	for _, o := range r.TargetOnly {
		if slices.ContainsFunc(up, func(p *alpm.Entry) bool { return p.Base == o.Pkgbase || slices.Contains(o.Packages, p.Name) }) {
			t.Errorf("target-only %s: upstream has it", o.Pkgbase)
		}
		if !o.Orphaned {
			continue
		}
		// Names an orphan answers to: its pkgnames and provides.
		var names []string
		for _, p := range tg {
			if slices.Contains(o.Packages, p.Name) && p.Base == o.Pkgbase {
				names = append(names, p.Name)
				for _, s := range p.Provides {
					names = append(names, relName(s))
				}
			}
		}
		for _, n := range names {
			for _, p := range wanted[n] {
				if p.Base != o.Pkgbase {
					t.Errorf("orphaned %s: %s depends on %s", o.Pkgbase, p.Name, n)
				}
			}
		}
	}
}

// TestRealDataBlacklist: what a blacklist blocks on real data, checked by
// hand: gcc's lib32-gcc-libs depends on lib32-glibc>=2.27, which only the
// glibc pkgbase builds and the target lacks; libtool makedepends on
// gcc>=12.2.0, which the target's gcc 12.1.0-2.1 is not.
func TestRealDataBlacklist(t *testing.T) {
	in, o := loadPair(t, pairs[0])
	in.Blacklist = []planner.BlacklistEntry{
		{Pattern: "glibc", Reason: "toolchain", Origin: "bl:1"},
		{Pattern: "python2*", Reason: "EOL", Origin: "bl:2"},
		{Pattern: "nosuch-*", Reason: "stale", Origin: "bl:3"},
	}
	r, err := Run(in, o)
	if err != nil {
		t.Fatal(err)
	}
	var names, blocked []string
	for _, b := range r.Blacklist.Blacklisted {
		names = append(names, b.Pkgbase)
	}
	for _, b := range r.Blacklist.Blocked {
		blocked = append(blocked, planner.BlockedMessage(b))
	}
	if !slices.Equal(names, []string{"glibc", "python2", "python2-idna", "python2-setuptools"}) {
		t.Errorf("blacklisted = %v", names)
	}
	if !slices.Equal(blocked, []string{
		"gcc: blocked by glibc (blacklist: 'glibc' toolchain); needs lib32-glibc>=2.27",
		"libtool: blocked by glibc (blacklist: 'glibc' toolchain) via libtool → gcc → glibc; needs gcc>=12.2.0",
		"valgrind: blocked by glibc (blacklist: 'glibc' toolchain); needs lib32-glibc",
	}) {
		t.Errorf("blocked = %q", blocked)
	}
	if len(r.Blacklist.Unused) != 1 || r.Blacklist.Unused[0].Pattern != "nosuch-*" {
		t.Errorf("unused = %+v", r.Blacklist.Unused)
	}
	// Blacklisted pkgbases leave the other sections: glibc is no longer
	// outdated, python2 no longer missing.
	if slices.ContainsFunc(r.Outdated, func(b Base) bool { return b.Pkgbase == "glibc" }) ||
		slices.ContainsFunc(r.Missing, func(m Missing) bool { return m.Pkgbase == "python2" }) {
		t.Error("a blacklisted pkgbase is still reported as outdated or missing")
	}
	r, err = Run(in, Options{NoBlacklist: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Summary(); s.Blacklisted+s.Blocked+s.UnusedBlacklist != 0 || s.Outdated != 11 || s.Missing != 31 {
		t.Errorf("--no-blacklist summary = %+v", s)
	}
}

// BenchmarkAnalyze measures a whole analysis of the 2022 pair (about 7,500
// packages on the two sides), databases already read.
func BenchmarkAnalyze(b *testing.B) {
	in, o := loadPair(b, pairs[0])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(in, o); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRealDataDependents checks the direct dependents of a few libraries
// of the 2022 upstream against a plain scan: every pkgbase with a
// dependency naming one of the library's pkgnames or provides.
func TestRealDataDependents(t *testing.T) {
	in, _ := loadPair(t, pairs[0])
	up := rawSide(in, true)
	for _, lib := range []string{"zstd", "libbpf", "icu", "python"} {
		r, err := Dependents(in, lib, DependentsOptions{Depth: 1})
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, p := range up {
			if p.Base == r.Pkgbase {
				names[p.Name] = true
				for _, s := range p.Provides {
					names[relName(s)] = true
				}
			}
		}
		want := map[string]bool{}
		for _, p := range up {
			for _, d := range slices.Concat(p.Depends, p.MakeDepends, p.CheckDepends) {
				if names[relName(d)] && p.Base != r.Pkgbase {
					want[p.Base] = true
				}
			}
		}
		got := map[string]bool{}
		for _, x := range r.Reached {
			got[x.Pkgbase] = true
		}
		for b := range want {
			if !got[b] {
				t.Errorf("%s: %s depends on it, not reported", lib, b)
			}
		}
		for b := range got {
			if !want[b] {
				t.Errorf("%s: %s reported, but does not depend on it", lib, b)
			}
		}
		t.Logf("%s: %d direct dependents, rebuild of %d builds", lib, len(r.Reached), len(r.Order))
		if len(r.Reached) == 0 {
			t.Errorf("%s: no dependents", lib)
		}
	}
}
