package sources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portmake/portmake/internal/testutil"
)

func TestNetworkReason(t *testing.T) {
	for stderr, want := range map[string]string{
		"fatal: unable to access 'https://gitlab.archlinux.org/archlinux/packaging/packages/zstd.git/': Could not resolve host: gitlab.archlinux.org": "could not resolve host",
		"ssh: Could not resolve hostname gitlab.archlinux.org: Name or service not known; fatal: Could not read from remote repository.":              "could not resolve host",
		"fatal: unable to access 'http://127.0.0.1:9/foo.git/': Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server":         "could not connect",
		"ssh: connect to host example.org port 22: Connection refused":                                                                                "connection refused",
		"fatal: unable to access 'https://x/': Failed to connect to x port 443: Network is unreachable":                                               "network is unreachable",
		"fatal: remote error: upstream: ref not found":                                                                                                "",
		"fatal: repository 'https://gitlab.archlinux.org/x.git/' not found":                                                                           "",
	} {
		err := &cmdError{argv: []string{"git"}, err: errors.New("exit status 128"), stderr: stderr}
		if got := networkReason(fmt.Errorf("wrapped: %w", err)); got != want {
			t.Errorf("%q: reason %q, want %q", stderr, got, want)
		}
	}
	if got := networkReason(&cmdError{argv: []string{"git"}, err: errors.New("timed out after 5m0s")}); got != "timed out" {
		t.Errorf("our own timeout: %q", got)
	}
}

func TestHostOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://gitlab.archlinux.org/archlinux/packaging/packages/zstd.git": "gitlab.archlinux.org",
		"https://token@git.example.org:8443/x.git":                           "git.example.org:8443",
		"ssh://git@host/x.git":                                               "host",
		"git@github.com:org/x.git":                                           "github.com",
		"file:///srv/git/x.git":                                              "",
		"/srv/git/x.git":                                                     "",
	} {
		if got := hostOf(in); got != want {
			t.Errorf("hostOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// countingHandler counts the git commands the resolver runs.
type countingHandler struct {
	slog.Handler
	n *atomic.Int64
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "exec" {
		h.n.Add(1)
	}
	return nil
}

// TestUnreachableHostAskedOnce: with the packaging host refusing
// connections, a plan of 40 sources runs git against it twice, not 40
// times, and says so in one line.
func TestUnreachableHostAskedOnce(t *testing.T) {
	testutil.RequireTool(t, "git")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connections are refused
	for _, parallel := range []int{1, 8} {
		var n atomic.Int64
		r := &Resolver{Packaging: "http://" + addr + "/{project}.git", CacheDir: t.TempDir(), Parallel: parallel,
			Log: slog.New(countingHandler{n: &n})}
		var reqs []Request
		for i := range 40 {
			reqs = append(reqs, Request{Pkgbase: fmt.Sprintf("p%d", i), Version: "1.0-1", Kind: Official})
		}
		_, err := r.Resolve(context.Background(), reqs)
		var ue *UnresolvedError
		if !errors.As(err, &ue) || !ue.OnlyNetwork() || ue.Count() != 40 {
			t.Fatalf("parallel %d: error %v", parallel, err)
		}
		want := fmt.Sprintf("40 sources unresolved: %s: could not connect (p0: http://%s/p0.git, and 39 more)", addr, addr)
		if err.Error() != want {
			t.Errorf("parallel %d: error %q, want %q", parallel, err, want)
		}
		if !errors.Is(err, ErrUnreachable) {
			t.Error("the error does not wrap ErrUnreachable")
		}
		if got := n.Load(); got > int64(hostDownAfter+parallel) {
			t.Errorf("parallel %d: git ran %d times against a host that refuses connections", parallel, got)
		}
	}
}

// TestUnresolvedKeepsOtherErrors: a failure of one repository (a missing
// tag) is reported as it is, beside the summed-up host failures.
func TestUnresolvedKeepsOtherErrors(t *testing.T) {
	out := []Resolved{{Pkgbase: "a", URL: "https://h/a.git"}, {Pkgbase: "b", URL: "https://h/b.git"}, {Pkgbase: "c", URL: "https://h/c.git"}}
	down := &hostDownError{host: "h", reason: "could not resolve host"}
	other := fmt.Errorf("official package c: https://h/c.git: refs/tags/1-1: %w", ErrRefNotFound)
	err := unresolved(out, []error{down, down, other})
	var ue *UnresolvedError
	if !errors.As(err, &ue) || ue.OnlyNetwork() || !errors.Is(err, ErrRefNotFound) {
		t.Fatalf("error %v", err)
	}
	if want := "2 sources unresolved: h: could not resolve host (a: https://h/a.git, and 1 more)\n" + other.Error(); err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if unresolved(out, make([]error, 3)) != nil {
		t.Error("no errors, yet an error")
	}
	if got := thousands(1628); got != "1,628" {
		t.Errorf("thousands(1628) = %q", got)
	}
	if !strings.Contains((&UnresolvedError{Hosts: []HostFailure{{Host: "x", Reason: "r", Pkgbases: []string{"a"}}}}).Error(), "1 source unresolved") {
		t.Error("singular")
	}
}
