package publish

// How a publish keeps the database and the files in agreement.
//
// The database object "<repo>.db.tar.gz" is the commit point: what it
// lists is published, and everything else follows it. A publish runs
// these steps, each durable before the next:
//
//  1. Under the repository lock (repo-add's .lck on a directory; nothing
//     on S3), recover what an earlier, interrupted publish left (Recover).
//  2. Put each package file and its .sig, verified against the sha256 the
//     build recorded. A file name the database does not list yet goes in
//     under its own name. A name it already lists with other bytes (a
//     rebuild of the same version) goes in under a staged name
//     (.portmake/staged/<sha256>/<name>): the listed bytes stay in place.
//  3. Write a journal (.portmake/journal/<id>.json) naming what steps 5
//     and 6 will do: staged files to move, superseded files to delete.
//  4. Read-modify-write the database: merge the packages into the current
//     bytes and write them back only if nobody wrote in between (If-Match
//     on the ETag read; If-None-Match when creating). On a lost race,
//     re-read, re-merge and retry a bounded number of times. This write
//     commits the publish.
//  5. Make the rest agree with the committed database: move staged files
//     into place, merge the packages into the .files database the same
//     way, bring the "<repo>.db"/"<repo>.files" aliases and the database
//     signatures up to date, then delete the superseded files.
//  6. Delete the journal.
//
// Every step of 5 decides from the database as it is now, not from the
// journal's hopes: a staged file is moved only if the database lists its
// name with its sha256 (else it is deleted: the publish never committed),
// a superseded file is deleted only if the database no longer lists it.
// So running step 5 again, after a crash anywhere, by this process or any
// other, either completes the publish or rolls it back, and never makes a
// file disagree with the database. Recover runs step 5 for every journal
// whose writer is gone: on a directory that is every journal, since the
// lock excludes all other writers; on S3 it is a journal whose process on
// this host is dead, or one older than Lease.
//
// The one window that remains is inside step 5 for a staged file: between
// the commit and the move, the database lists the new sha256 while the
// name still holds the old bytes. pacman refuses such a download (it
// checks the sha256), nothing installs wrong bytes, and the window closes
// with the move or, after a crash, with the next Recover.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/pkgfile"
	"github.com/portmake/portmake/alpm/syncdb"
)

// File is a package file to publish: a local path and the sha256 and size
// recorded when the build (or the download) ended.
type File struct {
	Path   string
	SHA256 string // hex; required
	Size   int64
	Origin string // OriginBuilt ("" too) or OriginSynced, for the Ledger
}

// Origins of published files.
const (
	OriginBuilt    = "built"
	OriginSynced   = "synced"
	OriginPromoted = "promoted"
)

// Published is one package file a repository holds.
type Published struct {
	Repo   string
	Name   string // file name
	Key    string // backend key
	SHA256 string
	Size   int64
	Signed bool
	ETag   string // the backend's version token once published
	Origin string // see File
}

// Ledger records what the repositories hold; the state store backs it.
type Ledger interface {
	// Published is called after the database lists the files.
	Published(ctx context.Context, repo string, files []Published) error
	// Removed is called after the database no longer lists the files.
	Removed(ctx context.Context, repo string, names []string) error
}

// Signer makes detached binary signatures.
type Signer interface {
	// Sign writes the detached signature of file to sig.
	Sign(ctx context.Context, file, sig string) error
	// Key names the key, for messages.
	Key() string
}

// Repo is one repository on a backend: <Name>/os/<Arch>/.
type Repo struct {
	Backend Backend
	Name    string
	Arch    string
	Signer  Signer // nil: publish unsigned
	Ledger  Ledger // nil: record nothing
	Log     *slog.Logger
	// Retries bounds the read-modify-write attempts of a database that
	// other writers keep changing; 0 means 8.
	Retries int
	// Lease is how long another writer's journal is left alone on a
	// backend that cannot lock (S3); 0 means one hour.
	Lease time.Duration
	// TempDir holds local scratch files; "" is the system's.
	TempDir string
}

// DBExt is the database archive extension portmake writes.
const DBExt = "tar.gz"

func (r *Repo) dir() string            { return r.Name + "/os/" + r.Arch + "/" }
func (r *Repo) key(name string) string { return r.dir() + name }
func (r *Repo) dbKey(kind string) string {
	return r.key(r.Name + "." + kind + "." + DBExt)
}
func (r *Repo) internal(parts ...string) string {
	return r.dir() + ".portmake/" + strings.Join(parts, "/")
}

