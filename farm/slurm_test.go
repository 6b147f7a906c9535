package farm

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/internal/slurmtest"
)

// farm is a test cluster, a Builder that submits the test binary as the
// worker, and an in-memory store.
type farm struct {
	c    *slurmtest.Cluster
	b    *Builder
	rec  *memRecorder
	root string // sources, pid files
	work string // the shared work directory
}

func newFarm(t *testing.T, opts slurmtest.Options) *farm {
	t.Helper()
	c := slurmtest.New(t, opts)
	self, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	f := &farm{c: c, rec: &memRecorder{apply: 1}, root: root, work: filepath.Join(root, "work")}
	f.b = &Builder{
		Cluster: &Slurm{Env: c.Env()},
		WorkDir: f.work,
		Spec:    BuilderSpec{Kind: "script"},
		Worker:  []string{self},
		Env:     []string{"PORTMAKE_FARM_TEST_WORKER=1"},
		Memory:  64 << 20,
		Poll:    200 * time.Millisecond,
	}
	return f
}

func (f *farm) executor(opts executor.Options) *executor.Executor {
	return &executor.Executor{Builder: f.b, Recorder: f.rec, Options: opts}
}

func (f *farm) job(t *testing.T, id, script string, deps ...*executor.Job) *executor.Job {
	var ids []string
	for _, d := range deps {
		ids = append(ids, d.ID)
	}
	return scriptJob(t, f.root, id, script, ids...)
}

func (f *farm) pidFile(name string) string { return filepath.Join(f.root, name+".pid") }

func outcomes(s *executor.Summary) map[string]string {
	m := map[string]string{}
	for _, j := range s.Jobs {
		r := s.Results[j.ID]
		m[j.Pkgbase] = r.Outcome.String()
		if r.Reason != "" {
			m[j.Pkgbase] += ": " + r.Reason
		}
	}
	return m
}

