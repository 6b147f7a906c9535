package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portmake/portmake/internal/testutil"
)

// batchInput is n A<TAB>B lines drawn from pacman's own vercmp cases, so the
// mix includes epochs, pkgrels, empty fields and alpha segments.
func batchInput(t testing.TB, n int) []byte {
	data, err := os.ReadFile(filepath.Join(testutil.Corpus(t), "vercmp", "pacman-vercmptest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		f := strings.Split(l, "\t")
		pairs = append(pairs, f[0]+"\t"+f[1]+"\n")
	}
	var buf bytes.Buffer
	for i := 0; i < n; i++ {
		buf.WriteString(pairs[i%len(pairs)])
	}
	return buf.Bytes()
}

func TestVercmpBatchMatchesVercmp(t *testing.T) {
	testutil.RequireTool(t, "vercmp")
	in := batchInput(t, 92)
	var out bytes.Buffer
	env := &Env{Ctx: context.Background(), Stdin: bytes.NewReader(in), Stdout: &out, Stderr: io.Discard}
	if err := vercmpBatch(env); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	lines := strings.Split(strings.TrimSpace(string(in)), "\n")
	if len(got) != len(lines) {
		t.Fatalf("%d results for %d lines", len(got), len(lines))
	}
	for i, l := range lines {
		a, b, _ := strings.Cut(l, "\t")
		want, err := exec.Command("vercmp", a, b).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got[i] != strings.TrimSpace(string(want)) {
			t.Errorf("line %d %q: got %s, vercmp says %s", i+1, l, got[i], want)
		}
	}
}

// BenchmarkVercmpBatch measures `portmake vercmp --batch` throughput and, on
// the same input, a C loop over libalpm's alpm_pkg_vercmp (built here with
// gcc against libalpm-dev). Both report ns per line.
func BenchmarkVercmpBatch(b *testing.B) {
	const lines = 1_000_000
	in := batchInput(b, lines)
	b.Run("portmake", func(b *testing.B) {
		for b.Loop() {
			env := &Env{Ctx: context.Background(), Stdin: bytes.NewReader(in), Stdout: io.Discard, Stderr: io.Discard}
			if err := vercmpBatch(env); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/line")
	})
	b.Run("libalpm", func(b *testing.B) {
		testutil.RequireTool(b, "gcc")
		if lib, _ := exec.Command("gcc", "-print-file-name=libalpm.so").Output(); !filepath.IsAbs(strings.TrimSpace(string(lib))) {
			b.Skip("libalpm-dev is not installed")
		}
		bin := filepath.Join(b.TempDir(), "vercmp_loop")
		if out, err := exec.Command("gcc", "-O2", "-o", bin, "testdata/vercmp_loop.c", "-lalpm").CombinedOutput(); err != nil {
			b.Fatalf("gcc: %v\n%s", err, out)
		}
		var total time.Duration
		for b.Loop() {
			cmd := exec.Command(bin)
			cmd.Stdin, cmd.Stdout = bytes.NewReader(in), io.Discard
			start := time.Now()
			if err := cmd.Run(); err != nil {
				b.Fatal(fmt.Errorf("vercmp_loop: %w", err))
			}
			total += time.Since(start)
		}
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N*lines), "ns/line")
	})
}
