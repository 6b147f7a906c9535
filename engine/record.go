package engine

import (
	"context"
	"errors"
	"time"

	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/store"
)

// recorder writes every state change of a build to the store before and
// after it happens, so a kill -9 leaves a state the next run understands.
type recorder struct {
	st      *store.Store
	applyID int64
	idx     *jobIndex
	replace map[string]bool // by node ID
	// failureLimit failures of a hash keep it from being built again.
	failureLimit int
}

func (r *recorder) Started(ctx context.Context, j *executor.Job, attempt int, logPath string) (int64, error) {
	ctx = context.WithoutCancel(ctx)
	// Variants record their own inputs: explain shows "dep liba target".
	if info := r.idx.get(j.ID); info != nil {
		kvs := make([]store.KV, len(info.inputs))
		for i, h := range info.inputs {
			kvs[i] = store.KV{Key: h.Key, Value: h.Value}
		}
		if err := r.st.RecordHashInputs(ctx, j.ID, kvs); err != nil {
			return 0, err
		}
	}
	return r.st.StartBuild(ctx, &store.Build{ApplyID: r.applyID, Pkgbase: j.Pkgbase, Version: j.Version,
		Hash: j.ID, Stage: j.Stage, Attempt: attempt, StartedAt: time.Now(), LogPath: logPath, Against: j.Against})
}

// replaced reports whether --replace names the node behind a job ID.
func (r *recorder) replaced(id string) bool {
	n := r.idx.node(id)
	return n != nil && r.replace[n.ID]
}

func (r *recorder) Finished(ctx context.Context, id int64, res *executor.Result) error {
	status := store.StatusSucceeded
	switch res.Outcome {
	case executor.Failed:
		status = store.StatusFailed
		if errors.Is(res.Err, executor.ErrInfrastructure) {
			// The cluster failed it, not the build: no failure memory.
			status = store.StatusInfraFailed
		}
	case executor.Aborted:
		status = store.StatusAborted
	case executor.Skipped:
		status = store.StatusSkipped
	}
	br := store.BuildResult{Duration: res.Duration, PeakRSS: res.MaxRSS, ExitCode: res.ExitCode, Files: res.Files}
	if res.Err != nil {
		br.Error = res.Err.Error()
	}
	if err := r.st.FinishBuild(context.WithoutCancel(ctx), id, status, br); err != nil {
		return err
	}
	return r.recordOutputs(ctx, id, res)
}

func (r *recorder) Published(ctx context.Context, id int64, files []string) error {
	return r.st.MarkPublished(context.WithoutCancel(ctx), id)
}

func (r *recorder) Succeeded(ctx context.Context, hash string) ([]string, bool, error) {
	if r.replaced(hash) {
		return nil, false, nil
	}
	b, err := r.st.LastSuccess(ctx, hash)
	if err != nil || b == nil {
		return nil, false, err
	}
	return b.Files, true, nil
}

func (r *recorder) FailedBefore(ctx context.Context, hash string) (bool, error) {
	if r.replaced(hash) {
		return false, nil
	}
	n, err := r.st.FailureCount(ctx, hash)
	return n >= r.failureLimit, err
}

// Placed records where a build attempt runs (a cluster job).
func (r *recorder) Placed(ctx context.Context, id int64, p executor.Placement) error {
	return r.st.Place(context.WithoutCancel(ctx), id, store.Placement{Backend: p.Backend, JobID: p.JobID, Node: p.Node, JobDir: p.Dir})
}

// Orphans returns the jobs that killed applies left running.
func (r *recorder) Orphans(ctx context.Context) ([]executor.Orphan, error) {
	builds, err := r.st.OpenJobs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]executor.Orphan, len(builds))
	for i, b := range builds {
		out[i] = executor.Orphan{BuildID: b.ID, JobID: b.Hash,
			Placement: executor.Placement{Backend: b.Backend, JobID: b.JobID, Node: b.Node, Dir: b.JobDir}}
	}
	return out, nil
}

// Released records that a job needs no more watching.
func (r *recorder) Released(ctx context.Context, id int64) error {
	return r.st.ReleaseJob(context.WithoutCancel(ctx), id)
}
