package lang

import (
	"bytes"
	"fmt"
	"math/big"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/portmake/portmake/alpm"
)

// eval evaluates expr in the Portfile's context. References to undeclared
// variables are reported here, with the declared names, rather than as
// HCL's generic "Unsupported attribute".
func (l *loader) eval(expr hcl.Expression) (cty.Value, bool) {
	ok := true
	for _, t := range expr.Variables() {
		if t.RootName() != "var" || len(t) < 2 {
			continue
		}
		a, isAttr := t[1].(hcl.TraverseAttr)
		if !isAttr {
			continue
		}
		if l.failedVars[a.Name] {
			// Already reported at the variable; a second error here would
			// only repeat it.
			ok = false
			continue
		}
		if _, declared := l.p.Variables[a.Name]; !declared {
			l.errorf(t.SourceRange(), "Reference to undeclared variable",
				"There is no variable named %q. Declare it with a variable %q { default = ... } block. Declared variables: %s.",
				a.Name, a.Name, suggestList(l.varNames()))
			ok = false
		}
	}
	if !ok {
		return cty.NilVal, false
	}
	v, good := l.evalBounded(expr)
	if !good {
		return cty.NilVal, false
	}
	// Decoding works on plain values; the range remembers whether the
	// value must stay out of diagnostics.
	v = l.unmark(expr.Range(), v)
	if !v.IsWhollyKnown() {
		// Only reachable through functions that return unknowns; a
		// Portfile has no unknown inputs.
		l.errorf(expr.Range(), "Value not known", "This value cannot be computed before planning; use only variables, literals and functions here.")
		return cty.NilVal, false
	}
	return v, true
}

// evalBounded evaluates expr within the load's budget (see bounds.go).
// Once the budget is exceeded, it evaluates nothing more: the first error
// explains why. The value keeps its marks (see secret.go).
func (l *loader) evalBounded(expr hcl.Expression) (cty.Value, bool) {
	if l.budget.exceeded {
		return cty.NilVal, false
	}
	disarm := l.budget.arm(expr)
	v, diags := expr.Value(l.ctx)
	disarm()
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if c, ok := valueCost(v, MaxValueCost); !ok {
		l.diags = append(l.diags, l.budget.tooBig(expr.Range(), "this expression", c, MaxValueCost))
		return cty.NilVal, false
	}
	return v, true
}

// str evaluates a string attribute. It reports false when attr is absent,
// null or wrong.
func (l *loader) str(attr *hcl.Attribute) (string, bool) {
	if attr == nil {
		return "", false
	}
	v, ok := l.eval(attr.Expr)
	if !ok || v.IsNull() {
		return "", false
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		l.errorf(attr.Expr.Range(), "Incorrect attribute value type",
			"The %s attribute takes a string, but this is %s.", attr.Name, v.Type().FriendlyName())
		return "", false
	}
	return s.AsString(), true
}

// nonEmpty is str plus a check that the string is not empty.
func (l *loader) nonEmpty(attr *hcl.Attribute) (string, bool) {
	s, ok := l.str(attr)
	if ok && strings.TrimSpace(s) == "" {
		l.errorf(attr.Expr.Range(), "Empty "+attr.Name, "The %s attribute must not be empty; remove it to use the default.", attr.Name)
		return "", false
	}
	return s, ok
}

func (l *loader) boolean(attr *hcl.Attribute) (bool, bool) {
	if attr == nil {
		return false, false
	}
	v, ok := l.eval(attr.Expr)
	if !ok || v.IsNull() {
		return false, false
	}
	b, err := convert.Convert(v, cty.Bool)
	if err != nil {
		l.errorf(attr.Expr.Range(), "Incorrect attribute value type",
			"The %s attribute takes true or false, but this is %s.", attr.Name, l.showVal(attr.Expr.Range(), v))
		return false, false
	}
	return b.True(), true
}

// integer evaluates a whole number in [min, max].
func (l *loader) integer(attr *hcl.Attribute, min, max int64) (int, bool) {
	if attr == nil {
		return 0, false
	}
	v, ok := l.eval(attr.Expr)
	if !ok || v.IsNull() {
		return 0, false
	}
	return l.toInt(attr, v, min, max, "")
}

