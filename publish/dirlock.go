package publish

// The directory lock is repo-add's: "<db>.lck", created exclusively,
// holding the owner's pid. repo-add never takes over a lock, so a kill -9
// during a publish used to block every later one until someone removed the
// file by hand. lockDB takes over a lock whose owner is gone:
//
//   - the file names a pid (repo-add's "<pid>\n"; portmake adds
//     "host <name>\n"), and the lock was made on this host (no host line
//     counts as this host: repo-add writes none, and its locks are local);
//   - that pid is not running, or is running but started after the lock
//     file was written (the pid was reused).
//
// An empty or unreadable lock (a writer between its create and its write)
// is stale only once it is a minute old. The takeover runs under flock(2)
// on the directory and checks that the file is still the one judged stale
// (same inode), so two portmakes racing to recover it cannot both win, and
// the winner's new lock is never removed by the loser.

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LockedError is returned when a live process holds a repository lock.
type LockedError struct {
	Path   string
	Holder string // the lock file's content, trimmed
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s is locked by %s (process %s, still running); wait for it to finish", strings.TrimSuffix(e.Path, ".lck"), e.Path, e.Holder)
}

// lockDB takes "<db>.lck" for this process.
func lockDB(db string, log *slog.Logger) (func(), error) {
	name := db + ".lck"
	host, _ := os.Hostname()
	for try := 0; try < 5; try++ {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := fmt.Fprintf(f, "%d\nhost %s\n", os.Getpid(), host)
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				os.Remove(name)
				return nil, fmt.Errorf("lock %s: %w", db, werr)
			}
			return func() { os.Remove(name) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock %s: %w", db, err)
		}
		took, err := takeOverStale(name, host, log)
		if err != nil {
			return nil, err
		}
		if !took {
			time.Sleep(10 * time.Millisecond) // it was released meanwhile, or another portmake took it over
		}
	}
	holder, _ := os.ReadFile(name)
	return nil, &LockedError{Path: name, Holder: strings.TrimSpace(firstLine(string(holder)))}
}

// takeOverStale removes the lock file when its owner is gone. It reports
// whether it removed it; a lock held by a live process is a *LockedError.
func takeOverStale(name, host string, log *slog.Logger) (bool, error) {
	d, err := os.Open(filepath.Dir(name))
	if err != nil {
		return false, err
	}
	defer d.Close()
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		return false, fmt.Errorf("lock %s: %w", name, err)
	}
	defer syscall.Flock(int(d.Fd()), syscall.LOCK_UN)
	st, err := os.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	data, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	stale, why := lockStale(string(data), st.ModTime(), host)
	if !stale {
		return false, &LockedError{Path: name, Holder: strings.TrimSpace(firstLine(string(data)))}
	}
	// Still the same file? A release and a new lock since our stat would
	// be a live lock.
	if st2, err := os.Stat(name); err != nil || !os.SameFile(st, st2) {
		return false, nil
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("remove the stale lock %s: %w", name, err)
	}
	log.Warn("removed a stale repository lock", "lock", name, "why", why)
	return true, nil
}

// lockStale decides whether a lock with this content and mtime, read on
// host, belongs to a process that is gone, and says why.
func lockStale(content string, mtime time.Time, host string) (bool, string) {
	lines := strings.Split(strings.TrimSpace(content), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 {
		if time.Since(mtime) > time.Minute {
			return true, "it names no process and is over a minute old"
		}
		return false, ""
	}
	for _, l := range lines[1:] {
		if h, ok := strings.CutPrefix(strings.TrimSpace(l), "host "); ok && h != host {
			return false, "" // another host's process: we cannot tell
		}
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return true, fmt.Sprintf("process %d is gone", pid)
	}
	if start, ok := procStartTime(pid); ok && start.After(mtime.Add(2*time.Second)) {
		return true, fmt.Sprintf("pid %d now belongs to a process started after the lock was taken", pid)
	}
	return false, ""
}

// procStartTime returns when process pid started, from /proc.
func procStartTime(pid int) (time.Time, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return time.Time{}, false
	}
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return time.Time{}, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 20 {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseInt(f[19], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	boot, ok := bootTime()
	if !ok {
		return time.Time{}, false
	}
	// USER_HZ is 100 on every Linux architecture portmake runs on.
	return boot.Add(time.Duration(ticks) * time.Second / 100), true
}

func bootTime() (time.Time, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return time.Unix(n, 0), err == nil
		}
	}
	return time.Time{}, false
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
