package executor

// Build logs live in <logs>/<pkgbase>/<timestamp>-<version>.log, one file
// per build attempt. The timestamp is UTC with microseconds in a fixed
// width, so the name order is the time order and rotation and LatestLog
// need no stat calls. Rotation works inside one pkgbase's own directory,
// so it cannot touch another pkgbase's logs whatever their names share
// (the old scripts rotated gcc-libs' logs while building gcc, because they
// matched a name prefix in one flat directory).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/portmake/portmake/alpm"
)

const (
	logStamp = "20060102T150405.000000Z"
	// logEnd is the last line of a finished log: FollowLog stops there.
	logEnd = "==> portmake: end of build log"
)

// logName matches the files CreateLog writes, so that rotation never
// removes a file someone put there by hand.
var logName = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[^/]+\.log$`)

// BuildLog is an open build log.
type BuildLog struct {
	Path  string
	f     *os.File
	w     *bufio.Writer
	start time.Time
}

// LogHeader is what the first lines of a build log say. Commands is
// usually nil: they are known once the sources are prepared, and
// WriteCommands records them then.
type LogHeader struct {
	Job      *Job
	Attempt  int
	Builder  string
	Commands []Command
	Start    time.Time
}

// CreateLog creates a new log for an attempt of j under dir and writes its
// header. Two attempts in the same microsecond get distinct names.
func CreateLog(dir string, h LogHeader) (*BuildLog, error) {
	j := h.Job
	if err := alpm.CheckName(j.Pkgbase); err != nil {
		return nil, fmt.Errorf("build log: pkgbase: %w", err)
	}
	if strings.ContainsAny(j.Version, "/\x00") || j.Version == "" {
		return nil, fmt.Errorf("build log for %s: bad version %q", j.Pkgbase, j.Version)
	}
	pdir := filepath.Join(dir, j.Pkgbase)
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return nil, fmt.Errorf("build log: %w", err)
	}
	t := h.Start.UTC()
	var f *os.File
	for {
		path := filepath.Join(pdir, t.Format(logStamp)+"-"+j.Version+".log")
		var err error
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("build log: %w", err)
		}
		t = t.Add(time.Microsecond)
	}
	l := &BuildLog{Path: f.Name(), f: f, w: bufio.NewWriterSize(f, 64<<10), start: h.Start}
	fmt.Fprintf(l.w, "==> portmake build log\n")
	fmt.Fprintf(l.w, "pkgbase: %s\nversion: %s\nhash:    %s\nstage:   %d\nattempt: %d\nbuilder: %s\n",
		j.Pkgbase, j.Version, j.ID, j.Stage, h.Attempt, h.Builder)
	if len(j.Against) > 0 {
		fmt.Fprintf(l.w, "against: the target's %s (not their fresh builds)\n", strings.Join(j.Against, ", "))
	}
	if j.Of != "" {
		fmt.Fprintf(l.w, "planned: %s (this build's hash records the dependency builds it used instead)\n", j.Of)
	}
	for _, c := range h.Commands {
		fmt.Fprintf(l.w, "command: %s\n", c)
	}
	fmt.Fprintf(l.w, "started: %s\n==> output\n", h.Start.UTC().Format(time.RFC3339))
	if err := l.w.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("build log %s: %w", l.Path, err)
	}
	return l, nil
}

// WriteCommands records the commands the build runs, just before it runs
// them: the argv the builder computed from the prepared job.
func (l *BuildLog) WriteCommands(cmds []Command) error {
	var b bytes.Buffer
	b.WriteString("==> portmake: running\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "command: %s\n", c)
	}
	if _, err := l.f.Write(b.Bytes()); err != nil {
		return fmt.Errorf("build log %s: %w", l.Path, err)
	}
	return nil
}

// Write appends builder output. It is written through at once so that
// `portmake logs -f` sees it live.
func (l *BuildLog) Write(p []byte) (int, error) { return l.f.Write(p) }

// Close writes the footer and closes the log.
func (l *BuildLog) Close(r *Result) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "\n==> portmake: result: %s\n", r.Outcome)
	if r.Err != nil {
		fmt.Fprintf(&b, "error:     %v\n", r.Err)
	}
	fmt.Fprintf(&b, "duration:  %s\nexit code: %d\npeak rss:  %d KiB\n", r.Duration.Round(time.Millisecond), r.ExitCode, r.MaxRSS/1024)
	for _, f := range r.Files {
		fmt.Fprintf(&b, "package:   %s\n", f)
	}
	b.WriteString(logEnd + "\n")
	_, err := l.f.Write(b.Bytes())
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("build log %s: %w", l.Path, err)
	}
	return nil
}

// logFiles returns the build logs of pkgbase, oldest first.
func logFiles(dir, pkgbase string) ([]string, error) {
	if err := alpm.CheckName(pkgbase); err != nil {
		return nil, fmt.Errorf("logs: %w", err)
	}
	ents, err := os.ReadDir(filepath.Join(dir, pkgbase))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && logName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for i, n := range names {
		names[i] = filepath.Join(dir, pkgbase, n)
	}
	return names, nil
}

// RotateLogs removes all but the newest keep logs of pkgbase. keep <= 0
// keeps everything.
func RotateLogs(dir, pkgbase string, keep int) error {
	if keep <= 0 {
		return nil
	}
	files, err := logFiles(dir, pkgbase)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("rotate logs of %s: %w", pkgbase, err)
	}
	var errs []error
	for len(files) > keep {
		if err := os.Remove(files[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("rotate logs of %s: %w", pkgbase, err))
		}
		files = files[1:]
	}
	return errors.Join(errs...)
}

// LatestLog returns the path of the newest build log of pkgbase.
func LatestLog(dir, pkgbase string) (string, error) {
	files, err := logFiles(dir, pkgbase)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("logs of %s: %w", pkgbase, err)
	}
	if len(files) == 0 {
		return "", fmt.Errorf("no build log for %s in %s", pkgbase, dir)
	}
	return files[len(files)-1], nil
}

// FollowPoll is how often FollowLog looks for new output.
var FollowPoll = 200 * time.Millisecond

// FollowLog copies the log at path to w, then keeps copying what is
// appended until the footer's last line has been copied or ctx ends. A
// finished log is printed whole and FollowLog returns at once.
func FollowLog(ctx context.Context, path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("follow log: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var partial []byte
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			if line[len(line)-1] != '\n' {
				// An incomplete line: keep it until the writer ends it.
				partial = append(partial, line...)
			} else {
				if len(partial) > 0 {
					line = append(partial, line...)
					partial = partial[:0]
				}
				if _, werr := w.Write(line); werr != nil {
					return werr
				}
				if string(bytes.TrimSuffix(line, []byte("\n"))) == logEnd {
					return nil
				}
			}
		}
		if err == io.EOF {
			select {
			case <-ctx.Done():
				if len(partial) > 0 {
					w.Write(partial)
				}
				return ctx.Err()
			case <-time.After(FollowPoll):
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("follow log %s: %w", path, err)
		}
	}
}
