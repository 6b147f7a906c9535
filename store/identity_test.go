package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// rawDB makes an SQLite database at path that is not a portmake store.
func rawDB(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenRefusesWhatIsNotAStore: a 0-byte state.db, a text file, another
// program's SQLite database (with or without an application id) and a WAL
// journal whose database was deleted are refused, untouched, with a message
// naming --init; with Init each is moved aside, byte for byte, and a new
// store is made.
func TestOpenRefusesWhatIsNotAStore(t *testing.T) {
	cases := map[string]func(t *testing.T, path string){
		"empty": func(t *testing.T, path string) { os.WriteFile(path, nil, 0o644) },
		"text":  func(t *testing.T, path string) { os.WriteFile(path, []byte("root:*:20228:0:99999:7:::\n"), 0o644) },
		"other-app": func(t *testing.T, path string) {
			rawDB(t, path, "CREATE TABLE photos (id INTEGER)", "PRAGMA application_id = 42")
		},
		"other-no-id": func(t *testing.T, path string) {
			rawDB(t, path, "CREATE TABLE photos (id INTEGER)", "INSERT INTO photos VALUES (1)")
		},
		"wal-without-db": func(t *testing.T, path string) {
			os.WriteFile(path+"-wal", []byte("journal of a deleted database"), 0o644)
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			setup(t, path)
			before := snapshot(path)
			_, err := Open(path)
			if err == nil {
				t.Fatal("Open took a file that is not a portmake store for an empty store")
			}
			if !errors.Is(err, ErrNotAStore) || !strings.Contains(err.Error(), "--init") {
				t.Errorf("error = %v; want ErrNotAStore and a hint at --init", err)
			}
			if after := snapshot(path); after != before {
				t.Fatalf("Open changed the refused file:\nbefore %s\nafter  %s", before, after)
			}

			s, err := OpenWith(path, OpenOptions{Init: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.MovedAside == "" {
				t.Fatal("Init did not say where the file went")
			}
			moved := strings.TrimSuffix(s.MovedAside, "-wal")
			if got := snapshot(moved); got != strings.ReplaceAll(before, path, moved) {
				t.Errorf("moved file differs from the original:\nwant %s\ngot  %s", before, got)
			}
			if v := pragma(t, s, "user_version"); v != fmt.Sprint(SchemaVersion()) {
				t.Errorf("new store at schema %s", v)
			}
			if v := pragma(t, s, "application_id"); v != fmt.Sprint(AppID) {
				t.Errorf("application_id = %s", v)
			}
		})
	}
}

// snapshot describes the database file and its journals at path.
func snapshot(path string) string {
	var b strings.Builder
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(path + suffix)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v; ", path+suffix, errors.Unwrap(err))
			continue
		}
		fmt.Fprintf(&b, "%s: %d bytes sha256 %x; ", path+suffix, len(data), sha256.Sum256(data))
	}
	return b.String()
}

// TestInitKeepsAStore: --init on a real store opens it with its history.
func TestInitKeepsAStore(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.SaveSourceResolution(ctx, &Resolution{Key: "k", URL: "u", Ref: "r", Commit: "c"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := OpenWith(s.Path(), OpenOptions{Init: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if r, err := s2.SourceResolution(ctx, "k"); err != nil || r == nil {
		t.Fatalf("history lost: %+v, %v", r, err)
	}
	if s2.MovedAside != "" {
		t.Errorf("moved a store aside: %s", s2.MovedAside)
	}
}

// TestOpenStampsOlderStores: a store made before the application id (id 0,
// portmake's tables) is recognised, kept and stamped.
func TestOpenStampsOlderStores(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.SaveSourceResolution(ctx, &Resolution{Key: "k", URL: "u", Ref: "r", Commit: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("PRAGMA application_id = 0"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if v := pragma(t, s2, "application_id"); v != fmt.Sprint(AppID) {
		t.Errorf("application_id = %s, want %d", v, AppID)
	}
	if r, _ := s2.SourceResolution(ctx, "k"); r == nil {
		t.Error("history lost")
	}
}

// TestNewStoreIsWholeOnDisk: a new store is complete in the file itself
// (not only in a journal) the moment it appears at the path, so a crash
// right after can never leave a 0-byte or half-made state.db.
func TestNewStoreIsWholeOnDisk(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	if err := create(path, migrationFS); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Error("a journal is left beside the new store")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The header holds the user version (offset 60) and the application
	// id (offset 68), big-endian.
	be := func(off int) int {
		return int(data[off])<<24 | int(data[off+1])<<16 | int(data[off+2])<<8 | int(data[off+3])
	}
	if be(60) != SchemaVersion() || be(68) != AppID {
		t.Errorf("header: user_version %d, application_id %#x", be(60), be(68))
	}
}

// TestConcurrentFirstOpen: processes starting together on a new path end
// up sharing one store.
func TestConcurrentFirstOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	errs := make([]error, 4)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(path)
		}()
	}
	wg.Wait()
	ctx := context.Background()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		defer s.Close()
	}
	if err := stores[0].SaveSourceResolution(ctx, &Resolution{Key: "k", URL: "u", Ref: "r", Commit: "c"}); err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		if r, err := s.SourceResolution(ctx, "k"); err != nil || r == nil {
			t.Errorf("store %d does not see the write: %v", i, err)
		}
	}
}

// TestWritesFailWhenTheFileIsGone: deleting or replacing state.db while it
// is open makes every later write fail with ErrReplaced, instead of
// writing into a file nobody will read again.
func TestWritesFailWhenTheFileIsGone(t *testing.T) {
	ctx := context.Background()
	write := func(s *Store) error {
		return s.SaveSourceResolution(ctx, &Resolution{Key: "k", URL: "u", Ref: "r", Commit: "c"})
	}
	t.Run("removed", func(t *testing.T) {
		s := openTest(t)
		if err := write(s); err != nil {
			t.Fatal(err)
		}
		os.Remove(s.Path())
		err := write(s)
		if !errors.Is(err, ErrReplaced) || !strings.Contains(err.Error(), "deleted") {
			t.Fatalf("write after removal: %v", err)
		}
		if _, err := s.StartApply(ctx, 1, os.Getpid()); !errors.Is(err, ErrReplaced) {
			t.Fatalf("StartApply after removal: %v", err)
		}
		if err := s.Check(); !errors.Is(err, ErrReplaced) {
			t.Fatalf("Check: %v", err)
		}
	})
	t.Run("replaced", func(t *testing.T) {
		s := openTest(t)
		other := filepath.Join(filepath.Dir(s.Path()), "other.db")
		o, err := Open(other)
		if err != nil {
			t.Fatal(err)
		}
		o.Close()
		if err := os.Rename(other, s.Path()); err != nil {
			t.Fatal(err)
		}
		err = write(s)
		if !errors.Is(err, ErrReplaced) || !strings.Contains(err.Error(), "another file") {
			t.Fatalf("write after replacement: %v", err)
		}
	})
	t.Run("untouched", func(t *testing.T) {
		s := openTest(t)
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkCheck is the cost every write pays to find out that the file
// is still the one opened.
func BenchmarkCheck(b *testing.B) {
	s := openTest(b)
	for b.Loop() {
		if err := s.Check(); err != nil {
			b.Fatal(err)
		}
	}
}
