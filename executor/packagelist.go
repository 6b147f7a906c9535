package executor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
)

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

// packageFile matches the name of a package file as makepkg writes it.
var packageFile = regexp.MustCompile(`^[A-Za-z0-9@._+-]+\.pkg\.tar(\.[a-z0-9]+)?$`)

// packageNames runs makepkg --packagelist in w's sandbox and returns the
// file names it prints. makepkg computes them from the PKGBUILD and
// PKGEXT, so only this build's own files are named: never a stale
// version, nor another build's debug package, as a glob would.
func (s *Sandbox) packageNames(ctx context.Context, w *workspace, env []string) ([]string, error) {
	out, err := s.evaluateIn(ctx, w, env, "--packagelist")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		name := path.Base(l)
		if !packageFile.MatchString(name) {
			return nil, fmt.Errorf("makepkg --packagelist named %q, which is not a package file name", l)
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, errors.New("makepkg --packagelist named no package")
	}
	return names, nil
}

// collectOutputs copies the named packages that exist in from (a build's
// PKGDEST, which the build user owns) to outDir, fresh files of portmake's
// own, and returns their paths and sha256 digests. From then on no build
// can change them: the copies are new inodes that no build process ever
// held open, in a directory the build user cannot write. A name that is
// not a regular file (a symlink to /etc/shadow, say) is refused.
func collectOutputs(names []string, from, outDir string) (files []string, sums map[string]string, err error) {
	if err := freshDir(outDir); err != nil {
		return nil, nil, fmt.Errorf("package destination: %w", err)
	}
	sums = map[string]string{}
	for _, name := range names {
		src := filepath.Join(from, name)
		fi, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // e.g. a debug package the build did not make
		}
		if err != nil {
			return nil, nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("build output %s is not a regular file (%s): refused", name, fi.Mode().Type())
		}
		dst := filepath.Join(outDir, name)
		sum, err := copyVerbatim(src, dst)
		if err != nil {
			return nil, nil, fmt.Errorf("copy build output %s: %w", name, err)
		}
		files = append(files, dst)
		sums[dst] = sum
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("the build wrote none of the packages makepkg --packagelist names: %s", strings.Join(names, ", "))
	}
	return files, sums, nil
}

// copyVerbatim copies the regular file src (never through a symlink) to
// the new file dst, mode 0644, and returns the sha256 of the bytes copied.
func copyVerbatim(src, dst string) (string, error) {
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer in.Close()
	if fi, err := in.Stat(); err != nil {
		return "", err
	} else if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", src)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), in); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// freshDir removes dir and makes it again, empty.
func freshDir(dir string) error {
	if err := removeTree(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}
