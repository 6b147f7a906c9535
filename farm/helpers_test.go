package farm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portmake/portmake/executor"
)

// The test binary is also the worker: jobs run it with
// PORTMAKE_FARM_TEST_WORKER=1 and the attempt directory, and it builds
// with testBuilders instead of makepkg.
func TestMain(m *testing.M) {
	if os.Getenv("PORTMAKE_FARM_TEST_WORKER") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Work(ctx, os.Args[len(os.Args)-1], testBuilders, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func testBuilders(spec BuilderSpec, dir string) (executor.Builder, error) {
	if spec.Kind != "script" {
		return DefaultBuilders(spec, dir)
	}
	return &scriptBuilder{pkgdest: filepath.Join(dir, "pkg")}, nil
}

// scriptBuilder builds what the file BUILD in the source directory says,
// one instruction per line:
//
//	sleep DURATION   wait (or until cancelled)
//	pid FILE         write the worker's pid to FILE first
//	fail             fail like a compiler error
//	transient        fail like a download error
//	infra            fail before running anything, like a missing tool
//
// and otherwise writes one package file.
type scriptBuilder struct{ pkgdest string }

func (s *scriptBuilder) Kind() string { return "script" }
func (s *scriptBuilder) Commands(j *executor.Job, deps []string) ([]executor.Command, error) {
	return []executor.Command{{Args: []string{"script", j.Pkgbase}}}, nil
}
func (s *scriptBuilder) PackageList(context.Context, *executor.Job) ([]string, error) {
	return nil, errors.New("unknown")
}

func (s *scriptBuilder) Build(ctx context.Context, j *executor.Job, log io.Writer, deps []string) (executor.Output, error) {
	out := executor.Output{ExitCode: -1}
	f, err := os.Open(filepath.Join(j.SourceDir, "BUILD"))
	if err != nil {
		return out, err
	}
	defer f.Close()
	fmt.Fprintf(log, "building %s with deps %v\n", j.Pkgbase, deps)
	for _, d := range deps {
		if _, err := os.Stat(d); err != nil {
			out.ExitCode = 1
			return out, fmt.Errorf("dependency: %w", err)
		}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		word, arg, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		switch word {
		case "sleep":
			d, err := time.ParseDuration(arg)
			if err != nil {
				return out, err
			}
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return out, ctx.Err()
			}
		case "pid":
			if err := os.WriteFile(arg, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
				return out, err
			}
		case "fail":
			out.ExitCode = 2
			fmt.Fprintln(log, "make: *** [all] Error 2")
			return out, errors.New("make: *** [all] Error 2")
		case "transient":
			out.ExitCode = 1
			return out, fmt.Errorf("download failed (%w)", executor.ErrTransient)
		case "infra":
			return out, errors.New(`start makepkg: exec: "makepkg": executable file not found in $PATH`)
		}
	}
	dir := filepath.Join(s.pkgdest, j.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return out, err
	}
	file := filepath.Join(dir, j.Pkgbase+"-"+j.Version+"-x86_64.pkg.tar.zst")
	if err := os.WriteFile(file, []byte(j.ID), 0o644); err != nil {
		return out, err
	}
	out.ExitCode, out.MaxRSS, out.Files = 0, 1<<20, []string{file}
	return out, nil
}

// scriptJob makes a job whose source directory holds a BUILD script.
func scriptJob(t testing.TB, root, id, script string, deps ...string) *executor.Job {
	t.Helper()
	src := filepath.Join(root, "src", id)
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "BUILD"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return &executor.Job{ID: id + "0123456789abcdef", Pkgbase: id, Version: "1-1", Arch: "x86_64", SourceDir: src, Deps: deps}
}

// memRecorder is the state store, in memory, with placements.
type memRecorder struct {
	mu     sync.Mutex
	apply  int
	builds []*memBuild
}

type memBuild struct {
	apply    int
	job      *executor.Job
	attempt  int
	result   *executor.Result
	placed   []executor.Placement
	open     bool
	released bool
}

func (m *memRecorder) Started(_ context.Context, j *executor.Job, attempt int, _ string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.builds = append(m.builds, &memBuild{apply: m.apply, job: j, attempt: attempt})
	return int64(len(m.builds)), nil
}

func (m *memRecorder) Finished(_ context.Context, id int64, r *executor.Result) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := *r
	m.builds[id-1].result = &cp
	return nil
}

func (m *memRecorder) Published(context.Context, int64, []string) error { return nil }

func (m *memRecorder) Succeeded(_ context.Context, jobID string) ([]string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.builds {
		if b.job.ID == jobID && b.result != nil && b.result.Outcome == executor.Built {
			return b.result.Files, true, nil
		}
	}
	return nil, false, nil
}

func (m *memRecorder) FailedBefore(_ context.Context, jobID string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	failed := false
	for _, b := range m.builds {
		if b.job.ID == jobID && b.result != nil {
			failed = b.result.Outcome == executor.Failed && !errors.Is(b.result.Err, executor.ErrInfrastructure)
		}
	}
	return failed, nil
}

func (m *memRecorder) Placed(_ context.Context, id int64, p executor.Placement) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.builds[id-1]
	b.placed = append(b.placed, p)
	b.open = true
	for _, o := range m.builds {
		if p.JobID != "" && o != b && o.open && len(o.placed) > 0 && o.placed[len(o.placed)-1].JobID == p.JobID {
			o.open = false // re-attached: this build watches the job now
		}
	}
	return nil
}

func (m *memRecorder) Orphans(context.Context) ([]executor.Orphan, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []executor.Orphan
	for i := len(m.builds) - 1; i >= 0; i-- {
		b := m.builds[i]
		if b.open && b.apply < m.apply && len(b.placed) > 0 {
			out = append(out, executor.Orphan{BuildID: int64(i + 1), JobID: b.job.ID, Placement: b.placed[len(b.placed)-1]})
		}
	}
	return out, nil
}

func (m *memRecorder) Released(_ context.Context, id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.builds[id-1].open = false
	m.builds[id-1].released = true
	return nil
}

// jobIDs returns every cluster job id placed for pkgbase, in order (not
// the placements recorded before submitting, which have none).
func (m *memRecorder) jobIDs(pkgbase string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for _, b := range m.builds {
		for _, p := range b.placed {
			if b.job.Pkgbase == pkgbase && p.JobID != "" && (len(ids) == 0 || ids[len(ids)-1] != p.JobID) {
				ids = append(ids, p.JobID)
			}
		}
	}
	return ids
}

func (m *memRecorder) build(pkgbase string, attempt int) *memBuild {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.builds {
		if b.job.Pkgbase == pkgbase && b.attempt == attempt && b.apply == m.apply {
			return b
		}
	}
	return nil
}

// waitFor polls cond until it holds.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
