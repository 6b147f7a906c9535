package syncdb

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/internal/testutil"
)

// specV1Example is the full example of alpm-repo-descv1(5).
const specV1Example = `%FILENAME%
example-1.0.0-1-any.pkg.tar.zst

%NAME%
example

%BASE%
example

%VERSION%
1.0.0-1

%DESC%
An example package

%GROUPS%
example-group
other-group

%CSIZE%
1818463

%ISIZE%
18184634

%MD5SUM%
d3b07384d113edec49eaa6238ad5ff00

%SHA256SUM%
b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c

%PGPSIG%
iHUEABYKAB0WIQRizHP4hOUpV7L92IObeih9mi7GCAUCaBZuVAAKCRCbeih9mi7GCIlMAP9ws/jU4f580ZRQlTQKvUiLbAZOdcB7mQQj83hD1Nc/GwD/WIHhO1/OQkpMERejUrLo3AgVmY3b4/uGhx9XufWEbgE=

%URL%
https://example.org

%LICENSE%
MIT
Apache-2.0

%ARCH%
x86_64

%BUILDDATE%
1729181726

%PACKAGER%
Foobar McFooface <foobar@mcfooface.org>

%REPLACES%
other-pkg-replaced

%CONFLICTS%
other-pkg-conflicts

%PROVIDES%
example-component

%DEPENDS%
glibc
gcc-libs

%OPTDEPENDS%
bash: for a script

%MAKEDEPENDS%
cmake

%CHECKDEPENDS%
bats
`

func TestParseDescSpecExample(t *testing.T) {
	var p alpm.Package
	if err := ParseDesc([]byte(specV1Example), &p); err != nil {
		t.Fatal(err)
	}
	want := alpm.Package{
		Filename:     "example-1.0.0-1-any.pkg.tar.zst",
		Name:         "example",
		Base:         "example",
		Version:      "1.0.0-1",
		Desc:         "An example package",
		Groups:       []string{"example-group", "other-group"},
		CSize:        1818463,
		ISize:        18184634,
		MD5Sum:       "d3b07384d113edec49eaa6238ad5ff00",
		SHA256Sum:    "b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c",
		PGPSig:       "iHUEABYKAB0WIQRizHP4hOUpV7L92IObeih9mi7GCAUCaBZuVAAKCRCbeih9mi7GCIlMAP9ws/jU4f580ZRQlTQKvUiLbAZOdcB7mQQj83hD1Nc/GwD/WIHhO1/OQkpMERejUrLo3AgVmY3b4/uGhx9XufWEbgE=",
		URL:          "https://example.org",
		License:      []string{"MIT", "Apache-2.0"},
		Arch:         "x86_64",
		BuildDate:    1729181726,
		Packager:     "Foobar McFooface <foobar@mcfooface.org>",
		Replaces:     []string{"other-pkg-replaced"},
		Conflicts:    []string{"other-pkg-conflicts"},
		Provides:     []string{"example-component"},
		Depends:      []string{"glibc", "gcc-libs"},
		OptDepends:   []string{"bash: for a script"},
		MakeDepends:  []string{"cmake"},
		CheckDepends: []string{"bats"},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got  %+v\nwant %+v", p, want)
	}
}

