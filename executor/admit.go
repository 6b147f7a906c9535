package executor

// Admission control decides whether a ready build may start now. Three
// limits hold together; a job starts only when all of them allow it:
//
//   - Slots. At most Options.Jobs builds run at once; Options.Unlimited
//     lifts the cap (a cluster backend queues the jobs itself).
//
//   - Memory. With a budget (Options.Memory, or under -j auto the
//     machine's memory less a reserve), the expected peak RSS of the
//     running builds plus the candidate's must fit in it. A job's expected
//     peak is the peak RSS recorded for its pkgbase's last build
//     (Job.ExpectedRSS), or Options.DefaultRSS when it has none. A job
//     that does not fit is passed over for the next ready job that does,
//     as groups are, so that small builds fill the memory beside a big
//     one. To keep small builds from starving the big one, the first job
//     passed over holds a reservation, EASY-backfill style: a later job
//     starts beside it only if the running builds' expected ends say it
//     will be done before the reserved job could start anyway. A job that
//     alone exceeds the budget starts when nothing else runs, and runs
//     alone; refusing it forever would be worse.
//
//   - Load (-j auto, Options.Auto). A level starts at 1 build. Every
//     Auto.Interval the machine is sampled: while the CPU was idle at
//     least Auto.IdleCPU of the time and the memory available covers the
//     next job's expected peak plus Auto.Reserve, and every allowed build
//     is running, the level rises by one, up to Auto.Max; when the CPU was
//     saturated (idle below Auto.BusyCPU) the level falls by one, so that
//     a finished build is not replaced. Running builds are never stopped.
//
// The memory check is the same code for the fixed and the load-aware
// parallelism: -j auto only adds the level on top of it.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"time"
)

// DefaultRSS is the peak RSS assumed for a job whose pkgbase has no
// recorded build, when Options.DefaultRSS is 0.
const DefaultRSS = 1 << 30

// Auto configures load-aware parallelism (-j auto).
type Auto struct {
	Max      int           // highest level; < 1 means runtime.NumCPU()
	Interval time.Duration // between samples; default 20s
	IdleCPU  float64       // add a build while the CPU idles at least this fraction; default 0.25
	BusyCPU  float64       // remove one when it idles less; default 0.05
	Reserve  int64         // memory kept free for everything else, bytes; default 1 GiB
	Load     Load          // the machine; nil reads /proc
}

// Load samples the machine for -j auto.
type Load interface {
	// Sample returns the fraction of CPU time that was idle since the
	// previous call (since boot on the first), the memory available now
	// and the memory in total, both in bytes.
	Sample() (idle float64, available, total int64, err error)
}

func (a *Auto) withDefaults() Auto {
	c := *a
	if c.Max < 1 {
		c.Max = runtime.NumCPU()
	}
	if c.Interval <= 0 {
		c.Interval = 20 * time.Second
	}
	if c.IdleCPU <= 0 {
		c.IdleCPU = 0.25
	}
	if c.BusyCPU <= 0 {
		c.BusyCPU = 0.05
	}
	if c.Reserve <= 0 {
		c.Reserve = 1 << 30
	}
	if c.Load == nil {
		c.Load = &ProcLoad{}
	}
	return c
}

// admission is the coordinator's admission state. Only the coordinating
// goroutine uses it.
type admission struct {
	cap    int   // slots, or Auto.Max
	level  int   // builds allowed now: cap, or the -j auto level
	budget int64 // bytes; 0 means no memory limit
	defRSS int64
	auto   *Auto // nil unless -j auto
	now    func() time.Time

	running map[*node]time.Time // running builds and when they started
	used    int64               // the sum of their expected peaks
	avail   int64               // -j auto: available memory at the last sample

	// The reservation of the current pass: the first job passed over for
	// memory, and the time the running builds are expected to have freed
	// enough for it (the zero time when that cannot be predicted).
	reserved *node
	shadow   time.Time
}

func newAdmission(o *Options) (*admission, error) {
	a := &admission{defRSS: o.DefaultRSS, budget: o.Memory, now: time.Now, running: map[*node]time.Time{}}
	if a.defRSS <= 0 {
		a.defRSS = DefaultRSS
	}
	switch {
	case o.Auto != nil:
		auto := o.Auto.withDefaults()
		a.auto = &auto
		a.cap, a.level = auto.Max, 1
		_, avail, total, err := auto.Load.Sample()
		if err != nil {
			return nil, fmt.Errorf("-j auto: %w", err)
		}
		a.avail = avail
		if a.budget <= 0 {
			a.budget = max(total-auto.Reserve, 1)
		}
	case o.Unlimited:
		a.cap = math.MaxInt
	default:
		a.cap = max(o.Jobs, 1)
	}
	if a.auto == nil {
		a.level = a.cap
	}
	if o.DryRun != nil {
		a.cap, a.level, a.budget = 1, 1, 0 // one at a time, in a reproducible order
	}
	return a, nil
}

// rss is the memory a job is expected to need.
func (a *admission) rss(n *node) int64 {
	if n.job.ExpectedRSS > 0 {
		return n.job.ExpectedRSS
	}
	return a.defRSS
}

// full reports whether no more builds may run, whatever they need.
func (a *admission) full() bool { return len(a.running) >= a.level }

// beginPass starts a pass over the ready heap.
func (a *admission) beginPass() { a.reserved = nil }

