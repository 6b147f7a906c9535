package proc

// Every command portmake runs is started under a supervisor: a second
// copy of the running binary (/proc/self/exe), recognised by an
// environment marker before main runs, that starts the real command in
// its own process group and outlives nothing:
//
//   - It is a child subreaper (PR_SET_CHILD_SUBREAPER), so a process the
//     command started and orphaned (a daemon a PKGBUILD left, a compiler
//     whose parent died) becomes its child instead of init's.
//   - It gets SIGTERM when portmake dies (Pdeathsig), even from kill -9;
//     then its parent is gone, and it kills the command's group and every
//     descendant with SIGKILL at once. Pdeathsig alone reaches only the
//     direct child, so before this a builder's own children survived a
//     kill -9 of portmake.
//   - When the command exits, whatever it left behind is killed and
//     reaped, and the supervisor reports the command's wait status (exit
//     code, signal, peak RSS) on a pipe at fd 3, so the caller sees the
//     command's exit, not the supervisor's.
//   - A SIGTERM while portmake lives is a cancellation: the command's group
//     got the same signal from RunCommand; the supervisor waits, and kills
//     what is left when the command ends or RunCommand's SIGKILL arrives.
//
// The supervisor and the command share one process group, led by the
// supervisor, which RunCommand kills whole on cancel. When the supervisor
// itself is killed (that SIGKILL), no status comes, and its own wait
// status stands.

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// superviseEnv marks a process started as a supervisor; its value is the
// command's resolved path.
const superviseEnv = "PORTMAKE_SUPERVISE_CMD"

func init() {
	path, ok := os.LookupEnv(superviseEnv)
	if !ok {
		return
	}
	os.Unsetenv(superviseEnv)
	os.Exit(supervise(path, os.Args[1:]))
}

const prSetChildSubreaper = 36

// supervise runs argv (argv[0] resolved to path) as described above and
// returns the exit code to use when the command did not die of a signal.
func supervise(path string, argv []string) int {
	parent := os.Getppid()
	status := os.NewFile(3, "status")
	syscall.CloseOnExec(3) // the command must not hold it
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		os.Stderr.WriteString("portmake supervisor: cannot become a subreaper: " + errno.Error() + "\n")
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if os.Getppid() != parent || parent == 1 {
		return 125 // portmake died before the handler was in place
	}
	cmd := &exec.Cmd{Path: path, Args: argv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if err := cmd.Start(); err != nil {
		os.Stderr.WriteString("portmake supervisor: " + err.Error() + "\n")
		return 127
	}
	done := make(chan *os.ProcessState, 1)
	go func() {
		st, _ := cmd.Process.Wait()
		done <- st
	}()
	for {
		select {
		case st := <-done:
			killDescendants()
			var sig syscall.Signal
			if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				sig = ws.Signal()
			}
			var rss int64
			if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
				rss = ru.Maxrss
			}
			fmt.Fprintf(status, "%d %d %d\n", st.ExitCode(), int(sig), rss)
			status.Close()
			if sig != 0 {
				return 128 + int(sig)
			}
			return st.ExitCode()
		case <-sigs:
			if os.Getppid() != parent {
				// portmake is gone: nobody would record what runs on.
				killDescendants()
				return 137
			}
			// A cancellation: the group has the signal too; wait for the
			// command to end.
		}
	}
}

// killDescendants kills, with SIGKILL, every process whose parent is this
// one (as a subreaper, orphaned descendants are), and reaps them, until
// none is left. The command itself must already be reaped.
func killDescendants() {
	self := os.Getpid()
	for range 100 {
		kids := children(self)
		if len(kids) == 0 {
			return
		}
		for _, pid := range kids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		for _, pid := range kids {
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, 0, nil)
		}
	}
}

// children lists the pids whose parent is pid, from /proc.
func children(pid int) []int {
	// /proc/<pid>/task/<tid>/children is exact but needs
	// CONFIG_PROC_CHILDREN; scanning every process's stat always works.
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The parent is the second field after the parenthesised name.
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 {
			if ppid, err := strconv.Atoi(f[1]); err == nil && ppid == pid {
				out = append(out, p)
			}
		}
	}
	return out
}

// lookPath resolves name as exec.LookPath would, but with PATH taken from
// env (the command's environment), so that a missing tool is reported by
// RunCommand before anything starts.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if _, err := os.Stat(name); err != nil {
			return "", &exec.Error{Name: name, Err: err}
		}
		return filepath.Abs(name)
	}
	path := ""
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return filepath.Abs(p)
		}
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

// superviseStatus is what a supervisor reported about its command.
type superviseStatus struct {
	exitCode int
	signal   syscall.Signal
	maxRSS   int64 // KiB, as wait4 gives it
}

// parseStatus reads a supervisor's status line; ok is false when it sent
// none (it was killed first).
func parseStatus(b []byte) (st superviseStatus, ok bool) {
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return st, false
	}
	code, err1 := strconv.Atoi(f[0])
	sig, err2 := strconv.Atoi(f[1])
	rss, err3 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return st, false
	}
	return superviseStatus{exitCode: code, signal: syscall.Signal(sig), maxRSS: rss}, true
}
