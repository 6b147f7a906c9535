package lang

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "default"},
		{Name: "description"},
	},
}

func (l *loader) varNames() []string {
	names := make([]string, 0, len(l.p.Variables))
	for n := range l.p.Variables {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// constEval evaluates an expression that may call functions but not refer
// to variables: defaults and var files, which are the inputs of var.
func (l *loader) constEval(expr hcl.Expression, what string) (cty.Value, bool) {
	if vars := expr.Variables(); len(vars) > 0 {
		l.errorf(vars[0].SourceRange(), "Variables not allowed",
			"%s is an input of the Portfile, so it cannot refer to variables; write a literal value.", what)
		return cty.NilVal, false
	}
	return l.evalBounded(expr)
}

// variables declares the variable blocks and resolves their values, in
// increasing precedence: default, PORTMAKE_VAR_<name>, var files in order,
// --var. It then builds the evaluation context for the rest of the file.
func (l *loader) variables(blocks []*hcl.Block) {
	l.failedVars = map[string]bool{}
	funcs := functions(l.p.Dir, l.opts.Env, l.in, &l.budget)
	l.ctx = &hcl.EvalContext{Functions: funcs}
	for _, b := range blocks {
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			l.errorf(b.LabelRanges[0], "Invalid variable name",
				"%q is not a valid variable name: use letters, digits, '_' and '-', starting with a letter, so that var.%s can refer to it.", name, name)
			continue
		}
		if first, dup := l.p.Variables[name]; dup {
			l.errorf(b.LabelRanges[0], "Duplicate variable", "The variable %q is already declared at %s.", name, rangeText(first.Range))
			continue
		}
		v := &Variable{Name: name, Range: b.DefRange}
		content, diags := b.Body.Content(variableSchema)
		l.diags = append(l.diags, diags...)
		if a := content.Attributes["description"]; a != nil {
			v.Description, _ = l.str(a)
		}
		if a := content.Attributes["default"]; a != nil {
			val, ok := l.constEval(a.Expr, "A variable default")
			switch {
			case !ok:
				l.failedVars[name] = true
			case !val.IsNull():
				v.Default, v.Value, v.Source = val, val, "default"
			}
		}
		l.p.Variables[name] = v
	}

	if l.opts.Env != nil {
		for _, name := range l.varNames() {
			if s := l.opts.Env(EnvPrefix + name); s != "" {
				v := l.p.Variables[name]
				v.Value, v.Source = cty.StringVal(s), "env"
			}
		}
	}
	for _, path := range l.opts.VarFiles {
		l.varFile(path)
	}
	cli := make([]string, 0, len(l.opts.Vars))
	for n := range l.opts.Vars {
		cli = append(cli, n)
	}
	sort.Strings(cli)
	for _, name := range cli {
		v := l.p.Variables[name]
		if v == nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("--var sets %q, but the Portfile declares no such variable. Declared variables: %s.", name, suggestList(l.varNames())),
			})
			continue
		}
		v.Value, v.Source = cty.StringVal(l.opts.Vars[name]), "--var"
	}

	vals := map[string]cty.Value{}
	for _, name := range l.varNames() {
		v := l.p.Variables[name]
		if v.Value == cty.NilVal && l.failedVars[name] {
			v.Value = cty.DynamicVal
		}
		if v.Value == cty.NilVal {
			l.failedVars[name] = true
			l.errorf(v.Range, "No value for required variable",
				"The variable %q has no default, so it must be set with --var %s=VALUE, in a --var-file, or with the environment variable %s%s.", name, name, EnvPrefix, name)
			v.Value = cty.DynamicVal
		}
		// The context keeps the marks of env() and file() values, so
		// that what is computed from them stays out of diagnostics; the
		// Variable holds plain values and says where they came from.
		vals[name] = v.Value
		v.Value, _ = v.Value.UnmarkDeep()
		if v.Default != cty.NilVal {
			v.Default, _ = v.Default.UnmarkDeep()
		}
		v.Secret = secretOf(vals[name])
	}
	l.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vals)},
		Functions: funcs,
	}
}

// varFile applies one --var-file: HCL attributes naming declared variables.
func (l *loader) varFile(path string) {
	src, err := readConfig(path)
	if err != nil {
		detail := fmt.Sprintf("portmake could not read the variable file %s: %v.", path, errors.Unwrap(err))
		if errors.Is(err, fs.ErrNotExist) {
			detail = fmt.Sprintf("The variable file %s given with --var-file does not exist.", path)
		}
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read variable file", Detail: detail})
		return
	}
	if diags := checkSource(src, path, "variable file"); diags.HasErrors() {
		l.p.Files[path] = &hcl.File{Bytes: src}
		l.diags = append(l.diags, diags...)
		return
	}
	file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	l.diags = append(l.diags, diags...)
	if file == nil || diags.HasErrors() {
		return
	}
	l.p.Files[path] = file
	attrs, diags := file.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return attrs[names[i]].Range.Start.Byte < attrs[names[j]].Range.Start.Byte })
	for _, name := range names {
		a := attrs[name]
		v := l.p.Variables[name]
		if v == nil {
			l.errorf(a.NameRange, "Value for undeclared variable",
				"The variable file sets %q, but the Portfile declares no such variable. Declared variables: %s.", name, suggestList(l.varNames()))
			continue
		}
		val, ok := l.constEval(a.Expr, "A variable file value")
		if !ok {
			l.failedVars[name] = true
			continue
		}
		v.Value, v.Source = val, "var-file "+path
	}
}