// activeJobs lists the cluster's jobs that have not ended, after giving
// jobs whose worker has exited a few seconds to leave the queue (they are
// COMPLETING for a moment).
func (f *farm) activeJobs(t *testing.T) map[string]string {
	t.Helper()
	var jobs map[string]string
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if jobs, err = f.c.Jobs(); err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 0 || time.Now().After(deadline) {
			return jobs
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestSlurmBuildsInDependencyOrder(t *testing.T) {
	f := newFarm(t, slurmtest.Options{})
	a := f.job(t, "liba", "sleep 300ms\n")
	b := f.job(t, "libb", "", a)
	c := f.job(t, "app", "", a, b)
	d := f.job(t, "other", "")
	s, err := f.executor(executor.Options{Unlimited: true}).Run(context.Background(), []*executor.Job{c, b, a, d})
	if err != nil {
		t.Fatal(err)
	}
	if !s.OK() {
		t.Fatalf("%v", outcomes(s))
	}
	// The worker's result says when each build ran: a dependent starts
	// after its dependencies finished.
	res := map[string]*Result{}
	for _, j := range []*executor.Job{a, b, c, d} {
		bl := f.rec.build(j.Pkgbase, 1)
		if len(bl.placed) == 0 {
			t.Fatalf("%s: no placement recorded", j.Pkgbase)
		}
		p := bl.placed[len(bl.placed)-1]
		if p.Backend != "slurm" || p.JobID == "" || p.Node != f.c.Node || !strings.HasPrefix(p.Dir, f.work) {
			t.Errorf("%s placed %+v", j.Pkgbase, p)
		}
		r, err := ReadResult(p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		res[j.Pkgbase] = r
		if got := s.Results[j.ID].Files; len(got) != 1 || filepath.Dir(got[0]) != filepath.Join(p.Dir, "pkg", j.ID) {
			t.Errorf("%s files %v", j.Pkgbase, got)
		}
	}
	for _, pair := range [][2]string{{"liba", "libb"}, {"liba", "app"}, {"libb", "app"}} {
		if res[pair[1]].Started.Before(res[pair[0]].Finished) {
			t.Errorf("%s started at %v, before its dependency %s finished at %v", pair[1], res[pair[1]].Started, pair[0], res[pair[0]].Finished)
		}
	}
	// The dependents were given the dependency's package, in the work dir.
	log, err := os.ReadFile(filepath.Join(f.rec.build("app", 1).placed[0].Dir, logFile))
	if err != nil || !strings.Contains(string(log), filepath.Join("pkg", a.ID, "liba-1-1-x86_64.pkg.tar.zst")) {
		t.Errorf("app's log does not show liba's package as a dependency: %v\n%s", err, log)
	}
	if jobs := f.activeJobs(t); len(jobs) != 0 {
		t.Errorf("jobs left in the queue: %v", jobs)
	}

	// A second run builds nothing: every job is up to date.
	f.rec.apply++
	s, err = f.executor(executor.Options{Unlimited: true}).Run(context.Background(), []*executor.Job{c, b, a, d})
	if err != nil || s.Count(executor.UpToDate) != 4 {
		t.Errorf("second run: %v %v", outcomes(s), err)
	}
	if n := len(f.rec.jobIDs("liba")); n != 1 {
		t.Errorf("liba submitted %d times", n)
	}
}

func TestSlurmFailureSkipsDependents(t *testing.T) {
	f := newFarm(t, slurmtest.Options{})
	a := f.job(t, "broken", "fail\n")
	b := f.job(t, "needsbroken", "", a)
	c := f.job(t, "fine", "")
	s, err := f.executor(executor.Options{Jobs: 2}).Run(context.Background(), []*executor.Job{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(s)
	want := map[string]string{"broken": "failed", "needsbroken": "skipped: dependency broken failed", "fine": "built"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	r := s.Results[a.ID]
	if errors.Is(r.Err, executor.ErrInfrastructure) || errors.Is(r.Err, executor.ErrTransient) || !strings.Contains(r.Err.Error(), "make: *** [all] Error 2") {
		t.Errorf("broken: %v", r.Err)
	}
	if r.ExitCode != 2 {
		t.Errorf("exit code %d, want the builder's 2", r.ExitCode)
	}
	if ids := f.rec.jobIDs("needsbroken"); len(ids) != 0 {
		t.Errorf("the dependent of a failure was submitted: %v", ids)
	}
	if _, err := os.Stat(Layout{f.work}.NodeDir(b)); !os.IsNotExist(err) {
		t.Errorf("the dependent of a failure was staged: %v", err)
	}
	if failed, _ := f.rec.FailedBefore(context.Background(), a.ID); !failed {
		t.Error("a build failure must be remembered")
	}
}

func TestSlurmTransientAndInfraFailures(t *testing.T) {
	f := newFarm(t, slurmtest.Options{})
	tr := f.job(t, "flaky", "transient\n")
	in := f.job(t, "notool", "infra\n")
	s, err := f.executor(executor.Options{Jobs: 2, Retries: 1, InfraRetries: 2}).Run(context.Background(), []*executor.Job{tr, in})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Results[tr.ID]; r.Outcome != executor.Failed || r.Attempt != 2 || !errors.Is(r.Err, executor.ErrTransient) {
		t.Errorf("transient: %v after %d attempts: %v", r.Outcome, r.Attempt, r.Err)
	}
	r := s.Results[in.ID]
	if r.Outcome != executor.Failed || r.Attempt != 3 || !errors.Is(r.Err, executor.ErrInfrastructure) ||
		!strings.Contains(r.Err.Error(), "could not run the build") {
		t.Errorf("infra: %v after %d attempts: %v", r.Outcome, r.Attempt, r.Err)
	}
	if failed, _ := f.rec.FailedBefore(context.Background(), in.ID); failed {
		t.Error("an infrastructure failure must not be remembered as a build failure")
	}
	// Each retry was its own job, in its own attempt directory; older
	// attempt directories are pruned.
	if ids := f.rec.jobIDs("notool"); len(ids) != 3 {
		t.Errorf("notool jobs %v, want 3", ids)
	}
	ents, _ := os.ReadDir(Layout{f.work}.NodeDir(in))
	if len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "3-") {
		t.Errorf("attempt directories left: %v", ents)
	}
}

func TestSlurmCancel(t *testing.T) {
	f := newFarm(t, slurmtest.Options{})
	long := f.job(t, "long", "pid "+f.pidFile("long")+"\nsleep 300s\n")
	after := f.job(t, "after", "", long)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var s *executor.Summary
	var runErr error
	go func() {
		s, runErr = f.executor(executor.Options{Jobs: 2, LogDir: filepath.Join(f.root, "logs")}).Run(ctx, []*executor.Job{long, after})
		close(done)
	}()
	waitFor(t, 30*time.Second, "the worker to start", func() bool {
		_, err := os.Stat(f.pidFile("long"))
		return err == nil
	})
	data, _ := os.ReadFile(f.pidFile("long"))
	pid, _ := strconv.Atoi(string(data))
	cancel()
	<-done
	if !errors.Is(runErr, context.Canceled) {
		t.Errorf("Run: %v", runErr)
	}
	got := outcomes(s)
	if got["long"] != "aborted" || got["after"] != "skipped: dependency long was aborted" {
		t.Errorf("outcomes %v", got)
	}
	if jobs := f.activeJobs(t); len(jobs) != 0 {
		t.Errorf("jobs left in the queue after cancelling: %v", jobs)
	}
	if syscall.Kill(pid, 0) == nil && !zombie(pid) {
		t.Errorf("worker %d still runs", pid)
	}
	b := f.rec.build("long", 1)
	if b.open || !b.released {
		t.Error("a cancelled job must not be left for the next apply to adopt")
	}
	logData, _ := os.ReadFile(s.Results[long.ID].LogPath)
	if !strings.Contains(string(logData), "cancelling slurm job") {
		t.Errorf("log:\n%s", logData)
	}
}

func zombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && strings.HasPrefix(strings.TrimSpace(string(stat[i+1:])), "Z")
}

func TestSlurmNodeDownIsRetried(t *testing.T) {
	f := newFarm(t, slurmtest.Options{})
	j := f.job(t, "victim", "pid "+f.pidFile("victim")+"\nsleep 3s\n")
	done := make(chan struct{})
	var s *executor.Summary
	var runErr error
	go func() {
		s, runErr = f.executor(executor.Options{Jobs: 1, InfraRetries: 2, LogDir: filepath.Join(f.root, "logs")}).Run(context.Background(), []*executor.Job{j})
		close(done)
	}()
	waitFor(t, 30*time.Second, "the worker to start", func() bool {
		_, err := os.Stat(f.pidFile("victim"))
		return err == nil
	})
	if err := f.c.SetNode("DOWN"); err != nil {
		t.Fatal(err)
	}
	// portmake sees NODE_FAIL and submits attempt 2, which waits for the
	// node; bring it back.
	waitFor(t, 60*time.Second, "a second job", func() bool { return len(f.rec.jobIDs("victim")) == 2 })
	if err := f.c.SetNode("RESUME"); err != nil {
		t.Fatal(err)
	}
	<-done
	if runErr != nil {
		t.Fatal(runErr)
	}
	r := s.Results[j.ID]
	if r.Outcome != executor.Built || r.Attempt != 2 {
		t.Fatalf("%v after %d attempts: %v", r.Outcome, r.Attempt, r.Err)
	}
	first := f.rec.build("victim", 1).result
	if first == nil || !errors.Is(first.Err, executor.ErrInfrastructure) || !strings.Contains(first.Err.Error(), "NODE_FAIL") {
		t.Errorf("attempt 1: %+v", first)
	}
	// The retry would avoid the node, but sbatch says the cluster has no
	// other: it waits for the same node instead of being refused.
	log, err := os.ReadFile(r.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "no other node can take the job") || !strings.Contains(string(log), "Requested node configuration is not available") {
		t.Errorf("attempt 2's log does not say why the node is not avoided:\n%s", log)
	}
}

func TestSlurmPreflightRefusesBeforeBuilding(t *testing.T) {
	f := newFarm(t, slurmtest.Options{Features: []string{"x86_64"}})
	f.b.Cluster.(*Slurm).Constraint = "riscv64"
	a := f.job(t, "a", "")
	_, err := f.executor(executor.Options{Jobs: 1}).Run(context.Background(), []*executor.Job{a})
	if err == nil || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "Invalid feature specification") ||
		!strings.Contains(err.Error(), `"riscv64"`) || !strings.Contains(err.Error(), "slurm.constraint") {
		t.Fatalf("got %v", err)
	}
	if len(f.rec.builds) != 0 {
		t.Errorf("%d builds started", len(f.rec.builds))
	}
	// The port's architecture is the default constraint, and the node
	// advertises its own.
	f.b.Cluster.(*Slurm).Constraint = ""
	a.Arch = "aarch64"
	if _, err := f.executor(executor.Options{Jobs: 1}).Run(context.Background(), []*executor.Job{a}); err == nil || !strings.Contains(err.Error(), `"aarch64"`) {
		t.Errorf("arch as constraint: %v", err)
	}
}

func TestSlurmReattach(t *testing.T) {
	// An apply submits a job and dies (the job was recorded, nothing
	// waits for it); the next apply re-attaches instead of submitting
	// again, and cancels the orphan of a node it does not build.
	f := newFarm(t, slurmtest.Options{})
	a := f.job(t, "survivor", "sleep 2s\n")
	gone := f.job(t, "uptodate", "sleep 300s\n")
	ctx := context.Background()
	for _, j := range []*executor.Job{a, gone} {
		id, err := f.rec.Started(ctx, j, 1, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.b.submit(ctx, j, io.Discard, nil, executor.Attempt{Number: 1, BuildID: id,
			Place: func(p executor.Placement) error { return f.rec.Placed(ctx, id, p) }}); err != nil {
			t.Fatal(err)
		}
	}
	// The second node was meanwhile built and published elsewhere.
	f.rec.apply++
	f.rec.builds = append(f.rec.builds, &memBuild{apply: 0, job: gone, attempt: 1, result: &executor.Result{Outcome: executor.Built}})
	orphanJob := f.rec.jobIDs("uptodate")[0]

	s, err := f.executor(executor.Options{Jobs: 2, LogDir: filepath.Join(f.root, "logs")}).Run(ctx, []*executor.Job{a, gone})
	if err != nil || !s.OK() {
		t.Fatalf("%v %v", outcomes(s), err)
	}
	if ids := f.rec.jobIDs("survivor"); len(ids) != 1 {
		t.Errorf("survivor jobs %v: re-attaching must not submit again", ids)
	}
	logData, _ := os.ReadFile(s.Results[a.ID].LogPath)
	if !strings.Contains(string(logData), "re-attaching to slurm job") && !strings.Contains(string(logData), "has finished; taking its result") {
		t.Errorf("log:\n%s", logData)
	}
	if jobs := f.activeJobs(t); jobs[orphanJob] != "" {
		t.Errorf("the orphan of an up-to-date node still runs: %v", jobs)
	}
	if orphans, _ := f.rec.Orphans(ctx); len(orphans) != 0 {
		t.Errorf("orphans left: %+v", orphans)
	}
}

func TestSlurmReattachUnrecordedJob(t *testing.T) {
	// An apply is killed after sbatch returned, before it recorded the
	// job's id: only the attempt, recorded before submitting, is in the
	// store. The next apply finds the job by its directory and re-attaches
	// instead of submitting a duplicate; the orphan of a node it does not
	// build is found the same way and cancelled.
	f := newFarm(t, slurmtest.Options{})
	a := f.job(t, "survivor", "sleep 2s\n")
	gone := f.job(t, "uptodate", "sleep 300s\n")
	ctx := context.Background()
	submitted := map[string]string{}
	for _, j := range []*executor.Job{a, gone} {
		id, err := f.rec.Started(ctx, j, 1, "")
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.b.submit(ctx, j, io.Discard, nil, executor.Attempt{Number: 1, BuildID: id,
			Place: func(p executor.Placement) error {
				if p.JobID != "" {
					return nil // killed before this record
				}
				return f.rec.Placed(ctx, id, p)
			}})
		if err != nil {
			t.Fatal(err)
		}
		submitted[j.Pkgbase] = r.id
	}
	if ids := f.rec.jobIDs("survivor"); len(ids) != 0 {
		t.Fatalf("job ids recorded: %v", ids)
	}
	f.rec.apply++
	f.rec.builds = append(f.rec.builds, &memBuild{apply: 0, job: gone, attempt: 1, result: &executor.Result{Outcome: executor.Built}})

	s, err := f.executor(executor.Options{Jobs: 2, LogDir: filepath.Join(f.root, "logs")}).Run(ctx, []*executor.Job{a, gone})
	if err != nil || !s.OK() {
		t.Fatalf("%v %v", outcomes(s), err)
	}
	if ids := f.rec.jobIDs("survivor"); len(ids) != 1 || ids[0] != submitted["survivor"] {
		t.Errorf("survivor jobs %v, want only %s: finding the job must not submit again", ids, submitted["survivor"])
	}
	logData, _ := os.ReadFile(s.Results[a.ID].LogPath)
	if !strings.Contains(string(logData), "found slurm job "+submitted["survivor"]+", which an earlier apply submitted") {
		t.Errorf("log:\n%s", logData)
	}
	if jobs := f.activeJobs(t); jobs[submitted["uptodate"]] != "" {
		t.Errorf("the unrecorded orphan of an up-to-date node still runs: %v", jobs)
	}
}
