// Package proc is portmake's one way to run a child process: builders,
// every makepkg call, git, patch, gpg and cluster clients all go through
// Run. A command is an argv (no shell ever sees it); it runs in its own
// process group under a supervisor (supervise.go) that leaves nothing
// behind when the command ends, is cancelled, or portmake dies; its
// combined output goes to one writer; and a good exit is never turned
// into a failure by a leftover holding the output pipe.
package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Command is one external command as an argv: no shell ever sees it.
type Command struct {
	Dir  string   // working directory
	Env  []string // KEY=VALUE pairs added to (or replacing) the inherited environment
	Args []string // argv; Args[0] is looked up on PATH
	// Stdout, when set, receives the command's standard output apart
	// from its standard error (for commands whose output is data, such
	// as git archive); otherwise both go to Run's out.
	Stdout io.Writer
}

// String renders c as a shell line a user could paste: "cd DIR && K=V argv",
// each word quoted when it needs to be. It is for display only: the
// password of a URL in any word (a proxy, a git remote with a token) is
// shown as "xxxxx".
func (c Command) String() string {
	return redactURLs(c.display())
}

// urlPassword matches the user:password@ part of URLs in a line.
var urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/@\s:'"]*):[^/@\s'"]*@`)

func redactURLs(s string) string { return urlPassword.ReplaceAllString(s, "${1}:xxxxx@") }

func (c Command) display() string {
	var b strings.Builder
	if c.Dir != "" {
		b.WriteString("cd ")
		b.WriteString(shellQuote(c.Dir))
		b.WriteString(" && ")
	}
	for _, e := range c.Env {
		k, v, _ := strings.Cut(e, "=")
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(shellQuote(v))
		b.WriteByte(' ')
	}
	for i, a := range c.Args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(shellQuote(a))
	}
	return b.String()
}

func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// KillDelay is how long a cancelled command's process group has between
// SIGTERM and SIGKILL. makechrootpkg needs a moment to unmount and remove
// its working copy; a build that ignores SIGTERM must still die.
var KillDelay = killDelay()

// killDelay is 10 s, or the hidden PORTMAKE_KILL_DELAY (a Go duration):
// scenarios of builds that ignore SIGTERM set it long, to tell a kill from
// the escalation.
func killDelay() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("PORTMAKE_KILL_DELAY")); err == nil && d > 0 {
		return d
	}
	return 10 * time.Second
}

// running holds the process groups of the commands running now, for
// KillAll.
var running = struct {
	sync.Mutex
	groups map[int]bool
}{groups: map[int]bool{}}

