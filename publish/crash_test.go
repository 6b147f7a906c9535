package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/portmake/portmake/alpm/syncdb"
)

// The crash tests run a publish in a child process (this test binary,
// re-executed) that kills itself with SIGKILL just before its k-th
// mutating backend operation, for every k, and then check that the next
// publish finishes the job from what the kill left.

type crashJob struct {
	Root    string
	Temp    string
	Files   []File
	CrashAt int  // 0: never
	Promote bool // promote core-testing to core instead of publishing Files
	S3      *s3Target
	Sign    *gpgTarget
}

func TestMain(m *testing.M) {
	if spec := os.Getenv("PORTMAKE_PUBLISH_CRASH_CHILD"); spec != "" {
		os.Exit(crashChild(spec))
	}
	code := m.Run()
	for _, d := range keyDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func itoa(i int) string { return strconv.Itoa(i) }

func crashChild(spec string) int {
	var job crashJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var b Backend = &Dir{Root: job.Root}
	if job.S3 != nil {
		s, err := job.S3.backend()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		b = s
	}
	n := 0
	f := &faulty{Backend: b, fail: func(op, key string) error {
		n++
		if n == job.CrashAt {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
		return nil
	}}
	r := &Repo{Backend: f, Name: "extra", Arch: "aarch64", TempDir: job.Temp}
	if job.Sign != nil {
		r.Signer = job.Sign.signer()
	}
	var err error
	if job.Promote {
		core := &Repo{Backend: f, Name: "core", Arch: "aarch64", TempDir: job.Temp}
		test := &Repo{Backend: f, Name: "core-testing", Arch: "aarch64", TempDir: job.Temp}
		_, err = Promote(context.Background(), test, core, []*Repo{core}, PromoteOptions{})
	} else {
		_, err = r.Publish(context.Background(), job.Files)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	fmt.Println(n)
	for _, op := range f.ops {
		fmt.Println(op)
	}
	return 0
}

// runChild runs job in a child process and returns its stdout, and
// whether it was killed.
func runChild(t *testing.T, job crashJob) (string, bool) {
	t.Helper()
	spec, _ := json.Marshal(job)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PORTMAKE_PUBLISH_CRASH_CHILD="+string(spec))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return out.String(), true
		}
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	return out.String(), false
}

// countSteps reads a clean child run's output: the number of mutating
// steps, then one line per step, which it logs.
func countSteps(t *testing.T, out string, killed bool) int {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	steps, err := strconv.Atoi(lines[0])
	if err != nil || killed || steps < 10 {
		t.Fatalf("clean run: %q killed=%v", out, killed)
	}
	for i, l := range lines[1:] {
		t.Logf("step %d: %s", i+1, l)
	}
	return steps
}

// crashSetup publishes a first version and returns the second one's
// files: a rebuild of foo under the same name, and a new foo-libs that
// supersedes the old one.
func crashSetup(t *testing.T, r *Repo, pkgs string) []File {
	t.Helper()
	ctx := context.Background()
	v1 := []File{
		mkpkg(t, filepath.Join(pkgs, "1"), pkgSpec{name: "foo", base: "foo", ver: "1-1", payload: "one"}),
		mkpkg(t, filepath.Join(pkgs, "1"), pkgSpec{name: "foo-libs", base: "foo", ver: "1-1", payload: "one"}),
		mkpkg(t, filepath.Join(pkgs, "1"), pkgSpec{name: "bar", ver: "1-1", payload: "bar"}),
	}
	if _, err := r.Publish(ctx, v1); err != nil {
		t.Fatal(err)
	}
	return []File{
		mkpkg(t, filepath.Join(pkgs, "2"), pkgSpec{name: "foo", base: "foo", ver: "1-1", payload: "two"}),
		mkpkg(t, filepath.Join(pkgs, "2"), pkgSpec{name: "foo-libs", base: "foo", ver: "1-2", payload: "two"}),
	}
}

// afterCrash checks what a kill left: every file the database lists holds
// its listed bytes, or (the window between the commit and the move) a
// staged copy of them waits for Recover.
func afterCrash(t *testing.T, b Backend, r *Repo) {
	t.Helper()
	ctx := context.Background()
	db := readBack(t, b, r.DBKey())
	for _, p := range db.Packages {
		got, err := b.Get(ctx, r.key(p.Filename), io.Discard)
		if err == nil && got.SHA256 == p.SHA256Sum {
			continue
		}
		if _, err := b.Stat(ctx, r.stagedKey(p.SHA256Sum, p.Filename)); err != nil {
			t.Errorf("after the kill the database lists %s (sha256 %s), which is neither in place nor staged", p.Filename, p.SHA256Sum)
		}
	}
}

// recovered checks the repository after Recover: consistent, with no
// journal, staged or temporary file left.
func recovered(t *testing.T, b Backend, r *Repo) {
	t.Helper()
	consistent(t, b, r)
	for _, k := range keys(t, b, r) {
		if strings.HasPrefix(k, ".portmake/journal/") || strings.HasPrefix(k, ".portmake/staged/") || strings.HasPrefix(k, tmpPrefix) {
			t.Errorf("left after recovery: %s", k)
		}
	}
}

// resumed checks the repository after the next publish: exactly the new
// packages and bar, consistent, and nothing left over.
func resumed(t *testing.T, b Backend, r *Repo, v2 []File, extra ...string) {
	t.Helper()
	names := consistent(t, b, r)
	want := []string{"bar-1-1-aarch64.pkg.tar.zst", "foo-1-1-aarch64.pkg.tar.zst", "foo-libs-1-2-aarch64.pkg.tar.zst"}
	if !slices.Equal(names, want) {
		t.Errorf("database lists %v, want %v", names, want)
	}
	db := readBack(t, b, r.DBKey())
	for _, f := range v2 {
		if p := db.Find(strings.SplitN(filepath.Base(f.Path), "-1-", 2)[0]); p == nil || p.SHA256Sum != f.SHA256 {
			t.Errorf("%s: database does not list the new build", filepath.Base(f.Path))
		}
	}
	wantKeys := append(slices.Clone(want), "extra.db", "extra.db.tar.gz", "extra.files", "extra.files.tar.gz")
	wantKeys = append(wantKeys, extra...)
	slices.Sort(wantKeys)
	got := keys(t, b, r)
	got = slices.DeleteFunc(got, func(k string) bool { return strings.HasPrefix(k, ".portmake/sig/") })
	if !slices.Equal(got, wantKeys) {
		t.Errorf("repository holds\n%v\nwant\n%v", got, wantKeys)
	}
}

func TestDirKillAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process per crash point")
	}
	ctx := context.Background()
	pkgs := t.TempDir()
	d, r := dirRepo(t)
	v2 := crashSetup(t, r, pkgs)
	// A clean run counts the steps.
	out, killed := runChild(t, crashJob{Root: d.Root, Temp: t.TempDir(), Files: v2})
	steps := countSteps(t, out, killed)
	resumed(t, d, r, v2)
	for k := 1; k <= steps; k++ {
		t.Run("step"+strconv.Itoa(k), func(t *testing.T) {
			d, r := dirRepo(t)
			v2 := crashSetup(t, r, t.TempDir())
			if _, killed := runChild(t, crashJob{Root: d.Root, Temp: t.TempDir(), Files: v2, CrashAt: k}); !killed {
				t.Fatalf("the child was not killed at step %d", k)
			}
			afterCrash(t, d, r)
			// The lock of the killed child is still there.
			if _, err := os.Stat(filepath.Join(d.Root, r.DBKey()+".lck")); err != nil {
				t.Errorf("no lock left by the killed publish: %v", err)
			}
			// Recovery alone leaves a consistent repository, whether it
			// completes the publish or rolls it back.
			if err := r.Recover(ctx); err != nil {
				t.Fatalf("recover: %v", err)
			}
			recovered(t, d, r)
			if _, err := r.Publish(ctx, v2); err != nil {
				t.Fatalf("publish after the kill: %v", err)
			}
			resumed(t, d, r, v2)
		})
	}
}

// readDBFile is syncdb.ReadFile for tests that hold a path.
func readDBFile(t testing.TB, p string) *syncdb.DB {
	t.Helper()
	db, err := syncdb.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return db
}
