package main

import (
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
// It logs wall time, CPU time and peak RSS for a cold plan (empty state,
// state repo cloned), a re-plan with nothing changed, a re-plan after the
// target DBs changed (recomputed, with warm caches), and --rebuild-repo
// extra. Set PORTMAKE_PERF=1 to run it.
//
// PORTMAKE_PERF_BIN=FILE times that portmake binary instead of this
// tree's (to compare builds on the same scenario).
//
// PORTMAKE_PERF_SCALE=1,2,4 runs it at several sizes: at N the databases
// hold N renamed copies of every package (copy k of foo is foo-k<k>, and
// so are the names its relations use), so the plan is N disjoint copies of
// the full-size one.
//
// The peak RSS comes from /usr/bin/time, which runs portmake as its own
// child: a process started straight from this test inherits the test's
// (much larger) high-water mark at exec, so its rusage would report that.
func TestPlanFullSize(t *testing.T) {
	if os.Getenv("PORTMAKE_PERF") == "" {
		t.Skip("set PORTMAKE_PERF=1 to time the full-size plan")
	}
	testutil.RequireTool(t, "git")
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		t.Fatal("the peak RSS needs /usr/bin/time (Debian: apt-get install time)")
	}
	scales := []int{1}
	if v := os.Getenv("PORTMAKE_PERF_SCALE"); v != "" {
		scales = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				t.Fatalf("PORTMAKE_PERF_SCALE=%q: want sizes such as 1,2,4", v)
			}
			scales = append(scales, n)
		}
	}
	base := t.TempDir()
	if d := os.Getenv("PORTMAKE_PERF_DIR"); d != "" {
		base = d // keep the scenario for profiling
	}
	bin := filepath.Join(base, "portmake")
	if b := os.Getenv("PORTMAKE_PERF_BIN"); b != "" {
		bin = b // another build, to compare
	} else if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	pkgs0, repos0 := archweb.Load(t)
	for _, scale := range scales {
		dir := filepath.Join(base, fmt.Sprintf("x%d", scale))
		os.RemoveAll(dir)
		pkgs, repos := scaled(pkgs0, repos0, scale)
		t.Logf("scale %dx: %d packages upstream", scale, len(pkgs))
		planFullSize(t, bin, dir, pkgs, repos)
	}
}

// scaled returns n renamed copies of pkgs (see TestPlanFullSize).
func scaled(pkgs []*alpm.Package, repos []string, n int) ([]*alpm.Package, []string) {
	out, outRepos := slices.Clone(pkgs), slices.Clone(repos)
	for k := 2; k <= n; k++ {
		suffix := fmt.Sprintf("-k%d", k)
		rename := func(list []string) []string {
			var r []string
			for _, s := range list {
				i := strings.IndexAny(s, "<>=")
				if i < 0 {
					i = len(s)
				}
				r = append(r, s[:i]+suffix+s[i:])
			}
			return r
		}
		for i, p := range pkgs {
			q := *p
			q.Name, q.Base = p.Name+suffix, p.Base+suffix
			q.Depends, q.MakeDepends, q.CheckDepends, q.Provides = rename(p.Depends), rename(p.MakeDepends), rename(p.CheckDepends), rename(p.Provides)
			out, outRepos = append(out, &q), append(outRepos, repos[i])
		}
	}
	return out, outRepos
}

func planFullSize(t *testing.T, bin, dir string, pkgs []*alpm.Package, repos []string) {
	names := []string{"core", "extra", "multilib"}
	up := map[string][]*alpm.Package{}
	tg := map[string][]*alpm.Package{}
	for i, p := range pkgs {
		up[repos[i]] = append(up[repos[i]], p)
		switch r := baseHash(p.Base) % 100; {
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
		argv := append([]string{"-f", "%M %U %S", bin, "-C", dir, "plan"}, args...)
		if debug {
			argv = append(argv, "--log-level", "debug")
		}
		cmd := exec.Command("/usr/bin/time", argv...)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s%s", name, err, out.String(), errOut.String())
		}
		wall := time.Since(start)
		errLines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
		var rssKB int64
		var user, sys float64
		if _, err := fmt.Sscanf(errLines[len(errLines)-1], "%d %f %f", &rssKB, &user, &sys); err != nil {
			t.Fatalf("%s: /usr/bin/time said %q", name, errLines[len(errLines)-1])
		}
		summary := ""
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, "Plan:") {
				summary = l
			}
		}
		t.Logf("%-28s %7.0f ms  cpu %5.0f ms  peak RSS %5.1f MiB  %s", name, float64(wall.Microseconds())/1000, (user+sys)*1000, float64(rssKB)/1024, summary)
		if debug {
			for _, l := range errLines {
				if strings.Contains(l, "level=") {
					t.Log("    " + l)
				}
			}
		}
	}
	plan("cold (clone state repo)")
	plan("nothing changed")
	// The port publishes: about a third of its outdated pkgbases catch up.
	for _, n := range names {
		byName := map[string]*alpm.Package{}
		for _, q := range up[n] {
			byName[q.Name] = q
		}
		var next []*alpm.Package
		for _, p := range tg[n] {
			if baseHash(p.Base)%3 == 0 {
				p = byName[p.Name]
			}
			next = append(next, p)
		}
		porttest.WriteDB(t, filepath.Join(dir, "tg", n+".db.tar.gz"), next)
	}
	plan("target DBs changed")
	plan("nothing changed (again)")
	plan("--rebuild-repo extra", "--rebuild-repo", "extra")
}

// copySuffix is what scaled appends to the names of a copy.
var copySuffix = regexp.MustCompile(`-k[0-9]+$`)

// baseHash picks a pkgbase's fate in the scenario by its original name, so
// every copy of it is picked alike.
func baseHash(base string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(copySuffix.ReplaceAllString(base, "")))
	return h.Sum32()
}
