// Package analyze owns portmake's read-only health reports over a port's
// repositories (what repo_analyze.py did): what the target lacks, what is
// outdated, misplaced, duplicated, newer, orphaned or broken, and what the
// blacklist blocks. It is a pure function from the same repository
// snapshots the planner reads (planner.Input) to a Report, plus its views.
//
// It must not do I/O (fetching and reading databases is the caller's) and
// must not decide anything the planner decides: per-pkgbase versions,
// blocking and its chains come from planner.Build, so `analyze` and `plan`
// never disagree about a package. What the planner does not compute — the
// health of the target's own dependency graph — is checked here with
// pacman's rule (alpm.Satisfies).
package analyze

import (
	"cmp"
	"slices"
	"strings"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/planner"
)

// Options change what is analysed.
type Options struct {
	// NoBlacklist ignores the blacklist: blacklisted packages are reported
	// like any other, and nothing is blocked.
	NoBlacklist bool
	// Files maps "repo/pkgname" (the repository a package was read from,
	// e.g. "extra" or "core-testing") to its file name (%FILENAME%), for
	// TargetOnly.Files: the planner's input carries no file names.
	Files map[string]string
}

// Report is the analysis of one port. Every list is sorted by pkgbase or
// pkgname, so the same input gives the same report.
type Report struct {
	Arch         string
	UpstreamArch string
	Repos        []RepoStat

	Missing     []Missing // non-any upstream pkgbases the target lacks
	Outdated    []Base    // non-any pkgbases the target has older
	AnyMissing  []Base    // ARCH=any pkgbases the target lacks
	AnyOutdated []Base    // ARCH=any pkgbases the target has older
	WrongRepo   []WrongRepo
	Duplicates  []Duplicate
	TargetNewer []Base
	TargetOnly  []TargetOnly // pkgbases of non-port-only target repositories that upstream does not have
	Broken      []DepProblem // a target dependency nothing in the target provides
	Unsatisfied []DepProblem // a target dependency whose providers all have the wrong version

	Blacklist BlacklistReport
}

// RepoStat counts one repo pair's packages.
type RepoStat struct {
	Name     string
	Upstream int // packages of the upstream DB (and its testing overlay)
	Target   int
	PortOnly bool // no upstream: the port's own repository
}

// Base is a pkgbase with its upstream and target versions.
type Base struct {
	Pkgbase  string
	Version  string // upstream
	Current  string // target, "" when absent
	Repo     string // upstream repo pair
	Packages []string
}

// Missing is an upstream pkgbase the target lacks.
type Missing struct {
	Base
	// ProvidedBy is set when every pkgname of the pkgbase is provided by a
	// package the target has (pacman would install that one instead): one
	// entry per pkgname. Empty: truly missing.
	ProvidedBy []Provider
	// Needed is the reason the plan builds it, when a planned package
	// needs it ("makedepends of vim (python>=3)"); "" when nothing does.
	Needed string
}

// Provider is a target package that provides a name.
type Provider struct {
	Name    string // the name provided
	By      string // the target pkgname providing it
	Version string // By's version
	Provide string // the provides entry, e.g. "sh=5.2"
}

// WrongRepo is a pkgbase that the target keeps in another repository than
// upstream does.
type WrongRepo struct {
	Pkgbase  string
	Upstream string   // upstream repo pair
	Target   []string // the target's repo pairs holding its packages
	PortOnly bool     // it sits in a port-only repository (an override, often deliberate)
}

// Duplicate is a pkgname present in more than one target repository
// (testing overlays of the same repository do not count).
type Duplicate struct {
	Name string
	In   []RepoVersion // in repository order
}

// RepoVersion is one copy of a package.
type RepoVersion struct {
	Repo    string
	Version string
}

