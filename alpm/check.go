package alpm

// Validating relation strings, for what portmake writes.
//
// ParseRelation reads relations the lenient way libalpm does, because the
// databases portmake reads were written by others. What portmake writes
// itself (a database entry from `repo add`, later a build's output) is held
// to the rules of alpm-package-relation(7) instead, which are makepkg's
// lint rules: a relation that breaks them is one pacman reads differently
// from what its author meant, or not at all.
//
//   - The name is an alpm-package-name(7). Run-time dependencies and
//     provisions may instead be an alpm-sonamev2(7) "prefix:soname" (for
//     example "lib:libfoo.so.1"), without a version.
//   - An operator (<, <=, =, >=, >) is followed by an alpm-package-version(7):
//     [epoch:]pkgver[-pkgrel], where the epoch is digits, pkgver is printable
//     ASCII without ':', '/', '-', '<', '>', '=' or spaces, and pkgrel is
//     digits with at most one inner '.'. Provisions only take '='.
//   - An optional dependency may end with ": " and a description: UTF-8
//     without a line break.
//
// These rules also keep a relation safe in a desc file: no line break, and
// no "%KEY%" lookalike, since '%' is in no name.

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// RelationKind says which list a relation belongs to; each allows a
// different form.
type RelationKind uint8

const (
	RelDepends    RelationKind = iota // depends: a name, a comparison or a soname
	RelBuild                          // makedepends, checkdepends, conflicts, replaces: a name or a comparison
	RelProvides                       // provides: a name, name=version or a soname
	RelOptDepends                     // optdepends: a name or a comparison, with an optional ": description"
)

// CheckRelation returns an error that says what is wrong with relation s of
// the given kind, or nil when it follows alpm-package-relation(7).
func CheckRelation(kind RelationKind, s string) error {
	if err := checkRelation(kind, s); err != nil {
		return fmt.Errorf("relation %q: %w", clipRel(s), err)
	}
	return nil
}

func checkRelation(kind RelationKind, s string) error {
	if s == "" {
		return errors.New("empty")
	}
	body := s
	if kind == RelOptDepends {
		if i := strings.Index(s, ": "); i >= 0 {
			body = s[:i]
			desc := s[i+2:]
			if !utf8.ValidString(desc) {
				return errors.New("the description is not UTF-8")
			}
			if strings.ContainsAny(desc, "\n\r") {
				return errors.New("the description has a line break")
			}
		}
	}
	name, op, ver := body, "", ""
	if i := strings.IndexAny(body, "<>="); i >= 0 {
		name, op, ver = body[:i], body[i:i+1], body[i+1:]
		if op != "=" && strings.HasPrefix(ver, "=") {
			op, ver = op+"=", ver[1:]
		}
	}
	if prefix, soname, ok := strings.Cut(name, ":"); ok && op == "" {
		if kind != RelDepends && kind != RelProvides {
			return fmt.Errorf("%q is a soname, which only depends and provides may hold", name)
		}
		if prefix == "" || strings.IndexFunc(prefix, func(r rune) bool { return r > 0x7f || !isAlnum(byte(r)) }) >= 0 {
			return fmt.Errorf("soname prefix %q: want letters and digits", prefix)
		}
		return CheckName(soname)
	}
	if err := CheckName(name); err != nil {
		return err
	}
	if op == "" {
		return nil
	}
	if kind == RelProvides && op != "=" {
		return fmt.Errorf("a provision takes only '=', not %q", op)
	}
	if ver == "" {
		return fmt.Errorf("operator %s without a version", op)
	}
	return CheckVersion(ver)
}

// CheckVersion returns an error that says what is wrong with an
// alpm-package-version(7), full ([epoch:]pkgver-pkgrel) or minimal (without
// -pkgrel), or nil.
func CheckVersion(v string) error {
	pv := ParseVersion(v)
	if strings.IndexByte(v, ':') >= 0 && pv.Epoch == "" {
		return fmt.Errorf("version %q: the epoch before ':' must be digits", v)
	}
	if pv.Pkgver == "" {
		return fmt.Errorf("version %q: empty pkgver", v)
	}
	for i := 0; i < len(pv.Pkgver); i++ {
		if c := pv.Pkgver[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(":/-<>=", c) >= 0 {
			return fmt.Errorf("version %q: character %q is not allowed in pkgver", v, c)
		}
	}
	if pv.HasRel && !validPkgrel(pv.Pkgrel) {
		return fmt.Errorf("version %q: pkgrel %q must be digits, optionally with one '.' and more digits", v, pv.Pkgrel)
	}
	return nil
}

func validPkgrel(s string) bool {
	major, minor, dotted := strings.Cut(s, ".")
	return allDigits(major) && (!dotted || allDigits(minor))
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// CheckRelations checks every relation list of p (see CheckRelation) and
// returns one error per invalid entry, each naming its list, joined.
func (p *Package) CheckRelations() error {
	var errs []error
	for _, l := range [...]struct {
		field string
		kind  RelationKind
		list  []string
	}{
		{"depends", RelDepends, p.Depends},
		{"makedepends", RelBuild, p.MakeDepends},
		{"checkdepends", RelBuild, p.CheckDepends},
		{"optdepends", RelOptDepends, p.OptDepends},
		{"provides", RelProvides, p.Provides},
		{"conflicts", RelBuild, p.Conflicts},
		{"replaces", RelBuild, p.Replaces},
	} {
		for _, s := range l.list {
			if err := CheckRelation(l.kind, s); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", l.field, err))
			}
		}
	}
	return errors.Join(errs...)
}

// clipRel shortens a relation for an error message.
func clipRel(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "..."
}
