package farm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/internal/fsutil"
)

// Builder runs each build attempt as a job of a Cluster. It implements
// executor.Remote: the executor's scheduler decides what to build and
// when, and Builder stages the attempt in the shared work directory,
// submits the worker, follows the job, copies the build log as it grows
// and reads the worker's result.
type Builder struct {
	Cluster Cluster
	WorkDir string // shared with the nodes, at the same path
	// Spec is what the worker runs. MakepkgConf and PacmanConf are paths
	// on this host; each attempt gets a copy in its conf/ directory.
	Spec BuilderSpec
	// Worker is the command that starts the worker, before the attempt
	// directory; default: this portmake (os.Args[0]) and "build-node". The
	// nodes must have it at the same path.
	Worker []string
	Env    []string // more KEY=VALUE pairs for the worker
	// Memory is what a job reserves when its package has no recorded peak
	// RSS (slurm.memory); 0 leaves it to the cluster's default.
	Memory int64
	// Margin is added to a recorded peak RSS: the request is
	// peak×(1+Margin). Default 0.25.
	Margin float64
	CPUs   int           // cores per job; 0 means 1
	Poll   time.Duration // how often the cluster is asked about jobs; default 2s
	Log    *slog.Logger

	initOnce sync.Once
	poll     *poller
	mu       sync.Mutex
	oom      map[string]int64    // job ID: memory to ask next, after the cluster killed it for memory
	badNodes map[string][]string // job ID: nodes where an attempt was lost to the node
}

func (b *Builder) init() {
	b.initOnce.Do(func() {
		if b.Poll <= 0 {
			b.Poll = 2 * time.Second
		}
		if b.Margin <= 0 {
			b.Margin = 0.25
		}
		if b.Log == nil {
			b.Log = slog.New(slog.DiscardHandler)
		}
		b.poll = &poller{c: b.Cluster, fresh: b.Poll, watch: map[string]time.Time{}}
		b.oom = map[string]int64{}
		b.badNodes = map[string][]string{}
	})
}

// Kind implements executor.Builder.
func (b *Builder) Kind() string { return b.Cluster.Kind() + "+" + b.Spec.Kind }

func (b *Builder) worker() ([]string, error) {
	if len(b.Worker) > 0 {
		return b.Worker, nil
	}
	self := os.Args[0]
	if !strings.ContainsRune(self, '/') {
		p, err := exec.LookPath(self)
		if err != nil {
			return nil, fmt.Errorf("find this portmake (%s) to run it on the nodes: %w", self, err)
		}
		self = p
	}
	abs, err := filepath.Abs(self)
	if err != nil {
		return nil, err
	}
	return []string{abs, "build-node"}, nil
}

// memory is what a job of j reserves.
func (b *Builder) memory(j *executor.Job) int64 {
	b.mu.Lock()
	m := b.oom[j.ID]
	b.mu.Unlock()
	if m > 0 {
		return m
	}
	if j.ExpectedRSS <= 0 {
		return b.Memory
	}
	const step = 64 << 20
	m = int64(float64(j.ExpectedRSS) * (1 + b.Margin))
	return max((m+step-1)/step*step, 256<<20)
}

func jobName(j *executor.Job) string {
	id := j.ID
	if len(id) > 12 {
		id = id[:12]
	}
	return "portmake:" + j.Pkgbase + ":" + id
}

func (b *Builder) spec(j *executor.Job, dir string) (JobSpec, error) {
	w, err := b.worker()
	if err != nil {
		return JobSpec{}, err
	}
	return JobSpec{Name: jobName(j), Dir: dir, Argv: append(slices.Clone(w), dir), Env: b.Env,
		Memory: b.memory(j), CPUs: b.CPUs, Arch: j.Arch}, nil
}

// Commands implements executor.Builder: the submission, with the attempt
// directory that the attempt will create.
func (b *Builder) Commands(j *executor.Job, deps []string) ([]executor.Command, error) {
	b.init()
	spec, err := b.spec(j, filepath.Join(Layout{b.WorkDir}.NodeDir(j), "ATTEMPT"))
	if err != nil {
		return nil, err
	}
	return []executor.Command{b.Cluster.Command(spec)}, nil
}

