package alpm

// Compare orders two full package versions ([epoch:]pkgver[-pkgrel]) exactly
// as pacman's alpm_pkg_vercmp does, returning -1, 0 or 1.
//
// It accepts every input, including empty strings and versions that are not
// well formed, because real sync databases contain such versions and plans
// must order them the same way pacman would. It does not allocate.
func Compare(a, b string) int {
	if a == b {
		return 0
	}
	e1, v1, r1, hasRel1 := splitEVR(a)
	e2, v2, r2, hasRel2 := splitEVR(b)
	if c := rpmvercmp(e1, e2); c != 0 {
		return c
	}
	if c := rpmvercmp(v1, v2); c != 0 {
		return c
	}
	// A pkgrel only takes part when both sides have one: "1.0" matches any
	// "1.0-x", which is what lets a dependency "foo=1.0" accept "foo 1.0-3".
	if hasRel1 && hasRel2 {
		return rpmvercmp(r1, r2)
	}
	return 0
}

// splitEVR mirrors libalpm's parseEVR: the epoch is a leading run of digits
// ended by ':' (an empty epoch reads as "0"), and the release is whatever
// follows the last '-'.
func splitEVR(s string) (epoch, version, release string, hasRelease bool) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	end := len(s)
	for j := len(s) - 1; j >= i; j-- {
		if s[j] == '-' {
			end = j
			release = s[j+1:]
			hasRelease = true
			break
		}
	}
	if i < len(s) && s[i] == ':' {
		epoch = s[:i]
		if epoch == "" {
			epoch = "0"
		}
		version = s[i+1 : max(end, i+1)]
	} else {
		epoch = "0"
		version = s[:end]
	}
	return epoch, version, release, hasRelease
}

// rpmvercmp is a faithful port of the rpmvercmp in pacman's version.c,
// including its quirks: separator runs of different length decide the
// order, '~' is only a separator, numeric segments beat alpha segments, and
// digit runs compare by length after leading zeros, so they never overflow.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	// one/two are the scan positions, p1/p2 the ends of the previous segment.
	one, two := 0, 0
	p1, p2 := 0, 0
	for one < len(a) && two < len(b) {
		for one < len(a) && !isAlnum(a[one]) {
			one++
		}
		for two < len(b) && !isAlnum(b[two]) {
			two++
		}
		if one >= len(a) || two >= len(b) {
			break
		}
		if one-p1 != two-p2 {
			if one-p1 < two-p2 {
				return -1
			}
			return 1
		}
		p1, p2 = one, two
		isNum := isDigit(a[p1])
		if isNum {
			for p1 < len(a) && isDigit(a[p1]) {
				p1++
			}
			for p2 < len(b) && isDigit(b[p2]) {
				p2++
			}
		} else {
			for p1 < len(a) && isAlpha(a[p1]) {
				p1++
			}
			for p2 < len(b) && isAlpha(b[p2]) {
				p2++
			}
		}
		// Segments of different kinds: numeric is newer than alpha.
		if two == p2 {
			if isNum {
				return 1
			}
			return -1
		}
		s1, s2 := a[one:p1], b[two:p2]
		if isNum {
			for len(s1) > 0 && s1[0] == '0' {
				s1 = s1[1:]
			}
			for len(s2) > 0 && s2[0] == '0' {
				s2 = s2[1:]
			}
			if len(s1) != len(s2) {
				if len(s1) > len(s2) {
					return 1
				}
				return -1
			}
		}
		if s1 != s2 {
			if s1 < s2 {
				return -1
			}
			return 1
		}
		one, two = p1, p2
	}
	if one >= len(a) && two >= len(b) {
		return 0
	}
	// The final showdown: a remaining alpha part never beats an empty string.
	if (one >= len(a) && !isAlpha(b[two])) || (one < len(a) && isAlpha(a[one])) {
		return -1
	}
	return 1
}

// Character classes of the C locale, as libalpm sees them: bytes >= 0x80
// are separators.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// Version is a parsed full package version. Compare works on strings; Version
// exists for callers that need the parts, such as the state repository's
// version tags.
type Version struct {
	Epoch   string // "" when absent
	Pkgver  string
	Pkgrel  string // "" when absent
	HasRel  bool
	Literal string
}

// ParseVersion splits s into its parts the way pacman does. It never fails:
// validity is a separate question, see ValidVersion.
func ParseVersion(s string) Version {
	v := Version{Literal: s}
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	rest := s
	if i < len(s) && s[i] == ':' {
		v.Epoch, rest = s[:i], s[i+1:]
	}
	for j := len(rest) - 1; j >= 0; j-- {
		if rest[j] == '-' {
			v.Pkgver, v.Pkgrel, v.HasRel = rest[:j], rest[j+1:], true
			return v
		}
	}
	v.Pkgver = rest
	return v
}

// String returns the version as it was written.
func (v Version) String() string { return v.Literal }
