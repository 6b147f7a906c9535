package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/planner/view"
	"github.com/portmake/portmake/store"
)

// PlanOptions are the planning options shared by plan and apply.
type PlanOptions struct {
	// Refresh downloads the repository databases again; false plans from
	// the cached copies only.
	Refresh         bool
	UpstreamTesting bool     // overlay the upstream testing repositories
	TargetTesting   bool     // overlay the target testing repositories
	Packages        []string // force these pkgnames or pkgbases into the plan
	RebuildRepo     []string // rebuild every pkgbase of these repositories
	PreserveOrder   bool     // build the Packages in the given order
	SingleStage     bool     // build each dependency cycle once
	Bootstrap       bool     // plan the build.bootstrap toolchain as its own sub-plan
	Missing         bool     // list upstream pkgbases the target lacks
	NoCheck         bool     // ignore checkdepends, build everything with --nocheck
	Exclude         []string // blacklist these globs for this run
	// UseLatestAll takes every official pkgbase from its packaging
	// repository's default-branch head instead of its version tag;
	// UseLatest does so for the named pkgbases only.
	UseLatestAll bool
	UseLatest    []string
	// AllowDowngrade lets a missing dependency (and RebuildRepo) plan an
	// upstream version older than the target's.
	AllowDowngrade bool
	// RebuildDependents rebuilds what needs these pkgnames or pkgbases
	// (depends and makedepends), to DependentsDepth levels (0: all).
	RebuildDependents []string
	DependentsDepth   int
}

// latest reports whether pkgbase is taken from its branch head.
func (o PlanOptions) latest(pkgbase string) bool {
	return o.UseLatestAll || slices.Contains(o.UseLatest, pkgbase)
}

// Flags renders the options as the plan flags that give them, in a fixed
// order ("--rebuild-repo=extra --nocheck"): what `portmake plans` shows a
// plan was made with. Refresh is left out: it says where the databases
// came from, and their checksums are recorded.
func (o PlanOptions) Flags() []string {
	var f []string
	list := func(name string, v []string) {
		if len(v) > 0 {
			f = append(f, "--"+name+"="+strings.Join(v, ","))
		}
	}
	flag := func(name string, v bool) {
		if v {
			f = append(f, "--"+name)
		}
	}
	flag("upstream-testing", o.UpstreamTesting)
	flag("target-testing", o.TargetTesting)
	list("packages", o.Packages)
	list("rebuild-repo", o.RebuildRepo)
	flag("preserve-order", o.PreserveOrder)
	flag("single-stage", o.SingleStage)
	flag("bootstrap", o.Bootstrap)
	flag("missing", o.Missing)
	flag("nocheck", o.NoCheck)
	list("exclude", o.Exclude)
	flag("use-latest", o.UseLatestAll)
	list("use-latest", o.UseLatest)
	flag("allow-downgrade", o.AllowDowngrade)
	list("rebuild-dependents", o.RebuildDependents)
	if o.DependentsDepth > 0 {
		f = append(f, fmt.Sprintf("--dependents-depth=%d", o.DependentsDepth))
	}
	return f
}

// PlanResult is a plan with its id in the store.
type PlanResult struct {
	Plan *planner.Plan
	ID   int64
	// Reused is true when nothing the plan is made from changed since the
	// stored plan ID was made, so it was returned instead of recomputed.
	Reused bool
	// Preview is set when sources could not be resolved for want of a
	// network (a *sources.UnresolvedError): Plan then returns the plan,
	// unsaved (ID 0), with an error, for a caller to show as a preview.
	Preview error
}