// PackageList implements executor.Builder. The names are known only on
// the node that builds (makepkg may not even be installed here).
func (b *Builder) PackageList(context.Context, *executor.Job) ([]string, error) {
	return nil, errors.New("the build node reports the package names")
}

// Build implements executor.Builder, for callers that do not know about
// remote builders: one attempt, not recorded anywhere.
func (b *Builder) Build(ctx context.Context, j *executor.Job, log io.Writer, deps []string) (executor.Output, error) {
	return b.BuildAttempt(ctx, j, log, deps, executor.Attempt{Number: 1})
}

// Preflight implements executor.Remote: the work directory must be
// writable, and the cluster must accept every job as it will be
// submitted (sbatch --test-only), so that a constraint no node satisfies
// is reported before anything is built.
func (b *Builder) Preflight(ctx context.Context, jobs []*executor.Job) error {
	b.init()
	if b.WorkDir == "" || !filepath.IsAbs(b.WorkDir) {
		return fmt.Errorf("%s: the work directory must be an absolute path shared with the nodes, not %q", b.Cluster.Kind(), b.WorkDir)
	}
	check := filepath.Join(b.WorkDir, ".preflight")
	if err := os.MkdirAll(check, 0o755); err != nil {
		return fmt.Errorf("%s: work directory: %w", b.Cluster.Kind(), err)
	}
	if w, err := b.worker(); err != nil {
		return err
	} else if _, err := os.Stat(w[0]); err != nil {
		return fmt.Errorf("%s: the worker command: %w", b.Cluster.Kind(), err)
	}
	// One check per distinct submission: the jobs of a port differ only
	// in their memory.
	seen := map[string]bool{}
	for _, j := range jobs {
		spec, err := b.spec(j, check)
		if err != nil {
			return err
		}
		spec.Name = "portmake:preflight"
		key := strings.Join(b.Cluster.Command(spec).Args, "\x00")
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := b.Cluster.Check(ctx, spec); err != nil {
			return fmt.Errorf("%s refuses the build of %s: %w", b.Cluster.Kind(), j.Pkgbase, err)
		}
	}
	return nil
}

// Cancel implements executor.Remote.
func (b *Builder) Cancel(ctx context.Context, p executor.Placement) error {
	b.init()
	id := p.JobID
	if id == "" && p.Dir != "" {
		// Submitted by an apply killed before it recorded the id.
		var err error
		if id, err = b.Cluster.Find(ctx, p.Dir); err != nil {
			return err
		}
	}
	if id == "" {
		return nil
	}
	return b.Cluster.Cancel(ctx, id)
}

// run is one attempt being followed.
type run struct {
	j      *executor.Job
	dir    string
	id     string
	log    io.Writer
	a      executor.Attempt
	place  executor.Placement
	remote tail // the worker's build.log
	queued string
}

func (r *run) note(format string, args ...any) {
	fmt.Fprintf(r.log, "==> portmake: "+format+"\n", args...)
}

// BuildAttempt implements executor.Remote.
func (b *Builder) BuildAttempt(ctx context.Context, j *executor.Job, log io.Writer, deps []string, a executor.Attempt) (executor.Output, error) {
	b.init()
	if a.Adopt != nil {
		if r := b.adopt(ctx, j, log, a); r != nil {
			return b.follow(ctx, r)
		}
	}
	if err := ctx.Err(); err != nil {
		return executor.Output{ExitCode: -1}, err
	}
	r, err := b.submit(ctx, j, log, deps, a)
	if err != nil {
		return executor.Output{ExitCode: -1}, err
	}
	return b.follow(ctx, r)
}

