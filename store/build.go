package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Statuses of applies and builds. A build is recorded "running" before it
// starts and gets one of the final statuses when it ends; an apply likewise.
const (
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusAborted   = "aborted" // interrupted: a signal, or the process died (RecoverInterrupted)
	StatusSkipped   = "skipped" // not built, for example because a dependency failed
	// StatusInfraFailed is a build that the infrastructure failed (a
	// cluster node went down, the job hit its time limit): it says
	// nothing about the build's inputs, so failure memory ignores it.
	StatusInfraFailed = "infra-failed"
)

// Apply is one run of `portmake apply`.
type Apply struct {
	ID         int64
	PlanID     int64 // 0 when the apply has no stored plan
	PID        int
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
	Status     string
}

// Build is one build attempt of a plan node.
type Build struct {
	ID          int64
	ApplyID     int64
	Pkgbase     string
	Version     string
	Hash        string // the node hash
	Stage       int
	Attempt     int // 1 for the first try, 2 for the first automatic retry, ...
	Status      string
	StartedAt   time.Time
	FinishedAt  time.Time // zero while running
	LogPath     string
	PublishedAt time.Time // zero until MarkPublished
	// Against names the in-plan dependencies for which this build used
	// the target's existing binaries instead of their fresh builds (their
	// build failed, or was not part of the run); nil when it used them all.
	Against []string
	BuildResult
	Placement
}

// Placement is where a build attempt ran, for builds run as jobs of a
// cluster; empty for local builds.
type Placement struct {
	Backend string // "slurm"
	JobID   string // the cluster's job id
	Node    string // the node it ran on; "" until known
	JobDir  string // the attempt's directory in the shared work directory
}

// BuildResult is what a finished build reports.
type BuildResult struct {
	Duration time.Duration
	PeakRSS  int64 // bytes, of the build's whole process tree
	ExitCode int
	Error    string
	Files    []string // the package files it produced
}

// Published reports whether the build's files were published to the
// target repository.
func (b *Build) Published() bool { return !b.PublishedAt.IsZero() }

// StartApply records the start of an apply by process pid.
func (s *Store) StartApply(ctx context.Context, planID int64, pid int) (int64, error) {
	plan := sql.NullInt64{Int64: planID, Valid: planID > 0}
	res, err := s.exec(ctx, `INSERT INTO applies (plan_id, pid, pid_start, started_at, status)
		VALUES (?, ?, ?, ?, ?)`, plan, pid, procStart(pid), nanos(s.now()), StatusRunning)
	if err != nil {
		return 0, fmt.Errorf("start apply of plan %d: %w", planID, err)
	}
	return res.LastInsertId()
}

// FinishApply records the end of an apply with a final status.
func (s *Store) FinishApply(ctx context.Context, applyID int64, status string) error {
	if status == StatusRunning || status == StatusSkipped || !validStatus(status) {
		return fmt.Errorf("finish apply %d: bad status %q", applyID, status)
	}
	res, err := s.exec(ctx, `UPDATE applies SET status = ?, finished_at = ? WHERE id = ? AND status = ?`,
		status, nanos(s.now()), applyID, StatusRunning)
	if err != nil {
		return fmt.Errorf("finish apply %d: %w", applyID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("finish apply %d: %w", applyID, s.notRunning(ctx, "applies", applyID))
	}
	return nil
}

// LastApply returns the newest apply, or nil when there has been none.
func (s *Store) LastApply(ctx context.Context) (*Apply, error) {
	var a Apply
	var plan sql.NullInt64
	var started int64
	var finished sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT id, plan_id, pid, started_at, finished_at, status
		FROM applies ORDER BY id DESC LIMIT 1`).Scan(&a.ID, &plan, &a.PID, &started, &finished, &a.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("last apply: %w", err)
	}
	a.PlanID = plan.Int64
	a.StartedAt, a.FinishedAt = fromNanos(started), fromNullNanos(finished)
	return &a, nil
}

func validStatus(s string) bool {
	switch s {
	case StatusRunning, StatusSucceeded, StatusFailed, StatusAborted, StatusSkipped, StatusInfraFailed:
		return true
	}
	return false
}

// notRunning explains why an update of a running row changed nothing.
func (s *Store) notRunning(ctx context.Context, table string, id int64) error {
	var status string
	// table is one of our own constant names, never user input.
	err := s.db.QueryRowContext(ctx, `SELECT status FROM `+table+` WHERE id = ?`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("it is %s, not running", status)
}

// StartBuild records a build as running before it starts and returns its
// id. A zero StartedAt means now; a zero Attempt means 1. b's ID and Status
// are ignored.
func (s *Store) StartBuild(ctx context.Context, b *Build) (int64, error) {
	if b.Pkgbase == "" {
		return 0, errors.New("start build: no pkgbase")
	}
	started := b.StartedAt
	if started.IsZero() {
		started = s.now()
	}
	attempt := max(b.Attempt, 1)
	against, err := json.Marshal(nonNil(b.Against))
	if err != nil {
		return 0, fmt.Errorf("start build of %s: %w", b.Pkgbase, err)
	}
	res, err := s.exec(ctx, `INSERT INTO builds (apply_id, pkgbase, version, hash, stage, attempt,
		status, started_at, log_path, against) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.ApplyID, b.Pkgbase, b.Version, b.Hash, b.Stage, attempt, StatusRunning, nanos(started), b.LogPath, string(against))
	if err != nil {
		return 0, fmt.Errorf("start build of %s %s (apply %d): %w", b.Pkgbase, b.Version, b.ApplyID, err)
	}
	return res.LastInsertId()
}

