package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/internal/pkgspec"
	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/store"
)

func TestGanttLanesAndCriticalPath(t *testing.T) {
	// c needs a and b; d needs nothing. a and b and d start together; c
	// starts when b (the later of its dependencies) is done.
	in := &planner.Input{Arch: "aarch64", Repos: []planner.RepoPair{{Name: "core",
		Upstream: &planner.Repo{Name: "core", Packages: []alpm.Entry{
			pkgspec.Must("a 2-1").Entry(), pkgspec.Must("b 2-1").Entry(), pkgspec.Must("c 2-1 d=a,b").Entry(), pkgspec.Must("d 2-1").Entry(),
		}},
		Target: &planner.Repo{Name: "core"},
	}}}
	in.Options.Packages = []string{"a", "b", "c", "d"}
	p, err := planner.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	b := func(pkgbase, status string, start, dur time.Duration) store.Build {
		return store.Build{Pkgbase: pkgbase, Status: status, StartedAt: t0.Add(start), BuildResult: store.BuildResult{Duration: dur}}
	}
	builds := []store.Build{
		b("a", "succeeded", 0, 2*time.Minute),
		b("b", "succeeded", 0, 5*time.Minute),
		b("d", "succeeded", 0, time.Minute),
		b("c", "failed", 5*time.Minute, 3*time.Minute),
		{Pkgbase: "e", Status: "skipped", StartedAt: t0.Add(8 * time.Minute)},
	}
	g := NewGantt(store.Apply{ID: 7, StartedAt: t0, FinishedAt: t0.Add(8 * time.Minute)}, builds, p, t0.Add(time.Hour))
	if g.Lanes != 3 {
		t.Errorf("lanes = %d, want 3", g.Lanes)
	}
	lanes := map[string]int{}
	for _, bar := range g.Bars {
		lanes[bar.ID] = bar.Lane
	}
	// c reuses the first lane that was free at minute 5: a's (free at 2).
	if lanes["a"] != 0 || lanes["b"] != 1 || lanes["d"] != 2 || lanes["c"] != 0 {
		t.Errorf("lanes = %v", lanes)
	}
	if !slices.Equal(g.Critical, []string{"b", "c"}) || g.CritBuild != 8*time.Minute {
		t.Errorf("critical path = %v (%v), want [b c] (8m)", g.Critical, g.CritBuild)
	}
	if len(g.Skipped) != 1 || g.Statuses["succeeded"] != 3 || g.Statuses["failed"] != 1 {
		t.Errorf("skipped = %v, statuses = %v", g.Skipped, g.Statuses)
	}
	// A running build ends at now and counts as running; without the plan
	// there is no critical path.
	running := append(slices.Clone(builds[:3]), store.Build{Pkgbase: "c", Status: "running", StartedAt: t0.Add(5 * time.Minute)})
	g = NewGantt(store.Apply{ID: 8, StartedAt: t0}, running, nil, t0.Add(20*time.Minute))
	if g.Running != 1 || !g.End.Equal(t0.Add(20*time.Minute)) || len(g.Critical) != 0 || !g.NoPlan {
		t.Errorf("running gantt = %+v", g)
	}
}

func TestReadTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "build.log")
	if err := os.WriteFile(path, []byte(failLog("vim")), 0o644); err != nil {
		t.Fatal(err)
	}
	lines, err := readTail(path, 1<<20, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"make: *** [Makefile:39: all] Error 2", "==> ERROR: A failure occurred in build().", "    Aborting..."}
	if len(lines) != 4 || !slices.Equal(lines[1:], want) || !strings.HasPrefix(lines[0], "make[1]: ***") {
		t.Errorf("tail = %q", lines)
	}
	// Reading only the last 100 bytes drops the cut first line.
	lines, _ = readTail(path, 100, 40)
	if len(lines) == 0 || lines[len(lines)-1] != "    Aborting..." || strings.Contains(strings.Join(lines, "\n"), "file59") {
		t.Errorf("short tail = %q", lines)
	}
	if _, err := readTail(filepath.Join(t.TempDir(), "nosuch.log"), 100, 4); !os.IsNotExist(err) {
		t.Errorf("missing log: err = %v", err)
	}
}