// TargetOnly is a target pkgbase that upstream does not have at all (by
// pkgbase or any of its pkgnames), outside the port-only repositories.
type TargetOnly struct {
	Pkgbase  string
	Version  string
	Repo     string // target repo pair
	Packages []string
	Files    []string // the packages' file names (%FILENAME%), for cleaning the repository
	// Orphaned: nothing in either side depends on it (depends,
	// makedepends or checkdepends, through its names or provides), and
	// it stands in for no upstream package.
	Orphaned bool
	// StandsIn lists the upstream pkgnames its packages provide: it is a
	// replacement (jdk-bin for jdk), not dead weight.
	StandsIn []string
	// NeededBy lists the pkgnames that depend on it, when it is not
	// orphaned, sorted.
	NeededBy []string
}

// DepProblem is one dependency of a target package that the target cannot
// satisfy.
type DepProblem struct {
	Package    string // the target pkgname that has the dependency
	Pkgbase    string
	Version    string
	Repo       string // the actual repository, e.g. "core-testing"
	Kind       planner.DepKind
	Dependency string // as written
	// Candidates are the target packages that have the name (or provide
	// it) but not the version asked for; empty for a broken dependency.
	Candidates []Candidate
	// Soname is set when the dependency is a shared library
	// (alpm-soname(7), "libfoo.so=1-64"): a soname drift.
	Soname bool
	// Upstream is the upstream version of Package when it is newer: the
	// plan rebuilds it, which usually fixes the dependency.
	Upstream string
}

// Candidate is a package that has a dependency's name at another version.
type Candidate struct {
	Name    string // the package
	Version string // its version
	Provide string // the provides entry that matched, "" for a name match
}

// BlacklistReport is what the blacklist does.
type BlacklistReport struct {
	Off     bool // --no-blacklist
	Entries []planner.BlacklistEntry
	// Blacklisted are the upstream pkgbases an entry matches (by pkgbase
	// or pkgname), whatever their state.
	Blacklisted []Blacklisted
	// Blocked are the pkgbases the plan cannot build because what they
	// need is blacklisted, with the chain to the root (the planner's
	// answer, ActionBlocked items only).
	Blocked []planner.Blocked
	// Unused are entries that match no pkgbase or pkgname on either side.
	Unused []planner.BlacklistEntry
}

// Blacklisted is one pkgbase a blacklist entry matches.
type Blacklisted struct {
	Base
	Entry planner.BlacklistEntry
}

// Run analyses in. It reads in and keeps no reference to it. The error is
// the planner's, for inputs that make no sense (a bad blacklist glob).
func Run(in *planner.Input, o Options) (*Report, error) {
	pin := *in
	pin.Options = planner.Options{Exclude: in.Options.Exclude}
	pin.Sources = nil
	if o.NoBlacklist {
		pin.Blacklist, pin.Options.Exclude = nil, nil
	}
	p, err := planner.Build(&pin)
	if err != nil {
		return nil, err
	}
	a := &analysis{in: &pin, plan: p, up: loadSide(&pin, true, nil), tg: loadSide(&pin, false, o.Files)}
	a.r = &Report{Arch: in.Arch, UpstreamArch: in.UpstreamArch}
	a.r.Blacklist.Off = o.NoBlacklist
	a.r.Blacklist.Entries = p.Blacklist
	a.repoStats()
	a.bases()
	a.placement()
	a.targetOnly()
	a.targetDeps()
	a.blacklist()
	return a.r, nil
}

type analysis struct {
	in     *planner.Input
	plan   *planner.Plan
	up, tg *side
	r      *Report
}

func (a *analysis) repoStats() {
	for _, rp := range a.in.Repos {
		st := RepoStat{Name: rp.Name, PortOnly: rp.Upstream == nil}
		for _, r := range []*planner.Repo{rp.Upstream, rp.UpstreamTesting} {
			if r != nil {
				st.Upstream += len(r.Packages)
			}
		}
		for _, r := range []*planner.Repo{rp.Target, rp.TargetTesting} {
			if r != nil {
				st.Target += len(r.Packages)
			}
		}
		a.r.Repos = append(a.r.Repos, st)
	}
}

// blacklisted returns the entry that matches a pkgbase or one of its
// pkgnames, as the planner matches them.
func (a *analysis) blacklisted(base string, names []string) *planner.BlacklistEntry {
	for i, e := range a.plan.Blacklist {
		if e.Match(base) || slices.ContainsFunc(names, e.Match) {
			return &a.plan.Blacklist[i]
		}
	}
	return nil
}

