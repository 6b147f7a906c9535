// Package report owns portmake's HTML report: one self-contained page (no
// JavaScript framework, no network access, charts in inline SVG) that
// shows the latest plan as a filterable table, the build history with
// durations, results and peak memory, a timeline of the last apply with
// its parallelism and critical path, the failing packages with the tail of
// their logs, and the build time of each package over time.
//
// Load reads what the page shows from the state store (and the tails of
// failed builds' logs); Render writes the page; Write puts it in a
// directory. The watch daemon serves the same page live, adding its own
// state (Live). The package only reads: it never writes to the store.
package report

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/store"
)

// Data is everything the page shows.
type Data struct {
	Title     string // e.g. "aarch64 port"
	Generated time.Time

	PlanID   int64 // 0 when no plan is stored
	PlanTime time.Time
	Plan     *planner.Plan

	Applies  []store.Apply // newest first
	Timeline *Gantt        // the last apply; nil when there is none
	History  []store.Build // newest first
	Failures []Failure     // packages whose latest build failed
	Series   []Series      // build time over time, per package
	Live     *Live         // the watch daemon's state; nil for a static report
}

// Failure is a package whose latest build failed, with the end of its log.
type Failure struct {
	Build store.Build
	Tail  []string // last lines of the log
	Note  string   // why there is no tail, e.g. the log was rotated away
}

// Series is the build durations of one pkgbase (one stage of it, for a
// pkgbase built in stages: pkgbase#1), oldest first.
type Series struct {
	Pkgbase string
	Points  []Point
}

// Point is one finished build.
type Point struct {
	At       time.Time
	Duration time.Duration
	Status   string
	Version  string
}

// Live is the state of a running `portmake watch`.
type Live struct {
	Round     int
	Phase     string // e.g. "refreshing", "planning", "building", "sleeping", "backing off"
	Since     time.Time
	NextRound time.Time // zero unless sleeping
	Running   []Running
	Queue     int
	LastRound *Round
}

// Running is a build in progress.
type Running struct {
	ID      string
	Pkgbase string
	Version string
	Started time.Time
}

// Round is the outcome of one watch round.
type Round struct {
	Number     int
	Started    time.Time
	Finished   time.Time
	Built      int
	Failed     int
	Skipped    int
	Remembered int // builds held back by failure memory
	Promoted   int // packages moved from testing to stable
	Err        string
}

// LoadOptions bound what Load reads.
type LoadOptions struct {
	History   int           // builds in the history table (default 200)
	Applies   int           // applies listed (default 20)
	Window    time.Duration // how far back the build-time charts go (default 90 days)
	Series    int           // packages charted (default 12: the slowest)
	TailLines int           // log lines per failure (default 25)
	Now       time.Time     // default time.Now()
}

