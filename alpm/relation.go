package alpm

import (
	"fmt"
	"strings"
)

// Op is a relation's version operator.
type Op uint8

const (
	OpAny Op = iota // no version constraint
	OpEQ            // =
	OpGE            // >=
	OpLE            // <=
	OpGT            // >
	OpLT            // <
)

var opText = [...]string{OpAny: "", OpEQ: "=", OpGE: ">=", OpLE: "<=", OpGT: ">", OpLT: "<"}

func (o Op) String() string { return opText[o] }

// Relation is one entry of a depends, makedepends, checkdepends, optdepends,
// provides, conflicts or replaces list, per alpm-package-relation(7).
// Sonames such as "libacl.so=1-64" are relations whose name is the library.
type Relation struct {
	Name    string
	Op      Op
	Version string
	Desc    string // optdepends description, after ": "
}

// String renders the relation the way it is written in metadata files.
func (r Relation) String() string {
	s := r.Name
	if r.Op != OpAny {
		s += r.Op.String() + r.Version
	}
	if r.Desc != "" {
		s += ": " + r.Desc
	}
	return s
}

// ParseRelation parses a relation string the way libalpm's
// alpm_dep_from_string does: an optional ": description", then the first
// '<', else '>', else '=' splits the name from the version. Unlike libalpm it
// refuses an invalid name or an operator without a version.
func ParseRelation(s string) (Relation, error) {
	var r Relation
	body := s
	// ": " with the space, so the epoch colon in "foo=1:2" is not taken.
	if i := strings.Index(s, ": "); i >= 0 {
		body, r.Desc = s[:i], s[i+2:]
	}
	name, ver := body, ""
	if i := strings.IndexByte(body, '<'); i >= 0 {
		name, ver, r.Op = body[:i], body[i+1:], OpLT
		if strings.HasPrefix(ver, "=") {
			ver, r.Op = ver[1:], OpLE
		}
	} else if i := strings.IndexByte(body, '>'); i >= 0 {
		name, ver, r.Op = body[:i], body[i+1:], OpGT
		if strings.HasPrefix(ver, "=") {
			ver, r.Op = ver[1:], OpGE
		}
	} else if i := strings.IndexByte(body, '='); i >= 0 {
		name, ver, r.Op = body[:i], body[i+1:], OpEQ
	}
	r.Name, r.Version = name, ver
	if err := CheckName(name); err != nil {
		return Relation{}, fmt.Errorf("relation %q: %w", s, err)
	}
	if r.Op != OpAny {
		if ver == "" {
			return Relation{}, fmt.Errorf("relation %q: operator %s without a version", s, r.Op)
		}
		if strings.ContainsAny(ver, "<>= \t\n") {
			return Relation{}, fmt.Errorf("relation %q: invalid version %q", s, ver)
		}
	}
	return r, nil
}

// MustParseRelation is ParseRelation for literals in tests and tables.
func MustParseRelation(s string) Relation {
	r, err := ParseRelation(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Candidate is what a dependency is checked against: a package's name,
// full version and parsed provides.
type Candidate struct {
	Name     string
	Version  string
	Provides []Relation
}

// Satisfies reports whether candidate c satisfies dependency dep, with
// pacman's semantics (_alpm_depcmp): a name match is checked against the
// package version; a provide match is checked against the provide's own
// version, and an unversioned provide never satisfies a versioned
// dependency.
func Satisfies(dep Relation, c Candidate) bool {
	if c.Name == dep.Name && versionMatches(c.Version, dep.Op, dep.Version) {
		return true
	}
	for _, p := range c.Provides {
		if p.Name != dep.Name {
			continue
		}
		if dep.Op == OpAny {
			return true
		}
		if p.Op == OpEQ && versionMatches(p.Version, dep.Op, dep.Version) {
			return true
		}
	}
	return false
}

// VersionMatches reports whether version v meets the constraint "op want".
func VersionMatches(v string, op Op, want string) bool { return versionMatches(v, op, want) }

func versionMatches(v string, op Op, want string) bool {
	if op == OpAny {
		return true
	}
	c := Compare(v, want)
	switch op {
	case OpEQ:
		return c == 0
	case OpGE:
		return c >= 0
	case OpLE:
		return c <= 0
	case OpGT:
		return c > 0
	case OpLT:
		return c < 0
	}
	return false
}
