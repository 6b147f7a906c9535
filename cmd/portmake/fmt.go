package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/portmake/portmake/lang"
)

// FmtCmd rewrites Portfiles (and var files) in the canonical HCL layout.
type FmtCmd struct {
	Check bool     `help:"Change nothing; exit 1 when a file is not formatted."`
	Files []string `arg:"" optional:"" help:"Files, or directories whose *.hcl files to format; - is stdin to stdout. Default: the -f file." placeholder:"FILE"`
}

func (c *FmtCmd) Run(env *Env, g *Globals) error {
	targets := c.Files
	if len(targets) == 0 {
		targets = []string{g.File}
	}
	if len(targets) == 1 && targets[0] == "-" {
		return c.stdin(env)
	}
	var files []string
	for _, t := range targets {
		if t == "-" {
			return errors.New("fmt: - (stdin) cannot be combined with other files")
		}
		fi, err := os.Stat(t)
		if err != nil {
			return fmt.Errorf("fmt: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, t)
			continue
		}
		// A directory means its Portfiles and var files, not a tree walk:
		// a port's repository also holds PKGBUILD trees with unrelated .hcl.
		m, err := filepath.Glob(filepath.Join(t, "*.hcl"))
		if err != nil {
			return fmt.Errorf("fmt %s: %w", t, err)
		}
		sort.Strings(m)
		files = append(files, m...)
	}

	var changed []string
	broken := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("fmt: %w", err)
		}
		out, diags := lang.Format(src, f)
		if diags.HasErrors() {
			width, color := diagStyle(env)
			sources := map[string]*hcl.File{f: {Bytes: src}}
			if err := lang.WriteDiagnostics(env.Stderr, sources, diags, width, color); err != nil {
				return err
			}
			broken++
			continue
		}
		if bytes.Equal(src, out) {
			continue
		}
		changed = append(changed, f)
		if c.Check {
			continue
		}
		if err := writeAtomic(f, out); err != nil {
			return fmt.Errorf("fmt: %w", err)
		}
		fmt.Fprintln(env.Stdout, f)
	}
	if broken > 0 {
		return fmt.Errorf("fmt: %d file%s with syntax errors left unchanged", broken, plural(broken))
	}
	if c.Check && len(changed) > 0 {
		return &exitError{Code: 1, Err: fmt.Errorf("fmt: %d file%s would be reformatted: %s",
			len(changed), plural(len(changed)), strings.Join(changed, ", "))}
	}
	return nil
}

// stdin formats standard input to standard output, or with --check only
// reports whether it is formatted: the editor-integration form.
func (c *FmtCmd) stdin(env *Env) error {
	src, err := io.ReadAll(env.Stdin)
	if err != nil {
		return fmt.Errorf("fmt: read stdin: %w", err)
	}
	out, diags := lang.Format(src, "<stdin>")
	if diags.HasErrors() {
		width, color := diagStyle(env)
		if err := lang.WriteDiagnostics(env.Stderr, map[string]*hcl.File{"<stdin>": {Bytes: src}}, diags, width, color); err != nil {
			return err
		}
		return errors.New("fmt: <stdin> has syntax errors")
	}
	if c.Check {
		if !bytes.Equal(src, out) {
			return &exitError{Code: 1, Err: errors.New("fmt: <stdin> would be reformatted")}
		}
		return nil
	}
	_, err = env.Stdout.Write(out)
	return err
}

// writeAtomic replaces path with data through a temporary file in the same
// directory and a rename, keeping the file's mode, so that an interrupted
// fmt never leaves a half-written Portfile.
func writeAtomic(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".fmt-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
