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
// A database costs bounded memory and time whatever it holds (Limits):
// every member's size is checked against the limits before a byte of it is
// read or skipped, so a 54 KB file claiming gigabytes fails at once, and
// what follows the end-of-archive marker is read only a little way, to
// reach the compressed stream's checksum.
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

// Limits bound what a reader accepts, so that a broken or hostile database
// costs bounded memory and time: a 54 KB zstd file can hold gigabytes of
// zeros or of one repeated line. The defaults are generous: the largest
// real database in the test corpus (14 MB decompressed, 3,900 packages,
// 154,000 values, entries of at most 7 KB, lines of at most 6 KB) and a
// full Arch .files database (a few hundred MB) pass with a wide margin.
// A database over a limit is an error that names the limit.
type Limits struct {
	// Size is the most decompressed bytes read: the whole tar stream.
	Size int64
	// Entry bounds one desc or depends file.
	Entry int64
	// Files bounds one files file (the file list of a .files database).
	Files int64
	// Line bounds one line of any file; libalpm refuses lines over 512 KiB.
	Line int
	// Values bounds the number of values in the whole database, since each
	// one costs memory beyond its text.
	Values int
	// Packages bounds the number of package entries.
	Packages int
	// Trailer is how much is read past the end-of-archive marker to reach
	// the end of the compressed stream (whose checksum proves the download
	// complete). Tar writers pad to a 10 KiB record; beyond this limit the
	// rest is left unread, as pacman leaves it.
	Trailer int64
}

// DefaultLimits are the limits Read, ReadFile and ReadIndex apply.
var DefaultLimits = Limits{
	Size:     1 << 30,
	Entry:    1 << 20,
	Files:    64 << 20,
	Line:     512 << 10,
	Values:   32 << 20,
	Packages: 256 << 10,
	Trailer:  1 << 20,
}

// orDefault fills the zero fields of l from DefaultLimits.
func (l Limits) orDefault() Limits {
	d := DefaultLimits
	pick(&d.Size, l.Size)
	pick(&d.Entry, l.Entry)
	pick(&d.Files, l.Files)
	pick(&d.Line, l.Line)
	pick(&d.Values, l.Values)
	pick(&d.Packages, l.Packages)
	pick(&d.Trailer, l.Trailer)
	return d
}

func pick[T int | int64](dst *T, v T) {
	if v > 0 {
		*dst = v
	}
}

// ReadFile reads the sync database at path.
func ReadFile(path string) (*DB, error) {
	return ReadFileLimited(path, Limits{})
}

// ReadFileLimited is ReadFile with limits; zero fields take their default.
func ReadFileLimited(path string, lim Limits) (*DB, error) {
	return readFile(path, func(r io.Reader, source string) (*DB, error) { return ReadLimited(r, source, lim) })
}

// readFile opens path and reads it with read; an error opening it names
// it like read's errors do.
func readFile[T any](path string, read func(r io.Reader, source string) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	return read(f, path)
}

// named returns a function that prefixes an error with "read SOURCE: ".
func named[T any](source string) func(T, error) (T, error) {
	return func(v T, err error) (T, error) {
		if err != nil {
			var zero T
			return zero, fmt.Errorf("read %s: %w", source, err)
		}
		return v, nil
	}
}

// Read parses a sync database from r. The compression (gzip, zstd, xz,
// bzip2 or none) is detected from the magic bytes. source, a path or URL,
// names the database in errors and gives DB.Name.
func Read(r io.Reader, source string) (*DB, error) {
	return ReadLimited(r, source, Limits{})
}

// ReadLimited is Read with limits; zero fields take their default.
func ReadLimited(r io.Reader, source string, lim Limits) (*DB, error) {
	return named[*DB](source)(readDB(r, source, lim.orDefault()))
}

// entry collects the files of one package directory.
type entry struct {
	dir  string // "name-version"
	pkg  *alpm.Package
	desc bool // a desc file was read
}

