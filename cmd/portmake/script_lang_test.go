package main

import (
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCommands["repofile"] = cmdRepoFile
}

// cmdRepoFile copies files or directory trees from the repository root into
// the script's work directory under the same relative paths:
//
//	repofile Portfile.hcl.example chroot-config examples/demo
//
// It lets scenarios run the shipped examples exactly as a user would,
// without writing into the repository.
func cmdRepoFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! repofile")
	}
	if len(args) == 0 {
		ts.Fatalf("usage: repofile PATH...")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	ts.Check(err)
	for _, rel := range args {
		src := filepath.Join(root, filepath.FromSlash(rel))
		dst := ts.MkAbs(rel)
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			r, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			target := filepath.Join(dst, r)
			if d.IsDir() {
				return os.MkdirAll(target, 0o755)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		})
		ts.Check(err)
	}
}
