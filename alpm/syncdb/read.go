// Package syncdb reads and writes pacman sync databases (alpm-repo-db(7)):
// compressed tar archives with one "<name>-<version>/" directory per package
// holding desc, depends and files entries. It owns the archive layout, the
// compression detection and the desc format; the Package record itself and
// the version and relation rules live in package alpm.
//
// It must not fetch anything: callers hand it a reader or a local path, and
// a source string used to name the database in errors.
package syncdb

// How Read decides what is a database.
//
// A database that cannot be read is an error, never an empty repository:
// an empty repository would make a planner think every package is missing.
// So Read fails on a truncated or corrupt compressed stream (the decoder's
// checksum and length checks, run to the very end of the stream), on a tar
// member cut short, and on data that is not a tar archive at all (an HTML
// error page, random bytes). The subtle cases are the empty ones:
//
//   - a 0-byte file (or a compressed stream of 0 bytes) is an error: it is
//     what an interrupted download leaves behind;
//   - an empty tar archive (its end-of-archive marker, zero blocks only) is
//     a valid empty repository: repo-add writes exactly that, gzipped to 45
//     bytes, when the last package is removed;
//   - a tar that stops at a member boundary without the end-of-archive
//     marker is truncated. Go's archive/tar reports a clean io.EOF there;
//     Read's own tar reader (tar.go) requires at least one 512-byte zero
//     block.
//
// Entries are merged per directory as libalpm does: desc, then depends
// (older and ALARM databases split the relations into it, sometimes before
// desc in archive order) and files (.files databases) all land in one
// Package. Unlike libalpm, which takes name and version from the directory
// name and only logs a mismatch, Read requires %NAME% and %VERSION% and
// requires them to agree with the directory, and refuses two entries with
// the same package name.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/portmake/portmake/alpm"
)

// DB is a parsed sync database.
type DB struct {
	Name     string          // repository name, from the file name (see RepoName)
	Packages []*alpm.Package // sorted by Name (byte order, as pacman sorts its cache)
}

// maxEntrySize bounds one desc/depends/files entry. The largest real files
// entries are a few MiB; anything far beyond is a broken or hostile archive.
const maxEntrySize = 64 << 20

// ReadFile reads the sync database at path.
func ReadFile(path string) (*DB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	return Read(f, path)
}

// Read parses a sync database from r. The compression (gzip, zstd, xz,
// bzip2 or none) is detected from the magic bytes. source, a path or URL,
// names the database in errors and gives DB.Name.
func Read(r io.Reader, source string) (*DB, error) {
	db, err := read(r, source)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", source, err)
	}
	return db, nil
}

// entry collects the files of one package directory.
type entry struct {
	dir  string // "name-version"
	pkg  *alpm.Package
	desc bool // a desc file was read
}

func read(r io.Reader, source string) (*DB, error) {
	dec, comp, err := Decompress(r)
	if err != nil {
		return nil, err
	}
	// Decompression is half of the work; run it on its own goroutine so
	// that it overlaps with tar and desc parsing.
	br := newPrefetcher(dec)
	defer br.stop()
	tr := &tarReader{r: br}

	var (
		entries []*entry
		byDir   = map[string]*entry{}
		cur     *entry
		buf     []byte
		ps      descParser
		slab    []alpm.Package
		last    string // name of the last tar member read, for errors
	)
	for {
		hdr, err := tr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			switch {
			case tr.n == 0 && err == errNoEndMarker:
				return nil, errors.New("empty file: not a sync database (an empty repository is an empty tar archive, not an empty file)")
			case last != "":
				return nil, fmt.Errorf("after entry %q: %w", last, err)
			case err == errNoEndMarker:
				return nil, notTar(comp, tr.head, io.ErrUnexpectedEOF)
			}
			return nil, notTar(comp, tr.head, err)
		}
		last = hdr.name
		switch hdr.typ {
		case '5':
			// pacman ignores directory entries: a package exists once one
			// of its files is read.
			continue
		case '0':
		default:
			return nil, fmt.Errorf("entry %q: unexpected tar entry type %q", hdr.name, hdr.typ)
		}
		dir, file := path.Split(hdr.name)
		if dir == "" {
			return nil, fmt.Errorf("entry %q: a file outside any package directory (not a sync database?)", hdr.name)
		}
		dir = strings.TrimSuffix(dir, "/")
		if file != "desc" && file != "depends" && file != "files" {
			// libalpm warns about and skips unknown files in an entry.
			continue
		}
		if hdr.size > maxEntrySize {
			return nil, fmt.Errorf("entry %q: %d bytes is too large for a database entry", hdr.name, hdr.size)
		}
		if cap(buf) < int(hdr.size) {
			buf = make([]byte, hdr.size, hdr.size+hdr.size/2)
		}
		buf = buf[:hdr.size]
		if err := tr.read(buf); err != nil {
			return nil, fmt.Errorf("entry %q: %w", hdr.name, err)
		}

		if cur == nil || cur.dir != dir {
			cur = byDir[dir]
			if cur == nil {
				// Packages come from a slab: one allocation per 256.
				if len(slab) == 0 {
					slab = make([]alpm.Package, 256)
				}
				cur = &entry{dir: dir, pkg: &slab[0]}
				slab = slab[1:]
				byDir[dir] = cur
				entries = append(entries, cur)
			}
		}
		if file == "desc" {
			cur.desc = true
		}
		if err := ps.parse(string(buf), cur.pkg); err != nil {
			return nil, fmt.Errorf("entry %q: %w", hdr.name, err)
		}
	}

	// Read the compressed stream to its end, so that a truncated or corrupt
	// trailer (gzip CRC and length, zstd checksum) is still an error.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, fmt.Errorf("after the end of the archive: %w", err)
	}

	db := &DB{Name: RepoName(source), Packages: make([]*alpm.Package, 0, len(entries))}
	for _, e := range entries {
		p := e.pkg
		if !e.desc {
			return nil, fmt.Errorf("entry %q: package directory has no desc file", e.dir+"/")
		}
		where := e.dir + "/desc"
		switch {
		case p.Name == "":
			return nil, fmt.Errorf("entry %q: no %%NAME%%", where)
		case p.Version == "":
			return nil, fmt.Errorf("entry %q: no %%VERSION%%", where)
		case p.Name+"-"+p.Version != e.dir:
			return nil, fmt.Errorf("entry %q: %%NAME%% %q and %%VERSION%% %q do not match the directory %q", where, p.Name, p.Version, e.dir)
		}
		if p.Base == "" {
			p.Base = p.Name
		}
		db.Packages = append(db.Packages, p)
	}
	slices.SortFunc(db.Packages, func(a, b *alpm.Package) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(db.Packages); i++ {
		if a, b := db.Packages[i-1], db.Packages[i]; a.Name == b.Name {
			return nil, fmt.Errorf("entry %q: package %q is also in entry %q", b.Name+"-"+b.Version+"/", b.Name, a.Name+"-"+a.Version+"/")
		}
	}
	return db, nil
}

