package syncdb

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm"
)

// FuzzParseDesc checks that ParseDesc never panics and that what it accepts
// is consistent: a name it accepts is a valid name, a version has a pkgrel,
// and sizes are not negative.
func FuzzParseDesc(f *testing.F) {
	f.Add([]byte(specV1Example))
	f.Add([]byte(fooDesc))
	f.Add([]byte("%NAME%\nfoo\n%DEPENDS%\na\n%CONFLICTS%\nb"))
	f.Add([]byte("%DESC%\n%FOO%\n\n%CSIZE%\n12\n\n%FILES%\nusr/\n"))
	f.Add([]byte("%NAME%\r\nfoo\r\n"))
	f.Add([]byte("%%\n%X%\n\n\n%VERSION%\n1:2-3\n"))
	f.Add([]byte("stray\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var p alpm.Package
		if err := ParseDesc(data, &p); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if p.Name != "" && !alpm.ValidName(p.Name) {
			t.Errorf("accepted invalid name %q", p.Name)
		}
		if p.Version != "" && !alpm.ParseVersion(p.Version).HasRel {
			t.Errorf("accepted version without pkgrel %q", p.Version)
		}
		if p.CSize < 0 || p.ISize < 0 || p.BuildDate < 0 {
			t.Errorf("negative number: %+v", p)
		}
		for _, f := range p.Extra {
			if !isHeader("%" + f.Key + "%") {
				t.Errorf("extra key %q is not a section name", f.Key)
			}
		}
	})
}

// FuzzRead feeds whole archives to Read: it must never panic, and a
// database it accepts must keep Read's promises.
func FuzzRead(f *testing.F) {
	empty := makeTar(f)
	one := makeTar(f,
		tarEntry{"foo-1.0-1/", ""},
		tarEntry{"foo-1.0-1/desc", fooDesc},
		tarEntry{"foo-1.0-1/depends", "%DEPENDS%\nbar\n"},
	)
	f.Add(empty)
	f.Add(gz(f, empty))
	f.Add(one)
	f.Add(gz(f, one))
	f.Add(one[:len(one)-700])
	f.Add([]byte("<!DOCTYPE html>\n<html></html>\n"))
	f.Add([]byte{})
	// A small real database, when the corpus is at hand (seeds are never
	// copied into the repository).
	if dir := os.Getenv("PORTMAKE_CORPUS"); dir != "" {
		if data, err := os.ReadFile(filepath.Join(dir, "syncdb", "armv6h-2015-01-07-alarm", "alarm.db")); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := Read(bytes.NewReader(data), "fuzz.db")
		// The index reader accepts and refuses the same databases, and
		// keeps what Read reads.
		x, xerr := ReadIndex(bytes.NewReader(data), "fuzz.db", Limits{})
		switch {
		case (err == nil) != (xerr == nil):
			t.Fatalf("Read: %v; ReadIndex: %v", err, xerr)
		case err != nil && err.Error() != xerr.Error():
			t.Errorf("errors differ:\nRead      %v\nReadIndex %v", err, xerr)
		case err == nil:
			if len(x.Packages) != len(db.Packages) {
				t.Fatalf("%d packages in the index, %d in the database", len(x.Packages), len(db.Packages))
			}
			for i, p := range db.Packages {
				if !reflect.DeepEqual(indexView(p.Entry()), indexView(x.Packages[i])) {
					t.Errorf("index entry %+v, database entry %+v", x.Packages[i], p.Entry())
				}
			}
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "read fuzz.db: ") {
				t.Fatalf("error does not name the source: %v", err)
			}
			return
		}
		if db.Name != "fuzz" {
			t.Errorf("Name = %q", db.Name)
		}
		if !slices.IsSortedFunc(db.Packages, func(a, b *alpm.Package) int { return strings.Compare(a.Name, b.Name) }) {
			t.Errorf("packages not sorted")
		}
		for i, p := range db.Packages {
			if !alpm.ValidName(p.Name) || p.Version == "" || p.Base == "" {
				t.Errorf("incomplete package %+v", p)
			}
			if i > 0 && db.Packages[i-1].Name == p.Name {
				t.Errorf("duplicate %q", p.Name)
			}
			if db.Find(p.Name) != p {
				t.Errorf("Find(%q) misses", p.Name)
			}
		}
	})
}

// FuzzUnmarshalIndex feeds damaged index files to UnmarshalIndex: it must
// never panic, and what it accepts must encode back to the same bytes.
func FuzzUnmarshalIndex(f *testing.F) {
	x := &Index{Packages: []alpm.Entry{
		{Name: "a", Base: "a", Version: "1-1", Arch: "x86_64", Depends: []string{"b", "c>=2"}, Provides: []string{"liba.so=1-64"}},
		{Name: "b", Base: "a", Version: "1-1", Arch: "any", MakeDepends: []string{"a"}},
	}}
	data, err := x.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)-1])
	f.Add([]byte(indexMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := UnmarshalIndex(data)
		if err != nil {
			return
		}
		again, err := x.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		y, err := UnmarshalIndex(again)
		if err != nil || !reflect.DeepEqual(indexView2(x), indexView2(y)) {
			t.Errorf("round trip changed the index: %v", err)
		}
	})
}
