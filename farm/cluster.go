package farm

import (
	"context"
	"errors"

	"github.com/portmake/portmake/executor"
)

// Cluster is a cluster scheduler that runs the worker as a batch job. It
// is everything a backend must provide; Slurm is one, and Kubernetes would
// be another file (see README: a Job per attempt, the work directory a
// shared volume). The Builder does the rest (staging, the protocol,
// retries, re-attachment), the same for every cluster.
type Cluster interface {
	// Kind names the backend, e.g. "slurm"; it is recorded with each
	// placement.
	Kind() string
	// Check asks the cluster whether it would accept spec, without running
	// anything. A refusal wraps ErrRefused.
	Check(ctx context.Context, spec JobSpec) error
	// Submit submits spec and returns the job's id. A refusal (the spec
	// can never run) wraps ErrRefused; any other error may be retried.
	Submit(ctx context.Context, spec JobSpec) (string, error)
	// Command is the submission as a command line, for logs and dry runs.
	Command(spec JobSpec) executor.Command
	// States returns the state of the given jobs. A job the cluster no
	// longer knows (it ended long ago, or never existed) is absent.
	States(ctx context.Context, ids []string) (map[string]JobState, error)
	// Cancel cancels jobs; cancelling one that has ended is not an error.
	Cancel(ctx context.Context, ids ...string) error
	// Find returns the id of this user's portmake job that runs in the
	// attempt directory dir, among the jobs the cluster still knows, or ""
	// when there is none: for an apply killed after submitting, before it
	// recorded the id that Submit returned.
	Find(ctx context.Context, dir string) (string, error)
}

// ErrRefused marks a job that the cluster will never run as specified: a
// constraint no node satisfies, an unknown partition or account, more
// memory than any node has.
var ErrRefused = errors.New("refused by the cluster")

// JobSpec is one worker job.
type JobSpec struct {
	Name   string   // portmake:<pkgbase>:<hash prefix>
	Dir    string   // the attempt directory: working directory, batch script, output
	Argv   []string // the worker command
	Env    []string // KEY=VALUE pairs the worker needs besides PATH and the locale
	Memory int64    // bytes to reserve; 0 leaves it to the cluster's default
	CPUs   int      // cores to reserve; 0 means 1
	Arch   string   // the port's architecture: the default constraint
	// Exclude names nodes the job must not run on: where an earlier
	// attempt of the same build was lost to a node failure.
	Exclude []string
}

// Phase is where a job is in its life.
type Phase uint8

const (
	Queued  Phase = iota // waiting for a node
	Running              // running (or being cleaned up after it ran)
	Ended                // finished, failed, cancelled, or killed
)

var phaseText = [...]string{"queued", "running", "ended"}

func (p Phase) String() string { return phaseText[p] }

// JobState is what the cluster says about a job.
type JobState struct {
	Phase  Phase
	State  string // the cluster's own word: PENDING, RUNNING, NODE_FAIL, ...
	Node   string // where it runs or ran; "" while queued
	Reason string // why it waits, or how it ended, when the cluster says
}
