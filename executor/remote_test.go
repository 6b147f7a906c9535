package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeRemote is a Remote builder whose attempts fail with
// ErrInfrastructure a set number of times.
type fakeRemote struct {
	fakeBuilder
	infra     map[string]int // pkgbase: infrastructure failures before it builds
	preflight error

	mu        sync.Mutex
	adopted   map[string]string // job ID: adopted cluster job
	cancelled []string          // cluster jobs
	placed    int
	failed    map[string]int // job ID: infrastructure failures so far
}

func (r *fakeRemote) Preflight(context.Context, []*Job) error { return r.preflight }

func (r *fakeRemote) BuildAttempt(ctx context.Context, j *Job, log io.Writer, deps []string, a Attempt) (Output, error) {
	r.mu.Lock()
	if r.adopted == nil {
		r.adopted = map[string]string{}
	}
	if a.Adopt != nil {
		r.adopted[j.ID] = a.Adopt.JobID
	}
	if r.failed == nil {
		r.failed = map[string]int{}
	}
	r.placed++
	n := r.placed
	fail := r.failed[j.ID] < r.infra[j.Pkgbase]
	if fail {
		r.failed[j.ID]++
	}
	r.mu.Unlock()
	if err := a.Place(Placement{Backend: "fake", JobID: fmt.Sprint(n)}); err != nil {
		return Output{}, err
	}
	if fail {
		return Output{ExitCode: -1}, fmt.Errorf("job %d ended NODE_FAIL (%w)", n, ErrInfrastructure)
	}
	return r.fakeBuilder.Build(ctx, j, log, deps)
}

func (r *fakeRemote) Cancel(_ context.Context, p Placement) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cancelled = append(r.cancelled, p.JobID)
	return nil
}

// placeRecorder adds placements to the in-memory store.
type placeRecorder struct {
	*memRecorder
	orphans  []Orphan
	placed   map[int64][]Placement
	released []int64
}

func (p *placeRecorder) Placed(_ context.Context, id int64, pl Placement) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.placed == nil {
		p.placed = map[int64][]Placement{}
	}
	p.placed[id] = append(p.placed[id], pl)
	return nil
}

func (p *placeRecorder) Orphans(context.Context) ([]Orphan, error) { return p.orphans, nil }

func (p *placeRecorder) Released(_ context.Context, id int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.released = append(p.released, id)
	return nil
}

func TestInfraRetriesApartFromTransient(t *testing.T) {
	for _, tc := range []struct {
		infraRetries, failures int
		want                   Outcome
		attempts               int
	}{
		{infraRetries: 2, failures: 2, want: Built, attempts: 3},
		{infraRetries: 1, failures: 2, want: Failed, attempts: 2},
		{infraRetries: 0, failures: 1, want: Failed, attempts: 1},
	} {
		t.Run(fmt.Sprintf("infra=%d,failures=%d", tc.infraRetries, tc.failures), func(t *testing.T) {
			b := &fakeRemote{infra: map[string]int{"a": tc.failures}}
			rec := &placeRecorder{memRecorder: newMemRecorder()}
			// Retries (of transient build failures) must not be used up
			// by the infrastructure's, nor stand in for them.
			s := run(t, &Executor{Builder: b, Recorder: rec, Options: Options{Retries: 5, InfraRetries: tc.infraRetries}}, []*Job{job("a")})
			r := s.Results["a"]
			if r.Outcome != tc.want || r.Attempt != tc.attempts {
				t.Errorf("%v after %d attempts, want %v after %d: %v", r.Outcome, r.Attempt, tc.want, tc.attempts, r.Err)
			}
			if len(rec.placed) != tc.attempts || len(rec.released) != tc.attempts {
				t.Errorf("placed %v, released %v: every attempt is placed and released", rec.placed, rec.released)
			}
		})
	}
}

func TestRemoteOrphans(t *testing.T) {
	mem := newMemRecorder()
	mem.succeeded["b"] = []string{"/repo/b-1.0-1-x86_64.pkg.tar.zst"} // b is up to date
	rec := &placeRecorder{memRecorder: mem, orphans: []Orphan{        // newest first
		{BuildID: 10, JobID: "a", Placement: Placement{Backend: "fake", JobID: "100"}},
		{BuildID: 9, JobID: "b", Placement: Placement{Backend: "fake", JobID: "90"}},
		{BuildID: 8, JobID: "elsewhere", Placement: Placement{Backend: "fake", JobID: "80"}},
		{BuildID: 7, JobID: "a", Placement: Placement{Backend: "fake", JobID: "70"}},
		{BuildID: 6, JobID: "d", Placement: Placement{Backend: "fake", JobID: "60"}},
	}}
	b := &fakeRemote{fakeBuilder: fakeBuilder{fail: map[string]bool{"c": true}}}
	s := run(t, &Executor{Builder: b, Recorder: rec, Options: Options{Jobs: 2}}, []*Job{job("a"), job("b"), job("c"), job("d", "c")})
	wantOutcomes(t, s, map[string]string{"a": "built", "b": "up-to-date", "c": "failed", "d": "skipped: dependency c failed"})
	if got := b.adopted["a"]; got != "100" || len(b.adopted) != 1 {
		t.Errorf("adopted %v: a's newest job must be adopted, and nothing else", b.adopted)
	}
	// b is up to date, d's dependency failed, a's older job is replaced:
	// their jobs are cancelled. The job of a node not in this run is left.
	slices.Sort(b.cancelled)
	if want := []string{"60", "70", "90"}; !slices.Equal(b.cancelled, want) {
		t.Errorf("cancelled %v, want %v", b.cancelled, want)
	}
	for _, id := range []int64{10, 9, 7, 6} {
		if !slices.Contains(rec.released, id) {
			t.Errorf("build %d's job was adopted or cancelled but not released: %v", id, rec.released)
		}
	}
	if slices.Contains(rec.released, 8) {
		t.Error("the job of a node not in this run was released")
	}
}

func TestRemotePreflight(t *testing.T) {
	b := &fakeRemote{preflight: errors.New("sbatch: Invalid feature specification")}
	rec := &placeRecorder{memRecorder: newMemRecorder()}
	_, err := (&Executor{Builder: b, Recorder: rec}).Run(context.Background(), []*Job{job("a")})
	if err == nil || !strings.Contains(err.Error(), "Invalid feature specification") {
		t.Errorf("Run: %v", err)
	}
	if rec.next != 0 || len(b.order) != 0 {
		t.Errorf("a refused preflight started %d builds", rec.next)
	}
	// A remote builder needs a recorder that keeps placements.
	_, err = (&Executor{Builder: &fakeRemote{}, Recorder: newMemRecorder()}).Run(context.Background(), []*Job{job("a")})
	if err == nil || !strings.Contains(err.Error(), "keeps placements") {
		t.Errorf("Run without a PlacementRecorder: %v", err)
	}
	// A dry run needs neither: it submits nothing.
	var out strings.Builder
	s, err := (&Executor{Builder: b, Recorder: newMemRecorder(), Options: Options{DryRun: &out}}).Run(context.Background(), []*Job{job("a")})
	if err != nil || s.Count(Built) != 1 {
		t.Errorf("dry run: %v %v", outcomeOf(s), err)
	}
}
