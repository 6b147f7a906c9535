package farm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portmake/portmake/executor"
)

func TestSlurmArgs(t *testing.T) {
	s := &Slurm{Partition: "arm", Account: "port", QOS: "low", TimeLimit: "4:00:00", Args: []string{"--nice=10"}}
	spec := JobSpec{Name: "portmake:gcc:0123456789ab", Dir: "/w/gcc-0123456789ab/1-x", Argv: []string{"/usr/bin/portmake", "build-node", "/w/gcc-0123456789ab/1-x"},
		Env: []string{"A=it's $HOME"}, Memory: 3<<30 + 1, CPUs: 4, Arch: "aarch64"}
	got, err := s.args(spec, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"sbatch", "--parsable", "--job-name=portmake:gcc:0123456789ab", "--chdir=/w/gcc-0123456789ab/1-x",
		"--output=/w/gcc-0123456789ab/1-x/job.out", "--no-requeue", "--ntasks=1", "--cpus-per-task=4",
		"--export=PATH,LANG,LC_ALL,TZ,A=it's $HOME", "--mem=3073M", "--partition=arm", "--constraint=aarch64", "--account=port",
		"--qos=low", "--time=4:00:00", "--nice=10", "/w/gcc-0123456789ab/1-x/job.sh",
		"/usr/bin/portmake", "build-node", "/w/gcc-0123456789ab/1-x"}
	if !slices.Equal(got, want) {
		t.Errorf("args\n%q\nwant\n%q", got, want)
	}
	s.Constraint = "aarch64&bigmem"
	got, _ = s.args(JobSpec{Dir: "/w", Arch: "aarch64"}, true)
	if got[1] != "--test-only" || !slices.Contains(got, "--constraint=aarch64&bigmem") || slices.ContainsFunc(got, func(a string) bool { return strings.HasPrefix(a, "--mem") }) {
		t.Errorf("test-only args %q", got)
	}
	if _, err := s.args(JobSpec{Env: []string{"A=x,y"}}, false); err == nil {
		t.Error("a comma in the worker environment would split --export")
	}
	got, _ = s.args(JobSpec{Dir: "/w", Exclude: []string{"n1", "n7"}}, false)
	if !slices.Contains(got, "--exclude=n1,n7") {
		t.Errorf("exclude args %q", got)
	}
	if _, err := s.args(JobSpec{Exclude: []string{"n1,n2"}}, false); err == nil {
		t.Error("a comma in a node name would exclude two nodes")
	}
}

func TestParseSqueue(t *testing.T) {
	out := "slurm_load_jobs error: something\n" +
		"portmake|12|RUNNING|vm|None\n" +
		"portmake|13|PENDING|vm|Resources\n" +
		"portmake|14|NODE_FAIL|vm|NodeDown\n" +
		"portmake|15|SOMETHING_NEW||why|with|bars\n" +
		"garbage|16|RUNNING|vm|None\n" +
		"portmake||RUNNING|vm|None\n"
	got := parseSqueue(out)
	want := map[string]JobState{
		"12": {Phase: Running, State: "RUNNING", Node: "vm"},
		"13": {Phase: Queued, State: "PENDING", Reason: "Resources"},
		"14": {Phase: Ended, State: "NODE_FAIL", Node: "vm", Reason: "NodeDown"},
		"15": {Phase: Running, State: "SOMETHING_NEW", Reason: "why|with|bars"},
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %+v, want %+v", id, got[id], w)
		}
	}
}

func FuzzParseSqueue(f *testing.F) {
	f.Add("portmake|12|RUNNING|vm|None\n")
	f.Add("portmake|13|PENDING|vm|Resources\nportmake|14|NODE_FAIL|vm|NodeDown")
	f.Fuzz(func(t *testing.T, out string) {
		for id, st := range parseSqueue(out) {
			if id == "" || strings.Contains(id, "|") {
				t.Errorf("job id %q", id)
			}
			if st.Phase == Queued && st.Node != "" {
				t.Errorf("a queued job with a node: %+v", st)
			}
		}
	})
}

