package executor

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func writeLog(t *testing.T, dir string, j *Job, at time.Time, body string) string {
	t.Helper()
	l, err := CreateLog(dir, LogHeader{Job: j, Attempt: 1, Builder: "fake", Commands: []Command{{Args: []string{"makepkg", "--nocheck"}}}, Start: at})
	if err != nil {
		t.Fatal(err)
	}
	l.Write([]byte(body))
	if err := l.Close(&Result{Outcome: Built, Duration: time.Second, Files: []string{"/out/x.pkg.tar.zst"}}); err != nil {
		t.Fatal(err)
	}
	return l.Path
}

func TestLogHeaderAndFooter(t *testing.T) {
	dir := t.TempDir()
	j := &Job{ID: "abc123", Pkgbase: "glibc", Version: "1:2.40-1", Stage: 1}
	at := time.Date(2025, 3, 1, 12, 0, 0, 5000, time.UTC)
	path := writeLog(t, dir, j, at, "compiling\n")
	if want := filepath.Join(dir, "glibc", "20250301T120000.000005Z-1:2.40-1.log"); path != want {
		t.Errorf("path %s, want %s", path, want)
	}
	data, _ := os.ReadFile(path)
	want := "==> portmake build log\npkgbase: glibc\nversion: 1:2.40-1\nhash:    abc123\nstage:   1\nattempt: 1\nbuilder: fake\n" +
		"command: makepkg --nocheck\nstarted: 2025-03-01T12:00:00Z\n==> output\ncompiling\n\n==> portmake: result: built\n" +
		"duration:  1s\nexit code: 0\npeak rss:  0 KiB\npackage:   /out/x.pkg.tar.zst\n" + logEnd + "\n"
	if string(data) != want {
		t.Errorf("log\n%s\nwant\n%s", data, want)
	}
	// A build against the target's binaries of a dependency says so.
	v := *j
	v.ID, v.Of, v.Against = "def456", j.ID, []string{"binutils (stage 1)", "linux-api-headers"}
	data, _ = os.ReadFile(writeLog(t, t.TempDir(), &v, at, ""))
	if want := "stage:   1\nattempt: 1\nbuilder: fake\nagainst: the target's binutils (stage 1), linux-api-headers (not their fresh builds)\n" +
		"planned: abc123 (this build's hash records the dependency builds it used instead)\ncommand: "; !strings.Contains(string(data), want) {
		t.Errorf("variant log header:\n%s\nwant it to hold\n%s", data, want)
	}
	// Same start instant: a distinct file, not an overwrite.
	if p2 := writeLog(t, dir, j, at, ""); p2 == path {
		t.Error("second log overwrote the first")
	}
	for _, bad := range []*Job{{Pkgbase: "../etc", Version: "1-1"}, {Pkgbase: "a", Version: "1/2-1"}} {
		if _, err := CreateLog(dir, LogHeader{Job: bad, Start: at}); err == nil {
			t.Errorf("CreateLog accepted %+v", bad)
		}
	}
}

func TestRotateLogsMatchesThePkgbaseExactly(t *testing.T) {
	dir := t.TempDir()
	gcc := &Job{ID: "1", Pkgbase: "gcc", Version: "14.1-1"}
	libs := &Job{ID: "2", Pkgbase: "gcc-libs", Version: "14.1-1"}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var gccLogs, libLogs []string
	for i := range 5 {
		libLogs = append(libLogs, writeLog(t, dir, libs, t0.Add(time.Duration(i)*time.Minute), ""))
	}
	for i := range 5 {
		gccLogs = append(gccLogs, writeLog(t, dir, gcc, t0.Add(time.Duration(i)*time.Hour), ""))
	}
	// A file that is not a build log is never removed.
	notes := filepath.Join(dir, "gcc", "notes.txt")
	os.WriteFile(notes, nil, 0o644)
	if err := RotateLogs(dir, "gcc", 3); err != nil {
		t.Fatal(err)
	}
	for i, p := range gccLogs {
		_, err := os.Stat(p)
		if kept := err == nil; kept != (i >= 2) {
			t.Errorf("gcc log %d kept=%v", i, kept)
		}
	}
	for _, p := range append(libLogs, notes) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("rotating gcc removed %s", p)
		}
	}
	latest, err := LatestLog(dir, "gcc")
	if err != nil || latest != gccLogs[4] {
		t.Errorf("LatestLog = %s, %v; want %s", latest, err, gccLogs[4])
	}
	if latest, _ := LatestLog(dir, "gcc-libs"); latest != libLogs[4] {
		t.Errorf("LatestLog(gcc-libs) = %s", latest)
	}
	if _, err := LatestLog(dir, "vim"); err == nil {
		t.Error("LatestLog of a pkgbase without logs")
	}
	if err := RotateLogs(dir, "vim", 3); err != nil {
		t.Errorf("rotate without logs: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFollowLog(t *testing.T) {
	old := FollowPoll
	FollowPoll = 5 * time.Millisecond
	defer func() { FollowPoll = old }()
	dir := t.TempDir()
	j := &Job{ID: "1", Pkgbase: "zlib", Version: "1.3-1"}
	l, err := CreateLog(dir, LogHeader{Job: j, Start: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	done := make(chan error)
	go func() { done <- FollowLog(context.Background(), l.Path, &out) }()
	l.Write([]byte("line one\nhalf a "))
	time.Sleep(30 * time.Millisecond)
	if strings.Contains(out.String(), "half") {
		t.Error("printed an incomplete line")
	}
	l.Write([]byte("line\n"))
	select {
	case err := <-done:
		t.Fatalf("FollowLog returned before the footer: %v", err)
	case <-time.After(30 * time.Millisecond):
	}
	l.Close(&Result{Outcome: Failed, ExitCode: 2})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("FollowLog did not stop at the footer")
	}
	got := out.String()
	if !strings.Contains(got, "line one\nhalf a line\n") || !strings.HasSuffix(got, logEnd+"\n") {
		t.Errorf("followed:\n%s", got)
	}

	// An unfinished log is followed until ctx ends.
	l2, _ := CreateLog(dir, LogHeader{Job: j, Start: time.Now()})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := FollowLog(ctx, l2.Path, &bytes.Buffer{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("FollowLog of an unfinished log returned %v", err)
	}
}
