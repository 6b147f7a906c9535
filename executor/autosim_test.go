package executor

// A simulated build machine for measuring -j auto against fixed -j with
// the real scheduler. Time runs `scale` times faster than the wall clock:
// the scheduler, its admission control and its -j auto ticks run for real,
// and only the builds and the machine are simulated.
//
// Each build has a serial part (configure, packaging, single-threaded
// tests: one core) around a parallel part (make -jN: up to par cores), and
// a peak RSS it reaches in the parallel part (a fifth of it otherwise).
// The cores are shared like a processor-sharing queue: when the running
// builds want more cores than there are, each gets its share, so
// oversubscribing the machine does not make it faster. Memory is the sum
// of the builds' current RSS; going over the machine's memory is what the
// OOM killer would punish, and is counted.

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

type simProfile struct {
	serial1, parallel, serial2 float64 // core-seconds
	par                        float64 // cores the parallel part can use
	rss                        int64   // peak, bytes
}

// alone is the build's duration on an idle machine with cpus cores.
func (p simProfile) alone(cpus float64) float64 {
	return p.serial1 + p.parallel/math.Min(p.par, cpus) + p.serial2
}

type simBuild struct {
	p     simProfile
	phase int     // 0 serial1, 1 parallel, 2 serial2, 3 done
	left  float64 // core-seconds left in the phase
	done  chan struct{}
}

func (b *simBuild) demand() float64 {
	if b.phase == 1 {
		return b.p.par
	}
	return 1
}

func (b *simBuild) rss() int64 {
	if b.phase == 1 {
		return b.p.rss
	}
	return b.p.rss / 5
}

type simMachine struct {
	cpus  float64
	mem   int64
	scale float64 // simulated seconds per real second

	mu         sync.Mutex
	start      time.Time
	last       time.Time
	simNow     float64 // simulated seconds since start
	running    map[*simBuild]bool
	idleCore   float64 // idle core-seconds since the last sample
	sampleSpan float64 // simulated seconds since the last sample
	peakMem    int64
	overMem    float64 // simulated seconds spent over the machine's memory
	stop       chan struct{}
}

func newSimMachine(cpus float64, mem int64, scale float64) *simMachine {
	now := time.Now()
	m := &simMachine{cpus: cpus, mem: mem, scale: scale, start: now, last: now, running: map[*simBuild]bool{}, stop: make(chan struct{})}
	go func() {
		t := time.NewTicker(500 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				m.advance()
			}
		}
	}()
	return m
}

// advance moves simulated time to now, sharing the cores among the
// running builds.
func (m *simMachine) advance() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	dt := now.Sub(m.last).Seconds() * m.scale
	m.last = now
	for dt > 1e-9 {
		var want float64
		for b := range m.running {
			want += b.demand()
		}
		share := 1.0
		if want > m.cpus {
			share = m.cpus / want
		}
		// Step to the next phase end, at most dt.
		step := dt
		for b := range m.running {
			if r := b.left / (b.demand() * share); r < step {
				step = r
			}
		}
		used := math.Min(want, m.cpus)
		m.idleCore += (m.cpus - used) * step
		m.sampleSpan += step
		m.simNow += step
		var mem int64
		for b := range m.running {
			mem += b.rss()
		}
		if mem > m.mem {
			m.overMem += step
		}
		for b := range m.running {
			b.left -= b.demand() * share * step
			if b.left <= 1e-9 {
				b.phase++
				switch b.phase {
				case 1:
					b.left = b.p.parallel
				case 2:
					b.left = b.p.serial2
				default:
					delete(m.running, b)
					close(b.done)
				}
			}
		}
		mem = 0
		for b := range m.running {
			mem += b.rss()
		}
		m.peakMem = max(m.peakMem, mem)
		dt -= step
	}
}

func (m *simMachine) run(ctx context.Context, p simProfile) error {
	b := &simBuild{p: p, left: p.serial1, done: make(chan struct{})}
	m.mu.Lock()
	m.running[b] = true
	var mem int64
	for r := range m.running {
		mem += r.rss()
	}
	m.peakMem = max(m.peakMem, mem)
	m.mu.Unlock()
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		m.mu.Lock()
		delete(m.running, b)
		m.mu.Unlock()
		return ctx.Err()
	}
}

