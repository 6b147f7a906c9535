package main

import (
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/internal/archweb"
	"github.com/portmake/portmake/internal/porttest"
	"github.com/portmake/portmake/internal/testutil"
)

// TestPlanFullSize times the whole `portmake plan` command, as a separate
// process, on the full-size scenario of issue 4: upstream is all 14,562
// archweb packages, the target has about 10% of the pkgbases older and 5%
// missing, and sources resolve from a generated local state repository.
// It logs wall time and peak RSS for a cold plan (empty state, state repo
// cloned), a re-plan after the target DBs changed, a re-plan with nothing
// changed, and --rebuild-repo extra. Set PORTMAKE_PERF=1 to run it.
func TestPlanFullSize(t *testing.T) {
	if os.Getenv("PORTMAKE_PERF") == "" {
		t.Skip("set PORTMAKE_PERF=1 to time the full-size plan")
	}
	testutil.RequireTool(t, "git")
	dir := t.TempDir()
	if d := os.Getenv("PORTMAKE_PERF_DIR"); d != "" {
		dir = d // keep the scenario for profiling
	}
	bin := filepath.Join(dir, "portmake")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	pkgs, repos := archweb.Load(t)
	names := []string{"core", "extra", "multilib"}
	up := map[string][]*alpm.Package{}
	tg := map[string][]*alpm.Package{}
	for i, p := range pkgs {
		up[repos[i]] = append(up[repos[i]], p)
		h := fnv.New32a()
		h.Write([]byte(p.Base))
		switch r := h.Sum32() % 100; {
		case r < 5: // missing on the target
		case r < 15:
			old := *p
			old.Version = p.Version[:strings.LastIndexByte(p.Version, '-')] + "-0"
			tg[repos[i]] = append(tg[repos[i]], &old)
		default:
			tg[repos[i]] = append(tg[repos[i]], p)
		}
	}
	var portfile strings.Builder
	portfile.WriteString("port {\n  arch = \"x86_64\"\n  makepkg_conf = \"makepkg.conf\"\n  pacman_conf = \"pacman.conf\"\n}\n")
	for _, n := range names {
		porttest.WriteDB(t, filepath.Join(dir, "up", n+".db.tar.gz"), up[n])
		porttest.WriteDB(t, filepath.Join(dir, "tg", n+".db.tar.gz"), tg[n])
		fmt.Fprintf(&portfile, "repo %q {\n  upstream = \"up/%s.db.tar.gz\"\n  target = \"tg/%s.db.tar.gz\"\n  publish = \"%s-testing\"\n}\n", n, n, n, n)
	}
	state := porttest.MakeStateRepo(t, filepath.Join(dir, "state"), pkgs, repos, "x86_64")
	fmt.Fprintf(&portfile, "sources {\n  packaging = \"file:///nonexistent/{project}.git\"\n  state = \"file://%s\"\n}\n", state)
	portfile.WriteString("build {\n  builder = \"makepkg\"\n}\n")
	os.WriteFile(filepath.Join(dir, "Portfile.hcl"), []byte(portfile.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "makepkg.conf"), []byte("CARCH=\"x86_64\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "pacman.conf"), []byte("[options]\nArchitecture = x86_64\n"), 0o644)

	// PORTMAKE_PERF_DEBUG=1 shows each run's phase timings.
	debug := os.Getenv("PORTMAKE_PERF_DEBUG") != ""
	plan := func(name string, args ...string) {
		t.Helper()
		argv := append([]string{"-C", dir, "plan"}, args...)
		if debug {
			argv = append(argv, "--log-level", "debug")
		}
		cmd := exec.Command(bin, argv...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out.String())
		}
		wall := time.Since(start)
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss >> 10
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		summary := ""
		for _, l := range lines {
			if strings.HasPrefix(l, "Plan:") {
				summary = l
			}
		}
		t.Logf("%-28s %7.0f ms  peak RSS %4d MiB  %s", name, float64(wall.Microseconds())/1000, rss, summary)
		for _, l := range lines {
			if debug && strings.Contains(l, "level=") {
				t.Log("    " + l)
			}
		}
	}
	plan("cold (clone state repo)")
	plan("nothing changed")
	// The port publishes: about a third of its outdated pkgbases catch up.
	for _, n := range names {
		var next []*alpm.Package
		for _, p := range tg[n] {
			h := fnv.New32a()
			h.Write([]byte(p.Base))
			if h.Sum32()%3 == 0 {
				for _, q := range up[n] {
					if q.Name == p.Name {
						p = q
						break
					}
				}
			}
			next = append(next, p)
		}
		porttest.WriteDB(t, filepath.Join(dir, "tg", n+".db.tar.gz"), next)
	}
	plan("target DBs changed")
	plan("nothing changed (again)")
	plan("--rebuild-repo extra", "--rebuild-repo", "extra")
}