func (o *LoadOptions) defaults() {
	if o.History <= 0 {
		o.History = 200
	}
	if o.Applies <= 0 {
		o.Applies = 20
	}
	if o.Window <= 0 {
		o.Window = 90 * 24 * time.Hour
	}
	if o.Series <= 0 {
		o.Series = 12
	}
	if o.TailLines <= 0 {
		o.TailLines = 25
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
}

// Load reads the report's data from the store. A store with no plan and no
// build yet gives an (almost) empty page, not an error.
func Load(ctx context.Context, st *store.Store, title string, o LoadOptions) (*Data, error) {
	o.defaults()
	d := &Data{Title: title, Generated: o.Now}
	sp, err := st.PlanDoc(ctx, 0)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		p, err := planner.Decode(sp.Doc)
		if err != nil {
			return nil, fmt.Errorf("plan %d: %w", sp.ID, err)
		}
		d.PlanID, d.PlanTime, d.Plan = sp.ID, sp.CreatedAt, p
	}
	if d.Applies, err = st.Applies(ctx, o.Applies); err != nil {
		return nil, err
	}
	if len(d.Applies) > 0 {
		last := d.Applies[0]
		builds, err := st.Builds(ctx, last.ID)
		if err != nil {
			return nil, err
		}
		plan := d.Plan
		if last.PlanID != d.PlanID {
			plan = nil
			if sp, err := st.PlanDoc(ctx, last.PlanID); err == nil {
				plan, _ = planner.Decode(sp.Doc) // pruned or unreadable: no critical path
			}
		}
		d.Timeline = NewGantt(last, builds, plan, o.Now)
	}
	if d.History, err = st.History(ctx, "", o.History); err != nil {
		return nil, err
	}
	latest, err := st.LatestBuilds(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range latest {
		if b.Status == store.StatusFailed {
			d.Failures = append(d.Failures, failure(b, o.TailLines))
		}
	}
	slices.SortFunc(d.Failures, func(a, b Failure) int { return b.Build.StartedAt.Compare(a.Build.StartedAt) })
	recent, err := st.BuildsSince(ctx, o.Now.Add(-o.Window), 20000)
	if err != nil {
		return nil, err
	}
	d.Series = series(recent, o.Series)
	return d, nil
}

// tailBytes bounds how much of a log Load reads: the tail of a log of
// any size costs the same.
const tailBytes = 32 << 10

// failure reads the end of a failed build's log.
func failure(b store.Build, lines int) Failure {
	f := Failure{Build: b}
	if b.LogPath == "" {
		f.Note = "no log: the build did not start"
		return f
	}
	tail, err := readTail(b.LogPath, tailBytes, lines)
	if err != nil {
		f.Note = "log unavailable: " + err.Error()
		if errors.Is(err, os.ErrNotExist) {
			f.Note = "log " + b.LogPath + " no longer exists (rotated away?)"
		}
		return f
	}
	f.Tail = tail
	return f
}

// ansi matches terminal escape sequences (makepkg colours its messages).
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// readTail returns the last n lines of the file at path, reading at most
// limit bytes from its end, without terminal escapes or other control
// characters.
func readTail(path string, limit int64, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(0, fi.Size()-limit)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if off > 0 {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:] // drop the partial first line
		}
	}
	text := strings.ToValidUTF8(ansi.ReplaceAllString(string(buf), ""), "\uFFFD")
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		// A carriage return rewrites the line on a terminal: keep what
		// is left visible (a CRLF ending rewrites nothing).
		l = strings.TrimRight(l, "\r")
		if j := strings.LastIndexByte(l, '\r'); j >= 0 {
			l = l[j+1:]
		}
		lines[i] = strings.Map(func(r rune) rune {
			if r < ' ' && r != '\t' || r == 0x7f {
				return -1
			}
			return r
		}, l)
	}
	return lines, nil
}

// series groups finished builds per pkgbase and stage (a stage-1 build,
// without checks, is not comparable with a full one) and keeps the n with
// the longest builds.
func series(builds []store.Build, n int) []Series {
	by := map[string]*Series{}
	longest := map[string]time.Duration{}
	for _, b := range builds {
		if b.Duration <= 0 || (b.Status != store.StatusSucceeded && b.Status != store.StatusFailed) {
			continue
		}
		key := nodeID(nil, b)
		s := by[key]
		if s == nil {
			s = &Series{Pkgbase: key}
			by[key] = s
		}
		s.Points = append(s.Points, Point{At: b.StartedAt, Duration: b.Duration, Status: b.Status, Version: b.Version})
		longest[key] = max(longest[key], b.Duration)
	}
	var out []Series
	for _, s := range by {
		slices.SortStableFunc(s.Points, func(a, b Point) int { return a.At.Compare(b.At) })
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Series) int {
		if c := cmp.Compare(longest[b.Pkgbase], longest[a.Pkgbase]); c != 0 {
			return c
		}
		return cmp.Compare(a.Pkgbase, b.Pkgbase)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
