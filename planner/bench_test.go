package planner

import (
	"bytes"
	"hash/fnv"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/internal/archweb"
	"github.com/portmake/portmake/internal/porttest"
)

// fullSize is the benchmark scenario: upstream is every archweb package;
// the target is the same with about 10% of the pkgbases older and 5%
// missing, chosen by a hash of the pkgbase so every run is the same.
func fullSize(tb testing.TB) *Input {
	pkgs, repos := archweb.Load(tb)
	names := []string{"core", "extra", "multilib"}
	in := &Input{Arch: "x86_64", UpstreamArch: "x86_64", BuildEnv: BuildEnv{MakepkgConf: []byte("x"), PacmanConf: []byte("y"), Builder: "chroot"}}
	idx := map[string]int{}
	for i, n := range names {
		idx[n] = i
		in.Repos = append(in.Repos, RepoPair{Name: n, Upstream: &Repo{Name: n}, Target: &Repo{Name: n}, Publish: n + "-testing"})
	}
	for i, p := range pkgs {
		rp := &in.Repos[idx[repos[i]]]
		rp.Upstream.Packages = append(rp.Upstream.Packages, p.Entry())
		h := fnv.New32a()
		h.Write([]byte(p.Base))
		switch r := h.Sum32() % 100; {
		case r < 5: // missing
		case r < 15:
			old := *p
			old.Version = p.Version[:len(p.Version)-len(pkgrelOf(p.Version))] + "0"
			rp.Target.Packages = append(rp.Target.Packages, old.Entry())
		default:
			rp.Target.Packages = append(rp.Target.Packages, p.Entry())
		}
	}
	return in
}

func pkgrelOf(v string) string {
	for i := len(v) - 1; i >= 0; i-- {
		if v[i] == '-' {
			return v[i+1:]
		}
	}
	return ""
}

func TestFullSizeScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	in := fullSize(t)
	p := mustBuild(t, in)
	s := p.Summary()
	t.Logf("normal: %+v", s)
	if s.Build < 500 {
		t.Errorf("only %d builds", s.Build)
	}
	in.Options.RebuildRepos = []string{"extra"}
	p = mustBuild(t, in)
	s = p.Summary()
	t.Logf("rebuild-repo extra: %+v", s)
	if s.Build < 8000 || s.Cycles == 0 {
		t.Errorf("rebuild-repo extra: %d builds, %d cycles", s.Build, s.Cycles)
	}
}

func benchBuild(b *testing.B, mod func(*Input)) {
	in := fullSize(b)
	mod(in)
	if _, err := Build(in); err != nil {
		b.Fatal(err)
	}
	peak := peakHeapMB(func() { Build(in) })
	b.ReportAllocs()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		if _, err := Build(in); err != nil {
			b.Fatal(err)
		}
		n++
	}
	// The CPU time per op stays meaningful on a loaded machine, where the
	// wall time does not.
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(n), "cpu-ms/op")
	b.ReportMetric(peak, "peak-heap-MB")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakHeapMB samples the live heap while f runs and returns the highest
// value above the heap before it, in MB.
func peakHeapMB(f func()) float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	peak := base
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	return float64(peak-base) / (1 << 20)
}

func BenchmarkBuild(b *testing.B) { benchBuild(b, func(*Input) {}) }

// BenchmarkReadAndBuild is planning from the database files: the six
// full-size sync DBs (gzipped, as repo-add writes them) read into indexes,
// then Build. Its peak-heap-MB is the planning part of a cold plan's peak
// memory (issue 13: the whole command must stay under 64 MiB RSS).
func BenchmarkReadAndBuild(b *testing.B) {
	in := fullSize(b)
	type db struct {
		pair     int
		upstream bool
		data     []byte
	}
	var dbs []db
	for i, rp := range in.Repos {
		for _, side := range []struct {
			r  *Repo
			up bool
		}{{rp.Upstream, true}, {rp.Target, false}} {
			var pkgs []*alpm.Package
			for _, e := range side.r.Packages {
				pkgs = append(pkgs, &alpm.Package{Name: e.Name, Base: e.Base, Version: e.Version, Arch: e.Arch, Depends: e.Depends,
					MakeDepends: e.MakeDepends, CheckDepends: e.CheckDepends, Provides: e.Provides,
					Filename: e.Name + "-" + e.Version + "-" + e.Arch + ".pkg.tar.zst", Desc: "a package of the full-size scenario"})
			}
			data, err := porttest.EncodeDB(pkgs)
			if err != nil {
				b.Fatal(err)
			}
			dbs = append(dbs, db{i, side.up, data})
		}
	}
	// The template keeps the options, not the packages: the peak is what
	// reading and planning take.
	tmpl := *in
	tmpl.Repos = slices.Clone(in.Repos)
	for i := range tmpl.Repos {
		tmpl.Repos[i].Upstream, tmpl.Repos[i].Target = nil, nil
	}
	in = nil
	plan := func() {
		run := tmpl
		run.Repos = slices.Clone(tmpl.Repos)
		for _, d := range dbs {
			x, err := syncdb.ReadIndex(bytes.NewReader(d.data), run.Repos[d.pair].Name+".db", syncdb.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			r := &Repo{Name: x.Name, Packages: x.Packages}
			if d.upstream {
				run.Repos[d.pair].Upstream = r
			} else {
				run.Repos[d.pair].Target = r
			}
		}
		if _, err := Build(&run); err != nil {
			b.Fatal(err)
		}
	}
	peak := peakHeapMB(plan)
	b.ReportAllocs()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		plan()
		n++
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(n), "cpu-ms/op")
	b.ReportMetric(peak, "peak-heap-MB")
}

func BenchmarkBuildRebuildRepo(b *testing.B) {
	benchBuild(b, func(in *Input) { in.Options.RebuildRepos = []string{"extra"} })
}

// rebuildPlan is the plan of --rebuild-repo extra on the full-size
// scenario: about 8,700 nodes, the largest plan the store handles.
func rebuildPlan(b *testing.B) *Plan {
	in := fullSize(b)
	in.Options.RebuildRepos = []string{"extra"}
	p, err := Build(in)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkEncode is the document a plan saves.
func BenchmarkEncode(b *testing.B) {
	p := rebuildPlan(b)
	b.ReportAllocs()
	for b.Loop() {
		data, err := Encode(p)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
	}
}

// BenchmarkDecode is what show, why, apply PLAN and a reused plan wait for.
func BenchmarkDecode(b *testing.B) {
	data, err := Encode(rebuildPlan(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRestoreHashInputs is what explain, JSON and apply add to a
// decoded plan.
func BenchmarkRestoreHashInputs(b *testing.B) {
	data, err := Encode(rebuildPlan(b))
	if err != nil {
		b.Fatal(err)
	}
	p, err := Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.RestoreHashInputs(); err != nil {
			b.Fatal(err)
		}
	}
}
