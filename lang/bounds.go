package lang

// Bounds on hostile Portfiles.
//
// A Portfile is code that portmake evaluates, and the Portfile of a port is
// edited by whoever can get a change merged. Whatever it holds, loading it
// must end quickly, in bounded memory, with diagnostics. Three limits see to
// that, each reported at the position that crossed it:
//
//   - Size. A Portfile or var file holds at most MaxSourceSize bytes. The
//     parser keeps about a hundred bytes per token, so the size bounds the
//     parse.
//   - Nesting. HCL's parser and evaluator recurse once per level of brackets,
//     templates, template directives and operators; 100,000 levels overflow
//     the Go stack, which kills the process without a word. checkNesting
//     scans the tokens before the parser sees them and refuses text nested
//     deeper than MaxNesting. Operators count as levels too: `!!!x` recurses
//     in the parser and `1+1+1` builds a left-deep tree that the evaluator
//     walks recursively.
//   - Evaluation cost. A 1 KB nested `for` expression can ask for 10^12
//     elements. Every value an evaluation builds is charged to a budget of
//     the load (MaxEvalCost): the collection of each `for` expression each
//     time it is iterated, each interpolated template part, and each function
//     result. A single value may cost at most MaxValueCost, and functions
//     whose result can be much larger than their arguments (replace, join,
//     indent, format, split, regexall, jsondecode) are checked before they
//     run. Cost is bytes of strings plus elementCost per element, so both
//     wide strings and long lists are bounded. The first value over a limit
//     is reported and later evaluations stop early.

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

const (
	// MaxSourceSize bounds the Portfile and each var file. The largest
	// real Portfiles (a few thousand AUR names) are a few tens of KiB.
	MaxSourceSize = 1 << 20
	// MaxNesting bounds how deeply brackets, templates, directives and
	// operators nest in one expression. Real Portfiles stay under 10.
	MaxNesting = 128
	// MaxValueCost bounds a single value: a function's arguments or
	// result, an attribute's value. See the package essay for the unit.
	MaxValueCost = 4 << 20
	// MaxEvalCost bounds everything one load evaluates.
	MaxEvalCost = 32 << 20

	// elementCost is what one element of a list, set, map or object costs,
	// on top of its content: about what cty keeps per element.
	elementCost = 64
)

// opTokens are the tokens that add a level of recursion to the parse or to
// the evaluation of the expression they are part of.
var opTokens = map[hclsyntax.TokenType]bool{
	hclsyntax.TokenBang: true, hclsyntax.TokenMinus: true, hclsyntax.TokenPlus: true,
	hclsyntax.TokenStar: true, hclsyntax.TokenSlash: true, hclsyntax.TokenPercent: true,
	hclsyntax.TokenEqualOp: true, hclsyntax.TokenNotEqual: true,
	hclsyntax.TokenLessThan: true, hclsyntax.TokenLessThanEq: true,
	hclsyntax.TokenGreaterThan: true, hclsyntax.TokenGreaterThanEq: true,
	hclsyntax.TokenAnd: true, hclsyntax.TokenOr: true, hclsyntax.TokenQuestion: true,
	hclsyntax.TokenDot: true,
}

// checkSource refuses source text that is too large or nests too deeply to
// be parsed safely. what names the file's role in the detail ("Portfile",
// "variable file").
func checkSource(src []byte, filename, what string) hcl.Diagnostics {
	if len(src) > MaxSourceSize {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "File too large",
			Detail: fmt.Sprintf("The %s %s is %d bytes; portmake reads at most %d (%s). A Portfile this large is almost certainly not one; move long lists into a file read with file() or split the port.",
				what, filename, len(src), MaxSourceSize, sizeText(MaxSourceSize)),
			Subject: &hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
		}}
	}
	return checkNesting(src, filename)
}

// directiveEnd marks the level of an open template directive; no token has
// this type, so only %{ endif } and %{ endfor } close it.
const directiveEnd hclsyntax.TokenType = -1

// level is one open bracket, template or directive while scanning tokens.
type level struct {
	closer hclsyntax.TokenType // the token that closes it, or directiveEnd
	ops    int                 // operators since the last separator
	lines  bool                // newlines separate items here (bodies, objects)
}

