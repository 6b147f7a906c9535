package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LockedError is returned by Lock when a live process holds the lock.
type LockedError struct {
	PID   int
	Since time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("state locked by pid %d since %s", e.PID, e.Since.Local().Format(time.RFC3339))
}

// Lock takes the one-apply-at-a-time lock of this state DB for process
// pid. When a live process holds it, Lock fails with a *LockedError; a lock
// left by a dead process (kill -9, a crash) is taken over. The check and
// the take are one IMMEDIATE transaction, so two processes racing for the
// lock cannot both win. Lock is not re-entrant: a second Lock by the same
// pid fails too.
//
// release gives the lock up; it removes only this holder's row, so it is
// harmless after a takeover, and it ignores the apply's context because it
// usually runs after a signal has cancelled that context.
func (s *Store) Lock(ctx context.Context, pid int, now time.Time) (release func() error, err error) {
	var tok [16]byte
	rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var holder int
		var holderStart, since int64
		err := tx.QueryRowContext(ctx, `SELECT pid, pid_start, since FROM apply_lock WHERE id = 1`).
			Scan(&holder, &holderStart, &since)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case processAlive(holder, holderStart):
			return &LockedError{PID: holder, Since: fromNanos(since)}
		default:
			s.log().Warn("taking over a stale state lock", "pid", holder, "since", fromNanos(since))
		}
		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO apply_lock (id, pid, pid_start, since, token)
			VALUES (1, ?, ?, ?, ?)`, pid, procStart(pid), nanos(now), token)
		return err
	})
	var le *LockedError
	if errors.As(err, &le) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("lock state %s: %w", s.path, err)
	}
	release = func() error {
		if _, err := s.db.ExecContext(context.Background(), `DELETE FROM apply_lock WHERE id = 1 AND token = ?`, token); err != nil {
			return fmt.Errorf("unlock state %s: %w", s.path, err)
		}
		return nil
	}
	return release, nil
}

// processAlive reports whether pid names a running process that is the one
// recorded: signal 0 tells whether the pid exists (EPERM: it exists but is
// not ours to signal), and the recorded start time, when known, tells a
// reused pid apart from the original process.
func processAlive(pid int, start int64) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false // ESRCH: no such process
	}
	if start != 0 {
		if cur := procStart(pid); cur != 0 && cur != start {
			return false
		}
	}
	return true
}

// procStart returns the start time of process pid in clock ticks since
// boot (field 22 of /proc/PID/stat), or 0 when it cannot be read (no
// /proc, or the process is gone).
func procStart(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	v, _ := parseProcStart(string(data))
	return v
}

// parseProcStart reads the starttime field from the text of /proc/PID/stat.
// The command name (field 2) is in parentheses and may itself hold spaces
// and parentheses, so fields are counted from the last ')'.
func parseProcStart(stat string) (int64, bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(stat[i+1:])
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(fields[19], 10, 64)
	if err != nil || v <= 0 {
		return 0, false
	}
	return v, true
}
