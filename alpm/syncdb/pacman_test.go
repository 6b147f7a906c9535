package syncdb

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portmake/portmake/internal/testutil"
)

// pacmanEnv is a throw-away pacman configuration: a DBPath whose sync/
// directory links the databases under test. pacman -Sl reads only those
// files and needs no root.
type pacmanEnv struct {
	conf   string
	dbPath string
}

func pacmanConf(t testing.TB, repos map[string]string) pacmanEnv {
	t.Helper()
	dir := t.TempDir()
	env := pacmanEnv{conf: filepath.Join(dir, "pacman.conf"), dbPath: filepath.Join(dir, "db")}
	for _, d := range []string{"sync", "local"} {
		if err := os.MkdirAll(filepath.Join(env.dbPath, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, "[options]\nDBPath = %s\nSigLevel = Never\n", env.dbPath)
	names := make([]string, 0, len(repos))
	for name := range repos {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		src, err := filepath.Abs(repos[name])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(src, filepath.Join(env.dbPath, "sync", name+".db")); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&conf, "\n[%s]\nServer = file:///nonexistent\n", name)
	}
	if err := os.WriteFile(env.conf, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return env
}

// pacmanSl runs pacman -Sl repo and returns its standard output. It fails
// the test when pacman fails or writes anything to standard error, since a
// warning there means pacman did not read the database cleanly.
func pacmanSl(t testing.TB, env pacmanEnv, repo string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pacman", "--config", env.conf, "--dbpath", env.dbPath, "--noconfirm", "-Sl", repo)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pacman -Sl %s: %v\n%s", repo, err, stderr.Bytes())
	}
	if stderr.Len() > 0 {
		t.Fatalf("pacman -Sl %s wrote to stderr:\n%s", repo, stderr.Bytes())
	}
	return stdout.Bytes()
}

// listing formats db like pacman -Sl with no local packages installed.
func listing(db *DB) []byte {
	var b bytes.Buffer
	for _, p := range db.Packages {
		fmt.Fprintf(&b, "%s %s %s\n", db.Name, p.Name, p.Version)
	}
	return b.Bytes()
}

// TestListMatchesPacman reads every corpus database and compares the
// listing with pacman -Sl on the same file, byte for byte. pacman 6.0.2
// (libarchive) reads every corpus file, including the ones whose names lie
// about their compression, so none is skipped.
func TestListMatchesPacman(t *testing.T) {
	testutil.RequireTool(t, "pacman")
	for _, m := range readManifest(t) {
		t.Run(m.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(testutil.Corpus(t), "syncdb", m.file)
			db, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := pacmanSl(t, pacmanConf(t, map[string]string{db.Name: path}), db.Name)
			got := listing(db)
			if !bytes.Equal(got, want) {
				t.Errorf("listing differs from pacman -Sl %s\n%s", db.Name, lineDiff(string(got), string(want)))
			}
		})
	}
}

// TestEmptyRepoAdd reads the empty database repo-add creates for a new
// repository (the 45-byte gzip of an empty tar) and the one repo-remove
// leaves after removing every package: both are valid and empty.
func TestEmptyRepoAdd(t *testing.T) {
	testutil.RequireTool(t, "repo-add", "repo-remove", "pacman")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := func(name string, args ...string) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}

	run("repo-add", "fresh.db.tar.gz")
	fresh := filepath.Join(dir, "fresh.db.tar.gz")
	if fi, err := os.Stat(fresh); err != nil {
		t.Fatal(err)
	} else if fi.Size() != 45 {
		t.Logf("repo-add made a %d-byte empty database (expected 45)", fi.Size())
	}

	// Remove every package of a real database.
	src := filepath.Join(testutil.Corpus(t), "syncdb", "armv6h-2015-01-07-alarm", "alarm.db")
	full, err := ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	emptied := filepath.Join(dir, "emptied.db.tar.gz")
	if err := os.WriteFile(emptied, data, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"emptied.db.tar.gz"}
	for _, p := range full.Packages {
		args = append(args, p.Name)
	}
	run("repo-remove", args...)

	for _, path := range []string{fresh, emptied, filepath.Join(dir, "fresh.files.tar.gz")} {
		db, err := ReadFile(path)
		if err != nil {
			t.Fatalf("empty database: %v", err)
		}
		if len(db.Packages) != 0 {
			t.Errorf("%s: %d packages, want 0", path, len(db.Packages))
		}
		if out := pacmanSl(t, pacmanConf(t, map[string]string{db.Name: path}), db.Name); len(out) != 0 {
			t.Errorf("pacman -Sl lists packages in %s:\n%s", path, out)
		}
	}
}

// lineDiff shows the first lines where got and want differ.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(g), len(w)) && shown < 10; i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n  got  %q\n  want %q\n", i+1, gl, wl)
			shown++
		}
	}
	return b.String()
}
