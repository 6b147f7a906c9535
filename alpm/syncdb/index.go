package syncdb

// The index: a database as planning reads it.
//
// Planning needs six fields of an entry: name, base, version, architecture
// and the relations (depends, makedepends, checkdepends, provides). Read
// keeps the whole desc text of every entry alive (descriptions, checksums,
// signatures, URLs, packagers), which made a full-size plan's peak memory
// twice the old Python planner's. ReadIndex parses the same files with the
// same rules and the same limits, and keeps only those fields, every string
// interned: package and dependency names and versions repeat across
// entries, so a database's index holds each of them once.
//
// An index is also cheap to store. Its binary form (MarshalBinary) is a
// string table and small integers; LoadIndex keeps one per database
// checksum beside the download cache, so a plan whose databases did not
// change reads them without decompressing or parsing anything, and the
// compressed database, not its index, stays the source of truth.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/portmake/portmake/alpm"
)

// Index is a sync database reduced to what planning reads (see
// alpm.Entry).
type Index struct {
	Name     string       // repository name, from the file name (see RepoName)
	Packages []alpm.Entry // sorted by Name

	strs []string // every distinct string, when ReadIndex made it: MarshalBinary's table
}

// Find returns the entry called name, or nil.
func (x *Index) Find(name string) *alpm.Entry {
	i := sort.Search(len(x.Packages), func(i int) bool { return x.Packages[i].Name >= name })
	if i < len(x.Packages) && x.Packages[i].Name == name {
		return &x.Packages[i]
	}
	return nil
}

// ReadIndexFile reads the index of the sync database at path, with the
// default limits.
func ReadIndexFile(path string) (*Index, error) {
	return readFile(path, func(r io.Reader, source string) (*Index, error) { return ReadIndex(r, source, Limits{}) })
}

// ReadIndex reads a sync database like ReadLimited and returns its index.
// It accepts and refuses exactly the databases ReadLimited does, with the
// same errors.
func ReadIndex(r io.Reader, source string, lim Limits) (*Index, error) {
	return named[*Index](source)(readIndex(r, source, lim.orDefault()))
}

// idxEntry collects the fields of one package directory.
type idxEntry struct {
	dir                       string
	name, base, version, arch string
	n                         uint32 // its number, in first-seen order
	desc                      bool
}

// idxSink keeps the index fields of what the parser reads, interned. The
// relations of every entry go into one flat list, tagged with their entry
// and list, and are sorted into place at the end: four growing slices per
// entry cost more than the values. A value is kept as its number in the
// string table, a quarter of a string header: a full-size database has
// some 300,000 of them, and the growing list was a third of what reading
// its index allocated.
type idxSink struct {
	e    *idxEntry
	n    uint32 // e's number
	strs strTable
	vals []uint32 // per value: its number in strs
	tags []uint32 // per value: entry number << 2 | list (0 depends, 1 makedepends, 2 checkdepends, 3 provides)
}

// strTable interns strings and numbers them in first-seen order, which is
// also the string table MarshalBinary writes.
type strTable struct {
	ids  map[string]uint32
	list []string
}

func (t *strTable) intern(s string) string { return t.list[t.id(s)] }

// id returns s's number, adding s to the table if it is new.
func (t *strTable) id(s string) uint32 {
	if id, ok := t.ids[s]; ok {
		return id
	}
	if t.ids == nil {
		t.ids = make(map[string]uint32)
	}
	// s may point into the reader's buffer, which is reused: copy it.
	v := strings.Clone(s)
	id := uint32(len(t.list))
	t.ids[v] = id
	t.list = append(t.list, v)
	return id
}

func (k *idxSink) setScalar(s section, v string, _ int64) {
	switch s {
	case secName:
		k.e.name = k.strs.intern(v)
	case secBase:
		k.e.base = k.strs.intern(v)
	case secVersion:
		k.e.version = k.strs.intern(v)
	case secArch:
		k.e.arch = k.strs.intern(v)
	}
}

func (k *idxSink) addList(s section, vals []string) {
	var l uint32
	switch s {
	case secDepends:
		l = 0
	case secMakeDepends:
		l = 1
	case secCheckDepends:
		l = 2
	case secProvides:
		l = 3
	default:
		return
	}
	for _, v := range vals {
		k.vals = append(k.vals, k.strs.id(v))
		k.tags = append(k.tags, k.n<<2|l)
	}
}

func (k *idxSink) addExtra(string, []string) {}

