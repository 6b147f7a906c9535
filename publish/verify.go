package publish

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/pkgfile"
	"github.com/portmake/portmake/alpm/syncdb"
)

// ProblemKind names what Verify found wrong.
type ProblemKind string

const (
	ProblemUnfinished ProblemKind = "unfinished"    // a journal: a publish that was interrupted
	ProblemMissing    ProblemKind = "missing"       // the DB lists a file that is not there
	ProblemContent    ProblemKind = "content"       // the file's size or sha256 is not what the DB lists
	ProblemSignature  ProblemKind = "signature"     // a package's .sig is missing or is not its %PGPSIG%
	ProblemAlias      ProblemKind = "alias"         // <repo>.db or <repo>.files is not the database's bytes
	ProblemDBSig      ProblemKind = "db-signature"  // a database's signature is missing or stale
	ProblemFilesDB    ProblemKind = "files-db"      // the .files database does not list what the DB lists
	ProblemRecord     ProblemKind = "record"        // the DB lists other bytes than the store recorded publishing
	ProblemUnlisted   ProblemKind = "unlisted"      // a package file the DB does not list (a warning)
	ProblemUnreadable ProblemKind = "unreadable-db" // the database cannot be read
)

// Problem is one disagreement between a repository's files and its DB.
type Problem struct {
	Kind   ProblemKind `json:"kind"`
	Name   string      `json:"name"` // file name
	Detail string      `json:"detail"`
	SHA256 string      `json:"sha256,omitempty"` // the listed sha256, for missing and content problems
}

// Warning reports whether the problem leaves the repository usable.
func (p Problem) Warning() bool { return p.Kind == ProblemUnlisted }

// Known is what the caller recorded about a file it published.
type Known struct {
	SHA256 string
	ETag   string // the backend's version token right after the publish
}

// VerifyOptions say how hard to look.
type VerifyOptions struct {
	// Known maps file names to what the state store recorded publishing.
	// A file whose ETag is still the recorded one is not read again
	// (unless Deep); its bytes are taken to be the recorded ones.
	Known map[string]Known
	// Deep reads every package file and hashes it, even when the backend
	// reports a checksum (on S3 it downloads the whole repository).
	Deep bool
}

// Report is what Verify found.
type Report struct {
	Repo     string    `json:"repo"`
	Where    string    `json:"where"`
	Listed   int       `json:"listed"`   // packages the DB lists
	Hashed   int       `json:"hashed"`   // package files read and hashed
	Problems []Problem `json:"problems"` // in name order
	// Seen maps every listed file found intact to its sha256 and ETag, for
	// the caller's record.
	Seen map[string]Known `json:"-"`
}

// OK reports whether the repository is consistent (warnings aside).
func (r *Report) OK() bool {
	for _, p := range r.Problems {
		if !p.Warning() {
			return false
		}
	}
	return true
}

func (r *Report) add(kind ProblemKind, name, sha, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Kind: kind, Name: name, SHA256: sha, Detail: fmt.Sprintf(format, args...)})
}

// Verify compares the repository's files with its database: every listed
// package present with the listed size and sha256 (and signature), the
// .files database listing the same packages, the aliases and database
// signatures current, no interrupted publish pending. It changes nothing.
func (r *Repo) Verify(ctx context.Context, o VerifyOptions) (*Report, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	rep := &Report{Repo: r.Name, Where: r.where(r.dir()), Seen: map[string]Known{}}
	scratch, err := os.MkdirTemp(r.TempDir, "portmake-verify-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	objs, err := r.Backend.List(ctx, r.dir(), true)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", r.where(r.dir()), err)
	}
	byKey := map[string]Object{}
	for _, o := range objs {
		byKey[o.Key] = o
		if strings.HasPrefix(o.Key, r.internal("journal")+"/") {
			rep.add(ProblemUnfinished, base(o.Key), "", "an interrupted publish left its journal %s", o.Key)
		}
	}
	cur, err := r.read(ctx, scratch)
	if err != nil {
		rep.add(ProblemUnreadable, r.Name+".db."+DBExt, "", "%v", err)
		return rep, nil
	}
	rep.Listed = len(cur.entries)
	for _, name := range cur.names() {
		e := cur.entries[name]
		r.verifyPackage(ctx, o, rep, byKey, e)
	}
	// Package files nothing lists.
	for _, obj := range objs {
		if path.Dir(obj.Key)+"/" != r.dir() {
			continue
		}
		n := base(obj.Key)
		if _, err := pkgfile.ParseFilename(n); err != nil || cur.entries[n] != nil {
			continue
		}
		rep.add(ProblemUnlisted, n, "", "not listed by %s", r.Name+".db")
	}
	if err := r.verifyFilesDB(ctx, rep, cur); err != nil {
		return nil, err
	}
	for _, kind := range []string{"db", "files"} {
		r.verifyDerived(ctx, rep, byKey, cur, kind)
	}
	slices.SortStableFunc(rep.Problems, func(a, b Problem) int { return strings.Compare(a.Name, b.Name) })
	return rep, nil
}

