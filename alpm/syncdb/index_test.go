package syncdb

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/internal/testutil"
)

// indexView compares entries without caring whether an empty list is nil.
func indexView(e alpm.Entry) alpm.Entry {
	for _, l := range []*[]string{&e.Depends, &e.MakeDepends, &e.CheckDepends, &e.Provides} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return e
}

func indexView2(x *Index) []alpm.Entry {
	out := make([]alpm.Entry, len(x.Packages))
	for i, e := range x.Packages {
		out[i] = indexView(e)
	}
	return out
}

// TestReadIndexCorpus reads every real database both ways: the index must
// hold exactly the planning fields of Read's packages, and survive its
// binary form.
func TestReadIndexCorpus(t *testing.T) {
	for _, m := range readManifest(t) {
		t.Run(m.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(testutil.Corpus(t), "syncdb", m.file)
			db, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			x, err := ReadIndexFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if x.Name != db.Name || len(x.Packages) != len(db.Packages) {
				t.Fatalf("index %q has %d packages, database %q %d", x.Name, len(x.Packages), db.Name, len(db.Packages))
			}
			for i, p := range db.Packages {
				if !reflect.DeepEqual(indexView(p.Entry()), indexView(x.Packages[i])) {
					t.Fatalf("entry %d: index %+v, database %+v", i, x.Packages[i], p.Entry())
				}
			}
			data, err := x.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			y, err := UnmarshalIndex(data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(indexView2(x), indexView2(y)) {
				t.Fatal("binary round trip changed the index")
			}
			// Interned: one string per distinct value.
			if p := x.Find(x.Packages[0].Name); p != &x.Packages[0] {
				t.Errorf("Find misses %q", x.Packages[0].Name)
			}
		})
	}
}

// TestReadIndexErrors checks that the index reader refuses what Read
// refuses, with the same message.
func TestReadIndexErrors(t *testing.T) {
	cases := [][]byte{
		nil,
		makeTar(t, tarEntry{"foo-1.0-1/desc", "%VERSION%\n1.0-1\n"}),
		makeTar(t, tarEntry{"foo-1.0-2/desc", fooDesc}),
		makeTar(t, tarEntry{"foo-1.0-1/desc", fooDesc}, tarEntry{"foo-2.0-1/desc", "%NAME%\nfoo\n\n%VERSION%\n2.0-1\n"}),
		makeTar(t, tarEntry{"foo-1.0-1/desc", fooDesc + "%CSIZE%\n12k\n"}),
		makeTar(t, tarEntry{"foo-1.0-1/depends", "%DEPENDS%\nbar\n"}),
	}
	for i, data := range cases {
		_, err := Read(bytes.NewReader(data), "src/core.db")
		_, xerr := ReadIndex(bytes.NewReader(data), "src/core.db", Limits{})
		if err == nil || xerr == nil || err.Error() != xerr.Error() {
			t.Errorf("case %d: Read %v, ReadIndex %v", i, err, xerr)
		}
	}
}

func TestUnmarshalIndexDamage(t *testing.T) {
	x := &Index{Packages: []alpm.Entry{{Name: "a", Base: "a", Version: "1-1", Arch: "any", Depends: []string{"b"}}}}
	data, err := x.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0x20
		if _, err := UnmarshalIndex(bad); err == nil {
			t.Errorf("byte %d flipped: accepted", i)
		}
	}
	if _, err := UnmarshalIndex(data[:len(data)-1]); err == nil {
		t.Error("truncated: accepted")
	}
}

// TestLoadIndexCache checks the cache: a second load is served from the
// index file (the database is not read again), a damaged index file is
// replaced, and old index files are pruned.
func TestLoadIndexCache(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	db := filepath.Join(dir, "core.db")
	if err := os.WriteFile(db, makeTar(t, tarEntry{"foo-1.0-1/desc", fooDesc + "%DEPENDS%\nbar\n\n"}), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := strings.Repeat("ab", 32)
	x, err := LoadIndex(db, sum, cache)
	if err != nil || x.Name != "core" || len(x.Packages) != 1 || x.Packages[0].Depends[0] != "bar" {
		t.Fatalf("first load: %+v, %v", x, err)
	}
	idx := filepath.Join(cache, sum+".idx")
	if _, err := os.Stat(idx); err != nil {
		t.Fatalf("no index file: %v", err)
	}
	// The cache is keyed by the checksum: a different file under the same
	// checksum is not read.
	os.WriteFile(db, []byte("not a database"), 0o644)
	if x, err := LoadIndex(db, sum, cache); err != nil || x.Packages[0].Name != "foo" {
		t.Fatalf("cached load: %+v, %v", x, err)
	}
	// A damaged index file is read around, and replaced.
	os.WriteFile(db, makeTar(t, tarEntry{"foo-1.0-1/desc", fooDesc}), 0o644)
	os.WriteFile(idx, []byte("portmake-index-v1\ngarbage"), 0o644)
	if x, err := LoadIndex(db, sum, cache); err != nil || len(x.Packages[0].Depends) != 0 {
		t.Fatalf("damaged cache: %+v, %v", x, err)
	}
	if data, _ := os.ReadFile(idx); !bytes.HasPrefix(data, []byte(indexMagic)) || len(data) < 30 {
		t.Errorf("damaged index not replaced: %q", data)
	}
	// No checksum, no cache.
	if _, err := LoadIndex(db, "", cache); err != nil {
		t.Fatal(err)
	}
	for i := range indexCacheKeep + 5 {
		if _, err := LoadIndex(db, strings.Repeat("0", 62)+string("0123456789abcdef"[i/16])+string("0123456789abcdef"[i%16]), cache); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := filepath.Glob(filepath.Join(cache, "*.idx")); len(n) != indexCacheKeep {
		t.Errorf("%d index files kept, want %d", len(n), indexCacheKeep)
	}
}