// KillAll kills the process group of every command running now with
// SIGKILL, without waiting for anything: the second Ctrl-C.
func KillAll() {
	running.Lock()
	defer running.Unlock()
	for pgid := range running.groups {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// Info is what is known about a finished command.
type Info struct {
	Pid      int // also the process group ID
	ExitCode int // -1 when killed by a signal or never started
	Signal   syscall.Signal
	MaxRSS   int64 // bytes
	Duration time.Duration
}

// Run runs c with stdout and stderr to out (stdout to c.Stdout when set), in its own process
// group. When ctx is cancelled the whole group gets SIGTERM, then SIGKILL
// after KillDelay; when the command exits, whatever is left in its group
// (a daemon a build script forgot) is killed too, so nothing outlives the
// build. Only processes that leave the group on purpose (setsid, as
// bubblewrap's --new-session does) escape this, which is why the makepkg
// builder pairs that with --die-with-parent.
func Run(ctx context.Context, c Command, out io.Writer) (Info, error) {
	info := Info{ExitCode: -1}
	if len(c.Args) == 0 {
		return info, errors.New("run: empty command")
	}
	env := MergeEnv(os.Environ(), c.Env)
	path, err := lookPath(c.Args[0], env)
	if err != nil {
		return info, fmt.Errorf("start %s: %w", c.Args[0], err)
	}
	// The supervisor (supervise.go) runs the command: this same binary,
	// told by superviseEnv what to run.
	cmd := exec.CommandContext(ctx, "/proc/self/exe", c.Args...)
	cmd.Args[0] = "portmake-supervise"
	cmd.Dir = c.Dir
	cmd.Env = append(env, superviseEnv+"="+path)
	cmd.Stdin = nil // /dev/null: a build never reads the terminal
	cmd.Stdout, cmd.Stderr = out, out
	if c.Stdout != nil {
		cmd.Stdout = c.Stdout
	}
	// Pdeathsig: when portmake itself dies without a chance to cancel
	// (kill -9, a crash), the supervisor learns it at once and kills the
	// command and everything it started, instead of leaving it to write
	// packages that no store records.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	var (
		mu     sync.Mutex
		killer *time.Timer
	)
	cmd.Cancel = func() error {
		pgid := cmd.Process.Pid
		mu.Lock()
		killer = time.AfterFunc(KillDelay, func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
		mu.Unlock()
		if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return err
		}
		// Returning nil would make Wait report success for a build that
		// a cancellation cut short and then exited 0.
		return ctx.Err()
	}
	// WaitDelay bounds how long Wait waits for the output pipes after the
	// group is gone: a process that left the group could hold them open.
	cmd.WaitDelay = KillDelay + 5*time.Second
	// The supervisor reports the command's own wait status on fd 3.
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return info, fmt.Errorf("start %s: %w", c.Args[0], err)
	}
	defer statusR.Close()
	cmd.ExtraFiles = []*os.File{statusW}
	start := time.Now()
	err = cmd.Start()
	statusW.Close()
	if err != nil {
		return info, fmt.Errorf("start %s: %w", c.Args[0], err)
	}
	statusC := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(statusR, 256))
		statusC <- b
	}()
	info.Pid = cmd.Process.Pid
	running.Lock()
	running.groups[info.Pid] = true
	running.Unlock()
	err = cmd.Wait()
	running.Lock()
	delete(running.groups, info.Pid)
	running.Unlock()
	info.Duration = time.Since(start)
	if errors.Is(err, exec.ErrWaitDelay) && ctx.Err() == nil {
		// The command exited 0, but something it started kept the output
		// pipe open past WaitDelay. The supervisor kills such leftovers,
		// so this is rare; it is never a reason to fail a good build.
		fmt.Fprintf(out, "\n==> portmake: %s exited 0; output still open after %s was cut off\n", c.Args[0], cmd.WaitDelay)
		err = nil
	}
	// The leader is reaped; kill what is left of its group.
	_ = syscall.Kill(-info.Pid, syscall.SIGKILL)
	mu.Lock()
	if killer != nil {
		killer.Stop()
	}
	mu.Unlock()
	if st := cmd.ProcessState; st != nil {
		info.ExitCode = st.ExitCode()
		if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			info.Signal = ws.Signal()
		}
		// Maxrss from wait4 is the peak RSS of the largest single process
		// among the child and the descendants it waited for (in KiB on
		// Linux): the build's biggest process, not the sum of the tree.
		// That is what matters when packing builds under a memory budget
		// (one huge linker, not forty small compilers).
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			info.MaxRSS = ru.Maxrss * 1024
		}
	}
	// The supervisor is gone, so its end of the status pipe is closed
	// (the command never had it).
	if sv, ok := parseStatus(<-statusC); ok {
		info.ExitCode, info.Signal, info.MaxRSS = sv.exitCode, sv.signal, sv.maxRSS*1024
	}
	if err != nil {
		if ctx.Err() != nil {
			return info, fmt.Errorf("%s: cancelled: %w", c.Args[0], ctx.Err())
		}
		if info.Signal != 0 {
			return info, fmt.Errorf("%s: killed by signal %v", c.Args[0], info.Signal)
		}
		return info, fmt.Errorf("%s: %w", c.Args[0], err)
	}
	return info, nil
}

// MergeEnv returns base with the KEY=VALUE pairs of add replacing those of
// the same key.
func MergeEnv(base, add []string) []string {
	if len(add) == 0 {
		return base
	}
	keys := make(map[string]bool, len(add))
	for _, e := range add {
		k, _, _ := strings.Cut(e, "=")
		keys[k] = true
	}
	out := make([]string, 0, len(base)+len(add))
	for _, e := range base {
		k, _, _ := strings.Cut(e, "=")
		if !keys[k] {
			out = append(out, e)
		}
	}
	return append(out, add...)
}

// WithoutEnv returns env without the given keys.
func WithoutEnv(env []string, drop ...string) []string {
	out := env[:0:0]
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		keep := true
		for _, d := range drop {
			if k == d {
				keep = false
			}
		}
		if keep {
			out = append(out, e)
		}
	}
	return out
}
