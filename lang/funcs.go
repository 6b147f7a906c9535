package lang

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// maxFileFunc bounds what file() reads: a Portfile reads small text files
// (a key, a list of names), and a mistake must not pull a disk image into
// memory.
const maxFileFunc = 1 << 20

// inputs records what env() and file() returned, so that the Portfile hash
// changes when they do.
type inputs struct {
	lines []string
}

func (in *inputs) add(kind, key, value string) {
	in.lines = append(in.lines, fmt.Sprintf("%s %q %q", kind, key, value))
}

func (in *inputs) sorted() []string {
	out := append([]string(nil), in.lines...)
	sort.Strings(out)
	return out
}

// FunctionNames lists the functions a Portfile may call, sorted, for the
// documentation and its test.
func FunctionNames() []string {
	fs := functions("", nil, &inputs{}, &budget{})
	names := make([]string, 0, len(fs))
	for n := range fs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// functions is the hermetic function set: the cty standard library's pure
// functions, plus env() through the caller's lookup and file() confined to
// the Portfile's directory. Nothing here reads the clock, the network or
// random state, so the same inputs always give the same Portfile. Every
// function is wrapped by bounded, which charges its results to b; env()
// and file() mark their results (see secret.go).
func functions(dir string, env func(string) string, in *inputs, b *budget) map[string]function.Function {
	fs := map[string]function.Function{
		"abs":           stdlib.AbsoluteFunc,
		"ceil":          stdlib.CeilFunc,
		"chomp":         stdlib.ChompFunc,
		"coalesce":      stdlib.CoalesceFunc,
		"coalescelist":  stdlib.CoalesceListFunc,
		"compact":       stdlib.CompactFunc,
		"concat":        stdlib.ConcatFunc,
		"contains":      stdlib.ContainsFunc,
		"distinct":      stdlib.DistinctFunc,
		"element":       stdlib.ElementFunc,
		"flatten":       stdlib.FlattenFunc,
		"floor":         stdlib.FloorFunc,
		"format":        stdlib.FormatFunc,
		"formatlist":    stdlib.FormatListFunc,
		"indent":        stdlib.IndentFunc,
		"index":         stdlib.IndexFunc,
		"join":          stdlib.JoinFunc,
		"jsondecode":    stdlib.JSONDecodeFunc,
		"jsonencode":    stdlib.JSONEncodeFunc,
		"keys":          stdlib.KeysFunc,
		"length":        stdlib.LengthFunc,
		"lookup":        stdlib.LookupFunc,
		"lower":         stdlib.LowerFunc,
		"max":           stdlib.MaxFunc,
		"merge":         stdlib.MergeFunc,
		"min":           stdlib.MinFunc,
		"parseint":      stdlib.ParseIntFunc,
		"range":         stdlib.RangeFunc,
		"regex":         stdlib.RegexFunc,
		"regexall":      stdlib.RegexAllFunc,
		"regex_replace": stdlib.RegexReplaceFunc,
		"replace":       stdlib.ReplaceFunc,
		"reverse":       stdlib.ReverseListFunc,
		"setunion":      stdlib.SetUnionFunc,
		"slice":         stdlib.SliceFunc,
		"sort":          stdlib.SortFunc,
		"split":         stdlib.SplitFunc,
		"strlen":        stdlib.StrlenFunc,
		"strrev":        stdlib.ReverseFunc,
		"substr":        stdlib.SubstrFunc,
		"title":         stdlib.TitleFunc,
		"tobool":        stdlib.MakeToFunc(cty.Bool),
		"tolist":        stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tonumber":      stdlib.MakeToFunc(cty.Number),
		"toset":         stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":      stdlib.MakeToFunc(cty.String),
		"trim":          stdlib.TrimFunc,
		"trimprefix":    stdlib.TrimPrefixFunc,
		"trimspace":     stdlib.TrimSpaceFunc,
		"trimsuffix":    stdlib.TrimSuffixFunc,
		"upper":         stdlib.UpperFunc,
		"values":        stdlib.ValuesFunc,
		"zipmap":        stdlib.ZipmapFunc,
	}
	fs["env"] = function.New(&function.Spec{
		Description: "Returns the value of an environment variable, or \"\" when it is unset.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			v := ""
			if env != nil {
				v = env(name)
			}
			in.add("env", name, v)
			return cty.StringVal(v).Mark(external{"env", name}), nil
		},
	})
	fs["file"] = function.New(&function.Spec{
		Description: "Returns the UTF-8 contents of a file inside the Portfile's directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			rel := args[0].AsString()
			data, err := readInside(dir, rel)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			in.add("file", rel, data)
			return cty.StringVal(data).Mark(external{"file", rel}), nil
		},
	})
	for name, f := range fs {
		fs[name] = bounded(name, f, b)
	}
	return fs
}

// readInside reads rel, which must resolve (symlinks included) to a regular
// file inside dir. The confinement keeps a Portfile hermetic: everything it
// reads is committed next to it.
func readInside(dir, rel string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("file() is not available here")
	}
	if filepath.IsAbs(rel) {
		return "", fmt.Errorf("path %q is absolute; file() reads only files inside the Portfile's directory, given relative to it", rel)
	}
	real, err := resolveInside(dir, rel)
	switch {
	case errors.Is(err, errOutside):
		return "", fmt.Errorf("path %q leads outside the Portfile's directory; file() reads only files inside it", rel)
	case os.IsNotExist(err):
		return "", fmt.Errorf("no file %q in the Portfile's directory", rel)
	case err != nil:
		return "", fmt.Errorf("read %q: %v", rel, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("read %q: %v", rel, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%q is not a regular file", rel)
	}
	if fi.Size() > maxFileFunc {
		return "", fmt.Errorf("%q is %d bytes; file() reads at most %d", rel, fi.Size(), maxFileFunc)
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return "", fmt.Errorf("read %q: %v", rel, err)
	}
	if !utf8.Valid(data) {
		return "", fmt.Errorf("%q is not valid UTF-8 text", rel)
	}
	return string(data), nil
}

// errOutside is returned by resolveInside for a path that leads outside.
var errOutside = errors.New("outside the Portfile's directory")

// resolveInside resolves p (relative to dir, or absolute) through every
// symlink and returns the real path, or errOutside when that is not inside
// dir: the confinement of file() and of the blacklist file, which keeps a
// Portfile hermetic and keeps validate from printing lines of files such as
// /etc/shadow.
func resolveInside(dir, p string) (string, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("resolve the Portfile's directory: %w", err)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(root, p)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	if r, err := filepath.Rel(root, real); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", errOutside
	}
	return real, nil
}

// maxConfigFile bounds the configuration files a Portfile names
// (makepkg.conf, the blacklist, var files).
const maxConfigFile = 8 << 20

// readConfig reads a configuration file that must be a regular file of
// sane size. Refusing devices and FIFOs keeps validate from blocking
// forever on a path like /dev/stdin or reading /dev/zero without end.
func readConfig(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "read", Path: path, Err: errNotRegular}
	}
	if fi.Size() > maxConfigFile {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%d bytes is more than the %d a configuration file may have", fi.Size(), maxConfigFile)}
	}
	return os.ReadFile(path)
}

var errNotRegular = errors.New("it is not a regular file")
