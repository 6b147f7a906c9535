// Package ui renders what an apply does for people: the live progress on
// a terminal, plain progress lines for logs and pipes, the final summary,
// and tables of builds. It formats events the engine reports and does no
// other work.
package ui

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portmake/portmake/engine"
)

// tally is the state both progress views share.
type tally struct {
	total, done, failed int
	slots               int
	meanKnown           time.Duration        // mean expected duration of the jobs that have one
	pending             map[*engine.Job]bool // not started and not decided
	running             map[*engine.Job]time.Time
}

func (t *tally) begin(jobs []*engine.Job, slots int) {
	t.total, t.slots = len(jobs), max(slots, 1)
	t.running = map[*engine.Job]time.Time{}
	t.pending = make(map[*engine.Job]bool, len(jobs))
	var sum time.Duration
	known := 0
	for _, j := range jobs {
		t.pending[j] = true
		if j.ExpectedDuration > 0 {
			known++
			sum += j.ExpectedDuration
		}
	}
	if known > 0 {
		t.meanKnown = sum / time.Duration(known)
	}
}

// eta estimates the time left from the expected durations of past builds:
// the work not started, plus what remains of the running builds, spread
// over the build slots. Jobs without a history count as the mean of those
// with one. It reports false when nothing has a history.
func (t *tally) eta(now time.Time) (time.Duration, bool) {
	if t.meanKnown == 0 {
		return 0, false
	}
	expect := func(j *engine.Job) time.Duration {
		if j.ExpectedDuration > 0 {
			return j.ExpectedDuration
		}
		return t.meanKnown
	}
	var work time.Duration
	for j := range t.pending {
		work += expect(j)
	}
	for j, start := range t.running {
		if left := expect(j) - now.Sub(start); left > 0 {
			work += left
		}
	}
	return work / time.Duration(t.slots), true
}

func (t *tally) started(j *engine.Job, at time.Time) {
	delete(t.pending, j)
	t.running[j] = at
}

func (t *tally) finished(j *engine.Job, r *engine.Result) {
	delete(t.pending, j)
	delete(t.running, j)
	t.done++
	if !r.Outcome.OK() && r.Outcome != engine.Skipped {
		t.failed++
	}
}

func eventLine(j *engine.Job, r *engine.Result, dry bool) string {
	name := label(j) + " " + j.Version
	switch r.Outcome {
	case engine.Built:
		if dry {
			return "would build " + name + againstSuffix(r)
		}
		if r.Reason != "" {
			// An earlier build, published now (not built again).
			return fmt.Sprintf("built   %s: %s%s", name, r.Reason, againstSuffix(r))
		}
		return fmt.Sprintf("built   %s in %s%s", name, short(r.Duration), againstSuffix(r))
	case engine.UpToDate:
		return "up to date " + name + againstSuffix(r)
	case engine.Skipped:
		return fmt.Sprintf("skipped %s: %s", name, r.Reason)
	case engine.Remembered:
		return fmt.Sprintf("failed  %s: %s", name, r.Reason)
	case engine.Aborted:
		return fmt.Sprintf("aborted %s after %s%s", name, short(r.Duration), logSuffix(r))
	default:
		return fmt.Sprintf("failed  %s after %s: %v%s%s", name, short(r.Duration), r.Err, againstSuffix(r), logSuffix(r))
	}
}

// againstSuffix marks a build that used the target's binaries instead of
// a dependency's fresh build.
func againstSuffix(r *engine.Result) string {
	if len(r.Against) == 0 {
		return ""
	}
	return " against the target's " + strings.Join(r.Against, ", ")
}

func logSuffix(r *engine.Result) string {
	if r.LogPath == "" {
		return ""
	}
	return " (log: " + r.LogPath + ")"
}

func short(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	case d >= time.Minute:
		return d.Round(time.Second).String()
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

// PlainProgress prints one line per event, for logs and pipes.
type PlainProgress struct {
	W   io.Writer
	t   tally
	dry bool
}

// NewPlainProgress returns a Progress that writes plain lines to w.
func NewPlainProgress(w io.Writer) *PlainProgress { return &PlainProgress{W: w} }

func (p *PlainProgress) Begin(jobs []*engine.Job, slots int) {
	p.t.begin(jobs, slots)
	fmt.Fprintf(p.W, "apply: %d jobs, %d at a time\n", len(jobs), max(slots, 1))
}

func (p *PlainProgress) Started(j *engine.Job, attempt int, at time.Time) {
	p.t.started(j, at)
	what := "start  "
	if attempt > 1 {
		what = fmt.Sprintf("retry %d", attempt)
	}
	fmt.Fprintf(p.W, "[%*d/%d] %s %s %s\n", digits(p.t.total), p.t.done, p.t.total, what, label(j), j.Version)
}

func (p *PlainProgress) Finished(j *engine.Job, r *engine.Result) {
	p.t.finished(j, r)
	p.dry = p.dry || r.Reason == "dry run"
	fmt.Fprintf(p.W, "[%*d/%d] %s\n", digits(p.t.total), p.t.done, p.t.total, eventLine(j, r, p.dry))
}

func (p *PlainProgress) End(s *engine.Summary) { WriteSummary(p.W, s) }

func digits(n int) int { return len(fmt.Sprint(n)) }

// TTYProgress redraws a live view on a terminal: the finished events
// scroll above one line per running build (with its elapsed time and its
// usual duration) and a status line with done/total, failures and the ETA.
type TTYProgress struct {
	W     io.Writer
	Every time.Duration // redraw period; default 1s

	mu    sync.Mutex
	t     tally
	lines int // lines of the live block on screen
	stop  chan struct{}
	wg    sync.WaitGroup
	now   func() time.Time
	dry   bool
}

// NewTTYProgress returns a live Progress for the terminal w.
func NewTTYProgress(w io.Writer) *TTYProgress {
	return &TTYProgress{W: w, Every: time.Second, now: time.Now}
}

func (p *TTYProgress) Begin(jobs []*engine.Job, slots int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.now == nil {
		p.now = time.Now
	}
	p.t.begin(jobs, slots)
	p.stop = make(chan struct{})
	every := p.Every
	if every <= 0 {
		every = time.Second
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
				p.mu.Lock()
				p.redraw("")
				p.mu.Unlock()
			}
		}
	}()
	p.redraw("")
}

