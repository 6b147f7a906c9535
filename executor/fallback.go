package executor

// Building the dependents of a failure.
//
// By default a job whose dependency did not succeed is skipped. With
// BuildDependentsOfFailed (the old build_packages.py --keep-going) it is
// built anyway, against what the target repository already has for that
// dependency: the chroot builder installs only the fresh dependencies it
// is given with -I, so for a failed one pacman takes the target's package
// from the repositories.
//
// Such a build is not the build the plan hashed: the plan's hash says "built
// against the fresh dependency". So the job runs as a variant, a copy with
// its own ID that Executor.Rehash computes from the builds actually used
// (the caller writes the failed dependency as "the target's" into the
// hash inputs). The store then knows the variant, not the planned build:
// once the dependency succeeds, the planned hash is missing from the store
// and the job is built again; while it keeps failing, the variant is up to
// date and is not rebuilt. A job whose dependency ran as a variant is a
// variant too, since its dependency's bytes are not the planned ones.
//
// What does not fall back:
//   - a dependency the job lists in Firm: stage 2 of a cycle whose stage 1
//     failed stays skipped, since stage 2 exists to build against stage 1;
//   - a dependency that was aborted, or skipped because the run stopped:
//     nothing new starts then anyway.

import (
	"fmt"
	"slices"
)

// fallback reports whether dependent d may be built although its
// dependency n did not succeed, and if so notes n as one the target stands
// in for.
func (c *coordinator) fallback(n, d *node) bool {
	if !c.e.BuildDependentsOfFailed || slices.Contains(d.job.Firm, n.job.ID) {
		return false
	}
	switch n.result.Outcome {
	case Failed, Remembered:
	case Skipped:
		if n.cause == "" {
			return false // skipped by a stop, not by a failure
		}
	default:
		return false
	}
	d.target = append(d.target, n)
	return true
}

// runAs decides the job a ready node runs as: its own, or a variant when
// a dependency fell back to the target or ran as a variant itself. A
// non-nil result means the node cannot run.
func (c *coordinator) runAs(n *node) *Result {
	n.run = n.job
	variant := len(n.target) > 0
	for _, id := range n.job.Deps {
		if dn := c.byID[id]; dn.run != nil && dn.run != dn.job {
			variant = true
		}
	}
	if !variant {
		return nil
	}
	if c.e.Rehash == nil {
		return &Result{Outcome: Failed, Err: fmt.Errorf("%s: building against the target's binaries needs Executor.Rehash", display(n.job))}
	}
	deps := make(map[string]string, len(n.job.Deps))
	for _, id := range n.job.Deps {
		if dn := c.byID[id]; dn.run != nil {
			deps[id] = dn.run.ID
		} else {
			deps[id] = id
		}
	}
	v := *n.job
	v.Against = slices.Clone(n.job.Against)
	for _, t := range n.target {
		deps[t.job.ID] = ""
		v.Against = append(v.Against, display(t.job))
	}
	slices.Sort(v.Against)
	v.Against = slices.Compact(v.Against)
	id, err := c.e.Rehash(n.job, deps)
	if err != nil {
		return &Result{Outcome: Failed, Err: fmt.Errorf("%s: hash the build against the target: %w", display(n.job), err)}
	}
	if id == "" || id == n.job.ID {
		return &Result{Outcome: Failed, Err: fmt.Errorf("%s: the build against the target got the planned ID %q", display(n.job), id)}
	}
	if _, clash := c.byID[id]; clash {
		return &Result{Outcome: Failed, Err: fmt.Errorf("%s: the build against the target got the ID %s of another job", display(n.job), id)}
	}
	v.ID, v.Of = id, n.job.ID
	n.run = &v
	c.log.Info("building against the target", "pkgbase", n.job.Pkgbase, "stage", n.job.Stage, "against", v.Against, "id", id)
	return nil
}
