package executor

// The scheduling rules, in the order they apply:
//
//  1. A job becomes ready when every in-plan dependency ended Built or
//     UpToDate. When a dependency ends any other way, the job is Skipped
//     with the root cause ("dependency gcc failed"), and so are its own
//     dependents, transitively. With BuildDependentsOfFailed, a dependency
//     that failed (or was skipped because of a failure) does not hold the
//     job back unless it is one of the job's Firm ones: the job is built
//     against the target's binaries for it, as a variant with its own ID
//     (fallback.go).
//  2. A ready job whose ID (node hash) the store holds as built and
//     published ends UpToDate at once, without a build; its recorded files
//     serve as -I for its dependents. This is what makes apply resumable
//     with no --continue flag and makes a second apply build nothing.
//  3. A ready job whose last build with the same ID failed ends Remembered
//     unless RetryFailed is set. Its ID changes when any input changes, so
//     a fixed PKGBUILD is retried without a flag.
//  4. Among ready jobs the highest Priority starts first (the planner
//     gives the critical-path length), ties broken by ID so that a run is
//     reproducible. A job whose Group has a build running waits, and the
//     next eligible job starts instead: a group never blocks other work.
//  5. At most Jobs builds run at once (none with Unlimited), and a slot is
//     refilled as soon as a build ends, so N builds run whenever N jobs are
//     ready. Admission control (admit.go) can hold a ready job further: a
//     memory budget over the jobs' recorded peak RSS, and -j auto's level.
//     A held job is passed over like a busy group's.
//  6. A failure whose error wraps ErrTransient is retried at once, up to
//     Retries more attempts, each with its own log and store record. One
//     that wraps ErrInfrastructure (a Remote builder's node went down) is
//     retried up to InfraRetries more attempts, counted apart.
//     With a Remote builder (remote.go), a job that a dead apply left
//     running for a node is adopted by that node's first attempt, or
//     cancelled when the node is decided without a build.
//  7. With StopOnFailure, the first failure stops starting new builds;
//     running builds finish; so does a closed Drain. A cancelled ctx stops
//     starting new builds and cancels the running ones, which end Aborted
//     and are recorded so. Everything not started ends Skipped with the
//     reason.
//
// Only the coordinating goroutine touches the scheduling state; workers
// report through a channel. That keeps the per-job overhead to a few
// microseconds and the store calls in the order the events happened.

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"
)

// Options are the knobs of a run.
type Options struct {
	Jobs int // concurrent builds; < 1 means 1
	// Unlimited lifts the Jobs cap: every ready job starts at once. It is
	// for Remote builders, whose cluster queues the jobs itself.
	Unlimited bool
	// Auto, when set, is -j auto: the number of builds follows the
	// machine's load, from 1 up to Auto.Max; Jobs is ignored. See admit.go.
	Auto *Auto
	// Memory is a budget, in bytes, for the expected peak RSS of the
	// running builds (build.memory); 0 means none. See admit.go.
	Memory int64
	// DefaultRSS is the peak RSS expected of a job without a recorded one
	// (Job.ExpectedRSS 0), for Memory; 0 means the package's DefaultRSS.
	DefaultRSS    int64
	StopOnFailure bool // stop starting builds after the first failure
	RetryFailed   bool // rebuild jobs that failed before with the same hash
	Retries       int  // extra attempts for transient failures
	// InfraRetries is the number of extra attempts for attempts that the
	// infrastructure failed (ErrInfrastructure), counted apart from Retries.
	InfraRetries int
	NoUpload     bool // build, but publish nothing
	LogDir       string
	KeepLogs     int // newest logs kept per pkgbase; <= 0 keeps all
	// DryRun, when set, receives the commands each stale job would run
	// (build and publish) instead of running them. Nothing is written to
	// the store or the log directory.
	DryRun io.Writer
	// Synced is how many package files the caller copied from upstream
	// (ARCH=any) before the run; the Summary reports it.
	Synced int
	// BuildDependentsOfFailed builds a job whose dependency failed anyway,
	// against the target's binaries for that dependency (see rule 1). It
	// needs Executor.Rehash.
	BuildDependentsOfFailed bool
	// Drain, when closed, stops starting builds; running builds finish
	// (a cancelled ctx aborts them instead). A daemon's first SIGTERM.
	Drain <-chan struct{}
}

