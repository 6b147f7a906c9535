package publish

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm/pkgfile"
	"github.com/portmake/portmake/fetch"
)

// mirror serves a directory over HTTP on loopback, as an Arch mirror
// serves <repo>/os/<arch>/.
func mirror(t *testing.T, dir string) string {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL + "/core/os/x86_64"
}

func fetcher(t *testing.T) Downloader {
	f := &fetch.Fetcher{CacheDir: t.TempDir(), Backoff: 1}
	return func(ctx context.Context, url string, check func(string) error) (string, error) {
		f.Check = func(_, path string) error { return check(path) }
		r, err := f.Fetch(ctx, url)
		if err != nil {
			return "", err
		}
		return r.Path, nil
	}
}

func TestDownloadChecksAgainstUpstreamDB(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	up := filepath.Join(root, "core", "os", "x86_64")
	a := mkpkg(t, up, pkgSpec{name: "iana-etc", ver: "20240305-1", arch: "any", payload: "ports"})
	b := mkpkg(t, up, pkgSpec{name: "python-setuptools", ver: "1:69.1.1-1", arch: "any", payload: "py"})
	os.WriteFile(a.Path+".sig", []byte("upstream signature of a"), 0o644)
	entry := func(f File) *SyncItem {
		p, err := pkgfile.Read(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		p.PGPSig = ""
		return &SyncItem{Pkg: p, BaseURL: mirror(t, root)}
	}
	ia, ib := entry(a), entry(b)
	// b has no .sig on the mirror: its DB entry carries one.
	ib.Pkg.PGPSig = base64.StdEncoding.EncodeToString([]byte("db signature of b"))
	out := t.TempDir()
	files, err := Download(ctx, []SyncItem{*ia, *ib}, out, fetcher(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].SHA256 != a.SHA256 || files[0].Origin != OriginSynced || filepath.Base(files[1].Path) != filepath.Base(b.Path) {
		t.Fatalf("downloaded %+v", files)
	}
	for f, want := range map[string]string{files[0].Path + ".sig": "upstream signature of a", files[1].Path + ".sig": "db signature of b"} {
		if got, _ := os.ReadFile(f); string(got) != want {
			t.Errorf("%s: %q, want %q", f, got, want)
		}
	}
	// Published unsigned by the port, a synced package keeps its upstream
	// signature.
	d, r := dirRepo(t)
	if _, err := r.Publish(ctx, files); err != nil {
		t.Fatal(err)
	}
	consistent(t, d, r)
	if p := readBack(t, d, r.DBKey()).Find("iana-etc"); p == nil || p.PGPSig != base64.StdEncoding.EncodeToString([]byte("upstream signature of a")) {
		t.Errorf("synced package lost its signature: %+v", p)
	}

	// A mirror serving other bytes than the DB lists is refused.
	tampered := mkpkg(t, t.TempDir(), pkgSpec{name: "iana-etc", ver: "20240305-1", arch: "any", payload: "evil"})
	copyFile(t, tampered.Path, a.Path)
	_, err = Download(ctx, []SyncItem{*ia}, t.TempDir(), fetcher(t))
	if !errors.Is(err, ErrMismatch) && (err == nil || !strings.Contains(err.Error(), "upstream DB lists")) {
		t.Errorf("a tampered mirror file: %v", err)
	}
	// A missing file names its URL.
	os.Remove(b.Path)
	if _, err := Download(ctx, []SyncItem{*ib}, t.TempDir(), fetcher(t)); err == nil || !strings.Contains(err.Error(), ib.URL()) {
		t.Errorf("a missing mirror file: %v", err)
	}
}
