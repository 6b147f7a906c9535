package lang

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"
)

// Blacklist is the merged blacklist: the entries of the blacklist file, in
// file order, then the patterns attribute.
type Blacklist struct {
	File    Location // zero when there is no file
	Entries []Entry
	Range   hcl.Range
}

// Entry is one blacklist glob. Its Range points into the blacklist file or
// into the Portfile, wherever it was written, so that "blocked by" reports
// can show the line that blocked a package.
type Entry struct {
	Pattern string
	Reason  string // text after '#' on the line; empty for patterns
	Range   hcl.Range
}

// Match returns the first entry whose glob matches name (a pkgname or a
// pkgbase). Globs are shell globs as fnmatch reads them: '*', '?' and
// brackets, where "[!...]" negates like "[^...]".
func (b *Blacklist) Match(name string) (Entry, bool) {
	for _, e := range b.Entries {
		if ok, _ := path.Match(goGlob(e.Pattern), name); ok {
			return e, true
		}
	}
	return Entry{}, false
}

// goGlob turns the shell negation "[!" into path.Match's "[^". The old
// blacklist was read by Python's fnmatch, so existing files use "[!".
func goGlob(p string) string {
	if !strings.Contains(p, "[!") {
		return p
	}
	return strings.ReplaceAll(p, "[!", "[^")
}

// checkGlob says what is wrong with a blacklist glob, or returns "". A glob
// may hold package-name characters and the glob syntax, nothing else: a
// space or a slash can never match a package name and is a typo.
func checkGlob(p string) string {
	if p == "" {
		return "The pattern is empty."
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("@._+-*?[]!^\\", c) >= 0:
		default:
			return fmt.Sprintf("The pattern %q contains %q, which can never occur in a package name; a pattern holds package-name characters (letters, digits, @._+-) and the glob characters * ? [ ].", p, c)
		}
	}
	if _, err := path.Match(goGlob(p), ""); err != nil {
		return fmt.Sprintf("The pattern %q is not a valid glob: %v (check that every '[' has a matching ']').", p, err)
	}
	return ""
}

// ParseBlacklist reads a blacklist file: one glob per line, blank lines and
// lines starting with '#' ignored, and text after a '#' on a pattern line
// kept as the entry's reason. filename names the file in the ranges.
// Every bad line is a diagnostic; the good ones are still returned.
func ParseBlacklist(src []byte, filename string) ([]Entry, hcl.Diagnostics) {
	var entries []Entry
	var diags hcl.Diagnostics
	start := 0
	for lineNo := 1; start < len(src); lineNo++ {
		line := src[start:]
		next := len(src)
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
			next = start + i + 1
		}
		lineStart := start
		start = next
		text := string(bytes.TrimSuffix(line, []byte("\r")))
		pattern, reason, _ := strings.Cut(text, "#")
		trimmed := strings.TrimLeftFunc(pattern, unicode.IsSpace)
		lead := len(pattern) - len(trimmed)
		pattern = strings.TrimRightFunc(trimmed, unicode.IsSpace)
		if pattern == "" {
			continue
		}
		// Columns count bytes, not characters: patterns are ASCII when
		// valid, and an invalid one is reported either way.
		rng := hcl.Range{
			Filename: filename,
			Start:    hcl.Pos{Line: lineNo, Column: lead + 1, Byte: lineStart + lead},
			End:      hcl.Pos{Line: lineNo, Column: lead + 1 + len(pattern), Byte: lineStart + lead + len(pattern)},
		}
		if fields := strings.Fields(pattern); len(fields) > 1 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "More than one pattern on a line",
				Detail:   fmt.Sprintf("A blacklist line holds one glob, optionally followed by '# reason'; this line holds %d words. Put each pattern on its own line, or start the reason with '#'.", len(fields)),
				Subject:  &rng,
			})
			continue
		}
		if msg := checkGlob(pattern); msg != "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid blacklist pattern",
				Detail:   msg,
				Subject:  &rng,
			})
			continue
		}
		entries = append(entries, Entry{Pattern: pattern, Reason: strings.TrimSpace(reason), Range: rng})
	}
	return entries, diags
}
