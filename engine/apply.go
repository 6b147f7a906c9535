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

	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/lang"
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

	// Jobs is how many builds run at once: 0 takes build.jobs, a negative
	// number means no limit (slurm backend only: the cluster queues).
	Jobs          int
	JobsAuto      bool     // -j auto: follow the machine's load (local backend)
	Replace       []string // rebuild these pkgbases even when built and published with the same hash
	Target        []string // build only these pkgbases and what they need
	Exclude       []string // leave these globs out, and what depends on them
	StopOnFailure bool     // start no build after the first failure
	RetryFailed   bool     // retry builds that failed before with the same hash
	NoUpload      bool     // build without publishing
	// ForceUnconditional publishes to an S3 store that does not honour
	// conditional writes (safe only with a single publisher).
	ForceUnconditional bool
	// DryRun, when set, receives the commands each build would run
	// instead of running them; nothing is recorded.
	DryRun           io.Writer
	PreserveChroot   bool // keep every build's working copy
	CleanupOnFailure bool // remove the working copy of failed builds too

	// BuildDependentsOfFailed builds what needs a failed build anyway,
	// against the target's binaries for it (see runset.go); nil takes
	// build.build_dependents_of_failed.
	BuildDependentsOfFailed *bool
	// NoCache starts every build with an empty cache: the chroot builder
	// binds a fresh package cache per build instead of build.cache; the
	// makepkg builder (which installs nothing, so has no package cache)
	// downloads sources into each build's own directory instead of the
	// shared source cache. Hashes do not change: a build must not depend
	// on a cache.
	NoCache bool
	// StartFrom builds the bootstrap sub-plan from this toolchain pkgbase
	// (or build id, e.g. gcc#b2) on; Only builds just that. See runset.go.
	StartFrom string
	Only      string
	// Selected, when set, receives what the apply will run, before
	// Approve is asked.
	Selected func(*Selection)
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
	if o.DryRun == nil {
		// Before planning: a missing tool would otherwise fail every
		// build, late.
		if err := p.preflight(); err != nil {
			return nil, err
		}
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
	run, sel, err := selectRun(ctx, st, plan, nodes, o.StartFrom, o.Only)
	if err != nil {
		return nil, err
	}
	res := &ApplyResult{PlanID: pr.ID}
	if len(run) == 0 && (len(plan.AnySync) == 0 || o.NoUpload) {
		return res, nil
	}
	jobs, idx := p.jobs(plan, run)
	sel.Jobs = jobs
	sel.DependentsOfFailed = p.pf.Build.BuildDependentsOfFailed
	if o.BuildDependentsOfFailed != nil {
		sel.DependentsOfFailed = *o.BuildDependentsOfFailed
	}
	if o.Selected != nil {
		o.Selected(sel)
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

	ex, rec, err := p.executor(ctx, o, st, plan, sel, idx)
	if err != nil {
		return nil, err
	}
	ex.Progress = prog
	if ex.Synced, err = p.syncAnyFor(ctx, o, ex, plan); err != nil {
		return nil, err
	}
	if err := p.footprints(ctx, jobs); err != nil {
		return nil, err
	}
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
// over the store, into an executor for the selection's jobs.
func (p *Port) executor(ctx context.Context, o ApplyOptions, st *store.Store, plan *planner.Plan, sel *Selection, idx *jobIndex) (*executor.Executor, *recorder, error) {
	pf := p.pf
	ex := &executor.Executor{Log: p.log, Rehash: idx.rehash}
	ex.Options = executor.Options{
		StopOnFailure: o.StopOnFailure, RetryFailed: o.RetryFailed,
		Retries: pf.Build.Retries, NoUpload: o.NoUpload, LogDir: pf.Build.Logs, KeepLogs: pf.Build.KeepLogs,
		DryRun: o.DryRun, BuildDependentsOfFailed: sel.DependentsOfFailed, Drain: o.Drain,
	}
	if err := p.parallelism(o, &ex.Options); err != nil {
		return nil, nil, err
	}
	sb, err := p.sandbox(ctx, o.DryRun == nil)
	if err != nil {
		return nil, nil, err
	}
	work, pkgDest := filepath.Join(p.stateDir, "build"), filepath.Join(p.stateDir, "pkg")
	cache := &executor.SourceCache{Dir: filepath.Join(p.stateDir, "cache", "sources")}
	switch {
	case pf.Build.Backend == lang.BackendSlurm:
		ex.Builder = p.slurmBuilder(o)
	case pf.Build.Builder == "makechrootpkg":
		c := &executor.Chroot{Dir: pf.Build.Chroot, PacmanConf: pf.PacmanConf(), MakepkgConf: pf.MakepkgConf(),
			CacheDir: pf.Build.Cache, PkgDest: pkgDest, MakepkgArgs: pf.Build.MakepkgArgs,
			Sandbox: sb, WorkDir: work, Cache: cache,
			PreserveChroot: o.PreserveChroot, CleanupOnFailure: o.CleanupOnFailure}
		if o.NoCache {
			c.FreshCache = filepath.Join(p.stateDir, "nocache")
			c.Cache = nil
		}
		ex.Builder = c
	case pf.Build.Builder == "makepkg":
		m := &executor.Makepkg{Sandbox: sb, WorkDir: work, PkgDest: pkgDest, Cache: cache,
			MakepkgConf: pf.MakepkgConf(), MakepkgArgs: pf.Build.MakepkgArgs,
			PreserveBuildDir: o.PreserveChroot, CleanupOnFailure: o.CleanupOnFailure, Log: ex.Log}
		if o.NoCache {
			m.Cache = nil // every source downloaded again, into the build's own SRCDEST
		}
		ex.Builder = m
	default:
		return nil, nil, fmt.Errorf("build.builder %q is not supported", pf.Build.Builder)
	}
	if !o.NoUpload {
		pub, err := p.publishing(ctx, o, st, sel.Jobs)
		if err != nil {
			return nil, nil, fmt.Errorf("apply: %w", err)
		}
		ex.Publisher = pub
	}
	rec := &recorder{st: st, replace: map[string]bool{}, idx: idx, failureLimit: max(o.FailureLimit, 1)}
	for _, r := range o.Replace {
		if len(plan.NodesOf(r)) == 0 {
			return nil, nil, fmt.Errorf("--replace %s: not in the plan", r)
		}
		for _, n := range plan.NodesOf(r) {
			if sel.Recorded[n.ID] {
				return nil, nil, fmt.Errorf("--replace %s: %s is not built in this run (%s)", r, n.ID, sel.Why)
			}
			rec.replace[n.ID] = true
		}
	}
	ex.Recorder = rec
	ex.Sources = &sourceFetcher{pf: pf, idx: idx}
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

// sourceDir is where a node's PKGBUILD tree is prepared: one directory
// per hash, so stages and rebuilds never share a tree.
func (p *Port) sourceDir(n *planner.Node) string {
	return filepath.Join(p.stateDir, "src", n.Pkgbase+"-"+n.Hash[:12])
}