func (r *Repo) verifyPackage(ctx context.Context, o VerifyOptions, rep *Report, byKey map[string]Object, e *alpm.Package) {
	name := e.Filename
	obj, ok := byKey[r.key(name)]
	if !ok {
		rep.add(ProblemMissing, name, e.SHA256Sum, "listed by %s.db but not there", r.Name)
		return
	}
	if obj.Size != e.CSize {
		rep.add(ProblemContent, name, e.SHA256Sum, "%d bytes, %s.db lists %d", obj.Size, r.Name, e.CSize)
		return
	}
	known, recorded := o.Known[name]
	sha := ""
	switch {
	case !o.Deep && recorded && known.ETag != "" && known.ETag == obj.ETag:
		sha = known.SHA256
	case !o.Deep:
		if st, err := r.Backend.Stat(ctx, obj.Key); err == nil {
			obj, sha = st, st.SHA256
		}
	}
	if sha == "" {
		got, err := r.Backend.Get(ctx, obj.Key, io.Discard)
		if err != nil {
			rep.add(ProblemMissing, name, e.SHA256Sum, "cannot read it: %v", err)
			return
		}
		rep.Hashed++
		sha, obj.ETag = got.SHA256, got.ETag
	}
	if sha != e.SHA256Sum {
		rep.add(ProblemContent, name, e.SHA256Sum, "sha256 %s, %s.db lists %s", sha, r.Name, e.SHA256Sum)
		return
	}
	if recorded && known.SHA256 != e.SHA256Sum {
		rep.add(ProblemRecord, name, e.SHA256Sum, "portmake published sha256 %s, %s.db lists %s (written by someone else?)", known.SHA256, r.Name, e.SHA256Sum)
	}
	rep.Seen[name] = Known{SHA256: sha, ETag: obj.ETag}
	if e.PGPSig != "" {
		var sig bytes.Buffer
		_, err := r.Backend.Get(ctx, r.key(name+".sig"), &sig)
		switch {
		case isNotExist(err):
			rep.add(ProblemSignature, name, e.SHA256Sum, "%s.sig is missing", name)
		case err != nil:
			rep.add(ProblemSignature, name, e.SHA256Sum, "cannot read %s.sig: %v", name, err)
		case base64.StdEncoding.EncodeToString(sig.Bytes()) != e.PGPSig:
			rep.add(ProblemSignature, name, e.SHA256Sum, "%s.sig is not the signature %s.db lists", name, r.Name)
		}
	}
}

// verifyFilesDB checks that the .files database lists the same entries.
func (r *Repo) verifyFilesDB(_ context.Context, rep *Report, cur *state) error {
	if !cur.filesPresent {
		if len(cur.entries) > 0 {
			rep.add(ProblemFilesDB, r.Name+".files."+DBExt, "", "missing")
		}
		return nil
	}
	files, err := syncdb.ReadFile(cur.filesPath)
	if err != nil {
		rep.add(ProblemFilesDB, r.Name+".files."+DBExt, "", "%v", err)
		return nil
	}
	have := map[string]bool{}
	for _, p := range files.Packages {
		have[p.Filename] = true
		if e := cur.entries[p.Filename]; e == nil || e.SHA256Sum != p.SHA256Sum {
			rep.add(ProblemFilesDB, p.Filename, "", "listed by %s.files but not by %s.db", r.Name, r.Name)
		}
	}
	for n := range cur.entries {
		if !have[n] {
			rep.add(ProblemFilesDB, n, "", "listed by %s.db but not by %s.files", r.Name, r.Name)
		}
	}
	return nil
}

// verifyDerived checks the alias and signatures of a database.
func (r *Repo) verifyDerived(ctx context.Context, rep *Report, byKey map[string]Object, cur *state, kind string) {
	present, sha := cur.dbPresent, cur.dbSHA256
	if kind == "files" {
		present, sha = cur.filesPresent, cur.filesSHA256
	}
	if !present {
		return
	}
	alias := r.key(r.Name + "." + kind)
	if _, ok := byKey[alias]; !ok {
		rep.add(ProblemAlias, base(alias), "", "missing")
	} else if got, err := r.Backend.Get(ctx, alias, io.Discard); err != nil || got.SHA256 != sha {
		rep.add(ProblemAlias, base(alias), "", "is not the bytes of %s", base(r.dbKey(kind)))
	}
	want, err := r.Backend.Get(ctx, r.internal("sig", sha+".sig"), io.Discard)
	if isNotExist(err) {
		if _, signed := byKey[r.dbKey(kind)+".sig"]; signed || r.Signer != nil {
			rep.add(ProblemDBSig, base(r.dbKey(kind))+".sig", "", "no signature of the current %s database", kind)
		}
		return
	}
	if err != nil {
		rep.add(ProblemDBSig, base(r.dbKey(kind))+".sig", "", "%v", err)
		return
	}
	for _, k := range []string{r.dbKey(kind) + ".sig", alias + ".sig"} {
		if got, err := r.Backend.Get(ctx, k, io.Discard); err != nil || got.SHA256 != want.SHA256 {
			rep.add(ProblemDBSig, base(k), "", "is not the signature of the current %s database", kind)
		}
	}
}

