package publish

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/syncdb"
)

// bigRepo returns the .db and .files archives of a repository of n
// packages, each with a desc entry like a real one and a few files.
func bigRepo(tb testing.TB, n int) (db, files []byte) {
	tb.Helper()
	write := func(withFiles bool) []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
		tw := tar.NewWriter(zw)
		mtime := time.Unix(1700000000, 0)
		for i := range n {
			p := &alpm.Package{Name: fmt.Sprintf("pkg%05d", i), Version: "1.0-1", Arch: "aarch64", Desc: "a package of the big test repository",
				CSize: 123456, ISize: 654321, SHA256Sum: fmt.Sprintf("%064x", i), URL: "https://example.org", License: []string{"GPL"},
				BuildDate: 1700000000, Packager: "bench", Depends: []string{"glibc", "zlib"},
				Files: []string{"usr/", "usr/bin/", fmt.Sprintf("usr/bin/pkg%05d", i), fmt.Sprintf("usr/share/doc/pkg%05d/README", i)}}
			p.Filename = fmt.Sprintf("%s-%s-%s.pkg.tar.zst", p.Name, p.Version, p.Arch)
			dir := p.Name + "-" + p.Version + "/"
			members := [][2]string{{"desc", string(syncdb.FormatDesc(p))}}
			if withFiles {
				members = append(members, [2]string{"files", string(syncdb.FormatFiles(p))})
			}
			tw.WriteHeader(&tar.Header{Name: dir, Mode: 0o755, Typeflag: tar.TypeDir, ModTime: mtime})
			for _, m := range members {
				tw.WriteHeader(&tar.Header{Name: dir + m[0], Mode: 0o644, Size: int64(len(m[1])), Typeflag: tar.TypeReg, ModTime: mtime})
				tw.Write([]byte(m[1]))
			}
		}
		tw.Close()
		zw.Close()
		return buf.Bytes()
	}
	return write(false), write(true)
}

// BenchmarkS3Publish200Into14000 publishes 200 packages, one publish per
// build as apply does, into a 14,000-package repository on the in-process
// S3 server. One op is all 200. It takes minutes, so it runs only with
// PORTMAKE_PERF=1 (CI runs every benchmark once; the 10-package one
// stands for it there):
//
//	PORTMAKE_PERF=1 go test ./publish -run '^$' -bench BenchmarkS3Publish200Into14000 -benchtime 1x
func BenchmarkS3Publish200Into14000(b *testing.B) {
	if os.Getenv("PORTMAKE_PERF") == "" {
		b.Skip("set PORTMAKE_PERF=1 to publish 200 packages into a 14,000-package repository")
	}
	benchPublish(b, 14000, 200, false)
}

// BenchmarkS3Publish10Into14000 is the same with 10 packages, for
// profiling.
func BenchmarkS3Publish10Into14000(b *testing.B) {
	benchPublish(b, 14000, 10, false)
}

// BenchmarkS3Publish200Into14000Batch publishes the same 200 packages in
// one publish (one DB write).
func BenchmarkS3Publish200Into14000Batch(b *testing.B) {
	benchPublish(b, 14000, 200, true)
}

func benchPublish(b *testing.B, size, count int, batch bool) {
	srv := fakeS3(b)
	db, files := bigRepo(b, size)
	out := b.TempDir()
	var pkgs []File
	for i := range count {
		name := fmt.Sprintf("new%03d", i)
		pkgs = append(pkgs, mkpkg(b, filepath.Join(out, name), pkgSpec{name: name, ver: "1-1", payload: name}))
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		prefix := fmt.Sprintf("run%d", i)
		for kind, data := range map[string][]byte{"db": db, "files": files} {
			if err := srv.PutObject(testBucket, prefix+"/extra/os/aarch64/extra."+kind+".tar.gz", data); err != nil {
				b.Fatal(err)
			}
		}
		_, r := s3Repo(b, srv, s3Target{Prefix: prefix})
		b.StartTimer()
		if batch {
			if _, err := r.Publish(ctx, pkgs); err != nil {
				b.Fatal(err)
			}
		} else {
			for _, f := range pkgs {
				if _, err := r.Publish(ctx, []File{f}); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StopTimer()
		if got := readBack(b, r.Backend, r.DBKey()); len(got.Packages) != size+count {
			b.Fatalf("%d packages listed, want %d", len(got.Packages), size+count)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(count), "ms/package")
}
