package srcinfo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/portmake/portmake/internal/testutil"
)

func glob(t testing.TB, pattern string, atLeast int) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) < atLeast {
		t.Fatalf("%s: %d files, want at least %d (is the corpus complete?)", pattern, len(m), atLeast)
	}
	return m
}

func goSrcinfoDir(t testing.TB) string {
	return filepath.Join(testutil.Corpus(t), "fixtures", "go-srcinfo", "testdata", "srcinfos")
}

func alpmDir(t testing.TB) string {
	return filepath.Join(testutil.Corpus(t), "fixtures", "alpm", "alpm-srcinfo", "tests")
}

func TestGoSrcinfoGood(t *testing.T) {
	files := glob(t, filepath.Join(goSrcinfoDir(t), "good", "*"), 500)
	for _, f := range append(files, filepath.Join(goSrcinfoDir(t), "example_SRCINFO")) {
		s, err := ParseFile(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		checkInvariants(t, f, s)
	}
}

// TestGoSrcinfoBad: each of go-srcinfo's bad files must fail for the reason
// it was written for, at the line that shows it. Two differ from
// go-srcinfo's own reading:
//   - any_field writes "arch  = any" (two blanks). SRCINFO(5) asks for one;
//     like go-srcinfo we accept blank runs around '=' (makepkg never writes
//     them, and they cannot be misread), so the file fails on source_any,
//     which is what it is about.
//   - no_value ("foo =") is refused as an unknown keyword. go-srcinfo also
//     objects to the empty value, but SRCINFO(5) makes an empty value the
//     way a pkgname section clears a keyword (go-srcinfo's own
//     good/empty_override does it), so an empty value is only an error in
//     the pkgbase section, for list keywords (tested in TestErrors).
func TestGoSrcinfoBad(t *testing.T) {
	want := map[string]struct {
		line int
		msg  string
	}{
		"any_field":                 {5, `source_any: architecture-specific values cannot target "any"`},
		"base_field_after_pkgname":  {7, "noextract is only allowed in the pkgbase section"},
		"base_field_after_pkgname2": {7, "makedepends is only allowed in the pkgbase section"},
		"empty":                     {1, `no "pkgbase = NAME" header`},
		"invalid_arch":              {5, `source_bar: architecture "bar" is not in the pkgbase's arch list`},
		"multiple_pkgbase":          {5, "second pkgbase header"},
		"multiple_pkgname":          {7, `duplicate pkgname "foo1"`},
		"no_arch":                   {1, "has no arch"},
		"no_key":                    {5, "missing keyword"},
		"no_pkgbase":                {1, "pkgdesc before the pkgbase header"},
		"no_pkgname":                {1, "has no pkgname section"},
		"no_pkgrel":                 {1, "has no pkgrel"},
		"no_pkgver":                 {1, "has no pkgver"},
		"no_value":                  {5, `unknown keyword "foo"`},
		"pkgname_before_pkgbase":    {1, "pkgname section before the pkgbase header"},
		"unknown_key":               {5, `unknown keyword "foo"`},
	}
	files := glob(t, filepath.Join(goSrcinfoDir(t), "bad", "*"), len(want))
	for _, f := range files {
		checkFails(t, f, want)
	}
	if len(files) != len(want) {
		t.Errorf("%d bad files, %d expectations: a new fixture needs one", len(files), len(want))
	}
}

// TestAlpmParseErrors: alpm-srcinfo's parse_errors, each with the line its
// snapshot in parse_error_snapshots names.
func TestAlpmParseErrors(t *testing.T) {
	want := map[string]struct {
		line int
		msg  string
	}{
		"invalid_checksum.srcinfo":                 {6, "want SKIP or 64 hex digits"},
		"invalid_pkgbase_header_delimiter.srcinfo": {2, "invalid delimiter"},
		"invalid_pkver.srcinfo":                    {3, "invalid pkgver"},
		"invalid_property_delimiter.srcinfo":       {3, "invalid delimiter"},
		"missing_pkgbase.srcinfo":                  {2, "pkgname section before the pkgbase header"},
		// The snapshot points past the end of the file; we point at the
		// pkgbase header whose section lacks packages.
		"missing_pkgname.srcinfo":             {1, "has no pkgname section"},
		"unexpected_pkgbase_property.srcinfo": {4, `unknown keyword "bogus_field"`},
		"unexpected_pkgname_property.srcinfo": {7, "validpgpkeys is only allowed in the pkgbase section"},
	}
	files := glob(t, filepath.Join(alpmDir(t), "parse_errors", "*.srcinfo"), len(want))
	for _, f := range files {
		checkFails(t, f, want)
		// Cross-check the line against the upstream snapshot.
		snap, err := os.ReadFile(filepath.Join(alpmDir(t), "parse_error_snapshots", strings.TrimSuffix(filepath.Base(f), ".srcinfo")+".snap"))
		if err != nil {
			t.Fatal(err)
		}
		w := want[filepath.Base(f)]
		if at := fmt.Sprintf("parse error at line %d,", w.line); !bytes.Contains(snap, []byte(at)) && filepath.Base(f) != "missing_pkgname.srcinfo" {
			t.Errorf("%s: upstream snapshot does not say %q", f, at)
		}
	}
}

func checkFails(t *testing.T, f string, want map[string]struct {
	line int
	msg  string
}) {
	t.Helper()
	_, err := ParseFile(f)
	w, ok := want[filepath.Base(f)]
	if !ok {
		t.Errorf("%s: no expectation for this fixture (error: %v)", f, err)
		return
	}
	var pe *Error
	if !errors.As(err, &pe) {
		t.Errorf("%s: error %v, want a line-numbered *Error", f, err)
		return
	}
	if pe.Line != w.line || !strings.Contains(pe.Msg, w.msg) || !strings.HasPrefix(err.Error(), fmt.Sprintf("%s:%d: ", f, w.line)) {
		t.Errorf("%s: error %q, want line %d containing %q", f, err, w.line, w.msg)
	}
}

func TestAlarmPKGBUILDs(t *testing.T) {
	files := glob(t, filepath.Join(testutil.Corpus(t), "pkgbuilds", "alarm", "*", "*", ".SRCINFO"), 240)
	for _, f := range files {
		s, err := ParseFile(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		checkInvariants(t, f, s)
		// The directory is named after the pkgbase.
		if dir := filepath.Base(filepath.Dir(f)); dir != s.Base.Name {
			t.Errorf("%s: pkgbase %q, directory %q", f, s.Base.Name, dir)
		}
	}
}

// checkInvariants holds for every successfully parsed file.
func checkInvariants(t *testing.T, f string, s *Srcinfo) {
	t.Helper()
	if len(s.Packages) == 0 || s.Base.PkgVer == "" || s.Base.PkgRel == "" || len(s.Base.Arch) == 0 {
		t.Errorf("%s: incomplete result %+v", f, s.Base)
	}
	for _, p := range s.Packages {
		if len(p.Arch) == 0 {
			t.Errorf("%s: package %s has no arch", f, p.Name)
		}
		for _, l := range []ArchList{p.Depends, p.OptDepends, p.Provides, p.Conflicts, p.Replaces} {
			for a, v := range l.ByArch {
				if len(v) == 0 {
					t.Errorf("%s: package %s: empty ByArch[%s]", f, p.Name, a)
				}
			}
		}
	}
	if v := s.ForArch(s.Base.Arch[0]); len(v) != len(s.Packages) {
		t.Errorf("%s: ForArch returned %d packages for %d", f, len(v), len(s.Packages))
	}
}

// snapRelation is alpm-srcinfo's JSON for a package relation.
type snapRelation struct {
	Name    *string `json:"name"`
	Require *struct {
		Comparison string `json:"comparison"`
		Version    struct {
			PkgVer string  `json:"pkgver"`
			Epoch  *uint64 `json:"epoch"`
			PkgRel *string `json:"pkgrel"`
		} `json:"version"`
	} `json:"version_requirement"`
}

func (r snapRelation) String(t *testing.T) string {
	if r.Name == nil {
		t.Fatalf("snapshot relation without a name (a soname form this test does not know)")
	}
	if r.Require == nil {
		return *r.Name
	}
	op, ok := map[string]string{"Equal": "=", "Greater": ">", "GreaterOrEqual": ">=", "Less": "<", "LessOrEqual": "<="}[r.Require.Comparison]
	if !ok {
		t.Fatalf("snapshot comparison %q is unknown to this test", r.Require.Comparison)
	}
	v := r.Require.Version.PkgVer
	if e := r.Require.Version.Epoch; e != nil {
		v = fmt.Sprint(*e) + ":" + v
	}
	if rel := r.Require.Version.PkgRel; rel != nil {
		v += "-" + *rel
	}
	return *r.Name + op + v
}

type snapPackage struct {
	Name         string `json:"name"`
	Architecture string `json:"architecture"`
	Version      struct {
		PkgVer string `json:"pkgver"`
		PkgRel struct {
			Major uint64  `json:"major"`
			Minor *uint64 `json:"minor"`
		} `json:"pkgrel"`
		Epoch *uint64 `json:"epoch"`
	} `json:"version"`
	Dependencies []snapRelation `json:"dependencies"`
	OptDepends   []struct {
		Relation    snapRelation `json:"package_relation"`
		Description *string      `json:"description"`
	} `json:"optional_dependencies"`
	Provides     []snapRelation `json:"provides"`
	Conflicts    []snapRelation `json:"conflicts"`
	Replaces     []snapRelation `json:"replaces"`
	CheckDepends []snapRelation `json:"check_dependencies"`
	MakeDepends  []snapRelation `json:"make_dependencies"`
}

// readSnapshot reads an insta snapshot: a "---"-delimited YAML header, then
// the JSON body.
func readSnapshot(t *testing.T, path string) []snapPackage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(string(data), "---\n", 3)
	if len(parts) != 3 {
		t.Fatalf("%s: not an insta snapshot", path)
	}
	var pkgs []snapPackage
	dec := json.NewDecoder(strings.NewReader(parts[2]))
	if err := dec.Decode(&pkgs); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pkgs
}

// TestAlpmCorrectSnapshots compares ForArch("x86_64") with alpm-srcinfo's
// merged view (correct.rs merges for x86_64 and keeps only packages built
// for it or for any), for every tests/correct file.
func TestAlpmCorrectSnapshots(t *testing.T) {
	const arch = "x86_64"
	files := glob(t, filepath.Join(alpmDir(t), "correct", "*.srcinfo"), 7)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".srcinfo")
		t.Run(name, func(t *testing.T) {
			s, err := ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := readSnapshot(t, filepath.Join(alpmDir(t), "correct_snapshots", name+"_merged.snap"))
			var got []ArchPackage
			for _, p := range s.ForArch(arch) {
				if p.Supports(arch) {
					got = append(got, p)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d packages for %s, snapshot has %d", len(got), arch, len(want))
			}
			for i, w := range want {
				g := got[i]
				if g.Name != w.Name {
					t.Errorf("package %d: name %q, want %q", i, g.Name, w.Name)
				}
				version := w.Version.PkgVer + "-" + fmt.Sprint(w.Version.PkgRel.Major)
				if m := w.Version.PkgRel.Minor; m != nil {
					version += "." + fmt.Sprint(*m)
				}
				if e := w.Version.Epoch; e != nil && *e != 0 {
					version = fmt.Sprint(*e) + ":" + version
				}
				if g.Version != version {
					t.Errorf("%s: version %q, want %q", g.Name, g.Version, version)
				}
				if w.Architecture == "any" && !slices.Contains(g.Arch, "any") {
					t.Errorf("%s: arch %q, snapshot says any", g.Name, g.Arch)
				}
				rels := func(rs []snapRelation) []string {
					out := []string{}
					for _, r := range rs {
						out = append(out, r.String(t))
					}
					return out
				}
				opt := []string{}
				for _, o := range w.OptDepends {
					s := o.Relation.String(t)
					if o.Description != nil {
						s += ": " + *o.Description
					}
					opt = append(opt, s)
				}
				for _, c := range []struct {
					what      string
					got, want []string
				}{
					{"depends", g.Depends, rels(w.Dependencies)},
					{"optdepends", g.OptDepends, opt},
					{"provides", g.Provides, rels(w.Provides)},
					{"conflicts", g.Conflicts, rels(w.Conflicts)},
					{"replaces", g.Replaces, rels(w.Replaces)},
					{"checkdepends", g.CheckDepends, rels(w.CheckDepends)},
					{"makedepends", g.MakeDepends, rels(w.MakeDepends)},
				} {
					if c.got == nil {
						c.got = []string{}
					}
					if !reflect.DeepEqual(c.got, c.want) {
						t.Errorf("%s %s:\n got %q\nwant %q", g.Name, c.what, c.got, c.want)
					}
				}
			}
		})
	}
}