func readIndex(r io.Reader, source string, lim Limits) (*Index, error) {
	var (
		ents = dirs[idxEntry]{max: lim.Packages}
		ps   = descParser{line: lim.Line}
		out  idxSink
	)
	err := scan(r, lim, func(name, dir, file string, data []byte) error {
		cur, err := ents.get(dir, func() *idxEntry { return &idxEntry{dir: dir, n: uint32(len(ents.list))} })
		if err != nil {
			return err
		}
		if file == "desc" {
			cur.desc = true
		}
		out.e, out.n = cur, cur.n
		if len(data) == 0 {
			return nil
		}
		// The parser's strings only live until the sink interns what it
		// keeps, so they may point into the buffer: no copy of the text.
		return ps.parseCounted(unsafe.String(&data[0], len(data)), &out, lim.Values)
	})
	if err != nil {
		return nil, err
	}
	entries := ents.list
	// Count each entry's lists, then place every value: a counting sort
	// that keeps the order of the values within a list.
	start := make([]uint32, 4*len(entries)+1)
	for _, t := range out.tags {
		start[t+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	arena := make([]string, len(out.vals))
	fill := slices.Clone(start[:len(start)-1])
	for i, t := range out.tags {
		arena[fill[t]] = out.strs.list[out.vals[i]]
		fill[t]++
	}
	list := func(n, l int) []string {
		a, b := start[4*n+l], start[4*n+l+1]
		if a == b {
			return nil
		}
		return arena[a:b:b]
	}
	x := &Index{Name: RepoName(source), Packages: make([]alpm.Entry, 0, len(entries)), strs: out.strs.list}
	for n, e := range entries {
		if err := checkEntry(e.dir, e.desc, e.name, e.version); err != nil {
			return nil, err
		}
		if e.base == "" {
			e.base = e.name
		}
		x.Packages = append(x.Packages, alpm.Entry{Name: e.name, Base: e.base, Version: e.version, Arch: e.arch,
			Depends: list(n, 0), MakeDepends: list(n, 1), CheckDepends: list(n, 2), Provides: list(n, 3)})
	}
	slices.SortFunc(x.Packages, func(a, b alpm.Entry) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(x.Packages); i++ {
		if a, b := &x.Packages[i-1], &x.Packages[i]; a.Name == b.Name {
			return nil, duplicate(a.Name, a.Version, b.Version)
		}
	}
	return x, nil
}

// indexMagic starts an index's binary form; the version changes whenever
// the format or what ReadIndex keeps does.
const indexMagic = "portmake-index-v1\n"

// MarshalBinary encodes the index (without its name, which comes from
// whoever loads it): a string table, then each entry as string numbers,
// then a CRC-32 of everything before it.
func (x *Index) MarshalBinary() ([]byte, error) {
	var t strTable
	if x.strs != nil {
		// The reader's table, in the same order: one map instead of two.
		t.list = x.strs
		t.ids = make(map[string]uint32, len(x.strs))
		for i, s := range x.strs {
			t.ids[s] = uint32(i)
		}
	}
	id := func(s string) uint64 {
		if i, ok := t.ids[s]; ok {
			return uint64(i)
		}
		t.intern(s)
		return uint64(len(t.list) - 1)
	}
	var body []byte
	body = binary.AppendUvarint(body, uint64(len(x.Packages)))
	for i := range x.Packages {
		e := &x.Packages[i]
		for _, s := range [...]string{e.Name, e.Base, e.Version, e.Arch} {
			body = binary.AppendUvarint(body, id(s))
		}
		for _, l := range [...][]string{e.Depends, e.MakeDepends, e.CheckDepends, e.Provides} {
			body = binary.AppendUvarint(body, uint64(len(l)))
			for _, s := range l {
				body = binary.AppendUvarint(body, id(s))
			}
		}
	}
	strs := t.list
	total := 0
	for _, s := range strs {
		total += len(s)
	}
	out := make([]byte, 0, len(indexMagic)+len(body)+total+4*len(strs)+32)
	out = append(out, indexMagic...)
	out = binary.AppendUvarint(out, uint64(len(strs)))
	out = binary.AppendUvarint(out, uint64(total))
	for _, s := range strs {
		out = binary.AppendUvarint(out, uint64(len(s)))
	}
	for _, s := range strs {
		out = append(out, s...)
	}
	out = append(out, body...)
	return binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(out)), nil
}

var errBadIndex = errors.New("not a valid index")

// UnmarshalIndex decodes what MarshalBinary wrote. Any damage is an error,
// never a wrong index: the checksum covers every byte, and every number is
// checked against what it indexes.
func UnmarshalIndex(data []byte) (*Index, error) {
	if len(data) < len(indexMagic)+4 || string(data[:len(indexMagic)]) != indexMagic {
		return nil, errBadIndex
	}
	sum := binary.LittleEndian.Uint32(data[len(data)-4:])
	data = data[:len(data)-4]
	if crc32.ChecksumIEEE(data) != sum {
		return nil, errBadIndex
	}
	d := data[len(indexMagic):]
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(d)
		if n <= 0 {
			return 0, false
		}
		d = d[n:]
		return v, true
	}
	nstr, ok1 := next()
	total, ok2 := next()
	if !ok1 || !ok2 || nstr > uint64(len(d)) || total > uint64(len(d)) {
		return nil, errBadIndex
	}
	lens := make([]uint64, nstr)
	for i := range lens {
		v, ok := next()
		if !ok {
			return nil, errBadIndex
		}
		lens[i] = v
	}
	if total > uint64(len(d)) {
		return nil, errBadIndex
	}
	// One string for the whole table; the entries' strings are slices of it.
	table := string(d[:total])
	d = d[total:]
	strs := make([]string, nstr)
	off := uint64(0)
	for i, l := range lens {
		if off+l > total {
			return nil, errBadIndex
		}
		strs[i] = table[off : off+l]
		off += l
	}
	str := func() (string, bool) {
		v, ok := next()
		if !ok || v >= nstr {
			return "", false
		}
		return strs[v], true
	}
	npkg, ok := next()
	if !ok || npkg > uint64(len(d)) {
		return nil, errBadIndex
	}
	x := &Index{Packages: make([]alpm.Entry, npkg)}
	var arena []string
	for i := range x.Packages {
		e := &x.Packages[i]
		for _, f := range [...]*string{&e.Name, &e.Base, &e.Version, &e.Arch} {
			if *f, ok = str(); !ok {
				return nil, errBadIndex
			}
		}
		for _, f := range [...]*[]string{&e.Depends, &e.MakeDepends, &e.CheckDepends, &e.Provides} {
			n, ok := next()
			if !ok || n > uint64(len(d)) {
				return nil, errBadIndex
			}
			if n == 0 {
				continue
			}
			if uint64(cap(arena)-len(arena)) < n {
				arena = make([]string, 0, max(4096, n))
			}
			start := len(arena)
			for range n {
				s, ok := str()
				if !ok {
					return nil, errBadIndex
				}
				arena = append(arena, s)
			}
			*f = arena[start:len(arena):len(arena)]
		}
	}
	if len(d) != 0 {
		return nil, errBadIndex
	}
	return x, nil
}

// indexCacheKeep is how many index files LoadIndex keeps in a cache
// directory: the databases of a few plans' worth of configurations.
const indexCacheKeep = 24

// LoadIndex returns the index of the database at path, whose content has
// the given sha256 (hex). With a cache directory it first looks for the
// index stored there under that checksum; otherwise, or when that file is
// missing or damaged, it reads the database (default limits) and stores
// its index for the next time. A cache that cannot be written costs only
// speed. The index is named after path.
func LoadIndex(path, sha256, cacheDir string) (*Index, error) {
	cacheable := cacheDir != "" && len(sha256) == 64 && strings.Trim(sha256, "0123456789abcdef") == ""
	var file string
	if cacheable {
		file = filepath.Join(cacheDir, sha256+".idx")
		if data, err := os.ReadFile(file); err == nil {
			if x, err := UnmarshalIndex(data); err == nil {
				x.Name = RepoName(path)
				now := time.Now()
				os.Chtimes(file, now, now) // most recently used
				return x, nil
			}
		}
	}
	x, err := ReadIndexFile(path)
	if err != nil || !cacheable {
		return x, err
	}
	if data, err := x.MarshalBinary(); err == nil {
		storeIndex(cacheDir, file, data)
	}
	x.strs = nil
	return x, nil
}

// CacheIndex keeps x, the index of a database file whose SHA-256 is
// sha256, in cacheDir, where LoadIndex finds it: for a caller that has
// just read the database anyway (to check a download), so that it is
// parsed once. Errors are ignored, as LoadIndex ignores them.
func CacheIndex(x *Index, sha256, cacheDir string) {
	if cacheDir == "" || len(sha256) != 64 || strings.Trim(sha256, "0123456789abcdef") != "" {
		return
	}
	if data, err := x.MarshalBinary(); err == nil {
		storeIndex(cacheDir, filepath.Join(cacheDir, sha256+".idx"), data)
	}
}

// storeIndex writes an index file atomically and drops the least recently
// used ones beyond indexCacheKeep. Errors are ignored: see LoadIndex.
func storeIndex(dir, file string, data []byte) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".idx-*")
	if err != nil {
		return
	}
	_, werr := io.Copy(tmp, bytes.NewReader(data))
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), file) != nil {
		os.Remove(tmp.Name())
		return
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.idx"))
	if len(old) <= indexCacheKeep {
		return
	}
	type aged struct {
		name string
		t    time.Time
	}
	var list []aged
	for _, f := range old {
		if fi, err := os.Stat(f); err == nil {
			list = append(list, aged{f, fi.ModTime()})
		}
	}
	slices.SortFunc(list, func(a, b aged) int { return b.t.Compare(a.t) })
	for _, a := range list[min(indexCacheKeep, len(list)):] {
		if a.name != file {
			os.Remove(a.name)
		}
	}
}
