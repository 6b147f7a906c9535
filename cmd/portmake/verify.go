package main

import (
	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/ui"
)

// VerifyCmd compares the published repositories with their databases.
type VerifyCmd struct {
	Repos              []string `arg:"" optional:"" name:"repo" help:"Repositories to check (default: every one the Portfile publishes to)."`
	Repair             bool     `help:"Fix what differs: finish interrupted publishes, put back damaged files from build outputs, take out of the database what is lost (it is built again)."`
	Deep               bool     `help:"Read and hash every package file, even those unchanged since portmake published them (on S3: download them)."`
	JSON               bool     `name:"json" help:"Print JSON (portmake.verify/v1)."`
	ForceUnconditional bool     `name:"force-unconditional" help:"Allow an S3 store that does not honour conditional writes (one publisher only)."`
}

func (c *VerifyCmd) Run(env *Env, g *Globals) error {
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	res, err := p.Verify(env.Ctx, engine.VerifyOptions{Repos: c.Repos, Deep: c.Deep, Repair: c.Repair, ForceUnconditional: c.ForceUnconditional})
	if err != nil {
		return err
	}
	if c.JSON {
		err = ui.WriteVerifyJSON(env.Stdout, res)
	} else {
		ui.WriteVerify(env.Stdout, res)
	}
	if err != nil {
		return err
	}
	for _, r := range res {
		final := r.Report
		if r.Repaired != nil {
			final = r.Repaired
		}
		if !final.OK() {
			return &exitError{Code: 1}
		}
	}
	return nil
}
