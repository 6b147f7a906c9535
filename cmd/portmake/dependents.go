package main

import (
	"github.com/portmake/portmake/analyze"
	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/planner"
)

// DependentsCmd shows what needs a package (or what it needs) and the
// order in which to rebuild its dependents.
type DependentsCmd struct {
	SnapshotFlags
	Package         string   `arg:"" help:"pkgname or pkgbase."`
	Forward         bool     `help:"Show what the package needs instead of what needs it."`
	Kind            []string `sep:"," enum:"depends,makedepends,checkdepends" help:"Follow only these dependency kinds (depends, makedepends, checkdepends)." placeholder:"KIND"`
	DependsOnly     bool     `name:"depends-only" help:"Follow depends only (--kind depends)."`
	MakedependsOnly bool     `name:"makedepends-only" help:"Follow makedepends only (--kind makedepends)."`
	Depth           int      `help:"Levels to follow (0: all)."`
	JSON            bool     `help:"Print JSON (format portmake.dependents/v1)."`
}

func (c *DependentsCmd) Run(env *Env, g *Globals) error {
	o := engine.DependentsOptions{Snapshot: c.options()}
	o.Forward, o.Depth = c.Forward, c.Depth
	kinds := c.Kind
	if c.DependsOnly {
		kinds = append(kinds, "depends")
	}
	if c.MakedependsOnly {
		kinds = append(kinds, "makedepends")
	}
	for _, k := range []planner.DepKind{planner.KindDepends, planner.KindMakeDepends, planner.KindCheckDepends} {
		for _, name := range kinds {
			if name == k.String() {
				o.Kinds = append(o.Kinds, k)
				break
			}
		}
	}
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	r, err := p.Dependents(env.Ctx, c.Package, o)
	if err != nil {
		return err
	}
	if c.JSON {
		return analyze.RenderDependentsJSON(env.Stdout, r)
	}
	return analyze.RenderDependents(env.Stdout, r)
}
