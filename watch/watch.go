// Package watch owns `portmake watch`: the daemon that keeps a port in step
// with upstream, round after round (what auto_builder.py did). A round
// refreshes the repository databases (conditional GETs: an unchanged
// mirror costs one request per database), plans, applies what is stale
// and, when asked, promotes from testing to stable; then the daemon sleeps
// for the interval, with jitter.
//
// The daemon holds the state store's lock for its whole life (one daemon
// per store, and no `portmake apply` beside it). No error of a round stops
// it: a mirror down, a plan that fails, an apply that fails are logged and
// the next round comes after a bounded exponential backoff. A build that
// fails twice with the same inputs is not retried until they change or
// `portmake retry` clears it. The first stop request (Drain) lets running
// builds finish, or aborts them with Options.Abort; cancelling the context
// aborts them at once. Either way every build's end is recorded.
//
// It also serves, when asked, a read-only HTTP status page (server.go).
// The package drives the engine only; it must not reach into the store,
// the executor or the planner on its own.
package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/report"
)

// Port is what the daemon needs of an opened port: *engine.Port.
type Port interface {
	Lock(ctx context.Context) (release func() error, err error)
	Plan(ctx context.Context, o engine.PlanOptions) (*engine.PlanResult, error)
	Apply(ctx context.Context, o engine.ApplyOptions, prog engine.Progress) (*engine.ApplyResult, error)
	Report(ctx context.Context, o report.LoadOptions) (*report.Data, error)
	Stats(ctx context.Context) (*engine.Stats, error)
	Promote(ctx context.Context, o engine.PromoteOptions) ([]*engine.PromotePlan, error)
}

// Options configure a daemon. Zero values take the documented defaults.
type Options struct {
	Interval   time.Duration // between rounds (default 15m)
	Jitter     float64       // fraction of Interval added or taken at random (default 0.1; negative: none)
	MinBackoff time.Duration // wait after a failed round (default 30s), doubled per failed round in a row
	MaxBackoff time.Duration // longest wait after failed rounds (default: Interval)
	Rounds     int           // stop after this many rounds; 0 runs until stopped
	// FailureLimit is how many failures of the same inputs stop a build
	// from being retried (default 2).
	FailureLimit int
	// Abort makes the first stop request abort running builds instead of
	// letting them finish.
	Abort bool
	Plan  engine.PlanOptions  // Refresh is forced on for the plan
	Apply engine.ApplyOptions // PlanID, Drain, LockHeld and FailureLimit are set per round
	// Promote runs `portmake promote` after each round that built
	// something: every testing repository's packages whose dependencies
	// the stable repositories satisfy move there.
	Promote bool
	Log     *slog.Logger
	// Notify receives systemd notifications (READY=1, STATUS=...,
	// WATCHDOG=1, STOPPING=1); nil sends none.
	Notify func(state string) error
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = 15 * time.Minute
	}
	if o.Jitter == 0 {
		o.Jitter = 0.1
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 30 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = o.Interval
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.FailureLimit <= 0 {
		o.FailureLimit = 2
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Notify == nil {
		o.Notify = func(string) error { return nil }
	}
}

// Daemon runs rounds. Create it with New.
type Daemon struct {
	port  Port
	o     Options
	state *State
}

// New returns a daemon over an opened port.
func New(p Port, o Options) *Daemon {
	o.defaults()
	return &Daemon{port: p, o: o, state: newState(time.Now())}
}

// State is the daemon's live state, for the status server.
func (d *Daemon) State() *State { return d.state }

// ErrRoundFailed is returned by Run when Options.Rounds is set and the
// last round failed, or a build of it failed or is held by failure memory
// (as apply exits 1 then): `watch --once` exits 1.
var ErrRoundFailed = errors.New("the round failed")

// Run takes the state lock and runs rounds until the context is cancelled
// (running builds are aborted), drain is closed (running builds finish,
// unless Options.Abort), or Options.Rounds are done. It returns an error
// only when it cannot start (the lock is held by another process) or, with
// Options.Rounds, when the last round did not go well.
func (d *Daemon) Run(ctx context.Context, drain <-chan struct{}) error {
	o := &d.o
	release, err := d.port.Lock(ctx)
	if err != nil {
		return err
	}
	defer release()
	if o.Abort {
		// The first stop request aborts: derive the context from it.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-drain:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	go func() {
		select {
		case <-drain:
			d.state.setStopping()
			d.notify("STOPPING=1")
		case <-ctx.Done():
		}
	}()
	d.notify("READY=1")
	defer d.notify("STOPPING=1")
	stopWatchdog := d.watchdog()
	defer stopWatchdog()
	o.Log.Info("watch started", "interval", o.Interval.String(), "jitter", max(o.Jitter, 0), "failure_limit", o.FailureLimit)
	failed := 0
	for n := 1; ; n++ {
		if stopping(ctx, drain) {
			break
		}
		r := d.round(ctx, drain, n)
		last := o.Rounds > 0 && n >= o.Rounds
		if stopping(ctx, drain) || last {
			if last && (r.Err != "" || r.Failed > 0 || r.Remembered > 0) {
				return fmt.Errorf("round %d: %w", n, ErrRoundFailed)
			}
			break
		}
		wait := d.jittered(o.Interval)
		if r.Err != "" {
			failed++
			wait = d.backoff(failed)
			o.Log.Error("round failed; backing off", "round", n, "err", r.Err, "failed_rounds", failed, "retry_in", wait.Round(time.Millisecond).String())
			d.state.setPhase(PhaseBackoff, time.Now().Add(wait))
		} else {
			failed = 0
			d.state.setPhase(PhaseSleeping, time.Now().Add(wait))
		}
		d.notify(fmt.Sprintf("STATUS=round %d done; next at %s", n, time.Now().Add(wait).Format(time.TimeOnly)))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-drain:
		}
		t.Stop()
	}
	d.state.setPhase(PhaseStopped, time.Time{})
	o.Log.Info("watch stopped")
	return nil
}

