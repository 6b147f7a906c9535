package executor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// work runs every attempt of one job and reports to the coordinator.
// Transient build failures and infrastructure failures are retried, each
// up to its own count, so that a flaky farm does not use up the retries of
// a flaky download and the other way round. adopt is a remote job an
// earlier apply left for this node; only the first attempt adopts it.
func (c *coordinator) work(ctx context.Context, n *node, deps []string, adopt *Orphan, events chan<- event) {
	if c.e.DryRun != nil {
		events <- event{n: n, result: c.dryRun(ctx, n.run, deps)}
		return
	}
	if r := c.publishEarlier(ctx, n.run); adopt == nil && r != nil {
		events <- event{n: n, result: r}
		return
	}
	var r *Result
	transient, infra := 0, 0
	for attempt := 1; ; attempt++ {
		start := time.Now()
		events <- event{n: n, attempt: attempt, at: start}
		r = c.attempt(ctx, n.run, deps, attempt, start, adopt)
		adopt = nil
		if r.Outcome != Failed || ctx.Err() != nil {
			break
		}
		if errors.Is(r.Err, ErrInfrastructure) && infra < c.e.InfraRetries {
			infra++
			c.log.Info("retrying after an infrastructure failure", "pkgbase", n.job.Pkgbase, "attempt", attempt, "err", r.Err, "log", r.LogPath)
			continue
		}
		if errors.Is(r.Err, ErrTransient) && !errors.Is(r.Err, ErrInfrastructure) && transient < c.e.Retries {
			transient++
			c.log.Info("retrying a transient failure", "pkgbase", n.job.Pkgbase, "attempt", attempt, "err", r.Err, "log", r.LogPath)
			continue
		}
		break
	}
	events <- event{n: n, result: r}
}

// attempt runs one build attempt: log, store record, sources, build,
// publish, in that order, each recorded before the next begins.
func (c *coordinator) attempt(ctx context.Context, j *Job, deps []string, attempt int, start time.Time, adopt *Orphan) *Result {
	r := &Result{Attempt: attempt, Start: start, ExitCode: -1}
	defer func() { r.Duration = time.Since(start) }()
	// The store and the log must learn how an attempt ended even when the
	// ending is a cancellation.
	bg := context.WithoutCancel(ctx)

	var err error
	var out io.Writer = io.Discard
	var blog *BuildLog
	if c.e.LogDir != "" {
		blog, err = CreateLog(c.e.LogDir, LogHeader{Job: j, Attempt: attempt, Builder: c.e.Builder.Kind(), Start: start})
		if err != nil {
			r.Outcome, r.Err = Failed, err
			return r
		}
		r.LogPath = blog.Path
		out = blog
	}
	// The end of the output says why a build failed; keep it for the
	// summary.
	tw := &tailWriter{w: out, max: 4 << 10}
	out = tw
	defer func() {
		if r.Outcome == Failed {
			r.LogTail = lastLines(tw.tail(), logTailLines)
		}
	}()
	closeLog := func() {
		if blog == nil {
			return
		}
		r.Duration = time.Since(start)
		if err := blog.Close(r); err != nil {
			c.log.Warn("build log", "err", err)
		}
		if err := RotateLogs(c.e.LogDir, j.Pkgbase, c.e.KeepLogs); err != nil {
			c.log.Warn("rotate build logs", "err", err)
		}
	}
	defer closeLog()

	id, err := c.e.Recorder.Started(ctx, j, attempt, r.LogPath)
	if err != nil {
		r.Outcome, r.Err = Failed, fmt.Errorf("%s: record build start: %w", display(j), err)
		if ctx.Err() != nil {
			r.Outcome = Aborted
		}
		return r
	}
	// Sources first, then the argv: the commands are computed once, from
	// the prepared job, and the log records exactly what runs.
	run, err := c.prepare(ctx, j, out)
	var cmds []Command
	if err == nil {
		cmds, err = c.e.Builder.Commands(run, deps)
	}
	if err == nil && blog != nil {
		err = blog.WriteCommands(cmds)
	}
	if err == nil {
		var o Output
		if c.remote != nil {
			o, err = c.remoteBuild(ctx, run, out, deps, attempt, id, adopt)
		} else {
			o, err = c.e.Builder.Build(ctx, run, out, deps)
		}
		r.ExitCode, r.MaxRSS, r.Files, r.SHA256 = o.ExitCode, o.MaxRSS, o.Files, o.SHA256
	}
	switch {
	case err != nil && ctx.Err() != nil:
		r.Outcome, r.Err = Aborted, fmt.Errorf("%s: %w", display(j), err)
	case err != nil:
		r.Outcome, r.Err = Failed, fmt.Errorf("%s: %w", display(j), err)
	default:
		r.Outcome = Built
		c.hashOutputs(r)
	}
	r.Duration = time.Since(start)
	if err := c.e.Recorder.Finished(bg, id, r); err != nil {
		// The build may be fine, but a result the store does not hold is
		// not a result: the next run would not know about it.
		r.Outcome, r.Err = Failed, errors.Join(r.Err, fmt.Errorf("%s: record build result: %w", display(j), err))
		return r
	}
	if r.Outcome != Built || c.e.NoUpload || j.Publish == "" || c.e.Publisher == nil {
		return r
	}
	// Publishing runs to its end even after a cancellation: it takes
	// seconds, and a finished build that is not published would have to be
	// built again.
	c.publish(bg, j, id, r, out)
	return r
}