// FinishBuild records the end of a running build: succeeded, failed,
// aborted or skipped. Finishing a build that is not running is an error,
// so a result is never recorded twice.
func (s *Store) FinishBuild(ctx context.Context, id int64, status string, r BuildResult) error {
	if status == StatusRunning || !validStatus(status) {
		return fmt.Errorf("finish build %d: bad status %q", id, status)
	}
	files, err := json.Marshal(nonNil(r.Files))
	if err != nil {
		return fmt.Errorf("finish build %d: %w", id, err)
	}
	res, err := s.exec(ctx, `UPDATE builds SET status = ?, finished_at = ?, duration_ns = ?,
		peak_rss = ?, exit_code = ?, error = ?, files = ? WHERE id = ? AND status = ?`,
		status, nanos(s.now()), int64(r.Duration), r.PeakRSS, r.ExitCode, r.Error, string(files), id, StatusRunning)
	if err != nil {
		return fmt.Errorf("finish build %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("finish build %d: %w", id, s.notRunning(ctx, "builds", id))
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// MarkPublished records that a succeeded build's files are in the target
// repository and its DB. Call it only after the DB write: from then on
// LastSuccess counts the build, and the node is no longer stale.
func (s *Store) MarkPublished(ctx context.Context, buildID int64) error {
	res, err := s.exec(ctx, `UPDATE builds SET published_at = ? WHERE id = ? AND status = ?`,
		nanos(s.now()), buildID, StatusSucceeded)
	if err != nil {
		return fmt.Errorf("mark build %d published: %w", buildID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var status string
		err := s.db.QueryRowContext(ctx, `SELECT status FROM builds WHERE id = ?`, buildID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("mark build %d published: %w", buildID, ErrNotFound)
		}
		return fmt.Errorf("mark build %d published: it is %s, not succeeded", buildID, status)
	}
	return nil
}

const buildCols = `id, apply_id, pkgbase, version, hash, stage, attempt, status, started_at, finished_at,
	duration_ns, peak_rss, exit_code, error, log_path, files, published_at, against, backend, job_id, node, job_dir`

type scanner interface{ Scan(...any) error }

func scanBuild(sc scanner) (*Build, error) {
	var b Build
	var started int64
	var finished, published sql.NullInt64
	var dur int64
	var files, against string
	if err := sc.Scan(&b.ID, &b.ApplyID, &b.Pkgbase, &b.Version, &b.Hash, &b.Stage, &b.Attempt, &b.Status,
		&started, &finished, &dur, &b.PeakRSS, &b.ExitCode, &b.Error, &b.LogPath, &files, &published, &against,
		&b.Backend, &b.JobID, &b.Node, &b.JobDir); err != nil {
		return nil, err
	}
	b.StartedAt, b.FinishedAt, b.PublishedAt = fromNanos(started), fromNullNanos(finished), fromNullNanos(published)
	b.Duration = time.Duration(dur)
	if err := json.Unmarshal([]byte(files), &b.Files); err != nil {
		return nil, fmt.Errorf("build %d: files: %w", b.ID, err)
	}
	if len(b.Files) == 0 {
		b.Files = nil
	}
	if err := json.Unmarshal([]byte(against), &b.Against); err != nil {
		return nil, fmt.Errorf("build %d: against: %w", b.ID, err)
	}
	if len(b.Against) == 0 {
		b.Against = nil
	}
	return &b, nil
}

// oneBuild runs a query for at most one build; no row is (nil, nil).
func (s *Store) oneBuild(ctx context.Context, what, query string, args ...any) (*Build, error) {
	b, err := scanBuild(s.db.QueryRowContext(ctx, `SELECT `+buildCols+` FROM builds `+query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
}

func (s *Store) builds(ctx context.Context, what, query string, args ...any) ([]Build, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+buildCols+` FROM builds `+query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var out []Build
	for rows.Next() {
		b, err := scanBuild(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, *b)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Build returns one build by id; a missing one wraps ErrNotFound.
func (s *Store) Build(ctx context.Context, id int64) (*Build, error) {
	b, err := s.oneBuild(ctx, fmt.Sprintf("build %d", id), `WHERE id = ?`, id)
	if err == nil && b == nil {
		err = fmt.Errorf("build %d: %w", id, ErrNotFound)
	}
	return b, err
}

// LastSuccess returns the newest build with this node hash that succeeded
// and was published, or nil. This is the rebuild rule's question: a node
// is stale unless LastSuccess finds a build.
func (s *Store) LastSuccess(ctx context.Context, hash string) (*Build, error) {
	return s.oneBuild(ctx, "last success of "+hash,
		`WHERE hash = ? AND status = ? AND published_at IS NOT NULL ORDER BY id DESC LIMIT 1`, hash, StatusSucceeded)
}

// LastFailure returns the newest failed build with this node hash, or nil
// when there is none or a later build of the hash succeeded. Aborted and
// skipped builds say nothing about the inputs and are ignored. This is
// failure memory: the same hash is not retried unless asked to; a changed
// hash is a new node with no memory.
func (s *Store) LastFailure(ctx context.Context, hash string) (*Build, error) {
	b, err := s.oneBuild(ctx, "last failure of "+hash,
		`WHERE hash = ? AND status IN (?, ?) ORDER BY id DESC LIMIT 1`, hash, StatusSucceeded, StatusFailed)
	if err != nil || b == nil || b.Status != StatusFailed {
		return nil, err
	}
	return b, nil
}

// LastSuccessOf returns the newest succeeded and published build of
// pkgbase (any hash), or nil: what `portmake explain` compares a node's
// hash inputs against (with HashInputs(b.Hash)).
func (s *Store) LastSuccessOf(ctx context.Context, pkgbase string) (*Build, error) {
	return s.oneBuild(ctx, "last success of "+pkgbase,
		`WHERE pkgbase = ? AND status = ? AND published_at IS NOT NULL ORDER BY id DESC LIMIT 1`, pkgbase, StatusSucceeded)
}

// History returns the builds of pkgbase (all pkgbases when empty), newest
// first, at most limit of them (limit <= 0: all).
func (s *Store) History(ctx context.Context, pkgbase string, limit int) ([]Build, error) {
	if limit <= 0 {
		limit = -1
	}
	if pkgbase == "" {
		return s.builds(ctx, "build history", `ORDER BY id DESC LIMIT ?`, limit)
	}
	return s.builds(ctx, "build history of "+pkgbase, `WHERE pkgbase = ? ORDER BY id DESC LIMIT ?`, pkgbase, limit)
}

// Builds returns the builds of one apply in the order they started.
func (s *Store) Builds(ctx context.Context, applyID int64) ([]Build, error) {
	return s.builds(ctx, fmt.Sprintf("builds of apply %d", applyID), `WHERE apply_id = ? ORDER BY id`, applyID)
}

// RecoverInterrupted finds applies and builds left "running" by a process
// that is gone (kill -9, a crash, a power loss) and marks them aborted. It
// returns how many builds it marked. Rows of live processes, including
// this one, are left alone.
func (s *Store) RecoverInterrupted(ctx context.Context) (int, error) {
	now := nanos(s.now())
	total := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, pid, pid_start FROM applies a WHERE status = ?
			OR EXISTS (SELECT 1 FROM builds b WHERE b.apply_id = a.id AND b.status = ?)`, StatusRunning, StatusRunning)
		if err != nil {
			return err
		}
		type apply struct {
			id       int64
			pid      int
			pidStart int64
		}
		var dead []apply
		for rows.Next() {
			var a apply
			if err := rows.Scan(&a.id, &a.pid, &a.pidStart); err != nil {
				rows.Close()
				return err
			}
			if !processAlive(a.pid, a.pidStart) {
				dead = append(dead, a)
			}
		}
		if err := closeRows(rows); err != nil {
			return err
		}
		for _, a := range dead {
			res, err := tx.ExecContext(ctx, `UPDATE builds SET status = ?, finished_at = ?, error = ?
				WHERE apply_id = ? AND status = ?`, StatusAborted, now,
				fmt.Sprintf("interrupted: apply process %d is gone", a.pid), a.id, StatusRunning)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += int(n)
			if _, err := tx.ExecContext(ctx, `UPDATE applies SET status = ?, finished_at = ? WHERE id = ? AND status = ?`,
				StatusAborted, now, a.id, StatusRunning); err != nil {
				return err
			}
			s.log().Warn("recovered an interrupted apply", "apply", a.id, "pid", a.pid, "builds_aborted", n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("recover interrupted builds in %s: %w", s.path, err)
	}
	return total, nil
}
