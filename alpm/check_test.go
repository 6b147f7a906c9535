package alpm

import (
	"strings"
	"testing"
)

func TestCheckRelation(t *testing.T) {
	ok := []struct {
		kind RelationKind
		s    string
	}{
		{RelDepends, "glibc"},
		{RelDepends, "glibc>=2.40"},
		{RelDepends, "python=1:3.12-1"},
		{RelDepends, "libacl.so=1-64"},
		{RelDepends, "lib:libfoo.so.1"},
		{RelDepends, "foo<2.0-1.1"},
		{RelDepends, "libsigc++"},
		{RelBuild, "cmake>3"},
		{RelProvides, "sh=5.2"},
		{RelProvides, "lib:libacl.so.1"},
		{RelProvides, "java-runtime=21"},
		{RelOptDepends, "gtk3: for the GUI"},
		{RelOptDepends, "python>=3: scripts: and more"},
		{RelOptDepends, "ruby"},
		{RelOptDepends, "tk: für die Oberfläche"},
	}
	for _, c := range ok {
		if err := CheckRelation(c.kind, c.s); err != nil {
			t.Errorf("CheckRelation(%d, %q): %v", c.kind, c.s, err)
		}
	}
	bad := []struct {
		kind RelationKind
		s    string
		want string
	}{
		{RelDepends, "", "empty"},
		{RelDepends, "%VERSION%", `character '%' is not allowed`},
		{RelProvides, "%PROVIDES%", `character '%' is not allowed`},
		{RelDepends, "foo bar", `character ' ' is not allowed`},
		{RelDepends, "foo\nbar", `character '\n' is not allowed`},
		{RelDepends, "-foo", "must not start with"},
		{RelDepends, "foo>=", "operator >= without a version"},
		{RelDepends, "foo>=1<2", `character '<' is not allowed in pkgver`},
		{RelDepends, "foo=a:1", "epoch before ':' must be digits"},
		{RelDepends, "foo=1-x", `pkgrel "x" must be digits`},
		{RelDepends, "foo=1-1.2.3", `pkgrel "1.2.3"`},
		{RelDepends, "foo=1/2-1", `character '/' is not allowed in pkgver`},
		{RelDepends, "Test::Delta=1.06", `character ':' is not allowed`},
		{RelDepends, ":libfoo.so.1", "soname prefix"},
		{RelBuild, "lib:libfoo.so.1", "only depends and provides"},
		{RelProvides, "foo>=1", "a provision takes only '='"},
		{RelOptDepends, "foo: bad\rdesc", "line break"},
		{RelOptDepends, "foo: \xff", "not UTF-8"},
		{RelBuild, "gcc pkgconfig perl", `character ' ' is not allowed`},
	}
	for _, c := range bad {
		err := CheckRelation(c.kind, c.s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckRelation(%d, %q) = %v, want an error containing %q", c.kind, c.s, err, c.want)
		}
	}
}

func TestCheckRelations(t *testing.T) {
	p := &Package{Name: "x", Depends: []string{"ok", "%VERSION%"}, Provides: []string{"%PROVIDES%"}, OptDepends: []string{"a: b"}}
	err := p.CheckRelations()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`depends: relation "%VERSION%"`, `provides: relation "%PROVIDES%"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	p = &Package{Name: "x", Depends: []string{"a>=1"}, Conflicts: []string{"b<2"}, Replaces: []string{"c"}}
	if err := p.CheckRelations(); err != nil {
		t.Error(err)
	}
}
