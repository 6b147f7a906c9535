package report

import (
	"slices"
	"strconv"
	"time"

	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/store"
)

// The timeline of an apply.
//
// Builds are laid out in lanes: each build takes the first lane that is
// free when it starts, so the number of lanes is the apply's peak
// parallelism, and a gap in a lane is a moment that lane was idle.
//
// The critical path is the chain of builds that decided when the apply
// ended: start at the build that finished last, step to the dependency
// (in the apply's plan) that finished last, and repeat. Every build on it
// was waited for by the next one, so shortening any of them would have
// ended the apply sooner. Without the plan (pruned, or an apply of no
// stored plan) there is no critical path.

// Gantt is the timeline of one apply.
type Gantt struct {
	Apply      store.Apply
	Start, End time.Time
	Bars       []Bar          // in start order
	Lanes      int            // peak parallelism
	Skipped    []store.Build  // builds that never ran
	Critical   []string       // node IDs on the critical path, first build first
	CritBuild  time.Duration  // the build time summed along the critical path
	NoPlan     bool           // the plan was not available: no critical path
	Running    int            // builds still running
	Statuses   map[string]int // builds per status
}

// Bar is one build on the timeline.
type Bar struct {
	Build      store.Build
	ID         string // the plan's node ID (pkgbase, pkgbase#1, ...)
	Start, End time.Time
	Lane       int
	Critical   bool
}

// NewGantt lays out the builds of apply a. p is the plan the apply ran
// (nil when unavailable); now ends the bars of builds still running.
func NewGantt(a store.Apply, builds []store.Build, p *planner.Plan, now time.Time) *Gantt {
	g := &Gantt{Apply: a, Start: a.StartedAt, End: a.FinishedAt, NoPlan: p == nil, Statuses: map[string]int{}}
	if g.End.IsZero() {
		g.End = now
	}
	// The last attempt of each node is the one that counts.
	last := map[string]int{}
	for _, b := range builds {
		g.Statuses[b.Status]++
		if b.Status == store.StatusSkipped {
			g.Skipped = append(g.Skipped, b)
			continue
		}
		bar := Bar{Build: b, ID: nodeID(p, b), Start: b.StartedAt, End: b.FinishedAt}
		if b.Duration > 0 {
			bar.End = b.StartedAt.Add(b.Duration)
		}
		if b.Status == store.StatusRunning || bar.End.IsZero() {
			bar.End = now
			g.Running++
		}
		bar.End = maxTime(bar.End, bar.Start)
		g.End = maxTime(g.End, bar.End)
		if g.Start.IsZero() || bar.Start.Before(g.Start) {
			g.Start = bar.Start
		}
		last[bar.ID] = len(g.Bars)
		g.Bars = append(g.Bars, bar)
	}
	slices.SortStableFunc(g.Bars, func(x, y Bar) int { return x.Start.Compare(y.Start) })
	var laneEnd []time.Time
	for i := range g.Bars {
		b := &g.Bars[i]
		lane := slices.IndexFunc(laneEnd, func(t time.Time) bool { return !t.After(b.Start) })
		if lane < 0 {
			lane = len(laneEnd)
			laneEnd = append(laneEnd, time.Time{})
		}
		b.Lane, laneEnd[lane] = lane, b.End
	}
	g.Lanes = len(laneEnd)
	if p != nil {
		g.criticalPath(p)
	}
	return g
}

func (g *Gantt) criticalPath(p *planner.Plan) {
	byID := map[string]int{}
	for i, b := range g.Bars {
		if j, ok := byID[b.ID]; !ok || g.Bars[j].Start.Before(b.Start) {
			byID[b.ID] = i
		}
	}
	cur := -1
	for i, b := range g.Bars {
		if cur < 0 || b.End.After(g.Bars[cur].End) {
			cur = i
		}
	}
	var chain []int
	seen := map[int]bool{}
	for cur >= 0 && !seen[cur] {
		seen[cur] = true
		chain = append(chain, cur)
		n := p.Node(g.Bars[cur].ID)
		next := -1
		if n != nil {
			for _, d := range n.Deps {
				if j, ok := byID[d.ID]; ok && (next < 0 || g.Bars[j].End.After(g.Bars[next].End)) {
					next = j
				}
			}
		}
		cur = next
	}
	slices.Reverse(chain)
	for _, i := range chain {
		g.Bars[i].Critical = true
		g.Critical = append(g.Critical, g.Bars[i].ID)
		g.CritBuild += g.Bars[i].End.Sub(g.Bars[i].Start)
	}
}

// nodeID names a build the way the plan names its node: the node of that
// pkgbase and stage, else the pkgbase (with #stage for a staged build).
func nodeID(p *planner.Plan, b store.Build) string {
	if p != nil {
		for _, n := range p.NodesOf(b.Pkgbase) {
			if n.Stage == b.Stage {
				return n.ID
			}
		}
	}
	if b.Stage > 0 {
		return b.Pkgbase + "#" + strconv.Itoa(b.Stage)
	}
	return b.Pkgbase
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