// Executor runs jobs. Builder and Recorder are required; Publisher,
// Sources, Progress and Log are optional.
type Executor struct {
	Builder   Builder
	Publisher Publisher
	Recorder  Recorder
	Sources   SourceFetcher
	Progress  Progress
	Log       *slog.Logger
	// Rehash returns the ID of a variant of j: j built against other
	// dependency builds than the plan's. deps maps each of j.Deps to the ID
	// of the job whose build is used (the dependency's own ID, or that of
	// the variant it ran as), or to "" when the target's binaries stand in
	// for it. It is required by BuildDependentsOfFailed and called only
	// from the coordinating goroutine.
	Rehash func(j *Job, deps map[string]string) (string, error)
	Options
}

// Summary is the result of a run.
type Summary struct {
	DryRun  bool
	Jobs    []*Job             // in the order given to Run
	Results map[string]*Result // by job ID
	Start   time.Time
	Wall    time.Duration
	// Busy is the sum of the durations of every attempt: Busy/(Jobs×Wall)
	// is the utilisation of the build slots.
	Busy time.Duration
	// Synced counts the package files copied from upstream, not built.
	Synced int
}

// Count returns the number of jobs that ended with o.
func (s *Summary) Count(o Outcome) int {
	n := 0
	for _, r := range s.Results {
		if r.Outcome == o {
			n++
		}
	}
	return n
}

// OK reports whether every job ended Built or UpToDate: the CLI exits 1
// otherwise.
func (s *Summary) OK() bool {
	for _, r := range s.Results {
		if !r.Outcome.OK() {
			return false
		}
	}
	return true
}

// node is the coordinator's view of a job.
type node struct {
	job        *Job
	index      int // input order
	waiting    int // dependencies not yet Built or UpToDate
	dependents []*node
	files      []string // package files once Built or UpToDate
	result     *Result
	cause      string // for a skipped node: the root failure, "gcc failed"
	// run is the job as it runs once ready: job itself, or a variant of
	// it built against the target's binaries for the dependencies in
	// target (fallback.go).
	run    *Job
	target []*node
}

type readyHeap []*node

func (h readyHeap) Len() int { return len(h) }
func (h readyHeap) Less(i, j int) bool {
	if h[i].job.Priority != h[j].job.Priority {
		return h[i].job.Priority > h[j].job.Priority
	}
	return h[i].job.ID < h[j].job.ID
}
func (h readyHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *readyHeap) Push(x any)   { *h = append(*h, x.(*node)) }
func (h *readyHeap) Pop() any {
	old := *h
	n := old[len(old)-1]
	*h = old[:len(old)-1]
	return n
}

// event is a worker's report to the coordinator.
type event struct {
	n       *node
	attempt int       // started events: the attempt number
	at      time.Time // started events: when
	result  *Result   // nil for a started event
}