// toInt converts v, the value of attr, to a whole number in [min, max].
// or names what else the attribute takes, as ` or "auto"`.
func (l *loader) toInt(attr *hcl.Attribute, v cty.Value, min, max int64, or string) (int, bool) {
	n, err := convert.Convert(v, cty.Number)
	if err != nil {
		l.errorf(attr.Expr.Range(), "Incorrect attribute value type",
			"The %s attribute takes a whole number%s, but this is %s.", attr.Name, or, l.showVal(attr.Expr.Range(), v))
		return 0, false
	}
	f := n.AsBigFloat()
	i, acc := f.Int64()
	if acc != big.Exact || i < min || i > max {
		shown := f.Text('g', 10)
		if src := l.secrets[attr.Expr.Range()]; src != "" {
			shown = hidden(src)
		}
		l.errorf(attr.Expr.Range(), "Invalid "+attr.Name,
			"The %s attribute takes a whole number from %d to %d%s, but this is %s.", attr.Name, min, max, or, shown)
		return 0, false
	}
	return int(i), true
}

// strList evaluates a list of strings. When the list is written literally,
// each element keeps its own range, so a diagnostic about one name points
// at that name.
func (l *loader) strList(attr *hcl.Attribute) ([]Ident, bool) {
	if attr == nil {
		return nil, false
	}
	if tup, ok := attr.Expr.(*hclsyntax.TupleConsExpr); ok {
		out := make([]Ident, 0, len(tup.Exprs))
		good := true
		for _, e := range tup.Exprs {
			v, ok := l.eval(e)
			if !ok {
				good = false
				continue
			}
			s, err := convert.Convert(v, cty.String)
			if err != nil || v.IsNull() {
				l.errorf(e.Range(), "Incorrect list element type",
					"Every element of %s must be a string, but this is %s.", attr.Name, l.showVal(e.Range(), v))
				good = false
				continue
			}
			out = append(out, Ident{Name: s.AsString(), Range: e.Range()})
		}
		return out, good
	}
	v, ok := l.eval(attr.Expr)
	if !ok || v.IsNull() {
		return nil, false
	}
	lv, err := convert.Convert(v, cty.List(cty.String))
	if err != nil || !lv.IsWhollyKnown() {
		l.errorf(attr.Expr.Range(), "Incorrect attribute value type",
			"The %s attribute takes a list of strings, but this is %s.", attr.Name, l.showVal(attr.Expr.Range(), v))
		return nil, false
	}
	var out []Ident
	for it := lv.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			l.errorf(attr.Expr.Range(), "Incorrect list element type", "The %s list holds a null element.", attr.Name)
			return nil, false
		}
		out = append(out, Ident{Name: e.AsString(), Range: attr.Expr.Range()})
	}
	return out, true
}

// names evaluates a list of package names and checks each one, and that
// none repeats. what names the attribute in messages, as "aur.packages".
func (l *loader) names(attr *hcl.Attribute, what string) []Ident {
	ids, _ := l.strList(attr)
	seen := map[string]hcl.Range{}
	out := ids[:0]
	for _, id := range ids {
		if !l.checkName(id.Name, id.Range, what) {
			continue
		}
		if first, dup := seen[id.Name]; dup {
			l.errorf(id.Range, "Duplicate name", "%s is already listed in %s at %s.", l.show(id.Range, id.Name), what, rangeText(first))
			continue
		}
		seen[id.Name] = id.Range
		out = append(out, id)
	}
	return out
}

// checkName reports an invalid pkgname or pkgbase.
func (l *loader) checkName(name string, rng hcl.Range, what string) bool {
	if why := nameError(name); why != "" {
		if l.secrets[rng] != "" {
			why = "it holds a character a package name cannot have" // the reason quotes the name
		}
		l.errorf(rng, "Invalid package name", "%s in %s is not a valid package name: %s. A package name holds only letters, digits and @._+- and does not start with '-' or '.' (alpm-package-name(7)).", l.show(rng, name), what, why)
		return false
	}
	return true
}

