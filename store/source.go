package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Resolution is a cached network answer of source resolution: which commit
// a URL's ref pointed at, and when that was asked. Whether an old answer is
// still good (a tag rarely moves, a branch often does) is the caller's
// decision, made with ResolvedAt.
type Resolution struct {
	Key        string // what was asked, for example "<url> <ref>"
	URL        string
	Ref        string
	Commit     string
	ResolvedAt time.Time
}

// SourceResolution returns the cached resolution of key, or nil when there
// is none.
func (s *Store) SourceResolution(ctx context.Context, key string) (*Resolution, error) {
	r := Resolution{Key: key}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT url, ref, commit_id, resolved_at FROM source_resolutions WHERE key = ?`, key).
		Scan(&r.URL, &r.Ref, &r.Commit, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("source resolution %q: %w", key, err)
	}
	r.ResolvedAt = fromNanos(at)
	return &r, nil
}

// SourceResolutions returns every cached resolution by key. A planner with
// thousands of sources reads them all at once rather than one query each.
func (s *Store) SourceResolutions(ctx context.Context) (map[string]Resolution, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, url, ref, commit_id, resolved_at FROM source_resolutions`)
	if err != nil {
		return nil, fmt.Errorf("source resolutions: %w", err)
	}
	out := map[string]Resolution{}
	for rows.Next() {
		var r Resolution
		var at int64
		if err := rows.Scan(&r.Key, &r.URL, &r.Ref, &r.Commit, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("source resolutions: %w", err)
		}
		r.ResolvedAt = fromNanos(at)
		out[r.Key] = r
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("source resolutions: %w", err)
	}
	return out, nil
}

// SaveSourceResolution records (or replaces) one resolution.
func (s *Store) SaveSourceResolution(ctx context.Context, r *Resolution) error {
	return s.SaveSourceResolutions(ctx, []Resolution{*r})
}

// SaveSourceResolutions records (or replaces) resolutions in one
// transaction. A zero ResolvedAt means now.
func (s *Store) SaveSourceResolutions(ctx context.Context, rs []Resolution) error {
	if len(rs) == 0 {
		return nil
	}
	now := s.now()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO source_resolutions (key, url, ref, commit_id, resolved_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET url = excluded.url, ref = excluded.ref,
				commit_id = excluded.commit_id, resolved_at = excluded.resolved_at`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, r := range rs {
			if r.Key == "" {
				return fmt.Errorf("resolution of %s %s has no key", r.URL, r.Ref)
			}
			at := r.ResolvedAt
			if at.IsZero() {
				at = now
			}
			if _, err := st.ExecContext(ctx, r.Key, r.URL, r.Ref, r.Commit, nanos(at)); err != nil {
				return fmt.Errorf("%q: %w", r.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save source resolutions: %w", err)
	}
	return nil
}
