package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/fetch"
	"github.com/portmake/portmake/lang"
	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/sources"
	"github.com/portmake/portmake/store"
)

// buildPlan runs the whole planning pipeline: databases, new sources,
// a first plan to learn which pkgbases need a source, their resolution,
// then the final hashed plan.
//
// When nothing but unreachable hosts kept sources from resolving (no
// network, a packaging host down), the plan is still made, with those
// sources unresolved, and returned with the sources' error as preview: it
// shows what would be built, but it must not be saved or applied.
func (p *Port) buildPlan(ctx context.Context, o PlanOptions, snap *snapshot, res *sources.Resolver, newSources []planner.NewSource, madeFrom []string) (plan *planner.Plan, preview, err error) {
	pf := p.pf
	phase := time.Now()
	lap := func(what string, args ...any) {
		p.log.Debug(what, append(args, "took", time.Since(phase).Round(time.Millisecond))...)
		phase = time.Now()
	}
	in, err := p.input(o, snap)
	if err != nil {
		return nil, nil, err
	}
	in.Meta.MadeFrom = madeFrom
	lap("read repository databases", "dbs", len(snap.refs))
	in.NewSources = newSources
	for _, ns := range newSources {
		in.Sources[ns.Source.Recipe.Pkgbase] = ns.Source
	}

	// Plan first, to learn which pkgbases need a source lookup, then hash
	// the plan again with their resolved sources.
	first, err := planner.Draft(in) // WithSources hashes it below
	if err != nil {
		return nil, nil, err
	}
	lap("first planning pass", "nodes", len(first.Nodes))
	for _, name := range o.UseLatest {
		if len(first.NodesOf(name)) == 0 {
			p.log.Warn("--use-latest names a pkgbase that is not in the plan; it has no effect there", "pkgbase", name)
		}
	}
	// The databases' indexes and the planner's working state are most of
	// what is live by now, and nothing below reads them: let them go, and
	// collect them now rather than let the heap double over them while the
	// sources are resolved and the plan is saved (the peak memory of a
	// full-size plan, issue 13).
	in.Repos = nil
	runtime.GC()
	var reqs []sources.Request
	seen := map[string]bool{}
	for _, n := range first.Nodes {
		if _, ok := in.Sources[n.Pkgbase]; ok || seen[n.Pkgbase] {
			continue
		}
		seen[n.Pkgbase] = true
		q := sources.Request{Pkgbase: n.Pkgbase, Version: n.Version, Kind: sources.Official}
		if ov := pf.Package(n.Pkgbase); ov != nil {
			q.Kind, q.Branch, q.Tag, q.Commit = sources.Override, ov.Branch, ov.Tag, ov.Commit
			if !ov.Git.IsZero() {
				q.Git = ov.Git.String()
			}
		} else if o.latest(n.Pkgbase) {
			// The packaging repository's HEAD: an override with no ref
			// and no version. The node hashes the commit it resolves to.
			q.Kind, q.Version = sources.Override, ""
		}
		reqs = append(reqs, q)
	}
	official := make(map[string]planner.Source, len(reqs))
	if len(reqs) > 0 {
		resolved, err := res.Resolve(ctx, reqs)
		if err != nil {
			var ue *sources.UnresolvedError
			if !errors.As(err, &ue) || !ue.OnlyNetwork() {
				return nil, nil, err
			}
			preview = err
		}
		for _, r := range resolved {
			if r.Commit == "" {
				continue // unresolved: its node is hashed as such
			}
			src := planner.Source{Kind: planner.SourceKind(r.Kind.String()), URL: fetch.Redact(r.URL), Ref: r.Ref, Commit: r.Commit}
			if src.Patches, err = patchRefs(pf.Package(r.Pkgbase)); err != nil {
				return nil, nil, err
			}
			official[r.Pkgbase] = src
		}
	}
	lap("resolve official sources", "count", len(reqs))
	plan, err = planner.WithSources(first, official)
	lap("hash with sources")
	return plan, preview, err
}

