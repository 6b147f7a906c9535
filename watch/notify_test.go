package watch

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portmake/portmake/engine"
)

// TestSystemdNotify: the daemon tells systemd when it is ready, what it is
// doing, that it is alive (watchdog) and that it stops, over a real
// unixgram socket as systemd provides it.
func TestSystemdNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "20000") // pings every 10ms
	t.Setenv("WATCHDOG_PID", "")
	notify := SystemdNotifier()
	if notify == nil {
		t.Fatal("no notifier with NOTIFY_SOCKET set")
	}
	f := &fakePort{applyFn: func(ctx context.Context, o engine.ApplyOptions, prog engine.Progress) (*engine.ApplyResult, error) {
		time.Sleep(80 * time.Millisecond)
		return &engine.ApplyResult{PlanID: o.PlanID}, nil
	}}
	// Read as systemd does, all along (a unix datagram socket queues only
	// a few messages).
	var got []string
	read := make(chan struct{})
	go func() {
		defer close(read)
		buf := make([]byte, 512)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			got = append(got, string(buf[:n]))
		}
	}()
	o := testOptions(io.Discard)
	o.Rounds, o.Notify = 1, notify
	if err := New(f, o).Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	<-read
	if len(got) < 4 || got[0] != "READY=1" || got[len(got)-1] != "STOPPING=1" ||
		!slices.Contains(got, "WATCHDOG=1") || !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "STATUS=round 1: applying plan 1") }) {
		t.Errorf("notifications = %q", got)
	}

	t.Setenv("NOTIFY_SOCKET", "")
	if SystemdNotifier() != nil {
		t.Error("a notifier without NOTIFY_SOCKET")
	}
	t.Setenv("WATCHDOG_PID", "1")
	if watchdogInterval() != 0 {
		t.Error("a watchdog meant for another process")
	}
}