func TestLoadAndRender(t *testing.T) {
	f := newFixture(t)
	d, err := Load(context.Background(), f.st, "aarch64 port", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.PlanID != f.planID || len(d.Plan.Nodes) != len(f.plan.Nodes) || d.Timeline == nil || d.Timeline.Apply.ID != f.applyID {
		t.Fatalf("loaded plan %d (%d nodes), timeline %+v", d.PlanID, len(d.Plan.Nodes), d.Timeline)
	}
	if len(d.Failures) != 1 || d.Failures[0].Build.Pkgbase != "vim" || len(d.Failures[0].Tail) != 25 {
		t.Fatalf("failures = %+v", d.Failures)
	}
	// gtk3 failed in the second apply but succeeded since: not failing.
	if len(d.Series) != 12 || d.Series[0].Pkgbase != "gcc" || len(d.Series[0].Points) != 3 {
		t.Errorf("series = %d, first %+v", len(d.Series), d.Series[0])
	}
	// The critical path ends with the build that finished last, and each
	// step is a dependency of the next in the plan.
	crit := d.Timeline.Critical
	if len(crit) < 2 {
		t.Fatalf("critical path = %v", crit)
	}
	for i := 1; i < len(crit); i++ {
		n := f.plan.Node(crit[i])
		if n == nil || !slices.ContainsFunc(n.Deps, func(dep planner.Dep) bool { return dep.ID == crit[i-1] }) {
			t.Errorf("critical path %v: %s does not wait for %s", crit, crit[i], crit[i-1])
		}
	}

	var b bytes.Buffer
	if err := Render(&b, d); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{
		`<tr data-reason="missing-dependency" data-repo="core" data-id="libnew">`,
		`data-id="harfbuzz#1"`, `data-id="freetype2#2"`,
		`<option value="outdated">outdated (`,
		`<svg class="gantt"`, `class="bar s-failed"`, `class="bar s-succeeded critical"`,
		`implicit declaration of function &#39;f_&lt;script&gt;alert(1)&lt;/script&gt;&#39;`,
		`<span class="badge s-failed">failed</span>`,
		`<svg class="spark"`, `<figure data-pkgbase="gcc">`,
		`Not built: vim-plugins (dependency vim failed).`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(html, "\x1b") || strings.Contains(html, "<script>alert") {
		t.Error("page contains terminal escapes or unescaped log text")
	}
	checkSelfContained(t, html)
}

// checkSelfContained fails on anything that would make the page load a
// resource: it must open from a file with no network access.
func checkSelfContained(t *testing.T, html string) {
	t.Helper()
	for _, re := range []string{`<link\b`, `<script[^>]+src=`, `<img\b`, `<iframe\b`, `url\(`, `@import`, `(?:src|href)="(?:https?:)?//`} {
		if m := regexp.MustCompile(re).FindString(html); m != "" {
			t.Errorf("page loads an external resource: %q", m)
		}
	}
}

func TestRenderEmpty(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := Load(context.Background(), st, "empty", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Render(&b, d); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"No plan is stored yet.", "No apply yet.", "Nothing is failing.", "No builds yet.", "No finished builds yet."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("empty page lacks %q", want)
		}
	}
}

func TestWriteIsAtomic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	d := &Data{Title: "x", Generated: time.Now()}
	if err := Write(dir, d); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "index.html" {
		t.Errorf("site holds %v, want only index.html", entries)
	}
}

func TestFormats(t *testing.T) {
	for _, tt := range []struct {
		d           time.Duration
		short, tick string
	}{
		{0, "0s", "0s"}, {45 * time.Second, "45s", "45s"}, {3*time.Minute + 5*time.Second, "3m05s", "3m5s"},
		{10 * time.Minute, "10m00s", "10m"}, {time.Hour, "1h00m", "1h"}, {90 * time.Minute, "1h30m", "1h30m"},
		{1500 * time.Millisecond, "2s", "1s"},
	} {
		if got := shortDur(tt.d); got != tt.short {
			t.Errorf("shortDur(%v) = %q, want %q", tt.d, got, tt.short)
		}
		if got := tickLabel(tt.d); got != tt.tick {
			t.Errorf("tickLabel(%v) = %q, want %q", tt.d, got, tt.tick)
		}
	}
	for n, want := range map[int64]string{0: "", 512: "512 B", 1536: "1.5 KiB", 300 << 20: "300 MiB", 5 << 30: "5.0 GiB"} {
		if got := bytesText(n); got != want {
			t.Errorf("bytesText(%d) = %q, want %q", n, got, want)
		}
	}
	for span, want := range map[time.Duration]time.Duration{30 * time.Second: 5 * time.Second, 70 * time.Minute: 10 * time.Minute, 20 * time.Hour: 2 * time.Hour} {
		if got := tickStep(span, 12); got != want {
			t.Errorf("tickStep(%v) = %v, want %v", span, got, want)
		}
	}
}
