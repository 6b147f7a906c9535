package sources

// Hosts that do not answer.
//
// Without a network a first plan asks the packaging host once per pkgbase:
// 1,628 git commands that each fail the same way ("Could not resolve host:
// gitlab.archlinux.org") and 153 s before the plan gives up, with 1,628
// near-identical lines. So one Resolve call keeps a tally per host: once a
// host has failed hostDownAfter times for a reason that is the network's
// (the name does not resolve, the connection is refused or times out, the
// network is unreachable), no further git command is run against it, and
// its requests fail at once with that reason. The errors Resolve returns
// are then summed up per host in an UnresolvedError ("1,628 sources
// unresolved: gitlab.archlinux.org: could not resolve host"), which also
// tells a caller that nothing but the network stood in the way, so it can
// still show what it would plan.
//
// Other failures (a tag the remote lacks, a bad .SRCINFO) say something
// about one pkgbase, not the host, and are kept and reported one by one.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// hostDownAfter is how many network failures put a host out of reach for
// the rest of a Resolve call: the first ones may be a blip, a thousand are
// not.
const hostDownAfter = 2

// ErrUnreachable is wrapped by the error of a request whose host was not
// asked because it had failed too often.
var ErrUnreachable = errors.New("host unreachable")

// hosts tallies the network failures of one Resolve call, per host.
type hosts struct {
	mu    sync.Mutex
	fails map[string]int
	down  map[string]string // host -> reason
}

type hostsKey struct{}

// withHosts returns ctx carrying a fresh tally.
func withHosts(ctx context.Context) context.Context {
	return context.WithValue(ctx, hostsKey{}, &hosts{fails: map[string]int{}, down: map[string]string{}})
}

func hostsOf(ctx context.Context) *hosts {
	h, _ := ctx.Value(hostsKey{}).(*hosts)
	return h
}

// check returns an error when remote's host is known to be down.
func (h *hosts) check(remote string) error {
	host := hostOf(remote)
	if h == nil || host == "" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if reason, ok := h.down[host]; ok {
		return &hostDownError{host: host, reason: reason}
	}
	return nil
}

// record counts err against remote's host when the network caused it.
func (h *hosts) record(remote string, err error) {
	host, reason := hostOf(remote), networkReason(err)
	if h == nil || host == "" || reason == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fails[host]++; h.fails[host] >= hostDownAfter {
		if _, ok := h.down[host]; !ok {
			h.down[host] = reason
		}
	}
}

// hostDownError is a request not made because its host is down.
type hostDownError struct{ host, reason string }

func (e *hostDownError) Error() string {
	return fmt.Sprintf("%s: %s (not asked again in this run)", e.host, e.reason)
}

func (e *hostDownError) Unwrap() error { return ErrUnreachable }

// hostOf returns the host (with its port) a git URL talks to, or "" for a
// repository on this machine.
func hostOf(remote string) string {
	if remote == "" || isLocalURL(remote) {
		return ""
	}
	if u, err := url.Parse(remote); err == nil && u.Host != "" {
		return u.Host
	}
	// scp-like "user@host:path".
	hostPart, _, _ := strings.Cut(remote, ":")
	if i := strings.LastIndexByte(hostPart, '@'); i >= 0 {
		hostPart = hostPart[i+1:]
	}
	return hostPart
}

// networkReason returns what the network did when err is a failure of
// the network rather than of the repository, or "". git runs with
// LC_ALL=C, so its messages are stable.
func networkReason(err error) string {
	var hd *hostDownError
	if errors.As(err, &hd) {
		return hd.reason
	}
	var ce *cmdError
	if !errors.As(err, &ce) {
		return ""
	}
	msg := strings.ToLower(ce.stderr + " " + ce.err.Error())
	for _, r := range []struct{ needle, reason string }{
		{"could not resolve host", "could not resolve host"},
		{"could not resolve hostname", "could not resolve host"},
		{"name or service not known", "could not resolve host"},
		{"temporary failure in name resolution", "could not resolve host"},
		{"connection refused", "connection refused"},
		{"network is unreachable", "network is unreachable"},
		{"no route to host", "no route to host"},
		{"connection timed out", "connection timed out"},
		{"operation timed out", "connection timed out"},
		{"timed out after", "timed out"},
		// curl's words when it does not say more.
		{"couldn't connect to server", "could not connect"},
		{"failed to connect to", "could not connect"},
	} {
		if strings.Contains(msg, r.needle) {
			return r.reason
		}
	}
	return ""
}

// UnresolvedError is what Resolve returns when requests failed: the
// failures the network caused, summed up per host, and the others one by
// one.
type UnresolvedError struct {
	Hosts  []HostFailure // sorted by host
	Others []error
}

// HostFailure is every request that failed because its host did not
// answer.
type HostFailure struct {
	Host     string
	Reason   string   // "could not resolve host", "connection refused", ...
	Pkgbases []string // in request order
	URL      string   // the first one's URL, credentials stripped
}

// OnlyNetwork reports whether nothing but unreachable hosts stood in the
// way: every other request resolved.
func (e *UnresolvedError) OnlyNetwork() bool { return len(e.Others) == 0 && len(e.Hosts) > 0 }

// Count is the number of requests that failed.
func (e *UnresolvedError) Count() int {
	n := len(e.Others)
	for _, h := range e.Hosts {
		n += len(h.Pkgbases)
	}
	return n
}

func (e *UnresolvedError) Error() string {
	var lines []string
	for _, h := range e.Hosts {
		line := fmt.Sprintf("%s %s unresolved: %s: %s (%s: %s", thousands(len(h.Pkgbases)), plural(len(h.Pkgbases), "source", "sources"), h.Host, h.Reason, h.Pkgbases[0], h.URL)
		if n := len(h.Pkgbases) - 1; n > 0 {
			line += fmt.Sprintf(", and %s more", thousands(n))
		}
		lines = append(lines, line+")")
	}
	for _, err := range e.Others {
		lines = append(lines, err.Error())
	}
	return strings.Join(lines, "\n")
}

func (e *UnresolvedError) Unwrap() []error {
	out := slices.Clone(e.Others)
	if len(e.Hosts) > 0 {
		out = append(out, ErrUnreachable)
	}
	return out
}

// unresolved sums up the errors of one Resolve call (errs[i] belongs to
// out[i]), or returns nil when there are none.
func unresolved(out []Resolved, errs []error) error {
	e := &UnresolvedError{}
	byHost := map[string]*HostFailure{}
	for i, err := range errs {
		if err == nil {
			continue
		}
		host, reason := hostOf(out[i].URL), networkReason(err)
		if host == "" || reason == "" {
			e.Others = append(e.Others, err)
			continue
		}
		hf := byHost[host]
		if hf == nil {
			hf = &HostFailure{Host: host, Reason: reason, URL: Redact(out[i].URL)}
			byHost[host] = hf
		}
		hf.Pkgbases = append(hf.Pkgbases, out[i].Pkgbase)
	}
	if len(e.Others) == 0 && len(byHost) == 0 {
		return nil
	}
	for _, hf := range byHost {
		e.Hosts = append(e.Hosts, *hf)
	}
	slices.SortFunc(e.Hosts, func(a, b HostFailure) int { return strings.Compare(a.Host, b.Host) })
	return e
}

// thousands renders n with thousands separators: 1,628.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