// checkNesting scans the tokens of src and reports the first place where
// brackets, templates, template directives and operators nest deeper than
// MaxNesting. It only counts: syntax errors are the parser's to report.
func checkNesting(src []byte, filename string) hcl.Diagnostics {
	toks, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	stack := []level{{lines: true}}
	depth := 0 // sum over open levels of 1 + ops, the top-level body not counted
	closers := map[hclsyntax.TokenType]hclsyntax.TokenType{
		hclsyntax.TokenOBrace: hclsyntax.TokenCBrace, hclsyntax.TokenOBrack: hclsyntax.TokenCBrack,
		hclsyntax.TokenOParen: hclsyntax.TokenCParen, hclsyntax.TokenOQuote: hclsyntax.TokenCQuote,
		hclsyntax.TokenOHeredoc: hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateInterp: hclsyntax.TokenTemplateSeqEnd,
	}
	pop := func() {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		depth -= 1 + top.ops
	}
	push := func(l level) {
		stack = append(stack, l)
		depth++
	}
	for i, t := range toks {
		top := &stack[len(stack)-1]
		switch {
		case t.Type == hclsyntax.TokenTemplateControl:
			// A directive (%{ if }, %{ for }) nests what follows it up to
			// its %{ endif } or %{ endfor }, beyond its own closing brace.
			// (The lexer keeps a strip marker in this token: "%{~".)
			kw := ""
			if i+1 < len(toks) && toks[i+1].Type == hclsyntax.TokenIdent {
				kw = string(toks[i+1].Bytes)
			}
			if (kw == "endif" || kw == "endfor") && len(stack) > 1 && top.closer == directiveEnd {
				pop()
			}
			if kw == "if" || kw == "for" {
				push(level{closer: directiveEnd})
			}
			push(level{closer: hclsyntax.TokenTemplateSeqEnd})
		case closers[t.Type] != 0:
			push(level{closer: closers[t.Type], lines: t.Type == hclsyntax.TokenOBrace})
		case len(stack) > 1 && t.Type == top.closer:
			pop()
			continue
		case opTokens[t.Type]:
			top.ops++
			depth++
		case t.Type == hclsyntax.TokenComma, t.Type == hclsyntax.TokenNewline && top.lines:
			depth -= top.ops
			top.ops = 0
		}
		if depth > MaxNesting {
			r := t.Range
			return hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Expression nested too deeply",
				Detail: fmt.Sprintf("Here the text is nested more than %d levels deep (brackets, braces, quotes, template interpolations and directives, and operators each count as a level). portmake refuses deeper nesting so that a hostile Portfile cannot exhaust the stack; a real Portfile needs fewer than 10 levels, so simplify this expression.",
					MaxNesting),
				Subject: &r,
			}}
		}
	}
	return nil
}

// budget is the evaluation allowance of one load.
type budget struct {
	spent    int64
	exceeded bool // reported once; later evaluations stop early
}

// tooBig is the diagnostic for a value over a limit.
func (b *budget) tooBig(rng hcl.Range, what string, cost int64, limit int64) *hcl.Diagnostic {
	b.exceeded = true
	r := rng
	detail := fmt.Sprintf("Evaluating %s would build about %s of values, more than the %s portmake allows for one value. A Portfile needs far less; a nested for expression or a function applied to a large input usually causes this. Simplify the expression.",
		what, sizeText(cost), sizeText(limit))
	if limit == MaxEvalCost {
		detail = fmt.Sprintf("Evaluating %s brings the values built while loading this Portfile to more than %s. A Portfile needs far less; nested for expressions over large collections usually cause this. Simplify the expression.",
			what, sizeText(limit))
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value too large", Detail: detail, Subject: &r}
}

// charge adds the cost of v to the budget and reports a value or a total
// over its limit.
func (b *budget) charge(v cty.Value, rng hcl.Range, what string) *hcl.Diagnostic {
	c, ok := valueCost(v, MaxValueCost)
	if !ok {
		return b.tooBig(rng, what, c, MaxValueCost)
	}
	b.spent += c + elementCost // each evaluation costs some work, whatever it builds
	if b.spent > MaxEvalCost {
		return b.tooBig(rng, what, b.spent, MaxEvalCost)
	}
	return nil
}

// valueCost is the cost of v (see the package essay), computed until it
// passes limit; ok is false then. Numbers cost the digits they would print
// as, since templates and tostring print them.
func valueCost(v cty.Value, limit int64) (cost int64, ok bool) {
	var walk func(v cty.Value) bool
	walk = func(v cty.Value) bool {
		v, _ = v.Unmark()
		if !v.IsKnown() || v.IsNull() {
			return true
		}
		ty := v.Type()
		switch {
		case ty == cty.String:
			cost += int64(len(v.AsString()))
		case ty == cty.Number:
			cost += numberDigits(v.AsBigFloat())
		case ty == cty.Bool:
			cost++
		case ty.IsListType(), ty.IsSetType(), ty.IsMapType(), ty.IsTupleType(), ty.IsObjectType():
			for it := v.ElementIterator(); it.Next(); {
				k, e := it.Element()
				cost += elementCost
				if ty.IsMapType() {
					k, _ = k.Unmark()
					cost += int64(len(k.AsString()))
				}
				if cost > limit || !walk(e) {
					return false
				}
			}
		default:
			cost++
		}
		return cost <= limit
	}
	ok = walk(v)
	return cost, ok
}

// numberDigits estimates how many characters f prints as in full: its
// binary exponent and mantissa bits, times log10(2).
func numberDigits(f *big.Float) int64 {
	if f.IsInf() {
		return 4
	}
	exp := int64(f.MantExp(nil))
	if exp < 0 {
		exp = -exp
	}
	return (exp+int64(f.Prec()))*30103/100000 + 2
}

// sizeText renders a cost for a diagnostic.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n*10>>20)/10, 'f', -1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// guard wraps an expression inside a for expression or a template so that
// what it evaluates to is charged to the budget. It embeds the expression,
// which keeps the hclsyntax.Expression interface satisfied and forwards
// Range, Variables and walking; only Value is intercepted.
type guard struct {
	hclsyntax.Expression
	b    *budget
	what string
}

func (g *guard) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if g.b.exceeded {
		return cty.DynamicVal, nil
	}
	v, diags := g.Expression.Value(ctx)
	if diags.HasErrors() {
		return v, diags
	}
	if d := g.b.charge(v, g.Range(), g.what); d != nil {
		return cty.DynamicVal, append(diags, d)
	}
	return v, diags
}

