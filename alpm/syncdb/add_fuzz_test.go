package syncdb_test

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/portmake/portmake/alpm/syncdb"
)

// FuzzAdd gives Add whatever bytes as the existing database (an
// uncompressed .db.tar, so that mutations reach the tar structure): it
// must never panic, and a database it writes must read back with the
// added package and every entry Read found before.
func FuzzAdd(f *testing.F) {
	seed := func(members ...[2]string) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, m := range members {
			h := &tar.Header{Name: m[0], Mode: 0o644, Size: int64(len(m[1])), Typeflag: tar.TypeReg}
			if m[0][len(m[0])-1] == '/' {
				h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
			}
			tw.WriteHeader(h)
			tw.Write([]byte(m[1]))
		}
		tw.Close()
		return buf.Bytes()
	}
	desc := "%FILENAME%\nold-1-1-x86_64.pkg.tar.zst\n\n%NAME%\nold\n\n%VERSION%\n1-1\n\n"
	f.Add(seed())
	f.Add(seed([2]string{"old-1-1/", ""}, [2]string{"old-1-1/desc", desc}))
	f.Add(seed([2]string{"alpha-0.9-1/", ""}, [2]string{"alpha-0.9-1/desc", "%FILENAME%\na.pkg.tar.zst\n\n%NAME%\nalpha\n\n%VERSION%\n0.9-1\n\n"},
		[2]string{"old-1-1/desc", desc}, [2]string{"old-1-1/depends", "%DEPENDS%\nglibc\n\n"}))
	pkgDir := f.TempDir()
	pkg := wBuild(f, pkgDir, "alpha", "1.0-1")
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		db := filepath.Join(dir, "core.db.tar")
		if err := os.WriteFile(db, data, 0o644); err != nil {
			t.Fatal(err)
		}
		before, readErr := syncdb.Read(bytes.NewReader(data), "core.db.tar")
		done := make(chan error, 1)
		go func() { done <- syncdb.Add(db, []string{pkg}, syncdb.AddOptions{}) }()
		var err error
		select {
		case err = <-done:
		case <-time.After(5 * time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("Add hangs on %q\n%s", data, buf[:runtime.Stack(buf, true)])
		}
		if err != nil {
			return
		}
		after, err := syncdb.ReadFile(db)
		if err != nil {
			t.Fatalf("Add wrote a database Read refuses: %v", err)
		}
		names := map[string]string{}
		for _, p := range after.Packages {
			names[p.Name] = p.Version
		}
		if names["alpha"] != "1.0-1" {
			t.Fatalf("the added package is missing: %v", names)
		}
		if readErr != nil {
			return
		}
		for _, p := range before.Packages {
			if p.Name != "alpha" && names[p.Name] != p.Version {
				t.Errorf("%s %s was lost (now %q)", p.Name, p.Version, names[p.Name])
			}
		}
	})
}
