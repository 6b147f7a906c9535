package planner

// The two sides of the diff, and pacman's choice among packages.
//
// Each side (upstream, target) is the union of its repositories. A testing
// repository overlays its stable one, and within a repo pair the newer
// version of a pkgname wins. Across repo pairs a pkgname may appear more
// than once (core/foo 1.0 and extra/foo 2.0): every entry is kept, in
// repository order, because that is what pacman resolves against
// (_alpm_resolvedep): first every package of the exact name, repository by
// repository, the first that satisfies the constraint; then the providers,
// repository by repository and in name order within one. So a dependency
// on foo>=2 is satisfied by extra/foo. The diff, which compares versions per
// pkgbase, looks at the first entry of a name only, as `pacman -S foo`
// would install it; a later entry of the same name and the same pkgbase is
// a shadow and plays no part, while one of another pkgbase belongs to that
// pkgbase.

import (
	"cmp"
	"fmt"
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
	pkg     *alpm.Entry   // nil when it comes from a recipe
	split   *SplitPackage // non-nil when it comes from a recipe
	b       *base         // upstream entries: their pkgbase's state
	upSame  []*entry      // target entries: the upstream entries of the same name
}

func newEntry(p *alpm.Entry, pair int, repo string) *entry {
	b := p.Base
	if b == "" {
		b = p.Name
	}
	return &entry{name: p.Name, version: p.Version, base: b, arch: p.Arch, pair: pair, repo: repo, cand: p.Candidate(), pkg: p}
}

// side is one side's packages: every entry of a name, in repository order.
type side map[string][]*entry

// get returns the first entry of a name, or nil.
func (s side) get(name string) *entry {
	if l := s[name]; len(l) > 0 {
		return l[0]
	}
	return nil
}

// add puts e among the entries of its name, in repository order.
func (s side) add(e *entry) {
	l := s[e.name]
	i := len(l)
	for i > 0 && l[i-1].pair > e.pair {
		i--
	}
	s[e.name] = slices.Insert(l, i, e)
}

// loadSide returns one side's packages by pkgname. A testing repository
// overlays its stable one and the newer version wins; across repo pairs
// every entry is kept, in pair order.
func loadSide(pairs []RepoPair, upstream bool) side {
	n := 0
	for _, p := range pairs {
		for _, r := range sideRepos(p, upstream) {
			if r != nil {
				n += len(r.Packages)
			}
		}
	}
	out := make(side, n)
	local := make(map[string]*entry)
	for i, p := range pairs {
		repos := sideRepos(p, upstream)
		clear(local)
		var order []*entry
		for j, r := range repos {
			if r == nil {
				continue
			}
			overlay := j == 1
			for k := range r.Packages {
				pkg := &r.Packages[k]
				if pkg.Name == "" {
					continue
				}
				if old, ok := local[pkg.Name]; ok {
					if !overlay || alpm.Compare(pkg.Version, old.version) <= 0 {
						continue
					}
				}
				e := newEntry(pkg, i, r.Name)
				if _, ok := local[pkg.Name]; !ok {
					order = append(order, e)
				}
				local[pkg.Name] = e
			}
		}
		for _, e := range order {
			e = local[e.name]
			out[e.name] = append(out[e.name], e)
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

// checkArch refuses a repository whose packages are built for another
// architecture than its side's: a target DB copied from the upstream
// snapshot would otherwise plan "nothing to do". ARCH=any is allowed, and
// so is an entry without %ARCH% (old databases).
func checkArch(in *Input) error {
	for _, rp := range in.Repos {
		for _, c := range [...]struct {
			r    *Repo
			side string
			arch string
		}{
			{rp.Upstream, "upstream", in.UpstreamArch}, {rp.UpstreamTesting, "upstream testing", in.UpstreamArch},
			{rp.Target, "target", in.Arch}, {rp.TargetTesting, "target testing", in.Arch},
		} {
			if c.r == nil || c.arch == "" {
				continue
			}
			bad, example := 0, ""
			for k := range c.r.Packages {
				p := &c.r.Packages[k]
				if p.Arch != "" && p.Arch != "any" && p.Arch != c.arch {
					if bad == 0 {
						example = fmt.Sprintf("%s %s is %s", p.Name, p.Version, p.Arch)
					}
					bad++
				}
			}
			if bad > 0 {
				where := c.r.URL
				if where == "" {
					where = "(no URL)"
				}
				return fmt.Errorf("repository %s (%s, %s): %d of %d packages are not for %s or any (%s): is this the right database for this side?",
					c.r.Name, c.side, where, bad, len(c.r.Packages), c.arch, example)
			}
		}
	}
	return nil
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

// groupBases groups a side's entries by pkgbase. The first entry of each
// name always counts; a later one counts only for another pkgbase than the
// first's (a same-name shadow of the same pkgbase says nothing new).
func groupBases(s side) map[string]*group {
	out := make(map[string]*group, len(s)*3/4)
	for _, l := range s {
		for i, e := range l {
			if i > 0 && slices.ContainsFunc(l[:i], func(x *entry) bool { return x.base == e.base }) {
				continue
			}
			g := out[e.base]
			if g == nil {
				g = &group{name: e.base}
				out[e.base] = g
			}
			g.pkgs = append(g.pkgs, e)
		}
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
func provideIndex(s side) map[string][]*entry {
	out := make(map[string][]*entry)
	for _, l := range s {
		for _, e := range l {
			for _, p := range e.cand.Provides {
				out[p.Name] = append(out[p.Name], e)
			}
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

// targetNewer reports whether the target's version of a pkgbase is newer
// than upstream's (a port-only rebuild is not).
func targetNewer(current, upstream string) bool {
	return current != "" && alpm.Compare(current, upstream) > 0 && !portRebuild(current, upstream)
}
