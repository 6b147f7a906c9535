package engine

// What a plan is made from, defined once.
//
// A plan is a function of: the Portfile (its hash covers the file, the
// variables, what env() and file() returned, the blacklist file and
// CARCH), every sync database it read (by checksum), every AUR and local
// source (the AUR commit; a local tree's hash and, to name a change, the
// hash of each of its files), the override patches, and the head of the
// state repository. madeFrom writes these as "kind name value" lines in a
// fixed order. The same lines serve three purposes:
//
//  1. plan reuse: with the planning options they form the memo key, so a
//     plan whose lines are unchanged is not recomputed;
//  2. the stale check: `apply N` recomputes them and refuses plan N when
//     any line differs, naming what changed (a database's URL, a file of a
//     local PKGBUILD, a patch);
//  3. the last check before a build: the source fetcher hashes the tree
//     it prepared and the patches it applies against the plan's.
//
// Local paths are recorded relative to the Portfile's directory, so a
// copied port directory keeps its plans.
//
// The official packaging sources are not listed: they are resolved from
// the state repository's head (listed) or from version tags, whose commit
// the plan records per node. An override that follows a branch cannot be
// pinned without asking its remote, so such a Portfile never reuses a
// plan.

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/portmake/portmake/fetch"
	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/sources"
)

// madeFrom returns the lines of everything a plan is made from. pinned is
// false when some input cannot be pinned without planning (an override
// that follows a branch, an unreachable state repository).
func (p *Port) madeFrom(ctx context.Context, snap *snapshot, newSources []planner.NewSource, files map[string][]sources.TreeFile) (lines []string, pinned bool, err error) {
	pinned = true
	lines = append(lines, "portfile - "+p.pf.Hash)
	for i, r := range snap.refs {
		lines = append(lines, fmt.Sprintf("db %s %s", dbKey(r), snap.results[i].SHA256))
	}
	for _, ns := range newSources {
		src := ns.Source
		id := src.Commit
		if src.Kind == planner.SourceLocal {
			id = "tree:" + src.TreeHash
		}
		lines = append(lines, fmt.Sprintf("source %s %s:%s:%s", src.Recipe.Pkgbase, src.Kind, id, src.Recipe.Version))
		for _, f := range files[src.Recipe.Pkgbase] {
			content := f.Content
			if f.Kind == 'l' { // a link target may hold spaces
				sum := sha256.Sum256([]byte(content))
				content = hex.EncodeToString(sum[:])
			}
			lines = append(lines, fmt.Sprintf("file %s/%s %c:%s", src.Recipe.Pkgbase, f.Path, f.Kind, content))
		}
	}
	for _, ov := range p.pf.Packages {
		if ov.Branch != "" || (!ov.Git.IsZero() && ov.Tag == "" && ov.Commit == "") {
			pinned = false
		}
		refs, err := patchRefs(ov)
		if err != nil {
			return nil, false, err
		}
		for _, pr := range refs {
			lines = append(lines, fmt.Sprintf("patch %s/%s %s", ov.Name, pr.Name, pr.SHA256))
		}
	}
	if !p.pf.Sources.State.IsZero() {
		head, err := stateHead(ctx, p.pf.Sources.State.String())
		if err != nil {
			p.log.Debug("state repository head unknown: the plan cannot be reused", "err", err)
			pinned = false
			head = "unknown"
		}
		lines = append(lines, "state - "+head)
	}
	return lines, pinned, nil
}

// dbKey names a database in a made-from line: side (with -testing for an
// overlay), repository label and location.
func dbKey(r dbRef) string {
	side := r.side
	if r.test {
		side += "-testing"
	}
	return side + ":" + r.repo + ":" + r.display
}

// memoKey is the key under which a plan is reused: the made-from lines and
// the planning options that change the result.
func memoKey(o PlanOptions, lines []string) string {
	key := o
	// Refresh only says where the databases come from (their checksums
	// are in the lines).
	key.Refresh = true
	opts, _ := json.Marshal(key)
	h := sha256.New()
	fmt.Fprintf(h, "portmake-plan-memo-v2\noptions %s\n", opts)
	for _, l := range lines {
		io.WriteString(h, l+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

// staleness compares the made-from lines of a stored plan with the current
// ones and says what changed, in the words a user acts on; "" when nothing
// did.
func (p *Port) staleness(then, now []string) string {
	old := map[string]string{}
	var order []string
	for _, l := range then {
		k, v := splitLine(l)
		old[k] = v
		order = append(order, k)
	}
	cur := map[string]string{}
	for _, l := range now {
		k, v := splitLine(l)
		cur[k] = v
		if _, ok := old[k]; !ok {
			order = append(order, k)
		}
	}
	// A local tree's source line changes with any of its file lines:
	// name the file.
	isSource := func(k string) int {
		if strings.HasPrefix(k, "source ") {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(order, func(a, b string) int { return cmp.Compare(isSource(a), isSource(b)) })
	for _, k := range order {
		if old[k] == cur[k] {
			continue
		}
		kind, name, _ := strings.Cut(k, " ")
		switch kind {
		case "portfile":
			return "the Portfile changed since it was made"
		case "db":
			_, rest, _ := strings.Cut(name, ":")
			_, url, _ := strings.Cut(rest, ":")
			return url + " changed since it was made"
		case "file":
			what := "changed"
			switch {
			case old[k] == "":
				what = "was added"
			case cur[k] == "":
				what = "was removed"
			}
			return fmt.Sprintf("%s %s since it was made", p.localPath(name), what)
		case "source":
			return fmt.Sprintf("the source of %s changed since it was made", name)
		case "patch":
			base, file, _ := strings.Cut(name, "/")
			return fmt.Sprintf("patch %s of %s changed since it was made", file, base)
		case "state":
			return "the state repository moved since it was made"
		default:
			return k + " changed since it was made"
		}
	}
	return ""
}

func splitLine(l string) (key, value string) {
	i := strings.LastIndexByte(l, ' ')
	if i < 0 {
		return l, ""
	}
	return l[:i], l[i+1:]
}

// localPath names a file of a local PKGBUILD ("pkgbase/PKGBUILD") by its
// path relative to the Portfile's directory.
func (p *Port) localPath(name string) string {
	if p.pf.Local == nil {
		return name
	}
	return p.relPath(filepath.Join(p.pf.Local.Path.Path, filepath.FromSlash(name)))
}

// relPath is path relative to the Portfile's directory when it lies below
// it, else path itself.
func (p *Port) relPath(path string) string {
	rel, err := filepath.Rel(p.pf.Dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return path
	}
	return rel
}

// displayURL is how a database location is recorded in a plan: local
// paths relative to the Portfile's directory, URLs without credentials.
func (p *Port) displayURL(loc string) string {
	if filepath.IsAbs(loc) {
		return p.relPath(loc)
	}
	if path, ok := strings.CutPrefix(loc, "file://"); ok && filepath.IsAbs(path) {
		return p.relPath(path)
	}
	return fetch.Redact(loc)
}
