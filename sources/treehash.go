package sources

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// treeHashSalt versions the TreeHash encoding: change it when the encoding
// changes, so old hashes can never collide with new ones.
const treeHashSalt = "portmake-tree-v1"

// TreeHash returns a deterministic content hash (64 hex digits) of a local
// PKGBUILD directory: the identity of a local source, as a commit is for a
// git one.
//
// It covers what can change a build: every file's slash-separated relative
// path (sorted), whether it is executable (the only mode bit git and
// makepkg care about; ownership, times and other permission bits vary
// between checkouts of the same tree), its contents, and the target of each
// symlink (not followed: a link that points elsewhere is a different
// tree). Directories only count through the files in them, as in git.
//
// It skips what makepkg writes into the directory, so that building a local
// package does not change its identity: .git anywhere, the src/ and pkg/
// work directories at the top level, built packages (*.pkg.tar.*) and logs
// (*.log). Sources that makepkg downloads into the directory are NOT
// skipped: run builds with SRCDEST outside the directory.
func TreeHash(dir string) (string, error) {
	files, err := TreeFiles(dir)
	if err != nil {
		return "", err
	}
	return HashTree(files), nil
}

// TreeFile is one entry of a local PKGBUILD tree, as TreeHash sees it.
type TreeFile struct {
	Path string // slash-separated, relative to the tree
	Kind byte   // 'f' file, 'x' executable file, 'l' symlink
	// Content is the sha256 (hex) of a file's contents, or a symlink's
	// target.
	Content string
}

// TreeFiles lists the entries of a local PKGBUILD directory that TreeHash
// covers, sorted by path, each with the hash of its contents: what a plan
// records so that a later change can be named by its file.
func TreeFiles(dir string) ([]TreeFile, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("tree hash %s: %w", dir, err)
	}
	type entry struct {
		rel  string
		kind byte
		path string
	}
	var entries []entry
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			if !d.IsDir() {
				return fmt.Errorf("not a directory")
			}
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if d.IsDir() {
			if name == ".git" || rel == "src" || rel == "pkg" {
				return filepath.SkipDir
			}
			return nil
		}
		if name == ".git" || strings.Contains(name, ".pkg.tar.") || strings.HasSuffix(name, ".log") {
			return nil // .git is a file in a worktree or submodule
		}
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			entries = append(entries, entry{rel, 'l', p})
		case t.IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			kind := byte('f')
			if info.Mode().Perm()&0o111 != 0 {
				kind = 'x'
			}
			entries = append(entries, entry{rel, kind, p})
		default:
			return fmt.Errorf("%s: unsupported file type %s", rel, t)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tree hash %s: %w", dir, err)
	}
	// WalkDir's order puts "a/b" before "a.txt"; sort the paths as plain
	// strings so the order is the obvious one and does not depend on how a
	// walk treats directories.
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.rel, b.rel) })

	files := make([]TreeFile, len(entries))
	file := sha256.New()
	buf := make([]byte, 32<<10)
	var sum [sha256.Size]byte
	for i, e := range entries {
		files[i] = TreeFile{Path: e.rel, Kind: e.kind}
		if e.kind == 'l' {
			if files[i].Content, err = os.Readlink(e.path); err != nil {
				return nil, fmt.Errorf("tree hash %s: %w", dir, err)
			}
			continue
		}
		file.Reset()
		if err := copyFile(file, e.path, buf); err != nil {
			return nil, fmt.Errorf("tree hash %s: %w", dir, err)
		}
		files[i].Content = hex.EncodeToString(file.Sum(sum[:0]))
	}
	return files, nil
}

// HashTree is TreeHash over entries TreeFiles listed.
func HashTree(files []TreeFile) string {
	h := sha256.New()
	io.WriteString(h, treeHashSalt+"\n")
	for _, f := range files {
		// Each record is length-prefixed so no choice of names or contents
		// can make two different trees encode to the same stream.
		io.WriteString(h, string(f.Kind)+" "+strconv.Itoa(len(f.Path))+":"+f.Path+" "+strconv.Itoa(len(f.Content))+":"+f.Content+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

func copyFile(w io.Writer, path string, buf []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// Hide (*os.File).WriteTo, which would make CopyBuffer ignore buf and
	// allocate 32 KiB per file.
	if _, err := io.CopyBuffer(w, struct{ io.Reader }{f}, buf); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
