package planner

import (
	"cmp"
	"slices"

	"github.com/portmake/portmake/alpm"
)

// entry is one pkgname on one side, after the repository overlays.
type entry struct {
	name    string
	version string
	base    string
	arch    string
	pair    int    // index of its repo pair: the priority pacman would give it
	repo    string // the repository it came from, e.g. "core-testing"
	cand    alpm.Candidate
	pkg     *alpm.Package // nil when it comes from a recipe
	split   *SplitPackage // non-nil when it comes from a recipe
	b       *base         // upstream entries: their pkgbase's state
	upSame  *entry        // target entries: the upstream entry of the same name
}

func newEntry(p *alpm.Package, pair int, repo string) *entry {
	b := p.Base
	if b == "" {
		b = p.Name
	}
	return &entry{name: p.Name, version: p.Version, base: b, arch: p.Arch, pair: pair, repo: repo, cand: p.Candidate(), pkg: p}
}

// loadSide returns one side's packages by pkgname. A testing repository
// overlays its stable one and the newer version wins; across repo pairs the
// earlier pair wins, as pacman's repository order does.
func loadSide(pairs []RepoPair, upstream bool) map[string]*entry {
	n := 0
	for _, p := range pairs {
		for _, r := range sideRepos(p, upstream) {
			if r != nil {
				n += len(r.Packages)
			}
		}
	}
	out := make(map[string]*entry, n)
	for i, p := range pairs {
		repos := sideRepos(p, upstream)
		local := make(map[string]*entry)
		for j, r := range repos {
			if r == nil {
				continue
			}
			overlay := j == 1
			for _, pkg := range r.Packages {
				if pkg == nil || pkg.Name == "" {
					continue
				}
				if old, ok := local[pkg.Name]; ok {
					if !overlay || alpm.Compare(pkg.Version, old.version) <= 0 {
						continue
					}
				}
				local[pkg.Name] = newEntry(pkg, i, r.Name)
			}
		}
		for name, e := range local {
			if _, ok := out[name]; !ok {
				out[name] = e
			}
		}
	}
	return out
}

func sideRepos(p RepoPair, upstream bool) [2]*Repo {
	if upstream {
		return [2]*Repo{p.Upstream, p.UpstreamTesting}
	}
	return [2]*Repo{p.Target, p.TargetTesting}
}

// group is one side's view of a pkgbase: its split packages and the highest
// of their versions.
type group struct {
	name    string
	pkgs    []*entry // sorted by pkgname
	version string
	pair    int
	allAny  bool
}

func groupBases(side map[string]*entry) map[string]*group {
	out := make(map[string]*group, len(side)*3/4)
	for _, e := range side {
		g := out[e.base]
		if g == nil {
			g = &group{name: e.base}
			out[e.base] = g
		}
		g.pkgs = append(g.pkgs, e)
	}
	for _, g := range out {
		slices.SortFunc(g.pkgs, func(a, b *entry) int { return cmp.Compare(a.name, b.name) })
		g.allAny = true
		g.pair = g.pkgs[0].pair
		for _, e := range g.pkgs {
			if g.version == "" || alpm.Compare(e.version, g.version) > 0 {
				g.version = e.version
			}
			g.pair = min(g.pair, e.pair)
			if e.arch != "any" {
				g.allAny = false
			}
		}
	}
	return out
}

// provideIndex maps a provided name to the entries providing it, in
// pacman's search order: repository priority, then pkgname.
func provideIndex(side map[string]*entry) map[string][]*entry {
	out := make(map[string][]*entry)
	for _, e := range side {
		for _, p := range e.cand.Provides {
			out[p.Name] = append(out[p.Name], e)
		}
	}
	for _, list := range out {
		slices.SortFunc(list, byPriority)
	}
	return out
}

func byPriority(a, b *entry) int {
	if c := cmp.Compare(a.pair, b.pair); c != 0 {
		return c
	}
	return cmp.Compare(a.name, b.name)
}

// portRebuild reports whether target is upstream plus a minor pkgrel
// ("1.2-3.1" for "1.2-3"): a port-only rebuild of the same upstream release,
// which is up to date, not newer.
func portRebuild(target, upstream string) bool {
	if len(target) <= len(upstream)+1 || target[:len(upstream)] != upstream || target[len(upstream)] != '.' {
		return false
	}
	for _, c := range target[len(upstream)+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
