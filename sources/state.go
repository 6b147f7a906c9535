package sources

import (
	"archive/tar"
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/portmake/portmake/alpm"
)

// StateEntry is one state file of a state repo (alpm-state-repo(7)): the
// pkgbase in one "<repo>-<arch>" directory, its version, the git tag in the
// packaging repository and the commit that tag points at.
type StateEntry struct {
	Repo    string // directory, e.g. "core-x86_64"
	Pkgbase string
	Version string
	Tag     string
	Commit  string
}

// State is a state repo read into memory. Several directories may list the
// same pkgbase (core-x86_64 and core-testing-x86_64 during a rebuild), so
// it keeps every entry and Lookup picks by version.
type State struct {
	byBase map[string][]StateEntry
}

// Len returns the number of entries.
func (s *State) Len() int {
	n := 0
	for _, es := range s.byBase {
		n += len(es)
	}
	return n
}

// Lookup returns the entry for pkgbase whose version is exactly version.
// Only an exact match counts: an entry for another version names another
// commit, and using it would build the wrong sources.
func (s *State) Lookup(pkgbase, version string) (StateEntry, bool) {
	for _, e := range s.byBase[pkgbase] {
		if e.Version == version {
			return e, true
		}
	}
	return StateEntry{}, false
}

// Entries returns every entry for pkgbase, in the order of the directories
// given to ReadState.
func (s *State) Entries(pkgbase string) []StateEntry { return s.byBase[pkgbase] }

// ReadState reads the given "<repo>-<arch>" directories of a state repo
// from a tar stream of its tree, as `git archive` writes it. A plan needs
// the whole repository (about 12,000 files), and one archive of a bare
// clone is much cheaper than checking the files out and reading them one
// by one. Files in other directories, below the top level, or that are
// not regular files are ignored.
//
// A malformed state file does not stop the read: its error is joined into
// the returned error (naming the file) and the other entries are
// returned, so one bad file costs one ls-remote rather than the plan. A
// requested directory the tree lacks is an error of the same kind. Only a
// stream that is not a tar archive fails the whole read.
func ReadState(r io.Reader, repos []string) (*State, error) {
	var errs []error
	want := map[string]bool{}
	for _, repo := range repos {
		if err := checkStateRepoName(repo); err != nil {
			errs = append(errs, fmt.Errorf("state repo: %w", err))
			continue
		}
		want[repo] = false // not seen yet
	}
	st := &State{byBase: make(map[string][]StateEntry, 16384)}
	tr := tar.NewReader(r)
	buf := make([]byte, 512)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, fmt.Errorf("state repo archive: %w", err)
		}
		repo, name, ok := strings.Cut(strings.TrimSuffix(h.Name, "/"), "/")
		seen, requested := want[repo]
		if !requested {
			continue
		}
		if !seen {
			want[repo] = true
		}
		if !ok || strings.Contains(name, "/") || h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Size > maxStateFile {
			errs = append(errs, fmt.Errorf("state repo %s: %d bytes; not a state file", h.Name, h.Size))
			continue
		}
		if int64(cap(buf)) < h.Size {
			buf = make([]byte, h.Size)
		}
		b := buf[:h.Size]
		if _, err := io.ReadFull(tr, b); err != nil {
			return st, fmt.Errorf("state repo archive: %s: %w", h.Name, err)
		}
		e, err := parseStateLine(string(b))
		if err == nil && e.Pkgbase != name {
			err = fmt.Errorf("pkgbase %q does not match the file name", e.Pkgbase)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("state repo %s: %w", h.Name, err))
			continue
		}
		e.Repo = repo
		st.byBase[e.Pkgbase] = append(st.byBase[e.Pkgbase], e)
	}
	for _, repo := range repos {
		if seen, ok := want[repo]; ok && !seen {
			errs = append(errs, fmt.Errorf("state repo: no directory %s", repo))
		}
	}
	return st, errors.Join(errs...)
}

// parseStateLine parses the one line of a state file:
// "pkgbase version tag commit", separated by single spaces.
func parseStateLine(s string) (StateEntry, error) {
	s = strings.TrimSuffix(s, "\n")
	if strings.Contains(s, "\n") {
		return StateEntry{}, fmt.Errorf("more than one line")
	}
	f := strings.Split(s, " ")
	if len(f) != 4 {
		return StateEntry{}, fmt.Errorf("%q: want \"pkgbase version tag commit\"", s)
	}
	e := StateEntry{Pkgbase: f[0], Version: f[1], Tag: f[2], Commit: strings.ToLower(f[3])}
	if err := alpm.CheckName(e.Pkgbase); err != nil {
		return StateEntry{}, fmt.Errorf("%q: %w", s, err)
	}
	if err := checkFullVersion(e.Version); err != nil {
		return StateEntry{}, fmt.Errorf("%q: %w", s, err)
	}
	if e.Tag == "" || e.Tag != VersionTag(e.Version) {
		// The tag is derived from the version by a fixed rule; a line that
		// disagrees with itself cannot be trusted for either.
		return StateEntry{}, fmt.Errorf("%q: tag %q is not the normalised version %q", s, e.Tag, VersionTag(e.Version))
	}
	if !isFullHash(e.Commit) {
		return StateEntry{}, fmt.Errorf("%q: bad commit %q", s, f[3])
	}
	return e, nil
}

// checkFullVersion accepts "[epoch:]pkgver-pkgrel" as a state file holds it.
func checkFullVersion(v string) error {
	rest := v
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		if i == 0 || strings.Trim(rest[:i], "0123456789") != "" {
			return fmt.Errorf("bad epoch in version %q", v)
		}
		rest = rest[i+1:]
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 || i == len(rest)-1 {
		return fmt.Errorf("version %q is not pkgver-pkgrel", v)
	}
	if strings.ContainsAny(rest[:i], ":-/ ") {
		return fmt.Errorf("bad pkgver in version %q", v)
	}
	if strings.Trim(rest[i+1:], "0123456789.") != "" {
		return fmt.Errorf("bad pkgrel in version %q", v)
	}
	return nil
}

// checkStateRepoName keeps StateRepos entries to plain directory names.
func checkStateRepoName(repo string) error {
	if repo == "" || repo == "." || repo == ".." || strings.ContainsAny(repo, "/\\\x00") {
		return fmt.Errorf("bad state repo directory %q (want <repo>-<arch>)", repo)
	}
	return nil
}

// maxStateFile bounds a state file: the line is well under 200 bytes, so
// anything near this is not a state file.
const maxStateFile = 64 << 10

// readStateMemo loads a State saved by writeStateMemo.
func readStateMemo(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st := &State{}
	if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&st.byBase); err != nil {
		return nil, fmt.Errorf("state memo %s: %w", path, err)
	}
	return st, nil
}

// writeStateMemo saves st atomically and removes the memos of other
// commits, which will not be read again.
func writeStateMemo(dir, path string, st *State) error {
	tmp, err := os.CreateTemp(dir, ".state-memo-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	if err := gob.NewEncoder(w).Encode(st.byBase); err != nil {
		tmp.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "state-*.gob"))
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	for _, o := range old {
		if o != path {
			os.Remove(o)
		}
	}
	return nil
}
