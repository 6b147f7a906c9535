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

// entry is one pkgname on one side, after the repository overlays. It
// points at the database's alpm.Entry rather than copying it: a full-size
// plan has 30,000 of them.
type entry struct {
	*alpm.Entry                 // name, base, version, arch, relations
	provides    []alpm.Relation // Provides, parsed (the invalid ones dropped)
	pair        int             // index of its repo pair: the priority pacman would give it
	b           *base           // upstream entries: their pkgbase's state
	upSame      *entry          // target entries: the first upstream entry of the same name
	next        *entry          // the next entry of the same name on this side, in repository order
}

func newEntry(p *alpm.Entry, pair int) *entry {
	e := &entry{}
	e.init(p, pair)
	return e
}

func (e *entry) init(p *alpm.Entry, pair int) {
	*e = entry{Entry: p, pair: pair}
	for _, s := range p.Provides {
		if r, err := alpm.ParseRelation(s); err == nil {
			e.provides = append(e.provides, r)
		}
	}
}

// slab hands out pointers to T from chunks, which stay where they are:
// one allocation per 1024 instead of one each (a full-size plan has
// 30,000 entries and 24,000 groups), and less for the collector to walk.
type slab[T any] struct{ free []T }

func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.free = make([]T, 1024)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// cand is e as a dependency candidate.
func (e *entry) cand() alpm.Candidate {
	return alpm.Candidate{Name: e.Name, Version: e.Version, Provides: e.provides}
}

// side is one side's packages: the first entry of each name, the others
// chained from it (entry.next) in repository order.
type side map[string]*entry

// add puts e among the entries of its name, in repository order.
func (s side) add(e *entry) {
	at := s[e.Name]
	if at == nil || at.pair > e.pair {
		e.next, s[e.Name] = at, e
		return
	}
	for at.next != nil && at.next.pair <= e.pair {
		at = at.next
	}
	e.next, at.next = at.next, e
}

// each calls f for every entry of the side.
func (s side) each(f func(*entry)) {
	for _, e := range s {
		for ; e != nil; e = e.next {
			f(e)
		}
	}
}

// loadSide returns one side's packages by pkgname, and every entry in the
// order of the databases (which is name order within one: walking them in
// that order keeps memory access sequential). A testing repository
// overlays its stable one and the newer version wins; across repo pairs
// every entry is kept, in pair order.
func loadSide(pairs []RepoPair, upstream bool) (side, []*entry) {
	n := 0
	for _, p := range pairs {
		for _, r := range sideRepos(p, upstream) {
			if r != nil {
				n += len(r.Packages)
			}
		}
	}
	out := make(side, n)
	all := make([]*entry, 0, n)
	var ents slab[entry]
	local := make(map[string]*alpm.Entry)
	for i, p := range pairs {
		repos := sideRepos(p, upstream)
		if repos[1] == nil && repos[0] != nil {
			// No overlay: a database holds each name once (syncdb refuses
			// duplicates), so there is nothing to merge.
			for k := range repos[0].Packages {
				pkg := &repos[0].Packages[k]
				if pkg.Name == "" {
					continue
				}
				e := ents.new()
				e.init(pkg, i)
				all = append(all, e)
				out.append(e)
			}
			continue
		}
		clear(local)
		var order []string
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
				old, ok := local[pkg.Name]
				if ok && (!overlay || alpm.Compare(pkg.Version, old.Version) <= 0) {
					continue
				}
				if !ok {
					order = append(order, pkg.Name)
				}
				local[pkg.Name] = pkg
			}
		}
		for _, name := range order {
			// Pairs come in order, so appending keeps the chain sorted.
			e := ents.new()
			e.init(local[name], i)
			all = append(all, e)
			out.append(e)
		}
	}
	return out, all
}

// append adds e after every entry of its name (whose pairs come before
// e's, since pairs are loaded in order).
func (s side) append(e *entry) {
	at := s[e.Name]
	if at == nil {
		s[e.Name] = e
		return
	}
	for at.next != nil {
		at = at.next
	}
	at.next = e
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
//
// Real port repositories carry a few strays (Arch Linux ARM's armv6h
// community of 2015 holds two armv7h kernels for one board), so only a
// repository where most arch-specific packages are foreign is refused.
// Strays are left out of their side, as pacman would refuse to install
// them ("package architecture is not valid"), each with a warning; the
// returned Input is in with those repositories replaced by filtered copies.
func checkArch(in *Input) (*Input, []Warning, error) {
	var warns []Warning
	out := in
	for i, rp := range in.Repos {
		for _, c := range [...]struct {
			r    **Repo
			side string
			arch string
		}{
			{&rp.Upstream, "upstream", in.UpstreamArch}, {&rp.UpstreamTesting, "upstream testing", in.UpstreamArch},
			{&rp.Target, "target", in.Arch}, {&rp.TargetTesting, "target testing", in.Arch},
		} {
			r := *c.r
			if r == nil || c.arch == "" {
				continue
			}
			bad, specific, example := 0, 0, ""
			for k := range r.Packages {
				p := &r.Packages[k]
				if p.Arch == "" || p.Arch == "any" {
					continue
				}
				specific++
				if p.Arch != c.arch {
					if bad == 0 {
						example = fmt.Sprintf("%s %s is %s", p.Name, p.Version, p.Arch)
					}
					bad++
				}
			}
			if bad == 0 {
				continue
			}
			where := r.URL
			if where == "" {
				where = "(no URL)"
			}
			if 2*bad > specific {
				return nil, nil, fmt.Errorf("repository %s (%s, %s): %d of %d packages are not for %s or any (%s): is this the right database for this side?",
					r.Name, c.side, where, bad, len(r.Packages), c.arch, example)
			}
			kept := &Repo{Name: r.Name, URL: r.URL, Packages: make([]alpm.Entry, 0, len(r.Packages)-bad)}
			for k := range r.Packages {
				p := &r.Packages[k]
				if p.Arch != "" && p.Arch != "any" && p.Arch != c.arch {
					warns = append(warns, Warning{Pkgbase: p.Base, Kind: WarnArch,
						Message: fmt.Sprintf("%s %s in %s (%s, %s) is %s, not %s or any: left out, as pacman would not install it",
							p.Name, p.Version, r.Name, c.side, where, p.Arch, c.arch)})
					continue
				}
				kept.Packages = append(kept.Packages, *p)
			}
			if out == in {
				cp := *in
				cp.Repos = slices.Clone(in.Repos)
				out = &cp
			}
			*c.r = kept
			out.Repos[i] = rp
		}
	}
	return out, warns, nil
}

// group is one side's view of a pkgbase: its split packages and the highest
// of their versions.
type group struct {
	n       int // packages, while grouping
	name    string
	pkgs    []*entry // sorted by pkgname
	version string
	pair    int
	allAny  bool
}

// groupBases groups a side's entries (all, in database order) by pkgbase.
// The first entry of each name always counts; a later one counts only for
// another pkgbase than the ones before it (a same-name shadow of the same
// pkgbase says nothing new).
func groupBases(s side, all []*entry) map[string]*group {
	out := make(map[string]*group, len(all)*3/4)
	var groups slab[group]
	of := make([]*group, len(all)) // each entry's group, nil when it is a shadow
	count := 0
	var last *group
next:
	for i, e := range all {
		if first := s[e.Name]; first != e {
			for x := first; x != e && x != nil; x = x.next {
				if x.Base == e.Base {
					continue next
				}
			}
		}
		// Split packages are usually next to each other in name order:
		// the group of the previous entry saves a lookup.
		g := last
		if g == nil || g.name != e.Base {
			if g = out[e.Base]; g == nil {
				g = groups.new()
				g.name = e.Base
				out[e.Base] = g
			}
			last = g
		}
		of[i] = g
		g.n++
		count++
	}
	// One array for every group's packages.
	arena := make([]*entry, count)
	for _, g := range out {
		g.pkgs, arena = arena[:0:g.n], arena[g.n:]
	}
	for i, e := range all {
		if g := of[i]; g != nil {
			g.pkgs = append(g.pkgs, e)
		}
	}
	for _, g := range out {
		if len(g.pkgs) > 1 {
			slices.SortFunc(g.pkgs, func(a, b *entry) int { return cmp.Compare(a.Name, b.Name) })
		}
		g.allAny = true
		g.pair = g.pkgs[0].pair
		for _, e := range g.pkgs {
			if g.version == "" || (e.Version != g.version && alpm.Compare(e.Version, g.version) > 0) {
				g.version = e.Version
			}
			g.pair = min(g.pair, e.pair)
			if e.Arch != "any" {
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
	s.each(func(e *entry) {
		for _, p := range e.provides {
			out[p.Name] = append(out[p.Name], e)
		}
	})
	for _, list := range out {
		slices.SortFunc(list, byPriority)
	}
	return out
}

func byPriority(a, b *entry) int {
	if c := cmp.Compare(a.pair, b.pair); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
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
