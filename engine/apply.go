package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/store"
)

// ApplyOptions say which plan to apply and how.
type ApplyOptions struct {
	// PlanID applies a stored plan, refused when stale; 0 plans now with
	// Plan.
	PlanID int64
	Plan   PlanOptions
	// Planned, when set, receives the plan before anything is built (the
	// CLI shows it).
	Planned func(*PlanResult)
	// Approve, when set, is asked once there is something to build; false
	// cancels the apply with ErrCancelled.
	Approve func() (bool, error)

	Jobs          int      // concurrent builds; 0 takes build.jobs
	Replace       []string // rebuild these pkgbases even when built and published with the same hash
	Target        []string // build only these pkgbases and what they need
	Exclude       []string // leave these globs out, and what depends on them
	StopOnFailure bool     // start no build after the first failure
	RetryFailed   bool     // retry builds that failed before with the same hash
	NoUpload      bool     // build without publishing
	// DryRun, when set, receives the commands each build would run
	// instead of running them; nothing is recorded.
	DryRun           io.Writer
	PreserveChroot   bool // keep every build's working copy
	CleanupOnFailure bool // remove the working copy of failed builds too

	// FailureLimit is how many failures of the same hash (since its last
	// success and the last `portmake retry` of its pkgbase) keep it from
	// being built again; 0 means 1. The watch daemon gives a build a
	// second chance with 2.
	FailureLimit int
	// Drain, when closed, starts no new build and lets running ones
	// finish (a cancelled ctx aborts them).
	Drain <-chan struct{}
	// LockHeld says the caller holds the state lock (Lock) for longer
	// than this apply, as the watch daemon does for its lifetime.
	LockHeld bool
}

// ErrCancelled is returned by Apply when Approve says no.
var ErrCancelled = errors.New("apply cancelled")

// ApplyResult is what an apply did.
type ApplyResult struct {
	PlanID  int64
	ApplyID int64    // 0 for a dry run
	Summary *Summary // nil when the plan had nothing to build
}

// OK reports whether every build ended built or up to date.
func (r *ApplyResult) OK() bool { return r.Summary == nil || r.Summary.OK() }

// Apply builds the stale nodes of a plan and publishes them. It holds the
// state store's apply lock for the whole run (not for a dry run), recovers
// what an earlier killed apply left, and records every build. The error is
// about the apply itself; failed builds are in the Summary.
func (p *Port) Apply(ctx context.Context, o ApplyOptions, prog Progress) (*ApplyResult, error) {
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	if o.DryRun == nil && !o.LockHeld {
		if _, err := st.RecoverInterrupted(ctx); err != nil {
			return nil, err
		}
		release, err := st.Lock(ctx, os.Getpid(), time.Now())
		if err != nil {
			return nil, fmt.Errorf("apply: %w", err)
		}
		defer release()
	}

	pr, err := p.planToApply(ctx, o)
	if err != nil {
		return nil, err
	}
	if o.Planned != nil {
		o.Planned(pr)
	}
	// Each build records its hash inputs, for explain after the plan is
	// gone; a stored plan keeps them only implicitly.
	if err := pr.WithHashInputs(); err != nil {
		return nil, err
	}
	plan := pr.Plan
	nodes, err := selectNodes(plan, o.Target, o.Exclude)
	if err != nil {
		return nil, err
	}
	res := &ApplyResult{PlanID: pr.ID}
	if len(nodes) == 0 {
		return res, nil
	}
	if o.Approve != nil {
		ok, err := o.Approve()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrCancelled
		}
	}

	ex, rec, err := p.executor(o, st, plan, nodes)
	if err != nil {
		return nil, err
	}
	ex.Progress = prog
	jobs := p.jobs(nodes)
	if o.DryRun == nil {
		if res.ApplyID, err = st.StartApply(context.WithoutCancel(ctx), pr.ID, os.Getpid()); err != nil {
			return nil, err
		}
		rec.applyID = res.ApplyID
	}
	sum, runErr := ex.Run(ctx, jobs)
	res.Summary = sum
	if o.DryRun == nil {
		status := store.StatusSucceeded
		switch {
		case runErr != nil || ctx.Err() != nil:
			status = store.StatusAborted
		case sum != nil && !sum.OK():
			status = store.StatusFailed
		}
		if err := st.FinishApply(context.WithoutCancel(ctx), res.ApplyID, status); err != nil {
			return res, err
		}
	}
	return res, runErr
}