func TestParseDesc(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		check   func(p *alpm.Package) bool
		wantErr string
	}{
		{name: "empty file", in: "", check: func(p *alpm.Package) bool { return reflect.DeepEqual(*p, alpm.Package{}) }},
		{name: "v2 data and no md5", in: "%NAME%\nfoo\n\n%VERSION%\n1-1\n\n%DATA%\na\nb\n",
			check: func(p *alpm.Package) bool { return p.MD5Sum == "" && reflect.DeepEqual(p.Data, []string{"a", "b"}) }},
		{name: "unknown keys kept in order", in: "%ZED%\n1\n\n%NAME%\nfoo\n\n%ALPHA%\nx\ny\n\n%EMPTY%\n\n",
			check: func(p *alpm.Package) bool {
				return reflect.DeepEqual(p.Extra, []alpm.Field{{Key: "ZED", Values: []string{"1"}}, {Key: "ALPHA", Values: []string{"x", "y"}}, {Key: "EMPTY", Values: []string{}}})
			}},
		{name: "no trailing newline", in: "%NAME%\nfoo\n\n%DEPENDS%\na\nb",
			check: func(p *alpm.Package) bool { return reflect.DeepEqual(p.Depends, []string{"a", "b"}) }},
		// libalpm reads a list up to the blank line, whatever the lines
		// look like; a scalar takes the next line only.
		{name: "a list ends at a blank line only", in: "%NAME%\nfoo\n%DEPENDS%\na\n%CONFLICTS%\nb\n",
			check: func(p *alpm.Package) bool {
				return p.Name == "foo" && reflect.DeepEqual(p.Depends, []string{"a", "%CONFLICTS%", "b"}) && p.Conflicts == nil
			}},
		{name: "dependency named like a header", in: "%NAME%\nfoo\n\n%DEPENDS%\n%VERSION%\nbar\n\n%VERSION%\n1-1\n",
			check: func(p *alpm.Package) bool {
				return reflect.DeepEqual(p.Depends, []string{"%VERSION%", "bar"}) && p.Version == "1-1"
			}},
		{name: "provide named like its own header", in: "%PROVIDES%\n%PROVIDES%\nfoo\n\n",
			check: func(p *alpm.Package) bool { return reflect.DeepEqual(p.Provides, []string{"%PROVIDES%", "foo"}) }},
		{name: "empty value ends a list, the rest is skipped", in: "%DEPENDS%\na\n\nb\n\n%NAME%\nfoo\n",
			check: func(p *alpm.Package) bool { return reflect.DeepEqual(p.Depends, []string{"a"}) && p.Name == "foo" }},
		{name: "known header inside an unknown section", in: "%ZED%\n%DESC%\nx\n",
			check: func(p *alpm.Package) bool {
				return p.Desc == "x" && reflect.DeepEqual(p.Extra, []alpm.Field{{Key: "ZED", Values: []string{}}})
			}},
		{name: "stray value skipped", in: "foo\n%NAME%\nfoo\n", check: func(p *alpm.Package) bool { return p.Name == "foo" }},
		{name: "lowercase header skipped", in: "%name%\nfoo\n", check: func(p *alpm.Package) bool { return reflect.DeepEqual(*p, alpm.Package{}) }},
		{name: "CRLF header skipped", in: "%NAME%\r\nfoo\r\n", check: func(p *alpm.Package) bool { return reflect.DeepEqual(*p, alpm.Package{}) }},
		{name: "scalar value that looks like a header", in: "%DESC%\n%FOO%\n",
			check: func(p *alpm.Package) bool { return p.Desc == "%FOO%" && p.Extra == nil }},
		{name: "empty scalar", in: "%DESC%\n\n%URL%\n",
			check: func(p *alpm.Package) bool { return p.Desc == "" && p.URL == "" }},
		{name: "blank lines between sections", in: "\n\n%NAME%\nfoo\n\n\n\n%ARCH%\nany\n\n\n",
			check: func(p *alpm.Package) bool { return p.Name == "foo" && p.Arch == "any" }},
		{name: "spaces kept in values", in: "%DESC%\n  two  spaces \n",
			check: func(p *alpm.Package) bool { return p.Desc == "  two  spaces " }},
		{name: "files", in: "%FILES%\nusr/\nusr/bin/x\n",
			check: func(p *alpm.Package) bool { return reflect.DeepEqual(p.Files, []string{"usr/", "usr/bin/x"}) }},
		{name: "epoch and dotted pkgrel", in: "%VERSION%\n2:1.0-5.1\n",
			check: func(p *alpm.Package) bool { return p.Version == "2:1.0-5.1" }},

		{name: "scalar twice", in: "%CSIZE%\n1\n\n%CSIZE%\n1\n", wantErr: "line 4: %CSIZE% given twice"},
		{name: "scalar with two values", in: "%NAME%\nfoo\nbar\n", wantErr: `line 1: %NAME% has 2 values, want 1 ("foo", "bar", ...)`},
		{name: "bad number", in: "%ISIZE%\n-5\n", wantErr: `line 1: %ISIZE%: "-5" is not a non-negative decimal number`},
		{name: "plus number", in: "%ISIZE%\n+5\n", wantErr: `line 1: %ISIZE%: "+5" is not a non-negative decimal number`},
		{name: "empty number", in: "%BUILDDATE%\n\n", wantErr: `line 1: %BUILDDATE%: "" is not a non-negative decimal number`},
		{name: "huge number", in: "%CSIZE%\n99999999999999999999\n", wantErr: `is not a non-negative decimal number`},
		{name: "invalid name", in: "%NAME%\nmy epic example!!!!\n", wantErr: `line 1: %NAME%: invalid package name "my epic example!!!!"`},
		{name: "empty name", in: "%NAME%\n\n", wantErr: "line 1: %NAME%: invalid package name: empty"},
		{name: "invalid base", in: "%BASE%\n../x\n", wantErr: `line 1: %BASE%: invalid package base "../x"`},
		{name: "version without pkgrel", in: "%VERSION%\n1.0\n", wantErr: `line 1: %VERSION% "1.0" is not a full version`},
		{name: "version with space", in: "%VERSION%\n1.0 -1\n", wantErr: `line 1: %VERSION% "1.0 -1": character ' ' is not allowed`},
		{name: "version with slash", in: "%VERSION%\n1/0-1\n", wantErr: `character '/' is not allowed`},
		{name: "line over the limit", in: "%DEPENDS%\na\n" + strings.Repeat("x", 512<<10+1) + "\n", wantErr: "line 3: 524289 bytes, more than the 512 KiB a line may have"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p alpm.Package
			err := ParseDesc([]byte(tt.in), &p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(&p) {
				t.Errorf("unexpected result: %+v", p)
			}
		})
	}
}

