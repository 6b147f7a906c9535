package engine

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/lang"
	"github.com/portmake/portmake/proc"
	"github.com/portmake/portmake/store"
)

// Options open a port.
type Options struct {
	// Vars are --var values, VarFiles --var-file paths: see lang.LoadOptions.
	Vars     map[string]string
	VarFiles []string
	// Getenv looks up PORTMAKE_VAR_* and env(); nil is an empty environment.
	Getenv func(string) string
	// InitStore makes a new state store where the state path holds a file
	// that is not a portmake store; the file is moved aside, never
	// deleted. A portmake store is opened as usual.
	InitStore bool
	// Log receives diagnostic records; nil discards them.
	Log *slog.Logger
	// Events receives user-facing warnings as sentences; nil leaves them
	// to Log alone, as Warn records.
	Events Events
}

// Port is one opened port. Its methods are safe to call one at a time;
// the store they share is safe for concurrent use.
type Port struct {
	pf       *lang.Portfile
	stateDir string
	log      *slog.Logger // eventLogger: warnings reach Events too

	diags hcl.Diagnostics // the Portfile's warnings
	init  bool            // Options.InitStore

	mu sync.Mutex
	st *store.Store

	sbMu sync.Mutex
	sb   *executor.Sandbox // see sandbox.go
}

// LoadError is returned by Open when the Portfile has errors. Diags holds
// every diagnostic (warnings too) and Files the sources to render them
// with snippets.
type LoadError struct {
	File  string
	Files map[string]*hcl.File
	Diags hcl.Diagnostics
}

func (e *LoadError) Error() string {
	n := 0
	for _, d := range e.Diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	s := "s"
	if n == 1 {
		s = ""
	}
	return fmt.Sprintf("%s: %d error%s", e.File, n, s)
}

// Open reads the Portfile at file. Warnings are in Diagnostics; errors come
// back as a *LoadError. The state store is opened on first use.
func Open(file string, opts Options) (*Port, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = eventLogger(log, opts.Events)
	log.Debug("load Portfile", "file", file, "vars", len(opts.Vars), "var_files", len(opts.VarFiles))
	pf, diags := lang.Load(file, lang.LoadOptions{Vars: opts.Vars, VarFiles: opts.VarFiles, Env: opts.Getenv})
	if diags.HasErrors() {
		return nil, &LoadError{File: file, Files: pf.Files, Diags: diags}
	}
	log.Debug("Portfile loaded", "arch", pf.Arch(), "repos", len(pf.Repos), "hash", pf.Hash)
	return &Port{pf: pf, stateDir: filepath.Dir(pf.StatePath()), log: log, diags: diags, init: opts.InitStore}, nil
}

// Portfile is the decoded Portfile. Callers must not modify it.
func (p *Port) Portfile() *lang.Portfile { return p.pf }

// Diagnostics are the Portfile's warnings, with the files to render them.
func (p *Port) Diagnostics() (map[string]*hcl.File, hcl.Diagnostics) {
	return p.pf.Files, p.diags
}

// StateDir is the directory of the state store and caches.
func (p *Port) StateDir() string { return p.stateDir }

// Store returns the state store, opening it on first use.
func (p *Port) Store() (*store.Store, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st != nil {
		return p.st, nil
	}
	st, err := store.OpenWith(p.pf.StatePath(), store.OpenOptions{Init: p.init})
	if err != nil {
		return nil, err
	}
	if st.MovedAside != "" {
		p.log.Warn("the state path held a file that is not a portmake store; it was moved aside and a new history begins", "file", st.MovedAside)
	}
	st.Log = p.log
	p.st = st
	return st, nil
}

// Close closes the store, if it was opened.
func (p *Port) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st == nil {
		return nil
	}
	err := p.st.Close()
	p.st = nil
	return err
}

// KillRunning kills every build and command running now, at once, without
// waiting for anything: what a front end does on a second interrupt. The
// store is left as it is; the next apply records the interrupted builds.
func KillRunning() { proc.KillAll() }