// input reads the fetched databases' indexes into a planner input with the
// Portfile's settings and the options; sources and what the plan is made
// from are left to the caller.
func (p *Port) input(o PlanOptions, snap *snapshot) (*planner.Input, error) {
	pf := p.pf
	dbs, err := snap.read(p.indexCacheDir())
	if err != nil {
		return nil, err
	}
	in := &planner.Input{
		Arch:         pf.Arch(),
		UpstreamArch: pf.Port.UpstreamArch,
		Overrides:    map[string]planner.Override{},
		Sources:      map[string]planner.Source{},
		Options: planner.Options{
			Packages: o.Packages, RebuildRepos: o.RebuildRepo, PreserveOrder: o.PreserveOrder,
			SingleStage: o.SingleStage, Bootstrap: o.Bootstrap, Missing: o.Missing, NoCheck: o.NoCheck || pf.Build.NoCheck,
			Exclude: o.Exclude, AllowDowngrade: o.AllowDowngrade,
			RebuildDependents: o.RebuildDependents, DependentsDepth: o.DependentsDepth,
		},
		Bootstrap: lang.Names(pf.Build.Bootstrap),
		Meta: planner.Meta{
			PortfileHash: pf.Hash,
			CommandLine:  o.Flags(),
		},
	}
	for _, r := range pf.Repos {
		in.Repos = append(in.Repos, planner.RepoPair{Name: r.Name, Publish: r.Publish})
	}
	for i, ref := range snap.refs {
		repo := &planner.Repo{Name: syncdb.RepoName(ref.url), URL: ref.display, Packages: dbs[i].Packages}
		rp := &in.Repos[ref.pair]
		switch {
		case ref.side == "upstream" && !ref.test:
			rp.Upstream = repo
		case ref.side == "upstream":
			rp.UpstreamTesting = repo
		case !ref.test:
			rp.Target = repo
		default:
			rp.TargetTesting = repo
		}
		in.Meta.DBs = append(in.Meta.DBs, planner.DBChecksum{Repo: repo.Name, Side: ref.side, URL: ref.display, SHA256: snap.results[i].SHA256})
	}
	for _, e := range pf.Blacklist.Entries {
		in.Blacklist = append(in.Blacklist, planner.BlacklistEntry{Pattern: e.Pattern, Reason: e.Reason,
			Origin: fmt.Sprintf("%s:%d", filepath.Base(e.Range.Filename), e.Range.Start.Line)})
	}
	for _, ov := range pf.Packages {
		in.Overrides[ov.Name] = planner.Override{Nocheck: ov.NoCheck, Nointeg: ov.NoInteg, Group: ov.Group}
	}
	if in.BuildEnv, err = buildEnv(pf); err != nil {
		return nil, err
	}
	return in, nil
}

func buildEnv(pf *lang.Portfile) (planner.BuildEnv, error) {
	mk, err := os.ReadFile(pf.MakepkgConf())
	if err != nil {
		return planner.BuildEnv{}, err
	}
	pc, err := os.ReadFile(pf.PacmanConf())
	if err != nil {
		return planner.BuildEnv{}, err
	}
	return planner.BuildEnv{MakepkgConf: mk, PacmanConf: pc, Builder: pf.Build.Builder, MakepkgArgs: pf.Build.MakepkgArgs}, nil
}

func patchRefs(o *lang.PackageOverride) ([]planner.PatchRef, error) {
	if o == nil {
		return nil, nil
	}
	var refs []planner.PatchRef
	for _, pt := range o.Patches {
		for _, file := range pt.Files {
			data, err := os.ReadFile(file)
			if err != nil {
				return nil, fmt.Errorf("package %q: patch: %w", o.Name, err)
			}
			sum := sha256.Sum256(data)
			refs = append(refs, planner.PatchRef{Name: filepath.Base(file), SHA256: hex.EncodeToString(sum[:])})
		}
	}
	return refs, nil
}