// Plan returns the plan for the current inputs, and its stored id. Like a
// build system it first computes a key over every input the plan depends
// on (the Portfile hash, the options, each database's checksum, the AUR
// and local sources' identities and the state repository's head); when
// the latest stored plan was made from the same key, that plan is
// returned as it is (Reused) instead of being recomputed. Otherwise it
// plans and saves the result.
func (p *Port) Plan(ctx context.Context, o PlanOptions) (*PlanResult, error) {
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	snap, err := p.fetch(ctx, o.Refresh, o.UpstreamTesting, o.TargetTesting)
	if err != nil {
		return nil, err
	}
	res := p.resolver(st)
	newSources, files, err := p.newSources(ctx, res)
	if err != nil {
		return nil, err
	}
	lines, pinned, err := p.madeFrom(ctx, snap, newSources, files)
	if err != nil {
		return nil, err
	}
	// madeFrom asked the state remote for its HEAD: a clone already there
	// need not be fetched again.
	for _, l := range lines {
		if head, ok := strings.CutPrefix(l, "state - "); ok && head != "unknown" {
			res.StateHead = head
		}
	}
	// A branch head moves without any recorded input changing.
	pinned = pinned && !o.UseLatestAll && len(o.UseLatest) == 0
	key := memoKey(o, lines)
	memoPath := filepath.Join(p.stateDir, "plan.memo")
	if pinned {
		if data, err := os.ReadFile(memoPath); err == nil {
			k, idText, _ := strings.Cut(strings.TrimSpace(string(data)), " ")
			if stored, err := strconv.ParseInt(idText, 10, 64); err == nil && k == key {
				if r, err := p.LoadPlan(ctx, stored); err == nil {
					p.log.Debug("inputs unchanged: reusing plan", "id", r.ID, "took", time.Since(start).Round(time.Millisecond))
					r.Reused = true
					return r, nil
				}
			}
		}
	}
	plan, preview, err := p.buildPlan(ctx, o, snap, res, newSources, lines)
	if err != nil {
		return nil, err
	}
	if preview != nil {
		// Shown, never saved: a plan with sources missing for want of a
		// network must not be applied, nor reused as if it were whole.
		return &PlanResult{Plan: plan, Preview: preview}, fmt.Errorf("plan not saved: %w", preview)
	}
	saveStart := time.Now()
	id, err := savePlan(ctx, st, plan, view.SummaryLine(plan))
	if err != nil {
		return nil, fmt.Errorf("save plan: %w", err)
	}
	p.log.Debug("save plan", "id", id, "took", time.Since(saveStart).Round(time.Millisecond))
	if pinned {
		// The memo only ever names a plan that is already saved; losing it
		// costs a recomputation, nothing more.
		if err := os.WriteFile(memoPath, fmt.Appendf(nil, "%s %d\n", key, id), 0o644); err != nil {
			p.log.Warn("could not write the plan memo; the next plan recomputes", "err", err)
		}
	}
	return &PlanResult{Plan: plan, ID: id}, nil
}

// savePlan stores plan and returns its id.
func savePlan(ctx context.Context, st *store.Store, plan *planner.Plan, summary string) (int64, error) {
	sp := &store.Plan{
		PortfileHash: plan.Meta.PortfileHash,
		CommandLine:  strings.Join(plan.Meta.CommandLine, " "),
		Arch:         plan.Arch,
		Summary:      summary,
		EncodeDoc:    func() ([]byte, error) { return planner.Encode(plan) },
	}
	for _, d := range plan.Meta.DBs {
		sp.Inputs = append(sp.Inputs, store.Input{Kind: "db:" + d.Side, Name: d.Repo, URL: d.URL, SHA256: d.SHA256})
	}
	for _, n := range plan.Nodes {
		sp.Nodes = append(sp.Nodes, store.Node{Pkgbase: n.Pkgbase, Version: n.Version, Current: n.Current, Repo: n.Repo,
			Reason: n.Reason.Kind.String(), ReasonDetail: n.Reason.Detail, Stage: n.Stage, Cycle: n.Cycle,
			Hash: n.Hash, Priority: n.Priority})
		for _, d := range n.Deps {
			kinds := make([]string, len(d.Kinds))
			for i, k := range d.Kinds {
				kinds[i] = k.String()
			}
			sort.Strings(kinds)
			sp.Edges = append(sp.Edges, store.Edge{From: n.ID, To: d.ID, Kind: strings.Join(kinds, ",")})
		}
	}
	return st.SavePlan(ctx, sp)
}

// LoadPlan returns a stored plan (id <= 0: the latest).
func (p *Port) LoadPlan(ctx context.Context, id int64) (*PlanResult, error) {
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	sp, err := st.PlanDoc(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			if id <= 0 {
				return nil, errors.New("no stored plan: run portmake plan first")
			}
			return nil, fmt.Errorf("no plan with id %d (see portmake plans)", id)
		}
		return nil, err
	}
	plan, err := planner.Decode(sp.Doc)
	if err != nil {
		return nil, fmt.Errorf("plan %d: %w", sp.ID, err)
	}
	return &PlanResult{Plan: plan, ID: sp.ID}, nil
}

// WithHashInputs recomputes the hash inputs of a stored plan's nodes
// (stored plans keep them only implicitly), checking each against its
// node's hash. JSON views and explain need them.
func (r *PlanResult) WithHashInputs() error {
	if err := r.Plan.RestoreHashInputs(); err != nil {
		return fmt.Errorf("plan %d: %w", r.ID, err)
	}
	return nil
}

// Plans lists the stored plans, newest first (limit <= 0: all).
func (p *Port) Plans(ctx context.Context, limit int) ([]PlanSummary, error) {
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	return st.Plans(ctx, limit)
}
