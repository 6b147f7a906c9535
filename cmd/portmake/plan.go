package main

import (
	"fmt"

	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/planner/view"
)

// PlanCmd diffs the repositories and saves a build plan.
type PlanCmd struct {
	PlanFlags
	JSON             bool `help:"Print the plan as JSON (format portmake.plan/v1)."`
	DetailedExitcode bool `name:"detailed-exitcode" help:"Exit 2 when the plan has work to do, 0 when it has none."`
}

func (c *PlanCmd) Run(env *Env, g *Globals) error {
	s, err := openSession(env, g)
	if err != nil {
		return err
	}
	defer s.Close()
	p, id, reused, err := s.plan(env, &c.PlanFlags)
	if err != nil {
		return err
	}
	if c.JSON {
		if reused {
			if err := p.RestoreHashInputs(); err != nil {
				return fmt.Errorf("plan %d: %w", id, err)
			}
		}
		err = view.RenderJSON(env.Stdout, p)
	} else if err = view.RenderHuman(env.Stdout, p); err == nil {
		fmt.Fprintf(env.Stdout, "\n%s Apply it with: portmake apply %d\n", savedLine(id, reused), id)
	}
	if err != nil {
		return err
	}
	if c.DetailedExitcode && len(p.Nodes) > 0 {
		return &exitError{Code: 2}
	}
	return nil
}

// ShowCmd re-renders a stored plan.
type ShowCmd struct {
	Plan int64 `arg:"" optional:"" help:"Plan id (default: the latest)."`
	JSON bool  `help:"Print the plan as JSON."`
}

func (c *ShowCmd) Run(env *Env, g *Globals) error {
	s, err := openSession(env, g)
	if err != nil {
		return err
	}
	defer s.Close()
	p, id, err := s.loadPlan(env.Ctx, c.Plan)
	if err != nil {
		return err
	}
	if c.JSON {
		if err := p.RestoreHashInputs(); err != nil {
			return fmt.Errorf("plan %d: %w", id, err)
		}
		return view.RenderJSON(env.Stdout, p)
	}
	fmt.Fprintf(env.Stdout, "Plan %d\n\n", id)
	return view.RenderHuman(env.Stdout, p)
}

// PlansCmd lists the stored plans, newest first.
type PlansCmd struct {
	Limit int `default:"20" help:"Show at most this many plans (0: all)."`
}

func (c *PlansCmd) Run(env *Env, g *Globals) error {
	s, err := openSession(env, g)
	if err != nil {
		return err
	}
	defer s.Close()
	list, err := s.st.Plans(env.Ctx, c.Limit)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "No plans yet: run portmake plan.")
		return nil
	}
	for _, p := range list {
		fmt.Fprintf(env.Stdout, "%4d  %s  %-8s %s\n", p.ID, p.CreatedAt.Local().Format("2006-01-02 15:04:05"), p.Arch, p.Summary)
	}
	return nil
}

// WhyCmd explains why a package is in the latest plan, or why not.
type WhyCmd struct {
	Package string `arg:"" help:"pkgname or pkgbase."`
	Plan    int64  `help:"Plan id (default: the latest)."`
}

func (c *WhyCmd) Run(env *Env, g *Globals) error {
	return withPlan(env, g, c.Plan, func(_ *session, p *planner.Plan, _ int64) error {
		// view.Why ends its text with a newline already.
		_, err := fmt.Fprint(env.Stdout, view.Why(p, c.Package))
		return err
	})
}

// ExplainCmd shows a node's hash inputs and which changed since the last
// successful build of its pkgbase.
type ExplainCmd struct {
	Package string `arg:"" help:"pkgbase, or a build id such as gcc#2."`
	Plan    int64  `help:"Plan id (default: the latest)."`
}

func (c *ExplainCmd) Run(env *Env, g *Globals) error {
	return withPlan(env, g, c.Plan, func(s *session, p *planner.Plan, id int64) error {
		if err := p.RestoreHashInputs(); err != nil {
			return fmt.Errorf("plan %d: %w", id, err)
		}
		return c.explain(env, s, p)
	})
}

func (c *ExplainCmd) explain(env *Env, s *session, p *planner.Plan) error {
	nodes := p.NodesOf(c.Package)
	if n := p.Node(c.Package); n != nil {
		nodes = nodes[:0:0]
		nodes = append(nodes, n)
	}
	if len(nodes) == 0 {
		return fmt.Errorf("explain: %s is not in the plan; try portmake why %s", c.Package, c.Package)
	}
	for _, n := range nodes {
		var prev []planner.HashInput
		last, err := s.st.LastSuccessOf(env.Ctx, n.Pkgbase)
		if err != nil {
			return err
		}
		if last != nil {
			kvs, err := s.st.HashInputs(env.Ctx, last.Hash)
			if err != nil {
				return err
			}
			for _, kv := range kvs {
				prev = append(prev, planner.HashInput{Key: kv.Key, Value: kv.Value})
			}
		}
		if err := view.Explain(env.Stdout, n, prev); err != nil {
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
	return withPlan(env, g, c.Plan, func(_ *session, p *planner.Plan, _ int64) error {
		if c.Format == "json" {
			return view.RenderGraphJSON(env.Stdout, p)
		}
		return view.RenderDOT(env.Stdout, p)
	})
}

// withPlan opens the Portfile's store and runs fn on a stored plan (id <= 0:
// the latest).
func withPlan(env *Env, g *Globals, id int64, fn func(*session, *planner.Plan, int64) error) error {
	s, err := openSession(env, g)
	if err != nil {
		return err
	}
	defer s.Close()
	p, id, err := s.loadPlan(env.Ctx, id)
	if err != nil {
		return err
	}
	return fn(s, p, id)
}

// savedLine says where the plan is: freshly saved, or an earlier plan that
// was made from exactly the same inputs.
func savedLine(id int64, reused bool) string {
	if reused {
		return fmt.Sprintf("Plan %d is unchanged: nothing it was made from has changed.", id)
	}
	return fmt.Sprintf("Saved plan %d.", id)
}
