package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
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
}

// String renders c as a shell line a user could paste: "cd DIR && K=V argv",
// each word quoted when it needs to be. It is for display only.
func (c Command) String() string {
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
var KillDelay = 10 * time.Second

// RunInfo is what is known about a finished command.
type RunInfo struct {
	Pid      int // also the process group ID
	ExitCode int // -1 when killed by a signal or never started
	Signal   syscall.Signal
	MaxRSS   int64 // bytes
	Duration time.Duration
}

// RunCommand runs c with stdout and stderr to out, in its own process
// group. When ctx is cancelled the whole group gets SIGTERM, then SIGKILL
// after KillDelay; when the command exits, whatever is left in its group
// (a daemon a build script forgot) is killed too, so nothing outlives the
// build. Only processes that leave the group on purpose (setsid, as
// bubblewrap's --new-session does) escape this, which is why the makepkg
// builder pairs that with --die-with-parent.
func RunCommand(ctx context.Context, c Command, out io.Writer) (RunInfo, error) {
	return runCommand(ctx, c, out, out)
}

// runCommand is RunCommand with stdout and stderr apart, for commands whose
// stdout is data (makepkg --printsrcinfo, --packagelist).
func runCommand(ctx context.Context, c Command, stdout, stderr io.Writer) (RunInfo, error) {
	info := RunInfo{ExitCode: -1}
	if len(c.Args) == 0 {
		return info, errors.New("run: empty command")
	}
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = mergeEnv(os.Environ(), c.Env)
	cmd.Stdin = nil // /dev/null: a build never reads the terminal
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Pdeathsig: when portmake itself dies without a chance to cancel
	// (kill -9, a crash), the kernel kills the builder too, instead of
	// leaving it to write packages that no store records. It reaches only
	// the direct child; the rest of the group goes with it for builders
	// that, like bwrap --die-with-parent, follow their parent.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
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
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return info, fmt.Errorf("start %s: %w", c.Args[0], err)
	}
	info.Pid = cmd.Process.Pid
	err := cmd.Wait()
	info.Duration = time.Since(start)
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

// mergeEnv returns base with the KEY=VALUE pairs of add replacing those of
// the same key.
func mergeEnv(base, add []string) []string {
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

// withoutEnv returns env without the given keys.
func withoutEnv(env []string, drop ...string) []string {
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

// tailWriter passes writes through and keeps the last max bytes, so that a
// builder can classify a failure from the end of its log without holding
// a gigabyte of compiler output.
type tailWriter struct {
	w   io.Writer
	max int
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return t.w.Write(p)
}

func (t *tailWriter) tail() []byte {
	if len(t.buf) > t.max {
		return t.buf[len(t.buf)-t.max:]
	}
	return t.buf
}

// transientMarkers are log lines that mean the build failed for a reason
// outside the PKGBUILD: fetching sources or packages over the network.
var transientMarkers = [][]byte{
	[]byte("Failure while downloading"),            // makepkg, source download
	[]byte("failed retrieving file"),               // pacman, in the chroot
	[]byte("failed to retrieve some files"),        // pacman
	[]byte("Could not resolve host"),               // curl
	[]byte("Temporary failure in name resolution"), // getaddrinfo
	[]byte("Connection timed out"),
	[]byte("Connection reset by peer"),
	[]byte("The requested URL returned error: 5"), // curl, HTTP 5xx
}

// classify decides whether a failed build is worth retrying. The rule is
// deliberately narrow: a build is transient when it was killed by a signal
// that we did not send (the OOM killer, an admin), or when the tail of its
// log shows a network failure. Anything else, such as a compiler error, a
// test failure or a missing dependency, fails the same way every time.
func classify(ctx context.Context, info RunInfo, tail []byte, err error) error {
	if err == nil || ctx.Err() != nil {
		return err
	}
	if info.Signal != 0 {
		return fmt.Errorf("%w (%w)", err, ErrTransient)
	}
	for _, m := range transientMarkers {
		if bytes.Contains(tail, m) {
			return fmt.Errorf("%w (%w: log shows %q)", err, ErrTransient, m)
		}
	}
	return err
}