func readDB(r io.Reader, source string, lim Limits) (*DB, error) {
	var (
		ents = dirs[entry]{max: lim.Packages}
		ps   = descParser{line: lim.Line}
		out  pkgSink
		slab []alpm.Package
	)
	err := scan(r, lim, func(name, dir, file string, data []byte) error {
		cur, err := ents.get(dir, func() *entry {
			// Packages come from a slab: one allocation per 256.
			if len(slab) == 0 {
				slab = make([]alpm.Package, 256)
			}
			e := &entry{dir: dir, pkg: &slab[0]}
			slab = slab[1:]
			return e
		})
		if err != nil {
			return err
		}
		if file == "desc" {
			cur.desc = true
		}
		out.p = cur.pkg
		return ps.parseCounted(string(data), &out, lim.Values)
	})
	if err != nil {
		return nil, err
	}
	entries := ents.list
	db := &DB{Name: RepoName(source), Packages: make([]*alpm.Package, 0, len(entries))}
	for _, e := range entries {
		p := e.pkg
		if err := checkEntry(e.dir, e.desc, p.Name, p.Version); err != nil {
			return nil, err
		}
		if p.Base == "" {
			p.Base = p.Name
		}
		db.Packages = append(db.Packages, p)
	}
	slices.SortFunc(db.Packages, func(a, b *alpm.Package) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(db.Packages); i++ {
		if a, b := db.Packages[i-1], db.Packages[i]; a.Name == b.Name {
			return nil, duplicate(a.Name, a.Version, b.Version)
		}
	}
	return db, nil
}

// dirs collects an archive's package directories in the order they first
// appear; a directory's files need not be next to each other.
type dirs[T any] struct {
	list   []*T
	byDir  map[string]*T
	cur    *T
	curDir string
	max    int // the most directories allowed
}

// get returns the directory's collector, made by mk the first time.
func (d *dirs[T]) get(dir string, mk func() *T) (*T, error) {
	if d.cur != nil && d.curDir == dir {
		return d.cur, nil
	}
	if d.byDir == nil {
		d.byDir = map[string]*T{}
	}
	c := d.byDir[dir]
	if c == nil {
		if len(d.list) == d.max {
			return nil, fmt.Errorf("more than %d packages, the limit for a database", d.max)
		}
		c = mk()
		d.byDir[dir] = c
		d.list = append(d.list, c)
	}
	d.cur, d.curDir = c, dir
	return c, nil
}

// checkEntry checks what Read requires of every package directory once its
// files are merged: a desc file, a %NAME% and a %VERSION% that agree with
// the directory name.
func checkEntry(dir string, desc bool, name, version string) error {
	if !desc {
		return fmt.Errorf("entry %q: package directory has no desc file", dir+"/")
	}
	where := dir + "/desc"
	switch {
	case name == "":
		return fmt.Errorf("entry %q: no %%NAME%%", where)
	case version == "":
		return fmt.Errorf("entry %q: no %%VERSION%%", where)
	case name+"-"+version != dir:
		return fmt.Errorf("entry %q: %%NAME%% %q and %%VERSION%% %q do not match the directory %q", where, name, version, dir)
	}
	return nil
}

func duplicate(name, v1, v2 string) error {
	return fmt.Errorf("entry %q: package %q is also in entry %q", name+"-"+v2+"/", name, name+"-"+v1+"/")
}

// scan decompresses r and calls fn for every desc, depends and files member
// of the archive, in archive order, with the member's name, its package
// directory and file name, and its content (valid only during the call). It
// enforces lim and the archive layout, and reads the compressed stream to
// its end so that a damaged trailer is an error.
func scan(r io.Reader, lim Limits, fn func(name, dir, file string, data []byte) error) error {
	dec, comp, err := Decompress(r)
	if err != nil {
		return err
	}
	// Decompression is half of the work; run it on its own goroutine so
	// that it overlaps with tar and desc parsing.
	br := newPrefetcher(dec)
	defer br.stop()
	// The cap also bounds what the tar reader reads on its own (PAX and
	// long-name headers, members it skips).
	capped := &capReader{r: br, left: lim.Size, err: tooLarge(lim.Size)}
	tr := &tarReader{r: capped}

	var (
		buf  []byte
		last string // name of the last tar member read, for errors
	)
	for {
		hdr, err := tr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			switch {
			case tr.n == 0 && err == errNoEndMarker:
				return errors.New("empty file: not a sync database (an empty repository is an empty tar archive, not an empty file)")
			case last != "":
				return fmt.Errorf("after entry %q: %w", last, err)
			case err == errNoEndMarker:
				return notTar(comp, tr.head, io.ErrUnexpectedEOF)
			}
			return notTar(comp, tr.head, err)
		}
		last = hdr.name
		// Checked before a byte of the member is read or skipped: a
		// member claiming 20 GB must not cost the time to read them.
		if tr.n+hdr.size > lim.Size {
			return fmt.Errorf("entry %q: %w", hdr.name, tooLarge(lim.Size))
		}
		switch hdr.typ {
		case '5':
			// pacman ignores directory entries: a package exists once one
			// of its files is read.
			continue
		case '0':
		default:
			return fmt.Errorf("entry %q: unexpected tar entry type %q", hdr.name, hdr.typ)
		}
		dir, file := path.Split(hdr.name)
		if dir == "" {
			return fmt.Errorf("entry %q: a file outside any package directory (not a sync database?)", hdr.name)
		}
		dir = strings.TrimSuffix(dir, "/")
		max, what := lim.Entry, "a desc or depends file"
		switch file {
		case "desc", "depends":
		case "files":
			max, what = lim.Files, "a files file"
		default:
			// libalpm warns about and skips unknown files in an entry.
			continue
		}
		if hdr.size > max {
			return fmt.Errorf("entry %q: %d bytes, more than the %s allowed for %s (real ones are a few KB): a broken or hostile database", hdr.name, hdr.size, size(max), what)
		}
		if cap(buf) < int(hdr.size) {
			buf = make([]byte, hdr.size, hdr.size+hdr.size/2)
		}
		buf = buf[:hdr.size]
		if err := tr.read(buf); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.name, err)
		}
		if err := fn(hdr.name, dir, file, buf); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.name, err)
		}
	}

	// Read the compressed stream to its end, so that a truncated or corrupt
	// trailer (gzip CRC and length, zstd checksum) is still an error; but
	// only so far: what follows the archive is not ours to read, and 20 GB
	// of zeros there cost 37 s of CPU before this limit.
	capped.left += lim.Trailer
	if _, err := io.CopyN(io.Discard, capped, lim.Trailer); err != nil && err != io.EOF {
		return fmt.Errorf("after the end of the archive: %w", err)
	}
	return nil
}

// capReader reads at most left bytes from r; reading past them is an
// error that names the limit.
type capReader struct {
	r    io.Reader
	left int64
	err  error // what reading past the limit returns
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, c.err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func tooLarge(limit int64) error {
	return fmt.Errorf("the archive is larger than %s decompressed, the limit for a sync database (the largest real ones are tens of MB)", size(limit))
}

// size renders a byte count in binary units, for the messages about limits.
func size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
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
