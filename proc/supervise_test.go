package proc

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pidIn reads a pid a test command wrote.
func pidIn(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("%s: %q", path, data)
	}
	return pid
}

// gone waits up to 2 s for pid to be gone (or a zombie).
func gone(pid int) bool {
	for range 40 {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// TestRunCommandLeavesNothing: what a command starts and leaves behind,
// even in a new session holding the output pipe, is killed when the
// command exits, and a good exit stays good and prompt.
func TestRunCommandLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	var out strings.Builder
	start := time.Now()
	info, err := Run(context.Background(), Command{Args: []string{"sh", "-c",
		`setsid sleep 300 & echo $! > "$1"; echo started`, "sh", pidFile}}, &out)
	if err != nil || info.ExitCode != 0 {
		t.Fatalf("RunCommand: %v (exit %d): %s", err, info.ExitCode, out.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: the leftover holding the pipe was waited for", d)
	}
	if pid := pidIn(t, pidFile); !gone(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the command's leftover process %d outlived it", pid)
	}
	if !strings.Contains(out.String(), "started") {
		t.Errorf("output: %q", out.String())
	}
}

// TestRunCommandReportsTheCommand: the caller sees the command's exit
// code and signal, not the supervisor's, and a missing tool before
// anything starts.
func TestRunCommandReportsTheCommand(t *testing.T) {
	var out strings.Builder
	info, err := Run(context.Background(), Command{Args: []string{"sh", "-c", "exit 7"}}, &out)
	if err == nil || info.ExitCode != 7 || info.Signal != 0 {
		t.Errorf("exit 7: %v, exit %d, signal %v", err, info.ExitCode, info.Signal)
	}
	info, err = Run(context.Background(), Command{Args: []string{"sh", "-c", "kill -SEGV $$"}}, &out)
	if err == nil || info.Signal != syscall.SIGSEGV {
		t.Errorf("killed by SIGSEGV: %v, signal %v", err, info.Signal)
	}
	_, err = Run(context.Background(), Command{Args: []string{"portmake-no-such-tool"}}, &out)
	if err == nil || !strings.Contains(err.Error(), "executable file not found") {
		t.Errorf("missing tool: %v", err)
	}
	// PATH from the command's own environment is the one searched.
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "mytool"), []byte("#!/bin/sh\necho mine\n"), 0o755)
	out.Reset()
	if _, err := Run(context.Background(), Command{Env: []string{"PATH=" + bin + ":/usr/bin:/bin"}, Args: []string{"mytool"}}, &out); err != nil || out.String() != "mine\n" {
		t.Errorf("PATH from Env: %v, %q", err, out.String())
	}
}
