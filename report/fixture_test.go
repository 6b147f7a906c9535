package report

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portmake/portmake/internal/pkgspec"
	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/store"
)

// The fixture is a small port with real-looking build times: a plan of 17
// builds (a two-stage cycle, a missing dependency, two repositories), an
// apply of it on three lanes in which vim fails and vim-plugins is skipped,
// and two older applies, so that every part of the page has data.

var fixtureDurations = map[string]time.Duration{
	"zlib": 40 * time.Second, "zstd": 95 * time.Second, "openssl": 6 * time.Minute, "libnew": 30 * time.Second,
	"curl": 3 * time.Minute, "python": 14 * time.Minute, "meson": 50 * time.Second, "glib2": 7 * time.Minute,
	"freetype2": 2 * time.Minute, "harfbuzz": 4 * time.Minute, "gtk3": 11 * time.Minute, "gcc": 38 * time.Minute,
	"vim": 5 * time.Minute, "vim-plugins": time.Minute, "git": 4 * time.Minute,
}

func fixtureInput() *planner.Input {
	up := []string{
		"zlib 1.3-1", "zstd 1.5.6-1 d=zlib", "openssl 3.3.1-1 d=zlib",
		"libnew 0.4-1",
		"curl 8.9.0-1 d=openssl,zstd m=libnew", "python 3.12.4-1 d=openssl,zlib",
		"python-setuptools 70.0-1 any d=python",
		"meson 1.5.0-1 d=python", "glib2 2.80.4-1 d=zstd m=meson",
		"freetype2 2.13.2-1 d=harfbuzz,zlib", "harfbuzz 9.0.0-1 d=freetype2,glib2",
		"gtk3 3.24.43-1 d=glib2,harfbuzz", "gcc 14.1.1-1 d=zstd,zlib",
	}
	xup := []string{"vim 9.1.0-1 d=python", "vim-plugins 9.1.0-1 d=vim", "git 2.45.2-1 d=curl,python"}
	tgOf := func(specs []string) *planner.Repo {
		r := &planner.Repo{Name: "core"}
		for _, s := range specs {
			p := pkgspec.Must(s)
			if p.Name == "libnew" || p.Arch == "any" {
				continue
			}
			p.Version = "0.1-1"
			p.Arch = "aarch64"
			r.Packages = append(r.Packages, p.Entry())
		}
		return r
	}
	upOf := func(name string, specs []string) *planner.Repo {
		r := &planner.Repo{Name: name}
		for _, s := range specs {
			r.Packages = append(r.Packages, pkgspec.Must(s).Entry())
		}
		return r
	}
	tx := tgOf(xup)
	tx.Name = "extra"
	return &planner.Input{Arch: "aarch64", UpstreamArch: "x86_64",
		Repos: []planner.RepoPair{
			{Name: "core", Upstream: upOf("core", up), Target: tgOf(up), Publish: "core-testing"},
			{Name: "extra", Upstream: upOf("extra", xup), Target: tx, Publish: "extra-testing"},
		},
		BuildEnv: planner.BuildEnv{Builder: "makechrootpkg"},
	}
}

type fixture struct {
	st      *store.Store
	plan    *planner.Plan
	planID  int64
	applyID int64
	logs    string
	now     time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := planner.Build(fixtureInput())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sp := &store.Plan{PortfileHash: "sha256:fixture", CommandLine: "portmake plan", Arch: p.Arch, Summary: "fixture",
		EncodeDoc: func() ([]byte, error) { return planner.Encode(p) }}
	for _, n := range p.Nodes {
		sp.Nodes = append(sp.Nodes, store.Node{Pkgbase: n.Pkgbase, Version: n.Version, Current: n.Current, Repo: n.Repo,
			Reason: n.Reason.Kind.String(), Stage: n.Stage, Cycle: n.Cycle, Hash: n.Hash, Priority: n.Priority})
	}
	planID, err := st.SavePlan(ctx, sp)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, plan: p, planID: planID, logs: filepath.Join(dir, "logs"), now: time.Now()}
	if err := os.MkdirAll(f.logs, 0o755); err != nil {
		t.Fatal(err)
	}
	// Two older applies for the charts, then the one on the timeline.
	f.apply(t, f.now.Add(-20*24*time.Hour), 1.15, "")
	f.apply(t, f.now.Add(-6*24*time.Hour), 0.9, "gtk3")
	f.applyID = f.apply(t, f.now.Add(-70*time.Minute), 1, "vim")
	return f
}

