package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/portmake/portmake/proc"
)

// DefaultBuildUser is the unprivileged account makepkg runs as when
// portmake runs as root: makepkg refuses to run as root.
const DefaultBuildUser = "builder"

// asUser returns the argv prefix that drops to the build user when running
// as root, and nothing otherwise.
func asUser(name string) []string {
	if os.Geteuid() != 0 {
		return nil
	}
	if name == "" {
		name = DefaultBuildUser
	}
	return []string{"runuser", "-u", name, "--"}
}

// chownToUser hands path to the build user when running as root, so that
// makepkg, which runs as that user, can write there.
func chownToUser(name, path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if name == "" {
		name = DefaultBuildUser
	}
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("build user: %w (create it with useradd -m %s)", err, name)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.WalkDir(path, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// safeID matches job IDs that may name a directory.
var safeID = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func checkID(j *Job) error {
	if !safeID.MatchString(j.ID) || j.ID == "." || j.ID == ".." {
		return fmt.Errorf("job ID %q cannot name a directory", j.ID)
	}
	return nil
}

// copyName is the per-job name of a chroot working copy or build dir:
// unique per node, readable in `ls`.
func copyName(j *Job) string {
	id := j.ID
	if len(id) > 12 {
		id = id[:12]
	}
	return "portmake-" + j.Pkgbase + "-" + id
}

// packageList runs makepkg --packagelist (c) and returns the files it
// names, moved into outDir, keeping only those that exist when
// requireExist is set. makepkg computes the names from the PKGBUILD and
// PKGEXT, so only this build's own files are reported: never a stale
// version, nor another build's debug package, as a glob would.
//
// makepkg insists that PKGDEST, BUILDDIR and SRCDEST be writable by the user it
// runs as, even just to list names, and outDir and the source directory
// may belong to root (the chroot builder), so the listing runs against a
// scratch PKGDEST, BUILDDIR and SRCDEST owned by the build user and the names are
// then placed in outDir.
func packageList(ctx context.Context, c Command, user, outDir string, requireExist bool) ([]string, error) {
	scratch, err := os.MkdirTemp("", "portmake-packagelist-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	if err := chownToUser(user, scratch); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Dir = c.Dir
	// makepkg also insists on a writable BUILDDIR and SRCDEST (default: the PKGBUILD's
	// directory, which belongs to root for the chroot builder), though
	// listing names builds nothing: point it at the scratch directory too.
	cmd.Env = proc.MergeEnv(proc.WithoutEnv(os.Environ(), "PKGEXT", "PKGDEST", "SRCDEST", "BUILDDIR"), append(c.Env, "PKGDEST="+scratch, "BUILDDIR="+scratch, "SRCDEST="+scratch))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", c, err, strings.TrimSpace(stderr.String()))
	}
	var files []string
	for _, l := range strings.Split(stdout.String(), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		f := filepath.Join(outDir, filepath.Base(l))
		if requireExist {
			if _, err := os.Stat(f); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					continue // e.g. a debug package the build did not make
				}
				return nil, err
			}
		}
		files = append(files, f)
	}
	if requireExist && len(files) == 0 {
		return nil, fmt.Errorf("the build wrote none of the packages makepkg --packagelist names:\n%s", stdout.String())
	}
	return files, nil
}

// freshDir removes dir and makes it again, empty.
func freshDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}
