package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Place records where build id runs, before and while it runs, so that a
// killed apply leaves the job findable: the build holds the job open
// until ReleaseJob. Recording a job that an earlier build holds open
// (re-attaching to it) releases it there, in the same transaction, so the
// job is held by exactly one build at every moment.
//
// A placement with a directory and no job id is a submission under way:
// recorded before the cluster is asked, it lets the next apply find a job
// whose id this one never learnt (killed between the two).
func (s *Store) Place(ctx context.Context, id int64, p Placement) error {
	if p.Backend == "" || (p.JobID == "" && p.JobDir == "") {
		return fmt.Errorf("place build %d: no backend, or neither a job id nor a directory", id)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE builds SET backend = ?, job_id = ?, node = ?, job_dir = ?, job_open = 1
			WHERE id = ?`, p.Backend, p.JobID, p.Node, p.JobDir, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if p.JobID == "" {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE builds SET job_open = 0
			WHERE job_open = 1 AND backend = ? AND job_id = ? AND id != ?`, p.Backend, p.JobID, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("place build %d on %s job %s: %w", id, p.Backend, p.JobID, err)
	}
	return nil
}

// ReleaseJob records that build id's job needs no more watching: it ended,
// was cancelled, or another build took it over.
func (s *Store) ReleaseJob(ctx context.Context, id int64) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE builds SET job_open = 0 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("release the job of build %d: %w", id, err)
	}
	return nil
}

// OpenJobs returns the builds whose jobs may still run with no apply
// watching them (their apply was killed; RecoverInterrupted has marked
// them aborted), newest first. A running build of a live apply is not
// among them.
func (s *Store) OpenJobs(ctx context.Context) ([]Build, error) {
	return s.builds(ctx, "open jobs", `WHERE job_open = 1 AND status != ? ORDER BY id DESC`, StatusRunning)
}

// Footprint is what the last successful build of a pkgbase cost.
type Footprint struct {
	Duration time.Duration
	PeakRSS  int64 // bytes
}

// Footprints returns the footprint of the last succeeded build of each
// pkgbase that has one: the expected duration (for the ETA and the
// memory scheduler's backfill) and peak RSS (for memory packing and a
// cluster job's memory request) of its next build.
func (s *Store) Footprints(ctx context.Context) (map[string]Footprint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT pkgbase, duration_ns, peak_rss FROM builds
		WHERE id IN (SELECT MAX(id) FROM builds WHERE status = ? GROUP BY pkgbase)`, StatusSucceeded)
	if err != nil {
		return nil, fmt.Errorf("build footprints: %w", err)
	}
	out := map[string]Footprint{}
	for rows.Next() {
		var pkgbase string
		var dur, rss int64
		if err := rows.Scan(&pkgbase, &dur, &rss); err != nil {
			rows.Close()
			return nil, fmt.Errorf("build footprints: %w", err)
		}
		out[pkgbase] = Footprint{Duration: time.Duration(dur), PeakRSS: rss}
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("build footprints: %w", err)
	}
	return out, nil
}
