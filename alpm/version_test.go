package alpm

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/portmake/portmake/internal/testutil"
)

// readCases reads a TSV of a<TAB>b<TAB>expected[<TAB>...] lines. Fields may
// be empty, so it splits on TAB only.
func readCases(t *testing.T, path string) [][3]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][3]string
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			t.Fatalf("%s:%d: want 3 fields, got %q", path, i+1, line)
		}
		if f[2] == "expected" {
			continue // header
		}
		out = append(out, [3]string{f[0], f[1], f[2]})
	}
	return out
}

func TestComparePacmanCases(t *testing.T) {
	dir := filepath.Join(testutil.Corpus(t), "vercmp")
	for _, file := range []string{"pacman-vercmptest.tsv", "alpm-types-cases.tsv"} {
		cases := readCases(t, filepath.Join(dir, file))
		if len(cases) < 40 {
			t.Fatalf("%s: only %d cases", file, len(cases))
		}
		for _, c := range cases {
			want, _ := strconv.Atoi(c[2])
			if got := Compare(c[0], c[1]); got != want {
				t.Errorf("%s: Compare(%q, %q) = %d, want %d", file, c[0], c[1], got, want)
			}
		}
	}
}

func TestCompareSurprises(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.0~rc1", "1.0", 1},
		{"1..0", "1.0", 1},
		{"1.0", "1.0.0", -1},
		{"1.0a", "1.0", -1},
		{"1.01", "1.1", 0},
		{"", "1", -1},
		{"", "", 0},
		{"1:1.0", "2.0", 1},
		{"0:1.0", "1.0", 0},
		{":1.0", "1.0", 0},
		{"1.0-5.1", "1.0-5", 1},
		{"1.0-5", "1.0", 0},
		{"123456789012345678901234567890", "99999999999999999999999999999", 1},
		{"1.000000000000000000000000000000001", "1.1", 0},
		{"1.0-1", "1.0-1-1", -1},
		{"a", "1", -1},
		{"1.0.a", "1.0.1", -1},
		{"1.0\xff1", "1.0.1", 0},
	} {
		if got := Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Compare(c.b, c.a); got != -c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestCompareDoesNotAllocate(t *testing.T) {
	a, b := "1:2.38.1+r3+g1f2e3d-2.1", "1:2.38.1+r3+g1f2e3d-2"
	if n := testing.AllocsPerRun(100, func() { Compare(a, b) }); n != 0 {
		t.Fatalf("Compare allocates %v times per call", n)
	}
}

func TestParseVersion(t *testing.T) {
	for _, c := range []struct {
		in                    string
		epoch, pkgver, pkgrel string
	}{
		{"1:2.3-4", "1", "2.3", "4"},
		{"2.3-4.1", "", "2.3", "4.1"},
		{"2.3", "", "2.3", ""},
		{"20:1-a-b", "20", "1-a", "b"},
	} {
		v := ParseVersion(c.in)
		if v.Epoch != c.epoch || v.Pkgver != c.pkgver || v.Pkgrel != c.pkgrel || v.String() != c.in {
			t.Errorf("ParseVersion(%q) = %+v", c.in, v)
		}
	}
}

// vercmpOracle runs the real /usr/bin/vercmp over a batch of pairs with one
// process per pair (vercmp has no batch mode).
func vercmpOracle(t testing.TB, a, b string) int {
	out, err := exec.Command("vercmp", a, b).Output()
	if err != nil {
		t.Fatalf("vercmp %q %q: %v", a, b, err)
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(out)))
	if err != nil {
		t.Fatalf("vercmp %q %q printed %q", a, b, out)
	}
	return n
}

// FuzzCompareVsPacman is a differential test against pacman's own vercmp:
// every seed (and, under go test -fuzz, every generated pair) must order the
// same way. The seeds run in every plain go test, and so in CI.
func FuzzCompareVsPacman(f *testing.F) {
	testutil.RequireTool(f, "vercmp")
	for _, file := range []string{"pacman-vercmptest.tsv", "alpm-types-cases.tsv"} {
		path := filepath.Join(testutil.Corpus(f), "vercmp", file)
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			p := strings.Split(sc.Text(), "\t")
			if len(p) >= 2 && p[2] != "expected" {
				f.Add(p[0], p[1])
			}
		}
	}
	for _, s := range [][2]string{
		{"1.0~rc1", "1.0"}, {"1..0", "1.0"}, {"1.0a", "1.0"}, {"1.01", "1.1"},
		{"", "1"}, {"1:", "1"}, {"-1", "1"}, {"1-", "1-0"}, {"1:2:3", "1:2"},
		{"99999999999999999999999", "99999999999999999999998"}, {"1.0-1.2.3", "1.0-1.2"},
		{"a.b-c", "a.b-c.d"}, {"1_0", "1.0"}, {"1.0+", "1.0"}, {"\xff1", "1"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		// vercmp takes its operands from argv: NUL cannot pass, and an
		// operand that looks like an option is not a version.
		if strings.ContainsRune(a, 0) || strings.ContainsRune(b, 0) ||
			strings.HasPrefix(a, "-") || strings.HasPrefix(b, "-") {
			t.Skip()
		}
		if got, want := Compare(a, b), vercmpOracle(t, a, b); got != want {
			t.Fatalf("Compare(%q, %q) = %d, pacman's vercmp says %d", a, b, got, want)
		}
	})
}

// benchVersions is a realistic mix taken from real sync databases: epochs,
// git-describe versions, dotted pkgrels, alpha suffixes.
var benchVersions = []string{
	"2.40+r16+gaa0c9d7dc3-1", "2.40+r16+gaa0c9d7dc3-2", "1:2.38.1-3", "1:2.38.1-3.1",
	"6.11.9.arch1-1", "6.11.10.arch1-1", "14.2.1+r134+gab884fffe3fc-1", "3.12.7-1",
	"3.12.7-1.1", "1.0rc1-1", "1.0-1", "2:9.1.0866-1", "0.9.10-1", "20240909-1",
	"1.7.0.r13.g0a8f3b2-1", "5.2.037-1",
}

func BenchmarkCompare(b *testing.B) {
	n := len(benchVersions)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Compare(benchVersions[i%n], benchVersions[(i*7+3)%n])
	}
}