func TestSubmitError(t *testing.T) {
	s := &Slurm{Partition: "arm"}
	spec := JobSpec{Arch: "riscv64", Memory: 2 << 30, CPUs: 2}
	for _, tc := range []struct {
		out     string
		refused bool
		want    string
	}{
		{"sbatch: error: Batch job submission failed: Invalid feature specification\n", true, `no node has the features "riscv64"`},
		{"sbatch: error: invalid partition specified: arm\nsbatch: error: Batch job submission failed: Invalid partition name specified\n", true, `no partition "arm"`},
		{"sbatch: error: Batch job submission failed: Requested node configuration is not available\n", true, "2 CPUs and 2048 MiB"},
		{"sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n", false, "Unable to contact slurm controller"},
		{"sbatch: error: Something nobody has seen\n", true, "Something nobody has seen"},
	} {
		err := s.submitError(spec, tc.out, errors.New("exit status 1"))
		if errors.Is(err, ErrRefused) != tc.refused || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v (refused %v, want %v and %q)", tc.out, err, errors.Is(err, ErrRefused), tc.refused, tc.want)
		}
	}
}

func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	j := &executor.Job{ID: "abc", Pkgbase: "a"}
	out := filepath.Join(dir, "pkg", "abc")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(out, "a-1-1-x86_64.pkg.tar.zst")
	os.WriteFile(good, []byte("x"), 0o644)
	link := filepath.Join(out, "b-1-1-x86_64.pkg.tar.zst")
	os.Symlink("/etc/passwd", link)
	other := filepath.Join(dir, "pkg", "other", "a-1-1-x86_64.pkg.tar.zst")
	for _, tc := range []struct {
		files []string
		ok    bool
	}{
		{[]string{good}, true},
		{nil, false},
		{[]string{"/etc/passwd"}, false},
		{[]string{filepath.Join(out, "..", "..", "request.json")}, false},
		{[]string{link}, false},
		{[]string{other}, false},
		{[]string{filepath.Join(out, "notes.txt")}, false},
		{[]string{filepath.Join(out, "missing-1-1-x86_64.pkg.tar.zst")}, false},
	} {
		if err := checkFiles(dir, j, tc.files); (err == nil) != tc.ok {
			t.Errorf("%v: %v", tc.files, err)
		}
	}
}

func writeRequest(t *testing.T, dir string, mutate func(*Request)) {
	t.Helper()
	r := Request{Protocol: Protocol, Attempt: 1, Builder: BuilderSpec{Kind: "script"},
		Job: executor.Job{ID: "abc0123456789", Pkgbase: "a", Version: "1-1", SourceDir: filepath.Join(dir, "src")}}
	if mutate != nil {
		mutate(&r)
	}
	if err := writeJSON(filepath.Join(dir, requestFile), r); err != nil {
		t.Fatal(err)
	}
}