// notTar explains a stream that does not start with a tar header.
func notTar(comp Compression, head []byte, err error) error {
	what := "data"
	if comp != None {
		what = comp.String() + "-compressed data"
	}
	if len(head) == 0 {
		return fmt.Errorf("not a sync database: %s is not a tar archive: %w", what, err)
	}
	return fmt.Errorf("not a sync database: %s starting with %q is not a tar archive: %w", what, printable(head), err)
}

// printable returns the start of head with control bytes shown as '.', to
// hint at what the file really is ("<!DOCTYPE html>...").
func printable(head []byte) string {
	head = head[:min(len(head), 32)]
	out := make([]byte, len(head))
	for i, c := range head {
		if c < ' ' || c >= 0x7f {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

// Find returns the package called name, or nil.
func (db *DB) Find(name string) *alpm.Package {
	i := sort.Search(len(db.Packages), func(i int) bool { return db.Packages[i].Name >= name })
	if i < len(db.Packages) && db.Packages[i].Name == name {
		return db.Packages[i]
	}
	return nil
}

// compressionSuffixes are the file name endings of compressed databases
// (alpm-repo-db(7)).
var compressionSuffixes = []string{".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzo", ".lrz", ".lz", ".Z"}

// RepoName returns the repository name of a database path or URL: the base
// name without its database, tar and compression extensions
// (core.db.tar.gz, core.db and core.files all give core). A name without
// those extensions is returned as it is.
func RepoName(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 && strings.Contains(p, "://") {
		p = p[:i]
	}
	name := p
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	for _, s := range compressionSuffixes {
		if rest, ok := strings.CutSuffix(name, s); ok && strings.HasSuffix(rest, ".tar") {
			name = rest
			break
		}
	}
	name = strings.TrimSuffix(name, ".tar")
	for _, s := range []string{".db", ".files"} {
		if rest, ok := strings.CutSuffix(name, s); ok && rest != "" {
			return rest
		}
	}
	return name
}

// prefetcher decompresses on its own goroutine, a few chunks ahead of the
// reader. stop must be called once the reader is done; it waits for the
// goroutine and closes the decompressor.
type prefetcher struct {
	src  io.ReadCloser
	full chan chunk
	free chan []byte
	done chan struct{}
	wg   sync.WaitGroup

	cur  chunk
	off  int
	err  error
	once sync.Once
}

type chunk struct {
	buf []byte
	n   int
	err error
}

const (
	prefetchChunk = 16 << 10  // the first buffer; each next one doubles
	prefetchMax   = 256 << 10 // up to this size
	prefetchDepth = 4
)

func newPrefetcher(src io.ReadCloser) *prefetcher {
	p := &prefetcher{
		src:  src,
		full: make(chan chunk, prefetchDepth),
		free: make(chan []byte, prefetchDepth+1),
		done: make(chan struct{}),
	}
	p.wg.Add(1)
	go p.run()
	return p
}

func (p *prefetcher) run() {
	defer p.wg.Done()
	allocated := 0
	for {
		// Buffers are made as needed, so that a small database costs one
		// small buffer, not prefetchDepth big ones.
		var buf []byte
		select {
		case buf = <-p.free:
		default:
			if allocated <= prefetchDepth {
				buf = make([]byte, min(prefetchChunk<<allocated, prefetchMax))
				allocated++
				break
			}
			select {
			case buf = <-p.free:
			case <-p.done:
				return
			}
		}
		// Not io.ReadFull: it would turn the decoder's own
		// io.ErrUnexpectedEOF (a truncated stream) into a short read.
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var m int
			m, err = p.src.Read(buf[n:])
			n += m
		}
		select {
		case p.full <- chunk{buf: buf, n: n, err: err}:
		case <-p.done:
			return
		}
		if err != nil {
			return
		}
	}
}

func (p *prefetcher) Read(b []byte) (int, error) {
	for p.off >= p.cur.n {
		if p.err != nil {
			return 0, p.err
		}
		if p.cur.buf != nil {
			p.free <- p.cur.buf
		}
		p.cur = <-p.full
		p.off = 0
		if p.cur.err != nil {
			p.err = p.cur.err
		}
	}
	n := copy(b, p.cur.buf[p.off:p.cur.n])
	p.off += n
	return n, nil
}

func (p *prefetcher) stop() {
	p.once.Do(func() {
		close(p.done)
		p.wg.Wait()
		p.src.Close()
	})
}
