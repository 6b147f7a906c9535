package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeBuilder builds instantly (or after a delay) and records what it saw.
type fakeBuilder struct {
	delay     func(j *Job) time.Duration
	fail      map[string]bool // pkgbase: fail with a permanent error
	transient map[string]int  // pkgbase: fail transiently this many times
	block     bool            // wait for the ctx to end
	started   chan *Job       // when set, receives every started job

	mu        sync.Mutex
	order     []string // IDs in start order
	deps      map[string][]string
	spans     map[string][2]time.Time
	calls     map[string]int
	running   int
	peak      int
	groupBusy map[string]int
	overlap   []string
}

func (f *fakeBuilder) Kind() string { return "fake" }

func (f *fakeBuilder) Commands(j *Job, deps []string) ([]Command, error) {
	args := []string{"fakebuild", j.Pkgbase}
	for _, d := range deps {
		args = append(args, "-I", d)
	}
	return []Command{{Dir: j.SourceDir, Args: args}}, nil
}

func (f *fakeBuilder) PackageList(_ context.Context, j *Job) ([]string, error) {
	return []string{"/out/" + j.Pkgbase + "-" + j.Version + "-x86_64.pkg.tar.zst"}, nil
}

func (f *fakeBuilder) Build(ctx context.Context, j *Job, log io.Writer, deps []string) (Output, error) {
	start := time.Now()
	f.mu.Lock()
	if f.deps == nil {
		f.deps, f.spans, f.calls, f.groupBusy = map[string][]string{}, map[string][2]time.Time{}, map[string]int{}, map[string]int{}
	}
	f.order = append(f.order, j.ID)
	f.deps[j.ID] = deps
	f.calls[j.ID]++
	n := f.calls[j.ID]
	f.running++
	f.peak = max(f.peak, f.running)
	if j.Group != "" {
		if f.groupBusy[j.Group]++; f.groupBusy[j.Group] > 1 {
			f.overlap = append(f.overlap, j.ID)
		}
	}
	f.mu.Unlock()
	if f.started != nil {
		f.started <- j
	}
	fmt.Fprintf(log, "building %s\n", j.Pkgbase)
	var err error
	if f.block {
		<-ctx.Done()
		err = ctx.Err()
	} else if f.delay != nil {
		select {
		case <-time.After(f.delay(j)):
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	f.mu.Lock()
	f.running--
	if j.Group != "" {
		f.groupBusy[j.Group]--
	}
	f.spans[j.ID] = [2]time.Time{start, time.Now()}
	f.mu.Unlock()
	switch {
	case err != nil:
		return Output{ExitCode: -1}, err
	case f.fail[j.Pkgbase]:
		return Output{ExitCode: 2}, errors.New("make: *** [all] Error 2")
	case n <= f.transient[j.Pkgbase]:
		return Output{ExitCode: 1}, fmt.Errorf("download failed (%w)", ErrTransient)
	}
	files, _ := f.PackageList(ctx, j)
	return Output{Files: files, MaxRSS: 4096}, nil
}

// memRecorder is the store, in memory.
type memRecorder struct {
	mu        sync.Mutex
	next      int64
	builds    map[int64]*memBuild
	succeeded map[string][]string
	failed    map[string]bool
}

type memBuild struct {
	job       *Job
	attempt   int
	log       string
	result    *Result
	published []string
}

func newMemRecorder() *memRecorder {
	return &memRecorder{builds: map[int64]*memBuild{}, succeeded: map[string][]string{}, failed: map[string]bool{}}
}

func (m *memRecorder) Started(_ context.Context, j *Job, attempt int, log string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	m.builds[m.next] = &memBuild{job: j, attempt: attempt, log: log}
	return m.next, nil
}

func (m *memRecorder) Finished(_ context.Context, id int64, r *Result) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.builds[id]
	cp := *r
	b.result = &cp
	m.failed[b.job.ID] = r.Outcome == Failed
	if r.Outcome == Built && b.job.Publish == "" {
		m.succeeded[b.job.ID] = r.Files
	}
	return nil
}

func (m *memRecorder) Published(_ context.Context, id int64, files []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.builds[id]
	b.published = files
	m.succeeded[b.job.ID] = files
	return nil
}

func (m *memRecorder) Succeeded(_ context.Context, id string) ([]string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.succeeded[id]
	return f, ok, nil
}

func (m *memRecorder) FailedBefore(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failed[id], nil
}

func (m *memRecorder) outcomes(id string) []Outcome {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Outcome
	for i := int64(1); i <= m.next; i++ {
		if b := m.builds[i]; b.job.ID == id && b.result != nil {
			out = append(out, b.result.Outcome)
		}
	}
	return out
}

// job makes a test job whose ID is its pkgbase.
func job(pkgbase string, deps ...string) *Job {
	return &Job{ID: pkgbase, Pkgbase: pkgbase, Version: "1.0-1", Deps: deps, Arch: "x86_64"}
}

func run(t *testing.T, e *Executor, jobs []*Job) *Summary {
	t.Helper()
	if e.Recorder == nil {
		e.Recorder = newMemRecorder()
	}
	s, err := e.Run(context.Background(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func outcomeOf(s *Summary) map[string]string {
	m := map[string]string{}
	for id, r := range s.Results {
		m[id] = r.Outcome.String()
		if r.Reason != "" && r.Outcome != UpToDate {
			m[id] += ": " + r.Reason
		}
	}
	return m
}

func wantOutcomes(t *testing.T, s *Summary, want map[string]string) {
	t.Helper()
	got := outcomeOf(s)
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: got %q, want %q", id, got[id], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d results, want %d: %v", len(got), len(want), got)
	}
}

func TestDependencyOrder(t *testing.T) {
	//   a   b
	//   |\ /
	//   c d
	//    \|
	//     e
	jobs := []*Job{job("e", "c", "d"), job("d", "a", "b"), job("c", "a"), job("b"), job("a")}
	f := &fakeBuilder{delay: func(*Job) time.Duration { return time.Millisecond }}
	s := run(t, &Executor{Builder: f, Options: Options{Jobs: 4}}, jobs)
	for _, j := range jobs {
		if r := s.Results[j.ID]; r.Outcome != Built {
			t.Fatalf("%s: %v %v", j.ID, r.Outcome, r.Err)
		}
		for _, d := range j.Deps {
			if !f.spans[d][1].Before(f.spans[j.ID][0]) && !f.spans[d][1].Equal(f.spans[j.ID][0]) {
				t.Errorf("%s started before its dependency %s ended", j.ID, d)
			}
		}
	}
	want := []string{"/out/a-1.0-1-x86_64.pkg.tar.zst", "/out/b-1.0-1-x86_64.pkg.tar.zst"}
	if got := f.deps["d"]; !slices.Equal(got, want) {
		t.Errorf("d got -I %v, want %v", got, want)
	}
	if got := f.deps["e"]; len(got) != 2 {
		t.Errorf("e got -I %v, want the files of c and d only", got)
	}
}

func TestPriorityOrder(t *testing.T) {
	var jobs []*Job
	for i, p := range []int{1, 5, 3, 5, 0, 9} {
		j := job(fmt.Sprintf("p%d", i))
		j.Priority = p
		jobs = append(jobs, j)
	}
	f := &fakeBuilder{}
	run(t, &Executor{Builder: f, Options: Options{Jobs: 1}}, jobs)
	want := []string{"p5", "p1", "p3", "p2", "p0", "p4"} // 9, 5 (ID order), 5, 3, 1, 0
	if !slices.Equal(f.order, want) {
		t.Errorf("start order %v, want %v", f.order, want)
	}
}

func TestGroupsNeverOverlap(t *testing.T) {
	var jobs []*Job
	for i := range 6 {
		j := job(fmt.Sprintf("heavy%d", i))
		j.Group = "heavy"
		j.Priority = 10 // ready first: the group must hold them back
		jobs = append(jobs, j)
	}
	for i := range 6 {
		jobs = append(jobs, job(fmt.Sprintf("light%d", i)))
	}
	f := &fakeBuilder{delay: func(*Job) time.Duration { return 5 * time.Millisecond }}
	s := run(t, &Executor{Builder: f, Options: Options{Jobs: 4}}, jobs)
	if !s.OK() {
		t.Fatal(outcomeOf(s))
	}
	if len(f.overlap) > 0 {
		t.Errorf("group builds overlapped: %v", f.overlap)
	}
	var spans [][2]time.Time
	for i := range 6 {
		spans = append(spans, f.spans[fmt.Sprintf("heavy%d", i)])
	}
	slices.SortFunc(spans, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
	for i := 1; i < len(spans); i++ {
		if spans[i][0].Before(spans[i-1][1]) {
			t.Errorf("heavy builds %d and %d overlap", i-1, i)
		}
	}
	if f.peak < 2 {
		t.Errorf("peak concurrency %d: a busy group must not block the other jobs", f.peak)
	}
}

func TestFailureSkipsDependentsAndKeepsGoing(t *testing.T) {
	jobs := []*Job{job("a"), job("b", "a"), job("c", "b"), job("d"), job("e", "d", "c")}
	f := &fakeBuilder{fail: map[string]bool{"a": true}}
	rec := newMemRecorder()
	s := run(t, &Executor{Builder: f, Recorder: rec, Options: Options{Jobs: 2}}, jobs)
	wantOutcomes(t, s, map[string]string{
		"a": "failed",
		"b": "skipped: dependency a failed",
		"c": "skipped: dependency a failed",
		"d": "built",
		"e": "skipped: dependency a failed",
	})
	if s.OK() {
		t.Error("Summary.OK with a failure")
	}
	if got := s.Results["a"].ExitCode; got != 2 {
		t.Errorf("exit code %d, want 2", got)
	}
	if !rec.failed["a"] {
		t.Error("the failure was not recorded")
	}
}

func TestStopOnFailure(t *testing.T) {
	jobs := []*Job{job("a"), job("b"), job("c"), job("d", "b")}
	jobs[0].Priority = 9
	f := &fakeBuilder{fail: map[string]bool{"a": true}}
	s := run(t, &Executor{Builder: f, Options: Options{Jobs: 1, StopOnFailure: true}}, jobs)
	wantOutcomes(t, s, map[string]string{
		"a": "failed",
		"b": "skipped: stopped after a failed (--stop-on-failure)",
		"c": "skipped: stopped after a failed (--stop-on-failure)",
		"d": "skipped: stopped after a failed (--stop-on-failure)",
	})
	if len(f.order) != 1 {
		t.Errorf("started %v after the failure", f.order)
	}
}

func TestFailureMemory(t *testing.T) {
	jobs := []*Job{job("a"), job("b", "a")}
	rec := newMemRecorder()
	rec.failed["a"] = true
	f := &fakeBuilder{}
	s := run(t, &Executor{Builder: f, Recorder: rec}, jobs)
	wantOutcomes(t, s, map[string]string{
		"a": "failed-before: failed before with the same inputs (--retry-failed to try again)",
		"b": "skipped: dependency a failed",
	})
	if len(f.order) != 0 {
		t.Errorf("built %v", f.order)
	}

	s = run(t, &Executor{Builder: f, Recorder: rec, Options: Options{RetryFailed: true}}, jobs)
	wantOutcomes(t, s, map[string]string{"a": "built", "b": "built"})

	// Failure memory is per hash, not per pkgbase: with a's old hash
	// remembered as failed, a new hash of a (its inputs changed) is built
	// without the flag, and the old hash stays remembered.
	rec = newMemRecorder()
	rec.failed["a"] = true
	changed := []*Job{{ID: "a2", Pkgbase: "a", Version: "1.0-2"}}
	s = run(t, &Executor{Builder: &fakeBuilder{}, Recorder: rec}, changed)
	wantOutcomes(t, s, map[string]string{"a2": "built"})
	s = run(t, &Executor{Builder: &fakeBuilder{}, Recorder: rec}, []*Job{job("a")})
	wantOutcomes(t, s, map[string]string{"a": "failed-before: failed before with the same inputs (--retry-failed to try again)"})
}

func TestTransientRetries(t *testing.T) {
	for _, tc := range []struct {
		retries   int
		transient int
		want      Outcome
		attempts  int
	}{
		{retries: 0, transient: 1, want: Failed, attempts: 1},
		{retries: 2, transient: 2, want: Built, attempts: 3},
		{retries: 1, transient: 2, want: Failed, attempts: 2},
	} {
		t.Run(fmt.Sprintf("retries=%d,transient=%d", tc.retries, tc.transient), func(t *testing.T) {
			f := &fakeBuilder{transient: map[string]int{"a": tc.transient}}
			rec := newMemRecorder()
			s := run(t, &Executor{Builder: f, Recorder: rec, Options: Options{Retries: tc.retries, LogDir: t.TempDir()}}, []*Job{job("a")})
			r := s.Results["a"]
			if r.Outcome != tc.want || r.Attempt != tc.attempts || f.calls["a"] != tc.attempts {
				t.Errorf("got %v after %d attempts (%d builds), want %v after %d", r.Outcome, r.Attempt, f.calls["a"], tc.want, tc.attempts)
			}
			if got := len(rec.outcomes("a")); got != tc.attempts {
				t.Errorf("%d attempts recorded, want %d", got, tc.attempts)
			}
		})
	}
	// A permanent failure is never retried.
	f := &fakeBuilder{fail: map[string]bool{"a": true}}
	s := run(t, &Executor{Builder: f, Options: Options{Retries: 5}}, []*Job{job("a")})
	if f.calls["a"] != 1 || s.Results["a"].Outcome != Failed {
		t.Errorf("permanent failure built %d times", f.calls["a"])
	}
}

func TestCancelAbortsRunningBuilds(t *testing.T) {
	before := runtime.NumGoroutine()
	jobs := []*Job{job("a"), job("b"), job("c", "a"), job("d")}
	f := &fakeBuilder{block: true, started: make(chan *Job, 4)}
	rec := newMemRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	e := &Executor{Builder: f, Recorder: rec, Options: Options{Jobs: 2, LogDir: t.TempDir()}}
	type ret struct {
		s   *Summary
		err error
	}
	done := make(chan ret)
	go func() {
		s, err := e.Run(ctx, jobs)
		done <- ret{s, err}
	}()
	<-f.started
	<-f.started
	cancel()
	r := <-done
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", r.err)
	}
	wantOutcomes(t, r.s, map[string]string{
		"a": "aborted",
		"b": "aborted",
		"c": "skipped: dependency a was aborted",
		"d": "skipped: apply interrupted",
	})
	for _, id := range []string{"a", "b"} {
		if got := rec.outcomes(id); !slices.Equal(got, []Outcome{Aborted}) {
			t.Errorf("%s recorded as %v, want [aborted]", id, got)
		}
		data, err := os.ReadFile(r.s.Results[id].LogPath)
		if err != nil || !bytes.Contains(data, []byte("result: aborted")) {
			t.Errorf("%s log footer: %v\n%s", id, err, data)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d before, %d after", before, n)
	}
}

func TestUpToDateJobsAreSkipped(t *testing.T) {
	rec := newMemRecorder()
	rec.succeeded["a"] = []string{"/repo/a-1.0-1-x86_64.pkg.tar.zst"}
	f := &fakeBuilder{}
	s := run(t, &Executor{Builder: f, Recorder: rec}, []*Job{job("a"), job("b", "a")})
	wantOutcomes(t, s, map[string]string{"a": "up-to-date", "b": "built"})
	if !slices.Equal(f.order, []string{"b"}) {
		t.Errorf("built %v, want only b", f.order)
	}
	if got := f.deps["b"]; !slices.Equal(got, rec.succeeded["a"]) {
		t.Errorf("b got -I %v, want the recorded files of a", got)
	}
	// And a second run builds nothing.
	s = run(t, &Executor{Builder: f, Recorder: rec}, []*Job{job("a"), job("b", "a")})
	wantOutcomes(t, s, map[string]string{"a": "up-to-date", "b": "up-to-date"})
}

func TestFillsEverySlot(t *testing.T) {
	// Three independent jobs and three slots: each build waits until all
	// three run at once, which only happens if the scheduler fills every
	// slot.
	const n = 3
	var wg sync.WaitGroup
	wg.Add(n)
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()
	f := &fakeBuilder{delay: func(j *Job) time.Duration {
		if j.ID == "d" {
			return 0
		}
		wg.Done()
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
		return 0
	}}
	start := time.Now()
	s := run(t, &Executor{Builder: f, Options: Options{Jobs: n}}, []*Job{job("a"), job("b"), job("c"), job("d", "a")})
	if !s.OK() || time.Since(start) > 4*time.Second {
		t.Errorf("the three ready jobs did not run together (peak %d)", f.peak)
	}
}

type fakePublisher struct {
	mu    sync.Mutex
	calls []string
}

func (p *fakePublisher) Publish(_ context.Context, repo string, files []string, _ map[string]string) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, f := range files {
		p.calls = append(p.calls, repo+" "+filepath.Base(f))
		out = append(out, "/srv/"+repo+"/"+filepath.Base(f))
	}
	return out, nil
}

func (p *fakePublisher) Commands(repo string, files []string) []Command {
	return []Command{{Args: append([]string{"publish", repo}, files...)}}
}

func TestPublish(t *testing.T) {
	rec := newMemRecorder()
	pub := &fakePublisher{}
	a := job("a")
	a.Publish = "core-testing"
	s := run(t, &Executor{Builder: &fakeBuilder{}, Recorder: rec, Publisher: pub}, []*Job{a, job("b", "a")})
	wantOutcomes(t, s, map[string]string{"a": "built", "b": "built"})
	if want := []string{"core-testing a-1.0-1-x86_64.pkg.tar.zst"}; !slices.Equal(pub.calls, want) {
		t.Errorf("published %v, want %v", pub.calls, want)
	}
	if got := rec.builds[1].published; len(got) != 1 || got[0] != "/srv/core-testing/a-1.0-1-x86_64.pkg.tar.zst" {
		t.Errorf("recorded publication %v", got)
	}

	pub = &fakePublisher{}
	a2 := *a
	a2.ID = "a2"
	s = run(t, &Executor{Builder: &fakeBuilder{}, Publisher: pub, Options: Options{NoUpload: true}}, []*Job{&a2})
	if len(pub.calls) != 0 || s.Results["a2"].Outcome != Built {
		t.Errorf("--no-upload published %v", pub.calls)
	}
}

func TestDryRun(t *testing.T) {
	rec := newMemRecorder()
	rec.succeeded["zlib"] = []string{"/repo/zlib-1.3-1-x86_64.pkg.tar.zst"}
	a := job("a", "zlib")
	a.Publish = "core"
	a.SourceDir = "/src/a"
	b := job("b", "a")
	b.SourceDir = "/src/b dir"
	var out bytes.Buffer
	f := &fakeBuilder{}
	s := run(t, &Executor{Builder: f, Recorder: rec, Publisher: &fakePublisher{}, Options: Options{Jobs: 8, DryRun: &out, LogDir: t.TempDir()}},
		[]*Job{b, a, job("zlib")})
	want := `# build a 1.0-1 [a]
cd /src/a && fakebuild a -I /repo/zlib-1.3-1-x86_64.pkg.tar.zst
# publish a to core
publish core /out/a-1.0-1-x86_64.pkg.tar.zst
# build b 1.0-1 [b]
cd '/src/b dir' && fakebuild b -I /out/a-1.0-1-x86_64.pkg.tar.zst
`
	if out.String() != want {
		t.Errorf("dry run printed\n%s\nwant\n%s", out.String(), want)
	}
	if len(f.order) != 0 || rec.next != 0 {
		t.Errorf("dry run built %v, recorded %d builds", f.order, rec.next)
	}
	if !s.DryRun || s.Count(Built) != 2 || s.Count(UpToDate) != 1 {
		t.Errorf("summary %v", outcomeOf(s))
	}
}

func TestMalformedJobs(t *testing.T) {
	for name, tc := range map[string]struct {
		jobs []*Job
		want string
	}{
		"empty ID":  {[]*Job{{Pkgbase: "a"}}, "job 0 (a): empty ID"},
		"duplicate": {[]*Job{job("a"), job("a")}, "job a (a): duplicate ID"},
		"unknown":   {[]*Job{job("a", "zzz")}, "job a (a): dependency zzz is not in the plan"},
		"cycle":     {[]*Job{job("a", "b"), job("b", "a"), job("c")}, "jobs form a dependency cycle (cycles must be split into stages by the plan): [a b]"},
	} {
		f := &fakeBuilder{}
		s, err := (&Executor{Builder: f, Recorder: newMemRecorder()}).Run(context.Background(), tc.jobs)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
		if s != nil || len(f.order) != 0 {
			t.Errorf("%s: a malformed run started builds %v", name, f.order)
		}
	}
}

// synthetic returns n jobs shaped like a port: a random DAG over
// pkgbases, with every tenth pair of pkgbases a 2-cycle split into
// stages (two stage-1 nodes, then two stage-2 nodes needing both).
func synthetic(n int, seed uint64) []*Job {
	rng := rand.New(rand.NewPCG(seed, 1))
	var jobs []*Job
	add := func(pkgbase string, stage int, deps []string) *Job {
		j := &Job{ID: fmt.Sprintf("%s.%d", pkgbase, stage), Pkgbase: pkgbase, Version: "1-1", Stage: stage, Deps: deps, Arch: "x86_64"}
		jobs = append(jobs, j)
		return j
	}
	for i := 0; len(jobs) < n; i++ {
		var deps []string
		for k := rng.IntN(4); k > 0 && len(jobs) > 0; k-- {
			d := jobs[rng.IntN(len(jobs))].ID
			if !slices.Contains(deps, d) {
				deps = append(deps, d)
			}
		}
		if i%10 == 9 && n-len(jobs) >= 4 {
			a, b := fmt.Sprintf("cyc%da", i), fmt.Sprintf("cyc%db", i)
			a1, b1 := add(a, 1, deps), add(b, 1, deps)
			add(a, 2, []string{a1.ID, b1.ID})
			add(b, 2, []string{a1.ID, b1.ID})
			continue
		}
		add(fmt.Sprintf("pkg%d", i), 0, deps)
	}
	setPriorities(jobs)
	return jobs
}

// setPriorities gives jobs (in topological order) the planner's
// critical-path priority: the longest chain of dependents below a job.
func setPriorities(jobs []*Job) {
	depth := map[string]int{}
	for i := len(jobs) - 1; i >= 0; i-- {
		j := jobs[i]
		j.Priority = depth[j.ID] + 1
		for _, d := range j.Deps {
			depth[d] = max(depth[d], j.Priority)
		}
	}
}

func BenchmarkSchedule2000(b *testing.B) {
	jobs := synthetic(2000, 1)
	b.ReportAllocs()
	for b.Loop() {
		e := &Executor{Builder: &fakeBuilder{}, Recorder: newMemRecorder(), Options: Options{Jobs: 8}}
		s, err := e.Run(context.Background(), jobs)
		if err != nil || !s.OK() {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2000/1000, "µs/job")
}

// BenchmarkSchedule2000Logs adds what a real run writes per job besides
// the store: a build log with header and footer, and its rotation.
func BenchmarkSchedule2000Logs(b *testing.B) {
	jobs := synthetic(2000, 1)
	dir := b.TempDir()
	for b.Loop() {
		e := &Executor{Builder: &fakeBuilder{}, Recorder: newMemRecorder(), Options: Options{Jobs: 8, LogDir: dir, KeepLogs: 3}}
		s, err := e.Run(context.Background(), jobs)
		if err != nil || !s.OK() {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2000/1000, "µs/job")
}

// utilisation runs a synthetic graph whose jobs sleep 1-20 ms and returns
// busy/(jobs×wall) and wall over the lower bound max(critical path,
// total work/jobs).
func utilisation(tb testing.TB, slots int) (util, ratio float64, wall, bound time.Duration) {
	jobs := synthetic(300, 7)
	cost := map[string]time.Duration{}
	rng := rand.New(rand.NewPCG(3, 3))
	var total time.Duration
	for _, j := range jobs {
		cost[j.ID] = time.Duration(1+rng.IntN(20)) * time.Millisecond
		total += cost[j.ID]
	}
	// Critical path: jobs come in topological order.
	finish := map[string]time.Duration{}
	var critical time.Duration
	for _, j := range jobs {
		var start time.Duration
		for _, d := range j.Deps {
			start = max(start, finish[d])
		}
		finish[j.ID] = start + cost[j.ID]
		critical = max(critical, finish[j.ID])
	}
	bound = max(critical, total/time.Duration(slots))
	f := &fakeBuilder{delay: func(j *Job) time.Duration { return cost[j.ID] }}
	e := &Executor{Builder: f, Recorder: newMemRecorder(), Options: Options{Jobs: slots}}
	s, err := e.Run(context.Background(), jobs)
	if err != nil || !s.OK() {
		tb.Fatal(err)
	}
	util = float64(s.Busy) / float64(time.Duration(slots)*s.Wall)
	return util, float64(s.Wall) / float64(bound), s.Wall, bound
}

func TestUtilisation(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	util, ratio, wall, bound := utilisation(t, 8)
	t.Logf("8 jobs: busy/(jobs×wall) = %.3f, wall %v vs lower bound %v (×%.3f)", util, wall, bound, ratio)
	// Sleeps overshoot by a timer tick or so each; a scheduler that left
	// slots idle while work was ready would be far beyond this.
	if ratio > 1.5 {
		t.Errorf("wall %v is %.2f× the lower bound %v", wall, ratio, bound)
	}
}

func BenchmarkUtilisation(b *testing.B) {
	var util, ratio float64
	for b.Loop() {
		util, ratio, _, _ = utilisation(b, 8)
	}
	b.ReportMetric(util, "busy/(jobs×wall)")
	b.ReportMetric(ratio, "wall/bound")
}
