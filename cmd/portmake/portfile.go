package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"

	"github.com/portmake/portmake/lang"
)

// loadPortfile is how every Portfile-reading command starts: it reads the
// -f file with --var, --var-file and PORTMAKE_VAR_* applied, renders every
// diagnostic (warnings too) to stderr, and fails when there is an error.
func loadPortfile(env *Env, g *Globals) (*lang.Portfile, error) {
	opts, err := loadOptions(g)
	if err != nil {
		return nil, err
	}
	env.Log.Debug("load Portfile", "file", g.File, "vars", len(opts.Vars), "var_files", len(opts.VarFiles))
	pf, diags := lang.Load(g.File, opts)
	if len(diags) > 0 {
		width, color := diagStyle(env)
		if werr := lang.WriteDiagnostics(env.Stderr, pf.Files, diags, width, color); werr != nil {
			return nil, fmt.Errorf("write diagnostics: %w", werr)
		}
	}
	if diags.HasErrors() {
		n := 0
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				n++
			}
		}
		return nil, fmt.Errorf("%s: %d error%s", g.File, n, plural(n))
	}
	env.Log.Debug("Portfile loaded", "arch", pf.Arch(), "repos", len(pf.Repos), "hash", pf.Hash)
	return pf, nil
}

// loadOptions turns the global flags into lang.LoadOptions.
func loadOptions(g *Globals) (lang.LoadOptions, error) {
	opts := lang.LoadOptions{
		Vars:     map[string]string{},
		VarFiles: g.VarFile,
		Env:      os.Getenv,
	}
	for _, kv := range g.Var {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return opts, fmt.Errorf("--var %q: want NAME=VALUE", kv)
		}
		opts.Vars[name] = value
	}
	return opts, nil
}

// diagStyle wraps and colours diagnostics only on a terminal, so that logs
// and test goldens get plain, unwrapped text.
func diagStyle(env *Env) (width uint, color bool) {
	f, ok := env.Stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil || w <= 0 {
		w = 80
	}
	return uint(w), os.Getenv("NO_COLOR") == ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