func stopping(ctx context.Context, drain <-chan struct{}) bool {
	if ctx.Err() != nil {
		return true
	}
	select {
	case <-drain:
		return true
	default:
		return false
	}
}

// backoff is the wait after n failed rounds in a row: MinBackoff doubled
// n-1 times, at most MaxBackoff, with jitter.
func (d *Daemon) backoff(n int) time.Duration {
	w := d.o.MinBackoff
	for i := 1; i < n && w < d.o.MaxBackoff; i++ {
		w *= 2
	}
	return d.jittered(min(w, d.o.MaxBackoff))
}

// jittered spreads w by ±Jitter, so that daemons of several ports do not
// hit a mirror in step.
func (d *Daemon) jittered(w time.Duration) time.Duration {
	if d.o.Jitter <= 0 {
		return w
	}
	f := 1 + d.o.Jitter*(2*rand.Float64()-1)
	return time.Duration(float64(w) * f)
}

// round runs one round and records its outcome in the state.
func (d *Daemon) round(ctx context.Context, drain <-chan struct{}, n int) report.Round {
	o := &d.o
	r := report.Round{Number: n, Started: time.Now()}
	log := o.Log.With("round", n)
	d.state.startRound(n)
	d.notify(fmt.Sprintf("STATUS=round %d: planning", n))
	finish := func() report.Round {
		r.Finished = time.Now()
		d.state.endRound(r)
		attrs := []any{"built", r.Built, "failed", r.Failed, "skipped", r.Skipped, "remembered", r.Remembered, "promoted", r.Promoted, "seconds", seconds(r.Finished.Sub(r.Started))}
		if r.Err != "" {
			log.Warn("round ended with an error", append(attrs, "err", r.Err)...)
		} else {
			log.Info("round finished", attrs...)
		}
		return r
	}
	po := o.Plan
	po.Refresh = true
	pr, err := d.port.Plan(ctx, po)
	if err != nil {
		r.Err = "plan: " + err.Error()
		return finish()
	}
	log.Info("planned", "plan", pr.ID, "reused", pr.Reused, "builds", len(pr.Plan.Nodes))
	d.state.setPhase(PhaseBuilding, time.Time{})
	d.notify(fmt.Sprintf("STATUS=round %d: applying plan %d", n, pr.ID))
	ao := o.Apply
	ao.PlanID, ao.Plan = pr.ID, po
	ao.Plan.Refresh = false // the databases were just fetched; this only checks the plan against them
	ao.LockHeld, ao.FailureLimit, ao.Drain = true, o.FailureLimit, drain
	res, err := d.port.Apply(ctx, ao, &tracker{state: d.state, log: log})
	if res != nil && res.Summary != nil {
		s := res.Summary
		r.Built, r.Failed, r.Skipped, r.Remembered = s.Count(engine.Built), s.Count(engine.Failed)+s.Count(engine.Aborted), s.Count(engine.Skipped), s.Count(engine.Remembered)
	}
	if err != nil {
		r.Err = "apply: " + err.Error()
		return finish()
	}
	if o.Promote && r.Built > 0 && !stopping(ctx, drain) {
		d.state.setPhase(PhasePromoting, time.Time{})
		d.notify(fmt.Sprintf("STATUS=round %d: promoting", n))
		plans, err := d.port.Promote(ctx, engine.PromoteOptions{})
		for _, p := range plans {
			for _, m := range p.Moves {
				log.Info("promoted", "from", p.From, "to", p.To, "pkgbase", m.Pkgbase, "version", m.Version)
			}
			for _, h := range p.Held {
				log.Info("held in testing", "from", p.From, "to", p.To, "pkgbase", h.Pkgbase, "version", h.Version, "reasons", h.Reasons)
			}
			r.Promoted += len(p.Moves)
		}
		if err != nil {
			r.Err = "promote: " + err.Error()
		}
	}
	return finish()
}

func (d *Daemon) notify(state string) {
	if err := d.o.Notify(state); err != nil {
		d.o.Log.Warn("systemd notification failed", "state", state, "err", err)
	}
}

// seconds is a duration as logs carry it: a number, in seconds, to the
// millisecond.
func seconds(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }
