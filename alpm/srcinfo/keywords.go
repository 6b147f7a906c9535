package srcinfo

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// keyword describes one SRCINFO(5) keyword: how often a section may assign
// it, whether it has <key>_<arch> variants, whether a pkgname section may
// use it, and how its values are checked.
type keyword struct {
	name  string
	multi bool // may be assigned more than once per section
	arch  bool // has architecture-specific variants
	inPkg bool // allowed in a pkgname section
	check func(string) error
}

// keywords is the complete list from SRCINFO(5). Anything else is an error:
// both the spec and the reference parsers (alpm-srcinfo, go-srcinfo) reject
// unknown keys, and a typo such as "makedepend" would otherwise silently drop
// build dependencies from a plan.
var keywords = func() map[string]*keyword {
	list := []keyword{
		{name: "pkgver", check: checkPkgver},
		{name: "pkgrel", check: checkPkgrel},
		{name: "epoch", check: checkEpoch},
		{name: "pkgdesc", inPkg: true},
		{name: "url", inPkg: true},
		{name: "install", inPkg: true},
		{name: "changelog", inPkg: true},
		{name: "arch", multi: true, inPkg: true, check: checkArch},
		{name: "groups", multi: true, inPkg: true},
		{name: "license", multi: true, inPkg: true},
		{name: "backup", multi: true, inPkg: true},
		{name: "options", multi: true, inPkg: true},
		{name: "depends", multi: true, arch: true, inPkg: true, check: checkRelation},
		{name: "optdepends", multi: true, arch: true, inPkg: true, check: checkRelation},
		{name: "provides", multi: true, arch: true, inPkg: true, check: checkRelation},
		{name: "conflicts", multi: true, arch: true, inPkg: true, check: checkRelation},
		{name: "replaces", multi: true, arch: true, inPkg: true, check: checkRelation},
		{name: "makedepends", multi: true, arch: true, check: checkRelation},
		{name: "checkdepends", multi: true, arch: true, check: checkRelation},
		{name: "source", multi: true, arch: true},
		{name: "noextract", multi: true},
		{name: "validpgpkeys", multi: true, check: checkPGPKey},
		{name: "md5sums", multi: true, arch: true, check: checkHex("MD5", 32)},
		{name: "sha1sums", multi: true, arch: true, check: checkHex("SHA-1", 40)},
		{name: "sha224sums", multi: true, arch: true, check: checkHex("SHA-224", 56)},
		{name: "sha256sums", multi: true, arch: true, check: checkHex("SHA-256", 64)},
		{name: "sha384sums", multi: true, arch: true, check: checkHex("SHA-384", 96)},
		{name: "sha512sums", multi: true, arch: true, check: checkHex("SHA-512", 128)},
		{name: "b2sums", multi: true, arch: true, check: checkHex("BLAKE2b", 128)},
		{name: "cksums", multi: true, arch: true, check: checkCksum},
	}
	m := make(map[string]*keyword, len(list))
	for i := range list {
		m[list[i].name] = &list[i]
	}
	return m
}()

// checksumKeys are the checksum keywords, in the order views list them.
var checksumKeys = []string{"md5sums", "sha1sums", "sha224sums", "sha256sums", "sha384sums", "sha512sums", "b2sums", "cksums"}

// checkPkgver follows alpm-pkgver(7) and makepkg's lint: printable ASCII
// without ':', '/', '-', '<', '>', '=' or whitespace. A ':' would be read as
// an epoch and a '-' as the pkgrel separator by every version parser
// downstream.
func checkPkgver(v string) error {
	if v == "" {
		return fmt.Errorf("empty pkgver")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(":/-<>=", c) >= 0 {
			r, _ := utf8.DecodeRuneInString(v[i:])
			return fmt.Errorf("invalid pkgver %q: character %q is not allowed (ASCII only, no ':', '/', '-', '<', '>', '=' or whitespace)", v, r)
		}
	}
	return nil
}

