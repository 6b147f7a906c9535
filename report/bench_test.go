package report

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/internal/testutil"
	"github.com/portmake/portmake/planner"
)

// BenchmarkRender renders the page of a large plan: every pkgbase of the
// corpus's 2022 x86_64 core and extra rebuilt for aarch64 (about 2,900
// builds in the table), with the fixture's history. It reports the page
// size.
func BenchmarkRender(b *testing.B) {
	dir := filepath.Join(testutil.Corpus(b), "syncdb")
	in := &planner.Input{Arch: "aarch64", UpstreamArch: "x86_64", Options: planner.Options{RebuildRepos: []string{"core", "extra"}}}
	for _, r := range []string{"core", "extra"} {
		up, err := syncdb.ReadIndexFile(filepath.Join(dir, "x86_64-2022-09-12", r+".db.tar.gz"))
		if err != nil {
			b.Fatal(err)
		}
		tg, err := syncdb.ReadIndexFile(filepath.Join(dir, "aarch64-2022-11-19-alarm", r+".db"))
		if err != nil {
			b.Fatal(err)
		}
		in.Repos = append(in.Repos, planner.RepoPair{Name: r, Upstream: &planner.Repo{Name: r, Packages: up.Packages}, Target: &planner.Repo{Name: r, Packages: tg.Packages}})
	}
	p, err := planner.Build(in)
	if err != nil {
		b.Fatal(err)
	}
	f := newFixture(b)
	d, err := Load(context.Background(), f.st, "aarch64 port", LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	d.Plan = p
	var buf bytes.Buffer
	if err := Render(&buf, d); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Render(io.Discard, d); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "page-bytes")
	b.ReportMetric(float64(len(p.Nodes)), "builds")
}

// BenchmarkLoad reads the fixture's store as the report and the live
// status page do on every request.
func BenchmarkLoad(b *testing.B) {
	f := newFixture(b)
	st := f.st
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(context.Background(), st, "x", LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
