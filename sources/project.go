package sources

import (
	"strings"
	"unicode/utf8"
)

// ProjectPath returns the GitLab project path of a pkgbase in Arch's
// packaging namespace. GitLab refuses some characters in paths and reserves
// some names, so devtools maps names with these rules, applied in order
// (gitlab_project_name_to_path in devtools' src/lib/api/gitlab.sh):
//
//  1. a '+' between an alphanumeric run and a letter run becomes '-'
//     (sed 's/([a-zA-Z0-9]+)\+([a-zA-Z]+)/\1-\2/g': the letter run after a
//     replaced '+' is consumed, so in "a+b+c" only the first '+' counts);
//  2. every other '+' becomes "plus";
//  3. a character outside [A-Za-z0-9_.-] becomes '-';
//  4. a run of two or more '_' and '-' becomes one '-' (a single '_'
//     stays, as in "libnetfilter_queue");
//  5. the whole name "tree" becomes "unix-tree".
//
// So "libsigc++" lives at libsigcplusplus, "dvd+rw-tools" at dvd-rw-tools.
// It is written out by hand rather than with four regexps because the
// planner calls it for every official pkgbase; a differential fuzz test
// holds it to the regexp form.
func ProjectPath(pkgbase string) string {
	// Rules 1-3 map each input character to output text independently once
	// rule 1 has decided which '+' are joins, so one pass does them.
	var b strings.Builder
	b.Grow(len(pkgbase) + 8)
	consumed := 0 // input before this index belongs to an earlier rule-1 match
	for i := 0; i < len(pkgbase); {
		c := pkgbase[i]
		switch {
		case c == '+':
			if i > consumed && isAlnumByte(pkgbase[i-1]) && i+1 < len(pkgbase) && isLetterByte(pkgbase[i+1]) {
				b.WriteByte('-')
				j := i + 1
				for j < len(pkgbase) && isLetterByte(pkgbase[j]) {
					j++
				}
				consumed = j
			} else {
				b.WriteString("plus")
			}
			i++
		case isAlnumByte(c) || c == '_' || c == '.' || c == '-':
			b.WriteByte(c)
			i++
		default:
			// One replacement per character, not per byte, as sed does in a
			// UTF-8 locale. An invalid byte decodes as width 1.
			_, w := utf8.DecodeRuneInString(pkgbase[i:])
			b.WriteByte('-')
			i += w
		}
	}
	s := collapseRuns(b.String())
	if s == "tree" { // rule 5 is anchored: "tree-sitter" keeps its name
		return "unix-tree"
	}
	return s
}

// collapseRuns applies rule 4: runs of two or more '_'/'-' become '-'.
func collapseRuns(s string) string {
	if !strings.Contains(s, "--") && !strings.Contains(s, "__") && !strings.Contains(s, "_-") && !strings.Contains(s, "-_") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] == '_' || s[i] == '-' {
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '-') {
				j++
			}
			if j-i >= 2 {
				b.WriteByte('-')
			} else {
				b.WriteByte(s[i])
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func isLetterByte(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnumByte(c byte) bool  { return isLetterByte(c) || (c >= '0' && c <= '9') }

var tagReplacer = strings.NewReplacer(":", "-", "~", ".")

// VersionTag returns the git tag of a version in a packaging repository
// (alpm-state-repo(7), "version normalization"): git refuses ':' and '~' in
// ref names, so ':' becomes '-' and '~' becomes '.'. "1:2.0-1" is tagged
// "1-2.0-1".
func VersionTag(version string) string { return tagReplacer.Replace(version) }
