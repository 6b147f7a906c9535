package main

import (
	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/ui"
)

// PromoteCmd moves packages from testing repositories to stable ones.
type PromoteCmd struct {
	Packages           []string `arg:"" optional:"" name:"pkg" help:"Promote only these pkgbases or pkgnames (default: everything in testing)."`
	From               []string `sep:"," help:"Testing repositories to promote from (default: every one)." placeholder:"REPO"`
	DryRun             bool     `name:"dry-run" help:"Show what would move and what is held back; change nothing."`
	JSON               bool     `name:"json" help:"Print JSON (portmake.promote/v1)."`
	ForceUnconditional bool     `name:"force-unconditional" help:"Allow an S3 store that does not honour conditional writes (one publisher only)."`
}

func (c *PromoteCmd) Run(env *Env, g *Globals) error {
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	plans, err := p.Promote(env.Ctx, engine.PromoteOptions{From: c.From, Only: c.Packages, DryRun: c.DryRun, ForceUnconditional: c.ForceUnconditional})
	if err != nil {
		return err
	}
	if c.JSON {
		return ui.WritePromoteJSON(env.Stdout, plans, c.DryRun)
	}
	ui.WritePromote(env.Stdout, plans, c.DryRun)
	return nil
}
