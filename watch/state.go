package watch

import (
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/report"
)

// Phases of a daemon, as the status page and /api/status name them.
const (
	PhaseStarting  = "starting"
	PhasePlanning  = "planning"
	PhaseBuilding  = "building"
	PhasePromoting = "promoting"
	PhaseSleeping  = "sleeping"
	PhaseBackoff   = "backing off"
	PhaseStopped   = "stopped"
)

// State is what the daemon is doing, safe for concurrent use: the round
// loop writes it, the status server reads it.
type State struct {
	mu        sync.Mutex
	started   time.Time
	round     int
	phase     string
	since     time.Time
	next      time.Time
	jobs      int // jobs of the running apply
	done      int // of them, decided
	running   map[string]report.Running
	last      *report.Round
	rounds    int // finished rounds
	failed    int // finished rounds with an error
	roundTook time.Duration
	stopping  bool // a stop was asked: no new build starts
}

func newState(now time.Time) *State {
	return &State{started: now, phase: PhaseStarting, since: now, running: map[string]report.Running{}}
}

func (s *State) startRound(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.round, s.phase, s.since, s.next = n, PhasePlanning, time.Now(), time.Time{}
	s.jobs, s.done = 0, 0
	clear(s.running)
}

func (s *State) setPhase(p string, next time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phase, s.since, s.next = p, time.Now(), next
}

func (s *State) setStopping() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopping = true
}

func (s *State) endRound(r report.Round) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = &r
	s.rounds++
	if r.Err != "" {
		s.failed++
	}
	s.roundTook = r.Finished.Sub(r.Started)
	s.jobs, s.done = 0, 0
	clear(s.running)
}

// Snapshot is a consistent copy of the state.
type Snapshot struct {
	Started       time.Time
	Round         int
	Phase         string
	Since         time.Time
	NextRound     time.Time
	Running       []report.Running // by start time
	Queue         int              // jobs of the running apply not yet started
	LastRound     *report.Round
	Rounds        int
	FailedRounds  int
	RoundDuration time.Duration // of the last finished round
	Stopping      bool          // a stop was asked: running builds finish, nothing new starts
}

// Snapshot copies the state.
func (s *State) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Snapshot{Started: s.started, Round: s.round, Phase: s.phase, Since: s.since, NextRound: s.next,
		Queue: max(s.jobs-s.done-len(s.running), 0), Rounds: s.rounds, FailedRounds: s.failed, RoundDuration: s.roundTook, Stopping: s.stopping}
	for _, r := range s.running {
		out.Running = append(out.Running, r)
	}
	slices.SortFunc(out.Running, func(a, b report.Running) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if s.last != nil {
		l := *s.last
		out.LastRound = &l
	}
	return out
}

// Live is the snapshot as the HTML report shows it.
func (s Snapshot) Live() *report.Live {
	phase := s.Phase
	if s.Stopping && s.Phase != PhaseStopped {
		phase += ", stopping (running builds finish, nothing new starts)"
	}
	return &report.Live{Round: s.Round, Phase: phase, Since: s.Since, NextRound: s.NextRound,
		Running: s.Running, Queue: s.Queue, LastRound: s.LastRound}
}

// tracker follows an apply's progress into the state and the log.
type tracker struct {
	state *State
	log   *slog.Logger
}

func (t *tracker) Begin(jobs []*engine.Job, slots int) {
	t.state.mu.Lock()
	t.state.jobs, t.state.done = len(jobs), 0
	t.state.mu.Unlock()
	t.log.Info("apply started", "jobs", len(jobs), "slots", slots)
}

func (t *tracker) Started(j *engine.Job, attempt int, at time.Time) {
	id := j.Pkgbase
	if j.Stage > 0 {
		id += "#" + strconv.Itoa(j.Stage)
	}
	t.state.mu.Lock()
	t.state.running[j.ID] = report.Running{ID: id, Pkgbase: j.Pkgbase, Version: j.Version, Started: at}
	t.state.mu.Unlock()
	t.log.Info("build started", "pkgbase", j.Pkgbase, "version", j.Version, "stage", j.Stage, "attempt", attempt)
}

func (t *tracker) Finished(j *engine.Job, r *engine.Result) {
	t.state.mu.Lock()
	delete(t.state.running, j.ID)
	t.state.done++
	t.state.mu.Unlock()
	if r.Outcome == engine.UpToDate {
		return // one line per stale build is enough
	}
	attrs := []any{"pkgbase", j.Pkgbase, "version", j.Version, "stage", j.Stage, "outcome", r.Outcome.String()}
	if r.Duration > 0 {
		attrs = append(attrs, "seconds", seconds(r.Duration), "peak_rss", r.MaxRSS)
	}
	if r.Reason != "" {
		attrs = append(attrs, "reason", r.Reason)
	}
	if r.Err != nil {
		attrs = append(attrs, "err", r.Err.Error())
	}
	if r.LogPath != "" {
		attrs = append(attrs, "log", r.LogPath)
	}
	switch r.Outcome {
	case engine.Failed, engine.Aborted:
		t.log.Warn("build ended", attrs...)
	default:
		t.log.Info("build ended", attrs...)
	}
}

func (t *tracker) End(s *engine.Summary) {
	t.log.Info("apply ended", "built", s.Count(engine.Built), "failed", s.Count(engine.Failed), "up_to_date", s.Count(engine.UpToDate),
		"remembered", s.Count(engine.Remembered), "skipped", s.Count(engine.Skipped), "aborted", s.Count(engine.Aborted), "seconds", seconds(s.Wall))
}