// repoNameError says what is wrong with a repository name, shown quoted
// as shown, or returns "". alpm-repo-name(7) forbids '/', '?', '!', newlines
// and a leading '-'; a port's repository name also becomes the file name
// <name>.db.tar.gz, a directory of the published tree <name>/os/<arch>/ and
// a pacman.conf section, and the publisher takes only package-name
// characters there. So the rule is alpm-package-name(7)'s character set,
// which lies inside alpm-repo-name(7)'s, and validate enforces exactly what
// the publisher will.
func repoNameError(s, shown string) string {
	err := alpm.CheckName(s)
	if err == nil {
		return ""
	}
	why := nameError(s)
	if s == "" {
		why = "it is empty"
	}
	return fmt.Sprintf("The repository name %s is not valid: %s. A repository name becomes a file name (<name>.db.tar.gz), a directory of the published tree (<name>/os/<arch>/) and a pacman.conf section; alpm-repo-name(7) allows more characters, but portmake takes only those that are safe in all three.", shown, why)
}

var archRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// knownArch lists the architectures alpm-architecture(7) names, and the
// ones real ports have shipped (Arch Linux ARM's armv5te and armv6h, whose
// databases are in the corpus). Others are accepted with a warning: the
// format allows them, but a typo is likelier.
var knownArch = map[string]bool{
	"x86_64": true, "x86_64_v2": true, "x86_64_v3": true, "x86_64_v4": true,
	"i686": true, "i486": true, "pentium4": true, "armv7": true, "armv7h": true,
	"armv5te": true, "armv6h": true,
	"armv8": true, "aarch64": true, "riscv64": true, "loong64": true, "loongarch64": true,
}

// checkArch validates an architecture a port builds for or compares with:
// alpm-architecture(7) characters, and not "any", which is a package
// property rather than something to build for.
func (l *loader) checkArch(arch string, rng hcl.Range, what string) bool {
	switch {
	case arch == "any":
		l.errorf(rng, "Invalid architecture", "%s cannot be \"any\": packages built for every architecture are copied, not built, so a port always names a CPU architecture such as \"aarch64\".", what)
		return false
	case !archRE.MatchString(arch):
		l.errorf(rng, "Invalid architecture", "%s %s is not an architecture: alpm-architecture(7) allows only letters, digits and '_' (for example \"aarch64\", \"riscv64\", \"x86_64_v3\").", what, l.show(rng, arch))
		return false
	case !knownArch[arch]:
		l.warnf(rng, "Unknown architecture", "%s %s is not one of the architectures alpm-architecture(7) lists (aarch64, armv7h, armv8, i686, loong64, riscv64, x86_64, x86_64_v2..v4); check the spelling.", what, l.show(rng, arch))
	}
	return true
}

// locKind says which forms a location accepts.
type locKind int

const (
	locAny   locKind = iota // http(s), file URLs and plain paths
	locGit                  // locAny plus ssh:// and git:// for git remotes
	locLocal                // file URLs and plain paths only
)

var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
var scpRE = regexp.MustCompile(`^[^/:]+@[^/:]+:`)

// location evaluates and resolves a location attribute.
func (l *loader) location(attr *hcl.Attribute, kind locKind) (Location, bool) {
	s, ok := l.str(attr)
	if !ok {
		return Location{}, false
	}
	return l.resolve(s, attr.Expr.Range(), attr.Name, kind)
}

