package analyze

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/portmake/portmake/internal/pkgspec"
	"github.com/portmake/portmake/planner"
)

// testFiles is what the engine gives Options.Files: each test package's
// file name, by repository and pkgname.
var testFiles = map[string]string{}

func repo(name string, specs ...string) *planner.Repo {
	r := &planner.Repo{Name: name}
	for _, s := range specs {
		p := pkgspec.Must(s)
		testFiles[name+"/"+p.Name] = p.Name + "-" + p.Version + "-" + p.Arch + ".pkg.tar.zst"
		r.Packages = append(r.Packages, p.Entry())
	}
	return r
}

// crafted has one package or more in every category of the report.
func crafted() *planner.Input {
	return &planner.Input{
		Arch: "aarch64", UpstreamArch: "x86_64",
		Repos: []planner.RepoPair{
			{Name: "core",
				Upstream: repo("core",
					"glibc 2.36-1",
					"libnew 1-1",
					"app 2-1 d=libnew,libfoo.so=2-64",
					"libfoo 2-1 p=libfoo.so=2-64",
					"moved 1-1",
					"dup 1-1",
					"newer 1-1",
					"rebuilt 1-1",
					"user 1-1",
					"tool 1-1 d=glibc>=2.36",
					"python 3.12-1",
					"python-foo 1-1 d=python>=3.12",
					"theme 2-1 any",
				),
				Target: repo("core",
					"glibc 2.35-1 aarch64",
					"app 1-1 aarch64 d=libfoo.so=1-64",
					"libfoo 2-1 aarch64 p=libfoo.so=2-64",
					"dup 1-1 aarch64",
					"newer 2-1 aarch64",
					"rebuilt 1-1.1 aarch64",
					"user 1-1 aarch64 d=legacy,libmissing",
					"tool 1-1 aarch64 d=glibc>=2.36",
					"python 3.11-1 aarch64",
					"python-foo 0.9-1 aarch64",
					"theme 1-1 any",
				),
			},
			{Name: "extra",
				Upstream: repo("extra",
					"jdk 17-1",
					"docs 1-1 any",
				),
				Target: repo("extra",
					"jdk-bin 17.0.1-1 aarch64 p=jdk=17",
					"moved 1-1 aarch64",
					"dup 1-2 aarch64",
					"gone 1-1 aarch64",
					"legacy 1-1 aarch64",
				),
			},
			{Name: "forge", Target: repo("forge", "forgetool 1-1 aarch64")},
		},
		Blacklist: []planner.BlacklistEntry{
			{Pattern: "python", Reason: "waiting for the JIT", Origin: "blacklist.txt:1"},
			{Pattern: "nomatch*", Reason: "old", Origin: "blacklist.txt:2"},
		},
	}
}

const craftedHuman = `Analysis of the aarch64 port (upstream x86_64)

  repo   upstream   target
  core   13         11
  extra  2          5
  forge  port-only  1

Missing on the target: 2 (1 truly missing, 1 provided by another package)
  truly missing (1):
    libnew  1-1  core  needed: depends of app (libnew)
  provided by another package (1):
    jdk  17-1  extra  jdk by jdk-bin 17.0.1-1 (jdk=17)

Outdated: 3
  app         1-1 → 2-1        core
  glibc       2.35-1 → 2.36-1  core
  python-foo  0.9-1 → 1-1      core

Missing ARCH=any (synced, not built): 1
  docs  (none) → 1-1  extra

Outdated ARCH=any (synced, not built): 1
  theme  1-1 → 2-1  core

Wrong repository: 1
  moved  upstream core  target extra

Duplicated across repositories: 1
  dup  core 1-1, extra 1-2

Target newer than upstream: 1
  newer  2-1 > 1-1  core

Target-only (upstream dropped or never had them): 3 (1 orphaned)
  gone     1-1       extra  orphaned
  jdk-bin  17.0.1-1  extra  provides upstream's jdk
  legacy   1-1       extra  needed by user

Orphaned (target-only, and nothing depends on them): 1
  gone  1-1  extra  gone

Broken dependencies (nothing in the target provides them): 1
  user 1-1  core  depends libmissing

Unsatisfied dependencies (a provider exists, at another version): 2 (1 soname drift)
  app 1-1   core  depends libfoo.so=1-64  have: libfoo 2-1 provides libfoo.so=2-64 [soname] (upstream has app 2-1)
  tool 1-1  core  depends glibc>=2.36     have: glibc 2.35-1

Blacklist: 2 (1 pkgbases blacklisted, 1 blocked, 1 unused entry)
  blacklisted (1):
    python  3.11-1 → 3.12-1  'python' waiting for the JIT (blacklist.txt:1)
  blocked (1):
    python-foo: blocked by python (blacklist: 'python' waiting for the JIT); needs python>=3.12
  unused (1):
    'nomatch*' old (blacklist.txt:2): matches nothing

Summary: 2 missing (1 provided by another), 3 outdated, 1 any-missing, 1 any-outdated, 1 wrong-repo, 1 duplicated, 1 target-newer, 3 target-only (1 orphaned), 1 broken, 2 unsatisfied (1 soname drift), 1 blacklisted, 1 blocked.
`

func TestCraftedHuman(t *testing.T) {
	r, err := Run(crafted(), Options{Files: testFiles})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := RenderHuman(&b, r, HumanOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != craftedHuman {
		t.Errorf("human view differs:\n%s", diffLines(got, craftedHuman))
	}
}

// diffLines shows the first differing line of two texts, with context.
func diffLines(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl + "\n\nwhole output:\n" + got
		}
	}
	return ""
}