// apply simulates an apply of the plan that starts at start on three
// lanes, each build taking its fixture duration times scale; the build of
// fail fails, and what needs it is skipped. It records everything the way
// the executor does.
func (f *fixture) apply(t testing.TB, start time.Time, scale float64, fail string) int64 {
	t.Helper()
	ctx := context.Background()
	a, err := f.st.StartApply(ctx, f.planID, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	type done struct {
		end    time.Time
		failed bool
	}
	finished := map[string]done{}
	lanes := []time.Time{start, start, start}
	pending := slices.Clone(f.plan.Nodes)
	for len(pending) > 0 {
		// The first node (plan order) whose deps are all finished, on the
		// lane that frees first.
		slices.SortStableFunc(pending, func(x, y *planner.Node) int { return cmp.Compare(y.Priority, x.Priority) })
		i := slices.IndexFunc(pending, func(n *planner.Node) bool {
			for _, d := range n.Deps {
				if _, ok := finished[d.ID]; !ok {
					return false
				}
			}
			return true
		})
		n := pending[i]
		pending = slices.Delete(pending, i, i+1)
		lane := 0
		for j := range lanes {
			if lanes[j].Before(lanes[lane]) {
				lane = j
			}
		}
		ready := lanes[lane]
		var failedDep string
		for _, d := range n.Deps {
			ready = maxTime(ready, finished[d.ID].end)
			if finished[d.ID].failed {
				failedDep = strings.SplitN(d.ID, "#", 2)[0]
			}
		}
		b := &store.Build{ApplyID: a, Pkgbase: n.Pkgbase, Version: n.Version, Hash: n.Hash, Stage: n.Stage, StartedAt: ready}
		if failedDep != "" {
			id, err := f.st.StartBuild(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.st.FinishBuild(ctx, id, store.StatusSkipped, store.BuildResult{Error: "dependency " + failedDep + " failed"}); err != nil {
				t.Fatal(err)
			}
			finished[n.ID] = done{ready, true}
			continue
		}
		d := time.Duration(float64(fixtureDurations[n.Pkgbase]) * scale)
		if n.Stage == 1 {
			d = d * 2 / 3 // stage 1 runs without checks
		}
		status, exit, msg := store.StatusSucceeded, 0, ""
		if n.Pkgbase == fail {
			status, exit, msg, d = store.StatusFailed, 2, "makechrootpkg: exit status 2", d/3
			b.LogPath = filepath.Join(f.logs, fmt.Sprintf("%s-%d.log", n.Pkgbase, a))
			if err := os.WriteFile(b.LogPath, []byte(failLog(n.Pkgbase)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		id, err := f.st.StartBuild(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		rss := int64(200<<20) + int64(d/time.Second)<<20
		if err := f.st.FinishBuild(ctx, id, status, store.BuildResult{Duration: d, PeakRSS: rss, ExitCode: exit, Error: msg}); err != nil {
			t.Fatal(err)
		}
		if status == store.StatusSucceeded {
			if err := f.st.MarkPublished(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		lanes[lane] = ready.Add(d)
		finished[n.ID] = done{ready.Add(d), status != store.StatusSucceeded}
	}
	if err := f.st.FinishApply(ctx, a, store.StatusFailed); err != nil {
		t.Fatal(err)
	}
	return a
}

// failLog is a build log as makepkg writes it: colours, a long compiler
// run, and a line that must come out as text, not markup.
func failLog(pkgbase string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\x1b[1m\x1b[32m==>\x1b[m\x1b[1m Making package: %s 9.1.0-1 (Mon Jun 10 12:00:00 2024)\x1b[m\n", pkgbase)
	for i := range 60 {
		fmt.Fprintf(&b, "gcc -c -O2 -pipe -fno-plt src/file%02d.c -o objects/file%02d.o\n", i, i)
	}
	b.WriteString("src/evalfunc.c:1234:5: error: implicit declaration of function 'f_<script>alert(1)</script>'\n")
	b.WriteString("make[1]: *** [Makefile:3214: objects/evalfunc.o] Error 1\r\nmake: *** [Makefile:39: all] Error 2\n")
	b.WriteString("\x1b[1m\x1b[31m==> ERROR:\x1b[m\x1b[1m A failure occurred in build().\x1b[m\n    Aborting...\n")
	return b.String()
}
