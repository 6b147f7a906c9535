package farm

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/internal/slurmtest"
)

// perf reports whether the full-size measurements run: PORTMAKE_PERF=1.
// Without it the same code runs on a few jobs, as a test.
func perf() bool { return os.Getenv("PORTMAKE_PERF") != "" }

// TestSlurmSubmitToStart measures the overhead of running a build as a
// Slurm job on the loopback cluster: from the sbatch call to the moment
// the worker starts, one trivial job at a time (so no job waits for
// another), median over 50 jobs with PORTMAKE_PERF=1:
//
//	PORTMAKE_PERF=1 go test ./farm -run TestSlurmSubmitToStart -v
func TestSlurmSubmitToStart(t *testing.T) {
	n := 5
	if perf() {
		n = 50
	}
	// PORTMAKE_SLURM_DEFAULT_SCHEDULING=1 measures with Slurm's default
	// batch_sched_delay instead of the test cluster's 0.
	f := newFarm(t, slurmtest.Options{DefaultScheduling: os.Getenv("PORTMAKE_SLURM_DEFAULT_SCHEDULING") != ""})
	ctx := context.Background()
	var starts, ends []time.Duration
	for i := range n {
		j := f.job(t, fmt.Sprintf("trivial%02d", i), "")
		t0 := time.Now()
		out, err := f.b.BuildAttempt(ctx, j, io.Discard, nil, executor.Attempt{Number: 1, Place: func(p executor.Placement) error {
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := ReadResult(filepathDir(out.Files[0], 3))
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, res.Started.Sub(t0))
		ends = append(ends, time.Since(t0))
	}
	slices.Sort(starts)
	slices.Sort(ends)
	med := starts[len(starts)/2]
	t.Logf("%d jobs: submission to worker start: median %v, min %v, max %v; submission to result seen: median %v",
		n, med.Round(time.Millisecond), starts[0].Round(time.Millisecond), starts[len(starts)-1].Round(time.Millisecond),
		ends[len(ends)/2].Round(time.Millisecond))
	if med > 30*time.Second {
		t.Errorf("median overhead %v: the cluster does not start jobs", med)
	}
}

// filepathDir is the n-th parent of path.
func filepathDir(path string, n int) string {
	for range n {
		path = dirOf(path)
	}
	return path
}

func dirOf(p string) string {
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return "/"
}

// syntheticSleeps is a random DAG of n builds that sleep 1 to 5 seconds
// (fixed seed), each needing up to two of the 20 builds before it, and the
// durations by job ID.
func syntheticSleeps(t *testing.T, f *farm, n int, scale float64) ([]*executor.Job, map[string]time.Duration) {
	rng := rand.New(rand.NewPCG(2024, 15))
	var jobs []*executor.Job
	dur := map[string]time.Duration{}
	for i := range n {
		d := time.Duration((1 + 4*rng.Float64()) * scale * float64(time.Second)).Round(10 * time.Millisecond)
		var deps []*executor.Job
		for k := rng.IntN(3); k > 0 && i > 0; k-- {
			c := jobs[max(0, i-20)+rng.IntN(min(i, 20))]
			if !slices.Contains(deps, c) {
				deps = append(deps, c)
			}
		}
		j := f.job(t, fmt.Sprintf("s%03d", i), fmt.Sprintf("sleep %v\n", d), deps...)
		dur[j.ID] = d
		jobs = append(jobs, j)
	}
	// The planner's priority: the longest chain of work below a node.
	below := map[string]time.Duration{}
	for i := len(jobs) - 1; i >= 0; i-- {
		j := jobs[i]
		below[j.ID] += dur[j.ID]
		j.Priority = int(below[j.ID] / time.Millisecond)
		for _, d := range j.Deps {
			below[d] = max(below[d], below[j.ID])
		}
	}
	return jobs, dur
}

// TestSlurmMakespan runs a synthetic plan through the executor and Slurm
// with 2 slots and compares its makespan with the lower bound
// max(critical path, total work / 2). 200 builds with PORTMAKE_PERF=1:
//
//	PORTMAKE_PERF=1 go test ./farm -run TestSlurmMakespan -v -timeout 30m
func TestSlurmMakespan(t *testing.T) {
	n, scale := 12, 0.3
	if perf() {
		n, scale = 200, 1
	}
	f := newFarm(t, slurmtest.Options{CPUs: 2})
	f.b.Poll = time.Second
	jobs, dur := syntheticSleeps(t, f, n, scale)
	finish := map[string]time.Duration{}
	var critical, total time.Duration
	for _, j := range jobs {
		var start time.Duration
		for _, d := range j.Deps {
			start = max(start, finish[d])
		}
		finish[j.ID] = start + dur[j.ID]
		critical = max(critical, finish[j.ID])
		total += dur[j.ID]
	}
	bound := max(critical, total/2)
	s, err := f.executor(executor.Options{Jobs: 2}).Run(context.Background(), jobs)
	if err != nil || !s.OK() {
		t.Fatalf("%v %v", outcomes(s), err)
	}
	t.Logf("%d builds, 2 slots: makespan %v; lower bound %v (critical path %v, work/2 %v): ×%.2f; busy/(2×wall) %.2f",
		n, s.Wall.Round(time.Millisecond), bound, critical, total/2, float64(s.Wall)/float64(bound), float64(s.Busy)/float64(2*s.Wall))
	if s.Wall < bound {
		t.Errorf("makespan %v under the lower bound %v: the builds did not sleep", s.Wall, bound)
	}
}
