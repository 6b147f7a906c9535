package engine

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/portmake/portmake/store"
)

// What a long-running front end (the watch daemon) needs beyond plan and
// apply: holding the state lock for its lifetime, clearing failure memory,
// and the numbers its metrics report.

// Lock recovers what a killed apply left and takes the state store's
// apply lock for this process until release is called. While it is held,
// another daemon or `portmake apply` on the same store is refused; pass
// ApplyOptions.LockHeld to the applies made under it.
func (p *Port) Lock(ctx context.Context) (release func() error, err error) {
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	if _, err := st.RecoverInterrupted(ctx); err != nil {
		return nil, err
	}
	release, err = st.Lock(ctx, os.Getpid(), time.Now())
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", st.Path(), err)
	}
	return release, nil
}

// Retry clears the failure memory of a pkgbase (`portmake retry`): its
// failed builds no longer keep it from being built. It returns how many
// failed builds still counted. A pkgbase with no build at all is an error:
// it is most likely a typo, or a pkgname instead of a pkgbase.
func (p *Port) Retry(ctx context.Context, pkgbase string) (int, error) {
	st, err := p.Store()
	if err != nil {
		return 0, err
	}
	h, err := st.History(ctx, pkgbase, 1)
	if err != nil {
		return 0, err
	}
	if len(h) == 0 {
		return 0, fmt.Errorf("retry %s: no build of that pkgbase in the history (see portmake history)", pkgbase)
	}
	return st.ClearFailures(ctx, pkgbase)
}

// Stats are the numbers a daemon's metrics report, from the store.
type Stats struct {
	Builds map[string]int // builds per final status, whole history
	// LastSuccess is, per repository of the latest plan, when a build of
	// one of its pkgbases last succeeded and was published.
	LastSuccess map[string]time.Time
	Failing     int // pkgbases whose latest build failed
}

// Stats reads the store's counters.
func (p *Port) Stats(ctx context.Context) (*Stats, error) {
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	s := &Stats{LastSuccess: map[string]time.Time{}}
	if s.Builds, err = st.BuildCounts(ctx); err != nil {
		return nil, err
	}
	latest, err := st.LatestBuilds(ctx)
	if err != nil {
		return nil, err
	}
	failing := map[string]bool{}
	for _, b := range latest {
		if b.Status == store.StatusFailed {
			failing[b.Pkgbase] = true
		}
	}
	s.Failing = len(failing)
	last, err := st.LastSuccesses(ctx)
	if err != nil || len(last) == 0 {
		return s, err
	}
	pr, err := p.LoadPlan(ctx, 0)
	if err != nil {
		return s, nil // no plan yet: no repository to attribute successes to
	}
	for pkgbase, at := range last {
		b, ok := pr.Plan.Status(pkgbase)
		if !ok || b.Repo == "" {
			continue
		}
		if at.After(s.LastSuccess[b.Repo]) {
			s.LastSuccess[b.Repo] = at
		}
	}
	return s, nil
}
