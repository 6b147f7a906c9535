package analyze

import (
	"cmp"
	"slices"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/planner"
)

// pkg is one package of one side.
type pkg struct {
	name, base, version, arch string
	filename                  string
	pair                      int    // repo pair index: pacman's priority
	repo                      string // the repository it is in, e.g. "core-testing"
	cand                      alpm.Candidate
	deps                      [3][]string // depends, makedepends, checkdepends
}

// side is one side's packages, indexed the way pacman looks them up.
type side struct {
	// byName is the package pacman would pick for each pkgname: a
	// testing repository overlays its stable one when newer, and an
	// earlier repo pair wins over a later one (the planner's rule).
	byName   map[string]*pkg
	names    []string          // sorted keys of byName
	all      map[string][]*pkg // every copy of a pkgname, in repository order
	provides map[string][]*pkg // provided name -> effective packages, pacman order
	bases    map[string][]*pkg // pkgbase -> effective packages, pacman order
}

func loadSide(in *planner.Input, upstream bool, files map[string]string) *side {
	s := &side{byName: map[string]*pkg{}, all: map[string][]*pkg{}, provides: map[string][]*pkg{}, bases: map[string][]*pkg{}}
	for i, rp := range in.Repos {
		repos := [2]*planner.Repo{rp.Target, rp.TargetTesting}
		if upstream {
			repos = [2]*planner.Repo{rp.Upstream, rp.UpstreamTesting}
		}
		local := map[string]*pkg{}
		for j, r := range repos {
			if r == nil {
				continue
			}
			for k := range r.Packages {
				ap := &r.Packages[k]
				if ap.Name == "" {
					continue
				}
				p := fromEntry(ap, i, r.Name)
				p.filename = files[r.Name+"/"+ap.Name]
				s.all[p.name] = append(s.all[p.name], p)
				if old, ok := local[p.name]; ok && (j == 0 || alpm.Compare(p.version, old.version) <= 0) {
					continue
				}
				local[p.name] = p
			}
		}
		for name, p := range local {
			if _, ok := s.byName[name]; !ok {
				s.byName[name] = p
			}
		}
	}
	if upstream {
		s.addNewSources(in)
	}
	for name, p := range s.byName {
		s.names = append(s.names, name)
		s.bases[p.base] = append(s.bases[p.base], p)
		for _, r := range p.cand.Provides {
			s.provides[r.Name] = append(s.provides[r.Name], p)
		}
	}
	slices.Sort(s.names)
	byPriority := func(a, b *pkg) int {
		if c := cmp.Compare(a.pair, b.pair); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	}
	for _, list := range s.provides {
		slices.SortFunc(list, byPriority)
	}
	for _, list := range s.bases {
		slices.SortFunc(list, byPriority)
	}
	return s
}

func fromEntry(ap *alpm.Entry, pair int, repo string) *pkg {
	base := ap.Base
	if base == "" {
		base = ap.Name
	}
	return &pkg{name: ap.Name, base: base, version: ap.Version, arch: ap.Arch, pair: pair, repo: repo,
		cand: ap.Candidate(), deps: [3][]string{ap.Depends, ap.MakeDepends, ap.CheckDepends}}
}

// addNewSources puts the AUR and local recipes on the upstream side, where
// the planner puts them: they replace an upstream pkgbase of the same name.
func (s *side) addNewSources(in *planner.Input) {
	pairOf := map[string]int{}
	for i, rp := range in.Repos {
		pairOf[rp.Name] = i
	}
	for _, ns := range in.NewSources {
		r := ns.Source.Recipe
		if r == nil {
			continue
		}
		for name, p := range s.byName {
			if p.base == r.Pkgbase {
				delete(s.byName, name)
			}
		}
		for _, sp := range r.Packages {
			arch := in.Arch
			if len(sp.Arch) == 1 && sp.Arch[0] == "any" {
				arch = "any"
			}
			ap := &alpm.Entry{Name: sp.Name, Base: r.Pkgbase, Version: r.Version, Arch: arch, Provides: sp.Provides,
				Depends: sp.Depends, MakeDepends: sp.MakeDepends, CheckDepends: sp.CheckDepends}
			s.byName[sp.Name] = fromEntry(ap, pairOf[ns.Repo], ns.Repo)
		}
	}
}

// allAny reports whether every package of an upstream pkgbase is ARCH=any.
func (s *side) allAny(base string) bool {
	list := s.bases[base]
	for _, p := range list {
		if p.arch != "any" {
			return false
		}
	}
	return len(list) > 0
}

// satisfiers calls fn for every package that satisfies rel (pacman's
// alpm.Satisfies: a name match by version, a provide by its own version).
func (s *side) satisfiers(rel alpm.Relation, fn func(*pkg)) {
	if p := s.byName[rel.Name]; p != nil && alpm.Satisfies(rel, p.cand) {
		fn(p)
	}
	for _, p := range s.provides[rel.Name] {
		if p.name != rel.Name && alpm.Satisfies(rel, p.cand) {
			fn(p)
		}
	}
}

// provideOf returns p's provides entry for name, as written.
func (p *pkg) provideOf(name string) string {
	for _, r := range p.cand.Provides {
		if r.Name == name {
			return r.String()
		}
	}
	return ""
}

// eachDep calls fn for every valid dependency of p, without duplicates
// within a kind. Entries that do not parse are skipped: the sync DB
// reader and the planner already report them.
func (p *pkg) eachDep(fn func(kind planner.DepKind, text string, rel alpm.Relation)) {
	kinds := [3]planner.DepKind{planner.KindDepends, planner.KindMakeDepends, planner.KindCheckDepends}
	for i, list := range p.deps {
		for j, text := range list {
			if slices.Contains(list[:j], text) {
				continue
			}
			rel, err := alpm.ParseRelation(text)
			if err != nil {
				continue
			}
			fn(kinds[i], text, rel)
		}
	}
}