// Run runs jobs to completion, cancellation or a stop. It returns an error
// only when the jobs are malformed (duplicate IDs, unknown or cyclic
// dependencies) or, wrapping ctx.Err(), when the run was interrupted; the
// per-job outcomes are in the Summary either way.
func (e *Executor) Run(ctx context.Context, jobs []*Job) (*Summary, error) {
	if e.Builder == nil || e.Recorder == nil {
		return nil, errors.New("executor: Builder and Recorder are required")
	}
	nodes, err := graph(jobs)
	if err != nil {
		return nil, err
	}
	log := e.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	prog := e.Progress
	if prog == nil {
		prog = nopProgress{}
	}
	adm, err := newAdmission(&e.Options)
	if err != nil {
		return nil, err
	}
	c := &coordinator{e: e, log: log, prog: prog, ctx: ctx, byID: make(map[string]*node, len(nodes))}
	for _, n := range nodes {
		c.byID[n.job.ID] = n
	}
	if err := c.beginRemote(ctx, jobs); err != nil {
		return nil, err
	}
	slots := min(adm.cap, len(jobs)) // the most that can run at once
	s := &Summary{DryRun: e.DryRun != nil, Jobs: jobs, Results: make(map[string]*Result, len(jobs)), Start: time.Now(), Synced: e.Synced}
	c.s = s
	prog.Begin(jobs, slots)

	// Events are buffered so that a worker never waits for the coordinator
	// to finish the store reads of a completion before it can exit.
	events := make(chan event, 2*max(slots, 1))
	var tick <-chan time.Time
	if adm.auto != nil {
		t := time.NewTicker(adm.auto.Interval)
		defer t.Stop()
		tick = t.C
	}
	var ready readyHeap
	var queue []*node // nodes whose dependencies are all decided
	for _, n := range nodes {
		if n.waiting == 0 {
			queue = append(queue, n)
		}
	}
	// settle decides the queued nodes that need no build and pushes the
	// rest onto the ready heap.
	// Once the run stops, it still propagates skips, so that a dependent
	// of an aborted build names it, but starts nothing new.
	var stopReason string
	settle := func() {
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			if n.result != nil {
				queue = append(queue, c.finish(n)...)
				continue
			}
			if stopReason != "" {
				continue // left undecided: skipped with stopReason at the end
			}
			if r := c.runAs(n); r != nil {
				n.result = r
				queue = append(queue, c.finish(n)...)
				continue
			}
			if r := c.precheck(n); r != nil {
				n.result = r
				queue = append(queue, c.finish(n)...)
				continue
			}
			heap.Push(&ready, n)
		}
	}
	settle()

	running := 0
	busyGroups := map[string]bool{}
	done := ctx.Done()
	drain := e.Drain
	const drained = "shutting down: the next run builds it"
	for {
		// A cancelled run must start nothing, even when select picked a
		// finished build's event before noticing the cancellation.
		if stopReason == "" && ctx.Err() != nil {
			stopReason, done = "apply interrupted", nil
		}
		select {
		case <-drain:
			drain = nil
			if stopReason == "" {
				stopReason = drained
			}
		default:
		}
		if stopReason == "" {
			var held []*node
			adm.beginPass()
			for !adm.full() && ready.Len() > 0 {
				n := heap.Pop(&ready).(*node)
				if g := n.job.Group; g != "" && busyGroups[g] {
					held = append(held, n)
					continue
				}
				if !adm.admit(n) {
					held = append(held, n)
					continue
				}
				if g := n.job.Group; g != "" {
					busyGroups[g] = true
				}
				adm.start(n)
				running++
				deps := c.depFiles(n)
				go c.work(ctx, n, deps, c.adopt(n), events)
			}
			for _, n := range held {
				heap.Push(&ready, n)
			}
		}
		if running == 0 {
			break
		}
		select {
		case ev := <-events:
			if ev.result == nil {
				prog.Started(ev.n.job, ev.attempt, ev.at)
				continue
			}
			running--
			adm.end(ev.n)
			if g := ev.n.job.Group; g != "" {
				delete(busyGroups, g)
			}
			ev.n.result = ev.result
			s.Busy += ev.result.Duration
			if e.StopOnFailure && stopReason == "" && !ev.result.Outcome.OK() && ev.result.Outcome != Aborted {
				stopReason = "stopped after " + display(ev.n.job) + " failed (--stop-on-failure)"
			}
			queue = append(queue, ev.n)
			settle()
		case <-done:
			done = nil
			if stopReason == "" {
				stopReason = "apply interrupted"
			}
		case <-drain:
			drain = nil
			if stopReason == "" {
				stopReason = drained
			}
		case <-tick:
			var next *node
			if ready.Len() > 0 {
				next = ready[0]
			}
			idle, err := adm.tick(next)
			if err != nil {
				log.Warn("-j auto: cannot sample the load; keeping the level", "err", err)
			} else {
				log.Debug("-j auto", "idle", idle, "level", adm.level, "running", running)
			}
		}
	}
	// Whatever is undecided was never started.
	for _, n := range nodes {
		if n.result == nil {
			n.result = &Result{Outcome: Skipped, Reason: stopReason}
			if stopReason == "" {
				// Unreachable for a well-formed graph; say so rather than
				// report success for jobs that never ran.
				n.result.Reason = "not scheduled"
			}
			c.record(n)
		}
	}
	s.Wall = time.Since(s.Start)
	prog.End(s)
	if err := ctx.Err(); err != nil {
		return s, fmt.Errorf("apply interrupted: %w", err)
	}
	return s, nil
}