// planToApply returns the plan to apply: a stored one (refused when
// stale) or a fresh one.
func (p *Port) planToApply(ctx context.Context, o ApplyOptions) (*PlanResult, error) {
	if o.PlanID == 0 {
		return p.Plan(ctx, o.Plan)
	}
	pr, err := p.LoadPlan(ctx, o.PlanID)
	if err != nil {
		return nil, err
	}
	if err := p.checkFresh(ctx, pr.Plan, o.Plan.Refresh); err != nil {
		return nil, err
	}
	return pr, nil
}

// checkFresh refuses a stored plan when anything it was made from
// changed since (see madefrom.go), naming what.
func (p *Port) checkFresh(ctx context.Context, plan *planner.Plan, refresh bool) error {
	if len(plan.Meta.MadeFrom) == 0 {
		return errors.New("plan is stale: it was made by an older portmake that did not record its inputs; run portmake plan")
	}
	if plan.Meta.PortfileHash != p.pf.Hash {
		return errors.New("plan is stale: the Portfile changed since it was made; run portmake plan")
	}
	var upstreamTesting, targetTesting bool
	for _, l := range plan.Meta.MadeFrom {
		upstreamTesting = upstreamTesting || strings.HasPrefix(l, "db upstream-testing:")
		targetTesting = targetTesting || strings.HasPrefix(l, "db target-testing:")
	}
	snap, err := p.fetch(ctx, refresh, upstreamTesting, targetTesting)
	if err != nil {
		return err
	}
	st, err := p.Store()
	if err != nil {
		return err
	}
	newSources, files, err := p.newSources(ctx, p.resolver(st))
	if err != nil {
		return err
	}
	lines, _, err := p.madeFrom(ctx, snap, newSources, files)
	if err != nil {
		return err
	}
	if what := p.staleness(plan.Meta.MadeFrom, lines); what != "" {
		return fmt.Errorf("plan is stale: %s; run portmake plan", what)
	}
	return nil
}

