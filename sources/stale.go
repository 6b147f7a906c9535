package sources

// Is a local .SRCINFO stale?
//
// A .SRCINFO that disagrees with its PKGBUILD makes the plan build the
// wrong version, so it is worth a warning. Comparing modification times
// cannot tell: git checks files out in name order, so on every fresh clone
// .SRCINFO is a few microseconds older than PKGBUILD, and the warning fired
// for every local package of a port that had just been cloned. The only
// exact answer is makepkg --printsrcinfo, which evaluates the PKGBUILD and
// so belongs in the sandbox, at the cost of a process per package on every
// plan.
//
// So the check compares content, without evaluating anything: the
// PKGBUILD's top-level assignments of pkgbase, pkgname, pkgver, pkgrel and
// epoch are read as text, and those whose value is a literal (no
// expansion, no command substitution) are compared with what .SRCINFO
// says. That catches what goes stale in practice (a pkgrel bumped, a
// pkgver updated, a split package added, without regenerating .SRCINFO),
// and never warns about a PKGBUILD it cannot read without running it.

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/portmake/portmake/alpm/srcinfo"
)

// srcinfoDrift returns what a PKGBUILD's literal top-level assignments say
// differently from its .SRCINFO, one "key: PKGBUILD says X, .SRCINFO Y"
// per key, or nothing.
func srcinfoDrift(pkgbuild []byte, si *srcinfo.Srcinfo) []string {
	vars := literalAssignments(pkgbuild)
	var names []string
	for _, p := range si.Packages {
		names = append(names, p.Name)
	}
	var out []string
	check := func(key, pkgbuildValue, srcinfoValue string) {
		if pkgbuildValue != srcinfoValue {
			out = append(out, fmt.Sprintf("%s: PKGBUILD says %q, .SRCINFO %q", key, pkgbuildValue, srcinfoValue))
		}
	}
	for _, key := range []string{"pkgbase", "pkgver", "pkgrel", "epoch", "pkgname"} {
		v, ok := vars[key]
		if !ok {
			continue
		}
		switch key {
		case "pkgbase":
			check(key, v[0], si.Base.Name)
		case "pkgver":
			check(key, v[0], si.Base.PkgVer)
		case "pkgrel":
			check(key, v[0], si.Base.PkgRel)
		case "epoch":
			check(key, v[0], si.Base.Epoch)
		case "pkgname":
			if !slices.Equal(v, names) {
				out = append(out, fmt.Sprintf("pkgname: PKGBUILD says %s, .SRCINFO %s", strings.Join(v, " "), strings.Join(names, " ")))
			}
		}
	}
	return out
}

// literalAssignments reads the unindented assignments of pkgbase,
// pkgname, pkgver, pkgrel and epoch whose values are plain words (quoted
// or not), arrays of them for pkgname; the last assignment of a name wins,
// as in bash. A value that bash would expand is left out: only running the
// PKGBUILD could tell it.
func literalAssignments(pkgbuild []byte) map[string][]string {
	out := map[string][]string{}
	// A name also assigned elsewhere (indented, appended to with +=, in a
	// loop or a condition) could hold anything: it is not compared.
	unknown := map[string]bool{}
	for _, m := range otherAssignment.FindAllStringSubmatch(string(pkgbuild), -1) {
		unknown[m[1]+m[2]] = true // one of the two is empty
	}
	sc := bufio.NewScanner(bytes.NewReader(pkgbuild))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		key, val, ok := strings.Cut(line, "=")
		switch key {
		case "pkgbase", "pkgname", "pkgver", "pkgrel", "epoch":
		default:
			continue
		}
		if !ok || unknown[key] {
			continue
		}
		if strings.HasPrefix(val, "(") {
			// An array, possibly over several lines.
			for !strings.Contains(val, ")") && sc.Scan() {
				val += " " + sc.Text()
			}
			body, rest, _ := strings.Cut(val[1:], ")")
			if !isComment(rest) {
				delete(out, key)
				continue
			}
			words, ok := literalWords(body)
			if !ok || len(words) == 0 {
				delete(out, key)
				continue
			}
			out[key] = words
			continue
		}
		words, ok := literalWords(val)
		if !ok || len(words) != 1 {
			delete(out, key) // computed, or not a single word: unknown
			continue
		}
		out[key] = words
	}
	return out
}

// literalWords splits s into shell words when every one is a literal:
// bare, 'single-quoted' or "double-quoted" without expansion; a comment
// ends the list.
func literalWords(s string) ([]string, bool) {
	var words []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" || s[0] == '#' {
			return words, true
		}
		var w string
		switch s[0] {
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return nil, false
			}
			w, s = s[1:1+end], s[2+end:]
			if strings.ContainsAny(w, "$`\\\n") {
				return nil, false // literal to bash, but no version or name holds these
			}
		case '"':
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, false
			}
			w, s = s[1:1+end], s[2+end:]
			if strings.ContainsAny(w, "$`\\") {
				return nil, false
			}
		default:
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			w, s = s[:end], s[end:]
			if strings.ContainsAny(w, "$`\\'\"(){};&|<>*?[]~") {
				return nil, false
			}
		}
		if s != "" && s[0] != ' ' && s[0] != '\t' {
			return nil, false // "a"b and the like: leave it to bash
		}
		words = append(words, w)
	}
}

// otherAssignment finds an assignment of a name literalAssignments reads
// that is not at the start of a line: "  pkgname+=(", "; pkgrel=2",
// "pkgname[1]=".
var otherAssignment = regexp.MustCompile(`(?m)(?:[^A-Za-z0-9_\n]|^)(pkgbase|pkgname|pkgver|pkgrel|epoch)(?:\+=|\[)|[^A-Za-z0-9_\n](pkgbase|pkgname|pkgver|pkgrel|epoch)=`)

func isComment(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || s[0] == '#'
}
