package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/portmake/portmake/alpm/srcinfo"
	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/planner/view"
	"github.com/portmake/portmake/store"
)

// ApplyCmd builds the stale nodes of a plan and publishes them.
type ApplyCmd struct {
	PlanFlags
	PlanID           int64    `arg:"" optional:"" name:"plan-id" help:"Apply this stored plan (refused when stale) instead of planning now."`
	AutoApprove      bool     `name:"auto-approve" help:"Do not ask for confirmation."`
	Jobs             int      `short:"j" help:"Concurrent builds (default: build.jobs)."`
	Replace          []string `sep:"," help:"Rebuild these pkgbases even when a published build with the same hash exists." placeholder:"PKG"`
	Target           []string `sep:"," help:"Build only these pkgbases and what they need." placeholder:"PKG"`
	StopOnFailure    bool     `name:"stop-on-failure" help:"Stop starting builds after the first failure (default: keep going)."`
	KeepGoing        bool     `name:"keep-going" help:"Keep building everything independent of a failure (the default)."`
	RetryFailed      bool     `name:"retry-failed" help:"Retry builds that failed before with the same hash."`
	NoUpload         bool     `name:"no-upload" help:"Build without publishing."`
	DryRun           bool     `name:"dry-run" help:"Print the builder and publish commands instead of running them."`
	PreserveChroot   bool     `name:"preserve-chroot" help:"Keep every build's working copy."`
	CleanupOnFailure bool     `name:"cleanup-on-failure" help:"Remove the working copy of failed builds too."`
}

func (c *ApplyCmd) Run(env *Env, g *Globals) error {
	if c.StopOnFailure && c.KeepGoing {
		return errors.New("apply: --stop-on-failure and --keep-going contradict each other")
	}
	s, err := openSession(env, g)
	if err != nil {
		return err
	}
	defer s.Close()
	ctx := env.Ctx

	if !c.DryRun {
		if _, err := s.st.RecoverInterrupted(ctx); err != nil {
			return err
		}
		release, err := s.st.Lock(ctx, os.Getpid(), time.Now())
		if err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		defer release()
	}

	p, planID, err := c.plan(env, s)
	if err != nil {
		return err
	}
	// Each build records its hash inputs, for explain after the plan is
	// gone; a stored plan keeps them only implicitly.
	if err := p.RestoreHashInputs(); err != nil {
		return fmt.Errorf("plan %d: %w", planID, err)
	}
	nodes, err := selectNodes(p, c.Target, c.Exclude)
	if err != nil {
		return err
	}
	if len(nodes) == 0 {
		fmt.Fprintln(env.Stdout, "Nothing to build.")
		return nil
	}
	if c.PlanID == 0 && !c.DryRun && !c.AutoApprove {
		ok, err := confirm(env)
		if err != nil {
			return err
		}
		if !ok {
			return &exitError{Code: 1, Err: errors.New("apply cancelled")}
		}
	}

	ex, err := c.executor(env, s, p, nodes)
	if err != nil {
		return err
	}
	jobs := jobsFor(s, nodes)
	var applyID int64
	if !c.DryRun {
		if applyID, err = s.st.StartApply(context.WithoutCancel(ctx), planID, os.Getpid()); err != nil {
			return err
		}
		ex.Recorder.(*recorder).applyID = applyID
	}
	sum, runErr := ex.Run(ctx, jobs)
	if !c.DryRun {
		status := store.StatusSucceeded
		switch {
		case runErr != nil || ctx.Err() != nil:
			status = store.StatusAborted
		case sum != nil && !sum.OK():
			status = store.StatusFailed
		}
		if err := s.st.FinishApply(context.WithoutCancel(ctx), applyID, status); err != nil {
			return err
		}
	}
	if runErr != nil {
		return runErr
	}
	if !sum.OK() {
		return &exitError{Code: 1}
	}
	return nil
}

// plan returns the plan to apply: a stored one (refused when stale) or a
// fresh one, shown first.
func (c *ApplyCmd) plan(env *Env, s *session) (*planner.Plan, int64, error) {
	if c.PlanID != 0 {
		p, id, err := s.loadPlan(env.Ctx, c.PlanID)
		if err != nil {
			return nil, 0, err
		}
		if err := s.checkFresh(env, p, &c.PlanFlags); err != nil {
			return nil, 0, err
		}
		return p, id, nil
	}
	p, id, reused, err := s.plan(env, &c.PlanFlags)
	if err != nil {
		return nil, 0, err
	}
	if err := view.RenderHuman(env.Stdout, p); err != nil {
		return nil, 0, err
	}
	fmt.Fprintf(env.Stdout, "\n%s\n", savedLine(id, reused))
	return p, id, nil
}

