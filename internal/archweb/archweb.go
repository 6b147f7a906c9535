// Package archweb loads the corpus's full x86_64 package dump for tests and
// benchmarks. It is imported only from _test.go files.
package archweb

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/internal/testutil"
)

// archwebPackage is one line of the archlinux.org packages API dump.
type archwebPackage struct {
	Pkgname      string   `json:"pkgname"`
	Pkgbase      string   `json:"pkgbase"`
	Repo         string   `json:"repo"`
	Arch         string   `json:"arch"`
	Pkgver       string   `json:"pkgver"`
	Pkgrel       string   `json:"pkgrel"`
	Epoch        int      `json:"epoch"`
	Depends      []string `json:"depends"`
	MakeDepends  []string `json:"makedepends"`
	CheckDepends []string `json:"checkdepends"`
	Provides     []string `json:"provides"`
}

var (
	archwebOnce sync.Once
	archwebPkgs []*alpm.Package
	archwebRepo []string
	archwebErr  error
)

// Load returns the 14,562 packages of the corpus's full x86_64 dump and,
// for each, the repository it belongs to. It is read once per test binary;
// callers must not modify the packages.
func Load(tb testing.TB) ([]*alpm.Package, []string) {
	tb.Helper()
	path := filepath.Join(testutil.Corpus(tb), "archweb_x86_64_2024-11-29.jsonl.gz")
	archwebOnce.Do(func() {
		f, err := os.Open(path)
		if err != nil {
			archwebErr = err
			return
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			archwebErr = err
			return
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var a archwebPackage
			if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
				archwebErr = err
				return
			}
			v := a.Pkgver + "-" + a.Pkgrel
			if a.Epoch != 0 {
				v = strconv.Itoa(a.Epoch) + ":" + v
			}
			archwebPkgs = append(archwebPkgs, &alpm.Package{Name: a.Pkgname, Base: a.Pkgbase, Version: v, Arch: a.Arch,
				Depends: a.Depends, MakeDepends: a.MakeDepends, CheckDepends: a.CheckDepends, Provides: a.Provides})
			archwebRepo = append(archwebRepo, a.Repo)
		}
		archwebErr = sc.Err()
	})
	if archwebErr != nil {
		tb.Fatalf("read %s: %v", path, archwebErr)
	}
	return archwebPkgs, archwebRepo
}