func TestReadRequestRefuses(t *testing.T) {
	for name, mutate := range map[string]func(*Request){
		"protocol":   func(r *Request) { r.Protocol = 99 },
		"source":     func(r *Request) { r.Job.SourceDir = "/etc" },
		"id":         func(r *Request) { r.Job.ID = "../../x" },
		"pkgbase":    func(r *Request) { r.Job.Pkgbase = "a/b" },
		"conf":       func(r *Request) { r.Builder.MakepkgConf = "/etc/makepkg.conf" },
		"conf above": func(r *Request) { r.Builder.PacmanConf = "conf/../../x" },
	} {
		dir := t.TempDir()
		writeRequest(t, dir, mutate)
		if _, err := ReadRequest(dir); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	dir := t.TempDir()
	writeRequest(t, dir, nil)
	if _, err := ReadRequest(dir); err != nil {
		t.Errorf("a good request: %v", err)
	}
	os.WriteFile(filepath.Join(dir, requestFile), []byte(`{"protocol": 1, "job": `), 0o644)
	if _, err := ReadRequest(dir); err == nil {
		t.Error("a truncated request was accepted")
	}
}

func FuzzReadRequest(f *testing.F) {
	f.Add([]byte(`{"protocol":1,"job":{"ID":"abc","Pkgbase":"a","SourceDir":"DIR/src"},"builder":{"kind":"makepkg"}}`))
	f.Add([]byte(`{"protocol":1,"job":{"ID":"..","Pkgbase":"a"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		data = []byte(strings.ReplaceAll(string(data), "DIR", dir))
		if err := os.WriteFile(filepath.Join(dir, requestFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := ReadRequest(dir)
		if err != nil {
			return
		}
		if r.Job.SourceDir != filepath.Join(dir, "src") || !safeName.MatchString(r.Job.ID) {
			t.Errorf("accepted %+v", r.Job)
		}
		for _, c := range []string{r.Builder.MakepkgConf, r.Builder.PacmanConf} {
			if c != "" && !within(dir, c) {
				t.Errorf("accepted configuration %s", c)
			}
		}
	})
}

func TestWorkOutcomes(t *testing.T) {
	for _, tc := range []struct {
		script    string
		cancel    bool
		code      int
		outcome   string
		transient bool
	}{
		{"", false, ExitBuilt, OutcomeBuilt, false},
		{"fail\n", false, ExitBuildFailed, OutcomeFailed, false},
		{"transient\n", false, ExitTransient, OutcomeFailed, true},
		{"infra\n", false, ExitInfra, OutcomeInfra, false},
		{"sleep 10s\n", true, ExitInfra, OutcomeAborted, false},
	} {
		t.Run(tc.outcome+tc.script, func(t *testing.T) {
			dir := t.TempDir()
			writeRequest(t, dir, nil)
			os.MkdirAll(filepath.Join(dir, "src"), 0o755)
			os.WriteFile(filepath.Join(dir, "src", "BUILD"), []byte(tc.script), 0o644)
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				time.AfterFunc(100*time.Millisecond, cancel)
			}
			defer cancel()
			code := Work(ctx, dir, testBuilders, io.Discard)
			res, err := ReadResult(dir)
			if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || res.Outcome != tc.outcome || res.Transient != tc.transient || res.JobID != "abc0123456789" {
				t.Errorf("exit %d, result %+v; want exit %d, %s", code, res, tc.code, tc.outcome)
			}
			if (res.Outcome == OutcomeBuilt) != (len(res.Files) == 1) {
				t.Errorf("files %v", res.Files)
			}
			log, _ := os.ReadFile(filepath.Join(dir, logFile))
			if !strings.Contains(string(log), "==> portmake build-node: "+tc.outcome) {
				t.Errorf("log:\n%s", log)
			}
		})
	}
	// A request it cannot read: a usage error, and a result that says so.
	dir := t.TempDir()
	writeRequest(t, dir, func(r *Request) { r.Protocol = 2 })
	var stderr strings.Builder
	if code := Work(context.Background(), dir, testBuilders, &stderr); code != ExitUsage {
		t.Errorf("exit %d", code)
	}
	if res, err := ReadResult(dir); err != nil || res.Outcome != OutcomeInfra || !strings.Contains(res.Error, "protocol 2") {
		t.Errorf("result %+v %v", res, err)
	}
	if !strings.Contains(stderr.String(), "install the same portmake") {
		t.Errorf("stderr %q", stderr.String())
	}
}

// fakeCluster runs each submitted job's worker in a goroutine, or not at
// all, as a test wants.
type fakeCluster struct {
	mu     sync.Mutex
	next   int
	states map[string]JobState
	dirs   map[string]string             // job id -> attempt directory
	mem    []int64                       // each submission's memory, in order
	specs  []JobSpec                     // each submission, in order
	run    func(id string, spec JobSpec) // nil: the job stays queued
	check  func(spec JobSpec) error      // nil: every job is accepted
	ask    int
}

func (c *fakeCluster) Kind() string { return "fake" }
func (c *fakeCluster) Check(_ context.Context, spec JobSpec) error {
	if c.check != nil {
		return c.check(spec)
	}
	return nil
}
func (c *fakeCluster) Command(spec JobSpec) executor.Command {
	return executor.Command{Args: append([]string{"submit"}, spec.Argv...)}
}
func (c *fakeCluster) Submit(_ context.Context, spec JobSpec) (string, error) {
	c.mu.Lock()
	c.next++
	id := fmt.Sprint(c.next)
	if c.states == nil {
		c.states = map[string]JobState{}
	}
	c.states[id] = JobState{Phase: Queued, State: "PENDING"}
	if c.dirs == nil {
		c.dirs = map[string]string{}
	}
	c.dirs[id] = spec.Dir
	c.mem = append(c.mem, spec.Memory)
	c.specs = append(c.specs, spec)
	c.mu.Unlock()
	if c.run != nil {
		go c.run(id, spec)
	}
	return id, nil
}
func (c *fakeCluster) set(id string, st JobState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.Phase == Ended && st.State == "" {
		delete(c.states, id)
		return
	}
	c.states[id] = st
}
func (c *fakeCluster) States(_ context.Context, ids []string) (map[string]JobState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ask++
	out := map[string]JobState{}
	for _, id := range ids {
		if st, ok := c.states[id]; ok {
			out[id] = st
		}
	}
	return out, nil
}
func (c *fakeCluster) Find(_ context.Context, dir string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, d := range c.dirs {
		if d == dir {
			if _, known := c.states[id]; known {
				return id, nil
			}
		}
	}
	return "", nil
}
func (c *fakeCluster) Cancel(_ context.Context, ids ...string) error {
	for _, id := range ids {
		c.set(id, JobState{Phase: Ended, State: "CANCELLED"})
	}
	return nil
}

func fakeBuilder(t *testing.T, c *fakeCluster) (*Builder, string) {
	root := t.TempDir()
	return &Builder{Cluster: c, WorkDir: filepath.Join(root, "work"), Spec: BuilderSpec{Kind: "script"},
		Worker: []string{"/bin/false"}, Poll: 10 * time.Millisecond}, root
}

func TestFollowEdges(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(c *fakeCluster, id string, spec JobSpec)
		want string
	}{
		{"vanished", func(c *fakeCluster, id string, _ JobSpec) {
			c.set(id, JobState{Phase: Running, State: "RUNNING", Node: "n1"})
			time.Sleep(50 * time.Millisecond)
			c.set(id, JobState{Phase: Ended})
		}, "fake job 1 vanished from the queue without a result"},
		{"timeout", func(c *fakeCluster, id string, _ JobSpec) {
			c.set(id, JobState{Phase: Ended, State: "TIMEOUT", Node: "n1", Reason: "TimeLimit"})
		}, "fake job 1 ended TIMEOUT (TimeLimit) on n1 without a result"},
		{"damaged result", func(c *fakeCluster, id string, spec JobSpec) {
			os.WriteFile(filepath.Join(spec.Dir, resultFile), []byte("{"), 0o644)
		}, "result.json"},
		{"another build's result", func(c *fakeCluster, id string, spec JobSpec) {
			writeJSON(filepath.Join(spec.Dir, resultFile), Result{Protocol: Protocol, JobID: "other", Outcome: OutcomeBuilt})
		}, `the result is for "other"`},
		{"a file outside", func(c *fakeCluster, id string, spec JobSpec) {
			writeJSON(filepath.Join(spec.Dir, resultFile), Result{Protocol: Protocol, JobID: "abc0123456789", Outcome: OutcomeBuilt, Files: []string{"/etc/shadow"}})
		}, "not a package file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &fakeCluster{}
			c.run = func(id string, spec JobSpec) { tc.run(c, id, spec) }
			b, root := fakeBuilder(t, c)
			j := scriptJob(t, root, "a", "")
			j.ID = "abc0123456789"
			_, err := b.BuildAttempt(context.Background(), j, io.Discard, nil, executor.Attempt{Number: 1})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
			if tc.name != "a file outside" && !errors.Is(err, executor.ErrInfrastructure) {
				t.Errorf("%v is not an infrastructure failure", err)
			}
		})
	}
}

func TestPollerBatches(t *testing.T) {
	// Many attempts followed at once share one question to the cluster
	// per Poll interval.
	c := &fakeCluster{}
	c.run = func(id string, spec JobSpec) {
		time.Sleep(300 * time.Millisecond)
		Work(context.Background(), spec.Dir, testBuilders, io.Discard)
		c.set(id, JobState{Phase: Ended, State: "COMPLETED"})
	}
	b, root := fakeBuilder(t, c)
	b.Poll = 100 * time.Millisecond
	var wg sync.WaitGroup
	for i := range 20 {
		j := scriptJob(t, root, fmt.Sprintf("p%02d", i), "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := b.BuildAttempt(context.Background(), j, io.Discard, nil, executor.Attempt{Number: 1}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if c.ask > 10 {
		t.Errorf("%d squeue calls for 20 jobs over about 0.3s", c.ask)
	}
}

func TestFindJob(t *testing.T) {
	out := "portmake|17|portmake:liba:abc123|/work/liba/1-x\n" +
		"portmake|18|someone-else|/work/libb/1-x\n" +
		"squeue: error: something\n" +
		"portmake|19|portmake:libb:def456|/work/libb/1-x\n"
	for dir, want := range map[string]string{
		"/work/liba/1-x": "17",
		"/work/libb/1-x": "19", // not 18: not a portmake job
		"/work/libc/1-x": "",
		"/work/liba":     "",
	} {
		if got := findJob(out, dir); got != want {
			t.Errorf("findJob(%q) = %q, want %q", dir, got, want)
		}
	}
}

func TestOutOfMemoryDoublesTheReservation(t *testing.T) {
	// A job the cluster killed for its memory is an infrastructure
	// failure, and the next attempt reserves twice as much.
	c := &fakeCluster{}
	c.run = func(id string, _ JobSpec) {
		c.set(id, JobState{Phase: Ended, State: "OUT_OF_MEMORY", Node: "n1", Reason: "OutOfMemory"})
	}
	b, root := fakeBuilder(t, c)
	j := scriptJob(t, root, "big", "")
	j.ExpectedRSS = 3 << 30
	for attempt := 1; attempt <= 2; attempt++ {
		_, err := b.BuildAttempt(context.Background(), j, io.Discard, nil, executor.Attempt{Number: attempt})
		if !errors.Is(err, executor.ErrInfrastructure) || !strings.Contains(err.Error(), "ended OUT_OF_MEMORY (OutOfMemory) on n1") {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
	}
	// The first reservation is the recorded peak plus the margin.
	if len(c.mem) != 2 || c.mem[0] < 3<<30 || c.mem[1] != 2*c.mem[0] {
		t.Errorf("reservations %v, want the peak and its margin, then twice that", c.mem)
	}
}

func TestNodeFailureMovesTheRetryElsewhere(t *testing.T) {
	// An attempt lost to its node is retried on another node when the
	// cluster has one, and on the same node when it has none.
	for _, tc := range []struct {
		name    string
		refuse  bool // the cluster cannot run the job without n1
		exclude []string
		note    string
	}{
		{"another node", false, []string{"n1"}, "avoiding n1, where an earlier attempt was lost"},
		{"only node", true, nil, "no other node can take the job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &fakeCluster{}
			c.run = func(id string, _ JobSpec) {
				c.set(id, JobState{Phase: Ended, State: "NODE_FAIL", Node: "n1"})
			}
			var checked []JobSpec
			c.check = func(spec JobSpec) error {
				checked = append(checked, spec)
				if tc.refuse && slices.Contains(spec.Exclude, "n1") {
					return fmt.Errorf("sbatch: Requested node configuration is not available (%w)", ErrRefused)
				}
				return nil
			}
			b, root := fakeBuilder(t, c)
			j := scriptJob(t, root, "victim", "")
			var log strings.Builder
			for attempt := 1; attempt <= 2; attempt++ {
				_, err := b.BuildAttempt(context.Background(), j, &log, nil, executor.Attempt{Number: attempt})
				if !errors.Is(err, executor.ErrInfrastructure) || !strings.Contains(err.Error(), "NODE_FAIL") {
					t.Fatalf("attempt %d: %v", attempt, err)
				}
			}
			if len(c.specs) != 2 || c.specs[0].Exclude != nil || !slices.Equal(c.specs[1].Exclude, tc.exclude) {
				t.Errorf("excluded per submission: %v, %v; want none, then %v", c.specs[0].Exclude, c.specs[len(c.specs)-1].Exclude, tc.exclude)
			}
			if len(checked) != 1 || !slices.Equal(checked[0].Exclude, []string{"n1"}) {
				t.Errorf("checks %v, want one, without n1", checked)
			}
			if !strings.Contains(log.String(), tc.note) {
				t.Errorf("the log does not say %q:\n%s", tc.note, log.String())
			}
			// Another build has no reason to avoid n1.
			k := scriptJob(t, root, "other", "")
			b.BuildAttempt(context.Background(), k, io.Discard, nil, executor.Attempt{Number: 1})
			if last := c.specs[len(c.specs)-1]; last.Exclude != nil {
				t.Errorf("another build excludes %v", last.Exclude)
			}
		})
	}
}