func (p *TTYProgress) Started(j *engine.Job, attempt int, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.t.started(j, at)
	p.redraw("")
}

func (p *TTYProgress) Finished(j *engine.Job, r *engine.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.t.finished(j, r)
	p.dry = p.dry || r.Reason == "dry run"
	p.redraw(eventLine(j, r, p.dry))
}

func (p *TTYProgress) End(s *engine.Summary) {
	if p.stop != nil {
		close(p.stop)
		p.wg.Wait()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	WriteSummary(p.W, s)
}

// clear erases the live block: cursor up over it, then erase to the end
// of the screen.
func (p *TTYProgress) clear() {
	if p.lines > 0 {
		fmt.Fprintf(p.W, "\x1b[%dA\r\x1b[J", p.lines)
		p.lines = 0
	}
}

// redraw prints line (a finished event) above the live block and draws
// the block again. It writes the whole frame at once so that the terminal
// never shows half of it.
func (p *TTYProgress) redraw(line string) {
	var b strings.Builder
	if p.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA\r\x1b[J", p.lines)
	}
	if line != "" {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	now := p.now()
	type run struct {
		j     *engine.Job
		start time.Time
	}
	var runs []run
	for j, s := range p.t.running {
		runs = append(runs, run{j, s})
	}
	slices.SortFunc(runs, func(a, b run) int { return a.start.Compare(b.start) })
	for _, r := range runs {
		fmt.Fprintf(&b, "  building %s %s  %s", label(r.j), r.j.Version, short(now.Sub(r.start).Truncate(time.Second)))
		if r.j.ExpectedDuration > 0 {
			fmt.Fprintf(&b, " / ~%s", short(r.j.ExpectedDuration))
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "[%d/%d] %d running, %d failed", p.t.done, p.t.total, len(runs), p.t.failed)
	if eta, ok := p.t.eta(now); ok {
		fmt.Fprintf(&b, ", ETA %s", short(eta.Truncate(time.Second)))
	}
	b.WriteByte('\n')
	p.lines = len(runs) + 1
	io.WriteString(p.W, b.String())
}

// WriteSummary prints the final summary of a run: the counts, then every
// failure with its log and every skip with its reason.
func WriteSummary(w io.Writer, s *engine.Summary) {
	built := "built"
	if s.DryRun {
		built = "to build"
	}
	fmt.Fprintf(w, "\n%d %s", s.Count(engine.Built), built)
	if s.Synced > 0 {
		synced := "synced"
		if s.DryRun {
			synced = "to sync"
		}
		fmt.Fprintf(w, ", %d %s", s.Synced, synced)
	}
	fmt.Fprintf(w, ", %d failed, %d skipped, %d up to date",
		s.Count(engine.Failed)+s.Count(engine.Remembered)+s.Count(engine.Aborted), s.Count(engine.Skipped), s.Count(engine.UpToDate))
	if !s.DryRun {
		fmt.Fprintf(w, " in %s", short(s.Wall))
	}
	fmt.Fprintln(w)
	var failed, skipped, against []string
	for _, j := range s.Jobs {
		r := s.Results[j.ID]
		if r == nil {
			continue
		}
		if len(r.Against) > 0 && r.Outcome.OK() {
			against = append(against, fmt.Sprintf("  %s %s: the target's %s", label(j), j.Version, strings.Join(r.Against, ", ")))
		}
		switch r.Outcome {
		case engine.Failed, engine.Aborted:
			line := fmt.Sprintf("  %s %s: %s: %v%s", label(j), j.Version, r.Outcome, r.Err, logSuffix(r))
			if r.LogTail != "" {
				line += "\n    | " + strings.ReplaceAll(r.LogTail, "\n", "\n    | ")
			}
			failed = append(failed, line)
		case engine.Remembered:
			failed = append(failed, fmt.Sprintf("  %s %s: %s", label(j), j.Version, r.Reason))
		case engine.Skipped:
			skipped = append(skipped, fmt.Sprintf("  %s %s: %s", label(j), j.Version, r.Reason))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintln(w, "Failed:")
		for _, l := range failed {
			fmt.Fprintln(w, l)
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintln(w, "Skipped:")
		for _, l := range skipped {
			fmt.Fprintln(w, l)
		}
	}
	if len(against) > 0 {
		// They are built again, as planned, once those dependencies build.
		fmt.Fprintln(w, "Built against the target's binaries (rebuilt once those build):")
		for _, l := range against {
			fmt.Fprintln(w, l)
		}
	}
}

// label names a job the way every line shows it: the pkgbase, and its
// stage inside a cycle.
func label(j *engine.Job) string {
	if j.Stage > 0 {
		return fmt.Sprintf("%s (stage %d)", j.Pkgbase, j.Stage)
	}
	return j.Pkgbase
}