// bases sorts every upstream pkgbase into missing, outdated (ARCH=any or
// not) and blacklisted, from the planner's per-pkgbase versions.
func (a *analysis) bases() {
	needed := make(map[string]string)
	for _, n := range a.plan.Nodes {
		if n.Reason.Kind == planner.ReasonMissingDependency {
			needed[n.Pkgbase] = n.Reason.Detail
		}
	}
	for _, b := range a.plan.Bases {
		if b.Version == "" {
			continue
		}
		v := Base{Pkgbase: b.Pkgbase, Version: b.Version, Current: b.Current, Repo: b.Repo, Packages: b.Packages}
		if e := a.blacklisted(b.Pkgbase, b.Packages); e != nil {
			a.r.Blacklist.Blacklisted = append(a.r.Blacklist.Blacklisted, Blacklisted{Base: v, Entry: *e})
			continue
		}
		any := a.up.allAny(b.Pkgbase)
		switch {
		case b.Current == "" && any:
			a.r.AnyMissing = append(a.r.AnyMissing, v)
		case b.Current == "":
			m := Missing{Base: v, ProvidedBy: a.providedBy(b.Packages), Needed: needed[b.Pkgbase]}
			a.r.Missing = append(a.r.Missing, m)
		case alpm.Compare(b.Current, b.Version) < 0 && any:
			a.r.AnyOutdated = append(a.r.AnyOutdated, v)
		case alpm.Compare(b.Current, b.Version) < 0:
			a.r.Outdated = append(a.r.Outdated, v)
		}
	}
	for _, v := range a.plan.TargetNewer {
		b, _ := a.plan.Status(v.Pkgbase)
		a.r.TargetNewer = append(a.r.TargetNewer, Base{Pkgbase: v.Pkgbase, Version: v.Version, Current: v.Current, Repo: v.Repo, Packages: b.Packages})
	}
}

// providedBy returns, when every name is provided by some target package,
// the first provider of each (pacman's order); else nil.
func (a *analysis) providedBy(names []string) []Provider {
	var out []Provider
	for _, n := range names {
		list := a.tg.provides[n]
		if len(list) == 0 {
			return nil
		}
		p := list[0]
		out = append(out, Provider{Name: n, By: p.name, Version: p.version, Provide: p.provideOf(n)})
	}
	return out
}

// placement finds pkgbases kept in another repository than upstream's,
// and pkgnames the target has in several repositories.
func (a *analysis) placement() {
	for _, b := range a.plan.Bases {
		if b.Version == "" || b.Current == "" {
			continue
		}
		var pairs []int
		for _, n := range b.Packages {
			if e := a.tg.byName[n]; e != nil && !slices.Contains(pairs, e.pair) {
				pairs = append(pairs, e.pair)
			}
		}
		slices.Sort(pairs)
		if len(pairs) == 0 || (len(pairs) == 1 && a.in.Repos[pairs[0]].Name == b.Repo) {
			continue
		}
		w := WrongRepo{Pkgbase: b.Pkgbase, Upstream: b.Repo}
		for _, i := range pairs {
			w.Target = append(w.Target, a.in.Repos[i].Name)
			w.PortOnly = w.PortOnly || a.in.Repos[i].Upstream == nil
		}
		a.r.WrongRepo = append(a.r.WrongRepo, w)
	}
	for _, name := range a.tg.names {
		copies := a.tg.all[name]
		var in []RepoVersion
		pairs := 0
		for i, c := range copies {
			if i == 0 || c.pair != copies[i-1].pair {
				pairs++
			}
			in = append(in, RepoVersion{Repo: c.repo, Version: c.version})
		}
		if pairs > 1 {
			a.r.Duplicates = append(a.r.Duplicates, Duplicate{Name: name, In: in})
		}
	}
}

