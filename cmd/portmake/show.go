package main

import (
	"fmt"
	"strings"

	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/planner/view"
	"github.com/portmake/portmake/ui"
)

// ShowCmd re-renders a stored plan.
type ShowCmd struct {
	Plan int64 `arg:"" optional:"" help:"Plan id (default: the latest)."`
	JSON bool  `help:"Print the plan as JSON."`
}

func (c *ShowCmd) Run(env *Env, g *Globals) error {
	return withPlan(env, g, c.Plan, func(r *engine.PlanResult) error {
		if c.JSON {
			if err := r.WithHashInputs(); err != nil {
				return err
			}
			return view.RenderJSON(env.Stdout, r.Plan)
		}
		fmt.Fprintf(env.Stdout, "Plan %d\n\n", r.ID)
		return view.RenderHuman(env.Stdout, r.Plan)
	})
}

// PlansCmd lists the stored plans, newest first.
type PlansCmd struct {
	Limit int  `default:"20" help:"Show at most this many plans (0: all)."`
	JSON  bool `help:"Print the plans as a JSON array."`
}

func (c *PlansCmd) Run(env *Env, g *Globals) error {
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	list, err := p.Plans(env.Ctx, c.Limit)
	if err != nil {
		return err
	}
	if c.JSON {
		return ui.WritePlansJSON(env.Stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "No plans yet: run portmake plan.")
		return nil
	}
	for _, s := range list {
		fmt.Fprintf(env.Stdout, "%4d  %s  %-8s %s", s.ID, s.CreatedAt.Local().Format("2006-01-02 15:04:05"), s.Arch, s.Summary)
		if f := ui.PlanFlags(s); len(f) > 0 {
			fmt.Fprintf(env.Stdout, "  [%s]", strings.Join(f, " "))
		}
		fmt.Fprintln(env.Stdout)
	}
	return nil
}

// WhyCmd explains why a package is in the latest plan, or why not.
type WhyCmd struct {
	Package string `arg:"" help:"pkgname or pkgbase."`
	Plan    int64  `help:"Plan id (default: the latest)."`
	JSON    bool   `help:"Print a JSON object (format portmake.why/v1)."`
}

func (c *WhyCmd) Run(env *Env, g *Globals) error {
	return withPlan(env, g, c.Plan, func(r *engine.PlanResult) error {
		if c.JSON {
			return view.RenderWhyJSON(env.Stdout, r.Plan, c.Package)
		}
		// view.Why ends its text with a newline already.
		_, err := fmt.Fprint(env.Stdout, view.Why(r.Plan, c.Package))
		return err
	})
}

// ExplainCmd shows a node's hash inputs and which changed since the last
// successful build of its pkgbase.
type ExplainCmd struct {
	Package string `arg:"" help:"pkgbase, or a build id such as gcc#2."`
	Plan    int64  `help:"Plan id (default: the latest)."`
	JSON    bool   `help:"Print a JSON object (format portmake.explain/v1)."`
}

func (c *ExplainCmd) Run(env *Env, g *Globals) error {
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	list, err := p.Explain(env.Ctx, c.Plan, c.Package)
	if err != nil {
		return err
	}
	if c.JSON {
		out := make([]view.Explained, len(list))
		for i, e := range list {
			out[i] = view.Explained{Node: e.Node, Previous: e.Previous}
		}
		return view.RenderExplainJSON(env.Stdout, out)
	}
	for _, e := range list {
		if err := view.Explain(env.Stdout, e.Node, e.Previous); err != nil {
			return err
		}
	}
	return nil
}

// GraphCmd prints the build graph of the latest plan.
type GraphCmd struct {
	Format string `default:"dot" enum:"dot,json" help:"Output format: dot or json."`
	Plan   int64  `help:"Plan id (default: the latest)."`
}

func (c *GraphCmd) Run(env *Env, g *Globals) error {
	return withPlan(env, g, c.Plan, func(r *engine.PlanResult) error {
		if c.Format == "json" {
			return view.RenderGraphJSON(env.Stdout, r.Plan)
		}
		return view.RenderDOT(env.Stdout, r.Plan)
	})
}

// withPlan opens the port and runs fn on a stored plan (id <= 0: the
// latest).
func withPlan(env *Env, g *Globals, id int64, fn func(*engine.PlanResult) error) error {
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	r, err := p.LoadPlan(env.Ctx, id)
	if err != nil {
		return err
	}
	return fn(r)
}
