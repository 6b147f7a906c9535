package lang

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// LoadOptions are the inputs of a Portfile besides its text.
type LoadOptions struct {
	// Vars are --var values. They win over var files, which win over
	// PORTMAKE_VAR_<name>, which wins over the declared default.
	Vars map[string]string
	// VarFiles are --var-file paths (relative to the working directory),
	// applied in order: a later file wins.
	VarFiles []string
	// Env looks up environment variables for PORTMAKE_VAR_<name> and env().
	// Nil means an empty environment, which keeps tests hermetic.
	Env func(string) string
}

// EnvPrefix is the prefix of environment variables that set Portfile
// variables: PORTMAKE_VAR_mirror sets var.mirror.
const EnvPrefix = "PORTMAKE_VAR_"

// hashSalt versions the Portfile hash: bump it when the hashed lines change
// meaning, so old saved plans are refused rather than misread.
const hashSalt = "portmake-portfile-v1"

// Load reads and decodes the Portfile at path. See Portfile for what is
// returned on errors.
func Load(path string, opts LoadOptions) (*Portfile, hcl.Diagnostics) {
	src, err := readConfig(path)
	if err != nil {
		detail := fmt.Sprintf("portmake could not read the Portfile %s: %v.", path, errors.Unwrap(err))
		if errors.Is(err, fs.ErrNotExist) {
			detail = fmt.Sprintf("There is no Portfile at %s. Create one (see Portfile.hcl.example), or name another with -f or -C.", path)
		}
		return &Portfile{Path: path, Files: map[string]*hcl.File{}}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read Portfile",
			Detail:   detail,
		}}
	}
	return Parse(src, path, opts)
}

// Parse decodes Portfile text. filename names it in diagnostics, and its
// directory is where relative locations resolve.
func Parse(src []byte, filename string, opts LoadOptions) (*Portfile, hcl.Diagnostics) {
	dir, err := filepath.Abs(filepath.Dir(filename))
	if err != nil {
		dir = filepath.Dir(filename)
	}
	p := &Portfile{
		Path:      filename,
		Dir:       dir,
		Variables: map[string]*Variable{},
		Files:     map[string]*hcl.File{},
	}
	if diags := checkSource(src, filename, "Portfile"); diags.HasErrors() {
		p.Files[filename] = &hcl.File{Bytes: src}
		return p, diags
	}
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if file != nil {
		p.Files[filename] = file
	}
	if diags.HasErrors() {
		return p, diags
	}
	l := &loader{p: p, opts: opts, in: &inputs{}, src: src}
	l.diags = diags
	l.decode(file.Body)
	l.validate()
	sortDiags(l.diags)
	if !l.diags.HasErrors() {
		p.Hash = l.hash()
	}
	for name, f := range p.Files {
		if masked, ok := maskPasswords(f.Bytes); ok {
			p.Files[name] = &hcl.File{Body: f.Body, Bytes: masked, Nav: f.Nav}
		}
	}
	return p, l.diags
}

// loader holds the state of one decode. Its methods append to diags and
// keep going, so that one run reports every problem.
type loader struct {
	p     *Portfile
	opts  LoadOptions
	in    *inputs
	src   []byte
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics

	blacklistBytes []byte
	budget         budget                // evaluation allowance, see bounds.go
	secrets        map[hcl.Range]string  // expressions whose value came from env() or file()
	failedVars     map[string]bool       // variables whose value is already reported as broken
	singles        map[string]*hcl.Block // port, blacklist, aur, local, sources, build, publish
}

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "port"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "repo", LabelNames: []string{"name"}},
		{Type: "blacklist"},
		{Type: "package", LabelNames: []string{"pkgbase"}},
		{Type: "aur"},
		{Type: "local"},
		{Type: "sources"},
		{Type: "build"},
		{Type: "publish", LabelNames: []string{"type"}},
		{Type: "sign"},
		// Declared only to say where it goes.
		{Type: "slurm"},
	},
}

