package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/internal/fsutil"
	"github.com/portmake/portmake/internal/porttest"
	"github.com/portmake/portmake/internal/testutil"
	"github.com/portmake/portmake/planner"
)

// writeConfig writes the chroot-config a Portfile names by default.
func writeConfig(t *testing.T, dir, arch string) {
	t.Helper()
	conf := filepath.Join(dir, "chroot-config")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(conf, "makepkg.conf"), []byte(fmt.Sprintf("CARCH=%q\n", arch)), 0o644)
	os.WriteFile(filepath.Join(conf, "pacman.conf"), []byte("[options]\n"), 0o644)
}

// TestPlanRealData plans the x86_64 2022-09-12 snapshot against the ALARM
// aarch64 2022-11-19 one through the engine's API, with sources from a
// state repository generated from the upstream DBs, and checks what a
// front end relies on: the plan is saved with the checksum of every DB it
// read, every node has a resolved source, the outdated set is the one
// pacman's vercmp gives (planner.TestRealDataOutdated checks it pair by
// pair), and planning again with nothing changed reuses the stored plan.
func TestPlanRealData(t *testing.T) {
	corpus := testutil.Corpus(t)
	testutil.RequireTool(t, "git")
	up := filepath.Join(corpus, "syncdb", "x86_64-2022-09-12")
	tg := filepath.Join(corpus, "syncdb", "aarch64-2022-11-19-alarm")
	dir := t.TempDir()
	writeConfig(t, dir, "aarch64")

	var pkgs []*alpm.Package
	var repos []string
	var pf strings.Builder
	pf.WriteString("port {\n  arch = \"aarch64\"\n}\n")
	for _, r := range []string{"core", "extra"} {
		db, err := syncdb.ReadFile(filepath.Join(up, r+".db.tar.gz"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range db.Packages {
			pkgs = append(pkgs, p)
			repos = append(repos, r)
		}
		fmt.Fprintf(&pf, "repo %q {\n  upstream = %q\n  target = %q\n}\n", r,
			filepath.Join(up, r+".db.tar.gz"), filepath.Join(tg, r+".db"))
	}
	state := porttest.MakeStateRepo(t, filepath.Join(dir, "state"), pkgs, repos, "x86_64")
	fmt.Fprintf(&pf, "sources {\n  packaging = \"file:///nonexistent/{project}.git\"\n  state = \"file://%s\"\n}\n", state)
	pf.WriteString("build {\n  builder = \"makepkg\"\n}\n")
	if err := os.WriteFile(filepath.Join(dir, "Portfile.hcl"), []byte(pf.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	p, err := Open(filepath.Join(dir, "Portfile.hcl"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	r, err := p.Plan(ctx, PlanOptions{Refresh: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != 1 || r.Reused {
		t.Errorf("first plan: id %d, reused %v; want a new plan 1", r.ID, r.Reused)
	}
	if got := len(r.Plan.Meta.DBs); got != 4 {
		t.Errorf("plan records %d DBs, want 4", got)
	}
	for _, d := range r.Plan.Meta.DBs {
		if len(d.SHA256) != 64 {
			t.Errorf("DB %s %s: checksum %q", d.Side, d.Repo, d.SHA256)
		}
	}
	outdated := map[string]bool{}
	for _, n := range r.Plan.Nodes {
		if n.Source == nil || n.Source.Commit == "" {
			t.Errorf("%s: no resolved source", n.ID)
		}
		if n.Reason.Kind == planner.ReasonOutdated {
			outdated[n.Pkgbase] = true
		}
	}
	// 11 pkgbases of this pair are older on the target (vercmp).
	if len(outdated) == 0 || len(outdated) > 11 {
		t.Errorf("%d outdated pkgbases %v; the pair has 11", len(outdated), outdated)
	}
	if len(r.Plan.TargetNewer) == 0 {
		t.Error("no target-newer pkgbases; the pair has hundreds")
	}

	again, err := p.Plan(ctx, PlanOptions{Refresh: false})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Reused || again.ID != r.ID || len(again.Plan.Nodes) != len(r.Plan.Nodes) {
		t.Errorf("second plan: id %d reused %v with %d nodes; want plan %d reused with %d", again.ID, again.Reused,
			len(again.Plan.Nodes), r.ID, len(r.Plan.Nodes))
	}
	list, err := p.Plans(ctx, 0)
	if err != nil || len(list) != 1 {
		t.Errorf("Plans: %v, %v; want one plan", list, err)
	}
}

// progressRecorder keeps the events an apply reports.
type progressRecorder struct {
	mu       sync.Mutex
	began    int
	started  []string
	finished map[string]Outcome
	ended    *Summary
}

func (p *progressRecorder) Begin(jobs []*Job, slots int) { p.began = len(jobs) }
func (p *progressRecorder) Started(j *Job, attempt int, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started = append(p.started, j.Pkgbase)
}
func (p *progressRecorder) Finished(j *Job, r *Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished == nil {
		p.finished = map[string]Outcome{}
	}
	p.finished[j.Pkgbase] = r.Outcome
}
func (p *progressRecorder) End(s *Summary) { p.ended = s }

// TestApplyDemo applies the bundled demo through the engine with the real
// sandboxed makepkg builder: three local PKGBUILDs, one of them a split
// package, built in dependency order and published to a directory
// repository; a second apply builds nothing.
func TestApplyDemo(t *testing.T) {
	testutil.RequireTool(t, "makepkg", "bwrap", "fakeroot", "git")
	if os.Geteuid() == 0 {
		testutil.RequireTool(t, "runuser")
	}
	dir := testutil.BuilderDir(t)
	if err := fsutil.CopyTree(filepath.Join("..", "examples", "demo"), dir+"/demo", func(rel string, _ os.DirEntry) bool {
		return rel == ".portmake" || rel == "out"
	}); err != nil {
		t.Fatal(err)
	}
	p, err := Open(filepath.Join(dir, "demo", "Portfile.hcl"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()

	var planned *PlanResult
	approved := false
	prog := &progressRecorder{}
	res, err := p.Apply(ctx, ApplyOptions{Plan: PlanOptions{Refresh: true}, Jobs: 2,
		Planned: func(r *PlanResult) { planned = r },
		Approve: func() (bool, error) { approved = true; return true, nil }}, prog)
	if err != nil {
		t.Fatal(err)
	}
	if planned == nil || !approved {
		t.Errorf("Planned called: %v, Approve called: %v; want both", planned != nil, approved)
	}
	if !res.OK() || res.Summary.Count(Built) != 3 {
		t.Fatalf("first apply: %d built, ok %v; want 3 built: %+v", res.Summary.Count(Built), res.OK(), prog.finished)
	}
	// hello-port is what the others depend on: it starts first.
	if len(prog.started) != 3 || prog.started[0] != "hello-port" || prog.ended != res.Summary {
		t.Errorf("progress: started %v, ended %v", prog.started, prog.ended != nil)
	}
	db, err := syncdb.ReadFile(filepath.Join(dir, "demo", "repos", "port", "demo", "os", "aarch64", "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, pkg := range db.Packages {
		names = append(names, pkg.Name)
	}
	slices.Sort(names)
	if want := []string{"demo-split-bin", "demo-split-data", "demo-tools", "hello-port"}; !slices.Equal(names, want) {
		t.Errorf("published demo.db lists %v, want %v", names, want)
	}
	// The ARCH=any packages were copied from upstream, not built.
	if res.Summary.Synced != 2 {
		t.Errorf("first apply synced %d packages, want 2 (iana-etc, python-setuptools)", res.Summary.Synced)
	}
	for repo, want := range map[string]string{"core": "iana-etc 20241206-1", "extra": "python-setuptools 1:75.6.0-1"} {
		db, err := syncdb.ReadFile(filepath.Join(dir, "demo", "repos", "port", repo, "os", "aarch64", repo+".db"))
		if err != nil {
			t.Fatal(err)
		}
		name, ver, _ := strings.Cut(want, " ")
		if pkg := db.Find(name); pkg == nil || pkg.Version != ver {
			t.Errorf("%s.db: %s is %+v, want %s", repo, name, pkg, ver)
		}
	}

	st, err := p.Status(ctx)
	if err != nil || st.Apply == nil || st.Apply.ID != res.ApplyID || len(st.Builds) != 3 {
		t.Fatalf("Status: %+v, %v", st, err)
	}
	for _, b := range st.Builds {
		if !b.Published() || b.Status != "succeeded" {
			t.Errorf("%s: status %s, published %v", b.Pkgbase, b.Status, b.Published())
		}
	}
	if _, err := p.LatestLog("hello-port"); err != nil {
		t.Error(err)
	}

	res, err = p.Apply(ctx, ApplyOptions{Plan: PlanOptions{Refresh: true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The demo publishes into the repositories it plans from, so the
	// second plan is empty; were it not, its builds would be up to date
	// and nothing would be synced again.
	if s := res.Summary; s != nil && (s.Count(Built) != 0 || s.Count(UpToDate) != len(s.Jobs) || s.Synced != 0) {
		t.Errorf("second apply: %d built, %d up to date of %d, %d synced; want nothing built or synced", s.Count(Built), s.Count(UpToDate), len(s.Jobs), s.Synced)
	}
	hist, err := p.History(ctx, "hello-port", 0)
	if err != nil || len(hist) != 1 {
		t.Errorf("History(hello-port): %d builds, %v; want 1", len(hist), err)
	}
}
