// Package store owns portmake's state database (state.db, SQLite): stored
// plans with their inputs, nodes and edges; the source resolution cache;
// applies and builds with their results; and the one-apply-at-a-time lock.
//
// It is the only package in portmake that imports database/sql. It offers
// methods that say what they mean (SavePlan, StartBuild, LastSuccess) and
// plain record structs of its own; it must not import the planner, the
// executor or the language layer, and it holds no planning or scheduling
// logic: it records and answers.
//
// # Durability
//
// The database runs in WAL mode with synchronous=NORMAL: a commit is safe
// against a crash of portmake (kill -9) at any moment, and a power loss can
// at worst lose the last commits, never corrupt the file. A busy timeout
// lets several processes (a running apply and a `portmake status`) share
// the file. Transactions start IMMEDIATE, so a read-then-write transaction
// (the lock, recovery) holds the write lock from its first statement and
// two processes cannot both decide they own the lock.
//
// # Schema
//
// The schema is a series of numbered migrations embedded in the binary
// (migrations/NNNN_name.sql), applied in order, each in its own transaction
// together with the PRAGMA user_version that records it. A database whose
// user_version is newer than the last migration this binary knows is
// refused rather than misread.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrNotFound is wrapped by errors for records that do not exist.
var ErrNotFound = errors.New("not found")

// Store is an open state database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	// Log receives warnings such as a stale lock being taken over; nil
	// discards.
	Log *slog.Logger
	now func() time.Time
}

// Open opens (creating it and its parent directories if needed) the state
// database at path and brings its schema up to date.
func Open(path string) (*Store, error) {
	return open(path, migrationFS)
}

// open is Open with the migrations taken from fsys, so tests can migrate
// through sets of their own.
func open(path string, fsys fs.FS) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	// The driver splits its DSN at the first '?', so a path holding one
	// would be misread as options.
	if strings.ContainsRune(abs, '?') {
		return nil, fmt.Errorf("open state %s: path must not contain '?'", path)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	dsn := abs + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	s := &Store{db: db, path: path, now: time.Now}
	if err := s.migrate(context.Background(), fsys); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state %s: %w", s.path, err)
	}
	return nil
}

// Path is the file the store was opened from.
func (s *Store) Path() string { return s.path }

func (s *Store) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// SchemaVersion is the newest schema this binary knows.
func SchemaVersion() int {
	ms, err := readMigrations(migrationFS)
	if err != nil {
		panic(err) // the embedded set is checked by the tests
	}
	return len(ms)
}

type migration struct {
	version int
	name    string
	sql     string
}

// parseMigrationName reads "0007_add_foo.sql" as version 7.
func parseMigrationName(name string) (int, bool) {
	base, ok := strings.CutSuffix(name, ".sql")
	if !ok {
		return 0, false
	}
	num, label, ok := strings.Cut(base, "_")
	if !ok || len(num) != 4 || label == "" {
		return 0, false
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, _ := strconv.Atoi(num)
	return v, v > 0
}

// readMigrations lists migrations/*.sql from fsys, checking that they are
// numbered 1..N without gaps or duplicates.
func readMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := path.Base(n)
		v, ok := parseMigrationName(base)
		if !ok {
			return nil, fmt.Errorf("migration %s: name must be NNNN_label.sql", base)
		}
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(data)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %04d (migrations must be numbered 1..N without gaps)", m.name, i+1)
		}
	}
	return ms, nil
}

func (s *Store) migrate(ctx context.Context, fsys fs.FS) error {
	ms, err := readMigrations(fsys)
	if err != nil {
		return fmt.Errorf("open state %s: %w", s.path, err)
	}
	var have int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("open state %s: %w", s.path, err)
	}
	if have > len(ms) {
		return fmt.Errorf("%s has schema %d, this portmake knows up to %d; upgrade portmake", filepath.Base(s.path), have, len(ms))
	}
	for _, m := range ms[have:] {
		if err := s.apply(ctx, m); err != nil {
			return fmt.Errorf("open state %s: migration %s: %w", s.path, m.name, err)
		}
	}
	return nil
}

// apply runs one migration in its own transaction. The version is read
// again inside the transaction: another process may have migrated the file
// between our first look and our write lock.
func (s *Store) apply(ctx context.Context, m migration) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var have int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
			return err
		}
		if have >= m.version {
			return nil
		}
		if have != m.version-1 {
			return fmt.Errorf("database is at schema %d, cannot apply %d", have, m.version)
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		// PRAGMA takes no bound parameters; the version is our own integer.
		_, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(m.version))
		return err
	})
}

// tx runs fn in a transaction (IMMEDIATE, see the package doc) and commits
// it when fn succeeds.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Times are stored as unix nanoseconds: exact round trips, and ordering is
// numeric.
func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func fromNullNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNanos(n.Int64)
}

func nullNanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}
