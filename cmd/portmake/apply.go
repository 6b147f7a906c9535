package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/planner/view"
	"github.com/portmake/portmake/ui"
)

// ApplyCmd builds the stale nodes of a plan and publishes them.
type ApplyCmd struct {
	PlanFlags
	PlanID        int64    `arg:"" optional:"" name:"plan-id" help:"Apply this stored plan (refused when stale) instead of planning now."`
	AutoApprove   bool     `name:"auto-approve" help:"Do not ask for confirmation."`
	Jobs          string   `short:"j" help:"Concurrent builds: N, auto (follow this machine's load), or 0 for no limit with the slurm backend (default: build.jobs)." placeholder:"N|auto"`
	Replace       []string `sep:"," help:"Rebuild these pkgbases even when a published build with the same hash exists." placeholder:"PKG"`
	Target        []string `sep:"," help:"Build only these pkgbases and what they need." placeholder:"PKG"`
	StopOnFailure bool     `name:"stop-on-failure" help:"Stop starting builds after the first failure (default: keep going)."`
	KeepGoing     bool     `name:"keep-going" help:"Keep building everything independent of a failure (the default)."`
	RetryFailed   bool     `name:"retry-failed" help:"Retry builds that failed before with the same hash."`
	NoUpload      bool     `name:"no-upload" help:"Build without publishing."`
	// ForceUnconditional is for S3 stores without conditional writes.
	ForceUnconditional bool `name:"force-unconditional" help:"Publish to an S3 store that does not honour conditional writes (safe only with one publisher)."`
	DryRun             bool `name:"dry-run" help:"Print the builder and publish commands instead of running them."`
	PreserveChroot     bool `name:"preserve-chroot" help:"Keep every build's working copy."`
	CleanupOnFailure   bool `name:"cleanup-on-failure" help:"Remove the working copy of failed builds too."`
	// A pointer: unset takes the Portfile's build.build_dependents_of_failed.
	BuildDependentsOfFailed *bool  `name:"build-dependents-of-failed" negatable:"" help:"Build what needs a failed build anyway, against the target's binaries for it (default: build.build_dependents_of_failed)."`
	NoCache                 bool   `name:"no-cache" help:"Start every build with an empty package cache (makepkg builder: an empty source cache)."`
	StartFrom               string `name:"start-from" help:"With --bootstrap: build the toolchain from PKG (a pkgbase, or a build id such as gcc#b2) on." placeholder:"PKG"`
	Only                    string `help:"With --bootstrap: build only PKG of the toolchain (a pkgbase, or a build id such as gcc#b2)." placeholder:"PKG"`
}

func (c *ApplyCmd) Run(env *Env, g *Globals) error {
	if c.StopOnFailure && c.KeepGoing {
		return errors.New("apply: --stop-on-failure and --keep-going contradict each other")
	}
	if c.StopOnFailure && c.BuildDependentsOfFailed != nil && *c.BuildDependentsOfFailed {
		return errors.New("apply: --stop-on-failure and --build-dependents-of-failed contradict each other")
	}
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	jobs, auto, err := parseJobs(c.Jobs)
	if err != nil {
		return err
	}
	o := engine.ApplyOptions{
		PlanID: c.PlanID, Plan: c.options(), Jobs: jobs, JobsAuto: auto, Replace: c.Replace, Target: c.Target, Exclude: c.Exclude,
		StopOnFailure: c.StopOnFailure, RetryFailed: c.RetryFailed, NoUpload: c.NoUpload, ForceUnconditional: c.ForceUnconditional,
		PreserveChroot: c.PreserveChroot, CleanupOnFailure: c.CleanupOnFailure,
		BuildDependentsOfFailed: c.BuildDependentsOfFailed, NoCache: c.NoCache, StartFrom: c.StartFrom, Only: c.Only,
		Selected: func(s *engine.Selection) { ui.WriteSelection(env.Stdout, s) },
	}
	if c.DryRun {
		o.DryRun = env.Stdout
	}
	if c.PlanID == 0 {
		// A fresh plan is shown before anything is built; a stored one was
		// shown when it was made.
		o.Planned = func(r *engine.PlanResult) {
			if err := view.RenderHuman(env.Stdout, r.Plan); err == nil {
				fmt.Fprintf(env.Stdout, "\n%s\n", savedLine(r))
			}
		}
		if !c.DryRun && !c.AutoApprove {
			o.Approve = func() (bool, error) { return confirm(env) }
		}
	}
	var prog engine.Progress = ui.NewPlainProgress(env.Stdout)
	if isTerminal(env.Stdout) {
		prog = ui.NewTTYProgress(env.Stdout)
	}
	res, err := p.Apply(env.Ctx, o, prog)
	switch {
	case errors.Is(err, engine.ErrCancelled):
		return &exitError{Code: 1, Err: err}
	case err != nil:
		return err
	case res.Summary == nil:
		fmt.Fprintln(env.Stdout, "Nothing to build.")
	case !res.OK():
		return &exitError{Code: 1}
	}
	return nil
}

func confirm(env *Env) (bool, error) {
	f, ok := env.Stdin.(*os.File)
	if !ok || !isTerminal(f) {
		return false, errors.New("apply: stdin is not a terminal; pass --auto-approve to apply without confirmation")
	}
	fmt.Fprint(env.Stdout, "\nDo you want to build these packages? Only 'yes' will be accepted: ")
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return strings.TrimSpace(line) == "yes", nil
}

// parseJobs reads -j: a number (0: no limit, as engine.ApplyOptions.Jobs
// < 0), or auto.
func parseJobs(s string) (jobs int, auto bool, err error) {
	switch s {
	case "":
		return 0, false, nil
	case "auto":
		return 0, true, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 256 {
		return 0, false, fmt.Errorf("-j %s: want a number of builds from 0 to 256, or auto", s)
	}
	if n == 0 {
		return -1, false, nil
	}
	return n, false, nil
}