func (l *loader) decode(body hcl.Body) {
	content, diags := body.Content(rootSchema)
	l.diags = append(l.diags, diags...)

	// Variables come first: every other block may refer to them.
	var vars []*hcl.Block
	l.singles = map[string]*hcl.Block{}
	for _, b := range content.Blocks {
		switch b.Type {
		case "variable":
			vars = append(vars, b)
		case "repo", "package":
		case "slurm":
			l.errorf(b.DefRange, "Misplaced slurm block",
				"The slurm block goes inside the build block, next to backend = \"slurm\": build { backend = \"slurm\" slurm { work_dir = \"...\" } }.")
		default:
			if first, dup := l.singles[b.Type]; dup {
				l.errorf(b.DefRange, "Duplicate "+b.Type+" block",
					"A Portfile has at most one %s block; the first one is at %s. Merge the two.", b.Type, rangeText(first.DefRange))
				continue
			}
			l.singles[b.Type] = b
		}
	}
	l.variables(vars)

	l.port(l.singles["port"], content.MissingItemRange)
	seenRepo := map[string]*Repo{}
	seenPkg := map[string]*PackageOverride{}
	for _, b := range content.Blocks {
		switch b.Type {
		case "repo":
			if r := l.repo(b); r != nil {
				if first, dup := seenRepo[r.Name]; dup {
					l.errorf(b.LabelRanges[0], "Duplicate repo block",
						"The repository %q is already declared at %s. Each repository has one repo block.", r.Name, rangeText(first.Range))
					continue
				}
				seenRepo[r.Name] = r
				l.p.Repos = append(l.p.Repos, r)
			}
		case "package":
			if o := l.pkg(b); o != nil {
				if first, dup := seenPkg[o.Name]; dup {
					l.errorf(b.LabelRanges[0], "Duplicate package block",
						"The pkgbase %q already has a package block at %s. Merge the two.", o.Name, rangeText(first.Range))
					continue
				}
				seenPkg[o.Name] = o
				l.p.Packages = append(l.p.Packages, o)
			}
		}
	}
	if b := l.singles["blacklist"]; b != nil {
		l.blacklist(b)
	}
	if b := l.singles["aur"]; b != nil {
		l.p.AUR = l.aur(b)
	}
	if b := l.singles["local"]; b != nil {
		l.p.Local = l.local(b)
	}
	l.sources(l.singles["sources"])
	l.build(l.singles["build"])
	if b := l.singles["publish"]; b != nil {
		l.p.Publish = l.publish(b)
	}
	if b := l.singles["sign"]; b != nil {
		l.p.Sign = l.sign(b)
	}
}

// hash is the Portfile hash: named, salted lines in a fixed order, like the
// go command's action IDs, so that a debug dump can show what changed.
func (l *loader) hash() string {
	return hashLines(l.hashLines())
}

func (l *loader) hashLines() []string {
	lines := []string{hashSalt, "portfile " + sum(l.src)}
	names := make([]string, 0, len(l.p.Variables))
	for n := range l.p.Variables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v, _ := l.p.Variables[n].Value.UnmarkDeep()
		js, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			js = []byte(v.GoString())
		}
		lines = append(lines, fmt.Sprintf("var %s %s", n, js))
	}
	lines = append(lines, l.in.sorted()...)
	if l.blacklistBytes != nil {
		lines = append(lines, "blacklist "+sum(l.blacklistBytes))
	}
	lines = append(lines, "carch "+l.p.Port.CARCH)
	return lines
}

func hashLines(lines []string) string {
	h := sha256.New()
	for _, s := range lines {
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// errorf appends an error diagnostic about rng.
func (l *loader) errorf(rng hcl.Range, summary, detail string, args ...any) {
	l.diag(hcl.DiagError, rng, summary, fmt.Sprintf(detail, args...))
}

// warnf appends a warning diagnostic about rng.
func (l *loader) warnf(rng hcl.Range, summary, detail string, args ...any) {
	l.diag(hcl.DiagWarning, rng, summary, fmt.Sprintf(detail, args...))
}

func (l *loader) diag(sev hcl.DiagnosticSeverity, rng hcl.Range, summary, detail string) {
	r := rng
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: detail, Subject: &r})
}

// rangeText is "file:line:col", for details that point at a second place.
func rangeText(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// fileStart is the range used for problems with a default that no block
// mentions, such as a missing default makepkg.conf: the top of the file.
func (l *loader) fileStart() hcl.Range {
	return hcl.Range{Filename: l.p.Path, Start: hcl.InitialPos, End: hcl.InitialPos}
}

// displayPath names a file that the Portfile refers to, relative to the
// working directory when the Portfile was named that way, so diagnostics do
// not leak machine-specific absolute paths into goldens and CI logs.
func (l *loader) displayPath(raw string) string {
	if filepath.IsAbs(raw) {
		return filepath.Clean(raw)
	}
	return filepath.Join(filepath.Dir(l.p.Path), raw)
}

// suggestList formats declared names for a detail sentence.
func suggestList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// ctyString is a short rendering of a value for a detail sentence.
func ctyString(v cty.Value) string {
	if v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
		return fmt.Sprintf("%q", v.AsString())
	}
	js, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return v.GoString()
	}
	return string(js)
}

// sortDiags orders diagnostics by file (in order of first appearance) and
// position, so that output follows the text however the decoder happened
// to visit it. Diagnostics without a subject (command-line problems) come
// first.
func sortDiags(diags hcl.Diagnostics) {
	fileOrder := map[string]int{}
	for _, d := range diags {
		if d.Subject != nil {
			if _, ok := fileOrder[d.Subject.Filename]; !ok {
				fileOrder[d.Subject.Filename] = len(fileOrder)
			}
		}
	}
	key := func(d *hcl.Diagnostic) (int, int) {
		if d.Subject == nil {
			return -1, 0
		}
		return fileOrder[d.Subject.Filename], d.Subject.Start.Byte
	}
	sort.SliceStable(diags, func(i, j int) bool {
		fi, bi := key(diags[i])
		fj, bj := key(diags[j])
		if fi != fj {
			return fi < fj
		}
		return bi < bj
	})
}
