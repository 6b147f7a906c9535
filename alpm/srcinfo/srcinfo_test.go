package srcinfo

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, src string) *Srcinfo {
	t.Helper()
	s, err := Parse(strings.NewReader(src), "test.SRCINFO")
	if err != nil {
		t.Fatalf("Parse: %v\ninput:\n%s", err, src)
	}
	return s
}

// view is the part of an ArchPackage that the table tests compare.
type view struct {
	Depends, MakeDepends, CheckDepends, Provides, Conflicts, Replaces, OptDepends []string
}

func viewOf(p ArchPackage) view {
	return view{p.Depends, p.MakeDepends, p.CheckDepends, p.Provides, p.Conflicts, p.Replaces, p.OptDepends}
}

func TestForArch(t *testing.T) {
	tests := []struct {
		name string
		src  string
		arch string
		want map[string]view // by pkgname
	}{
		{
			// SRCINFO(5), "Package data, per architecture".
			name: "spec per-arch example aarch64",
			src: `pkgbase = example
	pkgdesc = An example package
	pkgver = 0.1.0
	pkgrel = 1
	url = https://example.org
	arch = x86_64
	arch = aarch64
	license = GPL-3.0-or-later
	depends = bash
	depends_x86_64 = zsh

pkgname = example
	pkgdesc = An example package - extra info
	depends_x86_64 = zsh
	depends_x86_64 = nushell
	depends_aarch64 = sh
`,
			arch: "aarch64",
			want: map[string]view{"example": {Depends: []string{"bash", "sh"}}},
		},
		{
			name: "spec per-arch example x86_64",
			src: `pkgbase = example
	pkgver = 0.1.0
	pkgrel = 1
	arch = x86_64
	arch = aarch64
	depends = bash
	depends_x86_64 = zsh

pkgname = example
	depends_x86_64 = zsh
	depends_x86_64 = nushell
	depends_aarch64 = sh
`,
			arch: "x86_64",
			want: map[string]view{"example": {Depends: []string{"bash", "zsh", "nushell"}}},
		},
		{
			name: "override of the plain key keeps the inherited arch key",
			src: `pkgbase = b
	pkgver = 1
	pkgrel = 1
	arch = x86_64
	depends = a
	depends_x86_64 = b

pkgname = one
	depends = c
`,
			arch: "x86_64",
			want: map[string]view{"one": {Depends: []string{"c", "b"}}},
		},
		{
			name: "clear of the arch key keeps the inherited plain key",
			src: `pkgbase = b
	pkgver = 1
	pkgrel = 1
	arch = x86_64
	depends = a
	depends_x86_64 = b

pkgname = one
	depends_x86_64 =

pkgname = two
`,
			arch: "x86_64",
			want: map[string]view{
				"one": {Depends: []string{"a"}},
				"two": {Depends: []string{"a", "b"}},
			},
		},
		{
			name: "clear everything",
			src: `pkgbase = b
	pkgver = 1
	pkgrel = 1
	arch = x86_64
	depends = a
	depends_x86_64 = b
	optdepends = o: for o
	provides = p=1
	conflicts = c
	replaces = r

pkgname = one
	depends =
	depends_x86_64 =
	optdepends =
	provides =
	conflicts =
	replaces =
`,
			arch: "x86_64",
			want: map[string]view{"one": {}},
		},
		{
			name: "build and check dependencies come from the pkgbase, per arch",
			src: `pkgbase = b
	pkgver = 1
	pkgrel = 1
	arch = x86_64
	arch = riscv64
	makedepends = cmake
	makedepends_riscv64 = clang
	checkdepends = python-pytest
	checkdepends_x86_64 = valgrind

pkgname = one
pkgname = two
	depends = one
`,
			arch: "riscv64",
			want: map[string]view{
				"one": {MakeDepends: []string{"cmake", "clang"}, CheckDepends: []string{"python-pytest"}},
				"two": {Depends: []string{"one"}, MakeDepends: []string{"cmake", "clang"}, CheckDepends: []string{"python-pytest"}},
			},
		},
		{
			name: "arch view of an arch the file does not list",
			src: `pkgbase = b
	pkgver = 1
	pkgrel = 1
	arch = x86_64
	depends = glibc
	depends_x86_64 = lib32-glibc

pkgname = b
`,
			arch: "aarch64",
			want: map[string]view{"b": {Depends: []string{"glibc"}}},
		},
		{
			name: "split package extends by re-listing",
			src: `pkgbase = b
	pkgver = 1
	pkgrel = 1
	arch = x86_64
	depends = glibc
	provides = libb.so=1-64

pkgname = b
	depends = glibc
	depends = gcc-libs
pkgname = b-docs
	depends =
	provides = b-doc
`,
			arch: "x86_64",
			want: map[string]view{
				"b":      {Depends: []string{"glibc", "gcc-libs"}, Provides: []string{"libb.so=1-64"}},
				"b-docs": {Provides: []string{"b-doc"}},
			},
		},
		{
			name: "package-level arch list governs its own arch keys",
			src: `pkgbase = b
	pkgver = 1
	pkgrel = 1
	arch = x86_64
	arch = aarch64
	depends_x86_64 = x

pkgname = arm-only
	arch = aarch64
	depends_aarch64 = y
`,
			arch: "aarch64",
			want: map[string]view{"arm-only": {Depends: []string{"y"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.src)
			got := map[string]view{}
			for _, p := range s.ForArch(tt.arch) {
				got[p.Name] = viewOf(p)
			}
			if !reflect.DeepEqual(norm(got), norm(tt.want)) {
				t.Errorf("ForArch(%s):\n got %+v\nwant %+v", tt.arch, got, tt.want)
			}
		})
	}
}

// norm turns empty slices into nil so that DeepEqual compares content.
func norm(m map[string]view) map[string]view {
	out := map[string]view{}
	for k, v := range m {
		rv := reflect.ValueOf(&v).Elem()
		for i := 0; i < rv.NumField(); i++ {
			if rv.Field(i).Len() == 0 {
				rv.Field(i).Set(reflect.Zero(rv.Field(i).Type()))
			}
		}
		out[k] = v
	}
	return out
}

// TestResolve checks the resolved Package fields: overrides, clears and
// inheritance of every package-level keyword kind.
func TestResolve(t *testing.T) {
	// SRCINFO(5), "Split packages, extending, overriding and unsetting".
	s := mustParse(t, `pkgbase = example
  pkgdesc = An example package
  pkgver = 1.0.0
  pkgrel = 1
  epoch = 1
  url = https://example.org
  arch = any
  license = GPL-3.0-or-later
  checkdepends = extra-test-tool
  makedepends = cmake
  depends = glibc
  depends = gcc-libs
  install = example.install
  options = !lto
  source = https://example.org/example-1.0.0.tar.gz
  b2sums = cb79bf658b69dff0acf721232455a461598dd26ed42047bd0362e7fbd796093145a694c1a6bcdcf5bf7f866d78f009c14bf456be0f944283829a6e33cedf2aef

pkgname = example
  # overrides the pkgdesc for the example package
  pkgdesc = A project that does something
  groups = package-group
  license = GPL-3.0-or-later
  license = LGPL-3.0-or-later
  optdepends = python: for special-python-script.py
  backup = etc/example/config.toml

pkgname = example-docs
  pkgdesc = A project that does something - documentation
  license = CC-BY-SA-4.0
  depends =
  install =
  options =
`)
	if got, want := s.Version(), "1:1.0.0-1"; got != want {
		t.Errorf("Version = %q, want %q", got, want)
	}
	if len(s.Packages) != 2 {
		t.Fatalf("got %d packages, want 2", len(s.Packages))
	}
	ex, docs := s.Packages[0], s.Packages[1]
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}
	check("example pkgdesc", ex.PkgDesc, "A project that does something")
	check("example url (inherited)", ex.URL, "https://example.org")
	check("example arch (inherited)", ex.Arch, []string{"any"})
	check("example license (override)", ex.License, []string{"GPL-3.0-or-later", "LGPL-3.0-or-later"})
	check("example depends (inherited)", ex.Depends.All, []string{"glibc", "gcc-libs"})
	check("example groups", ex.Groups, []string{"package-group"})
	check("example install (inherited)", ex.Install, "example.install")
	check("example options (inherited)", ex.Options, []string{"!lto"})
	check("example overrides", ex.Overrides, []string{"pkgdesc", "groups", "license", "optdepends", "backup"})
	check("docs license", docs.License, []string{"CC-BY-SA-4.0"})
	check("docs depends (cleared)", len(docs.Depends.All), 0)
	check("docs install (cleared)", docs.Install, "")
	check("docs options (cleared)", len(docs.Options), 0)
	check("docs groups (inherited, empty)", len(docs.Groups), 0)
	check("base source", s.Base.Source.All, []string{"https://example.org/example-1.0.0.tar.gz"})
	check("base checkdepends", s.Base.CheckDepends.All, []string{"extra-test-tool"})
	if s.Package("example-docs") != &s.Packages[1] || s.Package("nope") != nil {
		t.Errorf("Package lookup is wrong")
	}

}