// Sample implements Load.
func (m *simMachine) Sample() (float64, int64, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	idle := 1.0
	if m.sampleSpan > 0 {
		idle = m.idleCore / (m.cpus * m.sampleSpan)
	}
	m.idleCore, m.sampleSpan = 0, 0
	var mem int64
	for b := range m.running {
		mem += b.rss()
	}
	return idle, m.mem - mem, m.mem, nil
}

type simBuilder struct {
	fakeBuilder
	m        *simMachine
	profiles map[string]simProfile
}

func (s *simBuilder) Build(ctx context.Context, j *Job, log io.Writer, deps []string) (Output, error) {
	if err := s.m.run(ctx, s.profiles[j.ID]); err != nil {
		return Output{ExitCode: -1}, err
	}
	files, _ := s.PackageList(ctx, j)
	return Output{Files: files, MaxRSS: s.profiles[j.ID].rss}, nil
}

// simPlan is the synthetic plan's graph with build profiles drawn from a
// fixed seed: most builds are small (a median of about 2 minutes alone
// and 300 MiB), a tenth are big C++ builds (tens of minutes, several GiB),
// and a few are huge (an hour or more, up to 12 GiB), like a toolchain.
// A third of the builds cannot use more than one core.
//
// The graph is layered like a port's: a base layer, then layers whose
// builds need zero to three builds of the layers below, mostly the one
// just below, so that the plan is wide and about ten builds deep.
func simPlan(n int, seed uint64, cpus float64) ([]*Job, map[string]simProfile) {
	rng := rand.New(rand.NewPCG(seed, 7))
	const layers = 10
	var jobs []*Job
	var byLayer [layers][]string
	for i := range n {
		l := i * layers / n
		j := &Job{ID: fmt.Sprintf("p%03d", i), Pkgbase: fmt.Sprintf("p%03d", i), Version: "1-1", Arch: "x86_64"}
		for k := rng.IntN(4); k > 0 && l > 0; k-- {
			from := l - 1
			if rng.IntN(3) == 0 {
				from = rng.IntN(l)
			}
			d := byLayer[from][rng.IntN(len(byLayer[from]))]
			if !slices.Contains(j.Deps, d) {
				j.Deps = append(j.Deps, d)
			}
		}
		byLayer[l] = append(byLayer[l], j.ID)
		jobs = append(jobs, j)
	}
	setPriorities(jobs)
	prof := map[string]simProfile{}
	for _, j := range jobs {
		var p simProfile
		minutes := math.Exp(rng.NormFloat64()*0.8) * 2 // median 2 min
		p.rss = int64(math.Exp(rng.NormFloat64()*0.7) * 300 * (1 << 20))
		switch r := rng.Float64(); {
		case r < 0.02:
			minutes *= 30
			p.rss = int64(6+rng.Float64()*6) << 30
		case r < 0.12:
			minutes *= 8
			p.rss = int64(2+rng.Float64()*3) << 30
		}
		total := minutes * 60 // on one core... for the serial share
		serialFrac := 0.2 + 0.3*rng.Float64()
		p.par = cpus
		if rng.Float64() < 1.0/3 {
			p.par = 1
		}
		serial := total * serialFrac
		p.serial1, p.serial2 = serial*0.6, serial*0.4
		p.parallel = (total - serial) * p.par // core-seconds to fill `total-serial` on par cores
		prof[j.ID] = p
		j.ExpectedDuration = time.Duration(p.alone(cpus) / simScale * float64(time.Second)) // wall time
		j.ExpectedRSS = p.rss
	}
	return jobs, prof
}

type simResult struct {
	name      string
	makespan  float64 // simulated seconds
	peakMem   int64
	overMem   float64
	bound     float64 // max(critical path, work/cpus)
	totalWork float64
}

const simScale = 10000 // simulated seconds per wall second

