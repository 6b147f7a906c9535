package executor

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// rssBuilder sleeps per job and tracks the expected RSS of the builds
// running at once.
type rssBuilder struct {
	fakeBuilder
	mu   sync.Mutex
	used int64
	peak int64
}

func (b *rssBuilder) Build(ctx context.Context, j *Job, log io.Writer, deps []string) (Output, error) {
	b.mu.Lock()
	b.used += j.ExpectedRSS
	b.peak = max(b.peak, b.used)
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.used -= j.ExpectedRSS
		b.mu.Unlock()
	}()
	return b.fakeBuilder.Build(ctx, j, log, deps)
}

const gib = int64(1) << 30

func rssJob(id string, rss int64, d time.Duration, prio int) *Job {
	j := job(id)
	j.ExpectedRSS, j.ExpectedDuration, j.Priority = rss, d, prio
	return j
}

func TestMemoryPacking(t *testing.T) {
	// 8 slots but 10 GiB: never more than 10 GiB of expected peaks at
	// once, and the small jobs fill beside the big one.
	var jobs []*Job
	jobs = append(jobs, rssJob("big", 8*gib, 0, 10))
	for i := range 6 {
		jobs = append(jobs, rssJob(fmt.Sprintf("small%d", i), gib, 0, 1))
	}
	b := &rssBuilder{fakeBuilder: fakeBuilder{delay: func(*Job) time.Duration { return 20 * time.Millisecond }}}
	s := run(t, &Executor{Builder: b, Options: Options{Jobs: 8, Memory: 10 * gib}}, jobs)
	if !s.OK() {
		t.Fatal(outcomeOf(s))
	}
	if b.peak > 10*gib {
		t.Errorf("peak expected RSS %d GiB over the 10 GiB budget", b.peak/gib)
	}
	if b.peak < 10*gib {
		t.Errorf("peak %d GiB: two small jobs fit beside the big one", b.peak/gib)
	}

	// Without a budget the slots alone limit.
	b = &rssBuilder{fakeBuilder: fakeBuilder{delay: func(*Job) time.Duration { return 20 * time.Millisecond }}}
	run(t, &Executor{Builder: b, Options: Options{Jobs: 8}}, jobs)
	if b.peak != 14*gib {
		t.Errorf("no budget: peak %d GiB, want all 14 at once", b.peak/gib)
	}
}

func TestMemoryPackingUnknownRSS(t *testing.T) {
	// Jobs with no recorded peak count DefaultRSS.
	var jobs []*Job
	for i := range 6 {
		jobs = append(jobs, job(fmt.Sprintf("j%d", i)))
	}
	f := &fakeBuilder{delay: func(*Job) time.Duration { return 10 * time.Millisecond }}
	run(t, &Executor{Builder: f, Options: Options{Jobs: 8, Memory: 3 * gib, DefaultRSS: gib}}, jobs)
	if f.peak != 3 {
		t.Errorf("peak concurrency %d, want 3 (3 GiB / 1 GiB default)", f.peak)
	}
}

func TestMemoryOversizedRunsAlone(t *testing.T) {
	jobs := []*Job{rssJob("huge", 20*gib, 0, 5), rssJob("a", gib, 0, 1), rssJob("b", gib, 0, 1)}
	b := &rssBuilder{fakeBuilder: fakeBuilder{delay: func(*Job) time.Duration { return 10 * time.Millisecond }}}
	s := run(t, &Executor{Builder: b, Options: Options{Jobs: 4, Memory: 10 * gib}}, jobs)
	if !s.OK() {
		t.Fatal(outcomeOf(s))
	}
	if b.peak != 20*gib {
		t.Errorf("peak %d GiB: the oversized job must run, and alone", b.peak/gib)
	}
	for _, id := range []string{"a", "b"} {
		if b.spans[id][0].Before(b.spans["huge"][1]) {
			t.Errorf("%s started while the oversized job ran", id)
		}
	}
}

