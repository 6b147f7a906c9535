package main

import (
	"github.com/portmake/portmake/analyze"
	"github.com/portmake/portmake/engine"
)

// SnapshotFlags choose the databases that analyze and dependents read.
type SnapshotFlags struct {
	Refresh         bool     `default:"true" negatable:"" help:"Download repository databases (--no-refresh reads the cache only)."`
	UpstreamTesting bool     `name:"upstream-testing" help:"Overlay the upstream testing repositories."`
	TargetTesting   bool     `name:"target-testing" help:"Overlay the target testing repositories."`
	Exclude         []string `sep:"," help:"Blacklist these globs too." placeholder:"GLOB"`
}

func (f *SnapshotFlags) options() engine.SnapshotOptions {
	return engine.SnapshotOptions{Refresh: f.Refresh, UpstreamTesting: f.UpstreamTesting, TargetTesting: f.TargetTesting, Exclude: f.Exclude}
}

// AnalyzeCmd reports on the health of the port's repositories.
type AnalyzeCmd struct {
	SnapshotFlags
	Section         []string `sep:"," enum:"missing,outdated,any-missing,any-outdated,wrong-repo,duplicates,target-newer,target-only,orphaned,broken,unsatisfied,blacklist" help:"Show only these sections: missing, outdated, any-missing, any-outdated, wrong-repo, duplicates, target-newer, target-only, orphaned, broken, unsatisfied, blacklist." placeholder:"SECTION"`
	Limit           int      `default:"20" help:"Items shown per list (0: all)."`
	Summary         bool     `help:"Show the counts only."`
	JSON            bool     `help:"Print the whole report as JSON (format portmake.analyze/v1)."`
	NoBlacklist     bool     `name:"no-blacklist" help:"Ignore the blacklist: report blacklisted packages like the others."`
	TargetOnlyFiles bool     `name:"target-only-files" help:"Print only the file names of the target-only packages, one per line (to clean a repository)."`
	OrphanedFiles   bool     `name:"orphaned-files" help:"Print only the file names of the orphaned packages, one per line."`
}

func (c *AnalyzeCmd) Run(env *Env, g *Globals) error {
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	r, err := p.Analyze(env.Ctx, engine.AnalyzeOptions{Snapshot: c.options(), NoBlacklist: c.NoBlacklist})
	if err != nil {
		return err
	}
	switch {
	case c.TargetOnlyFiles || c.OrphanedFiles:
		return analyze.RenderFiles(env.Stdout, r, c.OrphanedFiles && !c.TargetOnlyFiles)
	case c.JSON:
		return analyze.RenderJSON(env.Stdout, r)
	}
	return analyze.RenderHuman(env.Stdout, r, analyze.HumanOptions{Sections: c.Section, Limit: c.Limit, Summary: c.Summary})
}