// checkPkgrel follows alpm-pkgrel(7): digits, optionally "." and digits.
func checkPkgrel(v string) error {
	major, minor, dotted := strings.Cut(v, ".")
	if !allDigits(major) || (dotted && !allDigits(minor)) {
		return fmt.Errorf("invalid pkgrel %q: want digits, optionally followed by '.' and digits (1, 2.1)", v)
	}
	return nil
}

// checkEpoch follows alpm-epoch(7): a non-negative integer.
func checkEpoch(v string) error {
	if !allDigits(v) {
		return fmt.Errorf("invalid epoch %q: want a non-negative integer", v)
	}
	return nil
}

// CheckArch returns an error that says what is wrong with an architecture
// name, or nil. It follows alpm-architecture(7): ASCII letters, digits and
// '_'. Custom names ("my_special_arch") are allowed; only the spelling is
// fixed. "any" passes: whether it fits is the caller's decision.
func CheckArch(v string) error { return checkArch(v) }

func checkArch(v string) error {
	if v == "" {
		return fmt.Errorf("empty architecture")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("invalid architecture %q: only letters, digits and '_' are allowed", v)
		}
	}
	return nil
}

// checkRelation refuses what can never be a relation (alpm-package-relation
// (7)): whitespace in the name or version, a missing name, an operator
// without a version. It deliberately does not apply alpm.CheckName: real
// files provide names such as "Math::Vec=1.01", which pacman and makepkg
// accept, and judging names is the caller's job when it parses relations.
func checkRelation(v string) error {
	body, _, _ := strings.Cut(v, ": ")
	if strings.ContainsAny(body, " \t") {
		return fmt.Errorf("invalid relation %q: whitespace in a name or version", v)
	}
	i := strings.IndexAny(body, "<>=")
	if i == 0 {
		return fmt.Errorf("invalid relation %q: no package name", v)
	}
	if i > 0 {
		ver := strings.TrimLeft(body[i:], "<>=")
		if ver == "" {
			return fmt.Errorf("invalid relation %q: operator without a version", v)
		}
		if strings.ContainsAny(ver, "<>=") {
			return fmt.Errorf("invalid relation %q: more than one operator", v)
		}
		if op := body[i : len(body)-len(ver)]; op != "=" && op != "<" && op != ">" && op != "<=" && op != ">=" {
			return fmt.Errorf("invalid relation %q: unknown operator %q", v, op)
		}
	}
	return nil
}

// checkHex accepts "SKIP" or a hex digest of the algorithm's length. Upper
// case is accepted: makepkg compares digests case-insensitively, and real
// AUR files use it.
func checkHex(algo string, n int) func(string) error {
	return func(v string) error {
		if v == "SKIP" {
			return nil
		}
		if len(v) != n || !isHex(v) {
			return fmt.Errorf("invalid %s checksum %q: want SKIP or %d hex digits", algo, v, n)
		}
		return nil
	}
}

// checkCksum accepts "SKIP" or a CRC-32/CKSUM value, which cksum(1) prints
// as a decimal number.
func checkCksum(v string) error {
	if v == "SKIP" {
		return nil
	}
	if !allDigits(v) {
		return fmt.Errorf("invalid cksum %q: want SKIP or a decimal CRC-32", v)
	}
	if _, err := strconv.ParseUint(v, 10, 32); err != nil {
		return fmt.Errorf("invalid cksum %q: larger than a 32-bit CRC", v)
	}
	return nil
}

// checkPGPKey accepts an OpenPGP v4 fingerprint (40 hex digits) or a legacy
// 16-digit key ID, optionally split by spaces as SRCINFO(5) allows.
func checkPGPKey(v string) error {
	h := strings.ReplaceAll(v, " ", "")
	if (len(h) != 40 && len(h) != 16) || !isHex(h) {
		return fmt.Errorf("invalid validpgpkeys %q: want a 40-digit hex OpenPGP fingerprint", v)
	}
	return nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
