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
//
// # Identity
//
// The history in state.db is what keeps portmake from rebuilding and
// republishing everything, so Open never takes a file it does not
// recognise for a new, empty store. A portmake store carries
// PRAGMA application_id = AppID. A new store is made under a temporary
// name, migrated and closed, and only then linked into place, so a crash
// never leaves a half-made store at the path: a 0-byte file there, a file
// that is not SQLite, an SQLite database of another program, or a WAL
// journal without its database were never portmake's, and Open refuses
// them unless OpenOptions.Init asks for a new store (the CLI's --init). Init
// moves such a file aside rather than deleting it. Stores made before the
// application id existed (id 0, with portmake's tables) are recognised
// and stamped.
//
// While a store is open, the database file may be deleted or replaced
// under it (a clean-up script, a restore from backup). SQLite would go on
// writing into the unlinked inode and every record would vanish on close.
// Every write first checks, with Check, that the path still names the file
// that was opened, and fails with ErrReplaced otherwise.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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

// AppID is the SQLite application id of a portmake store ("pmk1").
const AppID = 0x706d6b31

// ErrReplaced is wrapped by the error of a write (and of Check) when the
// database file was removed or replaced since Open.
var ErrReplaced = errors.New("state database removed or replaced while in use")

// ErrNotAStore is wrapped by Open's error for a file that is not a
// portmake store (empty, not SQLite, or another program's database).
var ErrNotAStore = errors.New("not a portmake state database")

// OpenOptions change how Open treats what it finds at the path.
type OpenOptions struct {
	// Init makes a new, empty store where the path holds a file that is
	// not a portmake store (a 0-byte file, another program's database, a
	// journal without its database). The file is moved aside, to
	// <path>.unknown-<unix time>, never deleted; Store.MovedAside names
	// it. A portmake store is opened as usual: Init never discards history.
	Init bool
}

// Store is an open state database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	abs  string
	// file is our own handle on the database file, opened with the store:
	// Check compares it with what the path names now.
	file *os.File
	// MovedAside is the path an unknown file was moved to by Init; "" when
	// nothing was.
	MovedAside string
	// Log receives warnings such as a stale lock being taken over; nil
	// discards.
	Log *slog.Logger
	now func() time.Time
}

// Open opens the state database at path and brings its schema up to date.
// When nothing is at path, it makes a new store there (and the parent
// directories). It refuses a file that is not a portmake store; see the
// package doc and OpenWith.
func Open(path string) (*Store, error) {
	return open(path, migrationFS, OpenOptions{})
}

// OpenWith is Open with options.
func OpenWith(path string, o OpenOptions) (*Store, error) {
	return open(path, migrationFS, o)
}