// Restore finds local bytes with a sha256 (a build's output): a path, or
// "" when there are none.
type Restore func(ctx context.Context, sha256 string) (string, error)

// Repair fixes what Verify finds, under the repository lock: it
// finishes interrupted publishes, puts back missing or damaged package
// files from local copies with the listed sha256 (restore), rewrites
// package signatures from the database, brings the .files database,
// aliases and signatures up to date, and takes out of the database the
// packages whose bytes are nowhere to be found, so that it never names a
// file that is not there. It returns the file names it took out: their
// pkgbases must be built again.
//
// It verifies again after finishing interrupted publishes (with o), and
// acts on what it finds then.
func (r *Repo) Repair(ctx context.Context, o VerifyOptions, restore Restore) ([]string, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	unlock, err := r.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rep, err := r.Verify(ctx, o)
	if err != nil {
		return nil, err
	}
	if rep.OK() {
		return nil, nil
	}
	scratch, err := os.MkdirTemp(r.TempDir, "portmake-repair-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	cur, err := r.read(ctx, scratch)
	if err != nil {
		return nil, err
	}
	var lost []string
	for _, p := range rep.Problems {
		e := cur.entries[p.Name]
		if e == nil {
			continue
		}
		switch p.Kind {
		case ProblemMissing, ProblemContent:
			local := ""
			if restore != nil {
				if local, err = restore(ctx, e.SHA256Sum); err != nil {
					return nil, err
				}
			}
			if local == "" {
				lost = append(lost, p.Name)
				continue
			}
			if _, err := r.Backend.Put(ctx, r.key(p.Name), Source{Path: local, Size: e.CSize, SHA256: e.SHA256Sum}, Cond{}); err != nil {
				return nil, fmt.Errorf("restore %s: %w", r.where(r.key(p.Name)), err)
			}
			r.log().Warn("restored a damaged package file", "file", r.where(r.key(p.Name)), "from", local)
		case ProblemSignature:
			sig, err := base64.StdEncoding.DecodeString(e.PGPSig)
			if err != nil {
				return nil, fmt.Errorf("%s: %%PGPSIG%%: %w", p.Name, err)
			}
			f := filepath.Join(scratch, p.Name+".sig")
			if err := os.WriteFile(f, sig, 0o644); err != nil {
				return nil, err
			}
			if _, err := r.Backend.Put(ctx, r.key(p.Name+".sig"), Source{Path: f, Size: -1}, Cond{}); err != nil {
				return nil, err
			}
		}
	}
	j := newJournal()
	if len(lost) > 0 {
		var names []string
		for _, n := range lost {
			names = append(names, cur.entries[n].Name)
		}
		if err := r.removeEntries(ctx, scratch, names); err != nil {
			return nil, err
		}
		for _, n := range lost {
			// What is left under the name is not the listed bytes.
			if err := r.Backend.Delete(ctx, r.key(n)); err != nil {
				return nil, err
			}
			if err := r.Backend.Delete(ctx, r.key(n+".sig")); err != nil {
				return nil, err
			}
		}
		r.log().Warn("took packages whose bytes are lost out of the database; they will be built again", "repo", r.Name, "files", lost)
		if cur, err = r.read(ctx, scratch); err != nil {
			return nil, err
		}
	}
	// The .files database: re-add what it lacks, drop what the DB lacks.
	for _, p := range rep.Problems {
		if p.Kind != ProblemFilesDB {
			continue
		}
		if e := cur.entries[p.Name]; e != nil {
			j.Added = append(j.Added, p.Name)
		} else if n, err := pkgfile.ParseFilename(p.Name); err == nil {
			j.Removed = append(j.Removed, n.Pkgname)
		}
	}
	if err := r.completeFiles(ctx, scratch, cur, j, nil, ""); err != nil {
		return nil, err
	}
	if err := r.syncDerived(ctx, scratch, "db", cur.db, cur.dbSHA256); err != nil {
		return nil, err
	}
	return lost, nil
}

// removeEntries takes package names out of the database (read-modify-
// write, like a publish), then out of the .files database.
func (r *Repo) removeEntries(ctx context.Context, scratch string, names []string) error {
	for attempt := 1; ; attempt++ {
		cur, err := r.read(ctx, scratch)
		if err != nil {
			return err
		}
		newDB, err := r.merge(ctx, cur, nil, names, "db")
		if err != nil {
			return err
		}
		_, err = r.commit(ctx, scratch, "db", newDB, condFor(cur.db, cur.dbPresent))
		if err == nil {
			break
		}
		if !errors.Is(err, ErrPrecondition) || attempt >= r.retries() {
			return err
		}
	}
	cur, err := r.read(ctx, scratch)
	if err != nil {
		return err
	}
	return r.completeFiles(ctx, scratch, cur, &journal{Removed: names}, nil, "")
}