// graph validates jobs and links them.
func graph(jobs []*Job) ([]*node, error) {
	byID := make(map[string]*node, len(jobs))
	nodes := make([]*node, len(jobs))
	for i, j := range jobs {
		if j.ID == "" {
			return nil, fmt.Errorf("job %d (%s): empty ID", i, j.Pkgbase)
		}
		if _, dup := byID[j.ID]; dup {
			return nil, fmt.Errorf("job %s (%s): duplicate ID", j.ID, j.Pkgbase)
		}
		n := &node{job: j, index: i}
		byID[j.ID] = n
		nodes[i] = n
	}
	for _, n := range nodes {
		for _, d := range n.job.Deps {
			dn, ok := byID[d]
			if !ok {
				return nil, fmt.Errorf("job %s (%s): dependency %s is not in the plan", n.job.ID, display(n.job), d)
			}
			n.waiting++
			dn.dependents = append(dn.dependents, n)
		}
	}
	// Kahn's algorithm: a job that never becomes ready sits on a cycle.
	wait := make([]int, len(nodes))
	var q []*node
	for i, n := range nodes {
		wait[i] = n.waiting
		if n.waiting == 0 {
			q = append(q, n)
		}
	}
	seen := 0
	for len(q) > 0 {
		n := q[0]
		q = q[1:]
		seen++
		for _, d := range n.dependents {
			if wait[d.index]--; wait[d.index] == 0 {
				q = append(q, d)
			}
		}
	}
	if seen != len(nodes) {
		var stuck []string
		for i, n := range nodes {
			if wait[i] > 0 {
				stuck = append(stuck, display(n.job))
			}
		}
		slices.Sort(stuck)
		return nil, fmt.Errorf("jobs form a dependency cycle (cycles must be split into stages by the plan): %v", stuck)
	}
	return nodes, nil
}

func display(j *Job) string {
	if j.Stage > 0 {
		return fmt.Sprintf("%s (stage %d)", j.Pkgbase, j.Stage)
	}
	return j.Pkgbase
}

type coordinator struct {
	byID map[string]*node
	e    *Executor
	s    *Summary
	log  *slog.Logger
	prog Progress
	ctx  context.Context

	// With a Remote builder: its Recorder, and the jobs that dead applies
	// left running, by job ID, until they are adopted or cancelled.
	remote  Remote
	prec    PlacementRecorder
	orphans map[string]Orphan
}

// beginRemote checks that a Remote builder can place every job and
// collects the orphans it may re-attach to.
func (c *coordinator) beginRemote(ctx context.Context, jobs []*Job) error {
	r, ok := c.e.Builder.(Remote)
	if !ok || c.e.DryRun != nil {
		return nil
	}
	pr, ok := c.e.Recorder.(PlacementRecorder)
	if !ok {
		return fmt.Errorf("executor: the %s builder runs builds on a cluster and needs a Recorder that keeps placements", r.Kind())
	}
	c.remote, c.prec = r, pr
	if err := r.Preflight(ctx, jobs); err != nil {
		return err
	}
	orphans, err := pr.Orphans(ctx)
	if err != nil {
		return fmt.Errorf("look up jobs left by earlier applies: %w", err)
	}
	c.orphans = map[string]Orphan{}
	for _, o := range orphans { // newest first
		if _, dup := c.orphans[o.JobID]; dup {
			// An older job for the same build: the newer one is adopted.
			c.cancelOrphan(o, "a newer job builds the same node")
			continue
		}
		// An orphan whose node is not in this run (--target, a new plan)
		// is left for a later run, which may still want its result.
		if c.byID[o.JobID] != nil {
			c.orphans[o.JobID] = o
		}
	}
	return nil
}

