package lang

import (
	"bytes"
	"strings"
)

// ConfVar is one top-level shell assignment read from makepkg.conf.
type ConfVar struct {
	Value string
	Line  int // 1-based; 0 when the variable is not assigned
}

// ParseMakepkgVar returns the value makepkg would see for a simple
// top-level assignment NAME=value in a makepkg.conf: the last one wins, as
// in bash. It understands the forms makepkg.conf files use (bare, single-
// and double-quoted values, an "export " prefix, trailing comments); it is
// not a shell, so an assignment computed by a command substitution or
// inside a conditional is not seen.
func ParseMakepkgVar(src []byte, name string) ConfVar {
	var out ConfVar
	lineNo := 0
	for len(src) > 0 {
		lineNo++
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		s := strings.TrimSpace(string(line))
		s = strings.TrimPrefix(s, "export ")
		s = strings.TrimLeft(s, " \t")
		rest, ok := strings.CutPrefix(s, name+"=")
		if !ok {
			continue
		}
		if v, ok := shellWord(rest); ok {
			out = ConfVar{Value: v, Line: lineNo}
		}
	}
	return out
}

// shellWord reads one shell word made of bare, '...' and "..." parts, up to
// unquoted whitespace, ';' or '#'. It reports false for what it cannot
// evaluate statically ($, backquotes, arrays, unterminated quotes).
func shellWord(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', ';', '#':
			return b.String(), true
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", false
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				switch s[j] {
				case '$', '`':
					return "", false
				case '\\':
					// Inside double quotes a backslash escapes only these.
					if j+1 < len(s) && strings.IndexByte("$`\"\\", s[j+1]) >= 0 {
						j++
					}
					b.WriteByte(s[j])
					continue
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return "", false
			}
			i = j
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '$', '`', '(', ')':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}
