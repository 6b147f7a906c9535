package engine

// What one apply runs of its plan, and under which hashes.
//
// An apply runs the plan's selected nodes (--target, --exclude), and of
// the bootstrap sub-plan only part with --start-from or --only. A node
// left out that a running node needs is either published already under
// its planned hash (it then stands in as an up-to-date job: its files are
// installed with -I, as on any resume), or not: the running node is then
// built against the target's binaries for it.
//
// A build that does not use a dependency's planned build is not the build
// the plan hashed, so it runs under a variant hash (planner.Variant: the
// dependency's line says "target", or names the hash of the variant it ran
// as). That is decided here for left-out dependencies, before the run, and
// by the executor through rehash for a dependency that fails during the run
// (--build-dependents-of-failed). Either way the planned hash stays unbuilt,
// so the node is built again once its dependency is built as planned.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/store"
)

// runNode is a plan node as one apply runs it.
type runNode struct {
	node *planner.Node
	// recorded: left out of the run, but published under its planned
	// hash; it only stands in for the running nodes that need it.
	recorded bool
}

// Selection is what an apply runs of its plan, for the front end to show
// before asking for approval.
type Selection struct {
	// Jobs are the builds, in plan order. A job whose Against is set is
	// built against the target's binaries of those dependencies.
	Jobs []*Job
	// Left are the selected nodes --start-from or --only leave out, in
	// plan order; Recorded says which of them are published already (the
	// builds that need them install those).
	Left     []*planner.Node
	Recorded map[string]bool // by node ID
	// Why names the option that left them out, e.g. "--start-from gcc".
	Why string
	// DependentsOfFailed says that what needs a build that fails is built
	// anyway, against the target's binaries for it.
	DependentsOfFailed bool
}

// selectRun applies --start-from and --only to the selected nodes of
// plan.
func selectRun(ctx context.Context, st *store.Store, plan *planner.Plan, nodes []*planner.Node, startFrom, only string) ([]runNode, *Selection, error) {
	sel := &Selection{Recorded: map[string]bool{}}
	if startFrom == "" && only == "" {
		out := make([]runNode, len(nodes))
		for i, n := range nodes {
			out[i] = runNode{node: n}
		}
		return out, sel, nil
	}
	if startFrom != "" && only != "" {
		return nil, nil, fmt.Errorf("--start-from and --only contradict each other: --only %s builds that alone", only)
	}
	flag, name := "--start-from", startFrom
	if only != "" {
		flag, name = "--only", only
	}
	sel.Why = flag + " " + name
	var boot []*planner.Node
	for _, n := range nodes {
		if n.Bootstrap {
			boot = append(boot, n)
		}
	}
	if len(boot) == 0 {
		return nil, nil, fmt.Errorf("%s: the plan has no bootstrap builds; pass --bootstrap (and check build.bootstrap)", flag)
	}
	named, err := bootstrapNodes(boot, name)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %w", flag, err)
	}
	left := map[string]bool{}
	if startFrom != "" {
		for _, n := range boot {
			if n == named[0] {
				break
			}
			left[n.ID] = true
		}
	} else {
		for _, n := range nodes {
			if !slices.Contains(named, n) {
				left[n.ID] = true
			}
		}
	}
	// A left-out node that a running one needs stands in when it is
	// published under its planned hash.
	needed := map[string]bool{}
	for _, n := range nodes {
		if !left[n.ID] {
			for _, d := range n.Deps {
				needed[d.ID] = true
			}
		}
	}
	var out []runNode
	for _, n := range nodes {
		if !left[n.ID] {
			out = append(out, runNode{node: n})
			continue
		}
		sel.Left = append(sel.Left, n)
		if !needed[n.ID] {
			continue
		}
		b, err := st.LastSuccess(ctx, n.Hash)
		if err != nil {
			return nil, nil, err
		}
		if b != nil {
			sel.Recorded[n.ID] = true
			out = append(out, runNode{node: n, recorded: true})
		}
	}
	return out, sel, nil
}