// open is OpenWith with the migrations taken from fsys, so tests can
// migrate through sets of their own.
func open(path string, fsys fs.FS, o OpenOptions) (*Store, error) {
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
	moved, err := prepare(abs, path, fsys, o)
	if err != nil {
		return nil, err
	}
	s, err := openFile(abs, path)
	if err != nil {
		return nil, err
	}
	if err := s.identify(context.Background()); err != nil {
		s.Close()
		if !o.Init || !errors.Is(err, ErrNotAStore) {
			return nil, err
		}
		// An SQLite database of another program: move it aside and start
		// over.
		if moved, err = moveAside(abs); err != nil {
			return nil, fmt.Errorf("open state %s: %w", path, err)
		}
		if err := create(abs, fsys); err != nil {
			return nil, fmt.Errorf("open state %s: %w", path, err)
		}
		if s, err = openFile(abs, path); err != nil {
			return nil, err
		}
		if err := s.identify(context.Background()); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.MovedAside = moved
	if err := s.migrate(context.Background(), fsys); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openFile opens the SQLite database at abs, which must exist, and our own
// handle on the file. The journal mode is not in the DSN: setting it writes
// to the file, which must wait until identify has recognised it.
func openFile(abs, path string) (*Store, error) {
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	db, err := sql.Open("sqlite3", abs+"?_synchronous=NORMAL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate")
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	return &Store{db: db, path: path, abs: abs, file: f, now: time.Now}, nil
}

// prepare looks at what is at abs before SQLite touches it. Nothing there:
// a new store is made. A 0-byte file, a file that is not SQLite, or a WAL
// journal without its database: refused, or with Init moved aside and
// replaced by a new store. It returns where a file was moved.
func prepare(abs, path string, fsys fs.FS, o OpenOptions) (moved string, err error) {
	var what string
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, werr := os.Stat(abs + "-wal"); werr != nil {
			return "", wrapOpen(path, create(abs, fsys)) // the first run
		}
		if _, err := os.Stat(abs); err == nil {
			// Another process linked its new store into place and opened it
			// between the two looks: that store is the one to share.
			return prepare(abs, path, fsys, o)
		}
		what = "the database file is missing but its journal " + filepath.Base(abs) + "-wal is there, so the database was deleted"
	case err != nil:
		return "", fmt.Errorf("open state %s: %w", path, err)
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("open state %s: %w: it is not a regular file", path, ErrNotAStore)
	case fi.Size() == 0:
		what = "it is empty (0 bytes)"
	default:
		head := make([]byte, 16)
		f, err := os.Open(abs)
		if err != nil {
			return "", fmt.Errorf("open state %s: %w", path, err)
		}
		_, err = io.ReadFull(f, head)
		f.Close()
		if err == nil && string(head) == "SQLite format 3\x00" {
			return "", nil // identify decides
		}
		what = "it is not an SQLite database"
	}
	if !o.Init {
		return "", fmt.Errorf("open state %s: %w: %s. portmake never takes an unknown file for an empty history, which would rebuild and republish everything. Put the right state.db there, or run with --init to move this file aside and start a new history", path, ErrNotAStore, what)
	}
	if moved, err = moveAside(abs); err != nil {
		return "", fmt.Errorf("open state %s: %w", path, err)
	}
	return moved, wrapOpen(path, create(abs, fsys))
}

func wrapOpen(path string, err error) error {
	if err != nil {
		return fmt.Errorf("open state %s: %w", path, err)
	}
	return nil
}

// identify checks that the open database is a portmake store: our
// application id, or (stores made before it existed) id 0 with portmake's
// tables, or an SQLite database with no tables at all, which holds nothing
// to lose. Then it sets WAL mode and stamps the application id.
func (s *Store) identify(ctx context.Context) error {
	var appID, version, tables, ours int
	err := s.db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID)
	if err == nil {
		err = s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version)
	}
	if err == nil {
		err = s.db.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN name IN ('plans', 'applies') THEN 1 END)
			FROM sqlite_master WHERE type = 'table'`).Scan(&tables, &ours)
	}
	if err != nil {
		return fmt.Errorf("open state %s: %w: %v. Put the right state.db there, or run with --init to move this file aside and start a new history", s.path, ErrNotAStore, err)
	}
	switch {
	case appID == AppID:
	case appID == 0 && version > 0 && ours > 0: // made before the id existed
	case appID == 0 && version == 0 && tables == 0:
	default:
		return fmt.Errorf("open state %s: %w: it is an SQLite database of another program (application id %#x, %d tables). Put the right state.db there, or run with --init to move this file aside and start a new history", s.path, ErrNotAStore, appID, tables)
	}
	if _, err := s.db.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		return fmt.Errorf("open state %s: %w", s.path, err)
	}
	if appID != AppID {
		// PRAGMA takes no bound parameters; the id is our constant.
		if _, err := s.db.ExecContext(ctx, "PRAGMA application_id = "+strconv.Itoa(AppID)); err != nil {
			return fmt.Errorf("open state %s: %w", s.path, err)
		}
	}
	return nil
}

// create makes a new store at abs: made and migrated under a temporary
// name, closed (which checkpoints the journal into the file), then linked
// into place. A link, not a rename, so that a store another process made
// meanwhile is kept, and opened.
func create(abs string, fsys fs.FS) error {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := abs + ".new-" + hex.EncodeToString(rnd[:])
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			os.Remove(tmp + suffix)
		}
	}()
	if err := os.WriteFile(tmp, nil, 0o644); err != nil {
		return err
	}
	n, err := openFile(tmp, tmp)
	if err != nil {
		return err
	}
	err = n.identify(context.Background())
	if err == nil {
		err = n.migrate(context.Background(), fsys)
	}
	if cerr := n.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := syncPath(tmp); err != nil {
		return err
	}
	if err := os.Link(tmp, abs); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncPath(filepath.Dir(abs))
}

func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// moveAside renames abs and its journals to <abs>.unknown-<unix time>.
func moveAside(abs string) (string, error) {
	to := fmt.Sprintf("%s.unknown-%d", abs, time.Now().Unix())
	moved := ""
	for _, suffix := range []string{"", "-wal", "-shm"} {
		err := os.Rename(abs+suffix, to+suffix)
		switch {
		case err == nil && moved == "":
			moved = to + suffix
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("move %s aside: %w", abs+suffix, err)
		}
	}
	return moved, nil
}

// Check reports, wrapping ErrReplaced, that the database file was removed
// or replaced since Open: what is written now would never reach the file
// at the path. Every write calls it first; an engine may call it before a
// step whose record must not be lost. It costs two stat calls.
func (s *Store) Check() error {
	held, err := s.file.Stat()
	if err != nil {
		return fmt.Errorf("state %s: %w", s.path, err)
	}
	cur, err := os.Stat(s.abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("state %s: %w: the file was deleted, so nothing this run records would be kept. Stop, and restore state.db (or start a new history with --init)", s.path, ErrReplaced)
	case err != nil:
		return fmt.Errorf("state %s: %w", s.path, err)
	case !os.SameFile(held, cur):
		return fmt.Errorf("state %s: %w: the path now names another file than the one opened, so what this run records would go to the old one. Stop, and run again on the new file", s.path, ErrReplaced)
	}
	return nil
}

// exec runs a write outside a transaction, after Check.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	return s.db.ExecContext(ctx, query, args...)
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.db.Close()
	s.file.Close()
	if err != nil {
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
	if err := s.Check(); err != nil {
		return err
	}
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