// arm puts guards on every for expression's collection and every
// interpolated template part inside expr, for one evaluation; disarm
// restores the tree, so that static analyses (Variables, type assertions in
// the decoder) see the expressions the parser made.
func (b *budget) arm(expr hcl.Expression) (disarm func()) {
	node, ok := expr.(hclsyntax.Node)
	if !ok {
		return func() {}
	}
	// Collect first, wrap after: wrapping while walking would hide the
	// wrapped node itself from the walk.
	var fors []*hclsyntax.ForExpr
	var templates []*hclsyntax.TemplateExpr
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		switch n := n.(type) {
		case *hclsyntax.ForExpr:
			fors = append(fors, n)
		case *hclsyntax.TemplateExpr:
			templates = append(templates, n)
		}
		return nil
	})
	var undo []func()
	for _, f := range fors {
		orig := f.CollExpr
		f.CollExpr = &guard{Expression: orig, b: b, what: "the collection of this for expression"}
		undo = append(undo, func() { f.CollExpr = orig })
	}
	for _, t := range templates {
		orig := t.Parts
		parts := make([]hclsyntax.Expression, len(orig))
		for i, p := range orig {
			parts[i] = p
			if _, lit := p.(*hclsyntax.LiteralValueExpr); !lit {
				parts[i] = &guard{Expression: p, b: b, what: "this template interpolation"}
			}
		}
		t.Parts = parts
		undo = append(undo, func() { t.Parts = orig })
	}
	return func() {
		for _, u := range undo {
			u()
		}
	}
}

// bounded wraps every function so that its arguments and result are
// checked against MaxValueCost, its result charged to the budget, and the
// functions whose result can outgrow their arguments checked before they
// run. An error about an argument that came from env() or file() is
// replaced by one that does not show the value.
func bounded(name string, f function.Function, b *budget) function.Function {
	params := f.Params()
	spec := &function.Spec{
		Description: f.Description(),
		Params:      make([]function.Parameter, len(params)),
		Type:        f.ReturnTypeForValues,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			secret := ""
			var total int64
			for _, a := range args {
				if s := secretOf(a); s != "" && secret == "" {
					secret = s
				}
				c, ok := valueCost(a, MaxValueCost-total)
				total += c
				if !ok {
					return cty.NilVal, fmt.Errorf("its arguments are larger than the %s portmake allows for one value", sizeText(MaxValueCost))
				}
			}
			plain := make([]cty.Value, len(args))
			for i, a := range args {
				plain[i], _ = a.UnmarkDeep()
			}
			if err := precheck(name, plain); err != nil {
				return cty.NilVal, err
			}
			v, err := f.Call(args)
			if err != nil {
				if secret != "" {
					return cty.NilVal, fmt.Errorf("it failed on a value read by %s, which is not shown", secret)
				}
				return cty.NilVal, err
			}
			c, ok := valueCost(v, MaxValueCost)
			if !ok {
				b.exceeded = true
				return cty.NilVal, fmt.Errorf("its result is larger than the %s portmake allows for one value", sizeText(MaxValueCost))
			}
			b.spent += c
			if b.spent > MaxEvalCost {
				b.exceeded = true
				return cty.NilVal, fmt.Errorf("it brings the values built while loading this Portfile to more than %s", sizeText(MaxEvalCost))
			}
			return v, nil
		},
	}
	for i, p := range params {
		p.AllowMarked = true // marks are handled by f.Call; see secretOf
		spec.Params[i] = p
	}
	if vp := f.VarParam(); vp != nil {
		p := *vp
		p.AllowMarked = true
		spec.VarParam = &p
	}
	return function.New(spec)
}

