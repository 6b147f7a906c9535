package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm/syncdb"
)

// DirPublisher is the executor tests' publisher: it copies the files into
// <Root>/<repo>/os/<Arch>/ and runs the DB writer, checking each file's
// bytes against the recorded sha256 first. The real one is package
// publish's, which cannot be imported here (it imports the executor).
type DirPublisher struct {
	Root string
	Arch string
	DB   FuncDB
}

// FuncDB is an in-process DB writer; Name is the equivalent command line
// dry runs show.
type FuncDB struct {
	Name string
	Fn   func(db string, files []string) error
}

// testRepoDB writes DBs with portmake's own repo-add, as apply does.
var testRepoDB = FuncDB{Name: "portmake repo add --remove-old", Fn: func(db string, files []string) error {
	return syncdb.Add(db, files, syncdb.AddOptions{RemoveOld: true})
}}

func (p *DirPublisher) Dir(repo string) string { return filepath.Join(p.Root, repo, "os", p.Arch) }

func (p *DirPublisher) Commands(repo string, files []string) []Command {
	dir := p.Dir(repo)
	var cmds []Command
	var dst []string
	for _, f := range files {
		to := filepath.Join(dir, filepath.Base(f))
		cmds = append(cmds, Command{Args: []string{"install", "-D", "-m", "0644", f, to}})
		dst = append(dst, to)
	}
	args := append(strings.Fields(p.DB.Name), filepath.Join(dir, repo+".db.tar.gz"))
	return append(cmds, Command{Args: append(args, dst...)})
}

func (p *DirPublisher) Publish(ctx context.Context, repo string, files []string, sums map[string]string) ([]string, error) {
	dir := p.Dir(repo)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		if got, err := fileSHA256(f); err != nil || got != sums[f] {
			return nil, fmt.Errorf("%s: sha256 %s, recorded %q (%v)", f, got, sums[f], err)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		to := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(to, data, 0o644); err != nil {
			return nil, err
		}
		out = append(out, to)
	}
	if err := p.DB.Fn(filepath.Join(dir, repo+".db.tar.gz"), out); err != nil {
		return nil, err
	}
	return out, nil
}

// unpubRecorder remembers builds that succeeded but were not published.
type unpubRecorder struct{ *memRecorder }

func (u unpubRecorder) Unpublished(_ context.Context, jobID string) (int64, []string, map[string]string, bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for i := u.next; i > 0; i-- {
		b := u.builds[i]
		if b.job.ID == jobID && b.result != nil && b.result.Outcome == Built && b.published == nil {
			return i, b.result.Files, b.result.SHA256, true, nil
		}
	}
	return 0, nil, nil, false, nil
}

// fileBuilder writes one real file per build and counts builds.
type fileBuilder struct {
	dir    string
	builds int
}

func (f *fileBuilder) Kind() string                                      { return "file" }
func (f *fileBuilder) Commands(j *Job, deps []string) ([]Command, error) { return nil, nil }
func (f *fileBuilder) PackageList(_ context.Context, j *Job) ([]string, error) {
	return []string{filepath.Join(f.dir, j.ID, j.Pkgbase+"-"+j.Version+"-x86_64.pkg.tar.zst")}, nil
}
func (f *fileBuilder) Build(ctx context.Context, j *Job, _ io.Writer, _ []string) (Output, error) {
	f.builds++
	files, _ := f.PackageList(ctx, j)
	os.MkdirAll(filepath.Dir(files[0]), 0o755)
	if err := os.WriteFile(files[0], []byte(fmt.Sprintf("build %d of %s", f.builds, j.ID)), 0o644); err != nil {
		return Output{}, err
	}
	return Output{Files: files}, nil
}

// failingPublisher fails every publish.
type failingPublisher struct{ fakePublisher }

func (*failingPublisher) Publish(context.Context, string, []string, map[string]string) ([]string, error) {
	return nil, errors.New("disk full")
}

// checkingPublisher records what it published and checks the sums.
type checkingPublisher struct{ fakePublisher }

func (p *checkingPublisher) Publish(ctx context.Context, repo string, files []string, sums map[string]string) ([]string, error) {
	for _, f := range files {
		if got, err := fileSHA256(f); err != nil || got != sums[f] {
			return nil, fmt.Errorf("%s: sha256 %s, recorded %q", f, got, sums[f])
		}
	}
	return p.fakePublisher.Publish(ctx, repo, files, sums)
}

// TestPublishEarlierBuild: a build that succeeded but was not published
// is published by the next run from its recorded files, not built again;
// unless its files changed since.
func TestPublishEarlierBuild(t *testing.T) {
	rec := unpubRecorder{newMemRecorder()}
	b := &fileBuilder{dir: t.TempDir()}
	j := job("a")
	j.Publish = "core"
	s := run(t, &Executor{Builder: b, Recorder: rec, Publisher: &failingPublisher{}}, []*Job{j})
	if r := s.Results["a"]; r.Outcome != Failed || !strings.Contains(r.Err.Error(), "disk full") || len(r.SHA256) != 1 {
		t.Fatalf("first run: %v %v %v", r.Outcome, r.Err, r.SHA256)
	}
	pub := &checkingPublisher{}
	s = run(t, &Executor{Builder: b, Recorder: rec, Publisher: pub}, []*Job{j})
	if r := s.Results["a"]; r.Outcome != Built || r.Reason != "built earlier, published now" {
		t.Fatalf("second run: %v %q %v", r.Outcome, r.Reason, r.Err)
	}
	if b.builds != 1 || len(pub.calls) != 1 {
		t.Errorf("%d builds, %d publishes: want the first build published, not a new one", b.builds, len(pub.calls))
	}
	if got := rec.builds[1].published; len(got) != 1 {
		t.Errorf("the earlier build was not recorded as published: %v", got)
	}

	// A file that changed since its build is not published: it is built again.
	j2 := job("c")
	j2.Publish = "core"
	run(t, &Executor{Builder: b, Recorder: rec, Publisher: &failingPublisher{}}, []*Job{j2})
	files, _ := b.PackageList(context.Background(), j2)
	os.WriteFile(files[0], []byte("tampered"), 0o644)
	pub = &checkingPublisher{}
	s = run(t, &Executor{Builder: b, Recorder: rec, Publisher: pub}, []*Job{j2})
	if r := s.Results["c"]; r.Outcome != Built || r.Reason != "" || b.builds != 3 {
		t.Errorf("a tampered earlier build: %v %q, %d builds", r.Outcome, r.Reason, b.builds)
	}
}
