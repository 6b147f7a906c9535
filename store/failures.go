package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Failure memory beyond LastFailure: how many times a hash has failed, so
// that a daemon can give a build a second chance before it stops retrying
// it, and a way for a person to clear the memory of a pkgbase.

// FailureCount returns how many builds of this node hash failed since the
// hash last succeeded and since the last ClearFailures of their pkgbase.
// Aborted and skipped builds do not count: they say nothing about the
// inputs. FailureCount(h) > 0 exactly when LastFailure(h) finds a build,
// unless the memory was cleared.
func (s *Store) FailureCount(ctx context.Context, hash string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM builds b
		LEFT JOIN failure_clears c ON c.pkgbase = b.pkgbase
		WHERE b.hash = ? AND b.status = ?
		AND b.id > coalesce((SELECT max(id) FROM builds WHERE hash = ? AND status = ?), 0)
		AND coalesce(b.finished_at, b.started_at) > coalesce(c.cleared_at, 0)`,
		hash, StatusFailed, hash, StatusSucceeded).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count failures of %s: %w", hash, err)
	}
	return n, nil
}

// ClearFailures forgets the failures of every build of pkgbase so far:
// the next apply (or watch round) tries it again. It returns how many
// failed builds it cleared (those that still counted).
func (s *Store) ClearFailures(ctx context.Context, pkgbase string) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM builds b
			LEFT JOIN failure_clears c ON c.pkgbase = b.pkgbase
			WHERE b.pkgbase = ? AND b.status = ?
			AND b.id > coalesce((SELECT max(id) FROM builds WHERE hash = b.hash AND status = ?), 0)
			AND coalesce(b.finished_at, b.started_at) > coalesce(c.cleared_at, 0)`,
			pkgbase, StatusFailed, StatusSucceeded).Scan(&n); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO failure_clears (pkgbase, cleared_at) VALUES (?, ?)
			ON CONFLICT (pkgbase) DO UPDATE SET cleared_at = excluded.cleared_at`, pkgbase, nanos(s.now()))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("clear failures of %s: %w", pkgbase, err)
	}
	return n, nil
}