func simulate(tb testing.TB, name string, opts Options, n int) simResult {
	const cpus = 8
	mem := int64(32) << 30
	jobs, prof := simPlan(n, 42, cpus)
	m := newSimMachine(cpus, mem, simScale)
	defer close(m.stop)
	if opts.Auto != nil {
		opts.Auto.Load = m
	}
	e := &Executor{Builder: &simBuilder{m: m, profiles: prof}, Recorder: newMemRecorder(), Options: opts}
	s, err := e.Run(context.Background(), jobs)
	if err != nil || !s.OK() {
		tb.Fatalf("%s: %v", name, err)
	}
	m.advance()
	// Lower bound: the critical path of the builds alone, and the total
	// core-seconds spread over every core.
	finish := map[string]float64{}
	var critical, work float64
	for _, j := range jobs {
		var start float64
		for _, d := range j.Deps {
			start = max(start, finish[d])
		}
		p := prof[j.ID]
		finish[j.ID] = start + p.alone(cpus)
		critical = max(critical, finish[j.ID])
		work += p.serial1 + p.parallel + p.serial2
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return simResult{name: name, makespan: s.Wall.Seconds() * simScale, peakMem: m.peakMem, overMem: m.overMem,
		bound: max(critical, work/cpus), totalWork: work}
}

func simConfigs() []struct {
	name string
	opts Options
} {
	return []struct {
		name string
		opts Options
	}{
		{"-j1", Options{Jobs: 1}},
		{"-j2", Options{Jobs: 2}},
		{"-j4", Options{Jobs: 4}},
		{"-j8", Options{Jobs: 8}},
		{"-j8+memory", Options{Jobs: 8, Memory: 30 << 30}},
		{"-j16", Options{Jobs: 16}},
		// 20 simulated seconds between samples, as the old script.
		{"-jauto", Options{Auto: &Auto{Max: 16, Interval: 20 * time.Second / simScale}}},
	}
}

// TestAutoVersusFixed runs a 200-build synthetic plan on a simulated
// 8-core, 32 GiB machine with fixed -j and -j auto, and logs the makespan
// and peak memory of each. -j auto must stay within the machine's memory
// and come within 15% of the best fixed -j that also does. -j 8 goes over
// the memory, which shows that the simulation can catch it. All
// configurations, with -j 1 and 16:
//
//	go test ./executor -run '^$' -bench BenchmarkAutoJobs -benchtime 1x
func TestAutoVersusFixed(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	var results []simResult
	for _, c := range simConfigs() {
		switch c.name {
		case "-j4", "-j8", "-j8+memory", "-jauto": // the benchmark runs them all
			results = append(results, simulate(t, c.name, c.opts, 200))
		}
	}
	best := math.Inf(1)
	var auto simResult
	for _, r := range results {
		t.Logf("%-11s makespan %6.0f min (%.2f× bound %4.0f min)  peak memory %5.1f GiB  over 32 GiB for %4.0f min",
			r.name, r.makespan/60, r.makespan/r.bound, r.bound/60, float64(r.peakMem)/(1<<30), r.overMem/60)
		if r.name == "-jauto" {
			auto = r
		} else if r.overMem == 0 {
			best = min(best, r.makespan)
		}
	}
	if r := results[1]; r.overMem == 0 {
		t.Errorf("-j8 stayed within memory: the plan does not exercise memory packing")
	}
	if auto.overMem > 0 {
		t.Errorf("-j auto went over the machine's memory for %.0f simulated minutes", auto.overMem/60)
	}
	if auto.makespan > 1.15*best {
		t.Errorf("-j auto makespan %.0f min, more than 15%% over the best fixed -j within memory (%.0f min)", auto.makespan/60, best/60)
	}
}

func BenchmarkAutoJobs(b *testing.B) {
	for _, c := range simConfigs() {
		b.Run(c.name, func(b *testing.B) {
			var r simResult
			for b.Loop() {
				opts := c.opts
				if opts.Auto != nil {
					a := *opts.Auto
					opts.Auto = &a
				}
				r = simulate(b, c.name, opts, 200)
			}
			b.ReportMetric(r.makespan/60, "makespan-min")
			b.ReportMetric(r.makespan/r.bound, "makespan/bound")
			b.ReportMetric(float64(r.peakMem)/(1<<30), "peak-GiB")
			b.ReportMetric(r.overMem/60, "over-mem-min")
		})
	}
}
