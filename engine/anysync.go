package engine

// Any-sync: the plan's ARCH=any packages that the target lacks or has
// older are copied from the upstream repository, not built. apply does it
// before any build (a build may need them): each package file is
// downloaded from beside the upstream DB the plan read (from the same
// cached copy, checked by its sha256 against the plan), checked against
// that DB's %CSIZE% and %SHA256SUM%, and published like a built package,
// replacing the version it supersedes.

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/fetch"
	"github.com/portmake/portmake/planner"
	pubrepo "github.com/portmake/portmake/publish"
)

// syncAnyFor runs syncAny with the executor's publisher.
func (p *Port) syncAnyFor(ctx context.Context, o ApplyOptions, ex *executor.Executor, plan *planner.Plan) (int, error) {
	pub, ok := ex.Publisher.(*pubrepo.Publisher)
	if !ok {
		return 0, nil
	}
	return p.syncAny(ctx, o, pub, plan)
}

// syncAny copies the plan's any-sync packages and returns how many
// package files it published (for a dry run, would publish).
func (p *Port) syncAny(ctx context.Context, o ApplyOptions, pub *pubrepo.Publisher, plan *planner.Plan) (int, error) {
	if len(plan.AnySync) == 0 || o.NoUpload {
		return 0, nil
	}
	items, err := p.anyItems(ctx, plan)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, repo := range slices.Sorted(maps.Keys(items)) {
		its := items[repo]
		n += len(its)
		if o.DryRun != nil {
			for _, it := range its {
				fmt.Fprintf(o.DryRun, "# sync %s %s (ARCH=any) to %s\ncurl -fLo %s %s\n", it.Pkg.Name, it.Pkg.Version, repo, it.Pkg.Filename, it.URL())
			}
			continue
		}
		dir, err := os.MkdirTemp(filepath.Join(p.stateDir, "tmp"), "anysync-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		get := func(ctx context.Context, url string, check func(string) error) (string, error) {
			f := &fetch.Fetcher{CacheDir: filepath.Join(p.stateDir, "cache", "anysync"), Log: p.log, Backoff: fetchBackoff(p),
				Check: func(_, path string) error { return check(path) }}
			r, err := f.Fetch(ctx, url)
			if err != nil {
				return "", err
			}
			return r.Path, nil
		}
		files, err := pubrepo.Download(ctx, its, dir, get)
		if err != nil {
			return 0, err
		}
		unlock := pub.Lock(repo)
		_, err = pub.Repo(repo).Publish(ctx, files)
		unlock()
		if err != nil {
			return 0, fmt.Errorf("publish the ARCH=any packages copied from upstream to %s: %w", repo, err)
		}
		p.log.Info("synced ARCH=any packages", "repo", repo, "count", len(files))
	}
	return n, nil
}

// anyItems finds each any-sync pkgbase's packages in the upstream DBs the
// plan read, by the repository they are published to.
func (p *Port) anyItems(ctx context.Context, plan *planner.Plan) (map[string][]pubrepo.SyncItem, error) {
	var upstreamTesting bool
	for _, l := range plan.Meta.MadeFrom {
		upstreamTesting = upstreamTesting || strings.HasPrefix(l, "db upstream-testing:")
	}
	snap, err := p.fetch(ctx, false, upstreamTesting, false)
	if err != nil {
		return nil, err
	}
	read := map[int]*syncdb.DB{}
	out := map[string][]pubrepo.SyncItem{}
	for _, a := range plan.AnySync {
		r := p.pf.Repo(a.Repo)
		if r == nil {
			return nil, fmt.Errorf("any-sync %s: the plan names repository %s, which the Portfile does not have", a.Pkgbase, a.Repo)
		}
		found := false
		// Testing overlays first: the plan took the newer version.
		for _, test := range []bool{true, false} {
			for i, ref := range snap.refs {
				if ref.repo != a.Repo || ref.side != "upstream" || ref.test != test || found {
					continue
				}
				db := read[i]
				if db == nil {
					if db, err = syncdb.ReadFile(snap.results[i].Path); err != nil {
						return nil, fmt.Errorf("%s: %w", fetch.Redact(ref.url), err)
					}
					read[i] = db
				}
				// Package files sit beside the DB on every mirror.
				base := ref.url[:strings.LastIndexByte(ref.url, '/')+1]
				for _, pkg := range db.Packages {
					if pkg.Base == a.Pkgbase && pkg.Version == a.Version {
						out[r.Publish] = append(out[r.Publish], pubrepo.SyncItem{Pkg: pkg, BaseURL: base})
						found = true
					}
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("any-sync %s %s: not in the upstream %s database any more; run portmake plan", a.Pkgbase, a.Version, a.Repo)
		}
	}
	return out, nil
}
