package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptCommands holds the custom testscript commands. Each area registers
// its own from an init in its own script_<area>_test.go file.
var scriptCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){}

func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return scriptCommands
}

// scriptCondition adds [tool:NAME], true when NAME is on PATH, and
// [corpus], true when the real-data corpus ($PORTMAKE_CORPUS) exists. When
// either is missing and CI is set the script fails instead, because CI
// installs every tool and has the corpus, and a silent skip there would
// hide a broken setup; on a fresh clone without ../shared the scenarios
// that read the corpus skip. [slurm] is true when a Slurm test cluster can
// start (root, slurm-wlm and munge), under the same rule. [root] is true
// when the scenario runs as root (creating users).
func scriptCondition(cond string) (bool, error) {
	if cond == "root" {
		return os.Geteuid() == 0, nil
	}
	if cond == "slurm" {
		return slurmCondition()
	}
	if cond == "corpus" {
		if _, err := os.Stat(corpusDir()); err != nil {
			if os.Getenv("CI") != "" {
				return false, fmt.Errorf("the corpus %s is missing, and CI is set", corpusDir())
			}
			return false, nil
		}
		return true, nil
	}
	name, ok := strings.CutPrefix(cond, "tool:")
	if !ok {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			return false, fmt.Errorf("%s is not on PATH, and CI is set", name)
		}
		return false, nil
	}
	return true, nil
}
