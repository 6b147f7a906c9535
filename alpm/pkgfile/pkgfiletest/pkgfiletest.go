// Package pkgfiletest builds small, real pacman package files for tests and
// testscript fixtures, without makepkg: a tar archive holding .PKGINFO first
// and then the given files, compressed like makepkg would.
//
// It is for tests only. The packages it writes are real enough for pacman,
// bsdtar and repo-add to read, but they carry no .MTREE or .BUILDINFO and
// their .PKGINFO is exactly the text the caller gives, unchecked.
package pkgfiletest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// File is one archive member. A name ending in '/' is a directory; Link, when
// set, makes a symlink.
type File struct {
	Name string
	Data []byte
	Mode int64 // 0 means 0644 for files and 0755 for directories
	Link string
}

// Build writes a package archive holding pkginfo as .PKGINFO and files, in
// this order, with the compression named by ext (".pkg.tar.zst",
// ".pkg.tar.gz", ".pkg.tar.xz" or ".pkg.tar"), into dir. The file is named
// <pkgname>-<pkgver>-<arch><ext> from pkginfo's values. Parent directories
// that files need and do not list are added, like makepkg's archives have
// them. Every entry gets the builddate as its mtime (0 if none) and root
// ownership, so the same input always gives the same bytes. It returns the
// path of the new file.
func Build(dir string, pkginfo []byte, files []File, ext string) (string, error) {
	kv := scalars(pkginfo)
	if kv["pkgname"] == "" || kv["pkgver"] == "" {
		return "", fmt.Errorf("pkgfiletest: .PKGINFO needs pkgname and pkgver")
	}
	arch := kv["arch"]
	if arch == "" {
		arch = "any"
	}
	mtime := time.Unix(0, 0)
	if n, err := strconv.ParseInt(kv["builddate"], 10, 64); err == nil {
		mtime = time.Unix(n, 0)
	}
	data, err := Archive(pkginfo, files, mtime, ext)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, kv["pkgname"]+"-"+kv["pkgver"]+"-"+arch+ext)
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return "", err
	}
	return out, nil
}

// Archive returns the bytes of a package archive; see Build. A nil pkginfo
// leaves .PKGINFO out, to test what readers do with a broken package.
func Archive(pkginfo []byte, files []File, mtime time.Time, ext string) ([]byte, error) {
	var buf bytes.Buffer
	var w io.WriteCloser
	switch ext {
	case ".pkg.tar.zst":
		zw, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		w = zw
	case ".pkg.tar.gz":
		w = gzip.NewWriter(&buf)
	case ".pkg.tar.xz":
		xw, err := xz.NewWriter(&buf)
		if err != nil {
			return nil, err
		}
		w = xw
	case ".pkg.tar":
		w = nopCloser{&buf}
	default:
		return nil, fmt.Errorf("pkgfiletest: unsupported extension %q", ext)
	}
	tw := tar.NewWriter(w)
	hdr := func(h *tar.Header) error {
		h.ModTime, h.Uname, h.Gname, h.Format = mtime, "root", "root", tar.FormatPAX
		return tw.WriteHeader(h)
	}
	if pkginfo != nil {
		if err := hdr(&tar.Header{Name: ".PKGINFO", Mode: 0o644, Size: int64(len(pkginfo)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(pkginfo); err != nil {
			return nil, err
		}
	}
	for _, f := range withParents(files) {
		h := &tar.Header{Name: f.Name, Mode: f.Mode}
		switch {
		case strings.HasSuffix(f.Name, "/"):
			h.Typeflag = tar.TypeDir
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		case f.Link != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, f.Link, 0o777
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
			if h.Mode == 0 {
				h.Mode = 0o644
			}
		}
		if err := hdr(h); err != nil {
			return nil, fmt.Errorf("pkgfiletest: %s: %w", f.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// withParents adds the missing parent directories of files and sorts the
// result, so that every directory comes before its contents.
func withParents(files []File) []File {
	have := map[string]bool{}
	for _, f := range files {
		have[f.Name] = true
	}
	out := append([]File(nil), files...)
	for _, f := range files {
		for d := path.Dir(strings.TrimSuffix(f.Name, "/")); d != "." && d != "/"; d = path.Dir(d) {
			if !have[d+"/"] {
				have[d+"/"] = true
				out = append(out, File{Name: d + "/"})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DirFiles reads the tree under root into Files, with slash-separated names
// relative to root, directories ending in '/'. Symlinks are kept as links.
func DirFiles(root string) ([]File, error) {
	var out []File
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		name := filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			out = append(out, File{Name: name + "/", Mode: int64(info.Mode().Perm())})
		case info.Mode()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, File{Name: name, Link: l})
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out = append(out, File{Name: name, Data: data, Mode: int64(info.Mode().Perm())})
		}
		return nil
	})
	return out, err
}

var kvLine = regexp.MustCompile(`^\s*([a-z]+)\s*=\s*(.*?)\s*$`)

// scalars returns the last value of each key; enough to name the file.
func scalars(pkginfo []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(pkginfo), "\n") {
		if sm := kvLine.FindStringSubmatch(line); sm != nil {
			m[sm[1]] = sm[2]
		}
	}
	return m
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
