package alpm

import (
	"strings"
	"testing"
)

func TestParseRelation(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Relation
	}{
		{"glibc", Relation{Name: "glibc"}},
		{"glibc>=2.40", Relation{Name: "glibc", Op: OpGE, Version: "2.40"}},
		{"glibc<=2.40-1", Relation{Name: "glibc", Op: OpLE, Version: "2.40-1"}},
		{"glibc>2", Relation{Name: "glibc", Op: OpGT, Version: "2"}},
		{"glibc<2", Relation{Name: "glibc", Op: OpLT, Version: "2"}},
		{"sh=5.2", Relation{Name: "sh", Op: OpEQ, Version: "5.2"}},
		{"libacl.so=1-64", Relation{Name: "libacl.so", Op: OpEQ, Version: "1-64"}},
		{"python=1:3.12-1", Relation{Name: "python", Op: OpEQ, Version: "1:3.12-1"}},
		{"gtk3: for the GUI", Relation{Name: "gtk3", Desc: "for the GUI"}},
		{"python>=3: scripts: and more", Relation{Name: "python", Op: OpGE, Version: "3", Desc: "scripts: and more"}},
		{"libsigc++", Relation{Name: "libsigc++"}},
		{"java-runtime=21", Relation{Name: "java-runtime", Op: OpEQ, Version: "21"}},
	} {
		got, err := ParseRelation(c.in)
		if err != nil {
			t.Errorf("ParseRelation(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseRelation(%q) = %+v, want %+v", c.in, got, c.want)
		}
		if got.String() != c.in {
			t.Errorf("ParseRelation(%q).String() = %q", c.in, got.String())
		}
	}
}

func TestParseRelationErrors(t *testing.T) {
	for _, in := range []string{"", ">=1", "foo>=", "foo=", "-foo", ".foo", "foo/bar", "foo bar", "foo>=1<2", "../etc"} {
		if r, err := ParseRelation(in); err == nil {
			t.Errorf("ParseRelation(%q) = %+v, want an error", in, r)
		}
	}
}

func TestSatisfies(t *testing.T) {
	pkg := func(name, ver string, provides ...string) Candidate {
		c := Candidate{Name: name, Version: ver}
		for _, p := range provides {
			c.Provides = append(c.Provides, MustParseRelation(p))
		}
		return c
	}
	bash := pkg("bash", "5.2.037-1", "sh")
	zsh := pkg("zsh", "5.9-5", "sh=5.2")
	acl := pkg("acl", "2.3.2-1", "libacl.so=1-64")
	b1 := pkg("b", "1-1")
	for _, c := range []struct {
		dep  string
		cand Candidate
		want bool
	}{
		{"bash", bash, true},
		{"bash>=5", bash, true},
		{"bash<5", bash, false},
		{"bash=5.2.037", bash, true}, // no pkgrel in the constraint: any pkgrel matches
		{"bash=5.2.037-2", bash, false},
		{"sh", bash, true},
		{"sh>=5", bash, false}, // an unversioned provide never satisfies a versioned dep
		{"sh>=5", zsh, true},
		{"sh>5.2", zsh, false},
		{"libacl.so=1-64", acl, true},
		{"libacl.so=2-64", acl, false},
		{"libacl.so", acl, true},
		{"b>=2", b1, false},
		{"b>=1", b1, true},
		{"c", b1, false},
	} {
		if got := Satisfies(MustParseRelation(c.dep), c.cand); got != c.want {
			t.Errorf("Satisfies(%q, %s %s) = %v, want %v", c.dep, c.cand.Name, c.cand.Version, got, c.want)
		}
	}
}

func TestValidName(t *testing.T) {
	for _, ok := range []string{"glibc", "lib32-glibc", "libsigc++", "python3.12", "foo@bar", "a_b", "X11", "0ad"} {
		if !ValidName(ok) || CheckName(ok) != nil {
			t.Errorf("ValidName(%q) = false, want true", ok)
		}
	}
	for _, bad := range []string{"", ".", "..", "../x", "a/b", "-x", ".hidden", "a b", "ä", "a\x00", "a;rm", "$x", "a:b"} {
		if ValidName(bad) {
			t.Errorf("ValidName(%q) = true, want false", bad)
		}
		if err := CheckName(bad); err == nil || !strings.Contains(err.Error(), "invalid package name") {
			t.Errorf("CheckName(%q) = %v", bad, err)
		}
	}
}

func FuzzParseRelation(f *testing.F) {
	for _, s := range []string{"glibc", "glibc>=2.40", "libacl.so=1-64", "gtk3: GUI", "a<=1:2-3", "=", "<", ":", ": "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRelation(s)
		if err != nil {
			return
		}
		if !ValidName(r.Name) {
			t.Fatalf("ParseRelation(%q) accepted invalid name %q", s, r.Name)
		}
		if (r.Op == OpAny) != (r.Version == "") {
			t.Fatalf("ParseRelation(%q) = %+v: operator and version disagree", s, r)
		}
		// A parsed relation renders back to something that parses the same.
		r2, err := ParseRelation(r.String())
		if err != nil || r2 != r {
			t.Fatalf("round trip of %q: %+v -> %q -> %+v, %v", s, r, r.String(), r2, err)
		}
	})
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1:2.3-4", "2.3", "", ":", "1:", "-", "1-2-3", "a:b-c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := ParseVersion(s)
		rebuilt := v.Pkgver
		if v.Epoch != "" || strings.HasPrefix(s, ":") {
			rebuilt = v.Epoch + ":" + rebuilt
		}
		if v.HasRel {
			rebuilt += "-" + v.Pkgrel
		}
		if rebuilt != s {
			t.Fatalf("ParseVersion(%q) = %+v does not rebuild the input (%q)", s, v, rebuilt)
		}
		if Compare(s, s) != 0 {
			t.Fatalf("Compare(%q, itself) != 0", s)
		}
	})
}