// checkFresh refuses a stored plan whose Portfile or databases changed.
func (s *session) checkFresh(env *Env, p *planner.Plan, f *PlanFlags) error {
	if p.Meta.PortfileHash != s.pf.Hash {
		return errors.New("plan is stale: the Portfile changed since it was made; run portmake plan")
	}
	flags := *f
	flags.UpstreamTesting, flags.TargetTesting = false, false
	for _, d := range p.Meta.DBs {
		if strings.HasSuffix(d.Repo, "-testing") {
			flags.UpstreamTesting = flags.UpstreamTesting || d.Side == "upstream"
			flags.TargetTesting = flags.TargetTesting || d.Side == "target"
		}
	}
	_, results, err := s.fetchDBs(env.Ctx, env, &flags)
	if err != nil {
		return err
	}
	now := map[string]string{}
	for _, r := range results {
		now[r.URL] = r.SHA256
	}
	for _, d := range p.Meta.DBs {
		if now[d.URL] != d.SHA256 {
			return fmt.Errorf("plan is stale: %s changed since it was made; run portmake plan", d.URL)
		}
	}
	return nil
}

// selectNodes applies --target (the named pkgbases and what they need)
// and --exclude (globs; dependents of an excluded node go too).
func selectNodes(p *planner.Plan, targets, excludes []string) ([]*planner.Node, error) {
	keep := map[string]bool{}
	if len(targets) > 0 {
		var visit func(n *planner.Node)
		visit = func(n *planner.Node) {
			if keep[n.ID] {
				return
			}
			keep[n.ID] = true
			for _, d := range n.Deps {
				visit(p.Node(d.ID))
			}
		}
		for _, t := range targets {
			ns := p.NodesOf(t)
			if len(ns) == 0 {
				return nil, fmt.Errorf("--target %s: not in the plan; try portmake why %s", t, t)
			}
			for _, n := range ns {
				visit(n)
			}
		}
	}
	excluded := map[string]bool{}
	var out []*planner.Node
	for _, n := range p.Nodes { // build order: deps come first
		if len(targets) > 0 && !keep[n.ID] {
			continue
		}
		drop := false
		for _, pat := range excludes {
			if ok, _ := path.Match(pat, n.Pkgbase); ok {
				drop = true
			}
		}
		for _, d := range n.Deps {
			drop = drop || excluded[d.ID]
		}
		if drop {
			excluded[n.ID] = true
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

func confirm(env *Env) (bool, error) {
	f, ok := env.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, errors.New("apply: stdin is not a terminal; pass --auto-approve to apply without confirmation")
	}
	fmt.Fprint(env.Stdout, "\nDo you want to build these packages? Only 'yes' will be accepted: ")
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return strings.TrimSpace(line) == "yes", nil
}

func (c *ApplyCmd) executor(env *Env, s *session, p *planner.Plan, nodes []*planner.Node) (*executor.Executor, error) {
	pf := s.pf
	stateDir := s.stateDir
	ex := &executor.Executor{Log: env.Log}
	ex.Options = executor.Options{
		Jobs: pf.Build.Jobs, StopOnFailure: c.StopOnFailure, RetryFailed: c.RetryFailed,
		Retries: pf.Build.Retries, NoUpload: c.NoUpload, LogDir: pf.Build.Logs, KeepLogs: pf.Build.KeepLogs,
	}
	if c.Jobs > 0 {
		ex.Jobs = c.Jobs
	}
	if c.DryRun {
		ex.DryRun = env.Stdout
	}
	switch pf.Build.Builder {
	case "makechrootpkg":
		ex.Builder = &executor.Chroot{Dir: pf.Build.Chroot, PacmanConf: pf.PacmanConf(), MakepkgConf: pf.MakepkgConf(),
			CacheDir: pf.Build.Cache, PkgDest: filepath.Join(stateDir, "pkg"), MakepkgArgs: pf.Build.MakepkgArgs,
			PreserveChroot: c.PreserveChroot, CleanupOnFailure: c.CleanupOnFailure}
	case "makepkg":
		ex.Builder = &executor.Makepkg{WorkDir: filepath.Join(stateDir, "build"), PkgDest: filepath.Join(stateDir, "pkg"),
			SrcDest: filepath.Join(stateDir, "srcdest"), MakepkgConf: pf.MakepkgConf(), MakepkgArgs: pf.Build.MakepkgArgs,
			PreserveBuildDir: c.PreserveChroot, CleanupOnFailure: c.CleanupOnFailure, Log: env.Log}
	default:
		return nil, fmt.Errorf("build.builder %q is not supported", pf.Build.Builder)
	}
	if !c.NoUpload {
		switch {
		case pf.Publish == nil:
			return nil, errors.New("apply: the Portfile has no publish block; add one or pass --no-upload")
		case pf.Publish.Type != "dir":
			return nil, fmt.Errorf("apply: publish %q is not supported yet; use publish \"dir\" or --no-upload", pf.Publish.Type)
		}
		ex.Publisher = &executor.DirPublisher{Root: pf.Publish.Path, Arch: pf.Arch(), DB: executor.FuncDB{
			Name: "portmake repo add --remove-old",
			Fn: func(db string, files []string) error {
				return syncdb.Add(db, files, syncdb.AddOptions{RemoveOld: true})
			}}}
	}
	rec := &recorder{st: s.st, replace: map[string]bool{}, nodes: map[string]*planner.Node{}}
	for _, n := range nodes {
		rec.nodes[n.Hash] = n
	}
	for _, r := range c.Replace {
		if len(p.NodesOf(r)) == 0 {
			return nil, fmt.Errorf("--replace %s: not in the plan", r)
		}
		for _, n := range p.NodesOf(r) {
			rec.replace[n.Hash] = true
		}
	}
	ex.Recorder = rec
	ex.Sources = &sourceFetcher{s: s, nodes: rec.nodes}
	if f, ok := env.Stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ex.Progress = executor.NewTTYProgress(env.Stdout)
	} else {
		ex.Progress = executor.NewPlainProgress(env.Stdout)
	}
	return ex, nil
}

// needsIgnoreArch reports whether makepkg needs --ignorearch to build
// packages with these arch=() lists for target: makepkg checks the arch of
// every pkgname of a split package, so one that lacks target is enough.
// Ports build x86_64 PKGBUILDs for other architectures all the time.
func needsIgnoreArch(arches [][]string, target string) bool {
	for _, a := range arches {
		if executor.NeedsIgnoreArch(a, target) {
			return true
		}
	}
	return false
}

func jobsFor(s *session, nodes []*planner.Node) []*executor.Job {
	byID := map[string]*planner.Node{}
	for _, n := range nodes {
		byID[n.ID] = n
	}
	jobs := make([]*executor.Job, 0, len(nodes))
	for _, n := range nodes {
		j := &executor.Job{
			ID: n.Hash, Pkgbase: n.Pkgbase, Version: n.Version, Stage: n.Stage,
			Priority: n.Priority, Group: n.Group, Nocheck: n.Nocheck, Publish: n.Publish, Arch: s.pf.Arch(),
			// The makepkg builder cannot install dependencies (it runs
			// unprivileged, without a chroot): it builds with --nodeps.
			NoDeps: s.pf.Build.Builder == "makepkg",
			// The source fetcher fills this directory before the build.
			SourceDir: sourceDir(s, n),
		}
		if n.Source != nil && n.Source.Recipe != nil {
			var arches [][]string
			for _, p := range n.Source.Recipe.Packages {
				arches = append(arches, p.Arch)
			}
			j.IgnoreArch = needsIgnoreArch(arches, j.Arch)
		}
		for _, d := range n.Deps {
			if dn := byID[d.ID]; dn != nil {
				j.Deps = append(j.Deps, dn.Hash)
			}
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// recorder writes every state change of a build to the store before and
// after it happens, so a kill -9 leaves a state the next run understands.
type recorder struct {
	st      *store.Store
	applyID int64
	nodes   map[string]*planner.Node // by hash
	replace map[string]bool
}

func (r *recorder) Started(ctx context.Context, j *executor.Job, attempt int, logPath string) (int64, error) {
	ctx = context.WithoutCancel(ctx)
	if n := r.nodes[j.ID]; n != nil {
		kvs := make([]store.KV, len(n.HashInputs))
		for i, h := range n.HashInputs {
			kvs[i] = store.KV{Key: h.Key, Value: h.Value}
		}
		if err := r.st.RecordHashInputs(ctx, j.ID, kvs); err != nil {
			return 0, err
		}
	}
	return r.st.StartBuild(ctx, &store.Build{ApplyID: r.applyID, Pkgbase: j.Pkgbase,
		Version: j.Version, Hash: j.ID, Stage: j.Stage, Attempt: attempt, StartedAt: time.Now(), LogPath: logPath})
}

func (r *recorder) Finished(ctx context.Context, id int64, res *executor.Result) error {
	status := store.StatusSucceeded
	switch res.Outcome {
	case executor.Failed:
		status = store.StatusFailed
	case executor.Aborted:
		status = store.StatusAborted
	case executor.Skipped:
		status = store.StatusSkipped
	}
	br := store.BuildResult{Duration: res.Duration, PeakRSS: res.MaxRSS, ExitCode: res.ExitCode, Files: res.Files}
	if res.Err != nil {
		br.Error = res.Err.Error()
	}
	return r.st.FinishBuild(context.WithoutCancel(ctx), id, status, br)
}

func (r *recorder) Published(ctx context.Context, id int64, files []string) error {
	return r.st.MarkPublished(context.WithoutCancel(ctx), id)
}

func (r *recorder) Succeeded(ctx context.Context, hash string) ([]string, bool, error) {
	if r.replace[hash] {
		return nil, false, nil
	}
	b, err := r.st.LastSuccess(ctx, hash)
	if err != nil || b == nil {
		return nil, false, err
	}
	return b.Files, true, nil
}

func (r *recorder) FailedBefore(ctx context.Context, hash string) (bool, error) {
	if r.replace[hash] {
		return false, nil
	}
	b, err := r.st.LastFailure(ctx, hash)
	return b != nil, err
}

// sourceFetcher prepares each job's PKGBUILD tree under the state
// directory: local dirs and AUR checkouts are copied, git sources are
// fetched at the planned commit and verified, and override patches are
// applied in order. A patch that no longer applies fails only its job.
type sourceFetcher struct {
	s     *session
	nodes map[string]*planner.Node
	mu    sync.Mutex
}

func (f *sourceFetcher) Fetch(ctx context.Context, j *executor.Job, log io.Writer) error {
	n := f.nodes[j.ID]
	if n == nil || n.Source == nil {
		return fmt.Errorf("%s: no resolved source in the plan", j.Pkgbase)
	}
	dst := j.SourceDir
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	src := n.Source
	switch src.Kind {
	case planner.SourceLocal:
		dir := filepath.Join(f.s.pf.Local.Path.Path, j.Pkgbase)
		if err := copyTree(dir, dst); err != nil {
			return fmt.Errorf("copy %s: %w", dir, err)
		}
	default:
		url := src.URL
		if src.Kind == planner.SourceAUR {
			url = strings.TrimSuffix(f.s.pf.AUR.URL.String(), "/") + "/" + j.Pkgbase + ".git"
		}
		if err := gitCheckout(ctx, log, url, src.Commit, dst); err != nil {
			return err
		}
	}
	if n.Source.Recipe == nil {
		// An official source's arch list is known only once it is checked
		// out: its .SRCINFO says it (packaging repositories commit one).
		if si, err := srcinfo.ParseFile(filepath.Join(dst, ".SRCINFO")); err == nil {
			var arches [][]string
			for _, p := range si.ForArch(j.Arch) {
				arches = append(arches, p.Arch)
			}
			j.IgnoreArch = needsIgnoreArch(arches, j.Arch)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("read the .SRCINFO of %s: %w", j.Pkgbase, err)
		}
	}
	if o := f.s.pf.Package(j.Pkgbase); o != nil {
		for _, p := range o.Patches {
			for _, file := range p.Files {
				fmt.Fprintf(log, "==> portmake: applying patch %s\n", file)
				if err := runLogged(ctx, log, dst, "patch", "-p1", "--batch", "--forward", "-i", file); err != nil {
					return fmt.Errorf("patch rot: %s no longer applies to %s: %w", filepath.Base(file), j.Pkgbase, err)
				}
			}
		}
	}
	j.SourceDir = dst
	return nil
}

// sourceDir is where a node's PKGBUILD tree is prepared: one directory
// per hash, so stages and rebuilds never share a tree.
func sourceDir(s *session, n *planner.Node) string {
	return filepath.Join(s.stateDir, "src", n.Pkgbase+"-"+n.Hash[:12])
}

// gitCheckout fetches exactly one commit (shallow) and checks that HEAD is
// the commit the plan hashed.
func gitCheckout(ctx context.Context, log io.Writer, url, commit, dst string) error {
	if commit == "" {
		return fmt.Errorf("%s: the plan has no commit for this source", url)
	}
	steps := [][]string{
		{"init", "-q", dst},
		{"-C", dst, "fetch", "-q", "--depth", "1", url, commit},
		{"-C", dst, "checkout", "-q", "--detach", "FETCH_HEAD"},
	}
	for _, args := range steps {
		if err := runLogged(ctx, log, "", "git", args...); err != nil {
			return fmt.Errorf("fetch %s at %s: %w", url, commit, err)
		}
	}
	out, err := exec.CommandContext(ctx, "git", "-C", dst, "rev-parse", "HEAD").Output()
	if err != nil {
		return err
	}
	if got := strings.TrimSpace(string(out)); !strings.HasPrefix(got, commit) {
		return fmt.Errorf("fetch %s: checked out %s, but the plan hashed %s", url, got, commit)
	}
	return nil
}

func runLogged(ctx context.Context, log io.Writer, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	cmd.Stdout, cmd.Stderr = log, log
	return cmd.Run()
}

// copyTree copies a PKGBUILD directory (regular files, dirs and symlinks),
// skipping build leftovers.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == ".git" || rel == "src" || rel == "pkg" || strings.Contains(rel, ".pkg.tar") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, target)
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, info.Mode().Perm())
		}
	})
}
