package planner

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/internal/testutil"
)

func readDB(t testing.TB, path string) *Repo {
	t.Helper()
	x, err := syncdb.ReadIndexFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return &Repo{Name: x.Name, URL: path, Packages: x.Packages}
}

// vercmpTool runs pacman's vercmp, which is the reference the planner's
// ordering must agree with.
func vercmpTool(t testing.TB, a, b string) int {
	out, err := exec.CommandContext(context.Background(), "vercmp", a, b).Output()
	if err != nil {
		t.Fatalf("vercmp %q %q: %v", a, b, err)
	}
	switch strings.TrimSpace(string(out)) {
	case "-1":
		return -1
	case "0":
		return 0
	case "1":
		return 1
	}
	t.Fatalf("vercmp %q %q: unexpected output %q", a, b, out)
	return 0
}

// TestRealDataOutdated plans Arch x86_64 of 2022-09-12 against ALARM aarch64
// of 2022-11-19 and checks the outdated set against /usr/bin/vercmp,
// computed here without the planner's code.
func TestRealDataOutdated(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	corpus := testutil.Corpus(t)
	testutil.RequireTool(t, "vercmp")
	up := filepath.Join(corpus, "syncdb", "x86_64-2022-09-12")
	tg := filepath.Join(corpus, "syncdb", "aarch64-2022-11-19-alarm")
	in := &Input{Arch: "aarch64", UpstreamArch: "x86_64", BuildEnv: BuildEnv{Builder: "chroot"}}
	for _, name := range []string{"core", "extra"} {
		u := readDB(t, filepath.Join(up, name+".db.tar.gz"))
		g := readDB(t, filepath.Join(tg, name+".db"))
		in.Repos = append(in.Repos, RepoPair{Name: name, Upstream: u, Target: g, Publish: name + "-testing"})
	}
	start := time.Now()
	p := mustBuild(t, in)
	t.Logf("planned in %v: %d builds, %d cycles, %d stage-1, %d any-sync, %d target-newer, %d missing, %d warnings",
		time.Since(start), len(p.Nodes), len(p.Cycles), p.Summary().Stage1, len(p.AnySync), len(p.TargetNewer), len(p.Missing), len(p.Warnings))

	// Independent expectation: versions per pkgbase by vercmp, first repo
	// wins per pkgname, ARCH=any pkgbases excluded.
	type side struct {
		byName map[string]*alpm.Entry
		bases  map[string][]*alpm.Entry
	}
	load := func(upstream bool) side {
		s := side{byName: map[string]*alpm.Entry{}, bases: map[string][]*alpm.Entry{}}
		for _, rp := range in.Repos {
			r := rp.Target
			if upstream {
				r = rp.Upstream
			}
			for i := range r.Packages {
				pk := &r.Packages[i]
				if _, ok := s.byName[pk.Name]; !ok {
					s.byName[pk.Name] = pk
				}
			}
		}
		for _, pk := range s.byName {
			s.bases[pk.Base] = append(s.bases[pk.Base], pk)
		}
		return s
	}
	u, g := load(true), load(false)
	maxVer := func(list []*alpm.Entry) string {
		v := list[0].Version
		for _, pk := range list[1:] {
			if pk.Version != v && vercmpTool(t, pk.Version, v) > 0 {
				v = pk.Version
			}
		}
		return v
	}
	type pair struct{ base, up, cur string }
	var pairs []pair
	anyBases := make(map[string]bool)
	for b, list := range u.bases {
		allAny := !slices.ContainsFunc(list, func(p *alpm.Entry) bool { return p.Arch != "any" })
		if allAny {
			anyBases[b] = true
			continue
		}
		cur := ""
		if tl, ok := g.bases[b]; ok {
			cur = maxVer(tl)
		} else {
			var tl []*alpm.Entry
			for _, pk := range list {
				if tp, ok := g.byName[pk.Name]; ok {
					tl = append(tl, tp)
				}
			}
			if len(tl) > 0 {
				cur = maxVer(tl)
			}
		}
		if cur != "" {
			pairs = append(pairs, pair{b, maxVer(list), cur})
		}
	}
	want, wantNewer := make(map[string]bool), make(map[string]bool)
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan pair)
	for range 8 {
		wg.Go(func() {
			for pr := range work {
				if pr.cur == pr.up {
					continue
				}
				c := vercmpTool(t, pr.cur, pr.up)
				mu.Lock()
				// A minor pkgrel on the target ("1-2.1" for "1-2") is a
				// port-only rebuild: up to date, not newer.
				rest, port := strings.CutPrefix(pr.cur, pr.up+".")
				port = port && rest != "" && strings.Trim(rest, "0123456789") == ""
				if c < 0 {
					want[pr.base] = true
				} else if c > 0 && !port {
					wantNewer[pr.base] = true
				}
				mu.Unlock()
			}
		})
	}
	for _, pr := range pairs {
		work <- pr
	}
	close(work)
	wg.Wait()

	got := make(map[string]bool)
	for _, n := range p.Nodes {
		if slices.ContainsFunc(n.Reasons, func(r Reason) bool { return r.Kind == ReasonOutdated }) {
			got[n.Pkgbase] = true
		}
	}
	for b := range want {
		if !got[b] {
			t.Errorf("%s: vercmp says outdated, the plan does not build it as outdated", b)
		}
	}
	for b := range got {
		if !want[b] {
			t.Errorf("%s: planned as outdated, vercmp disagrees", b)
		}
	}
	gotNewer := make(map[string]bool)
	for _, v := range p.TargetNewer {
		gotNewer[v.Pkgbase] = true
	}
	for b := range wantNewer {
		if !gotNewer[b] {
			t.Errorf("%s: vercmp says the target is newer, the plan does not report it", b)
		}
	}
	// The plan also reports ARCH=any pkgbases as target-newer; the
	// expectation skipped them.
	for b := range gotNewer {
		if !wantNewer[b] && !anyBases[b] {
			t.Errorf("%s: reported target-newer, vercmp disagrees", b)
		}
	}
	// The target is ten weeks younger than upstream, so most of it is newer.
	if len(want) == 0 || len(wantNewer) < 500 {
		t.Errorf("%d outdated and %d target-newer pkgbases: the corpus pair has more", len(want), len(wantNewer))
	}
	t.Logf("%d outdated and %d target-newer pkgbases agree with vercmp (%d compared)", len(want), len(wantNewer), len(pairs))
}

