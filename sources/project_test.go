package sources

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portmake/portmake/internal/testutil"
)

func TestProjectPath(t *testing.T) {
	tests := []struct{ in, want string }{
		// Real Arch pkgbases whose project path differs from the name.
		{"libsigc++", "libsigcplusplus"},
		{"libsigc++-3.0", "libsigcplusplus-3.0"},
		{"mysql++", "mysqlplusplus"},
		{"libxml++", "libxmlplusplus"},
		{"libxml++2.6", "libxmlplusplus2.6"},
		{"gtk+", "gtkplus"},
		{"gtk2+extra", "gtk2-extra"},
		{"dvd+rw-tools", "dvd-rw-tools"},
		{"memtest86+", "memtest86plus"},
		{"memtest86+-efi", "memtest86plus-efi"},
		{"libc++", "libcplusplus"},
		{"afl++", "aflplusplus"},
		{"bonnie++", "bonnieplusplus"},
		{"crypto++", "cryptoplusplus"},
		{"dbus-c++", "dbus-cplusplus"},
		{"tree", "unix-tree"},
		{"tree-sitter", "tree-sitter"},
		{"python-tree", "python-tree"},
		// Underscores: a single one stays, runs collapse.
		{"libnetfilter_queue", "libnetfilter_queue"},
		{"lib32-sdl2_image", "lib32-sdl2_image"},
		{"foo__bar", "foo-bar"},
		{"foo_-bar", "foo-bar"},
		{"foo-_-bar", "foo-bar"},
		// '@' is valid in a package name but not in a project path.
		{"foo@bar", "foo-bar"},
		{"foo@-bar", "foo-bar"},
		// Rule 1 consumes the letters after a '+': only the first of
		// "a+b+c" is a join, exactly as sed's non-overlapping /g does.
		{"a+b+c", "a-bplusc"},
		{"a+b1+c", "a-b1-c"},
		{"a+1", "aplus1"},
		{"+a", "plusa"},
		{"a++b", "aplusplusb"},
		{"c+", "cplus"},
		{"glibc", "glibc"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ProjectPath(tt.in); got != tt.want {
			t.Errorf("ProjectPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := projectPathRegexp(tt.in); got != tt.want {
			t.Errorf("reference projectPathRegexp(%q) = %q, want %q (the table is wrong)", tt.in, got, tt.want)
		}
	}
}

// projectPathRegexp is devtools' gitlab_project_name_to_path written with
// the same regular expressions, the reference ProjectPath is held to.
var (
	refJoin    = regexp.MustCompile(`([a-zA-Z0-9]+)\+([a-zA-Z]+)`)
	refSpecial = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)
	refRuns    = regexp.MustCompile(`[_-]{2,}`)
)

func projectPathRegexp(s string) string {
	s = refJoin.ReplaceAllString(s, "$1-$2")
	s = strings.ReplaceAll(s, "+", "plus")
	s = refSpecial.ReplaceAllString(s, "-")
	s = refRuns.ReplaceAllString(s, "-")
	if s == "tree" {
		return "unix-tree"
	}
	return s
}

// TestProjectPathRealPkgbases runs every pkgbase of the real archweb dump
// through ProjectPath and through devtools' own sed pipeline.
func TestProjectPathRealPkgbases(t *testing.T) {
	testutil.RequireTool(t, "sed")
	corpus := testutil.Corpus(t)
	f, err := os.Open(filepath.Join(corpus, "archweb_x86_64_2024-11-29.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var rec struct {
			Pkgbase string `json:"pkgbase"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		seen[rec.Pkgbase] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) < 10000 {
		t.Fatalf("only %d pkgbases in the corpus", len(names))
	}
	// The exact pipeline of devtools' src/lib/api/gitlab.sh, one name a line.
	cmd := exec.Command("sed", "-E",
		"-e", `s/([a-zA-Z0-9]+)\+([a-zA-Z]+)/\1-\2/g`,
		"-e", `s/\+/plus/g`,
		"-e", `s/[^a-zA-Z0-9_\-\.]/-/g`,
		"-e", `s/[_\-]{2,}/-/g`,
		"-e", `s/^tree$/unix-tree/g`)
	cmd.Stdin = strings.NewReader(strings.Join(names, "\n") + "\n")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(string(bytes.TrimSpace(out)), "\n"), "\n")
	if len(want) != len(names) {
		t.Fatalf("sed printed %d lines for %d names", len(want), len(names))
	}
	changed := 0
	for i, n := range names {
		got := ProjectPath(n)
		if got != want[i] {
			t.Errorf("ProjectPath(%q) = %q, devtools says %q", n, got, want[i])
		}
		if got != n {
			changed++
		}
	}
	// The dump has dozens of names with '+' and "tree"; if none changed
	// the comparison above proved nothing.
	if changed < 10 {
		t.Errorf("only %d of %d names map to another path", changed, len(names))
	}
}

func FuzzProjectPath(f *testing.F) {
	for _, s := range []string{"libsigc++", "a+b+c", "a+b1+c", "gtk2+extra", "tree", "foo__bar", "x@y", "é+a", "\xff+a", "1+1", "a-+-b", "+", "_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ProjectPath(s), projectPathRegexp(s); got != want {
			t.Fatalf("ProjectPath(%q) = %q, regexp form says %q", s, got, want)
		}
	})
}

func TestVersionTag(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.2-1", "1.2-1"},
		{"1:2.0-1", "1-2.0-1"},
		{"17:4.3.2-10", "17-4.3.2-10"},
		{"1.0~rc1-1", "1.0.rc1-1"},
		{"2:1.0~beta2-3.1", "2-1.0.beta2-3.1"},
		{"33-1", "33-1"},
	}
	for _, tt := range tests {
		if got := VersionTag(tt.in); got != tt.want {
			t.Errorf("VersionTag(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkProjectPath(b *testing.B) {
	names := []string{"glibc", "libsigc++", "python-requests", "gtk2+extra", "libnetfilter_queue", "tree"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ProjectPath(names[i%len(names)])
	}
}