// bootstrapNodes resolves a --start-from or --only argument: a bootstrap
// build id (gcc#b2) or a toolchain pkgbase (both its builds, stage 1
// first).
func bootstrapNodes(boot []*planner.Node, name string) ([]*planner.Node, error) {
	var out []*planner.Node
	for _, n := range boot {
		if n.ID == name || n.Pkgbase == name {
			out = append(out, n)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	var names []string
	for _, n := range boot {
		if !slices.Contains(names, n.Pkgbase) {
			names = append(names, n.Pkgbase)
		}
	}
	return nil, fmt.Errorf("%s: not in the bootstrap sub-plan, which builds %s (a pkgbase, or a build id such as %s)",
		name, strings.Join(names, ", "), boot[len(boot)-1].ID)
}

// jobIndex knows, for every job ID an apply may run (the plan's hashes,
// and the variants made before or during the run), its node and its hash
// inputs. The executor's coordinator adds variants while workers read, so
// it locks.
type jobIndex struct {
	plan *planner.Plan
	mu   sync.Mutex
	byID map[string]*jobInfo
}

type jobInfo struct {
	node   *planner.Node
	inputs []planner.HashInput
	used   map[string]string // dep node ID -> hash of the build used, or planner.TargetDep
	jobOf  map[string]string // dep node ID -> the ID of its job in this run
}

func (x *jobIndex) get(id string) *jobInfo {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.byID[id]
}

func (x *jobIndex) add(id string, info *jobInfo) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.byID[id] = info
}

// node returns the plan node behind a job ID, or nil.
func (x *jobIndex) node(id string) *planner.Node {
	if info := x.get(id); info != nil {
		return info.node
	}
	return nil
}

// rehash is the executor's Rehash: the ID of j built against the builds
// in deps (by job ID; "" for the target's binaries).
func (x *jobIndex) rehash(j *executor.Job, deps map[string]string) (string, error) {
	info := x.get(j.ID)
	if info == nil {
		return "", fmt.Errorf("job %s is not one of this apply's", j.ID)
	}
	used := make(map[string]string, len(info.used))
	for nodeID, h := range info.used {
		used[nodeID] = h
		if id, ok := deps[info.jobOf[nodeID]]; ok {
			used[nodeID] = id
			if id == "" {
				used[nodeID] = planner.TargetDep
			}
		}
	}
	inputs, hash := x.plan.Variant(info.node, used)
	x.add(hash, &jobInfo{node: info.node, inputs: inputs, used: used, jobOf: info.jobOf})
	return hash, nil
}

// depLabel names a dependency the way the executor names jobs.
func depLabel(n *planner.Node) string {
	if n.Stage > 0 {
		return fmt.Sprintf("%s (stage %d)", n.Pkgbase, n.Stage)
	}
	return n.Pkgbase
}

// firm reports whether n's dependency d is one the target's binaries can
// never stand in for during a run: within a cycle or the bootstrap, a
// stage-2 build exists to use the stage-1 builds.
func firm(n, dn *planner.Node, d planner.Dep) bool {
	if n.Stage != 2 {
		return false
	}
	return slices.Contains(d.Kinds, planner.KindStage) || (n.Bootstrap && dn.Bootstrap) || (n.Cycle != 0 && dn.Cycle == n.Cycle)
}

// jobs turns the run's nodes into executor jobs, computing the variant
// hash of each one that cannot use a dependency's planned build.
func (p *Port) jobs(plan *planner.Plan, run []runNode) ([]*executor.Job, *jobIndex) {
	idx := &jobIndex{plan: plan, byID: make(map[string]*jobInfo, len(run))}
	jobOf := make(map[string]string, len(run)) // node ID -> job ID
	jobs := make([]*executor.Job, 0, len(run))
	for _, rn := range run {
		n := rn.node
		j := &executor.Job{
			ID: n.Hash, Pkgbase: n.Pkgbase, Version: n.Version, Stage: n.Stage,
			Priority: n.Priority, Group: n.Group, Nocheck: n.Nocheck, Publish: n.Publish, Arch: p.pf.Arch(),
			// Integrity checks are on unless the Portfile opts this
			// package out; the keyring adds keys to its keys/pgp.
			NoInteg: n.Nointeg, Keyring: p.keyrings(),
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
		info := &jobInfo{node: n, inputs: n.HashInputs, used: map[string]string{}, jobOf: map[string]string{}}
		if !rn.recorded { // a recorded node only stands in: it needs nothing
			variant := false
			for _, d := range n.Deps {
				id, ok := jobOf[d.ID]
				if !ok {
					info.used[d.ID] = planner.TargetDep
					j.Against = append(j.Against, depLabel(plan.Node(d.ID)))
					variant = true
					continue
				}
				info.used[d.ID], info.jobOf[d.ID] = id, id
				variant = variant || id != plan.Node(d.ID).Hash
				j.Deps = append(j.Deps, id)
				if firm(n, plan.Node(d.ID), d) {
					j.Firm = append(j.Firm, id)
				}
			}
			if variant {
				info.inputs, j.ID = plan.Variant(n, info.used)
				slices.Sort(j.Against)
			}
		}
		jobOf[n.ID] = j.ID
		idx.byID[j.ID] = info
		jobs = append(jobs, j)
	}
	return jobs, idx
}
