package sources

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portmake/portmake/alpm/srcinfo"
	"github.com/portmake/portmake/internal/testutil"
)

const splitSrcinfo = `pkgbase = demo-split
	pkgver = 2.1
	pkgrel = 1
	arch = x86_64

pkgname = demo-split-bin

pkgname = demo-split-data
`

func parseSrcinfo(t *testing.T, text string) *srcinfo.Srcinfo {
	t.Helper()
	si, err := srcinfo.Parse(strings.NewReader(text), "test/.SRCINFO")
	if err != nil {
		t.Fatal(err)
	}
	return si
}

func TestSrcinfoDrift(t *testing.T) {
	si := parseSrcinfo(t, splitSrcinfo)
	tests := []struct {
		name, pkgbuild string
		want           []string
	}{
		{"agrees", "pkgbase=demo-split\npkgname=(demo-split-bin demo-split-data)\npkgver=2.1\npkgrel=1\n", nil},
		{"quoted, commented, multi-line array", "pkgbase='demo-split'\npkgname=(\n  'demo-split-bin'\n  \"demo-split-data\" # data\n)\npkgver=\"2.1\" # upstream\npkgrel=1\n", nil},
		{"pkgrel bumped", "pkgbase=demo-split\npkgname=(demo-split-bin demo-split-data)\npkgver=2.1\npkgrel=2\n",
			[]string{`pkgrel: PKGBUILD says "2", .SRCINFO "1"`}},
		{"new version and a new split package", "pkgbase=demo-split\npkgname=(demo-split-bin demo-split-data demo-split-doc)\npkgver=2.2\npkgrel=1\n",
			[]string{`pkgver: PKGBUILD says "2.2", .SRCINFO "2.1"`, "pkgname: PKGBUILD says demo-split-bin demo-split-data demo-split-doc, .SRCINFO demo-split-bin demo-split-data"}},
		{"epoch added", "pkgbase=demo-split\nepoch=1\npkgver=2.1\npkgrel=1\n", []string{`epoch: PKGBUILD says "1", .SRCINFO ""`}},
		{"the last assignment wins", "pkgrel=5\npkgrel=1\n", nil},
		// What only bash could tell is not compared.
		{"computed values", "_ver=2.2\npkgver=${_ver}\npkgrel=$((1+1))\npkgname=(demo-split-{bin,data})\n", nil},
		{"indented (inside a function or an if)", "  pkgrel=9\npackage() {\n\tpkgver=7\n}\n", nil},
		{"a later computed value hides an earlier literal", "pkgrel=9\npkgrel=\"$x\"\n", nil},
		{"appended to in a loop", "pkgname=(demo-split-bin)\nfor l in a b; do\n  pkgname+=(demo-split-$l)\ndone\n", nil},
		{"assigned again in a condition", "pkgrel=7\n[[ $CARCH == aarch64 ]] && pkgrel=1\n", nil},
	}
	for _, tt := range tests {
		got := srcinfoDrift([]byte(tt.pkgbuild), si)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: drift %q, want %q", tt.name, got, tt.want)
		}
	}
}

// captureWarnings returns a logger and the warnings it receives.
func captureWarnings() (*slog.Logger, *strings.Builder) {
	var b strings.Builder
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelWarn})), &b
}

// TestLocalSrcinfoStaleByContent: a PKGBUILD newer than its .SRCINFO (as
// every fresh clone has it) is no warning; one that says another pkgrel
// is, whatever the times.
func TestLocalSrcinfoStaleByContent(t *testing.T) {
	dir := t.TempDir()
	pkgbuild := "pkgbase=demo-split\npkgname=(demo-split-bin demo-split-data)\npkgver=2.1\npkgrel=1\narch=(x86_64)\n"
	os.WriteFile(filepath.Join(dir, ".SRCINFO"), []byte(splitSrcinfo), 0o644)
	os.WriteFile(filepath.Join(dir, "PKGBUILD"), []byte(pkgbuild), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, ".SRCINFO"), old, old)

	log, warnings := captureWarnings()
	r := &Resolver{Log: log}
	if _, err := r.localSrcinfo(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if warnings.Len() != 0 {
		t.Errorf("a .SRCINFO older than an agreeing PKGBUILD: %s", warnings)
	}

	os.WriteFile(filepath.Join(dir, "PKGBUILD"), []byte(strings.Replace(pkgbuild, "pkgrel=1", "pkgrel=2", 1)), 0o644)
	os.Chtimes(filepath.Join(dir, "PKGBUILD"), old.Add(-time.Hour), old.Add(-time.Hour)) // and older, to boot
	if _, err := r.localSrcinfo(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warnings.String(), `.SRCINFO is stale: pkgrel: PKGBUILD says \"2\", .SRCINFO \"1\"`) {
		t.Errorf("warnings: %s", warnings)
	}
}

// TestSrcinfoDriftALARM runs the check over the ALARM PKGBUILDs of the
// corpus that ship a .SRCINFO (some of which are stale): the ones it flags
// must really differ in the values it quotes, and most must agree.
func TestSrcinfoDriftALARM(t *testing.T) {
	root := filepath.Join(testutil.Corpus(t), "pkgbuilds", "alarm")
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "*", ".SRCINFO"))
	if len(dirs) < 100 {
		t.Fatalf("%d .SRCINFO files under %s", len(dirs), root)
	}
	stale := 0
	for _, f := range dirs {
		dir := filepath.Dir(f)
		si, err := srcinfo.ParseFile(f)
		if err != nil {
			continue
		}
		pkgbuild, err := os.ReadFile(filepath.Join(dir, "PKGBUILD"))
		if err != nil {
			continue
		}
		drift := srcinfoDrift(pkgbuild, si)
		if len(drift) > 0 {
			stale++
			t.Logf("%s: %s", strings.TrimPrefix(dir, root+"/"), strings.Join(drift, "; "))
		}
		// Every quoted PKGBUILD value is really in the PKGBUILD.
		for _, d := range drift {
			if _, after, ok := strings.Cut(d, `PKGBUILD says "`); ok {
				v, _, _ := strings.Cut(after, `"`)
				if !strings.Contains(string(pkgbuild), v) {
					t.Errorf("%s: %q is not in the PKGBUILD", dir, v)
				}
			}
		}
	}
	if stale == 0 || stale > len(dirs)/4 {
		t.Errorf("%d of %d flagged as stale", stale, len(dirs))
	}
	t.Logf("%d of %d .SRCINFO files disagree with their PKGBUILD", stale, len(dirs))
}

// FuzzLiteralAssignments: reading a PKGBUILD as text never panics, and
// what it takes for a literal value holds nothing bash would expand.
func FuzzLiteralAssignments(f *testing.F) {
	f.Add("pkgbase=demo\npkgname=(a 'b' \"c\")\npkgver=1.0\npkgrel=1\nepoch=2\n")
	f.Add("pkgname=(\n  a # x\n  b\n)\npkgrel=$x\n  pkgrel+=1\n")
	f.Add("pkgver=\"1.0\npkgrel='2\n")
	f.Add("pkgver='$x'\npkgrel='a\\b'\n")
	f.Fuzz(func(t *testing.T, pkgbuild string) {
		for key, words := range literalAssignments([]byte(pkgbuild)) {
			if len(words) == 0 || (key != "pkgname" && len(words) != 1) {
				t.Errorf("%s: %q", key, words)
			}
			for _, w := range words {
				if strings.ContainsAny(w, "$`\\\n") {
					t.Errorf("%s: %q is not a literal", key, w)
				}
			}
		}
	})
}
