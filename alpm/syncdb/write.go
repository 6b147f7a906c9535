package syncdb

// How Add and Remove change a database, and what they promise.
//
// They do what repo-add and repo-remove (pacman 6.0.2) do, with the same
// files on disk, so that either tool can take over from the other:
//
//   - "<repo>.db.tar.<ext>" and "<repo>.files.tar.<ext>" are always both
//     written, with the symlinks "<repo>.db" and "<repo>.files" pointing at
//     them, and the previous archives kept as "<file>.old". The compression
//     comes from the name: .tar.gz, .tar.zst, .tar.xz or plain .tar.
//   - "<db path>.lck", created exclusively, locks the database against a
//     concurrent portmake or repo-add.
//   - Entries that are not replaced or removed are copied through with
//     their contents byte for byte, whatever fields they hold.
//   - A package replaces every entry with the same pkgname, whatever its
//     version. An entry's pkgname is its directory name without the last
//     two '-'-separated parts, as repo-add's find_pkgentry reads it.
//
// Everything that can fail is checked before anything is written: every
// package file is read and its relations checked against
// alpm-package-relation(7) (and every bad one reported, not just the first),
// both existing archives are read to the end, and every name is checked.
// Then each archive is written to a temporary file in the same directory,
// synced, and renamed over the old one, and the directory is synced, so a
// crash leaves either the old or the new archive, never a torn one. The two
// archives are replaced one after the other, as repo-add does.
//
// Where they do better than repo-add:
//   - repo-remove with one unknown name among known ones changes nothing
//     and fails, like repo-remove; the error names every unknown name.
//   - A stale "<file>.sig" (portmake does not sign) is moved to
//     "<file>.old.sig" instead of being left beside an archive it does not
//     sign, and the "<repo>.db.sig" link is removed.
//   - With RemoveOld, only package files of entries that were in the
//     database before the call are deleted, never a file given to Add, and
//     only if the recorded %FILENAME% is a plain base name.
//   - Entries are matched by pkgname in the .files archive too, so an
//     inconsistent pair of archives is repaired rather than kept.
//   - A package whose relations break alpm-package-relation(7) is refused
//     (repo-add writes a dependency named "%VERSION%" as it is, and the
//     entry then says something else to every reader).

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/pkgfile"
	"github.com/ulikunitz/xz"
)

// AddOptions are repo-add's options that change what Add does.
type AddOptions struct {
	// RemoveOld deletes the package file (and its .sig) of each entry that
	// a package of another version replaced, after the new databases are
	// in place, like repo-add -R. The old file is looked for in the
	// directory of the package file that replaced it.
	RemoveOld bool
	// NewOnly skips a package whose exact name and version already has an
	// entry, like repo-add -n.
	NewOnly bool
	// PreventDowngrade skips a package when the database already has a
	// newer version of it, like repo-add -p.
	PreventDowngrade bool
	// Log receives repo-add's warnings (an entry for the same version
	// already existed; a newer version is already present) at warn level
	// and one line per added, replaced or skipped package at info level.
	// Nil discards them.
	Log *slog.Logger
}

