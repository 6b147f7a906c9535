package main

import (
	"github.com/portmake/portmake/engine"
)

// BuildNodeCmd is the worker that a cluster job runs on a build node: it
// builds one attempt that `portmake apply` staged in the shared work
// directory. It reads no Portfile.
type BuildNodeCmd struct {
	Dir string `arg:"" help:"The attempt directory (it holds request.json)." type:"path"`
}

func (c *BuildNodeCmd) Run(env *Env) error {
	if code := engine.BuildNode(env.Ctx, c.Dir, env.Stderr); code != 0 {
		return &exitError{Code: code}
	}
	return nil
}