func TestMemoryReservation(t *testing.T) {
	// long (6 GiB) runs; big (6 GiB, highest priority) does not fit
	// beside it and is reserved until long's expected end (~200ms). A
	// short job (50ms) may backfill; a long small one (10s) may not, or
	// it would delay big.
	long := rssJob("long", 6*gib, 200*time.Millisecond, 20)
	big := rssJob("big", 6*gib, 100*time.Millisecond, 10)
	short := rssJob("short", gib, 50*time.Millisecond, 1)
	slow := rssJob("slow", gib, 10*time.Second, 2)
	dur := map[string]time.Duration{"long": 200 * time.Millisecond, "big": 50 * time.Millisecond, "short": 20 * time.Millisecond, "slow": 20 * time.Millisecond}
	b := &rssBuilder{fakeBuilder: fakeBuilder{delay: func(j *Job) time.Duration { return dur[j.ID] }}}
	s := run(t, &Executor{Builder: b, Options: Options{Jobs: 4, Memory: 10 * gib}}, []*Job{long, big, short, slow})
	if !s.OK() {
		t.Fatal(outcomeOf(s))
	}
	// big can start once long has ended; slow may start beside big then
	// (there is room), but not before.
	longEnd := b.spans["long"][1]
	if !b.spans["short"][0].Before(longEnd) {
		t.Errorf("short did not backfill beside long: spans %v", b.spans)
	}
	if b.spans["slow"][0].Before(longEnd) {
		t.Errorf("slow (expected 10s) started before the reserved big job could: spans %v", b.spans)
	}
}

// fakeLoad replays samples.
type fakeLoad struct {
	mu      sync.Mutex
	idle    func(n int) float64
	avail   int64
	total   int64
	samples int
}

func (l *fakeLoad) Sample() (float64, int64, int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.samples++
	return l.idle(l.samples), l.avail, l.total, nil
}

func TestAutoParallelism(t *testing.T) {
	var jobs []*Job
	for i := range 12 {
		jobs = append(jobs, rssJob(fmt.Sprintf("j%02d", i), 100<<20, 0, 0))
	}
	for _, tc := range []struct {
		name  string
		idle  float64
		avail int64
		want  func(peak int) bool
		desc  string
	}{
		{"idle", 0.9, 64 * gib, func(p int) bool { return p == 4 }, "reaches the cap of 4"},
		{"busy", 0.01, 64 * gib, func(p int) bool { return p == 1 }, "stays at 1"},
		{"no memory", 0.9, gib + 50<<20, func(p int) bool { return p == 1 }, "stays at 1: a second build would eat the reserve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			load := &fakeLoad{idle: func(int) float64 { return tc.idle }, avail: tc.avail, total: 64 * gib}
			f := &fakeBuilder{delay: func(*Job) time.Duration { return 30 * time.Millisecond }}
			s := run(t, &Executor{Builder: f, Options: Options{Auto: &Auto{Max: 4, Interval: 2 * time.Millisecond, Load: load}}}, jobs)
			if !s.OK() {
				t.Fatal(outcomeOf(s))
			}
			if !tc.want(f.peak) {
				t.Errorf("peak concurrency %d; want: %s", f.peak, tc.desc)
			}
		})
	}
}

func TestAutoLevel(t *testing.T) {
	// The level moves one step per sample: up while idle and every
	// allowed build runs, down when saturated, never below 1 or above Max.
	load := &fakeLoad{avail: 64 * gib, total: 64 * gib}
	seq := []float64{0.9, 0.9, 0.9, 0.9, 0.9, 0.01, 0.01, 0.5, 0.01, 0.01, 0.01, 0.01}
	load.idle = func(n int) float64 { // sample 1 is newAdmission's
		if n < 2 {
			return 0
		}
		return seq[(n-2)%len(seq)]
	}
	a, err := newAdmission(&Options{Auto: &Auto{Max: 4, Load: load}})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	var nodes []*node
	next := &node{job: job("next")}
	for range seq {
		for len(a.running) < a.level {
			n := &node{job: job(fmt.Sprint(len(nodes)))}
			nodes = append(nodes, n)
			a.start(n)
		}
		if _, err := a.tick(next); err != nil {
			t.Fatal(err)
		}
		got = append(got, a.level)
	}
	want := []int{2, 3, 4, 4, 4, 3, 2, 3, 2, 1, 1, 1}
	if !slices.Equal(got, want) {
		t.Errorf("levels %v, want %v", got, want)
	}
	// Nothing ready: the level does not grow for nothing.
	a.level = 1
	if _, err := a.tick(nil); err != nil || a.level != 1 {
		t.Errorf("level %d with nothing ready", a.level)
	}
}

