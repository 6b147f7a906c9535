// Package pkgspec parses the one-line package listings that portmake's tests
// and scenarios use to describe repository contents:
//
//	name version [arch] [key=value ...]
//
// with keys arch, base, d (depends), m (makedepends), c (checkdepends) and
// p (provides); list values are comma-separated, and only the first '='
// splits a key, so "d=b>=2" and "p=libfoo.so=1-64" work. It is for tests
// only and does no I/O.
package pkgspec

import (
	"fmt"
	"strings"

	"github.com/portmake/portmake/alpm"
)

// Parse reads one listing line. The arch defaults to x86_64.
func Parse(spec string) (*alpm.Package, error) {
	f := strings.Fields(spec)
	if len(f) < 2 {
		return nil, fmt.Errorf("%q: want name version [arch] [key=value...]", spec)
	}
	p := &alpm.Package{Name: f[0], Version: f[1], Arch: "x86_64"}
	if err := alpm.CheckName(p.Name); err != nil {
		return nil, err
	}
	if v := alpm.ParseVersion(p.Version); v.Pkgver == "" || !v.HasRel {
		return nil, fmt.Errorf("version %q: want [epoch:]pkgver-pkgrel", p.Version)
	}
	rest := f[2:]
	if len(rest) > 0 && !strings.Contains(rest[0], "=") {
		p.Arch, rest = rest[0], rest[1:]
	}
	for _, kv := range rest {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			return nil, fmt.Errorf("field %q: want key=value", kv)
		}
		list := strings.Split(v, ",")
		switch k {
		case "arch":
			p.Arch = v
		case "base":
			p.Base = v
		case "d":
			p.Depends = append(p.Depends, list...)
		case "m":
			p.MakeDepends = append(p.MakeDepends, list...)
		case "c":
			p.CheckDepends = append(p.CheckDepends, list...)
		case "p":
			p.Provides = append(p.Provides, list...)
		default:
			return nil, fmt.Errorf("unknown key %q (want arch, base, d, m, c or p)", k)
		}
	}
	if p.Base == "" {
		p.Base = p.Name
	}
	return p, nil
}

// Must is Parse for literals in tests; it panics on a bad spec.
func Must(spec string) *alpm.Package {
	p, err := Parse(spec)
	if err != nil {
		panic(err)
	}
	return p
}
