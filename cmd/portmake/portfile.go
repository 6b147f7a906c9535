package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"

	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/lang"
)

// openPort is how every Portfile-reading command starts: it opens the -f
// Portfile with --var, --var-file and PORTMAKE_VAR_* applied, renders
// every diagnostic (warnings too) to stderr, and fails when there is an
// error.
func openPort(env *Env, g *Globals) (*engine.Port, error) {
	vars := map[string]string{}
	for _, kv := range g.Var {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--var %q: want NAME=VALUE", kv)
		}
		vars[name] = value
	}
	p, err := engine.Open(g.File, engine.Options{Vars: vars, VarFiles: g.VarFile, Getenv: os.Getenv, InitStore: g.Init, Log: env.Log})
	var le *engine.LoadError
	if errors.As(err, &le) {
		if werr := writeDiagnostics(env, le.Files, le.Diags); werr != nil {
			return nil, werr
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if files, diags := p.Diagnostics(); len(diags) > 0 {
		if err := writeDiagnostics(env, files, diags); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

func writeDiagnostics(env *Env, files map[string]*hcl.File, diags hcl.Diagnostics) error {
	width, color := diagStyle(env)
	if err := lang.WriteDiagnostics(env.Stderr, files, diags, width, color); err != nil {
		return fmt.Errorf("write diagnostics: %w", err)
	}
	return nil
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

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