// TestRealData2022Port is issue 13 on the real 2022 pair, with the default
// build.bootstrap: qemu's libbpf.so=0-64 must not downgrade the port's
// libbpf 1.0.1 to upstream's 0.8.1, and gcc and glibc must stay held
// although libtool and valgrind need their new versions. A target database
// of the wrong architecture is an error.
func TestRealData2022Port(t *testing.T) {
	corpus := testutil.Corpus(t)
	up := filepath.Join(corpus, "syncdb", "x86_64-2022-09-12")
	tg := filepath.Join(corpus, "syncdb", "aarch64-2022-11-19-alarm")
	mk := func() *Input {
		in := &Input{Arch: "aarch64", UpstreamArch: "x86_64", BuildEnv: BuildEnv{Builder: "chroot"},
			Bootstrap: []string{"linux-api-headers", "glibc", "binutils", "gcc"}}
		for _, name := range []string{"core", "extra"} {
			in.Repos = append(in.Repos, RepoPair{Name: name, Upstream: readDB(t, filepath.Join(up, name+".db.tar.gz")),
				Target: readDB(t, filepath.Join(tg, name+".db")), Publish: name})
		}
		return in
	}
	p := mustBuild(t, mk())
	for _, base := range []string{"libbpf", "gcc", "glibc", "binutils"} {
		if len(p.NodesOf(base)) > 0 {
			t.Errorf("%s is in the plan: %+v", base, p.NodesOf(base)[0].Reasons)
		}
	}
	w := warningOf(p, "qemu", WarnDowngrade)
	if w == nil || w.Relation != "libbpf.so=0-64" || !strings.Contains(w.Message, "older than the target's 1.0.1-1") {
		t.Errorf("qemu's libbpf warning: %+v", w)
	}
	var held []string
	for _, h := range p.Held {
		held = append(held, h.Pkgbase)
	}
	if !slices.Equal(held, []string{"binutils", "gcc", "glibc"}) {
		t.Errorf("held %v", held)
	}
	if w := warningOf(p, "libtool", WarnHeld); w == nil || w.Relation != "gcc>=12.2.0" {
		t.Errorf("libtool's held warning: %+v", w)
	}
	t.Logf("%d builds, %d warnings, held %v", len(p.Nodes), len(p.Warnings), held)

	in := mk()
	in.Options.AllowDowngrade = true
	p = mustBuild(t, in)
	if n := p.NodesOf("libbpf"); len(n) != 1 || !n[0].Downgrade || n[0].Current != "1.0.1-1" || n[0].Version != "0.8.1-1" {
		t.Errorf("--allow-downgrade: libbpf %+v", n)
	}

	in = mk()
	in.Repos[0].Target = readDB(t, filepath.Join(up, "core.db.tar.gz")) // the slip: upstream's core as the target's
	in.Repos[0].Target.URL = "https://port.example/core/os/aarch64/core.db"
	if _, err := Build(in); err == nil || !strings.Contains(err.Error(), "repository core (target, https://port.example/core/os/aarch64/core.db):") {
		t.Errorf("x86_64 target: %v", err)
	}
}
