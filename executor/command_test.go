package executor

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"syscall"
	"testing"
)

func TestClassify(t *testing.T) {
	bg := context.Background()
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	fail := errors.New("makepkg: exit status 1")
	for _, tc := range []struct {
		name      string
		ctx       context.Context
		info      RunInfo
		tail      string
		transient bool
	}{
		{"compiler error", bg, RunInfo{ExitCode: 1}, "foo.c:3: error: expected ';'\n==> ERROR: A failure occurred in build().", false},
		{"download", bg, RunInfo{ExitCode: 1}, "curl: (6) Could not resolve host: ftp.gnu.org\n==> ERROR: Failure while downloading gcc.tar.xz", true},
		{"pacman mirror", bg, RunInfo{ExitCode: 1}, "error: failed retrieving file 'glibc.pkg.tar.zst' from mirror", true},
		{"oom killer", bg, RunInfo{ExitCode: -1, Signal: syscall.SIGKILL}, "", true},
		{"our own cancel", cancelled, RunInfo{ExitCode: -1, Signal: syscall.SIGTERM}, "Failure while downloading", false},
	} {
		err := classify(tc.ctx, tc.info, []byte(tc.tail), fail)
		if got := errors.Is(err, ErrTransient); got != tc.transient {
			t.Errorf("%s: transient=%v, want %v (%v)", tc.name, got, tc.transient, err)
		}
		if !errors.Is(err, fail) {
			t.Errorf("%s: lost the original error: %v", tc.name, err)
		}
	}
	if classify(bg, RunInfo{}, nil, nil) != nil {
		t.Error("success classified as a failure")
	}
}

func TestTailWriter(t *testing.T) {
	var all bytes.Buffer
	tw := &tailWriter{w: &all, max: 10}
	for i := range 100 {
		tw.Write([]byte(strconv.Itoa(i % 10)))
	}
	if got := string(tw.tail()); got != "0123456789" || all.Len() != 100 {
		t.Errorf("tail %q, passed %d bytes", got, all.Len())
	}
}
