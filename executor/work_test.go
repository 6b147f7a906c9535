package executor

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
)

// archBuilder is a fakeBuilder whose argv depends on what preparing the
// sources learned, as makepkg's --ignorearch does.
type archBuilder struct {
	fakeBuilder
	built []*Job
}

func (b *archBuilder) Commands(j *Job, deps []string) ([]Command, error) {
	args := []string{"fakebuild", j.Pkgbase}
	if j.IgnoreArch {
		args = append(args, "--ignorearch")
	}
	return []Command{{Args: args}}, nil
}

func (b *archBuilder) Build(ctx context.Context, j *Job, log io.Writer, deps []string) (Output, error) {
	b.built = append(b.built, j)
	return b.fakeBuilder.Build(ctx, j, log, deps)
}

// archFetcher prepares sources whose arch list lacks the target.
type archFetcher struct{}

func (archFetcher) Fetch(context.Context, *Job, io.Writer) (Prepared, error) {
	return Prepared{IgnoreArch: true}, nil
}

// TestArgvAfterSources checks that the argv is computed once the sources
// are prepared, and that the log, the dry run and the build all get it,
// while the Job the caller gave stays as it was.
func TestArgvAfterSources(t *testing.T) {
	logs := t.TempDir()
	j := job("a")
	b := &archBuilder{}
	e := &Executor{Builder: b, Recorder: newMemRecorder(), Sources: archFetcher{}, Options: Options{Jobs: 1, LogDir: logs}}
	s, err := e.Run(context.Background(), []*Job{j})
	if err != nil || !s.OK() {
		t.Fatalf("run: %v, %+v", err, s.Results)
	}
	if j.IgnoreArch {
		t.Error("the caller's Job was modified")
	}
	if len(b.built) != 1 || !b.built[0].IgnoreArch {
		t.Errorf("the builder got %+v; want the prepared job, with IgnoreArch", b.built)
	}
	data, err := os.ReadFile(s.Results[j.ID].LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\ncommand: fakebuild a --ignorearch\n") {
		t.Errorf("the log does not record the argv that ran:\n%s", data)
	}

	var dry bytes.Buffer
	e = &Executor{Builder: &archBuilder{}, Recorder: newMemRecorder(), Sources: archFetcher{}, Options: Options{Jobs: 1, DryRun: &dry}}
	if _, err := e.Run(context.Background(), []*Job{job("a")}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dry.String(), "\nfakebuild a --ignorearch\n") {
		t.Errorf("the dry run does not print the argv a build runs:\n%s", dry.String())
	}
}