// TestInheritedListsDoNotShare: packages inherit the pkgbase's slices; two
// appends through them must not write into one shared backing array, or
// one caller would clobber another's data. Three values leave the base
// slice with spare capacity.
func TestInheritedListsDoNotShare(t *testing.T) {
	s := mustParse(t, head+"\tdepends = a\n\tdepends = b\n\tdepends = c\n\tlicense = MIT\n\tlicense = GPL\n\tlicense = BSD\npkgname = b\npkgname = c\n")
	for _, lists := range [][2][]string{
		{s.Packages[0].Depends.All, s.Packages[1].Depends.All},
		{s.Packages[0].License, s.Packages[1].License},
	} {
		x := append(lists[0], "x")
		y := append(lists[1], "y")
		if x[3] != "x" || y[3] != "y" {
			t.Errorf("inherited lists share spare capacity: %q %q", x, y)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, tt := range []struct{ epoch, want string }{
		{"", "1.2-3.1"},
		{"0", "1.2-3.1"}, // makepkg omits a zero epoch
		{"2", "2:1.2-3.1"},
	} {
		src := "pkgbase = v\n\tpkgver = 1.2\n\tpkgrel = 3.1\n\tarch = any\n"
		if tt.epoch != "" {
			src += "\tepoch = " + tt.epoch + "\n"
		}
		s := mustParse(t, src+"pkgname = v\n")
		if got := s.Version(); got != tt.want {
			t.Errorf("epoch %q: Version = %q, want %q", tt.epoch, got, tt.want)
		}
		if got := s.ForArch("x86_64")[0].Version; got != tt.want {
			t.Errorf("epoch %q: ForArch Version = %q, want %q", tt.epoch, got, tt.want)
		}
	}
}

func TestLexical(t *testing.T) {
	// CRLF, comments, blank lines, any leading blanks, a '#' inside a value,
	// blank runs around '=', a value containing " = ".
	src := "# generated\r\n\r\npkgbase = lex\r\n    pkgver = 1\r\n\tpkgrel = 1\r\n  arch   =   x86_64\r\n" +
		"\tpkgdesc = C# bindings = fun\r\n\t# depends = ignored\r\npkgname = lex\r\n"
	s := mustParse(t, src)
	if s.Base.PkgDesc != "C# bindings = fun" {
		t.Errorf("pkgdesc = %q", s.Base.PkgDesc)
	}
	if !reflect.DeepEqual(s.Base.Arch, []string{"x86_64"}) || len(s.Base.Depends.All) != 0 {
		t.Errorf("arch = %q, depends = %q", s.Base.Arch, s.Base.Depends.All)
	}
	if s.Base.Line != 3 || s.Packages[0].Line != 9 {
		t.Errorf("header lines = %d, %d; want 3, 9", s.Base.Line, s.Packages[0].Line)
	}
}

func TestSupports(t *testing.T) {
	s := mustParse(t, "pkgbase = b\npkgver = 1\npkgrel = 1\narch = x86_64\narch = aarch64\npkgname = b\npkgname = b-any\narch = any\n")
	v := s.ForArch("riscv64")
	if len(v) != 2 {
		t.Fatalf("ForArch dropped packages: %d", len(v))
	}
	if v[0].Supports("riscv64") || !v[0].Supports("aarch64") || !v[1].Supports("riscv64") {
		t.Errorf("Supports wrong: %v %v", v[0].Arch, v[1].Arch)
	}
}

const head = "pkgbase = b\n\tpkgver = 1\n\tpkgrel = 1\n\tarch = x86_64\n"

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		line int
		want string // substring of the message
	}{
		{"empty", "", 1, "no \"pkgbase = NAME\" header"},
		{"only comments", "# a\n\n# b\n", 3, "no \"pkgbase = NAME\" header"},
		{"key before pkgbase", "pkgdesc = x\n" + head, 1, "pkgdesc before the pkgbase header"},
		{"pkgname before pkgbase", "pkgname = a\n" + head, 1, "pkgname section before the pkgbase"},
		{"second pkgbase", head + "pkgbase = c\n", 5, "second pkgbase header (the first is at line 1)"},
		{"bad pkgbase name", "pkgbase = foo/bar\n", 1, "character '/' is not allowed"},
		{"bad pkgname", head + "pkgname = -x\n", 5, "must not start with '-'"},
		{"duplicate pkgname", head + "pkgname = a\npkgname = a\n", 6, "duplicate pkgname \"a\" (first at line 5)"},
		{"no delimiter", head + "\tpkgdesc=x\n", 5, "invalid delimiter"},
		{"no spaces after =", head + "\tpkgdesc =x\n", 5, "invalid delimiter"},
		{"no equal sign", head + "\tpkgdesc x\n", 5, "expected \"key = value\""},
		{"bare word", head + "\tpkgdesc\n", 5, "expected \"key = value\""},
		{"no key", head + "\t= x\n", 5, "missing keyword"},
		{"unknown key", head + "\tmakedepend = x\n", 5, "unknown keyword \"makedepend\""},
		{"arch form of a plain keyword", head + "\tlicense_x86_64 = MIT\n", 5, "license has no architecture-specific form"},
		{"arch-specific any", head + "\tdepends_any = x\n", 5, "cannot target \"any\""},
		{"bad arch suffix", head + "\tdepends_x86-64 = x\n", 5, "invalid architecture \"x86-64\""},
		{"undeclared arch suffix", head + "\tsource_aarch64 = x\npkgname = b\n", 5, "architecture \"aarch64\" is not in the pkgbase's arch list (x86_64)"},
		{"arch suffix with arch any", "pkgbase = b\npkgver = 1\npkgrel = 1\narch = any\ndepends_x86_64 = x\npkgname = b\n", 5, "arch is \"any\""},
		{"package arch suffix outside its arch", "pkgbase = b\npkgver = 1\npkgrel = 1\narch = x86_64\narch = aarch64\npkgname = b\narch = aarch64\ndepends_x86_64 = x\npkgname = c\n", 8, "not in package b's arch list (aarch64)"},
		{"bad arch value", "pkgbase = b\n\tarch = x86-64\n", 2, "invalid architecture"},
		{"duplicate arch", head + "\tarch = x86_64\n", 5, "listed twice"},
		{"any with others", head + "\tarch = any\n", 5, "\"any\" cannot be combined"},
		{"empty arch in package", head + "pkgname = b\n\tarch =\n", 6, "empty arch"},
		{"duplicate single value", head + "\tpkgdesc = a\n\tpkgdesc = b\n", 6, "pkgdesc is assigned twice (first at line 5)"},
		{"duplicate single value in package", head + "pkgname = b\n\turl = a\n\turl = b\n", 7, "url is assigned twice"},
		{"missing pkgver", "pkgbase = b\n\tpkgrel = 1\n\tarch = any\npkgname = b\n", 1, "has no pkgver"},
		{"missing pkgrel", "pkgbase = b\n\tpkgver = 1\n\tarch = any\npkgname = b\n", 1, "has no pkgrel"},
		{"missing arch", "pkgbase = b\n\tpkgver = 1\n\tpkgrel = 1\npkgname = b\n", 1, "has no arch"},
		{"missing pkgname", head, 1, "has no pkgname section"},
		{"pkgver with hyphen", "pkgbase = b\n\tpkgver = 1-2\n", 2, "character '-' is not allowed"},
		{"pkgver with colon", "pkgbase = b\n\tpkgver = 1:2\n", 2, "character ':' is not allowed"},
		{"empty pkgver", "pkgbase = b\n\tpkgver =\n", 2, "empty pkgver"},
		{"bad pkgrel", "pkgbase = b\n\tpkgrel = 1a\n", 2, "invalid pkgrel"},
		{"bad pkgrel minor", "pkgbase = b\n\tpkgrel = 1.\n", 2, "invalid pkgrel"},
		{"bad epoch", "pkgbase = b\n\tepoch = -1\n", 2, "invalid epoch"},
		{"pkgver in package", head + "pkgname = b\n\tpkgver = 2\n", 6, "pkgver is only allowed in the pkgbase section, not in pkgname b"},
		{"epoch in package", head + "pkgname = b\n\tepoch = 2\n", 6, "epoch is only allowed in the pkgbase"},
		{"makedepends in package", head + "pkgname = b\n\tmakedepends = x\n", 6, "makedepends is only allowed in the pkgbase"},
		{"checkdepends_arch in package", head + "pkgname = b\n\tcheckdepends_x86_64 = x\n", 6, "checkdepends is only allowed in the pkgbase"},
		{"source in package", head + "pkgname = b\n\tsource = x\n", 6, "source is only allowed"},
		{"checksum in package", head + "pkgname = b\n\tsha256sums = SKIP\n", 6, "sha256sums is only allowed"},
		{"validpgpkeys in package", head + "pkgname = b\n\tvalidpgpkeys = 4A0C4DFFC02E1A7ED969ED231C2358A25A10D94E\n", 6, "validpgpkeys is only allowed"},
		{"noextract in package", head + "pkgname = b\n\tnoextract = x\n", 6, "noextract is only allowed"},
		{"empty list in pkgbase", head + "\tdepends =\n", 5, "only a pkgname section can clear"},
		{"empty after values", head + "pkgname = b\n\tdepends = a\n\tdepends =\n", 7, "empty depends value after values (first at line 6)"},
		{"short md5", head + "\tsource = a\n\tmd5sums = abc\n", 6, "want SKIP or 32 hex digits"},
		{"non-hex sha1", head + "\tsource = a\n\tsha1sums = " + strings.Repeat("g", 40) + "\n", 6, "invalid SHA-1 checksum"},
		{"bad cksum", head + "\tsource = a\n\tcksums = 12ab\n", 6, "invalid cksum"},
		{"cksum overflow", head + "\tsource = a\n\tcksums = 4294967296\n", 6, "larger than a 32-bit CRC"},
		{"bad pgp key", head + "\tvalidpgpkeys = 1234\n", 5, "invalid validpgpkeys"},
		{"checksum count", head + "\tsource = a\n\tsource = b\n\tsha256sums = SKIP\npkgname = b\n", 7, "1 sha256sums for 2 sources"},
		{"arch checksum count", head + "\tsource_x86_64 = a\n\tb2sums_x86_64 = SKIP\n\tb2sums_x86_64 = SKIP\npkgname = b\n", 6, "2 b2sums_x86_64 for 1 source_x86_64"},
		{"relation with blanks", head + "\tdepends = foo >= 1\n", 5, "whitespace in a name or version"},
		{"relation without version", head + "\tdepends = foo>=\n", 5, "operator without a version"},
		{"relation without name", head + "\tprovides = =1\n", 5, "no package name"},
		{"relation bad operator", head + "\tconflicts = foo=>1\n", 5, "unknown operator \"=>\""},
		{"invalid utf-8", head + "\tpkgdesc = \xff\n", 5, "invalid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.src), "x/.SRCINFO")
			if err == nil {
				t.Fatalf("Parse succeeded, want error at line %d containing %q\ninput:\n%s", tt.line, tt.want, tt.src)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if pe.Line != tt.line || pe.Source != "x/.SRCINFO" || !strings.Contains(pe.Msg, tt.want) {
				t.Errorf("error = %q (line %d), want line %d containing %q", err, pe.Line, tt.line, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "x/.SRCINFO:") {
				t.Errorf("error %q does not start with the source name", err)
			}
		})
	}
}

// TestClearThenExtend covers options' rule in SRCINFO(5): the first
// assignment in a pkgname section may be empty, and then values follow.
func TestClearThenExtend(t *testing.T) {
	s := mustParse(t, head+"\toptions = !lto\n\toptions = debug\npkgname = b\n\toptions =\n\toptions = strip\n")
	if got := s.Packages[0].Options; !reflect.DeepEqual(got, []string{"strip"}) {
		t.Errorf("options = %q, want [strip]", got)
	}
}

func TestParseFileMissing(t *testing.T) {
	_, err := ParseFile("/nonexistent/.SRCINFO")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/.SRCINFO") {
		t.Errorf("ParseFile error = %v, want it to name the path", err)
	}
}

// errReader fails after its data, like a broken pipe or disk.
type errReader struct{ data string }

func (r *errReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, errors.New("disk on fire")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestParseReadError(t *testing.T) {
	_, err := Parse(&errReader{head}, "pipe")
	if err == nil || err.Error() != "read pipe: disk on fire" {
		t.Errorf("error = %v, want read pipe: disk on fire", err)
	}
}
