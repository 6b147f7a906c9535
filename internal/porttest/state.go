// Package porttest builds the fixtures that tests of whole ports share: a
// packaging state repository generated from sync DB entries. It is
// imported only from _test.go files.
package porttest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/sources"
)

// MakeStateRepo commits one `pkgbase version tag commit` file per upstream
// pkgbase under <repo>-<arch>/, as Arch's packaging state repository holds
// them, into a new git repository at dir, and returns dir. repos[i] is the
// repository of pkgs[i]. The commits are made up (a hash of the pkgbase
// and version): plans resolve them, and nothing fetches them.
func MakeStateRepo(t testing.TB, dir string, pkgs []*alpm.Package, repos []string, arch string) string {
	t.Helper()
	best := map[string]*alpm.Package{}
	repoOf := map[string]string{}
	for i, p := range pkgs {
		if b := best[p.Base]; b == nil || alpm.Compare(p.Version, b.Version) > 0 {
			best[p.Base], repoOf[p.Base] = p, repos[i]
		}
	}
	for base, p := range best {
		sum := sha1.Sum([]byte(base + p.Version))
		d := filepath.Join(dir, repoOf[base]+"-"+arch)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("%s %s %s %s\n", base, p.Version, sources.VersionTag(p.Version), hex.EncodeToString(sum[:]))
		if err := os.WriteFile(filepath.Join(d, base), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"init", "-q", dir},
		{"-C", dir, "add", "-A"},
		{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "gc.auto=0", "commit", "-qm", "state"},
		// A served repository is packed; packing now also keeps a detached
		// auto gc from running during timed plans.
		{"-C", dir, "gc", "--quiet"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}
