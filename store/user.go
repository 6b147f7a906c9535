package store

import (
	"context"
	"fmt"
	"time"
)

// BuildUser is a system user portmake created to run builds as.
type BuildUser struct {
	Name      string
	UID       int
	Home      string
	CreatedAt time.Time
}

// RecordBuildUser records that portmake created the build user u. Creating
// the same name again (after someone removed it) replaces the record.
func (s *Store) RecordBuildUser(ctx context.Context, u BuildUser) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO build_users (name, uid, home, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET uid = excluded.uid, home = excluded.home, created_at = excluded.created_at`,
		u.Name, u.UID, u.Home, nanos(u.CreatedAt))
	if err != nil {
		return fmt.Errorf("record build user %s: %w", u.Name, err)
	}
	return nil
}

// BuildUsers lists the build users portmake created, oldest first.
func (s *Store) BuildUsers(ctx context.Context) ([]BuildUser, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, uid, home, created_at FROM build_users ORDER BY created_at, name`)
	if err != nil {
		return nil, fmt.Errorf("build users: %w", err)
	}
	defer rows.Close()
	var out []BuildUser
	for rows.Next() {
		var u BuildUser
		var at int64
		if err := rows.Scan(&u.Name, &u.UID, &u.Home, &at); err != nil {
			return nil, fmt.Errorf("build users: %w", err)
		}
		u.CreatedAt = fromNanos(at)
		out = append(out, u)
	}
	return out, rows.Err()
}
