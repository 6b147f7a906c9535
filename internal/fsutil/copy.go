// Package fsutil holds the file-tree helpers that several packages share.
package fsutil

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// CopyTree copies the directory src to dst: regular files with their
// modes, directories (at least owner-writable, so the copy can be filled
// and removed) and symlinks as they are; sockets and fifos are left out.
// Existing files in dst are not overwritten: a copy into a used directory
// fails rather than mixing two trees. skip, when not nil, is asked for
// every path relative to src ("." is never asked); true leaves it (and,
// for a directory, everything below it) out.
func CopyTree(src, dst string, skip func(rel string, d fs.DirEntry) bool) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel != "." && skip != nil && skip(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case d.Type().IsRegular():
			return CopyFile(p, to, info.Mode().Perm())
		default:
			return nil // sockets, fifos: nothing a build needs
		}
	})
}

// CopyFile copies src to the new file dst (which must not exist) with
// mode perm.
func CopyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