// DBKey is the backend key of the repository database.
func (r *Repo) DBKey() string { return r.dbKey("db") }

func (r *Repo) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (r *Repo) retries() int {
	if r.Retries > 0 {
		return r.Retries
	}
	return 8
}

func (r *Repo) lease() time.Duration {
	if r.Lease > 0 {
		return r.Lease
	}
	return time.Hour
}

func (r *Repo) where(key string) string { return r.Backend.String() + "/" + key }

func (r *Repo) check() error {
	if r.Backend == nil {
		return errors.New("publish: no backend")
	}
	if err := alpm.CheckName(r.Name); err != nil {
		return fmt.Errorf("repository name: %w", err)
	}
	if err := alpm.CheckName(r.Arch); err != nil || r.Arch == "" {
		return fmt.Errorf("architecture %q is not valid", r.Arch)
	}
	return nil
}

// pkg is a package file ready to publish.
type pkg struct {
	File
	name  string // file name
	info  *alpm.Package
	local string // path under the scratch dir: a link to Path, with its .sig beside it when signing
	sig   string // local .sig, "" when unsigned
}

// prepare checks the files against their records, signs them into the
// scratch directory and reads their metadata.
func (r *Repo) prepare(ctx context.Context, scratch string, files []File) ([]*pkg, error) {
	if len(files) == 0 {
		return nil, errors.New("no package files to publish")
	}
	var pkgs []*pkg
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f.Path)
		if _, err := pkgfile.ParseFilename(name); err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("%s is given twice", name)
		}
		seen[name] = true
		if f.SHA256 == "" {
			return nil, fmt.Errorf("%s: no sha256 was recorded for it; refusing to publish bytes nobody vouched for", f.Path)
		}
		p := &pkg{File: f, name: name, local: filepath.Join(scratch, name)}
		abs, err := filepath.Abs(f.Path)
		if err != nil {
			return nil, err
		}
		if err := os.Symlink(abs, p.local); err != nil {
			return nil, err
		}
		if r.Signer != nil {
			p.sig = p.local + ".sig"
			if err := r.Signer.Sign(ctx, p.local, p.sig); err != nil {
				return nil, fmt.Errorf("sign %s: %w", name, err)
			}
		} else if _, err := os.Stat(abs + ".sig"); err == nil {
			// Unsigned by us: keep the signature it came with (an
			// upstream package's).
			p.sig = p.local + ".sig"
			if err := os.Symlink(abs+".sig", p.sig); err != nil {
				return nil, err
			}
		}
		info, err := pkgfile.Read(p.local)
		if err != nil {
			return nil, err
		}
		if info.SHA256Sum != f.SHA256 || (f.Size > 0 && info.CSize != f.Size) {
			return nil, fmt.Errorf("%s: %w: sha256 %s (%d bytes), but the build recorded %s (%d bytes); refusing to publish it",
				f.Path, ErrMismatch, info.SHA256Sum, info.CSize, f.SHA256, f.Size)
		}
		p.Size = info.CSize
		p.info = info
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// journal records what the steps after the database commit will do.
type journal struct {
	ID      string    `json:"id"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	// Moves are staged files that go to their names once the database
	// lists Pkg with SHA256.
	Moves []move `json:"moves,omitempty"`
	// Deletes are superseded files, deleted once the database no longer
	// lists Pkg.
	Deletes []del `json:"deletes,omitempty"`
	// Added are the package file names the .files database must hold,
	// once the database lists them.
	Added []string `json:"added,omitempty"`
	// Removed are package names the .files database must not hold once
	// the database does not (promotion out of a repository).
	Removed []string `json:"removed,omitempty"`
}

type move struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Pkg    string `json:"pkg"`
	SHA256 string `json:"sha256"`
}

type del struct {
	Key string `json:"key"`
	Pkg string `json:"pkg"`
}

func newJournal() *journal {
	var b [8]byte
	rand.Read(b[:])
	host, _ := os.Hostname()
	return &journal{ID: time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:]), Host: host, PID: os.Getpid(), Started: time.Now().UTC()}
}

func (r *Repo) journalKey(id string) string { return r.internal("journal", id+".json") }

func (r *Repo) putJournal(ctx context.Context, scratch string, j *journal) error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(scratch, "journal.json")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if _, err := r.Backend.Put(ctx, r.journalKey(j.ID), Source{Path: tmp, Size: -1}, Cond{}); err != nil {
		return fmt.Errorf("write the publish journal to %s: %w", r.where(r.journalKey(j.ID)), err)
	}
	return nil
}

// state is the database as read, with local copies of both archives.
type state struct {
	dir          string
	db, files    Object // Key "" when absent
	entries      map[string]*alpm.Package
	byName       map[string]*alpm.Package
	dbPath       string
	filesPath    string
	dbSHA256     string
	filesSHA256  string
	dbPresent    bool
	filesPresent bool
}

// listed returns the entry whose %FILENAME% is name, or nil.
func (s *state) listed(name string) *alpm.Package { return s.entries[name] }

// read reads the current databases into a fresh subdirectory of scratch.
func (r *Repo) read(ctx context.Context, scratch string) (*state, error) {
	dir, err := os.MkdirTemp(scratch, "db-")
	if err != nil {
		return nil, err
	}
	s := &state{dir: dir, entries: map[string]*alpm.Package{}, byName: map[string]*alpm.Package{},
		dbPath:    filepath.Join(dir, r.Name+".db."+DBExt),
		filesPath: filepath.Join(dir, r.Name+".files."+DBExt)}
	get := func(kind, dst string) (Object, string, bool, error) {
		key := r.dbKey(kind)
		f, err := os.Create(dst)
		if err != nil {
			return Object{}, "", false, err
		}
		o, err := r.Backend.Get(ctx, key, f)
		f.Close()
		if isNotExist(err) {
			os.Remove(dst)
			return Object{}, "", false, nil
		}
		if err != nil {
			return Object{}, "", false, fmt.Errorf("read %s: %w", r.where(key), err)
		}
		return o, o.SHA256, true, nil
	}
	if s.db, s.dbSHA256, s.dbPresent, err = get("db", s.dbPath); err != nil {
		return nil, err
	}
	if s.files, s.filesSHA256, s.filesPresent, err = get("files", s.filesPath); err != nil {
		return nil, err
	}
	if s.dbPresent {
		db, err := syncdb.ReadFile(s.dbPath)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.where(r.dbKey("db")), err)
		}
		for _, p := range db.Packages {
			s.entries[p.Filename] = p
			s.byName[p.Name] = p
		}
	}
	return s, nil
}

func condFor(o Object, present bool) Cond {
	if !present {
		return Cond{IfNoneMatch: true}
	}
	return Cond{IfMatch: o.ETag}
}

// Publish puts files into the repository and its databases, replacing
// other versions of the same packages. See the top of this file.
func (r *Repo) Publish(ctx context.Context, files []File) ([]Published, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp(r.TempDir, "portmake-publish-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	pkgs, err := r.prepare(ctx, scratch, files)
	if err != nil {
		return nil, err
	}
	unlock, err := r.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cur, err := r.read(ctx, scratch)
	if err != nil {
		return nil, err
	}
	j := newJournal()
	if err := r.upload(ctx, scratch, pkgs, j); err != nil {
		return nil, err
	}
	for _, p := range pkgs {
		j.Added = append(j.Added, p.name)
	}
	locals := make([]string, len(pkgs))
	for i, p := range pkgs {
		locals[i] = p.local
	}
	committed := false
	var after *state
	var premerged string
	for attempt := 1; attempt <= r.retries() && !committed; attempt++ {
		if attempt > 1 {
			if cur, err = r.read(ctx, scratch); err != nil {
				return nil, err
			}
		}
		j.Deletes = r.superseded(cur, pkgs)
		if err := r.putJournal(ctx, scratch, j); err != nil {
			return nil, err
		}
		newDB, err := r.merge(ctx, cur, locals, nil, "db")
		if err != nil {
			return nil, err
		}
		db, err := r.commit(ctx, scratch, "db", newDB, condFor(cur.db, cur.dbPresent))
		if err != nil {
			if errors.Is(err, ErrPrecondition) {
				r.log().Info("the database changed while publishing; merging again", "db", r.where(r.DBKey()), "attempt", attempt)
				continue
			}
			return nil, r.abandon(ctx, j, err)
		}
		committed = true
		// The merge wrote the .files archive too, from the one read.
		after, premerged = cur.committed(db, pkgs), filepath.Join(filepath.Dir(newDB), r.Name+".files."+DBExt)
	}
	if !committed {
		return nil, r.abandon(ctx, j, fmt.Errorf("%s: other writers changed the database %d times in a row while publishing; nothing was published, try again", r.where(r.DBKey()), r.retries()))
	}
	local := map[string]string{}
	for _, p := range pkgs {
		local[p.name] = p.local
	}
	if err := r.complete(ctx, scratch, j, local, after, premerged); err != nil {
		return nil, fmt.Errorf("%s lists the new packages, but finishing the publish failed (the next publish or portmake verify finishes it): %w", r.where(r.DBKey()), err)
	}
	out := make([]Published, len(pkgs))
	for i, p := range pkgs {
		out[i] = Published{Repo: r.Name, Name: p.name, Key: r.key(p.name), SHA256: p.SHA256, Size: p.Size, Signed: p.sig != "", Origin: p.Origin}
		if out[i].Origin == "" {
			out[i].Origin = OriginBuilt
		}
		if o, err := r.Backend.Stat(ctx, out[i].Key); err == nil {
			out[i].ETag = o.ETag
		}
	}
	if r.Ledger != nil {
		if err := r.Ledger.Published(ctx, r.Name, out); err != nil {
			return out, err
		}
		var gone []string
		for _, d := range j.Deletes {
			if !strings.HasSuffix(d.Key, ".sig") {
				gone = append(gone, base(d.Key))
			}
		}
		if len(gone) > 0 {
			if err := r.Ledger.Removed(ctx, r.Name, gone); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// abandon rolls back a publish that did not commit: its staged files go
// (new-name uploads stay; nothing lists them, and a retry reuses them).
func (r *Repo) abandon(ctx context.Context, j *journal, cause error) error {
	var errs []error
	for _, m := range j.Moves {
		if err := r.Backend.Delete(ctx, m.From); err != nil {
			errs = append(errs, err)
		}
	}
	if err := r.Backend.Delete(ctx, r.journalKey(j.ID)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		r.log().Warn("cleaning up after a failed publish", "err", err)
	}
	return cause
}

// stagedKey is where a file that must not yet replace a listed one waits.
func (r *Repo) stagedKey(sha, name string) string { return r.internal("staged", sha, name) }

// upload puts every package and signature in place or in staging.
func (r *Repo) upload(ctx context.Context, scratch string, pkgs []*pkg, j *journal) error {
	for _, p := range pkgs {
		staged, err := r.place(ctx, scratch, p.name, Source{Path: p.local, Size: p.Size, SHA256: p.SHA256}, p.name, p.SHA256, j)
		if err != nil {
			return err
		}
		if p.sig == "" {
			continue
		}
		sha, size, err := HashFile(p.sig)
		if err != nil {
			return err
		}
		sigSrc := Source{Path: p.sig, Size: size, SHA256: sha}
		if staged {
			// A staged package's signature waits with it.
			from := r.stagedKey(p.SHA256, p.name+".sig")
			if err := r.stage(ctx, scratch, j, move{From: from, To: p.name + ".sig", Pkg: p.name, SHA256: p.SHA256}, sigSrc); err != nil {
				return err
			}
			continue
		}
		if _, err := r.place(ctx, scratch, p.name+".sig", sigSrc, p.name, p.SHA256, j); err != nil {
			return err
		}
	}
	return nil
}

// place puts src under name, or stages it when name holds other bytes
// that the database (or a concurrent writer) may rely on. It reports
// whether it staged.
func (r *Repo) place(ctx context.Context, scratch, name string, src Source, pkgName, pkgSHA string, j *journal) (bool, error) {
	key := r.key(name)
	o, err := r.Backend.Stat(ctx, key)
	switch {
	case err == nil:
		same, err := r.holds(ctx, o, src.SHA256)
		if err != nil {
			return false, err
		}
		if same {
			return false, nil // already there: a resumed publish
		}
		// Other bytes under this name, which the database may list (or a
		// concurrent writer may be about to): stage ours.
	case isNotExist(err):
		_, err := r.Backend.Put(ctx, key, src, Cond{IfNoneMatch: true})
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, ErrPrecondition) {
			return false, fmt.Errorf("upload %s: %w", r.where(key), err)
		}
		// Someone wrote it between our look and our write.
		o, err := r.Backend.Stat(ctx, key)
		if err != nil {
			return false, fmt.Errorf("upload %s: %w", r.where(key), err)
		}
		if same, err := r.holds(ctx, o, src.SHA256); err != nil || same {
			return false, err
		}
	default:
		return false, fmt.Errorf("look up %s: %w", r.where(key), err)
	}
	if err := r.stage(ctx, scratch, j, move{From: r.stagedKey(pkgSHA, name), To: name, Pkg: pkgName, SHA256: pkgSHA}, src); err != nil {
		return false, err
	}
	return true, nil
}

// stage uploads src to m.From, recording the move in the journal first,
// so that a kill during the upload leaves a journal that says what the
// staged object is for.
func (r *Repo) stage(ctx context.Context, scratch string, j *journal, m move, src Source) error {
	j.Moves = append(j.Moves, m)
	if err := r.putJournal(ctx, scratch, j); err != nil {
		return err
	}
	if _, err := r.Backend.Put(ctx, m.From, src, Cond{}); err != nil {
		return fmt.Errorf("upload %s: %w", r.where(m.From), err)
	}
	return nil
}

// holds reports whether object o has the bytes whose sha256 is sha.
func (r *Repo) holds(ctx context.Context, o Object, sha string) (bool, error) {
	if o.SHA256 != "" {
		return o.SHA256 == sha, nil
	}
	got, err := r.Backend.Get(ctx, o.Key, io.Discard)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", r.where(o.Key), err)
	}
	return got.SHA256 == sha, nil
}

// superseded lists the files of other versions of the packages being
// published, which go once the database no longer lists them.
func (r *Repo) superseded(cur *state, pkgs []*pkg) []del {
	var out []del
	for _, p := range pkgs {
		old := cur.byName[p.info.Name]
		if old == nil || old.Filename == p.name {
			continue
		}
		if _, err := pkgfile.ParseFilename(old.Filename); err != nil {
			continue // a hostile %FILENAME% names nothing we delete
		}
		out = append(out, del{Key: r.key(old.Filename), Pkg: old.Filename}, del{Key: r.key(old.Filename + ".sig"), Pkg: old.Filename})
	}
	return out
}

// merge returns a local file holding the kind ("db" or "files") archive
// of cur with the package files added and the package names removed.
func (r *Repo) merge(ctx context.Context, cur *state, add []string, remove []string, kind string) (string, error) {
	dir, err := os.MkdirTemp(cur.dir, "merge-")
	if err != nil {
		return "", err
	}
	dbPath := filepath.Join(dir, r.Name+".db."+DBExt)
	for _, c := range []struct {
		present bool
		from    string
		to      string
	}{{cur.dbPresent, cur.dbPath, dbPath}, {cur.filesPresent, cur.filesPath, filepath.Join(dir, r.Name+".files."+DBExt)}} {
		if c.present {
			if err := os.Link(c.from, c.to); err != nil {
				return "", err
			}
		}
	}
	if len(add) > 0 {
		if err := syncdb.Add(dbPath, add, syncdb.AddOptions{}); err != nil {
			return "", err
		}
	}
	if len(remove) > 0 {
		if !cur.dbPresent {
			if err := syncdb.Add(dbPath, nil, syncdb.AddOptions{}); err != nil {
				return "", err
			}
		}
		if err := removeSome(dbPath, remove); err != nil {
			return "", err
		}
	}
	if len(add) == 0 && len(remove) == 0 && !cur.dbPresent {
		if err := syncdb.Add(dbPath, nil, syncdb.AddOptions{}); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, r.Name+"."+kind+"."+DBExt), nil
}

// removeSome removes the names one at a time, skipping absent ones.
func removeSome(dbPath string, names []string) error {
	for _, n := range names {
		if err := syncdb.Remove(dbPath, []string{n}); err != nil && !strings.Contains(err.Error(), "no package named") {
			return err
		}
	}
	return nil
}

// commit writes a database archive (with its content-addressed signature
// first, when signing) under cond.
func (r *Repo) commit(ctx context.Context, scratch, kind, file string, cond Cond) (Object, error) {
	sha, size, err := HashFile(file)
	if err != nil {
		return Object{}, err
	}
	if r.Signer != nil {
		sig := file + ".sig"
		if err := r.Signer.Sign(ctx, file, sig); err != nil {
			return Object{}, fmt.Errorf("sign the %s database: %w", kind, err)
		}
		if _, err := r.Backend.Put(ctx, r.internal("sig", sha+".sig"), Source{Path: sig, Size: -1}, Cond{}); err != nil {
			return Object{}, fmt.Errorf("upload the signature of %s: %w", r.where(r.dbKey(kind)), err)
		}
	}
	o, err := r.Backend.Put(ctx, r.dbKey(kind), Source{Path: file, Size: size, SHA256: sha}, cond)
	if err != nil {
		return Object{}, fmt.Errorf("write %s: %w", r.where(r.dbKey(kind)), err)
	}
	o.SHA256 = sha
	return o, nil
}

// committed is cur after this process's commit of newDB adding pkgs: what
// a re-read would find, unless someone wrote since.
func (cur *state) committed(db Object, pkgs []*pkg) *state {
	s := *cur
	s.entries = make(map[string]*alpm.Package, len(cur.entries)+len(pkgs))
	s.byName = make(map[string]*alpm.Package, len(cur.byName)+len(pkgs))
	names := map[string]bool{}
	for _, p := range pkgs {
		names[p.info.Name] = true
	}
	for f, e := range cur.entries {
		if !names[e.Name] {
			s.entries[f] = e
			s.byName[e.Name] = e
		}
	}
	for _, p := range pkgs {
		s.entries[p.name] = p.info
		s.byName[p.info.Name] = p.info
	}
	s.db, s.dbSHA256, s.dbPresent = db, db.SHA256, true
	return &s
}

// complete runs step 5 for journal j: see the top of this file. local maps
// package file names to local copies; others are read from the backend.
// after, when set, is the state this process just committed (so nothing
// is read again), and premerged the .files archive merged with it.
func (r *Repo) complete(ctx context.Context, scratch string, j *journal, local map[string]string, after *state, premerged string) error {
	cur := after
	if cur == nil {
		var err error
		if cur, err = r.read(ctx, scratch); err != nil {
			return err
		}
	}
	var errs []error
	for _, m := range j.Moves {
		e := cur.listed(m.Pkg)
		if e == nil || e.SHA256Sum != m.SHA256 {
			errs = append(errs, r.Backend.Delete(ctx, m.From)) // never committed, or superseded since
			continue
		}
		err := r.Backend.Move(ctx, m.From, r.key(m.To))
		if isNotExist(err) {
			// Moved already? Then the name holds the listed bytes.
			if o, serr := r.Backend.Stat(ctx, r.key(m.To)); serr == nil && !strings.HasSuffix(m.To, ".sig") {
				if same, herr := r.holds(ctx, o, m.SHA256); herr == nil && same {
					continue
				}
			} else if serr == nil {
				continue
			}
			errs = append(errs, fmt.Errorf("%s lists %s, but its staged copy %s is gone: run portmake verify --repair", r.where(r.DBKey()), m.To, m.From))
			continue
		}
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := r.completeFiles(ctx, scratch, cur, j, local, premerged); err != nil {
		return err
	}
	if err := r.syncDerived(ctx, scratch, "db", cur.db, cur.dbSHA256); err != nil {
		return err
	}
	for _, d := range j.Deletes {
		if cur.listed(d.Pkg) != nil {
			continue
		}
		if err := r.Backend.Delete(ctx, d.Key); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return r.Backend.Delete(ctx, r.journalKey(j.ID))
}

// completeFiles merges the journal's packages that the database lists into
// the .files database, and drops the removed ones it no longer lists.
func (r *Repo) completeFiles(ctx context.Context, scratch string, cur *state, j *journal, local map[string]string, premerged string) error {
	var add []string
	dl, err := os.MkdirTemp(scratch, "pkgs-")
	if err != nil {
		return err
	}
	for _, name := range j.Added {
		if cur.listed(name) == nil {
			continue
		}
		if p, ok := local[name]; ok {
			add = append(add, p)
			continue
		}
		p := filepath.Join(dl, name)
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		_, err = r.Backend.Get(ctx, r.key(name), f)
		f.Close()
		if err != nil {
			return fmt.Errorf("read %s to list its files: %w", r.where(r.key(name)), err)
		}
		if sig := cur.listed(name).PGPSig; sig != "" {
			// Keep %PGPSIG% as the database has it.
			var buf bytes.Buffer
			if _, err := r.Backend.Get(ctx, r.key(name+".sig"), &buf); err == nil {
				os.WriteFile(p+".sig", buf.Bytes(), 0o644)
			}
		}
		add = append(add, p)
	}
	var remove []string
	for _, n := range j.Removed {
		if cur.byName[n] == nil {
			remove = append(remove, n)
		}
	}
	files, filesSHA := cur.files, cur.filesSHA256
	for attempt := 1; len(add) > 0 || len(remove) > 0; attempt++ {
		newFiles := premerged
		if attempt > 1 || newFiles == "" {
			if newFiles, err = r.merge(ctx, cur, add, remove, "files"); err != nil {
				return err
			}
		}
		o, err := r.commit(ctx, scratch, "files", newFiles, condFor(cur.files, cur.filesPresent))
		if err == nil {
			files, filesSHA = o, o.SHA256
			break
		}
		if !errors.Is(err, ErrPrecondition) || attempt >= r.retries() {
			return err
		}
		if cur, err = r.read(ctx, scratch); err != nil {
			return err
		}
	}
	return r.syncDerived(ctx, scratch, "files", files, filesSHA)
}

// syncDerived makes "<repo>.<kind>" and the signatures of the kind's
// database agree with the database as it is now. Other writers may commit
// meanwhile, so it loops until the database did not change under it.
func (r *Repo) syncDerived(ctx context.Context, scratch, kind string, known Object, knownSHA string) error {
	primary, alias := r.dbKey(kind), r.key(r.Name+"."+kind)
	for attempt := 1; attempt <= r.retries(); attempt++ {
		p, err := r.Backend.Stat(ctx, primary)
		if isNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		sha := p.SHA256
		if p.ETag == known.ETag && knownSHA != "" {
			sha = knownSHA
		}
		if sha == "" {
			got, err := r.Backend.Get(ctx, primary, io.Discard)
			if err != nil {
				return err
			}
			sha = got.SHA256
		}
		if r.Signer != nil {
			if err := r.syncSig(ctx, scratch, primary, alias, sha); err != nil {
				return err
			}
		}
		if err := r.Backend.Copy(ctx, primary, alias, p.ETag, true); err != nil {
			if errors.Is(err, ErrPrecondition) {
				continue
			}
			return fmt.Errorf("update %s: %w", r.where(alias), err)
		}
		p2, err := r.Backend.Stat(ctx, primary)
		if err != nil {
			return err
		}
		if p2.ETag == p.ETag {
			return nil
		}
	}
	return fmt.Errorf("%s keeps changing; its alias and signature will be brought up to date by the next publish", r.where(primary))
}

// syncSig puts the signature of the database version sha beside it.
func (r *Repo) syncSig(ctx context.Context, scratch, primary, alias, sha string) error {
	sigKey := r.internal("sig", sha+".sig")
	if _, err := r.Backend.Stat(ctx, sigKey); isNotExist(err) {
		// Written unsigned (or by a writer that died before its
		// signature): sign the bytes that are there.
		f, err := os.CreateTemp(scratch, "db-*")
		if err != nil {
			return err
		}
		got, err := r.Backend.Get(ctx, primary, f)
		f.Close()
		if err != nil {
			return err
		}
		if got.SHA256 != sha {
			return fmt.Errorf("%s: %w", r.where(primary), ErrPrecondition)
		}
		if err := r.Signer.Sign(ctx, f.Name(), f.Name()+".sig"); err != nil {
			return fmt.Errorf("sign %s: %w", r.where(primary), err)
		}
		if _, err := r.Backend.Put(ctx, sigKey, Source{Path: f.Name() + ".sig", Size: -1}, Cond{}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := r.Backend.Copy(ctx, sigKey, primary+".sig", "", false); err != nil {
		return fmt.Errorf("update %s.sig: %w", r.where(primary), err)
	}
	if err := r.Backend.Copy(ctx, primary+".sig", alias+".sig", "", true); err != nil {
		return fmt.Errorf("update %s.sig: %w", r.where(alias), err)
	}
	return nil
}

// Recover completes or rolls back what interrupted publishes left: their
// journals (see the top of this file), temporary files, and staged files
// and database signatures nothing needs. It takes the repository lock.
func (r *Repo) Recover(ctx context.Context) error {
	if err := r.check(); err != nil {
		return err
	}
	unlock, err := r.lock(ctx)
	if err != nil {
		return err
	}
	unlock()
	return nil
}

// lock takes the repository lock and finishes (or rolls back) whatever an
// interrupted writer left, so every writer starts from a consistent
// repository. It returns the unlock; on an error the lock is released.
func (r *Repo) lock(ctx context.Context) (func(), error) {
	unlock, err := r.Backend.Lock(ctx, r.DBKey())
	if err != nil {
		return nil, err
	}
	if err := r.recover(ctx); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

func (r *Repo) recover(ctx context.Context) error {
	scratch, err := os.MkdirTemp(r.TempDir, "portmake-recover-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	// Only portmake's own objects matter here: a repository of 14,000
	// packages is not listed on every publish.
	objs, err := r.Backend.List(ctx, r.internal(""), true)
	if err != nil {
		return fmt.Errorf("list %s: %w", r.where(r.internal("")), err)
	}
	if r.Backend.Exclusive() {
		top, err := r.Backend.List(ctx, r.dir(), false)
		if err != nil {
			return fmt.Errorf("list %s: %w", r.where(r.dir()), err)
		}
		for _, o := range top {
			if strings.HasPrefix(base(o.Key), tmpPrefix) {
				objs = append(objs, o)
			}
		}
	}
	live := map[string]bool{} // staged keys of journals left alone
	var errs []error
	for _, o := range objs {
		if !strings.HasPrefix(o.Key, r.internal("journal")+"/") || !strings.HasSuffix(o.Key, ".json") {
			continue
		}
		var buf bytes.Buffer
		if _, err := r.Backend.Get(ctx, o.Key, &buf); err != nil {
			if isNotExist(err) {
				continue // completed by its writer meanwhile
			}
			return err
		}
		var j journal
		if err := json.Unmarshal(buf.Bytes(), &j); err != nil || j.ID == "" || r.journalKey(j.ID) != o.Key {
			r.log().Warn("removing an unreadable publish journal", "journal", r.where(o.Key), "err", err)
			errs = append(errs, r.Backend.Delete(ctx, o.Key))
			continue
		}
		if !r.Backend.Exclusive() && !r.gone(&j) {
			for _, m := range j.Moves {
				live[m.From] = true
			}
			continue
		}
		r.log().Warn("finishing an interrupted publish", "repo", r.Name, "journal", j.ID, "host", j.Host, "pid", j.PID, "started", j.Started)
		if err := r.complete(ctx, scratch, &j, nil, nil, ""); err != nil {
			return fmt.Errorf("finish the interrupted publish %s in %s: %w", j.ID, r.where(r.dir()), err)
		}
	}
	if a, ok := r.Backend.(interface {
		AbortStale(ctx context.Context, dir string, cutoff time.Time) error
	}); ok {
		if err := a.AbortStale(ctx, r.dir(), time.Now().Add(-r.lease())); err != nil {
			errs = append(errs, err)
		}
	}
	cur, err := r.read(ctx, scratch)
	if err != nil {
		return err
	}
	curSig := map[string]bool{cur.dbSHA256: true, cur.filesSHA256: true}
	for _, o := range objs {
		old := r.Backend.Exclusive() || time.Since(o.ModTime) > r.lease()
		switch {
		case strings.HasPrefix(base(o.Key), tmpPrefix) && path.Dir(o.Key)+"/" == r.dir() && r.Backend.Exclusive():
			// A temporary file of a writer that is gone (the lock is ours).
			r.log().Info("removing a leftover temporary file", "file", r.where(o.Key))
			errs = append(errs, r.Backend.Delete(ctx, o.Key))
		case strings.HasPrefix(o.Key, r.internal("staged")+"/") && !live[o.Key] && old:
			if _, err := r.Backend.Stat(ctx, o.Key); err == nil {
				errs = append(errs, r.Backend.Delete(ctx, o.Key))
			}
		case strings.HasPrefix(o.Key, r.internal("sig")+"/") && old:
			sha := strings.TrimSuffix(base(o.Key), ".sig")
			if !curSig[sha] {
				errs = append(errs, r.Backend.Delete(ctx, o.Key))
			}
		}
	}
	return errors.Join(errs...)
}

// gone reports whether a journal's writer is no longer running.
func (r *Repo) gone(j *journal) bool {
	if time.Since(j.Started) > r.lease() {
		return true
	}
	host, _ := os.Hostname()
	if j.Host != host {
		return false
	}
	if j.PID == os.Getpid() {
		return false
	}
	if err := syscall.Kill(j.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return true
	}
	start, ok := procStartTime(j.PID)
	return ok && start.After(j.Started.Add(2*time.Second))
}

// names returns the sorted file names of a state's entries.
func (s *state) names() []string {
	out := make([]string, 0, len(s.entries))
	for n := range s.entries {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
