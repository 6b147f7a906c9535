package planner

// Reverse and forward dependencies.
//
// The dependency graph here is over the upstream side as the planner sees
// it (new sources replace their upstream pkgbases), at the pkgbase level:
// A → B when one of A's depends, makedepends or checkdepends is satisfied
// by a package of B. The provider of a dependency is chosen the way pacman
// does (the package of that exact name if it satisfies, else the first
// provider in repository order, then pkgname order), ignoring the
// blacklist: the graph says what needs what, not what may be built.
//
// A dependency that no package satisfies but that some package has the
// name of (an unversioned match: a soname bump, a versioned dependency on
// an older release) still makes an edge, marked Unsatisfied: "what needs
// libfoo" must list the packages still linked against its old soname.
//
// The same walk serves `portmake dependents` and the plan option
// RebuildDependents, so the set a preview shows is the set a plan builds.

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/portmake/portmake/alpm"
)

// DepEdge is one resolved dependency of a pkgbase on another.
type DepEdge struct {
	From        string // the pkgbase that has the dependency
	To          string // the pkgbase that satisfies it
	Kind        DepKind
	Relation    string // as written, e.g. "libfoo.so=1-64"
	Package     string // the pkgname of To that satisfies it
	Unsatisfied bool   // nothing satisfies Relation; Package only has its name
}

// Graph is the upstream pkgbase dependency graph of an Input.
type Graph struct {
	w     *world
	deps  map[string][]DepEdge // pkgbase -> its dependencies, in depsOf order
	rdeps map[string][]DepEdge // pkgbase -> the edges of its dependents, sorted
}

// NewGraph resolves every dependency of every upstream pkgbase of in. Like
// Build it does no I/O and keeps no reference to in's slices.
func NewGraph(in *Input) (*Graph, error) {
	w, err := newWorld(in)
	if err != nil {
		return nil, err
	}
	return w.graph(), nil
}

func (w *world) graph() *Graph {
	g := &Graph{w: w, deps: make(map[string][]DepEdge), rdeps: make(map[string][]DepEdge)}
	for _, name := range w.names {
		b := w.bases[name]
		if b.up == nil {
			continue
		}
		deps := w.depsOf(b)
		for i := range deps {
			d := &deps[i]
			if d.err != nil {
				continue
			}
			e, ok := w.provider(d)
			if e == nil || e.Base == name {
				continue
			}
			edge := DepEdge{From: name, To: e.Base, Kind: d.kind, Relation: d.text, Package: e.Name, Unsatisfied: !ok}
			g.deps[name] = append(g.deps[name], edge)
			g.rdeps[e.Base] = append(g.rdeps[e.Base], edge)
		}
	}
	for _, list := range g.rdeps {
		slices.SortFunc(list, func(a, b DepEdge) int {
			if c := cmp.Compare(a.From, b.From); c != 0 {
				return c
			}
			if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
				return c
			}
			return cmp.Compare(a.Relation, b.Relation)
		})
	}
	return g
}

// provider picks the upstream package that satisfies d as pacman would
// (satisfyUpstream's order), blacklist or not. When none satisfies, it
// falls back to the first package of that name, then the first provider
// of it, with ok false. Shadowed entries (no pkgbase state) play no part.
func (w *world) provider(d *depItem) (e *entry, ok bool) {
	var fallback *entry
	for e := d.up; e != nil; e = e.next {
		if e.b == nil {
			continue
		}
		if alpm.Satisfies(d.rel, e.cand()) {
			return e, true
		}
		if fallback == nil {
			fallback = e
		}
	}
	for _, p := range d.provUp {
		if p.b == nil {
			continue
		}
		if alpm.Satisfies(d.rel, p.cand()) {
			return p, true
		}
		if fallback == nil {
			fallback = p
		}
	}
	return fallback, false
}

// Resolve maps a pkgname or pkgbase to its upstream pkgbase. A pkgbase
// name wins over a pkgname of another pkgbase.
func (g *Graph) Resolve(name string) (string, bool) { return g.w.resolveName(name) }

// Packages returns the upstream pkgnames of a pkgbase, sorted.
func (g *Graph) Packages(pkgbase string) []string {
	b := g.w.bases[pkgbase]
	if b == nil || b.up == nil {
		return nil
	}
	out := make([]string, len(b.up.pkgs))
	for i, e := range b.up.pkgs {
		out[i] = e.Name
	}
	return out
}

// Version returns the upstream version and repo pair of a pkgbase.
func (g *Graph) Version(pkgbase string) (version, repo string) {
	b := g.w.bases[pkgbase]
	if b == nil || b.up == nil {
		return "", ""
	}
	return b.up.version, g.w.in.Repos[b.up.pair].Name
}