// admit reports whether n may start now, given the builds running. A
// false answer for memory may make n the reservation of this pass.
func (a *admission) admit(n *node) bool {
	if a.full() {
		return false
	}
	if a.budget <= 0 {
		return true
	}
	need := a.rss(n)
	if len(a.running) == 0 {
		return true // alone, even over the budget
	}
	if a.auto != nil && a.avail-a.auto.Reserve < need {
		return false // something else on the machine took the memory
	}
	if a.used+need > a.budget {
		if a.reserved == nil {
			a.reserved, a.shadow = n, a.shadowTime(a.rss(n))
		}
		return false
	}
	if a.reserved == nil {
		return true
	}
	// Backfill beside a reservation: only a job expected to end before
	// the reserved one could start.
	if a.shadow.IsZero() || n.job.ExpectedDuration <= 0 {
		return false
	}
	return !a.now().Add(n.job.ExpectedDuration).After(a.shadow)
}

// shadowTime is when the running builds are expected to have freed need
// bytes of the budget, from their start times and usual durations; zero
// when a running build's duration is unknown before that point.
func (a *admission) shadowTime(need int64) time.Time {
	type end struct {
		at  time.Time
		rss int64
	}
	ends := make([]end, 0, len(a.running))
	for n, start := range a.running {
		if n.job.ExpectedDuration <= 0 {
			ends = append(ends, end{rss: a.rss(n)}) // unknown: last
			continue
		}
		ends = append(ends, end{at: start.Add(n.job.ExpectedDuration), rss: a.rss(n)})
	}
	slices.SortFunc(ends, func(x, y end) int {
		switch {
		case x.at.IsZero() && y.at.IsZero():
			return 0
		case x.at.IsZero():
			return 1
		case y.at.IsZero():
			return -1
		}
		return x.at.Compare(y.at)
	})
	free := a.budget - a.used
	for _, e := range ends {
		if e.at.IsZero() {
			return time.Time{}
		}
		free += e.rss
		if free >= need {
			return e.at
		}
	}
	return time.Time{}
}

func (a *admission) start(n *node) {
	a.running[n] = a.now()
	a.used += a.rss(n)
	if a.auto != nil {
		a.avail -= a.rss(n) // until the next sample sees it
	}
}

func (a *admission) end(n *node) {
	if _, ok := a.running[n]; !ok {
		return
	}
	delete(a.running, n)
	a.used -= a.rss(n)
}

// tick samples the machine and moves the -j auto level. next is the
// highest-priority ready job, nil when none is ready.
func (a *admission) tick(next *node) (idle float64, err error) {
	if a.auto == nil {
		return 0, nil
	}
	idle, avail, _, err := a.auto.Load.Sample()
	if err != nil {
		return 0, err
	}
	a.avail = avail
	switch {
	case idle < a.auto.BusyCPU:
		a.level = max(1, a.level-1)
	case idle >= a.auto.IdleCPU && next != nil && len(a.running) >= a.level && a.level < a.cap &&
		avail-a.auto.Reserve >= a.rss(next):
		a.level++
	}
	return idle, nil
}

// ProcLoad reads the Linux /proc files: the CPU times of /proc/stat and
// MemAvailable and MemTotal of /proc/meminfo.
type ProcLoad struct {
	Root string // default "/proc"

	idle, total uint64
}

func (p *ProcLoad) root() string {
	if p.Root == "" {
		return "/proc"
	}
	return p.Root
}

// Sample implements Load.
func (p *ProcLoad) Sample() (idle float64, available, total int64, err error) {
	stat, err := os.ReadFile(p.root() + "/stat")
	if err != nil {
		return 0, 0, 0, fmt.Errorf("cpu load: %w", err)
	}
	idleT, totalT, err := parseProcStat(stat)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%s/stat: %w", p.root(), err)
	}
	di, dt := idleT-p.idle, totalT-p.total
	p.idle, p.total = idleT, totalT
	if dt > 0 {
		idle = float64(di) / float64(dt)
	}
	mem, err := os.ReadFile(p.root() + "/meminfo")
	if err != nil {
		return 0, 0, 0, fmt.Errorf("memory: %w", err)
	}
	available, total, err = parseMeminfo(mem)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%s/meminfo: %w", p.root(), err)
	}
	return idle, available, total, nil
}

// parseProcStat returns the idle (idle + iowait) and total CPU times of the
// aggregate "cpu" line of /proc/stat, in clock ticks.
func parseProcStat(data []byte) (idle, total uint64, err error) {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return 0, 0, errors.New("no aggregate cpu line")
	}
	// user nice system idle iowait irq softirq steal guest guest_nice;
	// guest times are already counted in user and nice.
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("cpu field %d: %q", i+1, v)
		}
		total += n
		if i == 3 || i == 4 {
			idle += n
		}
	}
	return idle, total, nil
}

// parseMeminfo returns MemAvailable and MemTotal in bytes.
func parseMeminfo(data []byte) (available, total int64, err error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	var haveA, haveT bool
	for sc.Scan() {
		k, v, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(k) {
		case "MemAvailable":
			dst, haveA = &available, true
		case "MemTotal":
			dst, haveT = &total, true
		default:
			continue
		}
		f := bytes.Fields(v)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, 0, fmt.Errorf("%s: %q", k, v)
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil || n < 0 || n > math.MaxInt64>>10 {
			return 0, 0, fmt.Errorf("%s: %q", k, v)
		}
		*dst = n << 10
	}
	if !haveA || !haveT {
		return 0, 0, errors.New("no MemAvailable or MemTotal (Linux 3.14 or later has both)")
	}
	return available, total, nil
}