// formatNumberRE finds the width and precision numbers of format verbs.
var formatNumberRE = regexp.MustCompile(`%[-+# 0]*(\[\d+\])?(\d*)(?:\.(\d*))?`)

// precheck refuses, before they run, calls of the functions whose result
// can be much larger than their arguments; the others' results are bounded
// by their arguments' cost, which the caller checks.
func precheck(name string, args []cty.Value) error {
	est, err := growth(name, args)
	if err == nil && est > MaxValueCost {
		err = fmt.Errorf("its result would be about %s, more than the %s portmake allows for one value", sizeText(est), sizeText(MaxValueCost))
	}
	return err
}

// growth estimates the result size of a call of the functions whose result
// can outgrow their arguments, and 0 for the others.
func growth(name string, args []cty.Value) (int64, error) {
	str := func(i int) string {
		if i >= len(args) || !args[i].IsKnown() || args[i].IsNull() || args[i].Type() != cty.String {
			return ""
		}
		return args[i].AsString()
	}
	switch name {
	case "replace":
		s, old, repl := str(0), str(1), str(2)
		n := int64(strings.Count(s, old))
		return int64(len(s)) + n*int64(len(repl)), nil
	case "regex_replace":
		// Each match (at most one per position) is replaced by the
		// template, whose $ references can each expand to the whole input.
		s, repl := int64(len(str(0))), str(2)
		per := int64(len(repl)) + int64(strings.Count(repl, "$"))*s
		return s + (s+1)*per, nil
	case "indent":
		if len(args) < 2 || !args[0].IsKnown() || args[0].Type() != cty.Number {
			return 0, nil
		}
		n, _ := args[0].AsBigFloat().Int64()
		s := str(1)
		return int64(len(s)) + max(n, 0)*int64(strings.Count(s, "\n")+1), nil
	case "join":
		sep := int64(len(str(0)))
		var n int64
		for _, a := range args[1:] {
			if a.IsKnown() && !a.IsNull() && a.CanIterateElements() {
				n += int64(a.LengthInt())
			}
		}
		return n * sep, nil
	case "format", "formatlist":
		widest := int64(0)
		for _, m := range formatNumberRE.FindAllStringSubmatch(str(0), -1) {
			for _, d := range m[2:] {
				if w, err := strconv.ParseInt(d, 10, 64); err == nil && w > widest {
					widest = w
				} else if err != nil && d != "" {
					return 0, fmt.Errorf("its format has the width or precision %s, which is far too large", d)
				}
			}
		}
		items := int64(1)
		if name == "formatlist" {
			for _, a := range args[1:] {
				if a.IsKnown() && !a.IsNull() && a.CanIterateElements() {
					items = max(items, int64(a.LengthInt()))
				}
			}
		}
		verbs := int64(strings.Count(str(0), "%"))
		return items * verbs * widest, nil
	case "split":
		sep, s := str(0), str(1)
		n := int64(strings.Count(s, sep)) + 1
		if sep == "" {
			n = int64(utf8.RuneCountInString(s))
		}
		return n * elementCost, nil
	case "regexall":
		re, err := regexp.Compile(str(0))
		if err != nil {
			return 0, nil // the function reports the bad pattern
		}
		limit := MaxValueCost/elementCost + 1
		n := len(re.FindAllStringIndex(str(1), limit))
		return int64(n) * elementCost * int64(1+re.NumSubexp()), nil
	case "jsondecode":
		if d := jsonDepth(str(0)); d > MaxNesting {
			return 0, fmt.Errorf("the JSON nests %d levels deep; portmake decodes at most %d", d, MaxNesting)
		}
	}
	return 0, nil
}

// jsonDepth is how deeply JSON text nests arrays and objects, ignoring
// brackets inside strings. cty decodes JSON recursively.
func jsonDepth(s string) int {
	depth, deepest, inStr := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}
