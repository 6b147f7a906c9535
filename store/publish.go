package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Output is one file a build produced, with the sha256 and size recorded
// when the build ended.
type Output struct {
	Path   string
	SHA256 string
	Size   int64
}

// RecordOutputs records the files a finished build produced. Recording
// the same build again replaces its rows.
func (s *Store) RecordOutputs(ctx context.Context, buildID int64, outs []Output) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM build_outputs WHERE build_id = ?`, buildID); err != nil {
			return err
		}
		for i, o := range outs {
			if o.SHA256 == "" {
				return fmt.Errorf("%s: no sha256", o.Path)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO build_outputs (build_id, seq, path, sha256, size) VALUES (?, ?, ?, ?, ?)`,
				buildID, i, o.Path, o.SHA256, o.Size); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record the outputs of build %d: %w", buildID, err)
	}
	return nil
}

// Outputs returns what RecordOutputs recorded for a build, in order.
func (s *Store) Outputs(ctx context.Context, buildID int64) ([]Output, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT path, sha256, size FROM build_outputs WHERE build_id = ? ORDER BY seq`, buildID)
	if err != nil {
		return nil, fmt.Errorf("outputs of build %d: %w", buildID, err)
	}
	var out []Output
	for rows.Next() {
		var o Output
		if err := rows.Scan(&o.Path, &o.SHA256, &o.Size); err != nil {
			rows.Close()
			return nil, fmt.Errorf("outputs of build %d: %w", buildID, err)
		}
		out = append(out, o)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("outputs of build %d: %w", buildID, err)
	}
	return out, nil
}

// Unpublished returns the newest build with this node hash that succeeded
// but was never published, when no build with the hash was published
// since, with its recorded outputs; nil when there is none.
func (s *Store) Unpublished(ctx context.Context, hash string) (*Build, []Output, error) {
	b, err := s.oneBuild(ctx, "unpublished build of "+hash,
		`WHERE hash = ? AND status = ? ORDER BY id DESC LIMIT 1`, hash, StatusSucceeded)
	if err != nil || b == nil || b.Published() {
		return nil, nil, err
	}
	outs, err := s.Outputs(ctx, b.ID)
	if err != nil || len(outs) == 0 {
		return nil, nil, err
	}
	return b, outs, nil
}

// OutputBySHA256 returns the newest recorded build output with this
// sha256, or nil: where a repair finds the bytes a repository DB lists.
func (s *Store) OutputBySHA256(ctx context.Context, sha string) (*Output, error) {
	var o Output
	err := s.db.QueryRowContext(ctx, `SELECT path, sha256, size FROM build_outputs WHERE sha256 = ? ORDER BY build_id DESC LIMIT 1`, sha).
		Scan(&o.Path, &o.SHA256, &o.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("output with sha256 %s: %w", sha, err)
	}
	return &o, nil
}

// Origins of published files.
const (
	OriginBuilt    = "built"
	OriginSynced   = "synced"
	OriginPromoted = "promoted"
)

// PublishedFile is a package file a published repository holds.
type PublishedFile struct {
	Repo    string
	Name    string
	SHA256  string
	Size    int64
	Signed  bool
	ETag    string // the backend's version token once published
	Origin  string
	BuildID int64 // 0: the newest build whose recorded output has this sha256, if any
}

// RecordPublished records files a repository DB now lists, replacing the
// records of the same names.
func (s *Store) RecordPublished(ctx context.Context, files []PublishedFile) error {
	now := nanos(s.now())
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, f := range files {
			if f.Repo == "" || f.Name == "" || f.SHA256 == "" {
				return fmt.Errorf("published file %+v: repo, name and sha256 are required", f)
			}
			origin := f.Origin
			if origin == "" {
				origin = OriginBuilt
			}
			build := sql.NullInt64{Int64: f.BuildID, Valid: f.BuildID > 0}
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO published_files
				(repo, name, sha256, size, signed, etag, origin, build_id, published_at) VALUES (?, ?, ?, ?, ?, ?, ?,
				COALESCE(?, (SELECT build_id FROM build_outputs WHERE sha256 = ? ORDER BY build_id DESC LIMIT 1)), ?)`,
				f.Repo, f.Name, f.SHA256, f.Size, f.Signed, f.ETag, origin, build, f.SHA256, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record published files: %w", err)
	}
	return nil
}

// RecordRemoved forgets files a repository DB no longer lists.
func (s *Store) RecordRemoved(ctx context.Context, repo string, names []string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, n := range names {
			if _, err := tx.ExecContext(ctx, `DELETE FROM published_files WHERE repo = ? AND name = ?`, repo, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record files removed from %s: %w", repo, err)
	}
	return nil
}

// PublishedFiles returns what the store knows a repository holds, by name.
func (s *Store) PublishedFiles(ctx context.Context, repo string) ([]PublishedFile, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT repo, name, sha256, size, signed, etag, origin, COALESCE(build_id, 0)
		FROM published_files WHERE repo = ? ORDER BY name`, repo)
	if err != nil {
		return nil, fmt.Errorf("published files of %s: %w", repo, err)
	}
	var out []PublishedFile
	for rows.Next() {
		var f PublishedFile
		if err := rows.Scan(&f.Repo, &f.Name, &f.SHA256, &f.Size, &f.Signed, &f.ETag, &f.Origin, &f.BuildID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("published files of %s: %w", repo, err)
		}
		out = append(out, f)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("published files of %s: %w", repo, err)
	}
	return out, nil
}

// Unpublish records that files were taken out of a repository DB because
// their bytes were lost or wrong: their rows go, and the builds they came
// from no longer count as published, so the next apply builds those nodes
// again. It returns the pkgbases of those builds.
func (s *Store) Unpublish(ctx context.Context, repo string, names []string) ([]string, error) {
	var bases []string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		seen := map[string]bool{}
		for _, n := range names {
			var build sql.NullInt64
			err := tx.QueryRowContext(ctx, `SELECT build_id FROM published_files WHERE repo = ? AND name = ?`, repo, n).Scan(&build)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if build.Valid {
				var base, hash string
				if err := tx.QueryRowContext(ctx, `SELECT pkgbase, hash FROM builds WHERE id = ?`, build.Int64).Scan(&base, &hash); err != nil {
					return err
				}
				// Every published build of that hash: LastSuccess must not
				// find an older one either.
				if _, err := tx.ExecContext(ctx, `UPDATE builds SET published_at = NULL WHERE hash = ? AND published_at IS NOT NULL`, hash); err != nil {
					return err
				}
				if !seen[base] {
					seen[base] = true
					bases = append(bases, base)
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM published_files WHERE repo = ? AND name = ?`, repo, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("unpublish %s from %s: %w", strings.Join(names, ", "), repo, err)
	}
	return bases, nil
}