// selectNodes applies Target (the named pkgbases and what they need) and
// Exclude (globs; dependents of an excluded node go too).
func selectNodes(p *planner.Plan, targets, excludes []string) ([]*planner.Node, error) {
	keep := map[string]bool{}
	if len(targets) > 0 {
		var visit func(n *planner.Node)
		visit = func(n *planner.Node) {
			if keep[n.ID] {
				return
			}
			keep[n.ID] = true
			for _, d := range n.Deps {
				visit(p.Node(d.ID))
			}
		}
		for _, t := range targets {
			ns := p.NodesOf(t)
			if len(ns) == 0 {
				return nil, fmt.Errorf("--target %s: not in the plan; try portmake why %s", t, t)
			}
			for _, n := range ns {
				visit(n)
			}
		}
	}
	excluded := map[string]bool{}
	var out []*planner.Node
	for _, n := range p.Nodes { // build order: deps come first
		if len(targets) > 0 && !keep[n.ID] {
			continue
		}
		drop := false
		for _, pat := range excludes {
			if ok, _ := path.Match(pat, n.Pkgbase); ok {
				drop = true
			}
		}
		for _, d := range n.Deps {
			drop = drop || excluded[d.ID]
		}
		if drop {
			excluded[n.ID] = true
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// executor wires the Portfile's builder and publisher, and a recorder
// over the store, into an executor for nodes.
func (p *Port) executor(o ApplyOptions, st *store.Store, plan *planner.Plan, nodes []*planner.Node) (*executor.Executor, *recorder, error) {
	pf := p.pf
	ex := &executor.Executor{Log: p.log}
	ex.Options = executor.Options{
		Jobs: pf.Build.Jobs, StopOnFailure: o.StopOnFailure, RetryFailed: o.RetryFailed,
		Retries: pf.Build.Retries, NoUpload: o.NoUpload, LogDir: pf.Build.Logs, KeepLogs: pf.Build.KeepLogs,
		DryRun: o.DryRun, Drain: o.Drain,
	}
	if o.Jobs > 0 {
		ex.Jobs = o.Jobs
	}
	switch pf.Build.Builder {
	case "makechrootpkg":
		ex.Builder = &executor.Chroot{Dir: pf.Build.Chroot, PacmanConf: pf.PacmanConf(), MakepkgConf: pf.MakepkgConf(),
			CacheDir: pf.Build.Cache, PkgDest: filepath.Join(p.stateDir, "pkg"), MakepkgArgs: pf.Build.MakepkgArgs,
			PreserveChroot: o.PreserveChroot, CleanupOnFailure: o.CleanupOnFailure}
	case "makepkg":
		ex.Builder = &executor.Makepkg{WorkDir: filepath.Join(p.stateDir, "build"), PkgDest: filepath.Join(p.stateDir, "pkg"),
			SrcDest: filepath.Join(p.stateDir, "srcdest"), MakepkgConf: pf.MakepkgConf(), MakepkgArgs: pf.Build.MakepkgArgs,
			PreserveBuildDir: o.PreserveChroot, CleanupOnFailure: o.CleanupOnFailure, Log: ex.Log}
	default:
		return nil, nil, fmt.Errorf("build.builder %q is not supported", pf.Build.Builder)
	}
	if !o.NoUpload {
		switch {
		case pf.Publish == nil:
			return nil, nil, errors.New("apply: the Portfile has no publish block; add one or pass --no-upload")
		case pf.Publish.Type != "dir":
			return nil, nil, fmt.Errorf("apply: publish %q is not supported yet; use publish \"dir\" or --no-upload", pf.Publish.Type)
		}
		ex.Publisher = &executor.DirPublisher{Root: pf.Publish.Path, Arch: pf.Arch(), DB: executor.FuncDB{
			Name: "portmake repo add --remove-old",
			Fn: func(db string, files []string) error {
				return syncdb.Add(db, files, syncdb.AddOptions{RemoveOld: true})
			}}}
	}
	rec := &recorder{st: st, replace: map[string]bool{}, nodes: map[string]*planner.Node{}, failureLimit: max(o.FailureLimit, 1)}
	for _, n := range nodes {
		rec.nodes[n.Hash] = n
	}
	for _, r := range o.Replace {
		if len(plan.NodesOf(r)) == 0 {
			return nil, nil, fmt.Errorf("--replace %s: not in the plan", r)
		}
		for _, n := range plan.NodesOf(r) {
			rec.replace[n.Hash] = true
		}
	}
	ex.Recorder = rec
	ex.Sources = &sourceFetcher{pf: pf, nodes: rec.nodes}
	return ex, rec, nil
}

// needsIgnoreArch reports whether makepkg needs --ignorearch to build
// packages with these arch=() lists for target: makepkg checks the arch of
// every pkgname of a split package, so one that lacks target is enough.
// Ports build x86_64 PKGBUILDs for other architectures all the time.
func needsIgnoreArch(arches [][]string, target string) bool {
	for _, a := range arches {
		if executor.NeedsIgnoreArch(a, target) {
			return true
		}
	}
	return false
}

// jobs turns plan nodes into executor jobs.
func (p *Port) jobs(nodes []*planner.Node) []*executor.Job {
	byID := map[string]*planner.Node{}
	for _, n := range nodes {
		byID[n.ID] = n
	}
	jobs := make([]*executor.Job, 0, len(nodes))
	for _, n := range nodes {
		j := &executor.Job{
			ID: n.Hash, Pkgbase: n.Pkgbase, Version: n.Version, Stage: n.Stage,
			Priority: n.Priority, Group: n.Group, Nocheck: n.Nocheck, Publish: n.Publish, Arch: p.pf.Arch(),
			// The makepkg builder cannot install dependencies (it runs
			// unprivileged, without a chroot): it builds with --nodeps.
			NoDeps: p.pf.Build.Builder == "makepkg",
			// The source fetcher fills this directory before the build.
			SourceDir: p.sourceDir(n),
		}
		if n.Source != nil && n.Source.Recipe != nil {
			var arches [][]string
			for _, sp := range n.Source.Recipe.Packages {
				arches = append(arches, sp.Arch)
			}
			j.IgnoreArch = needsIgnoreArch(arches, j.Arch)
		}
		for _, d := range n.Deps {
			if dn := byID[d.ID]; dn != nil {
				j.Deps = append(j.Deps, dn.Hash)
			}
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// sourceDir is where a node's PKGBUILD tree is prepared: one directory
// per hash, so stages and rebuilds never share a tree.
func (p *Port) sourceDir(n *planner.Node) string {
	return filepath.Join(p.stateDir, "src", n.Pkgbase+"-"+n.Hash[:12])
}
