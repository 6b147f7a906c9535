package sources

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

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

// ReadState reads the given "<repo>-<arch>" directories of a checked-out
// state repo. It reads each directory once and every file in parallel,
// because a plan needs the whole repository (about 12,000 files) and
// per-request lookups would stat the same directories over and over.
//
// A malformed or unreadable state file does not stop the read: its error is
// joined into the returned error (naming the file) and the other entries
// are returned, so one bad file costs one ls-remote rather than the plan.
// A missing directory is an error of the same kind.
func ReadState(root string, repos []string) (*State, error) {
	type job struct{ repo, name string }
	var jobs []job
	var errs []error
	for _, repo := range repos {
		if err := checkStateRepoName(repo); err != nil {
			errs = append(errs, fmt.Errorf("state repo %s: %w", root, err))
			continue
		}
		ents, err := os.ReadDir(filepath.Join(root, repo))
		if err != nil {
			errs = append(errs, fmt.Errorf("state repo: %w", err))
			continue
		}
		for _, e := range ents {
			if e.Type().IsRegular() {
				jobs = append(jobs, job{repo, e.Name()})
			}
		}
	}

	// Open each directory once and read its files relative to it: the
	// read is syscall-bound, and openat on a directory descriptor skips
	// resolving the whole path 12,000 times.
	dirs := map[string]*stateDir{}
	for _, j := range jobs {
		if dirs[j.repo] == nil {
			d, err := openStateDir(filepath.Join(root, j.repo))
			if err != nil {
				return &State{byBase: map[string][]StateEntry{}}, fmt.Errorf("state repo: %w", err)
			}
			defer d.close()
			dirs[j.repo] = d
		}
	}

	results := make([]StateEntry, len(jobs))
	fileErrs := make([]error, len(jobs))
	workers := min(8, max(1, len(jobs)/512))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			buf := make([]byte, 512)
			for i := w; i < len(jobs); i += workers {
				j := jobs[i]
				path := filepath.Join(root, j.repo, j.name)
				b, err := dirs[j.repo].read(j.name, buf)
				if err != nil {
					fileErrs[i] = fmt.Errorf("state repo: %w", err)
					continue
				}
				e, err := parseStateLine(string(b))
				if err == nil && e.Pkgbase != j.name {
					err = fmt.Errorf("pkgbase %q does not match the file name", e.Pkgbase)
				}
				if err != nil {
					fileErrs[i] = fmt.Errorf("state repo %s: %w", path, err)
					continue
				}
				e.Repo = j.repo
				results[i] = e
			}
		})
	}
	wg.Wait()

	st := &State{byBase: make(map[string][]StateEntry, len(jobs))}
	for i, e := range results {
		if fileErrs[i] != nil {
			errs = append(errs, fileErrs[i])
			continue
		}
		st.byBase[e.Pkgbase] = append(st.byBase[e.Pkgbase], e)
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
