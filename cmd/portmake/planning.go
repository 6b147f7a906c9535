package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/fetch"
	"github.com/portmake/portmake/lang"
	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/planner/view"
	"github.com/portmake/portmake/sources"
	"github.com/portmake/portmake/store"
)

// PlanFlags are the planning options shared by plan and apply.
type PlanFlags struct {
	Refresh         bool     `default:"true" negatable:"" help:"Download repository databases (--no-refresh or --refresh=false plans from the cache only)."`
	UpstreamTesting bool     `name:"upstream-testing" help:"Overlay the upstream testing repositories."`
	TargetTesting   bool     `name:"target-testing" help:"Overlay the target testing repositories."`
	Packages        []string `short:"p" sep:"," help:"Force these pkgnames or pkgbases into the plan." placeholder:"PKG"`
	RebuildRepo     []string `name:"rebuild-repo" sep:"," help:"Rebuild every pkgbase of these repositories." placeholder:"REPO"`
	PreserveOrder   bool     `name:"preserve-order" help:"Build the --packages in command-line order."`
	SingleStage     bool     `name:"single-stage" help:"Build each dependency cycle once instead of twice."`
	Bootstrap       bool     `help:"Plan the build.bootstrap toolchain as its own staged sub-plan."`
	Missing         bool     `help:"List upstream pkgbases that the target lacks."`
	NoCheck         bool     `name:"nocheck" help:"Ignore checkdepends and build everything with --nocheck."`
	Exclude         []string `sep:"," help:"Blacklist these globs for this run." placeholder:"GLOB"`
	AllowDowngrade  bool     `name:"allow-downgrade" help:"Let a missing dependency (and --rebuild-repo) plan an upstream version older than the target's."`
}

// session is an opened Portfile with its store.
type session struct {
	pf       *lang.Portfile
	st       *store.Store
	stateDir string
}

func openSession(env *Env, g *Globals) (*session, error) {
	pf, err := loadPortfile(env, g)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(pf.StatePath())
	if err != nil {
		return nil, err
	}
	st.Log = env.Log
	return &session{pf: pf, st: st, stateDir: filepath.Dir(pf.StatePath())}, nil
}

func (s *session) Close() error { return s.st.Close() }

// dbRef is one repository database a plan reads.
type dbRef struct {
	pair int    // index into pf.Repos
	side string // "upstream" or "target"
	test bool   // a testing overlay
	url  string
}

func (s *session) dbRefs(f *PlanFlags) []dbRef {
	var refs []dbRef
	for i, r := range s.pf.Repos {
		add := func(side string, test bool, loc lang.Location) {
			if !loc.IsZero() {
				refs = append(refs, dbRef{pair: i, side: side, test: test, url: loc.String()})
			}
		}
		add("upstream", false, r.Upstream)
		if f.UpstreamTesting {
			add("upstream", true, r.UpstreamTesting)
		}
		add("target", false, r.Target)
		if f.TargetTesting {
			add("target", true, r.TargetTesting)
		}
	}
	return refs
}

// fetchDBs downloads (or revalidates) every database and reads it. Any
// failure is an error that names the URL: a plan is never made from a
// repository that silently went missing.
func (s *session) fetchDBs(ctx context.Context, env *Env, f *PlanFlags) ([]dbRef, []*fetch.Result, error) {
	refs := s.dbRefs(f)
	urls := make([]string, len(refs))
	for i, r := range refs {
		urls[i] = r.url
	}
	fe := &fetch.Fetcher{CacheDir: filepath.Join(s.stateDir, "cache", "db"), Offline: !f.Refresh, Log: env.Log,
		Check:   checkDB,
		Backoff: fetchBackoff(env)}
	results, err := fe.FetchAll(ctx, urls, 8)
	if err != nil {
		return nil, nil, err
	}
	return refs, results, nil
}

// readDBs reads the fetched databases' indexes (what planning needs of
// them), in parallel, from the index cache when a database is unchanged.
func (s *session) readDBs(refs []dbRef, results []*fetch.Result) ([]*syncdb.Index, error) {
	dbs := make([]*syncdb.Index, len(refs))
	errs := make([]error, len(refs))
	done := make(chan int)
	cache := filepath.Join(s.stateDir, "cache", "index")
	for i := range refs {
		go func() {
			db, err := syncdb.LoadIndex(results[i].Path, results[i].SHA256, cache)
			if err != nil {
				err = fmt.Errorf("%s: %w", fetch.Redact(refs[i].url), err)
			}
			dbs[i], errs[i] = db, err
			done <- i
		}()
	}
	for range refs {
		<-done
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return dbs, nil
}

// fetchBackoff reads the hidden PORTMAKE_FETCH_BACKOFF (a Go duration such
// as "1ms"): the base delay between download retries. It is not a flag
// because a user has no reason to change it; it exists so that the
// testscript scenarios of failing mirrors do not wait seconds per retry.
// Zero (unset) keeps fetch.DefaultBackoff.
func fetchBackoff(env *Env) time.Duration {
	v := os.Getenv("PORTMAKE_FETCH_BACKOFF")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		env.Log.Warn("ignoring PORTMAKE_FETCH_BACKOFF: want a positive duration such as 10ms", "value", v)
		return 0
	}
	return d
}