// adopt hands n's orphan, if any, to the attempt that builds n.
func (c *coordinator) adopt(n *node) *Orphan {
	o, ok := c.orphans[n.job.ID]
	if !ok {
		return nil
	}
	delete(c.orphans, n.job.ID)
	return &o
}

// cancelOrphan cancels a job nobody will wait for: its node was decided
// without a build (up to date, a dependency failed, the run stopped).
func (c *coordinator) cancelOrphan(o Orphan, why string) {
	ctx := context.WithoutCancel(c.ctx)
	if err := c.remote.Cancel(ctx, o.Placement); err != nil {
		c.log.Warn("cannot cancel a job left by an earlier apply; the next apply tries again", "job", o.Placement.JobID, "err", err)
		return
	}
	c.log.Info("cancelled a job left by an earlier apply", "job", o.Placement.JobID, "why", why)
	if err := c.prec.Released(ctx, o.BuildID); err != nil {
		c.log.Warn("record a cancelled job", "job", o.Placement.JobID, "err", err)
	}
}

// precheck applies rules 2 and 3 to a ready node: a non-nil result means
// it needs no build.
func (c *coordinator) precheck(n *node) *Result {
	files, ok, err := c.e.Recorder.Succeeded(c.ctx, n.run.ID)
	if err != nil {
		return &Result{Outcome: Failed, Err: fmt.Errorf("%s: look up earlier builds: %w", display(n.job), err)}
	}
	if ok {
		return &Result{Outcome: UpToDate, Files: files, Reason: "built and published with the same inputs"}
	}
	if c.e.RetryFailed {
		return nil
	}
	failed, err := c.e.Recorder.FailedBefore(c.ctx, n.run.ID)
	if err != nil {
		return &Result{Outcome: Failed, Err: fmt.Errorf("%s: look up earlier failures: %w", display(n.job), err)}
	}
	if failed {
		return &Result{Outcome: Remembered, Reason: "failed before with the same inputs (--retry-failed to try again)"}
	}
	return nil
}

// record stores n's result in the summary and reports it.
func (c *coordinator) record(n *node) {
	if _, done := c.s.Results[n.job.ID]; done {
		return
	}
	if n.run != nil {
		n.result.Against = n.run.Against
	}
	c.s.Results[n.job.ID] = n.result
	if o := c.adopt(n); o != nil {
		c.cancelOrphan(*o, n.job.Pkgbase+" is "+n.result.Outcome.String())
	}
	if n.result.Outcome.OK() {
		n.files = n.result.Files
	}
	c.prog.Finished(n.job, n.result)
}

// finish records n's result and returns the dependents it decides: those
// now ready, and, when n did not succeed, those skipped because of it.
func (c *coordinator) finish(n *node) []*node {
	c.record(n)
	var next []*node
	for _, d := range n.dependents {
		if d.result != nil {
			continue // already skipped because of another dependency
		}
		if n.result.Outcome.OK() || c.fallback(n, d) {
			if d.waiting--; d.waiting == 0 {
				next = append(next, d)
			}
			continue
		}
		// Name the root cause, not the chain: a user fixes gcc, not
		// everything between gcc and this job.
		cause := n.cause
		if cause == "" {
			verb := "failed"
			if n.result.Outcome == Aborted {
				verb = "was aborted"
			}
			cause = display(n.job) + " " + verb
		}
		d.cause = cause
		d.result = &Result{Outcome: Skipped, Reason: "dependency " + cause}
		next = append(next, d)
	}
	return next
}

// depFiles returns the package files of n's dependencies, in dependency
// order, for -I.
func (c *coordinator) depFiles(n *node) []string {
	var files []string
	for _, d := range n.job.Deps {
		files = append(files, c.byID[d].files...)
	}
	return files
}
