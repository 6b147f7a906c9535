package watch

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// systemd's notification protocol (sd_notify(3)): datagrams of
// "KEY=VALUE" lines sent to the unix socket $NOTIFY_SOCKET. With it the
// unit can be Type=notify (systemd knows when the daemon is ready) and set
// WatchdogSec= (systemd restarts a daemon that stops sending WATCHDOG=1).

// SystemdNotifier returns a Notify function for Options that writes to
// $NOTIFY_SOCKET, or nil when the variable is unset (not run by systemd).
// Abstract sockets ("@name") are supported.
func SystemdNotifier() func(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if strings.HasPrefix(path, "@") {
		path = "\x00" + path[1:]
	}
	addr := &net.UnixAddr{Name: path, Net: "unixgram"}
	return func(state string) error {
		c, err := net.DialUnix("unixgram", nil, addr)
		if err != nil {
			return fmt.Errorf("notify systemd: %w", err)
		}
		defer c.Close()
		// A reader that stopped reading must not stall the daemon.
		c.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte(state)); err != nil {
			return fmt.Errorf("notify systemd: %w", err)
		}
		return nil
	}
}

// watchdogInterval reads $WATCHDOG_USEC (and $WATCHDOG_PID, which must be
// ours when set): the daemon pings at half of it. Zero: no watchdog.
func watchdogInterval() time.Duration {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return time.Duration(usec) * time.Microsecond / 2
}

// watchdog pings systemd's watchdog until the returned stop is called.
// The pings come from their own goroutine: a long build is not a hang.
func (d *Daemon) watchdog() (stop func()) {
	every := watchdogInterval()
	if every <= 0 {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				d.notify("WATCHDOG=1")
			case <-done:
				return
			}
		}
	}()
	// Stopping waits for a ping in flight: none may follow STOPPING=1.
	return func() { close(done); <-exited }
}
