package porttest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/syncdb"
)

// EncodeDB writes pkgs as a gzipped tar of NAME-VERSION/desc entries, with
// a directory member before each desc as repo-add writes them.
func EncodeDB(pkgs []*alpm.Package) ([]byte, error) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	mtime := time.Unix(1700000000, 0)
	for _, p := range pkgs {
		dir := p.Name + "-" + p.Version + "/"
		if err := tw.WriteHeader(&tar.Header{Name: dir, Mode: 0o755, Typeflag: tar.TypeDir, ModTime: mtime}); err != nil {
			return nil, err
		}
		desc := syncdb.FormatDesc(p)
		if err := tw.WriteHeader(&tar.Header{Name: dir + "desc", Mode: 0o644, Size: int64(len(desc)), Typeflag: tar.TypeReg, ModTime: mtime}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(desc); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteDB writes a gzip sync DB of pkgs to path (creating its directory),
// with a FILENAME for every entry, as repo-add writes them.
func WriteDB(t testing.TB, path string, pkgs []*alpm.Package) {
	t.Helper()
	var fixed []*alpm.Package
	for _, p := range pkgs {
		q := *p
		q.Filename = fmt.Sprintf("%s-%s-%s.pkg.tar.zst", p.Name, p.Version, p.Arch)
		fixed = append(fixed, &q)
	}
	data, err := EncodeDB(fixed)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
