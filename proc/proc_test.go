package proc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portmake/portmake/internal/testutil"
)

func TestCommandString(t *testing.T) {
	for _, tc := range []struct {
		c    Command
		want string
	}{
		{Command{Args: []string{"makepkg", "--nocheck"}}, "makepkg --nocheck"},
		{Command{Dir: "/src/my pkg", Env: []string{"PKGDEST=/out", "X=a b"}, Args: []string{"echo", "it's", ""}},
			`cd '/src/my pkg' && PKGDEST=/out X='a b' echo 'it'\''s' ''`},
		{Command{Args: []string{"-I", "/p/glibc-2:40-1-x86_64.pkg.tar.zst"}}, "-I /p/glibc-2:40-1-x86_64.pkg.tar.zst"},
		// A URL's password never shows, wherever it is.
		{Command{Env: []string{"https_proxy=http://farm:s3cret@proxy:3128"}, Args: []string{"bwrap", "--setenv", "http_proxy", "http://u:p%40ss@proxy:3128/",
			"git", "clone", "https://oauth2:glpat-XYZ@gitlab.example/a.git", "https://gitlab.example/b.git", "user@host:path"}},
			"https_proxy=http://farm:xxxxx@proxy:3128 bwrap --setenv http_proxy http://u:xxxxx@proxy:3128/ git clone https://oauth2:xxxxx@gitlab.example/a.git https://gitlab.example/b.git user@host:path"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

// groupSurvivors lists the processes of group pgid that are still alive
// two seconds after RunCommand returned. SIGKILL is only delivered when
// the target next runs, which on a loaded machine can be a moment after
// kill(2) returned, so a member killed but not yet gone is given that
// long. Zombies do not count: a zombie waits for its reaper, which in a
// container may never come, and holds no resources.
func groupSurvivors(t *testing.T, pgid int) []string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		live := liveGroupMembers(pgid)
		if len(live) == 0 || time.Now().After(deadline) {
			return live
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func liveGroupMembers(pgid int) []string {
	ents, _ := os.ReadDir("/proc")
	var live []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...
		s := string(data)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			live = append(live, e.Name()+" "+s[:strings.LastIndexByte(s, ')')+1])
		}
	}
	return live
}

func TestRunCommandCancelKillsTheGroup(t *testing.T) {
	testutil.RequireTool(t, "sh", "sleep")
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	// A build that forks: a background sleep and one in the foreground.
	// The background child in particular must not survive.
	sh := testutil.Script(t, dir, "build", "sleep 1000 &\nsleep 1000 &\n: > "+ready+"\nwait\n")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if _, err := os.Stat(ready); err == nil {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	start := time.Now()
	info, err := Run(ctx, Command{Args: []string{sh}}, &bytes.Buffer{})
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want a cancellation", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancellation took %v", d)
	}
	if live := groupSurvivors(t, info.Pid); len(live) > 0 {
		t.Errorf("process group %d still has %v", info.Pid, live)
	}
}

func TestRunCommandEscalatesToSIGKILL(t *testing.T) {
	testutil.RequireTool(t, "sh", "sleep")
	old := KillDelay
	KillDelay = 200 * time.Millisecond
	defer func() { KillDelay = old }()
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	// The shell ignores SIGTERM, and so does the child it forks.
	sh := testutil.Script(t, dir, "build", "trap '' TERM\nsleep 1000 &\n: > "+ready+"\nwait\n")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if _, err := os.Stat(ready); err == nil {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	info, err := Run(ctx, Command{Args: []string{sh}}, &bytes.Buffer{})
	if err == nil {
		t.Fatal("no error")
	}
	if info.Signal != syscall.SIGKILL {
		t.Errorf("signal %v, want SIGKILL", info.Signal)
	}
	if live := groupSurvivors(t, info.Pid); len(live) > 0 {
		t.Errorf("process group %d still has %v", info.Pid, live)
	}
}

func TestRunCommandReportsExitAndRSS(t *testing.T) {
	testutil.RequireTool(t, "sh")
	dir := t.TempDir()
	sh := testutil.Script(t, dir, "build", "echo out; echo err >&2; echo \"$PORTMAKE_X\"; exit 3\n")
	var out bytes.Buffer
	info, err := Run(context.Background(), Command{Dir: dir, Env: []string{"PORTMAKE_X=set"}, Args: []string{sh}}, &out)
	if err == nil || info.ExitCode != 3 {
		t.Errorf("exit %d, err %v", info.ExitCode, err)
	}
	if out.String() != "out\nerr\nset\n" {
		t.Errorf("output %q", out.String())
	}
	if info.MaxRSS <= 0 {
		t.Errorf("peak RSS %d", info.MaxRSS)
	}
}