func (p *Port) resolver(st *store.Store) *sources.Resolver {
	pf := p.pf
	r := &sources.Resolver{
		Packaging: pf.Sources.Packaging,
		CacheDir:  filepath.Join(p.stateDir, "cache", "src"),
		Cache:     storeCache{st},
		Log:       p.log,
		// A local PKGBUILD without .SRCINFO is evaluated in the sandbox.
		PrintSrcinfo: p.printSrcinfo,
	}
	if !pf.Sources.State.IsZero() {
		r.State = pf.Sources.State.String()
		for _, repo := range pf.Repos {
			if !repo.PortOnly() {
				r.StateRepos = append(r.StateRepos, repo.Name+"-"+pf.Port.UpstreamArch)
			}
		}
	}
	if pf.AUR != nil {
		r.AURURL = pf.AUR.URL.String()
	}
	return r
}

// newSources resolves the AUR and local packages: their .SRCINFO gives
// the version and dependencies the planner compares with the target.
// files holds the entries of each local tree, for the made-from lines.
func (p *Port) newSources(ctx context.Context, res *sources.Resolver) (_ []planner.NewSource, files map[string][]sources.TreeFile, err error) {
	pf := p.pf
	var reqs []sources.Request
	repoOf := map[string]string{}
	if pf.AUR != nil {
		for _, name := range lang.Names(pf.AUR.Packages) {
			reqs = append(reqs, sources.Request{Pkgbase: name, Kind: sources.AUR})
			repoOf[name] = pf.AUR.Repo
		}
	}
	if pf.Local != nil {
		bases, err := pf.Local.Pkgbases()
		if err != nil {
			return nil, nil, err
		}
		for _, name := range bases {
			reqs = append(reqs, sources.Request{Pkgbase: name, Kind: sources.Local, Dir: filepath.Join(pf.Local.Path.Path, name)})
			repoOf[name] = pf.Local.Repo
		}
	}
	if len(reqs) == 0 {
		return nil, nil, nil
	}
	resolved, err := res.Resolve(ctx, reqs)
	if err != nil {
		return nil, nil, err
	}
	files = map[string][]sources.TreeFile{}
	arch := pf.Arch()
	out := make([]planner.NewSource, 0, len(resolved))
	for _, r := range resolved {
		recipe := &planner.Recipe{Pkgbase: r.Pkgbase, Version: r.Srcinfo.Version()}
		for _, sp := range r.Srcinfo.ForArch(arch) {
			recipe.Packages = append(recipe.Packages, planner.SplitPackage{Name: sp.Name, Arch: sp.Arch,
				Depends: sp.Depends, MakeDepends: sp.MakeDepends, CheckDepends: sp.CheckDepends, Provides: sp.Provides})
		}
		src := planner.Source{Kind: planner.SourceKind(r.Kind.String()), URL: fetch.Redact(r.URL), Ref: r.Ref,
			Commit: r.Commit, TreeHash: r.TreeHash, Recipe: recipe}
		if src.Patches, err = patchRefs(pf.Package(r.Pkgbase)); err != nil {
			return nil, nil, err
		}
		files[r.Pkgbase] = r.Files
		out = append(out, planner.NewSource{Repo: repoOf[r.Pkgbase], Source: src})
	}
	return out, files, nil
}

// storeCache keeps source resolutions (a tag's commit) in the state DB so
// that a re-plan makes no network calls for them.
type storeCache struct{ st *store.Store }

func (c storeCache) Get(ctx context.Context, key string) (string, bool, error) {
	r, err := c.st.SourceResolution(ctx, key)
	if err != nil || r == nil {
		return "", false, err
	}
	return r.Commit, true, nil
}

func (c storeCache) Put(ctx context.Context, key, value string) error {
	return c.st.SaveSourceResolution(ctx, &store.Resolution{Key: key, Commit: value})
}
