package main

import (
	"fmt"
	"io"
	"os"

	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/ui"
)

// LogsCmd prints or follows the latest build log of a pkgbase.
type LogsCmd struct {
	Package string `arg:"" help:"pkgbase."`
	Follow  bool   `short:"F" name:"follow" help:"Keep printing as the build writes (until its footer)."`
}

func (c *LogsCmd) Run(env *Env, g *Globals) error {
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	path, err := p.LatestLog(c.Package)
	if err != nil {
		return err
	}
	if c.Follow {
		return engine.FollowLog(env.Ctx, path, env.Stdout)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(env.Stdout, f)
	return err
}

// StatusCmd shows the current or last apply and its builds.
type StatusCmd struct {
	JSON bool `help:"Print the apply and its builds as a JSON object."`
}

func (c *StatusCmd) Run(env *Env, g *Globals) error {
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	s, err := p.Status(env.Ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return ui.WriteStatusJSON(env.Stdout, s)
	}
	if s.Apply == nil {
		fmt.Fprintln(env.Stdout, "No apply yet.")
		return nil
	}
	ui.WriteApply(env.Stdout, s.Apply)
	ui.WriteBuilds(env.Stdout, s.Builds)
	return nil
}

// HistoryCmd shows past builds.
type HistoryCmd struct {
	Package string `arg:"" optional:"" help:"Only this pkgbase."`
	Limit   int    `default:"50" help:"Show at most this many builds (0: all)."`
	JSON    bool   `help:"Print the builds as a JSON array."`
}

func (c *HistoryCmd) Run(env *Env, g *Globals) error {
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	builds, err := p.History(env.Ctx, c.Package, c.Limit)
	if err != nil {
		return err
	}
	if c.JSON {
		return ui.WriteBuildsJSON(env.Stdout, builds)
	}
	if len(builds) == 0 {
		fmt.Fprintln(env.Stdout, "No builds yet.")
		return nil
	}
	ui.WriteBuilds(env.Stdout, builds)
	return nil
}
