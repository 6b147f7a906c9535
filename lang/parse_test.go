package lang

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/portmake/portmake/internal/testutil"
)

func TestParseMakepkgVar(t *testing.T) {
	tests := []struct {
		src  string
		want ConfVar
	}{
		{`CARCH="aarch64"`, ConfVar{"aarch64", 1}},
		{"CARCH='armv7h'", ConfVar{"armv7h", 1}},
		{"CARCH=riscv64", ConfVar{"riscv64", 1}},
		{"  export CARCH=\"x86_64\" # host", ConfVar{"x86_64", 1}},
		{"#CARCH=\"x86_64\"\nCARCH=aarch64", ConfVar{"aarch64", 2}},
		{"CARCH=a\nCARCH=b\n", ConfVar{"b", 2}},
		{"CARCH=\"a\"b'c'", ConfVar{"abc", 1}},
		{`CARCH="a\"b"`, ConfVar{`a"b`, 1}},
		{`CARCH="a\b"`, ConfVar{`a\b`, 1}},
		{"CARCH=x; CHOST=y", ConfVar{"x", 1}},
		{"CARCH=$(uname -m)", ConfVar{}},
		{"CARCH=\"$ARCH\"", ConfVar{}},
		{"CARCH='unterminated", ConfVar{}},
		{"MYCARCH=x", ConfVar{}},
		{"CHOST=aarch64-unknown-linux-gnu", ConfVar{}},
		{"", ConfVar{}},
	}
	for _, tt := range tests {
		if got := ParseMakepkgVar([]byte(tt.src), "CARCH"); got != tt.want {
			t.Errorf("ParseMakepkgVar(%q) = %+v, want %+v", tt.src, got, tt.want)
		}
	}
}

// TestMakepkgConfTemplates reads CARCH from the shipped templates and from
// the host's makepkg.conf, the real format this parser must understand.
func TestMakepkgConfTemplates(t *testing.T) {
	for f, want := range map[string]string{
		"../chroot-config/makepkg.conf":               "aarch64",
		"../examples/demo/chroot-config/makepkg.conf": "aarch64",
	} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := ParseMakepkgVar(src, "CARCH").Value; got != want {
			t.Errorf("%s: CARCH %q, want %q", f, got, want)
		}
		if got := ParseMakepkgVar(src, "PKGEXT").Value; got != ".pkg.tar.zst" {
			t.Errorf("%s: PKGEXT %q", f, got)
		}
	}
	if src, err := os.ReadFile("/etc/makepkg.conf"); err == nil {
		if got := ParseMakepkgVar(src, "CARCH"); got.Value == "" {
			t.Errorf("/etc/makepkg.conf: no CARCH found")
		}
	}
}

func TestParseBlacklist(t *testing.T) {
	src := "# header\n\n  linux-rc   # release candidates\r\n*-bin\npython-[!a]*# glued\n\t#indented comment\nbad one\n"
	entries, diags := ParseBlacklist([]byte(src), "bl.txt")
	want := []Entry{
		{Pattern: "linux-rc", Reason: "release candidates"},
		{Pattern: "*-bin"},
		{Pattern: "python-[!a]*", Reason: "glued"},
	}
	lines := []int{3, 4, 5}
	if len(entries) != len(want) {
		t.Fatalf("entries = %+v", entries)
	}
	for i, e := range entries {
		if e.Pattern != want[i].Pattern || e.Reason != want[i].Reason {
			t.Errorf("entry %d = %q %q, want %q %q", i, e.Pattern, e.Reason, want[i].Pattern, want[i].Reason)
		}
		if e.Range.Start.Line != lines[i] || e.Range.Filename != "bl.txt" {
			t.Errorf("entry %d at %v", i, e.Range)
		}
	}
	if e := entries[0]; e.Range.Start.Column != 3 || string(src[e.Range.Start.Byte:e.Range.End.Byte]) != "linux-rc" {
		t.Errorf("range of %q does not cover it: %+v", e.Pattern, e.Range)
	}
	if len(diags) != 1 || diags[0].Subject.Start.Line != 7 {
		t.Errorf("diags = %v", diags)
	}
}

func TestBlacklistMatch(t *testing.T) {
	b := Blacklist{Entries: []Entry{{Pattern: "linux-rc"}, {Pattern: "*-bin"}, {Pattern: "python-[!a-m]*"}, {Pattern: "lib?"}}}
	tests := map[string]string{
		"linux-rc":     "linux-rc",
		"linux":        "",
		"yay-bin":      "*-bin",
		"bin":          "",
		"python-numpy": "python-[!a-m]*",
		"python-attrs": "",
		"libx":         "lib?",
		"libxx":        "",
	}
	for name, want := range tests {
		e, ok := b.Match(name)
		if ok != (want != "") || e.Pattern != want {
			t.Errorf("Match(%q) = %q %v, want %q", name, e.Pattern, ok, want)
		}
	}
}

