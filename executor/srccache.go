package executor

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/portmake/portmake/alpm/srcinfo"
)

// SourceCache keeps downloaded sources across builds without letting one
// build poison another's. Builds never see it: each build downloads into
// a private SRCDEST, which portmake fills beforehand with the cached files
// whose bytes match the checksums the PKGBUILD pins, and after makepkg
// has verified the downloads, portmake copies the new files in, checking
// the digests itself. Entries are named by content (<Dir>/<algo>/<digest>),
// not by file name, so two packages that both download "v1.0.tar.gz" never
// meet, and a file whose PKGBUILD pins no strong checksum (only SKIP, md5,
// sha1, b2 or cksum) is downloaded by every build instead of cached.
type SourceCache struct {
	Dir string // portmake's; "" disables the cache
}

// strongAlgos name cache entries, strongest first; only these can.
var strongAlgos = []string{"sha512", "sha384", "sha256", "sha224"}

var newHash = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha224": sha256.New224,
	"sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New,
}

// sourceFile is a downloaded source of a PKGBUILD: its file name in
// SRCDEST and the digests it must have.
type sourceFile struct {
	name string
	sums map[string]string // algorithm -> lowercase hex; SKIP left out
}

// key is the cache entry's name: the strongest pinned digest.
func (f sourceFile) key() (algo, digest string, ok bool) {
	for _, a := range strongAlgos {
		if d := f.sums[a]; d != "" {
			return a, d, true
		}
	}
	return "", "", false
}

// vcsProtocols are sources makepkg clones rather than downloads as a file.
var vcsProtocols = map[string]bool{"bzr": true, "fossil": true, "git": true, "hg": true, "svn": true}

// downloadedSources lists the sources of si that makepkg downloads as
// files into SRCDEST when building for arch, with their checksums: the
// source array and source_<arch>, each paired with its checksum arrays by
// position, as makepkg pairs them. Local files and VCS checkouts are left
// out.
func downloadedSources(si *srcinfo.Srcinfo, arch string) []sourceFile {
	b := &si.Base
	lists := map[string]srcinfo.ArchList{
		"md5": b.MD5Sums, "sha1": b.SHA1Sums, "sha224": b.SHA224Sums,
		"sha256": b.SHA256Sums, "sha384": b.SHA384Sums, "sha512": b.SHA512Sums,
	}
	var out []sourceFile
	add := func(srcs []string, sumsOf func(srcinfo.ArchList) []string) {
		for i, s := range srcs {
			name, ok := downloadName(s)
			if !ok {
				continue
			}
			f := sourceFile{name: name, sums: map[string]string{}}
			for algo, l := range lists {
				if sums := sumsOf(l); i < len(sums) && sums[i] != "SKIP" && sums[i] != "" {
					f.sums[algo] = strings.ToLower(sums[i])
				}
			}
			out = append(out, f)
		}
	}
	add(b.Source.All, func(l srcinfo.ArchList) []string { return l.All })
	add(b.Source.ByArch[arch], func(l srcinfo.ArchList) []string { return l.ByArch[arch] })
	return out
}

// downloadName is the file name makepkg gives a downloaded source (its
// get_filename): the name before "::", else the URL's last path element.
// ok is false for local files and VCS sources.
func downloadName(source string) (string, bool) {
	name, url, renamed := strings.Cut(source, "::")
	if !renamed {
		url = source
	}
	proto, _, remote := strings.Cut(url, "://")
	if !remote {
		return "", false
	}
	proto, _, _ = strings.Cut(proto, "+")
	if vcsProtocols[proto] {
		return "", false
	}
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if name == "" || name == "." || name == ".." {
		return "", false
	}
	return name, true
}

func (c *SourceCache) entry(algo, digest string) string {
	return filepath.Join(c.Dir, algo, digest)
}

// seed copies into srcdest every cached file that matches its pinned
// digests. An entry that does not match (a damaged or tampered cache) is
// removed and the file is downloaded again.
func (c *SourceCache) seed(files []sourceFile, srcdest string, u *BuildUser, log io.Writer) error {
	if c == nil || c.Dir == "" {
		return nil
	}
	for _, f := range files {
		algo, digest, ok := f.key()
		if !ok {
			continue
		}
		entry := c.entry(algo, digest)
		if _, err := os.Lstat(entry); err != nil {
			continue
		}
		dst := filepath.Join(srcdest, f.name)
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		if err := copyChecked(entry, dst, f.sums); err != nil {
			os.Remove(dst)
			fmt.Fprintf(log, "==> portmake: the cached %s does not match the PKGBUILD's checksums (%v); removed it, downloading again\n", f.name, err)
			if rerr := os.Remove(entry); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				return rerr
			}
			continue
		}
		if err := u.chown(dst); err != nil {
			return err
		}
		fmt.Fprintf(log, "==> portmake: using the cached %s (%s %s)\n", f.name, algo, digest)
	}
	return nil
}

// store copies the verified downloads in srcdest into the cache, checking
// every pinned digest itself: what a build left there is not trusted.
func (c *SourceCache) store(files []sourceFile, srcdest string, log io.Writer) error {
	if c == nil || c.Dir == "" {
		return nil
	}
	for _, f := range files {
		algo, digest, ok := f.key()
		if !ok {
			continue
		}
		entry := c.entry(algo, digest)
		if _, err := os.Lstat(entry); err == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(entry), 0o700); err != nil {
			return err
		}
		tmp := entry + ".tmp" + fmt.Sprint(os.Getpid())
		os.Remove(tmp)
		if err := copyChecked(filepath.Join(srcdest, f.name), tmp, f.sums); err != nil {
			os.Remove(tmp)
			fmt.Fprintf(log, "==> portmake: not caching %s: %v\n", f.name, err)
			continue
		}
		if err := os.Rename(tmp, entry); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	return nil
}

// copyChecked copies the regular file src to the new file dst and fails
// unless every digest in sums matches the bytes copied.
func copyChecked(src, dst string, sums map[string]string) error {
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	if fi, err := in.Stat(); err != nil {
		return err
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	hashes := map[string]hash.Hash{}
	ws := []io.Writer{out}
	for algo := range sums {
		if nh := newHash[algo]; nh != nil {
			hashes[algo] = nh()
			ws = append(ws, hashes[algo])
		}
	}
	_, err = io.Copy(io.MultiWriter(ws...), in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for algo, h := range hashes {
		if got := hex.EncodeToString(h.Sum(nil)); got != sums[algo] {
			return fmt.Errorf("%s is %s, the PKGBUILD pins %s", algo, got, sums[algo])
		}
	}
	return nil
}
