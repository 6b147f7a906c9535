package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		// The same signal handling as main, so scripts can interrupt it.
		"portmake": main,
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