func (l *loader) resolve(s string, rng hcl.Range, what string, kind locKind) (Location, bool) {
	loc := Location{Raw: s, Range: rng}
	shown := l.show(rng, hidePassword(s))
	if strings.TrimSpace(s) == "" {
		l.errorf(rng, "Empty location", "The %s attribute must name a URL or a path; it is empty.", what)
		return loc, false
	}
	if strings.ContainsAny(s, "\x00\n\r") {
		l.errorf(rng, "Invalid location", "The %s location contains a control character.", what)
		return loc, false
	}
	if kind == locGit && scpRE.MatchString(s) {
		l.errorf(rng, "Unsupported git location", "%s uses scp-like syntax. Write it as an ssh:// URL, for example \"ssh://git@host/path.git\".", shown)
		return loc, false
	}
	if !schemeRE.MatchString(s) {
		loc.Path = abs(l.p.Dir, s)
		return loc, true
	}
	u, err := url.Parse(s)
	if err != nil {
		detail := fmt.Sprintf(": %v", unwrapURLError(err))
		if l.secrets[rng] != "" || passwordRE.MatchString(s) {
			detail = "" // url.Parse's reason may quote the text
		}
		l.errorf(rng, "Invalid URL", "The %s location %s is not a valid URL%s.", what, shown, detail)
		return loc, false
	}
	if pw, has := u.User.Password(); has && pw != "" {
		l.errorf(rng, "Password in a URL",
			"The %s location %s holds a password. The Portfile is committed and shared, and locations end up in plans and logs, so portmake refuses passwords in URLs. Remove it and give the credentials another way: for git locations, ~/.netrc or a git credential helper (git reads both); for publish \"s3\", the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or a profile.",
			what, shown)
		return loc, false
	}
	scheme := strings.ToLower(u.Scheme)
	allowed := "https://, http://, file:// or a plain path"
	switch kind {
	case locGit:
		allowed = "https://, http://, ssh://, git://, file:// or a plain path"
	case locLocal:
		allowed = "a file:// URL or a plain path, because portmake reads it before any download"
	}
	switch {
	case scheme == "file":
		if u.Host != "" && u.Host != "localhost" {
			l.errorf(rng, "Invalid file URL", "The file URL %s names the host %q; a file URL names a local absolute path, as in \"file:///srv/repo/core.db\".", shown, u.Host)
			return loc, false
		}
		if !strings.HasPrefix(u.Path, "/") {
			l.errorf(rng, "Invalid file URL", "The file URL %s has no absolute path; write file:///absolute/path, or use a plain path relative to the Portfile.", shown)
			return loc, false
		}
		loc.URL = u
		loc.Path = filepath.Clean(u.Path)
		return loc, true
	case kind != locLocal && (scheme == "http" || scheme == "https"),
		kind == locGit && (scheme == "ssh" || scheme == "git"):
		if u.Host == "" || u.Opaque != "" {
			l.errorf(rng, "Invalid URL", "The URL %s has no host; write it as %s://host/path.", shown, scheme)
			return loc, false
		}
		loc.URL = u
		return loc, true
	default:
		uses := fmt.Sprintf("the scheme %q", u.Scheme)
		if l.secrets[rng] != "" {
			uses = "a scheme portmake does not take"
		}
		l.errorf(rng, "Unsupported location", "The %s location %s uses %s; it must be %s.", what, shown, uses, allowed)
		return loc, false
	}
}

// passwordRE finds the password of a URL's userinfo, in text that may not
// parse as a URL.
var passwordRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://[^/?#:@]*):[^/?#]*@`)

// hidePassword replaces the password in a URL with "***", so that no
// diagnostic repeats it.
func hidePassword(s string) string { return passwordRE.ReplaceAllString(s, "${1}:***@") }

// passwordInTextRE finds URL passwords anywhere in a file.
var passwordInTextRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/?#:@\s"]*:[^/?#@\s"]*@`)

// maskPasswords returns a copy of src with the password of every URL in it
// replaced by as many '*', so that the snippets of diagnostics keep their
// positions but never show a password written in the Portfile; or src
// itself, and false, when it holds none.
func maskPasswords(src []byte) ([]byte, bool) {
	if !passwordInTextRE.Match(src) {
		return src, false
	}
	return passwordInTextRE.ReplaceAllFunc(src, func(m []byte) []byte {
		out := bytes.Clone(m)
		auth := bytes.Index(out, []byte("://")) + 3
		colon := auth + bytes.IndexByte(out[auth:], ':')
		for j := colon + 1; j < len(out)-1; j++ {
			out[j] = '*'
		}
		return out
	}), true
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// localPath is a locLocal location made absolute, or the default.
func (l *loader) localPath(attr *hcl.Attribute, def string, defRange hcl.Range) Location {
	if attr != nil {
		if loc, ok := l.location(attr, locLocal); ok {
			return loc
		}
		return Location{}
	}
	return Location{Raw: def, Path: abs(l.p.Dir, def), Range: defRange}
}

func urlParse(s string) (*url.URL, error) { return url.Parse(s) }
