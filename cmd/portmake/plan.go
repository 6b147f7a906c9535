package main

import (
	"fmt"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/planner/view"
)

// PlanFlags are the planning options shared by plan and apply.
type PlanFlags struct {
	Refresh         bool       `default:"true" negatable:"" help:"Download repository databases (--no-refresh or --refresh=false plans from the cache only)."`
	UpstreamTesting bool       `name:"upstream-testing" help:"Overlay the upstream testing repositories."`
	TargetTesting   bool       `name:"target-testing" help:"Overlay the target testing repositories."`
	Packages        []string   `short:"p" sep:"," help:"Force these pkgnames or pkgbases into the plan." placeholder:"PKG"`
	RebuildRepo     []string   `name:"rebuild-repo" sep:"," help:"Rebuild every pkgbase of these repositories." placeholder:"REPO"`
	PreserveOrder   bool       `name:"preserve-order" help:"Build the --packages in command-line order."`
	SingleStage     bool       `name:"single-stage" help:"Build each dependency cycle once instead of twice."`
	Bootstrap       bool       `help:"Plan the build.bootstrap toolchain as its own staged sub-plan."`
	Missing         bool       `help:"List upstream pkgbases that the target lacks."`
	NoCheck         bool       `name:"nocheck" help:"Ignore checkdepends and build everything with --nocheck."`
	Exclude         []string   `sep:"," help:"Blacklist these globs for this run." placeholder:"GLOB"`
	UseLatest       latestFlag `name:"use-latest" help:"Take official PKGBUILDs from their packaging repository's default-branch head instead of the version tag: all, or with =PKG,... the named pkgbases." placeholder:"PKG,..."`
	AllowDowngrade  bool       `name:"allow-downgrade" help:"Let a missing dependency (and --rebuild-repo) plan an upstream version older than the target's."`

	RebuildDependents []string `name:"rebuild-dependents" sep:"," help:"Rebuild what needs these packages (depends and makedepends), e.g. after a soname bump." placeholder:"PKG"`
	DependentsDepth   int      `name:"dependents-depth" help:"Levels of dependents --rebuild-dependents rebuilds (0: all)."`
}

// latestFlag is --use-latest: alone it names every pkgbase, with a value
// (--use-latest=gcc,glibc) the listed ones.
type latestFlag struct {
	All   bool
	Names []string
}

func (l *latestFlag) Decode(ctx *kong.DecodeContext) error {
	if ctx.Scan.Peek().Type != kong.FlagValueToken {
		l.All = true
		return nil
	}
	tok, err := ctx.Scan.PopValue("pkgbase list")
	if err != nil {
		return err
	}
	v, ok := tok.Value.(string)
	if !ok {
		return fmt.Errorf("--use-latest: want pkgbases, got %v", tok.Value)
	}
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			l.Names = append(l.Names, n)
		}
	}
	if len(l.Names) == 0 {
		return fmt.Errorf("--use-latest=%q: name pkgbases, or give no value for all", v)
	}
	return nil
}

// IsBool lets --use-latest stand alone, without a value.
func (l *latestFlag) IsBool() bool { return true }

func (f *PlanFlags) options() engine.PlanOptions {
	return engine.PlanOptions{
		Refresh: f.Refresh, UpstreamTesting: f.UpstreamTesting, TargetTesting: f.TargetTesting,
		Packages: f.Packages, RebuildRepo: f.RebuildRepo, PreserveOrder: f.PreserveOrder,
		SingleStage: f.SingleStage, Bootstrap: f.Bootstrap, Missing: f.Missing, NoCheck: f.NoCheck,
		Exclude: f.Exclude, UseLatestAll: f.UseLatest.All, UseLatest: f.UseLatest.Names,
		AllowDowngrade:    f.AllowDowngrade,
		RebuildDependents: f.RebuildDependents, DependentsDepth: f.DependentsDepth,
	}
}

// PlanCmd diffs the repositories and saves a build plan.
type PlanCmd struct {
	PlanFlags
	JSON             bool `help:"Print the plan as JSON (format portmake.plan/v1)."`
	DetailedExitcode bool `name:"detailed-exitcode" help:"Exit 2 when the plan has work to do, 0 when it has none."`
}

func (c *PlanCmd) Run(env *Env, g *Globals) error {
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	r, err := p.Plan(env.Ctx, c.options())
	if r != nil && r.Preview != nil {
		return c.preview(env, r, err)
	}
	if err != nil {
		return err
	}
	if c.JSON {
		if r.Reused {
			if err := r.WithHashInputs(); err != nil {
				return err
			}
		}
		err = view.RenderJSON(env.Stdout, r.Plan)
	} else if err = view.RenderHuman(env.Stdout, r.Plan); err == nil {
		fmt.Fprintf(env.Stdout, "\n%s Apply it with: portmake apply %d\n", savedLine(r), r.ID)
	}
	if err != nil {
		return err
	}
	if c.DetailedExitcode && len(r.Plan.Nodes) > 0 {
		return &exitError{Code: 2}
	}
	return nil
}

// preview shows a plan made while sources could not be resolved, says it
// was not saved and cannot be applied, and exits 1 with err.
func (c *PlanCmd) preview(env *Env, r *engine.PlanResult, err error) error {
	if c.JSON {
		if werr := view.RenderJSON(env.Stdout, r.Plan); werr != nil {
			return werr
		}
	} else {
		if werr := view.RenderHuman(env.Stdout, r.Plan); werr != nil {
			return werr
		}
		fmt.Fprintln(env.Stdout, "\nThis is a preview: sources could not be resolved (see the error below), so the plan was not saved and cannot be applied.")
	}
	return &exitError{Code: 1, Err: err}
}

// savedLine says where the plan is: freshly saved, or an earlier plan that
// was made from exactly the same inputs.
func savedLine(r *engine.PlanResult) string {
	if r.Reused {
		return fmt.Sprintf("Plan %d is unchanged: nothing it was made from has changed.", r.ID)
	}
	return fmt.Sprintf("Saved plan %d.", r.ID)
}