// adopt re-attaches to a job an earlier apply left, when it still runs
// or has left a result; nil means submit anew.
func (b *Builder) adopt(ctx context.Context, j *executor.Job, log io.Writer, a executor.Attempt) *run {
	p := *a.Adopt
	r := &run{j: j, dir: p.Dir, id: p.JobID, log: log, a: a, place: p}
	r.remote.path = filepath.Join(p.Dir, logFile)
	req, err := ReadRequest(p.Dir)
	if err != nil || req.Job.ID != j.ID || !within(b.WorkDir, p.Dir) {
		r.note("not re-attaching to %s job %s: its directory %s does not hold this build (%v)", p.Backend, p.JobID, p.Dir, err)
		return nil
	}
	if p.JobID == "" {
		// The earlier apply was killed while submitting: after it staged
		// the attempt, before it recorded the job's id. Ask the cluster.
		id, err := b.Cluster.Find(ctx, p.Dir)
		if err != nil {
			r.note("cannot look for the %s job an earlier apply submitted from %s (%v); submitting again", p.Backend, p.Dir, err)
			return nil
		}
		if id == "" {
			if _, err := ReadResult(p.Dir); err != nil {
				r.note("an earlier apply was killed while submitting from %s, and %s has no job there; submitting again", p.Dir, p.Backend)
				return nil
			}
		} else {
			r.note("found %s job %s, which an earlier apply submitted from %s without recording it", p.Backend, id, p.Dir)
		}
		p.JobID, r.id, r.place.JobID = id, id, id
	}
	if _, err := ReadResult(p.Dir); err == nil {
		r.note("%s job %s of an earlier apply has finished; taking its result", p.Backend, p.JobID)
	} else {
		b.poll.expire()
		st, known, err := b.poll.state(ctx, p.JobID)
		if err != nil || !known || st.Phase == Ended {
			why := "the cluster no longer knows it"
			if err != nil {
				why = err.Error()
			} else if known {
				why = "it ended " + st.State
			}
			r.note("%s job %s of an earlier apply left no result (%s); submitting again", p.Backend, p.JobID, why)
			b.poll.forget(p.JobID)
			return nil
		}
		r.note("re-attaching to %s job %s of an earlier apply (%s)", p.Backend, p.JobID, strings.ToLower(st.State))
	}
	b.place(r, "")
	return r
}

func (b *Builder) place(r *run, node string) {
	if node != "" {
		r.place.Node = node
	}
	if r.a.Place == nil {
		return
	}
	if err := r.a.Place(r.place); err != nil {
		r.note("could not record the placement: %v", err)
	}
}

