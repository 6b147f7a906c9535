package engine

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/analyze"
	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/report"
)

// The read-only views of a port: what its repositories look like
// (Snapshot, Analyze, Dependents) and what it has done (Report). None of
// them builds or stores anything.

// SnapshotOptions choose the databases a snapshot reads.
type SnapshotOptions struct {
	// Refresh downloads the databases again (conditional GETs); false
	// reads the cached copies only.
	Refresh         bool
	UpstreamTesting bool     // overlay the upstream testing repositories
	TargetTesting   bool     // overlay the target testing repositories
	Exclude         []string // blacklist these globs too
}

// Snapshot fetches the Portfile's repository databases (or reads them from
// the cache) and returns them as the planner reads them: the Portfile's
// repositories, blacklist and settings, and its AUR and local packages
// with their recipes. Official sources are not resolved: nothing that
// reads a snapshot needs them.
func (p *Port) Snapshot(ctx context.Context, o SnapshotOptions) (*planner.Input, error) {
	in, _, err := p.snapshot(ctx, o)
	return in, err
}

func (p *Port) snapshot(ctx context.Context, o SnapshotOptions) (*planner.Input, *snapshot, error) {
	st, err := p.Store()
	if err != nil {
		return nil, nil, err
	}
	snap, err := p.fetch(ctx, o.Refresh, o.UpstreamTesting, o.TargetTesting)
	if err != nil {
		return nil, nil, err
	}
	in, err := p.input(PlanOptions{Exclude: o.Exclude}, snap)
	if err != nil {
		return nil, nil, err
	}
	newSources, _, err := p.newSources(ctx, p.resolver(st))
	if err != nil {
		return nil, nil, err
	}
	in.NewSources = newSources
	for _, ns := range newSources {
		in.Sources[ns.Source.Recipe.Pkgbase] = ns.Source
	}
	return in, snap, nil
}

// AnalyzeOptions are the options of Analyze.
type AnalyzeOptions struct {
	Snapshot    SnapshotOptions
	NoBlacklist bool // report blacklisted packages like any other, block nothing
}

// Analyze reports on the health of the port's repositories: what the
// target lacks, has older, misplaced, duplicated, newer or orphaned, its
// broken and unsatisfied dependencies, and what the blacklist blocks.
func (p *Port) Analyze(ctx context.Context, o AnalyzeOptions) (*analyze.Report, error) {
	in, snap, err := p.snapshot(ctx, o.Snapshot)
	if err != nil {
		return nil, err
	}
	// The planner reads indexes, which drop %FILENAME%: target-only
	// packages are listed by file, so read the target's databases whole.
	files := map[string]string{}
	for i, ref := range snap.refs {
		if ref.side != "target" {
			continue
		}
		db, err := syncdb.ReadFile(snap.results[i].Path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref.display, err)
		}
		name := syncdb.RepoName(ref.url)
		for _, pkg := range db.Packages {
			files[name+"/"+pkg.Name] = pkg.Filename
		}
	}
	return analyze.Run(in, analyze.Options{NoBlacklist: o.NoBlacklist, Files: files})
}

// DependentsOptions are the options of Dependents.
type DependentsOptions struct {
	Snapshot SnapshotOptions
	analyze.DependentsOptions
}

// Dependents walks the upstream dependency graph from a pkgname or
// pkgbase: what needs it (and in which order a rebuild would build them),
// or with Forward what it needs.
func (p *Port) Dependents(ctx context.Context, name string, o DependentsOptions) (*analyze.DependentsReport, error) {
	in, err := p.Snapshot(ctx, o.Snapshot)
	if err != nil {
		return nil, err
	}
	return analyze.Dependents(in, name, o.DependentsOptions)
}

// Report reads what the port's HTML report shows from the state store.
func (p *Port) Report(ctx context.Context, o report.LoadOptions) (*report.Data, error) {
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	return report.Load(ctx, st, p.title(), o)
}

// title names the port in reports: its architecture and directory.
func (p *Port) title() string {
	return fmt.Sprintf("%s port (%s)", p.pf.Arch(), filepath.Base(p.pf.Dir))
}