// targetOnly finds the target pkgbases upstream lacks entirely, outside
// the port-only repositories, and which of them nothing needs.
func (a *analysis) targetOnly() {
	needs := a.dependents()
	for _, b := range a.plan.Bases {
		if b.Status != planner.StatusTargetOnly {
			continue
		}
		pkgs := a.tg.bases[b.Pkgbase]
		if len(pkgs) == 0 || a.in.Repos[pkgs[0].pair].Upstream == nil {
			continue
		}
		if slices.ContainsFunc(pkgs, func(p *pkg) bool { return a.up.byName[p.name] != nil }) {
			continue // the target splits or names its base differently
		}
		t := TargetOnly{Pkgbase: b.Pkgbase, Version: b.Current, Repo: a.in.Repos[pkgs[0].pair].Name}
		var by []string
		for _, p := range pkgs {
			t.Packages = append(t.Packages, p.name)
			if p.filename != "" {
				t.Files = append(t.Files, p.filename)
			}
			for _, d := range needs[p] {
				if d.base != b.Pkgbase && !slices.Contains(by, d.name) {
					by = append(by, d.name)
				}
			}
			for _, r := range p.cand.Provides {
				if a.up.byName[r.Name] != nil && !slices.Contains(t.StandsIn, r.Name) {
					t.StandsIn = append(t.StandsIn, r.Name)
				}
			}
		}
		slices.Sort(by)
		slices.Sort(t.StandsIn)
		t.NeededBy, t.Orphaned = by, len(by) == 0 && len(t.StandsIn) == 0
		a.r.TargetOnly = append(a.r.TargetOnly, t)
	}
}

// dependents maps each target package to the packages of either side
// that have a dependency it satisfies.
func (a *analysis) dependents() map[*pkg][]*pkg {
	out := make(map[*pkg][]*pkg)
	for _, s := range []*side{a.up, a.tg} {
		for _, name := range s.names {
			p := s.byName[name]
			p.eachDep(func(_ planner.DepKind, _ string, rel alpm.Relation) {
				a.tg.satisfiers(rel, func(q *pkg) { out[q] = append(out[q], p) })
			})
		}
	}
	return out
}

// targetDeps checks every dependency of every target package against the
// target: broken when nothing has the name, unsatisfied when something has
// it at another version.
func (a *analysis) targetDeps() {
	for _, name := range a.tg.names {
		p := a.tg.byName[name]
		p.eachDep(func(kind planner.DepKind, text string, rel alpm.Relation) {
			ok := false
			a.tg.satisfiers(rel, func(*pkg) { ok = true })
			if ok {
				return
			}
			d := DepProblem{Package: p.name, Pkgbase: p.base, Version: p.version, Repo: p.repo, Kind: kind,
				Dependency: text, Soname: strings.HasSuffix(rel.Name, ".so")}
			if u := a.up.byName[p.name]; u != nil && alpm.Compare(u.version, p.version) > 0 {
				d.Upstream = u.version
			}
			if c := a.tg.byName[rel.Name]; c != nil {
				d.Candidates = append(d.Candidates, Candidate{Name: c.name, Version: c.version})
			}
			for _, c := range a.tg.provides[rel.Name] {
				if c.name == rel.Name {
					continue // already the name match
				}
				d.Candidates = append(d.Candidates, Candidate{Name: c.name, Version: c.version, Provide: c.provideOf(rel.Name)})
			}
			if len(d.Candidates) == 0 {
				a.r.Broken = append(a.r.Broken, d)
			} else {
				a.r.Unsatisfied = append(a.r.Unsatisfied, d)
			}
		})
	}
}

func (a *analysis) blacklist() {
	bl := &a.r.Blacklist
	for _, b := range a.plan.Blocked {
		if b.Action == planner.ActionBlocked {
			bl.Blocked = append(bl.Blocked, b)
		}
	}
	for _, e := range a.plan.Blacklist {
		used := false
		for _, s := range []*side{a.up, a.tg} {
			for _, name := range s.names {
				p := s.byName[name]
				if e.Match(p.name) || e.Match(p.base) {
					used = true
					break
				}
			}
			if used {
				break
			}
		}
		if !used {
			bl.Unused = append(bl.Unused, e)
		}
	}
	slices.SortStableFunc(bl.Blacklisted, func(x, y Blacklisted) int { return cmp.Compare(x.Pkgbase, y.Pkgbase) })
}
