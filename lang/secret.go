package lang

// Values read from the environment or from files stay out of diagnostics.
//
// env() and file() are how a Portfile reads what is not committed with it,
// tokens and host-specific paths among them, and diagnostics end up in CI
// logs. So both functions return values marked with where they came from
// (cty marks, which every operator and function carries over to what is
// computed from them), eval records the range of every expression whose
// value carries such a mark, and each detail sentence that would quote a
// value quotes "the value of env("NAME")" instead. HCL's own renderer
// already skips marked values in its "with var.x as ..." lines, and the
// function wrapper (bounded) replaces a function's error about a marked
// argument, since cty's messages may quote arguments.
//
// Variables set with PORTMAKE_VAR_<name>, --var and var files are shown:
// they are the Portfile's declared inputs, and an error about one is
// useless without its value. A secret belongs in env() or file().

import (
	"sort"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// external is the mark of a value read by env() or file().
type external struct {
	fn, arg string
}

func (e external) String() string { return e.fn + "(" + strconv.Quote(e.arg) + ")" }

// secretOf names where a marked value came from, as `env("NAME")`, or
// returns "" for a value without such a mark.
func secretOf(v cty.Value) string {
	_, marks := v.UnmarkDeep()
	return describeMarks(marks)
}

func describeMarks(marks cty.ValueMarks) string {
	var names []string
	for m := range marks {
		if e, ok := m.(external); ok {
			names = append(names, e.String())
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return names[0]
}

// show quotes s, the value of the expression at rng, for a detail
// sentence, unless it came from env() or file().
func (l *loader) show(rng hcl.Range, s string) string {
	if src := l.secrets[rng]; src != "" {
		return hidden(src)
	}
	return strconv.Quote(s)
}

// showVal is show for any value.
func (l *loader) showVal(rng hcl.Range, v cty.Value) string {
	if src := l.secrets[rng]; src != "" {
		return hidden(src)
	}
	return ctyString(v)
}

// hidden stands in a detail sentence for a value read by src.
func hidden(src string) string { return "<the value of " + src + ", not shown>" }

// unmark strips the marks from v, the value of the expression at rng, and
// remembers that rng holds a secret when one of them says so.
func (l *loader) unmark(rng hcl.Range, v cty.Value) cty.Value {
	plain, marks := v.UnmarkDeep()
	if src := describeMarks(marks); src != "" {
		if l.secrets == nil {
			l.secrets = map[hcl.Range]string{}
		}
		l.secrets[rng] = src
	}
	return plain
}