// publish publishes a built result and records it; a failure fails r.
func (c *coordinator) publish(ctx context.Context, j *Job, id int64, r *Result, out io.Writer) {
	published, err := c.e.Publisher.Publish(ctx, j.Publish, r.Files, r.SHA256)
	if err != nil {
		r.Outcome, r.Err = Failed, fmt.Errorf("%s: publish to %s: %w", display(j), j.Publish, err)
		fmt.Fprintf(out, "\n==> portmake: %v\n", r.Err)
		return
	}
	fmt.Fprintf(out, "\n==> portmake: published to %s:\n", j.Publish)
	for _, f := range published {
		fmt.Fprintf(out, "  %s\n", f)
	}
	if err := c.e.Recorder.Published(ctx, id, published); err != nil {
		r.Outcome, r.Err = Failed, fmt.Errorf("%s: record publication: %w", display(j), err)
	}
}

// hashOutputs fills r.SHA256 for the files the builder did not hash, at
// the end of the build. A file it cannot read stays without a sum, and a
// publisher refuses it.
func (c *coordinator) hashOutputs(r *Result) {
	for _, f := range r.Files {
		if r.SHA256[f] != "" {
			continue
		}
		sum, err := fileSHA256(f)
		if err != nil {
			c.log.Warn("cannot hash a built file", "file", f, "err", err)
			continue
		}
		if r.SHA256 == nil {
			r.SHA256 = map[string]string{}
		}
		r.SHA256[f] = sum
	}
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// publishEarlier publishes the files of an earlier build of j that
// succeeded but was never published, when the Recorder knows one and its
// files still have their recorded bytes; nil means j must be built.
func (c *coordinator) publishEarlier(ctx context.Context, j *Job) *Result {
	un, ok := c.e.Recorder.(Unpublished)
	if !ok || c.e.NoUpload || j.Publish == "" || c.e.Publisher == nil {
		return nil
	}
	id, files, sums, ok, err := un.Unpublished(ctx, j.ID)
	if err != nil || !ok || len(files) == 0 {
		if err != nil {
			c.log.Warn("look up an unpublished build", "pkgbase", j.Pkgbase, "err", err)
		}
		return nil
	}
	for _, f := range files {
		if got, err := fileSHA256(f); err != nil || sums[f] == "" || got != sums[f] {
			c.log.Info("an earlier build's files changed or are gone; building again", "pkgbase", j.Pkgbase, "build", id, "file", f)
			return nil
		}
	}
	start := time.Now()
	r := &Result{Outcome: Built, Reason: "built earlier, published now", Files: files, SHA256: sums, Start: start, ExitCode: 0}
	c.publish(context.WithoutCancel(ctx), j, id, r, io.Discard)
	r.Duration = time.Since(start)
	return r
}

// remoteBuild runs one attempt on the Remote builder, recording where it
// runs. Once it returns, its job has ended (or was cancelled), so neither
// the attempt nor an adopted orphan is left for a later apply to watch,
// unless the builder says the job may still be running.
func (c *coordinator) remoteBuild(ctx context.Context, j *Job, log io.Writer, deps []string, attempt int, id int64, adopt *Orphan) (Output, error) {
	bg := context.WithoutCancel(ctx)
	a := Attempt{Number: attempt, BuildID: id, Place: func(p Placement) error { return c.prec.Placed(bg, id, p) }}
	if adopt != nil {
		a.Adopt = &adopt.Placement
	}
	o, err := c.remote.BuildAttempt(ctx, j, log, deps, a)
	if adopt != nil {
		if rerr := c.prec.Released(bg, adopt.BuildID); rerr != nil {
			c.log.Warn("record a re-attached job", "build", adopt.BuildID, "err", rerr)
		}
	}
	if !o.Detached {
		if rerr := c.prec.Released(bg, id); rerr != nil {
			c.log.Warn("record the end of a job", "build", id, "err", rerr)
		}
	}
	return o, err
}

// prepare runs the source fetcher, if any, and returns the job an attempt
// runs.
func (c *coordinator) prepare(ctx context.Context, j *Job, log io.Writer) (*Job, error) {
	if c.e.Sources == nil {
		return j, nil
	}
	prep, err := c.e.Sources.Fetch(ctx, j, log)
	if err != nil {
		return nil, fmt.Errorf("prepare sources: %w", err)
	}
	return prep.Apply(j), nil
}

// dryRun prints what a build of j would run and reports the files it
// would produce, so that dependents print their -I arguments. It prepares
// the sources as a build would (they decide the argv) but builds nothing.
func (c *coordinator) dryRun(ctx context.Context, j *Job, deps []string) *Result {
	w := c.e.DryRun
	r := &Result{Outcome: Built, Reason: "dry run"}
	fmt.Fprintf(w, "# build %s %s [%s]\n", display(j), j.Version, j.ID)
	if len(j.Against) > 0 {
		fmt.Fprintf(w, "# against the target's %s\n", strings.Join(j.Against, ", "))
	}
	run, err := c.prepare(ctx, j, io.Discard)
	if err != nil {
		r.Outcome, r.Err = Failed, fmt.Errorf("%s: %w", display(j), err)
		fmt.Fprintf(w, "# %v\n", r.Err)
		return r
	}
	j = run
	cmds, err := c.e.Builder.Commands(j, deps)
	if err != nil {
		r.Outcome, r.Err = Failed, fmt.Errorf("%s: %w", display(j), err)
		return r
	}
	for _, cmd := range cmds {
		fmt.Fprintln(w, cmd)
	}
	files, err := c.e.Builder.PackageList(ctx, j)
	if err != nil {
		// The source may not be fetched in a dry run; name the packages
		// by what is known rather than fail the preview.
		files = []string{fmt.Sprintf("<packages of %s %s>", j.Pkgbase, j.Version)}
		fmt.Fprintf(w, "# (package list unknown: %v)\n", err)
	}
	r.Files = files
	if !c.e.NoUpload && j.Publish != "" && c.e.Publisher != nil {
		fmt.Fprintf(w, "# publish %s to %s\n", display(j), j.Publish)
		for _, cmd := range c.e.Publisher.Commands(j.Publish, files) {
			fmt.Fprintln(w, cmd)
		}
	}
	return r
}

type nopProgress struct{}

func (nopProgress) Begin([]*Job, int)            {}
func (nopProgress) Started(*Job, int, time.Time) {}
func (nopProgress) Finished(*Job, *Result)       {}
func (nopProgress) End(*Summary)                 {}

// logTailLines is how many lines of a failed build's output the summary
// shows.
const logTailLines = 8

// lastLines returns the last n non-empty lines of b.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var keep []string
	for i := len(lines) - 1; i >= 0 && len(keep) < n; i-- {
		if l := strings.TrimRight(lines[i], "\r"); strings.TrimSpace(l) != "" {
			keep = append(keep, l)
		}
	}
	slices.Reverse(keep)
	return strings.Join(keep, "\n")
}
