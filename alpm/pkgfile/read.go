package pkgfile

import (
	"archive/tar"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/portmake/portmake/alpm/compress"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/portmake/portmake/alpm"
)

// MaxSigSize is the largest detached package signature repo-add accepts.
const MaxSigSize = 16384

// maxPKGINFO bounds the .PKGINFO read into memory; real ones are a few KiB.
const maxPKGINFO = 16 << 20

// Read reads the package file at path and returns everything repo-add puts
// into the package's desc and files entries: the .PKGINFO fields, FILENAME
// (the base name of path), CSIZE (the file's size), MD5SUM and SHA256SUM of
// the whole file, PGPSIG (the base64 of "<path>.sig" when that file exists)
// and Files, the sorted file list without the package's dot files.
//
// The file is read once, streaming: checksums are computed on the raw bytes
// while the archive is decompressed and listed. Compression (zstd, xz, gzip,
// bzip2 or none) is detected by magic bytes, not by the name.
func Read(path string) (*alpm.Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	base := filepath.Base(path)
	if strings.ContainsAny(base, "\n\r") {
		return nil, fmt.Errorf("%q: a package file name must not contain a line break", path)
	}

	md5h, shah := md5.New(), sha256.New()
	raw := io.TeeReader(f, io.MultiWriter(md5h, shah))
	pkginfo, files, err := scan(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// Whatever the decompressor did not need (trailing zero blocks and
	// padding) must still go through the checksums.
	if _, err := io.Copy(io.Discard, raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}

	p, err := ParsePKGINFO(pkginfo)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p.Filename = base
	p.CSize = st.Size()
	p.MD5Sum = hex.EncodeToString(md5h.Sum(nil))
	p.SHA256Sum = hex.EncodeToString(shah.Sum(nil))
	p.Files = files
	sig, err := ReadSig(path + ".sig")
	if err != nil {
		return nil, err
	}
	p.PGPSig = sig
	return p, nil
}

// ReadSig returns the base64 of a detached signature file as repo-add
// records it in %PGPSIG%, or "" when the file does not exist. Like repo-add
// it refuses ASCII-armored signatures and files over MaxSigSize bytes.
func ReadSig(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSigSize+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxSigSize {
		return "", fmt.Errorf("%s: signature larger than %d bytes", path, MaxSigSize)
	}
	if bytes.Contains(data, []byte("BEGIN PGP SIGNATURE")) {
		return "", fmt.Errorf("%s: armored signatures cannot be used for packages; use a binary signature (gpg --detach-sign without --armor)", path)
	}
	return base64.StdEncoding.EncodeToString(data), nil
}

// scan decompresses and walks the package archive, returning .PKGINFO and
// the file list. The list holds what `bsdtar --exclude='^.*' -tf pkg |
// LC_ALL=C sort -u` prints, which is what repo-add stores: every entry
// except those whose first path element (after any leading "./") starts
// with '.', such as .PKGINFO, .MTREE and .INSTALL.
func scan(r io.Reader) (pkginfo []byte, files []string, err error) {
	dr, _, err := compress.Decompress(r)
	if err != nil {
		return nil, nil, err
	}
	defer dr.Close()
	tr := tar.NewReader(dr)
	seen := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read archive: %w", err)
		}
		name := h.Name
		if trimDotSlash(name) == ".PKGINFO" && h.Typeflag == tar.TypeReg {
			if h.Size > maxPKGINFO {
				return nil, nil, fmt.Errorf(".PKGINFO is %d bytes, more than %d", h.Size, maxPKGINFO)
			}
			pkginfo, err = io.ReadAll(tr)
			if err != nil {
				return nil, nil, fmt.Errorf("read .PKGINFO: %w", err)
			}
			seen = true
			continue
		}
		if strings.HasPrefix(trimDotSlash(name), ".") {
			continue
		}
		files = append(files, name)
	}
	if !seen {
		return nil, nil, fmt.Errorf("not a package file: no .PKGINFO")
	}
	sort.Strings(files)
	out := files[:0]
	for i, f := range files {
		if i == 0 || f != files[i-1] {
			out = append(out, f)
		}
	}
	return pkginfo, out, nil
}

// trimDotSlash drops leading "/" and "./" the way libarchive's path matcher
// does before it matches an exclude pattern.
func trimDotSlash(s string) string {
	for {
		switch {
		case strings.HasPrefix(s, "/"):
			s = s[1:]
		case strings.HasPrefix(s, "./"):
			s = s[2:]
		default:
			return s
		}
	}
}