// Add adds the package files to the database at dbPath
// ("<dir>/<repo>.db.tar.<ext>") and its .files sibling, creating them when
// they do not exist. See the top of this file for what it guarantees.
func Add(dbPath string, pkgFiles []string, opt AddOptions) error {
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	loc, err := parseDBPath(dbPath)
	if err != nil {
		return err
	}
	unlock, err := loc.lock()
	if err != nil {
		return err
	}
	defer unlock()

	pkgs := make([]*alpm.Package, len(pkgFiles))
	var errs []error
	for i, f := range pkgFiles {
		p, err := pkgfile.Read(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("add %s: %w", f, err))
			continue
		}
		// A relation that breaks alpm's rules is one pacman reads
		// differently from what was meant ("%VERSION%" as a dependency,
		// a description with a line break), or not at all.
		if err := p.CheckRelations(); err != nil {
			errs = append(errs, fmt.Errorf("add %s: .PKGINFO: %w", f, err))
			continue
		}
		pkgs[i] = p
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	db, err := loc.load(true)
	if err != nil {
		return err
	}

	// given holds the added files, which RemoveOld must never delete.
	given := map[string]bool{}
	for _, f := range pkgFiles {
		given[absPath(f)] = true
	}
	var del []string
	for i, p := range pkgs {
		dir := p.Name + "-" + p.Version
		cur := db.find(p.Name)
		if db.db.has(dir) {
			log.Warn("an entry for this version already existed", "db", dbPath, "entry", dir)
			if opt.NewOnly {
				log.Info("skipped: already in the database", "package", pkgFiles[i])
				continue
			}
		} else if len(cur) > 0 {
			oldVer := db.version(cur[0])
			if alpm.Compare(oldVer, p.Version) > 0 {
				log.Warn("a newer version is already present in the database", "db", dbPath, "package", p.Name, "present", oldVer, "adding", p.Version)
				if opt.PreventDowngrade {
					log.Info("skipped: would downgrade", "package", pkgFiles[i])
					continue
				}
			}
			if opt.RemoveOld {
				for _, d := range cur {
					g := db.db.groups[d]
					if g == nil || !g.original {
						continue
					}
					fn := descValue(g.file("desc"), "FILENAME")
					if fn == "" {
						continue
					}
					// Checked before anything is written: a hostile or
					// broken %FILENAME% must not delete a file elsewhere.
					if strings.ContainsAny(fn, "/\x00") || fn == "." || fn == ".." {
						return fmt.Errorf("%s: entry %s: %%FILENAME%% %q is not a plain file name; refusing to remove it", dbPath, d, fn)
					}
					if old := filepath.Join(filepath.Dir(pkgFiles[i]), fn); !given[absPath(old)] {
						del = append(del, old)
					}
				}
			}
		}
		for _, d := range cur {
			db.db.drop(d)
			db.files.drop(d)
			log.Info("replacing entry", "db", dbPath, "entry", d)
		}
		desc := FormatDesc(p)
		db.db.put(dir, member{"desc", desc})
		db.files.put(dir, member{"desc", desc}, member{"files", FormatFiles(p)})
		log.Info("adding entry", "db", dbPath, "entry", dir, "file", pkgFiles[i])
	}

	if err := loc.save(db); err != nil {
		return err
	}
	for _, p := range del {
		for _, f := range []string{p, p + ".sig"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			} else if err == nil {
				log.Info("removed old package file", "file", f)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s updated, but removing old package files failed: %w", dbPath, err)
	}
	return nil
}

// Remove removes the packages with the given names from the database at
// dbPath and its .files sibling, like repo-remove. The database must exist.
// If any name has no entry, nothing is written and the error names every
// missing one. Removing the last package leaves a valid empty database.
func Remove(dbPath string, names []string) error {
	loc, err := parseDBPath(dbPath)
	if err != nil {
		return err
	}
	unlock, err := loc.lock()
	if err != nil {
		return err
	}
	defer unlock()
	db, err := loc.load(false)
	if err != nil {
		return err
	}
	var missing []string
	for _, n := range names {
		cur := db.find(n)
		if len(cur) == 0 && !slicesContains(missing, n) {
			missing = append(missing, n)
			continue
		}
		for _, d := range cur {
			db.db.drop(d)
			db.files.drop(d)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: no package named %s; nothing changed", dbPath, strings.Join(missing, ", "))
	}
	return loc.save(db)
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// location names the files of one repository.
type location struct {
	path   string // as given
	dir    string
	prefix string // repository name
	suffix string // "tar.gz", "tar.zst", ...
	comp   Compression
}

// parseDBPath splits "<dir>/<repo>.db.<suffix>" as repo-add does (the prefix
// ends at the last ".db.") and picks the compression from the suffix.
func parseDBPath(p string) (location, error) {
	loc := location{path: p, dir: filepath.Dir(p)}
	base := filepath.Base(p)
	i := strings.LastIndex(base, ".db.")
	if i <= 0 {
		return loc, fmt.Errorf("%s: a database file name must look like <repo>.db.tar.gz or <repo>.db.tar.zst", p)
	}
	loc.prefix, loc.suffix = base[:i], base[i+len(".db."):]
	switch loc.suffix {
	case "tar":
		loc.comp = None
	case "tar.gz":
		loc.comp = Gzip
	case "tar.zst":
		loc.comp = Zstd
	case "tar.xz":
		loc.comp = Xz
	case "tar.bz2":
		return loc, fmt.Errorf("%s: writing bzip2 databases is not supported; use .db.tar.gz, .db.tar.zst or .db.tar.xz", p)
	default:
		return loc, fmt.Errorf("%s: %q is not a database archive extension (want .db.tar.gz, .db.tar.zst, .db.tar.xz or .db.tar)", p, ".db."+loc.suffix)
	}
	st, err := os.Stat(loc.dir)
	if err != nil {
		return loc, fmt.Errorf("%s: %w", p, err)
	}
	if !st.IsDir() {
		return loc, fmt.Errorf("%s: %s is not a directory", p, loc.dir)
	}
	return loc, nil
}

// archivePath returns the path of the "db" or "files" archive.
func (l location) archivePath(kind string) string {
	return filepath.Join(l.dir, l.prefix+"."+kind+"."+l.suffix)
}

// lock takes repo-add's lock file, so portmake and repo-add exclude each
// other.
func (l location) lock() (func(), error) {
	name := l.path + ".lck"
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			holder, _ := os.ReadFile(name)
			return nil, fmt.Errorf("%s is locked by %s (process %s); if no repo-add or portmake is running, remove the lock file", l.path, name, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("lock %s: %w", l.path, err)
	}
	fmt.Fprintf(f, "%d\n", os.Getpid())
	f.Close()
	return func() { os.Remove(name) }, nil
}

// pair is the two archives of one repository, in memory.
type pair struct {
	db, files *archive
}

// find returns the entry directories in the db archive whose pkgname is
// name, sorted.
func (p *pair) find(name string) []string {
	var out []string
	for d := range p.db.groups {
		if entryName(d) == name {
			out = append(out, d)
		}
	}
	// The files archive can hold entries the db archive lacks; they go too.
	for d := range p.files.groups {
		if entryName(d) == name && p.db.groups[d] == nil {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// version returns an entry's %VERSION% (what repo-add compares), else the
// version its directory name says.
func (p *pair) version(dir string) string {
	if g := p.db.groups[dir]; g != nil {
		if v := descValue(g.file("desc"), "VERSION"); v != "" {
			return v
		}
	}
	return strings.TrimPrefix(dir, entryName(dir)+"-")
}

// entryName is repo-add's ${dir%-*-*}: the directory name without its last
// two '-'-separated parts, or "" when there are not two.
func entryName(dir string) string {
	i := strings.LastIndexByte(dir, '-')
	if i < 0 {
		return ""
	}
	j := strings.LastIndexByte(dir[:i], '-')
	if j <= 0 {
		return ""
	}
	return dir[:j]
}

// descValue returns the first value of %KEY% in a desc file, like repo-add's
// sed -n '/^%KEY%$/ {n;p;q}'.
func descValue(desc []byte, key string) string {
	hdr := "%" + key + "%"
	for len(desc) > 0 {
		var line []byte
		line, desc, _ = bytes.Cut(desc, []byte{'\n'})
		if string(line) == hdr {
			v, _, _ := bytes.Cut(desc, []byte{'\n'})
			return string(v)
		}
	}
	return ""
}

// archive is one database archive in memory: its entry directories.
type archive struct {
	groups map[string]*group
}

// group is one top-level directory of an archive ("<name>-<version>/") and
// the members under it, in archive order.
type group struct {
	dirHdr   *tar.Header // nil if the archive has no header for the directory itself
	dirRaw   []byte      // dirHdr's blocks as read, for an original group
	members  []stored
	original bool // read from the existing archive
}

type stored struct {
	hdr  *tar.Header
	data []byte
	// raw is the member's blocks as read from the existing archive
	// (extended headers, header, data and padding), written back as they
	// are: re-encoding 14,000 unchanged headers was a third of a publish.
	raw []byte
}

type member struct {
	name string
	data []byte
}

func (g *group) file(name string) []byte {
	for _, m := range g.members {
		if path := m.hdr.Name; strings.HasSuffix(path, "/"+name) && strings.Count(strings.Trim(path, "/"), "/") == 1 {
			return m.data
		}
	}
	return nil
}

func (a *archive) has(dir string) bool { return a.groups[dir] != nil }

func (a *archive) drop(dir string) {
	delete(a.groups, dir)
}

// put adds a new entry directory holding the members.
func (a *archive) put(dir string, members ...member) {
	now := time.Now().Truncate(time.Second)
	g := &group{dirHdr: &tar.Header{Name: dir + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now, Uname: "root", Gname: "root"}}
	for _, m := range members {
		g.members = append(g.members, stored{
			hdr:  &tar.Header{Name: dir + "/" + m.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(m.data)), ModTime: now, Uname: "root", Gname: "root"},
			data: m.data,
		})
	}
	a.groups[dir] = g
}

// load reads both archives. A missing db archive is an empty one when
// creating is allowed (Add) and an error otherwise (Remove); a missing
// .files archive is always an empty one, as with repo-add.
func (l location) load(create bool) (*pair, error) {
	db, err := readArchive(l.archivePath("db"), create)
	if err != nil {
		return nil, err
	}
	files, err := readArchive(l.archivePath("files"), true)
	if err != nil {
		return nil, err
	}
	// repo-add's sanity check: an archive with entries must have a desc.
	if len(db.groups) > 0 {
		ok := false
		for _, g := range db.groups {
			if g.file("desc") != nil {
				ok = true
				break
			}
		}
		if !ok {
			return nil, fmt.Errorf("%s: not a pacman database: no */desc entries", l.archivePath("db"))
		}
	}
	return &pair{db: db, files: files}, nil
}

// readArchive reads a whole database archive into memory. It must be a
// complete tar archive: the compressed stream is read to its end, which
// checks gzip's and zstd's checksums, and the tar must end with its zero
// end-of-archive block, so a truncated file is an error and not a database
// that silently lost entries.
func readArchive(path string, mayBeMissing bool) (*archive, error) {
	a := &archive{groups: map[string]*group{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && mayBeMissing {
		return a, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dr, _, err := Decompress(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer dr.Close()
	raw, err := io.ReadAll(dr)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(raw) < 1024 || len(raw)%512 != 0 || !allZero(raw[len(raw)-512:]) {
		return nil, fmt.Errorf("read %s: not a complete tar archive (%d bytes, no end-of-archive block)", path, len(raw))
	}
	// The package's own tar reader: it checks every header's checksum and
	// keeps only what is needed here, since unchanged members are written
	// back as the blocks they were read from.
	tr := &tarReader{r: bytes.NewReader(raw)}
	var start int64 // where the next member's blocks begin
	for {
		m, err := tr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if m.size < 0 || m.size > int64(len(raw))-tr.n {
			return nil, fmt.Errorf("read %s: entry %s: %w", path, m.name, io.ErrUnexpectedEOF)
		}
		data := raw[tr.n : tr.n+m.size : tr.n+m.size]
		if err := tr.skip(); err != nil {
			return nil, fmt.Errorf("read %s: entry %s: %w", path, m.name, err)
		}
		blocks := raw[start:tr.n:tr.n]
		start = tr.n
		name := strings.TrimPrefix(m.name, "./")
		top, _, _ := strings.Cut(name, "/")
		if top == "" || top == "." || top == ".." {
			return nil, fmt.Errorf("read %s: entry %q: not inside a package directory", path, m.name)
		}
		g := a.groups[top]
		if g == nil {
			g = &group{original: true}
			a.groups[top] = g
		}
		hdr := &tar.Header{Name: m.name, Typeflag: m.typ, Size: m.size}
		if m.typ == tar.TypeDir && strings.Trim(name, "/") == top {
			g.dirHdr, g.dirRaw = hdr, blocks
			continue
		}
		g.members = append(g.members, stored{hdr: hdr, data: data, raw: blocks})
	}
	return a, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// encode writes the archive as a tar stream, entry directories in byte
// order, each directory header first.
func (a *archive) encode(w io.Writer) error {
	dirs := make([]string, 0, len(a.groups))
	for d := range a.groups {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	tw := tar.NewWriter(w)
	// writeRaw copies a member's blocks as read; tar.Writer writes
	// straight to w, so after Flush (the previous member's padding) the
	// stream is at a block boundary.
	writeRaw := func(name string, blocks []byte) error {
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("entry %s: %w", name, err)
		}
		if _, err := w.Write(blocks); err != nil {
			return fmt.Errorf("entry %s: %w", name, err)
		}
		return nil
	}
	for _, d := range dirs {
		g := a.groups[d]
		if g.dirRaw != nil {
			if err := writeRaw(d, g.dirRaw); err != nil {
				return err
			}
		} else if g.dirHdr != nil {
			if err := tw.WriteHeader(g.dirHdr); err != nil {
				return fmt.Errorf("entry %s: %w", d, err)
			}
		}
		for _, m := range g.members {
			if m.raw != nil {
				if err := writeRaw(m.hdr.Name, m.raw); err != nil {
					return err
				}
				continue
			}
			if err := tw.WriteHeader(m.hdr); err != nil {
				return fmt.Errorf("entry %s: %w", m.hdr.Name, err)
			}
			if _, err := tw.Write(m.data); err != nil {
				return fmt.Errorf("entry %s: %w", m.hdr.Name, err)
			}
		}
	}
	return tw.Close()
}

// save writes both archives to temporary files, then rotates them into
// place with their .old backups and symlinks, then syncs the directory.
func (l location) save(p *pair) error {
	kinds := []struct {
		kind string
		a    *archive
	}{{"db", p.db}, {"files", p.files}}
	tmps := make([]string, len(kinds))
	defer func() {
		for _, t := range tmps {
			if t != "" {
				os.Remove(t)
			}
		}
	}()
	for i, k := range kinds {
		t, err := l.writeTemp(l.archivePath(k.kind), k.a)
		if err != nil {
			return err
		}
		tmps[i] = t
	}
	for i, k := range kinds {
		if err := l.rotate(k.kind, tmps[i]); err != nil {
			return err
		}
		tmps[i] = ""
	}
	return syncDir(l.dir)
}

// writeTemp writes a compressed archive to a temporary file beside target
// (same file system, so the rename is atomic) and syncs it.
func (l location) writeTemp(target string, a *archive) (string, error) {
	f, err := os.CreateTemp(l.dir, ".tmp."+filepath.Base(target)+".*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", target, err)
	}
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", target, err)
	}
	// repo-add creates databases under umask 022; CreateTemp uses 0600.
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	cw, err := compressor(f, l.comp)
	if err != nil {
		return fail(err)
	}
	if err := a.encode(cw); err != nil {
		return fail(err)
	}
	if err := cw.Close(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", target, err)
	}
	return f.Name(), nil
}

// rotate moves tmp into place as the kind's archive, keeping the previous
// one as .old (a hard link, so the archive never goes missing), and points
// the "<repo>.<kind>" symlink at it.
func (l location) rotate(kind, tmp string) error {
	target := l.archivePath(kind)
	if st, err := os.Lstat(target); err == nil && st.Mode().IsRegular() {
		old := target + ".old"
		if err := os.Remove(old); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := os.Link(target, old); err != nil {
			if err := copyFile(target, old); err != nil {
				return fmt.Errorf("keep %s: %w", old, err)
			}
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return err
	}
	// A signature of the previous archive signs nothing now.
	if err := os.Rename(target+".sig", target+".old.sig"); errors.Is(err, fs.ErrNotExist) {
		if err := os.Remove(target + ".old.sig"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	} else if err != nil {
		return err
	}
	link := filepath.Join(l.dir, l.prefix+"."+kind)
	if err := os.Remove(link + ".sig"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmpLink := filepath.Join(l.dir, ".tmp."+l.prefix+"."+kind+"."+strconv.Itoa(os.Getpid()))
	os.Remove(tmpLink)
	if err := os.Symlink(filepath.Base(target), tmpLink); err != nil {
		return fmt.Errorf("link %s: %w", link, err)
	}
	if err := os.Rename(tmpLink, link); err != nil {
		os.Remove(tmpLink)
		return fmt.Errorf("link %s: %w", link, err)
	}
	return nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// compressor wraps w in the database's compression, at the levels repo-add's
// default commands use (gzip -6 without name or time, zstd -3, xz -6).
// gzip is klauspost's: the same format, about twice as fast as the
// standard library's at level 6.
func compressor(w io.Writer, c Compression) (io.WriteCloser, error) {
	switch c {
	case Gzip:
		return gzip.NewWriterLevel(w, gzip.DefaultCompression)
	case Zstd:
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault))
	case Xz:
		return xz.NewWriter(w)
	case None:
		return nopWriteCloser{w}, nil
	}
	return nil, fmt.Errorf("writing %s is not supported", c)
}