// submit stages a new attempt and submits it.
func (b *Builder) submit(ctx context.Context, j *executor.Job, log io.Writer, deps []string, a executor.Attempt) (*run, error) {
	nodeDir := Layout{b.WorkDir}.NodeDir(j)
	dir := filepath.Join(nodeDir, attemptName(a.Number, time.Now()))
	r := &run{j: j, dir: dir, log: log, a: a}
	r.remote.path = filepath.Join(dir, logFile)
	if err := b.stage(j, dir, deps, a.Number); err != nil {
		return nil, fmt.Errorf("stage the build in %s: %w (%w)", dir, err, executor.ErrInfrastructure)
	}
	b.prune(nodeDir, dir)
	spec, err := b.spec(j, dir)
	if err != nil {
		return nil, err
	}
	b.avoid(ctx, r, &spec)
	r.note("submitting: %s", b.Cluster.Command(spec))
	// The attempt is recorded before the cluster is asked: an apply killed
	// between Submit and the record of the id leaves its directory, where
	// the next apply looks for the job (Find) instead of submitting twice.
	r.place = executor.Placement{Backend: b.Cluster.Kind(), Dir: dir}
	b.place(r, "")
	var id string
	for try, wait := 1, time.Second; ; try, wait = try+1, wait*2 {
		id, err = b.Cluster.Submit(ctx, spec)
		if err == nil || errors.Is(err, ErrRefused) || try == 4 || ctx.Err() != nil {
			break
		}
		r.note("submission failed, retrying in %v: %v", wait, err)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	if err != nil {
		// A refusal is about this cluster, not the PKGBUILD: it must not
		// be remembered as a build failure.
		return nil, fmt.Errorf("submit to %s: %w (%w)", b.Cluster.Kind(), err, executor.ErrInfrastructure)
	}
	r.id = id
	r.place = executor.Placement{Backend: b.Cluster.Kind(), JobID: id, Dir: dir}
	r.note("%s job %s submitted (%s)", b.Cluster.Kind(), id, spec.Name)
	b.place(r, "")
	return r, nil
}

// nodeFail is the state of a job its node failed; BOOT_FAIL is another.
const nodeFail = "NODE_FAIL"

// nodeLost marks the node of a job that ended st as one that failed job
// j, when it was the node's fault: the job's next attempts go elsewhere
// when the cluster has somewhere else. seen is where the job was seen
// running, for a state that names no node.
func (b *Builder) nodeLost(j *executor.Job, st JobState, seen string) {
	node := cmp.Or(st.Node, seen)
	if node == "" || (st.State != nodeFail && st.State != "BOOT_FAIL") {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !slices.Contains(b.badNodes[j.ID], node) {
		b.badNodes[j.ID] = append(b.badNodes[j.ID], node)
	}
}

// avoid excludes the nodes that lost earlier attempts of the job, when
// the cluster says it can run the job without them. A cluster with no
// other node (or one that cannot say) runs it wherever it can: a node
// that failed once may be back, and a job nobody can run helps nobody.
func (b *Builder) avoid(ctx context.Context, r *run, spec *JobSpec) {
	b.mu.Lock()
	bad := slices.Clone(b.badNodes[r.j.ID])
	b.mu.Unlock()
	if len(bad) == 0 {
		return
	}
	spec.Exclude = bad
	if err := b.Cluster.Check(ctx, *spec); err != nil {
		r.note("no other node can take the job (%v); it may run on %s again", err, strings.Join(bad, ", "))
		spec.Exclude = nil
		return
	}
	r.note("avoiding %s, where an earlier attempt was lost", strings.Join(bad, ", "))
}

// stage makes the attempt directory: the request, the source tree, the
// configuration and the dependencies that are not already under the
// work directory.
func (b *Builder) stage(j *executor.Job, dir string, deps []string, attempt int) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if j.SourceDir == "" {
		return errors.New("no source directory")
	}
	if err := fsutil.CopyTree(j.SourceDir, filepath.Join(dir, "src"), nil); err != nil {
		return fmt.Errorf("copy the source: %w", err)
	}
	spec := b.Spec
	for _, c := range []*string{&spec.MakepkgConf, &spec.PacmanConf} {
		if *c == "" {
			continue
		}
		dst := filepath.Join(dir, "conf", filepath.Base(*c))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := copyFile(*c, dst); err != nil {
			return err
		}
		*c = dst
	}
	var staged []string
	for _, d := range deps {
		if within(b.WorkDir, d) {
			staged = append(staged, d)
			continue
		}
		dst := filepath.Join(dir, "deps", filepath.Base(d))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Link(d, dst); err != nil {
			if err := copyFile(d, dst); err != nil {
				return fmt.Errorf("stage dependency %s: %w", d, err)
			}
		}
		staged = append(staged, dst)
	}
	job := *j
	job.SourceDir = filepath.Join(dir, "src")
	req := Request{Protocol: Protocol, Job: job, Attempt: attempt, Deps: staged, Builder: spec}
	return writeJSON(filepath.Join(dir, requestFile), req)
}

func attemptNumber(dir string) int {
	var n int
	fmt.Sscanf(filepath.Base(dir), "%d-", &n)
	return n
}

func copyFile(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	return fsutil.CopyFile(src, dst, fi.Mode().Perm())
}

// prune removes the node's earlier attempt directories: their logs were
// copied into the local build logs, and their packages either published
// or failed. keep is the new attempt.
func (b *Builder) prune(nodeDir, keep string) {
	ents, err := os.ReadDir(nodeDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		p := filepath.Join(nodeDir, e.Name())
		if p == keep || !e.IsDir() || attemptNumber(p) == 0 {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			b.Log.Warn("remove an old attempt directory", "dir", p, "err", err)
		}
	}
}

// tick is how often a followed attempt looks for its result and new log
// output; the cluster itself is asked at most every Builder.Poll.
const tick = 250 * time.Millisecond

// follow waits for the attempt's job to end, copying its log, and turns
// its result into an Output.
func (b *Builder) follow(ctx context.Context, r *run) (executor.Output, error) {
	defer b.poll.forget(r.id)
	out := executor.Output{ExitCode: -1}
	var ended int // polls since the job was seen ended or gone without a result
	var failing time.Time
	for {
		r.remote.copy(r.log)
		res, err := ReadResult(r.dir)
		if err == nil {
			return b.finish(r, res)
		}
		if !errors.Is(err, os.ErrNotExist) {
			return out, fmt.Errorf("%s job %s: %w (%w)", b.Cluster.Kind(), r.id, err, executor.ErrInfrastructure)
		}
		st, known, err := b.poll.state(ctx, r.id)
		switch {
		case err != nil:
			if failing.IsZero() {
				failing = time.Now()
				r.note("cannot ask %s about job %s: %v", b.Cluster.Kind(), r.id, err)
			}
			if time.Since(failing) > 10*time.Minute {
				out.Detached = true
				return out, fmt.Errorf("%s does not answer about job %s: %w (%w)", b.Cluster.Kind(), r.id, err, executor.ErrInfrastructure)
			}
		case !known || st.Phase == Ended:
			failing = time.Time{}
			// A node writes the result just before its job ends; give a
			// shared file system a moment to show it here.
			if ended++; ended > 8 {
				return out, b.lost(r, st, known)
			}
		default:
			failing = time.Time{}
			if st.Phase == Running && st.Node != "" && r.place.Node != st.Node {
				r.note("%s job %s runs on %s", b.Cluster.Kind(), r.id, st.Node)
				b.place(r, st.Node)
			}
			if st.Phase == Queued && st.Reason != r.queued {
				r.queued = st.Reason
				r.note("%s job %s waits in the queue (%s)", b.Cluster.Kind(), r.id, st.Reason)
			}
		}
		select {
		case <-ctx.Done():
			return b.abort(ctx, r)
		case <-time.After(tick):
		}
	}
}

// lost explains an attempt whose job ended without a result: the
// infrastructure failed it.
func (b *Builder) lost(r *run, st JobState, known bool) error {
	r.remote.copy(r.log)
	b.appendJobOut(r)
	how := "vanished from the queue"
	if known {
		how = "ended " + st.State
		if st.Reason != "" {
			how += " (" + st.Reason + ")"
		}
		if st.Node != "" {
			how += " on " + st.Node
		}
		b.nodeLost(r.j, st, r.place.Node)
		if st.State == "OUT_OF_MEMORY" {
			m := max(2*b.memory(r.j), 1<<30) // memory takes b.mu itself
			b.mu.Lock()
			b.oom[r.j.ID] = m
			b.mu.Unlock()
		}
	}
	return fmt.Errorf("%s job %s %s without a result (%w)", b.Cluster.Kind(), r.id, how, executor.ErrInfrastructure)
}

// appendJobOut copies the job's own output, where the worker reports what
// happened before it could open the build log.
func (b *Builder) appendJobOut(r *run) {
	data, err := readTail(filepath.Join(r.dir, jobOut), 16<<10)
	if err != nil || len(strings.TrimSpace(string(data))) == 0 {
		return
	}
	r.note("output of %s job %s:", b.Cluster.Kind(), r.id)
	r.log.Write(data)
}

// abort cancels the attempt's job and waits until the cluster says it is
// gone, so that nothing is left running behind an interrupted apply.
func (b *Builder) abort(ctx context.Context, r *run) (executor.Output, error) {
	out := executor.Output{ExitCode: -1}
	bg := context.WithoutCancel(ctx)
	r.note("cancelling %s job %s", b.Cluster.Kind(), r.id)
	if err := b.Cluster.Cancel(bg, r.id); err != nil {
		r.note("%v; the next apply cancels it", err)
		out.Detached = true
		return out, ctx.Err()
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b.poll.expire()
		st, known, err := b.poll.state(bg, r.id)
		if err == nil && known && st.Node != "" && r.place.Node == "" {
			b.place(r, st.Node) // it ran there, however briefly
		}
		if err == nil && (!known || st.Phase == Ended) {
			break
		}
		if time.Now().After(deadline) {
			r.note("%s job %s is still %s after scancel; the next apply cancels it", b.Cluster.Kind(), r.id, strings.ToLower(st.State))
			out.Detached = true
			break
		}
		time.Sleep(tick)
	}
	r.remote.copy(r.log)
	return out, ctx.Err()
}

// finish turns the worker's result into the attempt's Output.
func (b *Builder) finish(r *run, res *Result) (executor.Output, error) {
	r.remote.copy(r.log)
	out := executor.Output{ExitCode: res.ExitCode, MaxRSS: res.MaxRSS}
	if res.Node != "" && r.place.Node != res.Node {
		b.place(r, res.Node)
	}
	defer b.tidy(r)
	kind := b.Cluster.Kind()
	if res.JobID != r.j.ID {
		b.appendJobOut(r)
		return out, fmt.Errorf("%s job %s: the result is for %q, not this build: %s (%w)", kind, r.id, res.JobID, res.Error, executor.ErrInfrastructure)
	}
	switch res.Outcome {
	case OutcomeBuilt:
		if err := checkFiles(r.dir, r.j, res.Files); err != nil {
			return out, fmt.Errorf("%s job %s on %s: %w", kind, r.id, res.Node, err)
		}
		out.Files = res.Files
		return out, nil
	case OutcomeFailed:
		err := fmt.Errorf("build failed on %s (%s job %s): %s", res.Node, kind, r.id, res.Error)
		if res.Transient {
			err = fmt.Errorf("%w (%w)", err, executor.ErrTransient)
		}
		return out, err
	case OutcomeAborted:
		// The cluster stopped the worker; it says why once the job ends.
		how := "was stopped"
		if st, known := b.endState(r); known {
			b.nodeLost(r.j, st, res.Node)
			how = "ended " + st.State
			if st.Reason != "" {
				how += " (" + st.Reason + ")"
			}
		}
		return out, fmt.Errorf("%s job %s %s on %s before the build ended (%w)", kind, r.id, how, res.Node, executor.ErrInfrastructure)
	}
	b.appendJobOut(r)
	b.nodeLost(r.j, JobState{State: nodeFail}, res.Node)
	return out, fmt.Errorf("node %s could not run the build (%s job %s): %s (%w)", res.Node, kind, r.id, res.Error, executor.ErrInfrastructure)
}

// endState waits a little for the cluster to report the attempt's job as
// ended, and returns its last state.
func (b *Builder) endState(r *run) (JobState, bool) {
	var st JobState
	var known bool
	for range 40 {
		b.poll.expire()
		var err error
		st, known, err = b.poll.state(context.Background(), r.id)
		if err == nil && (!known || st.Phase == Ended) {
			break
		}
		time.Sleep(tick)
	}
	return st, known && st.Phase == Ended
}

// tidy removes the staged copies of a finished attempt; the packages, the
// logs, the request and the result stay until the node's next attempt.
func (b *Builder) tidy(r *run) {
	for _, d := range []string{"src", "deps"} {
		if err := os.RemoveAll(filepath.Join(r.dir, d)); err != nil {
			b.Log.Warn("remove staged files", "dir", r.dir, "err", err)
		}
	}
}

// tail copies what a growing file gained since the last copy.
type tail struct {
	path string
	off  int64
}

func (t *tail) copy(w io.Writer) {
	f, err := os.Open(t.path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(t.off, io.SeekStart); err != nil {
		return
	}
	n, _ := io.Copy(w, f)
	t.off += n
}

func readTail(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		if _, err := f.Seek(fi.Size()-max, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return io.ReadAll(io.LimitReader(f, max))
}

// poller asks the cluster about every followed job in one call, at most
// once per fresh interval, whoever asks.
type poller struct {
	c     Cluster
	fresh time.Duration

	mu    sync.Mutex
	watch map[string]time.Time // job id: when it was first asked about
	snap  map[string]JobState
	at    time.Time
}

func (p *poller) state(ctx context.Context, id string) (JobState, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	since, ok := p.watch[id]
	if !ok {
		since = time.Now()
		p.watch[id] = since
	}
	if time.Since(p.at) < p.fresh && !p.at.After(since) {
		// Submitted after the last look: queued, as far as anyone knows.
		// Waiting for the next look, rather than looking now, keeps a
		// burst of submissions from becoming a burst of squeue calls.
		return JobState{Phase: Queued, State: "SUBMITTED"}, true, nil
	}
	if time.Since(p.at) >= p.fresh {
		ids := make([]string, 0, len(p.watch))
		for w := range p.watch {
			ids = append(ids, w)
		}
		sort.Strings(ids)
		snap, err := p.c.States(ctx, ids)
		if err != nil {
			return JobState{}, false, err
		}
		p.snap, p.at = snap, time.Now()
	}
	st, ok := p.snap[id]
	return st, ok, nil
}

// expire makes the next state call ask the cluster.
func (p *poller) expire() {
	p.mu.Lock()
	p.at = time.Time{}
	p.mu.Unlock()
}

func (p *poller) forget(id string) {
	p.mu.Lock()
	delete(p.watch, id)
	p.mu.Unlock()
}
