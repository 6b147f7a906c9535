package executor

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/portmake/portmake/proc"
)

// Command is one external command as an argv: no shell ever sees it.
type Command = proc.Command

// RunInfo is what is known about a finished command.
type RunInfo = proc.Info

// RunCommand runs c with proc.Run, portmake's one process runner: its own
// process group under a supervisor that leaves nothing behind, killed
// whole on cancel, combined output to out.
func RunCommand(ctx context.Context, c Command, out io.Writer) (RunInfo, error) {
	return proc.Run(ctx, c, out)
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

// runCommand is RunCommand with stdout apart from stderr, for commands
// whose stdout is data (makepkg --printsrcinfo, --packagelist).
func runCommand(ctx context.Context, c Command, stdout, stderr io.Writer) (RunInfo, error) {
	c.Stdout = stdout
	return proc.Run(ctx, c, stderr)
}