// checkDB parses a downloaded database before fetch lets it replace the
// cached copy, so a file cut short never displaces a good one.
func checkDB(url, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = syncdb.Read(f, url)
	return err
}

// plan returns the plan for the current inputs, and its stored id. Like a
// build system it first computes a key over every input the plan depends
// on (the Portfile hash, the flags, each database's checksum, the AUR and
// local sources' identities and the state repository's head); when the
// latest stored plan was made from the same key, that plan is returned as
// it is (reused = true) instead of being recomputed. Otherwise it plans
// and saves the result.
func (s *session) plan(env *Env, f *PlanFlags) (p *planner.Plan, id int64, reused bool, err error) {
	ctx := env.Ctx
	start := time.Now()
	refs, results, err := s.fetchDBs(ctx, env, f)
	if err != nil {
		return nil, 0, false, err
	}
	res := s.resolver(env)
	newSources, err := s.newSources(ctx, res, s.pf.Arch())
	if err != nil {
		return nil, 0, false, err
	}
	key, memoOK := s.memoKey(ctx, f, refs, results, newSources)
	memoPath := filepath.Join(s.stateDir, "plan.memo")
	if memoOK {
		if data, err := os.ReadFile(memoPath); err == nil {
			k, idText, _ := strings.Cut(strings.TrimSpace(string(data)), " ")
			if stored, err := strconv.ParseInt(idText, 10, 64); err == nil && k == key {
				if p, id, err := s.loadPlan(ctx, stored); err == nil {
					env.Log.Debug("inputs unchanged: reusing plan", "id", id, "took", time.Since(start).Round(time.Millisecond))
					return p, id, true, nil
				}
			}
		}
	}
	p, err = s.buildPlan(env, f, refs, results, res, newSources)
	if err != nil {
		return nil, 0, false, err
	}
	saveStart := time.Now()
	if id, err = s.savePlan(ctx, p, view.SummaryLine(p)); err != nil {
		return nil, 0, false, fmt.Errorf("save plan: %w", err)
	}
	env.Log.Debug("save plan", "id", id, "took", time.Since(saveStart).Round(time.Millisecond))
	if memoOK {
		// The memo only ever names a plan that is already saved; losing it
		// costs a recomputation, nothing more.
		if err := os.WriteFile(memoPath, fmt.Appendf(nil, "%s %d\n", key, id), 0o644); err != nil {
			env.Log.Warn("write plan memo", "err", err)
		}
	}
	return p, id, false, nil
}