// TestParseDescMerge checks that a second file appends to the lists of the
// first, as libalpm does for desc and depends.
func TestParseDescMerge(t *testing.T) {
	var p alpm.Package
	if err := ParseDesc([]byte("%NAME%\nfoo\n\n%DEPENDS%\na\n\n%CONFLICTS%\nc\n"), &p); err != nil {
		t.Fatal(err)
	}
	if err := ParseDesc([]byte("%DEPENDS%\nb\n\n%OPTDEPENDS%\nd: why\n"), &p); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Depends, []string{"a", "b"}) || !reflect.DeepEqual(p.Conflicts, []string{"c"}) ||
		!reflect.DeepEqual(p.OptDepends, []string{"d: why"}) {
		t.Errorf("merged: %+v", p)
	}
	// Appending to one list must not clobber another: they share storage.
	p.Depends = append(p.Depends, "x")
	p.Conflicts = append(p.Conflicts, "y")
	if p.OptDepends[0] != "d: why" || p.Depends[1] != "b" {
		t.Errorf("lists overlap: %+v", p)
	}
}

// TestParseDescAlpmFixtures runs the desc parse-error fixtures of the
// official Rust implementation. Where that parser is stricter than pacman we
// follow pacman, and the test says so.
func TestParseDescAlpmFixtures(t *testing.T) {
	dir := filepath.Join(testutil.Corpus(t), "fixtures", "alpm", "alpm-repo-db", "tests", "parse_errors", "desc")
	tests := map[string]string{
		"invalid_name.desc":      `%NAME%: invalid package name "my epic example!!!!"`,
		"duplicate_section.desc": "%CSIZE% given twice",
		// An unknown section is kept in Extra (pacman skips it), not refused.
		"invalid_keyword.desc": "",
		// %PGPSIG% is optional for pacman; an empty file has no fields,
		// and Read refuses the entry for its missing %NAME%.
		"invalid_version.desc": "",
		"empty.desc":           "",
	}
	for file, wantErr := range tests {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		var p alpm.Package
		err = ParseDesc(data, &p)
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%s: %v", file, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%s: error %v, want %q", file, err, wantErr)
		}
		if file == "invalid_keyword.desc" && (len(p.Extra) != 1 || p.Extra[0].Key != "AUTHOR") {
			t.Errorf("%s: Extra = %+v, want the AUTHOR section", file, p.Extra)
		}
	}
}
