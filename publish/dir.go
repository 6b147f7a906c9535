package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Dir is a Backend on a local directory tree. Every write goes to a
// temporary file in the target's directory, is fsynced, and is renamed (or
// hard-linked, for IfNoneMatch) into place, and the directory is fsynced:
// a key holds either its old bytes or the whole new ones.
type Dir struct {
	Root string
	Log  *slog.Logger
}

// tmpPrefix starts every temporary file portmake writes in a repository
// directory; Recover removes them.
const tmpPrefix = ".portmake-"

func (d *Dir) String() string { return d.Root }

func (d *Dir) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if d.Root == "" {
		return "", errors.New("dir backend: no root directory")
	}
	return filepath.Join(d.Root, filepath.FromSlash(key)), nil
}

func (d *Dir) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.New(slog.DiscardHandler)
}

// etag is a cheap version token: inode, size and mtime change with every
// rename or rewrite.
func etag(st fs.FileInfo) string {
	var ino uint64
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = s.Ino
	}
	return strconv.FormatUint(ino, 16) + "-" + strconv.FormatInt(st.Size(), 16) + "-" + strconv.FormatInt(st.ModTime().UnixNano(), 16)
}

func (d *Dir) object(key string, st fs.FileInfo) Object {
	return Object{Key: key, Size: st.Size(), ETag: etag(st), ModTime: st.ModTime()}
}

func (d *Dir) Stat(_ context.Context, key string) (Object, error) {
	p, err := d.path(key)
	if err != nil {
		return Object{}, err
	}
	lst, err := os.Lstat(p)
	if err != nil {
		return Object{}, err
	}
	var link string
	if lst.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return Object{}, err
		}
	}
	st, err := os.Stat(p)
	if err != nil {
		return Object{}, err
	}
	if !st.Mode().IsRegular() {
		return Object{}, fmt.Errorf("%s: not a regular file", p)
	}
	o := d.object(key, st)
	o.Link = link
	return o, nil
}

func (d *Dir) Get(_ context.Context, key string, w io.Writer) (Object, error) {
	p, err := d.path(key)
	if err != nil {
		return Object{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return Object{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Object{}, err
	}
	if !st.Mode().IsRegular() {
		return Object{}, fmt.Errorf("%s: not a regular file", p)
	}
	dg := newDigest()
	if _, err := io.Copy(io.MultiWriter(w, dg), f); err != nil {
		return Object{}, fmt.Errorf("read %s: %w", p, err)
	}
	o := d.object(key, st)
	o.SHA256 = dg.SHA256()
	return o, nil
}

func (d *Dir) Put(_ context.Context, key string, src Source, cond Cond) (Object, error) {
	dst, err := d.path(key)
	if err != nil {
		return Object{}, err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return Object{}, err
	}
	in, err := os.Open(src.Path)
	if err != nil {
		return Object{}, err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), tmpPrefix+filepath.Base(dst)+".*")
	if err != nil {
		return Object{}, err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	dg := newDigest()
	if _, err := io.Copy(io.MultiWriter(tmp, dg), in); err != nil {
		return Object{}, fmt.Errorf("copy %s to %s: %w", src.Path, dst, err)
	}
	if err := src.check(dg); err != nil {
		return Object{}, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return Object{}, err
	}
	if err := tmp.Sync(); err != nil {
		return Object{}, err
	}
	if err := tmp.Close(); err != nil {
		return Object{}, err
	}
	switch {
	case cond.IfNoneMatch:
		// link(2) fails when dst exists: the create is exclusive.
		if err := os.Link(tmp.Name(), dst); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return Object{}, fmt.Errorf("%s: %w", dst, ErrPrecondition)
			}
			return Object{}, err
		}
		os.Remove(tmp.Name())
	default:
		if cond.IfMatch != "" {
			st, err := os.Stat(dst)
			if err != nil || etag(st) != cond.IfMatch {
				return Object{}, fmt.Errorf("%s: %w", dst, ErrPrecondition)
			}
		}
		if err := os.Rename(tmp.Name(), dst); err != nil {
			return Object{}, err
		}
	}
	done = true
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return Object{}, err
	}
	st, err := os.Stat(dst)
	if err != nil {
		return Object{}, err
	}
	o := d.object(key, st)
	o.SHA256 = dg.SHA256()
	return o, nil
}

func (d *Dir) Copy(ctx context.Context, src, dst, srcETag string, link bool) error {
	sp, err := d.path(src)
	if err != nil {
		return err
	}
	dp, err := d.path(dst)
	if err != nil {
		return err
	}
	st, err := os.Stat(sp)
	if err != nil {
		return err
	}
	if srcETag != "" && etag(st) != srcETag {
		return fmt.Errorf("%s: %w", sp, ErrPrecondition)
	}
	if link && path.Dir(src) == path.Dir(dst) {
		tmp := filepath.Join(filepath.Dir(dp), tmpPrefix+"link."+filepath.Base(dp)+"."+strconv.Itoa(os.Getpid()))
		os.Remove(tmp)
		if err := os.Symlink(filepath.Base(sp), tmp); err != nil {
			return err
		}
		if err := os.Rename(tmp, dp); err != nil {
			os.Remove(tmp)
			return err
		}
		return syncDir(filepath.Dir(dp))
	}
	_, err = d.Put(ctx, dst, Source{Path: sp, Size: -1}, Cond{})
	return err
}

func (d *Dir) Move(_ context.Context, src, dst string) error {
	sp, err := d.path(src)
	if err != nil {
		return err
	}
	dp, err := d.path(dst)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dp), 0o755); err != nil {
		return err
	}
	if err := os.Rename(sp, dp); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(dp)); err != nil {
		return err
	}
	if filepath.Dir(sp) != filepath.Dir(dp) {
		return syncDir(filepath.Dir(sp))
	}
	return nil
}

func (d *Dir) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (d *Dir) List(_ context.Context, dir string, recursive bool) ([]Object, error) {
	if !strings.HasSuffix(dir, "/") {
		return nil, fmt.Errorf("list %q: a directory key ends in '/'", dir)
	}
	root, err := d.path(dir)
	if err != nil {
		return nil, err
	}
	var out []Object
	err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if e.IsDir() {
			if p != root && !recursive {
				return fs.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		st, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		o := d.object(dir+filepath.ToSlash(rel), st)
		if st.Mode()&fs.ModeSymlink != 0 {
			o.Link, _ = os.Readlink(p)
		}
		out = append(out, o)
		return nil
	})
	return out, err
}

func (d *Dir) Lock(_ context.Context, key string) (func(), error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	return lockDB(p, d.log())
}

func (d *Dir) Exclusive() bool { return true }

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
