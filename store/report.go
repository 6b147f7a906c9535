package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Read methods for reports and monitoring (`portmake report`, the watch
// status server): whole-history questions that the apply path never asks.

// Applies returns the newest applies first, at most limit of them (limit
// <= 0: all).
func (s *Store) Applies(ctx context.Context, limit int) ([]Apply, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, plan_id, pid, started_at, finished_at, status
		FROM applies ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list applies in %s: %w", s.path, err)
	}
	var out []Apply
	for rows.Next() {
		var a Apply
		var plan, finished sql.NullInt64
		var started int64
		if err := rows.Scan(&a.ID, &plan, &a.PID, &started, &finished, &a.Status); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list applies in %s: %w", s.path, err)
		}
		a.PlanID = plan.Int64
		a.StartedAt, a.FinishedAt = fromNanos(started), fromNullNanos(finished)
		out = append(out, a)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("list applies in %s: %w", s.path, err)
	}
	return out, nil
}

// LatestBuilds returns the newest build of every pkgbase and stage, sorted
// by pkgbase then stage: the current state of each package, for example
// which ones are failing now.
func (s *Store) LatestBuilds(ctx context.Context) ([]Build, error) {
	return s.builds(ctx, "latest builds", `WHERE id IN (SELECT max(id) FROM builds GROUP BY pkgbase, stage)
		ORDER BY pkgbase, stage`)
}

// BuildsSince returns the builds started at or after t, oldest first, at
// most limit of them (the newest; limit <= 0: all).
func (s *Store) BuildsSince(ctx context.Context, t time.Time, limit int) ([]Build, error) {
	if limit <= 0 {
		limit = -1
	}
	return s.builds(ctx, "builds since "+t.Format(time.RFC3339),
		`WHERE id IN (SELECT id FROM builds WHERE started_at >= ? ORDER BY id DESC LIMIT ?) ORDER BY id`, nanos(t), limit)
}

// BuildCounts returns how many builds ended in each status, over the whole
// history (running builds count as "running").
func (s *Store) BuildCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, count(*) FROM builds GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count builds in %s: %w", s.path, err)
	}
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count builds in %s: %w", s.path, err)
		}
		out[status] = n
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("count builds in %s: %w", s.path, err)
	}
	return out, nil
}

// LastSuccesses returns, per pkgbase, when its newest published successful
// build finished.
func (s *Store) LastSuccesses(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT pkgbase, max(finished_at) FROM builds
		WHERE status = ? AND published_at IS NOT NULL GROUP BY pkgbase`, StatusSucceeded)
	if err != nil {
		return nil, fmt.Errorf("last successes in %s: %w", s.path, err)
	}
	out := map[string]time.Time{}
	for rows.Next() {
		var pkgbase string
		var at sql.NullInt64
		if err := rows.Scan(&pkgbase, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("last successes in %s: %w", s.path, err)
		}
		out[pkgbase] = fromNullNanos(at)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("last successes in %s: %w", s.path, err)
	}
	return out, nil
}
