package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/portmake/portmake/alpm/srcinfo"
)

// defaultBuildUser matches testutil.BuildUser and the CI image.
const defaultBuildUser = "builder"

// localSrcinfo reads dir/.SRCINFO, or asks makepkg to print one. A
// .SRCINFO that exists is trusted as it is (it is what the AUR and most
// tooling read too), but one that disagrees with what its PKGBUILD plainly
// says is worth a warning (see stale.go).
func (r *Resolver) localSrcinfo(ctx context.Context, dir string) (*srcinfo.Srcinfo, error) {
	path := filepath.Join(dir, ".SRCINFO")
	si, err := srcinfo.ParseFile(path)
	if err == nil {
		if pkgbuild, err := os.ReadFile(filepath.Join(dir, "PKGBUILD")); err == nil {
			if drift := srcinfoDrift(pkgbuild, si); len(drift) > 0 {
				r.log().Warn(".SRCINFO is stale: "+strings.Join(drift, "; ")+" (run makepkg --printsrcinfo > .SRCINFO)", "dir", dir)
			}
		}
		return si, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	if _, err := exec.LookPath("makepkg"); err != nil {
		return nil, fmt.Errorf("no .SRCINFO in %s and makepkg is not installed; run makepkg --printsrcinfo > .SRCINFO", dir)
	}
	name, args := "makepkg", []string{"--printsrcinfo"}
	if os.Geteuid() == 0 {
		// makepkg refuses to run as root; the directory must be readable
		// by the build user.
		user := r.BuildUser
		if user == "" {
			user = defaultBuildUser
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			return nil, fmt.Errorf("no .SRCINFO in %s, and makepkg cannot run as root and runuser is not installed; run makepkg --printsrcinfo > .SRCINFO", dir)
		}
		name, args = "runuser", append([]string{"-u", user, "--", "makepkg"}, args...)
	}
	// makepkg insists that BUILDDIR is writable even to print metadata, and
	// the source dir may not be writable by the build user: give it a
	// scratch directory of its own.
	scratch, err := os.MkdirTemp("", "portmake-srcinfo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	if os.Geteuid() == 0 {
		if err := chownToUser(scratch, args[1]); err != nil {
			return nil, err
		}
	}
	out, err := r.run(ctx, r.gitTimeout(), dir, []string{"BUILDDIR=" + scratch}, name, args...)
	if err != nil {
		return nil, fmt.Errorf("no .SRCINFO, and makepkg --printsrcinfo failed: %w", err)
	}
	si, err = srcinfo.Parse(bytes.NewReader(out), filepath.Join(dir, "PKGBUILD")+" (makepkg --printsrcinfo)")
	if err != nil {
		return nil, err
	}
	return si, nil
}

// chownToUser hands dir to the named user.
func chownToUser(dir, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("build user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}