// TestDemoPKGBUILDs runs the demo's local PKGBUILDs through the real
// makepkg, so the offline demo cannot ship a PKGBUILD that does not parse
// or build: --printsrcinfo for each, and a full build of the split package.
// -short skips it: a makepkg run costs 20 s or more on hosts where forking
// is slow.
func TestDemoPKGBUILDs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs makepkg; skipped with -short")
	}
	testutil.RequireTool(t, "makepkg", "fakeroot", "bsdtar")
	want := map[string][]string{
		"hello-port": {"hello-port"},
		"demo-split": {"demo-split-bin", "demo-split-data"},
		"demo-tools": {"demo-tools"},
	}
	for base, pkgnames := range want {
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			dir := testutil.BuilderDir(t)
			src, err := os.ReadFile(filepath.Join("..", "examples", "demo", "pkgbuilds", base, "PKGBUILD"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "PKGBUILD"), src, 0o644); err != nil {
				t.Fatal(err)
			}
			testutil.ChownTree(t, dir)
			info := string(testutil.Makepkg(t, dir, "--printsrcinfo"))
			var got []string
			for _, line := range strings.Split(info, "\n") {
				if name, ok := strings.CutPrefix(line, "pkgname = "); ok {
					got = append(got, name)
				}
			}
			if !reflect.DeepEqual(got, pkgnames) {
				t.Fatalf("pkgnames %v, want %v\n%s", got, pkgnames, info)
			}
			for _, arch := range []string{"arch = x86_64", "arch = aarch64"} {
				if !strings.Contains(info, arch) {
					t.Errorf("no %q in .SRCINFO", arch)
				}
			}
			if base != "demo-split" {
				return
			}
			testutil.Makepkg(t, dir, "--nodeps", "--noconfirm")
			for _, name := range pkgnames {
				m, _ := filepath.Glob(filepath.Join(dir, name+"-2.1-1-*.pkg.tar.zst"))
				if len(m) != 1 {
					t.Errorf("package %s not built", name)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "broken", "*.hcl"))
	seeds = append(seeds, "../Portfile.hcl.example", "../examples/demo/Portfile.hcl")
	for _, s := range seeds {
		if src, err := os.ReadFile(s); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte(`variable "x" { default = env("HOME") }` + "\nrepo \"a\" { target = \"${var.x}/a.db\" }\n"))
	for _, s := range []string{ // the bounds of bounds.go
		`variable "x" { default = [for a in range(3) : [for b in range(3) : "${a}${b}"]] }`,
		`variable "x" { default = "%{for a in [1, 2]}${a}%{endfor}" }`,
		"variable \"x\" {\n  default = <<EOT\n${1}\nEOT\n}\n",
		`variable "x" { default = ((((!!true)))) ? -(-1) : 1 + 2 * 3 }`,
		`variable "x" { default = jsondecode("[[[1]]]") }`,
		`variable "x" { default = format("%05d", 1) }`,
	} {
		f.Add([]byte(s))
	}
	dir := portDir(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		pf, diags := Parse(src, filepath.Join(dir, "Portfile.hcl"), LoadOptions{})
		if pf == nil {
			t.Fatal("nil Portfile")
		}
		for _, d := range diags {
			if d.Subject == nil {
				t.Fatalf("diagnostic without a subject: %v", d)
			}
			if d.Summary == "" {
				t.Fatalf("diagnostic without a summary: %v", d)
			}
		}
		if !diags.HasErrors() && len(pf.Hash) != 64 {
			t.Fatalf("valid Portfile without a hash")
		}
		if err := WriteDiagnostics(discard{}, pf.Files, diags, 0, false); err != nil {
			t.Fatal(err)
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func FuzzParseBlacklist(f *testing.F) {
	f.Add([]byte("linux-rc # why\n*-bin\n"))
	f.Add([]byte("bad one\n[\n\r\n#\n"))
	if src, err := os.ReadFile("../examples/port/blacklist.txt"); err == nil {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		entries, diags := ParseBlacklist(src, "bl.txt")
		for _, e := range entries {
			if checkGlob(e.Pattern) != "" {
				t.Fatalf("accepted bad pattern %q", e.Pattern)
			}
			if got := string(src[e.Range.Start.Byte:e.Range.End.Byte]); got != e.Pattern {
				t.Fatalf("range covers %q, not %q", got, e.Pattern)
			}
		}
		for _, d := range diags {
			if d.Subject == nil || d.Severity != hcl.DiagError {
				t.Fatalf("bad diagnostic %v", d)
			}
		}
	})
}

func FuzzParseMakepkgVar(f *testing.F) {
	f.Add([]byte("CARCH=\"aarch64\"\n"))
	f.Add([]byte("export CARCH='x' # c\nCARCH=\"a\\\"b\"\n"))
	if src, err := os.ReadFile("../chroot-config/makepkg.conf"); err == nil {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		v := ParseMakepkgVar(src, "CARCH")
		if v.Line < 0 || v.Line > strings.Count(string(src), "\n")+1 {
			t.Fatalf("line %d out of range", v.Line)
		}
		if v.Line == 0 && v.Value != "" {
			t.Fatalf("value %q without a line", v.Value)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	src, err := os.ReadFile("../Portfile.hcl.example")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, diags := Parse(src, "../Portfile.hcl.example", LoadOptions{}); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}

// BenchmarkBlacklistMatch is the planner's hot path: every pkgname and
// pkgbase of every sync DB is matched against the blacklist.
func BenchmarkBlacklistMatch(b *testing.B) {
	src, err := os.ReadFile("../examples/port/blacklist.txt")
	if err != nil {
		b.Fatal(err)
	}
	entries, _ := ParseBlacklist(src, "blacklist.txt")
	bl := Blacklist{Entries: append(entries, Entry{Pattern: "linux-rc"}, Entry{Pattern: "*-bin"})}
	names := []string{"glibc", "linux-aarch64", "python-numpy", "yay-bin", "gcc-libs", "lib32-glibc", "intel-ucode", "zstd"}
	b.ReportAllocs()
	for b.Loop() {
		for _, n := range names {
			bl.Match(n)
		}
	}
}
