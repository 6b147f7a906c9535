package ui

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/portmake/portmake/engine"
)

func job(id string, deps ...string) *engine.Job {
	return &engine.Job{ID: id, Pkgbase: id, Version: "1.0-1", Deps: deps, Arch: "x86_64"}
}

func TestPlainProgress(t *testing.T) {
	var out bytes.Buffer
	a, b, c := job("a"), job("b", "a"), job("c")
	p := NewPlainProgress(&out)
	now := time.Unix(1000, 0)
	results := map[string]*engine.Result{
		"c": {Outcome: engine.Built, Duration: time.Second},
		"a": {Outcome: engine.Failed, Duration: 2 * time.Second, Err: errors.New("a: make: *** [all] Error 2"),
			LogTail: "foo.c:3: error: expected ';'\n==> ERROR: A failure occurred in build()."},
		"b": {Outcome: engine.Skipped, Reason: "dependency a failed"},
	}
	p.Begin([]*engine.Job{a, b, c}, 1)
	p.Started(c, 1, now)
	p.Finished(c, results["c"])
	p.Started(a, 1, now)
	p.Finished(a, results["a"])
	p.Finished(b, results["b"])
	p.End(&engine.Summary{Jobs: []*engine.Job{a, b, c}, Results: results, Wall: 3 * time.Second})
	got := out.String()
	for _, want := range []string{
		"apply: 3 jobs, 1 at a time\n",
		"[0/3] start   c 1.0-1\n",
		"[1/3] built   c 1.0-1 in 1s\n",
		"[2/3] failed  a 1.0-1 after 2s: a: make: *** [all] Error 2\n",
		"[3/3] skipped b 1.0-1: dependency a failed\n",
		"1 built, 1 failed, 1 skipped, 0 up to date in 3s\n",
		"Failed:\n  a 1.0-1: failed: a: make: *** [all] Error 2\n    | foo.c:3: error: expected ';'\n    | ==> ERROR: A failure occurred in build().\n",
		"Skipped:\n  b 1.0-1: dependency a failed\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("progress lacks %q:\n%s", want, got)
		}
	}
}

func TestTTYProgress(t *testing.T) {
	var out bytes.Buffer
	p := NewTTYProgress(&out)
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }
	p.Every = time.Hour
	a, b, c := job("a"), job("b"), job("c")
	a.ExpectedDuration, b.ExpectedDuration = 60*time.Second, 120*time.Second
	p.Begin([]*engine.Job{a, b, c}, 2)
	p.Started(a, 1, now)
	p.Started(b, 1, now)
	now = now.Add(30 * time.Second)
	p.Finished(a, &engine.Result{Outcome: engine.Built, Duration: 30 * time.Second})
	// b: 90s left; c: no history, counts as the mean 90s: 180s / 2 slots.
	frame := out.String()[strings.LastIndex(out.String(), "built "):]
	want := "built   a 1.0-1 in 30s\n  building b 1.0-1  30s / ~2m0s\n[1/3] 1 running, 0 failed, ETA 1m30s\n"
	if frame != want {
		t.Errorf("frame %q, want %q", frame, want)
	}
	p.End(&engine.Summary{Jobs: []*engine.Job{a}, Results: map[string]*engine.Result{"a": {Outcome: engine.Built}}})
	if !strings.Contains(out.String(), "\x1b[2A\r\x1b[J\n1 built, 0 failed") {
		t.Errorf("End did not erase the live block: %q", out.String())
	}
}
