package srcinfo

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/internal/testutil"
)

// FuzzParse: Parse never panics, every failure is a line-numbered *Error
// within the input, and every success satisfies the invariants the planner
// relies on. Seeds are the go-srcinfo and alpm-srcinfo fixtures (good and
// bad) plus a few inline edge cases, so plain go test runs them all.
func FuzzParse(f *testing.F) {
	f.Add("")
	f.Add(head + "pkgname = b\n")
	f.Add(head + "\tdepends_x86_64 = a\npkgname = b\n\tdepends_x86_64 =\n\tarch = x86_64\n")
	f.Add("pkgbase = b\r\npkgver = 1\r\npkgrel = 1.2\r\narch = any\r\npkgname = b\r\n\toptions =\r\n")
	dirs := []string{
		filepath.Join(goSrcinfoDir(f), "good", "*"),
		filepath.Join(goSrcinfoDir(f), "bad", "*"),
		filepath.Join(alpmDir(f), "correct", "*.srcinfo"),
		filepath.Join(alpmDir(f), "parse_errors", "*.srcinfo"),
	}
	for _, pattern := range dirs {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(data))
		}
	}
	f.Fuzz(func(t *testing.T, data string) {
		s, err := Parse(strings.NewReader(data), "fuzz")
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if lines := strings.Count(data, "\n") + 1; pe.Line < 1 || pe.Line > lines {
				t.Fatalf("error line %d outside the input's %d lines: %v", pe.Line, lines, err)
			}
			return
		}
		if err := alpm.CheckName(s.Base.Name); err != nil {
			t.Fatalf("accepted pkgbase: %v", err)
		}
		if checkPkgver(s.Base.PkgVer) != nil || checkPkgrel(s.Base.PkgRel) != nil || len(s.Base.Arch) == 0 {
			t.Fatalf("accepted incomplete pkgbase %+v", s.Base)
		}
		seen := map[string]bool{}
		for _, p := range s.Packages {
			if alpm.CheckName(p.Name) != nil || seen[p.Name] || len(p.Arch) == 0 {
				t.Fatalf("accepted package %+v", p)
			}
			seen[p.Name] = true
		}
		if len(s.Packages) == 0 {
			t.Fatal("accepted a file without packages")
		}
		// Parsing is deterministic.
		again, err := Parse(strings.NewReader(data), "fuzz")
		if err != nil || !reflect.DeepEqual(s, again) {
			t.Fatalf("second parse differs: %v", err)
		}
		for _, a := range append(s.Base.Arch, "x86_64") {
			if got := s.ForArch(a); len(got) != len(s.Packages) {
				t.Fatalf("ForArch(%s) returned %d packages for %d", a, len(got), len(s.Packages))
			}
		}
	})
}

// BenchmarkParse parses the go-srcinfo good fixtures, one file per
// iteration, so ns/op and allocs/op are per file.
func BenchmarkParse(b *testing.B) {
	files := glob(b, filepath.Join(goSrcinfoDir(b), "good", "*"), 500)
	data := make([][]byte, len(files))
	total := 0
	for i, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		data[i] = d
		total += len(d)
	}
	b.SetBytes(int64(total / len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := data[i%len(data)]
		if _, err := Parse(bytes.NewReader(d), "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForArch resolves the per-arch view of a large split package
// with arch-specific keys (ALARM's rust: 7 packages, 4 architectures).
func BenchmarkForArch(b *testing.B) {
	s, err := ParseFile(filepath.Join(testutil.Corpus(b), "pkgbuilds", "alarm", "extra", "rust", ".SRCINFO"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.ForArch("aarch64")
	}
}
