package main

import (
	"fmt"
	"path/filepath"

	"github.com/portmake/portmake/report"
)

// ReportCmd writes the port's HTML report.
type ReportCmd struct {
	Output  string `short:"o" required:"" help:"Directory to write index.html to (created if needed)." placeholder:"DIR"`
	History int    `default:"200" help:"Builds shown in the history table."`
}

func (c *ReportCmd) Run(env *Env, g *Globals) error {
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	d, err := p.Report(env.Ctx, report.LoadOptions{History: c.History})
	if err != nil {
		return err
	}
	if err := report.Write(c.Output, d); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(env.Stdout, "Wrote %s\n", filepath.Join(c.Output, "index.html"))
	return nil
}
