package engine

import (
	"context"
	"fmt"
	"io"

	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/store"
)

// The store's records, under the engine's name, for front ends.
type (
	// Build is one recorded build attempt.
	Build = store.Build
	// ApplyRecord is one recorded apply.
	ApplyRecord = store.Apply
	// PlanSummary is one line of the stored plans.
	PlanSummary = store.PlanSummary
)

// Explanation is one build's hash inputs beside those of the last
// successful build of its pkgbase.
type Explanation struct {
	Node     *planner.Node
	Previous []planner.HashInput // nil when the pkgbase was never built
}

// Explain returns the hash inputs of the builds of pkg (a pkgbase, or a
// build id such as gcc#2) in a stored plan (planID <= 0: the latest), each
// with those of the last successful build of its pkgbase.
func (p *Port) Explain(ctx context.Context, planID int64, pkg string) ([]Explanation, error) {
	pr, err := p.LoadPlan(ctx, planID)
	if err != nil {
		return nil, err
	}
	if err := pr.WithHashInputs(); err != nil {
		return nil, err
	}
	nodes := pr.Plan.NodesOf(pkg)
	if n := pr.Plan.Node(pkg); n != nil {
		nodes = []*planner.Node{n}
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("explain: %s is not in the plan; try portmake why %s", pkg, pkg)
	}
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	out := make([]Explanation, 0, len(nodes))
	for _, n := range nodes {
		e := Explanation{Node: n}
		last, err := st.LastSuccessOf(ctx, n.Pkgbase)
		if err != nil {
			return nil, err
		}
		if last != nil {
			kvs, err := st.HashInputs(ctx, last.Hash)
			if err != nil {
				return nil, err
			}
			for _, kv := range kvs {
				e.Previous = append(e.Previous, planner.HashInput{Key: kv.Key, Value: kv.Value})
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// Status is the current or last apply with its builds; Apply is nil when
// there was none.
type Status struct {
	Apply  *ApplyRecord
	Builds []Build
}

// Status returns the current or last apply.
func (p *Port) Status(ctx context.Context) (*Status, error) {
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	a, err := st.LastApply(ctx)
	if err != nil || a == nil {
		return &Status{}, err
	}
	builds, err := st.Builds(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return &Status{Apply: a, Builds: builds}, nil
}

// History returns past builds, newest first, of one pkgbase or of all
// (pkgbase ""); limit <= 0 returns all.
func (p *Port) History(ctx context.Context, pkgbase string, limit int) ([]Build, error) {
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	return st.History(ctx, pkgbase, limit)
}

// LatestLog returns the path of the newest build log of pkgbase.
func (p *Port) LatestLog(pkgbase string) (string, error) {
	path, err := executor.LatestLog(p.pf.Build.Logs, pkgbase)
	if err != nil {
		return "", err
	}
	if path == "" {
		return "", fmt.Errorf("logs: no build log of %s in %s", pkgbase, p.pf.Build.Logs)
	}
	return path, nil
}

// FollowLog copies the log at path to w as it grows, until the build
// writes its footer or ctx ends.
func FollowLog(ctx context.Context, path string, w io.Writer) error {
	return executor.FollowLog(ctx, path, w)
}