func TestNoBlacklist(t *testing.T) {
	r, err := Run(crafted(), Options{NoBlacklist: true, Files: testFiles})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summary()
	// python is now an ordinary outdated pkgbase.
	if s.Blacklisted != 0 || s.Blocked != 0 || s.UnusedBlacklist != 0 || s.Outdated != 4 || !r.Blacklist.Off {
		t.Errorf("summary = %+v", s)
	}
	var b bytes.Buffer
	if err := RenderHuman(&b, r, HumanOptions{Sections: []string{"blacklist", "outdated"}}); err != nil {
		t.Fatal(err)
	}
	want := `Analysis of the aarch64 port (upstream x86_64)

  repo   upstream   target
  core   13         11
  extra  2          5
  forge  port-only  1

Outdated: 4
  app         1-1 → 2-1        core
  glibc       2.35-1 → 2.36-1  core
  python      3.11-1 → 3.12-1  core
  python-foo  0.9-1 → 1-1      core

Blacklist: ignored (--no-blacklist)
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestHumanOptions(t *testing.T) {
	r, err := Run(crafted(), Options{Files: testFiles})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := RenderHuman(&b, r, HumanOptions{Sections: []string{"outdated", "unsatisfied"}, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"Outdated: 3\n  app  1-1 → 2-1  core\n  ... and 2 more (--limit 0 or --json shows all)\n",
		"Unsatisfied dependencies (a provider exists, at another version): 2 (1 soname drift)\n  app 1-1  core",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Missing on the target") || strings.Contains(got, "Summary:") {
		t.Errorf("sections not selected are shown:\n%s", got)
	}
	b.Reset()
	if err := RenderHuman(&b, r, HumanOptions{Summary: true}); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); strings.Contains(got, "glibc") || !strings.Contains(got, "\nOutdated: 3\n\nMissing ARCH=any") {
		t.Errorf("--summary shows items:\n%s", got)
	}
	if err := RenderHuman(&b, r, HumanOptions{Sections: []string{"nosuch"}}); err == nil || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("unknown section: err = %v", err)
	}
}

func TestTargetOnlyFiles(t *testing.T) {
	r, err := Run(crafted(), Options{Files: testFiles})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := RenderFiles(&b, r, false); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "gone-1-1-aarch64.pkg.tar.zst\njdk-bin-17.0.1-1-aarch64.pkg.tar.zst\nlegacy-1-1-aarch64.pkg.tar.zst\n"; got != want {
		t.Errorf("files = %q, want %q", got, want)
	}
	b.Reset()
	RenderFiles(&b, r, true)
	if got, want := b.String(), "gone-1-1-aarch64.pkg.tar.zst\n"; got != want {
		t.Errorf("orphaned files = %q, want %q", got, want)
	}
}

func TestJSON(t *testing.T) {
	r, err := Run(crafted(), Options{Files: testFiles})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := RenderJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema  string         `json:"schema"`
		Summary map[string]int `json:"summary"`
		Missing []struct {
			Pkgbase    string `json:"pkgbase"`
			Needed     string `json:"needed"`
			ProvidedBy []struct {
				By      string `json:"by"`
				Provide string `json:"provide"`
			} `json:"provided_by"`
		} `json:"missing"`
		Unsatisfied []struct {
			Package    string `json:"package"`
			Kind       string `json:"kind"`
			Soname     bool   `json:"soname"`
			Upstream   string `json:"upstream"`
			Candidates []struct {
				Name, Version, Provide string
			} `json:"candidates"`
		} `json:"unsatisfied"`
		Blacklist struct {
			Blocked []struct {
				Chain   []string `json:"chain"`
				Message string   `json:"message"`
			} `json:"blocked"`
		} `json:"blacklist"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "portmake.analyze/v1" || doc.Summary["soname_drift"] != 1 || doc.Summary["orphaned"] != 1 {
		t.Errorf("schema/summary = %s %v", doc.Schema, doc.Summary)
	}
	if len(doc.Missing) != 2 || doc.Missing[0].Pkgbase != "jdk" || doc.Missing[0].ProvidedBy[0].Provide != "jdk=17" || doc.Missing[1].Needed != "depends of app (libnew)" {
		t.Errorf("missing = %+v", doc.Missing)
	}
	u := doc.Unsatisfied[0]
	if u.Package != "app" || u.Kind != "depends" || !u.Soname || u.Upstream != "2-1" || u.Candidates[0].Provide != "libfoo.so=2-64" {
		t.Errorf("unsatisfied = %+v", doc.Unsatisfied)
	}
	if c := doc.Blacklist.Blocked; len(c) != 1 || strings.Join(c[0].Chain, " ") != "python-foo python" {
		t.Errorf("blocked = %+v", c)
	}
	// Lists are never null, even in an empty report.
	b.Reset()
	empty, err := Run(&planner.Input{Arch: "aarch64"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	RenderJSON(&b, empty)
	if strings.Contains(b.String(), "null") {
		t.Errorf("null in JSON of an empty report:\n%s", b.String())
	}
}

// TestTestingOverlay: a target testing repository newer than its stable
// one is what the target has; an older one is ignored, as pacman and the
// planner do. Neither makes a duplicate.
func TestTestingOverlay(t *testing.T) {
	in := &planner.Input{Arch: "aarch64", Repos: []planner.RepoPair{{Name: "core",
		Upstream:      repo("core", "a 2-1", "b 2-1"),
		Target:        repo("core", "a 1-1 aarch64", "b 2-1 aarch64"),
		TargetTesting: repo("core-testing", "a 2-1 aarch64 d=nothere", "b 1-1 aarch64 d=nothere"),
	}}}
	r, err := Run(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summary()
	if s.Outdated != 0 || s.Duplicates != 0 || s.Broken != 1 || r.Broken[0].Package != "a" || r.Broken[0].Repo != "core-testing" {
		t.Errorf("summary = %+v, broken = %+v", s, r.Broken)
	}
}