func TestUnlimited(t *testing.T) {
	var jobs []*Job
	for i := range 20 {
		jobs = append(jobs, job(fmt.Sprintf("j%02d", i)))
	}
	var wg sync.WaitGroup
	wg.Add(len(jobs))
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()
	f := &fakeBuilder{delay: func(*Job) time.Duration {
		wg.Done()
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
		return 0
	}}
	run(t, &Executor{Builder: f, Options: Options{Unlimited: true}}, jobs)
	if f.peak != len(jobs) {
		t.Errorf("Unlimited ran %d at once, want %d", f.peak, len(jobs))
	}
}

func TestParseProcStat(t *testing.T) {
	for _, tc := range []struct {
		in          string
		idle, total uint64
		err         string
	}{
		{in: "cpu  100 5 50 800 20 1 2 3 7 0\ncpu0 1 2 3 4\n", idle: 820, total: 981},
		{in: "cpu  1 2 3 4\n", idle: 4, total: 10},
		{in: "cpu  1 2 3\n", err: "no aggregate cpu line"},
		{in: "cpu0 1 2 3 4 5\n", err: "no aggregate cpu line"},
		{in: "cpu  1 2 x 4 5\n", err: `cpu field 3: "x"`},
		{in: "", err: "no aggregate cpu line"},
	} {
		idle, total, err := parseProcStat([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || idle != tc.idle || total != tc.total {
			t.Errorf("%q: %d/%d %v, want %d/%d", tc.in, idle, total, err, tc.idle, tc.total)
		}
	}
}

func TestParseMeminfo(t *testing.T) {
	avail, total, err := parseMeminfo([]byte("MemTotal:       24683520 kB\nMemFree:        1 kB\nMemAvailable:   24296960 kB\n"))
	if err != nil || avail != 24296960<<10 || total != 24683520<<10 {
		t.Errorf("got %d %d %v", avail, total, err)
	}
	for _, bad := range []string{"MemTotal: 1 kB\n", "MemTotal: 1 kB\nMemAvailable: x kB\n", "MemTotal: 1 MB\nMemAvailable: 1 kB\n", "MemTotal: 99999999999999999 kB\nMemAvailable: 1 kB\n"} {
		if _, _, err := parseMeminfo([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParseLoad(f *testing.F) {
	f.Add([]byte("cpu  100 5 50 800 20 1 2 3 7 0\n"))
	f.Add([]byte("MemTotal: 2 kB\nMemAvailable: 1 kB\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if idle, total, err := parseProcStat(data); err == nil && idle > total {
			t.Errorf("idle %d > total %d", idle, total)
		}
		if a, tot, err := parseMeminfo(data); err == nil && (a < 0 || tot < 0) {
			t.Errorf("negative memory %d %d", a, tot)
		}
	})
}

func TestProcLoad(t *testing.T) {
	var p ProcLoad
	if _, _, _, err := p.Sample(); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	idle, avail, total, err := p.Sample()
	if err != nil {
		t.Fatal(err)
	}
	if idle < 0 || idle > 1 || avail <= 0 || total < avail {
		t.Errorf("idle %v, available %d of %d", idle, avail, total)
	}
}

func TestAutoAdmitsByAvailableMemory(t *testing.T) {
	// Something else on the machine takes the memory after the level
	// rose: no more builds start, whatever the level says.
	load := &fakeLoad{idle: func(int) float64 { return 0.9 }, avail: 64 * gib, total: 64 * gib}
	a, err := newAdmission(&Options{Auto: &Auto{Max: 4, Load: load}})
	if err != nil {
		t.Fatal(err)
	}
	a.level = 3
	first := &node{job: rssJob("first", gib, 0, 0)}
	a.start(first)
	second := &node{job: rssJob("second", gib, 0, 0)}
	if !a.admit(second) {
		t.Fatal("a second build is refused with 63 GiB available")
	}
	load.avail = gib + gib/2 // 1.5 GiB left, 1 GiB of it reserved
	if _, err := a.tick(nil); err != nil {
		t.Fatal(err)
	}
	if a.admit(second) {
		t.Error("a build was admitted into the reserve")
	}
}