// memoKey hashes every input of a plan. ok is false when an input cannot be
// pinned without planning: an override that follows a branch.
func (s *session) memoKey(ctx context.Context, f *PlanFlags, refs []dbRef, results []*fetch.Result, newSources []planner.NewSource) (string, bool) {
	for _, o := range s.pf.Packages {
		if o.Branch != "" || (!o.Git.IsZero() && o.Tag == "" && o.Commit == "") {
			return "", false
		}
	}
	h := sha256.New()
	// Refresh only says where the databases come from; their checksums
	// are in the key.
	noRefresh := *f
	noRefresh.Refresh = true
	flags, _ := json.Marshal(noRefresh)
	fmt.Fprintf(h, "portmake-plan-memo-v1\nportfile %s\nflags %s\n", s.pf.Hash, flags)
	for i, r := range refs {
		fmt.Fprintf(h, "db %s %t %s %s\n", r.side, r.test, r.url, results[i].SHA256)
	}
	for _, ns := range newSources {
		src := ns.Source
		fmt.Fprintf(h, "source %s %s %s %s %s %s\n", ns.Repo, src.Recipe.Pkgbase, src.Kind, src.Commit, src.TreeHash, src.Recipe.Version)
		for _, p := range src.Patches {
			fmt.Fprintf(h, "patch %s %s\n", p.Name, p.SHA256)
		}
	}
	for _, o := range s.pf.Packages {
		refs, err := patchRefs(o)
		if err != nil {
			return "", false
		}
		for _, p := range refs {
			fmt.Fprintf(h, "override-patch %s %s %s\n", o.Name, p.Name, p.SHA256)
		}
	}
	if !s.pf.Sources.State.IsZero() {
		head, err := stateHead(ctx, s.pf.Sources.State.String())
		if err != nil {
			return "", false
		}
		fmt.Fprintf(h, "state %s\n", head)
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

// stateHead asks the state repository for the commit its HEAD points at.
func stateHead(ctx context.Context, url string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", "ls-remote", url, "HEAD")
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	head, _, _ := strings.Cut(string(out), "\t")
	if len(head) < 40 {
		return "", fmt.Errorf("ls-remote %s: no HEAD", fetch.Redact(url))
	}
	return head, nil
}

// buildPlan runs the whole planning pipeline: databases, new sources,
// a first plan to learn which pkgbases need a source, their resolution,
// then the final hashed plan.
func (s *session) buildPlan(env *Env, f *PlanFlags, refs []dbRef, results []*fetch.Result, res *sources.Resolver, newSources []planner.NewSource) (*planner.Plan, error) {
	ctx := env.Ctx
	pf := s.pf
	phase := time.Now()
	lap := func(what string, args ...any) {
		env.Log.Debug(what, append(args, "took", time.Since(phase).Round(time.Millisecond))...)
		phase = time.Now()
	}
	dbs, err := s.readDBs(refs, results)
	if err != nil {
		return nil, err
	}
	in := &planner.Input{
		Arch:         pf.Arch(),
		UpstreamArch: pf.Port.UpstreamArch,
		Overrides:    map[string]planner.Override{},
		Sources:      map[string]planner.Source{},
		Options: planner.Options{
			Packages: f.Packages, RebuildRepos: f.RebuildRepo, PreserveOrder: f.PreserveOrder,
			SingleStage: f.SingleStage, Bootstrap: f.Bootstrap, Missing: f.Missing, NoCheck: f.NoCheck || pf.Build.NoCheck,
			Exclude: f.Exclude, AllowDowngrade: f.AllowDowngrade,
		},
		Bootstrap: lang.Names(pf.Build.Bootstrap),
		Meta: planner.Meta{
			PortfileHash: pf.Hash,
			CommandLine:  os.Args,
		},
	}
	for _, r := range pf.Repos {
		in.Repos = append(in.Repos, planner.RepoPair{Name: r.Name, Publish: r.Publish})
	}
	for i, ref := range refs {
		repo := &planner.Repo{Name: syncdb.RepoName(ref.url), URL: fetch.Redact(ref.url), Packages: dbs[i].Packages}
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
		in.Meta.DBs = append(in.Meta.DBs, planner.DBChecksum{Repo: repo.Name, Side: ref.side, URL: fetch.Redact(ref.url), SHA256: results[i].SHA256})
	}
	for _, e := range pf.Blacklist.Entries {
		in.Blacklist = append(in.Blacklist, planner.BlacklistEntry{Pattern: e.Pattern, Reason: e.Reason,
			Origin: fmt.Sprintf("%s:%d", filepath.Base(e.Range.Filename), e.Range.Start.Line)})
	}
	for _, o := range pf.Packages {
		in.Overrides[o.Name] = planner.Override{Nocheck: o.NoCheck, Group: o.Group}
	}
	if in.BuildEnv, err = buildEnv(pf); err != nil {
		return nil, err
	}

	lap("read repository databases", "dbs", len(dbs))
	in.NewSources = newSources
	for _, ns := range newSources {
		in.Sources[ns.Source.Recipe.Pkgbase] = ns.Source
	}

	// Plan first, to learn which pkgbases need a source lookup, then hash
	// the plan again with their resolved sources.
	first, err := planner.Build(in)
	if err != nil {
		return nil, err
	}
	lap("first planning pass", "nodes", len(first.Nodes))
	var reqs []sources.Request
	seen := map[string]bool{}
	for _, n := range first.Nodes {
		if _, ok := in.Sources[n.Pkgbase]; ok || seen[n.Pkgbase] {
			continue
		}
		seen[n.Pkgbase] = true
		q := sources.Request{Pkgbase: n.Pkgbase, Version: n.Version, Kind: sources.Official}
		if o := pf.Package(n.Pkgbase); o != nil {
			q.Kind, q.Branch, q.Tag, q.Commit = sources.Override, o.Branch, o.Tag, o.Commit
			if !o.Git.IsZero() {
				q.Git = o.Git.String()
			}
		}
		reqs = append(reqs, q)
	}
	official := make(map[string]planner.Source, len(reqs))
	if len(reqs) > 0 {
		resolved, err := res.Resolve(ctx, reqs)
		if err != nil {
			return nil, err
		}
		for _, r := range resolved {
			src := planner.Source{Kind: planner.SourceKind(r.Kind.String()), URL: fetch.Redact(r.URL), Ref: r.Ref, Commit: r.Commit}
			if src.Patches, err = patchRefs(pf.Package(r.Pkgbase)); err != nil {
				return nil, err
			}
			official[r.Pkgbase] = src
		}
	}
	lap("resolve official sources", "count", len(reqs))
	p, err := planner.WithSources(first, official)
	lap("hash with sources")
	return p, err
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
	return planner.BuildEnv{MakepkgConf: mk, PacmanConf: pc, Builder: pf.Build.Builder}, nil
}

func patchRefs(o *lang.PackageOverride) ([]planner.PatchRef, error) {
	if o == nil {
		return nil, nil
	}
	var refs []planner.PatchRef
	for _, p := range o.Patches {
		for _, file := range p.Files {
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

func (s *session) resolver(env *Env) *sources.Resolver {
	pf := s.pf
	r := &sources.Resolver{
		Packaging: pf.Sources.Packaging,
		CacheDir:  filepath.Join(s.stateDir, "cache", "src"),
		Cache:     storeCache{s.st},
		Log:       env.Log,
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
func (s *session) newSources(ctx context.Context, res *sources.Resolver, arch string) ([]planner.NewSource, error) {
	pf := s.pf
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
			return nil, err
		}
		for _, name := range bases {
			reqs = append(reqs, sources.Request{Pkgbase: name, Kind: sources.Local, Dir: filepath.Join(pf.Local.Path.Path, name)})
			repoOf[name] = pf.Local.Repo
		}
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	resolved, err := res.Resolve(ctx, reqs)
	if err != nil {
		return nil, err
	}
	out := make([]planner.NewSource, 0, len(resolved))
	for _, r := range resolved {
		recipe := &planner.Recipe{Pkgbase: r.Pkgbase, Version: r.Srcinfo.Version()}
		for _, p := range r.Srcinfo.ForArch(arch) {
			recipe.Packages = append(recipe.Packages, planner.SplitPackage{Name: p.Name, Arch: p.Arch,
				Depends: p.Depends, MakeDepends: p.MakeDepends, CheckDepends: p.CheckDepends, Provides: p.Provides})
		}
		src := planner.Source{Kind: planner.SourceKind(r.Kind.String()), URL: fetch.Redact(r.URL), Ref: r.Ref,
			Commit: r.Commit, TreeHash: r.TreeHash, Recipe: recipe}
		var err error
		if src.Patches, err = patchRefs(pf.Package(r.Pkgbase)); err != nil {
			return nil, err
		}
		out = append(out, planner.NewSource{Repo: repoOf[r.Pkgbase], Source: src})
	}
	return out, nil
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

// savePlan stores p and returns its id.
func (s *session) savePlan(ctx context.Context, p *planner.Plan, summary string) (int64, error) {
	sp := &store.Plan{
		PortfileHash: p.Meta.PortfileHash,
		CommandLine:  strings.Join(p.Meta.CommandLine, " "),
		Arch:         p.Arch,
		Summary:      summary,
		EncodeDoc:    func() ([]byte, error) { return planner.Encode(p) },
	}
	for _, d := range p.Meta.DBs {
		sp.Inputs = append(sp.Inputs, store.Input{Kind: "db:" + d.Side, Name: d.Repo, URL: d.URL, SHA256: d.SHA256})
	}
	for _, n := range p.Nodes {
		sp.Nodes = append(sp.Nodes, store.Node{Pkgbase: n.Pkgbase, Version: n.Version, Current: n.Current, Repo: n.Repo,
			Reason: n.Reason.Kind.String(), ReasonDetail: n.Reason.Detail, Stage: n.Stage, Cycle: n.Cycle,
			Hash: n.Hash, Priority: n.Priority})
		for _, d := range n.Deps {
			kinds := make([]string, len(d.Kinds))
			for i, k := range d.Kinds {
				kinds[i] = k.String()
			}
			sort.Strings(kinds)
			sp.Edges = append(sp.Edges, store.Edge{From: n.ID, To: d.ID, Kind: strings.Join(kinds, ",")})
		}
	}
	return s.st.SavePlan(ctx, sp)
}

// loadPlan returns a stored plan (id <= 0: the latest).
func (s *session) loadPlan(ctx context.Context, id int64) (*planner.Plan, int64, error) {
	sp, err := s.st.PlanDoc(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			if id <= 0 {
				return nil, 0, errors.New("no stored plan: run portmake plan first")
			}
			return nil, 0, fmt.Errorf("no plan with id %d (see portmake plans)", id)
		}
		return nil, 0, err
	}
	p, err := planner.Decode(sp.Doc)
	if err != nil {
		return nil, 0, fmt.Errorf("plan %d: %w", sp.ID, err)
	}
	return p, sp.ID, nil
}
