package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		// The same signal handling as main, so scripts can interrupt it.
		"portmake": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
			stop()
			os.Exit(code)
		},
	})
}

// TestScript runs the user-level scenarios in testdata/script. Set
// PORTMAKE_UPDATE_GOLDEN=1 to rewrite the golden files that cmp compares
// against.
func TestScript(t *testing.T) {
	testscript.Run(t, scriptParams(t))
}

func scriptParams(t *testing.T) testscript.Params {
	corpus := corpusDir()
	return testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "script"),
		UpdateScripts:       os.Getenv("PORTMAKE_UPDATE_GOLDEN") != "",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("PORTMAKE_CORPUS", corpus)
			e.Setenv("CI", os.Getenv("CI"))
			return nil
		},
		Condition: scriptCondition,
		Cmds:      scriptCmds(),
	}
}

// corpusDir is the shared real-data corpus: $PORTMAKE_CORPUS, else
// ../shared/data beside the repository.
func corpusDir() string {
	if d := os.Getenv("PORTMAKE_CORPUS"); d != "" {
		return d
	}
	d, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data"))
	return d
}
