package executor

// Remote builders run each build as a job of a cluster scheduler (Slurm;
// Kubernetes would be another) instead of on this host. The scheduler here
// keeps what it owns, dependency order, slots, failure memory and
// publishing, and a Remote decides nothing about which job comes next: it
// only runs the attempt it is handed somewhere else and reports the same
// Output a local Builder does.
//
// What differs from a local build, and what this file adds for it:
//
//   - Jobs outlive the apply. A kill -9 of portmake leaves them running, so
//     the Recorder keeps every attempt's Placement (job id, node, work
//     directory), and the next Run re-attaches to a job a dead apply left
//     behind (an Orphan) instead of submitting a duplicate. An orphan whose
//     node is not built in this run (up to date, a dependency failed, no
//     longer in the plan) is cancelled.
//   - The infrastructure fails too: a node goes down, the job is preempted
//     or hits its time limit. Such an attempt ends with an error wrapping
//     ErrInfrastructure; the scheduler retries it up to
//     Options.InfraRetries times, apart from the Retries of transient build
//     failures, and the Recorder does not remember it as a build failure.
//   - Placement can be refused before anything runs (a constraint no node
//     satisfies): Preflight checks every job before the first build.

import (
	"context"
	"errors"
	"io"
)

// ErrInfrastructure marks an attempt that ended without a verdict on the
// build: the machine or the cluster that ran it failed (a node went down,
// the job was preempted, killed at its time limit or lost, the worker could
// not start). It says nothing about the PKGBUILD, so the attempt is retried
// (Options.InfraRetries) and never counts for failure memory.
var ErrInfrastructure = errors.New("infrastructure failure")

// Placement says where an attempt runs.
type Placement struct {
	Backend string // "slurm"
	JobID   string // the cluster's job id
	Node    string // the node it runs on; "" until it starts
	Dir     string // the attempt's directory in the shared work directory
}

// Attempt identifies one build attempt to a Remote builder.
type Attempt struct {
	Number  int
	BuildID int64 // the Recorder's id of the attempt
	// Adopt, when set, is a job an earlier apply left running for this
	// job ID: wait for it (or take its result) rather than submit anew.
	Adopt *Placement
	// Place records where the attempt runs: once submitted, and again
	// when the node is known.
	Place func(Placement) error
}

// Remote is a Builder that runs builds as jobs of a cluster scheduler.
// The executor calls BuildAttempt instead of Build.
type Remote interface {
	Builder
	// Preflight checks that every job can be placed, before anything is
	// built: an error stops the run.
	Preflight(ctx context.Context, jobs []*Job) error
	// BuildAttempt runs one attempt of j on the cluster, copying the
	// build's log to log as it grows, and returns its Output. On a
	// cancelled ctx it cancels the job and waits for it to go.
	BuildAttempt(ctx context.Context, j *Job, log io.Writer, deps []string, a Attempt) (Output, error)
	// Cancel cancels an orphaned job that no attempt will wait for.
	Cancel(ctx context.Context, p Placement) error
}

// Orphan is a remote job whose apply died without seeing it end.
type Orphan struct {
	BuildID int64  // the Recorder's id of the attempt that started it
	JobID   string // the executor job ID (node hash) it builds
	Placement
}

// PlacementRecorder is a Recorder that keeps placements; a Remote builder
// needs one.
type PlacementRecorder interface {
	Recorder
	// Placed records where attempt buildID runs (called again when the
	// node becomes known). Recording a placement whose Backend and JobID
	// an earlier attempt recorded makes this attempt the job's watcher
	// (re-attachment).
	Placed(ctx context.Context, buildID int64, p Placement) error
	// Orphans returns the jobs of attempts whose apply is gone and that
	// nobody has re-attached to or cancelled, newest first.
	Orphans(ctx context.Context) ([]Orphan, error)
	// Released records that an orphan was cancelled, or re-attached to.
	Released(ctx context.Context, buildID int64) error
}