// Dependencies returns the resolved dependencies of a pkgbase.
func (g *Graph) Dependencies(pkgbase string) []DepEdge { return g.deps[pkgbase] }

// Dependents returns the edges of the pkgbases that depend on pkgbase,
// sorted by dependent, kind and relation.
func (g *Graph) Dependents(pkgbase string) []DepEdge { return g.rdeps[pkgbase] }

// Walk says which edges Reach follows.
type Walk struct {
	Reverse bool      // follow dependents (true) or dependencies (false)
	Kinds   []DepKind // edge kinds to follow; empty: all three
	Depth   int       // how many levels; 0 or less: no limit
}

// Reached is a pkgbase found by Reach: at Depth levels from the roots,
// through edge Via (Via.From is the dependent, Via.To what it needs).
type Reached struct {
	Pkgbase string
	Depth   int
	Via     DepEdge
	Root    string // the root (as given) it was reached from
}

// Reach walks the graph breadth first from the roots (pkgnames or
// pkgbases) and returns every pkgbase reached, roots excluded, in order of
// depth, then name. A root given as a pkgname of a split pkgbase (not the
// pkgbase's own name) only follows, at the first level, the edges of that
// pkgname: the dependents of gcc-libs are not those of gcc-ada.
func (g *Graph) Reach(roots []string, o Walk) ([]Reached, error) {
	follow := func(k DepKind) bool { return len(o.Kinds) == 0 || slices.Contains(o.Kinds, k) }
	seen := make(map[string]bool)
	type item struct {
		base, root, only string // only: restrict the first step to this pkgname
	}
	var frontier []item
	for _, r := range roots {
		base, ok := g.Resolve(r)
		if !ok {
			return nil, fmt.Errorf("%s: no such pkgname or pkgbase upstream or in the new sources", r)
		}
		it := item{base: base, root: r}
		if base != r {
			it.only = r
		}
		seen[base] = true
		frontier = append(frontier, it)
	}
	var out []Reached
	for depth := 1; len(frontier) > 0 && (o.Depth <= 0 || depth <= o.Depth); depth++ {
		var next []item
		var level []Reached
		for _, it := range frontier {
			edges := g.deps[it.base]
			if o.Reverse {
				edges = g.rdeps[it.base]
			}
			for _, e := range edges {
				if !follow(e.Kind) {
					continue
				}
				if it.only != "" && ((o.Reverse && e.Package != it.only) || (!o.Reverse && !g.ownDep(it.only, e))) {
					continue
				}
				to := e.To
				if o.Reverse {
					to = e.From
				}
				if seen[to] {
					continue
				}
				seen[to] = true
				level = append(level, Reached{Pkgbase: to, Depth: depth, Via: e, Root: it.root})
				next = append(next, item{base: to, root: it.root})
			}
		}
		slices.SortFunc(level, func(a, b Reached) int { return cmp.Compare(a.Pkgbase, b.Pkgbase) })
		out = append(out, level...)
		frontier = next
	}
	return out, nil
}

// ownDep reports whether the pkgname itself (not a sibling split package)
// lists e's relation. Build dependencies belong to the whole pkgbase.
func (g *Graph) ownDep(pkgname string, e DepEdge) bool {
	if e.Kind != KindDepends {
		return true
	}
	p := g.w.up[pkgname]
	if p == nil {
		return true
	}
	return slices.Contains(p.Depends, e.Relation)
}

// rebuildDependents gives the pkgbases that Options.RebuildDependents asks
// for their reason: the dependents (depends and makedepends, which link or
// embed the package; checkdepends do not) of the named packages, to
// Options.DependentsDepth levels.
func (w *world) rebuildDependents() (map[string]Reason, error) {
	o := w.in.Options
	if len(o.RebuildDependents) == 0 {
		return nil, nil
	}
	reached, err := w.graph().Reach(o.RebuildDependents, Walk{Reverse: true, Kinds: []DepKind{KindDepends, KindMakeDepends}, Depth: o.DependentsDepth})
	if err != nil {
		return nil, fmt.Errorf("--rebuild-dependents %w", err)
	}
	out := make(map[string]Reason, len(reached))
	for _, r := range reached {
		detail := fmt.Sprintf("--rebuild-dependents %s: %s %s", r.Root, r.Via.Kind, r.Via.Relation)
		if r.Depth > 1 {
			detail += fmt.Sprintf(" (depth %d)", r.Depth)
		}
		out[r.Pkgbase] = Reason{Kind: ReasonRebuildDependents, Detail: detail, Via: r.Via.To, DepKind: r.Via.Kind, Relation: r.Via.Relation}
	}
	return out, nil
}
