package farm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/portmake/portmake/executor"
)

// Builders makes the executor Builder a request asks for, with its
// packages going to pkg/ in the attempt directory dir.
type Builders func(spec BuilderSpec, dir string) (executor.Builder, error)

// DefaultScratch is where the makepkg builder builds on a node when the
// request names no scratch directory: node-local, not the shared work dir.
const DefaultScratch = "/var/tmp/portmake"

// DefaultBuilders makes the same builders a local apply uses: makepkg in
// bubblewrap, or makechrootpkg in the node's chroot.
func DefaultBuilders(spec BuilderSpec, dir string) (executor.Builder, error) {
	pkgdest := filepath.Join(dir, "pkg")
	scratch := spec.Scratch
	if scratch == "" {
		scratch = DefaultScratch
	}
	// One workspace per attempt: two ports (or two farms) may build the
	// same node on one machine at once.
	work := filepath.Join(scratch, "build", filepath.Base(filepath.Dir(dir))+"."+filepath.Base(dir))
	// Every makepkg runs in the sandbox, as the build user (as root), on
	// the node as locally.
	u, err := executor.ResolveBuildUser(spec.User)
	if err != nil {
		return nil, err
	}
	sb := &executor.Sandbox{User: u, ScratchDir: filepath.Join(scratch, "eval")}
	cache := &executor.SourceCache{Dir: filepath.Join(scratch, "cache", "sources")}
	if spec.NoCache {
		cache = nil // every source downloaded again, into the build's own SRCDEST
	}
	switch spec.Kind {
	case "makepkg":
		return &executor.Makepkg{Sandbox: sb, WorkDir: work, PkgDest: pkgdest, Cache: cache,
			MakepkgConf: spec.MakepkgConf, MakepkgArgs: spec.MakepkgArgs,
			PreserveBuildDir: spec.Preserve, CleanupOnFailure: spec.CleanupOnFailure}, nil
	case "makechrootpkg":
		c := &executor.Chroot{Dir: spec.Chroot, PacmanConf: spec.PacmanConf, MakepkgConf: spec.MakepkgConf,
			CacheDir: spec.Cache, PkgDest: pkgdest, Sandbox: sb, WorkDir: work, Cache: cache, MakepkgArgs: spec.MakepkgArgs,
			PreserveChroot: spec.Preserve, CleanupOnFailure: spec.CleanupOnFailure}
		if spec.NoCache {
			c.FreshCache = filepath.Join(spec.Chroot, "nocache")
		}
		return c, nil
	}
	return nil, fmt.Errorf("unknown builder %q", spec.Kind)
}

// Work is `portmake build-node DIR`: it builds what DIR/request.json asks
// for with the builder that builders makes, appends the output to
// DIR/build.log, writes DIR/result.json and returns the exit code. A
// cancelled ctx (SIGTERM from scancel, a time limit, a preemption) stops
// the build, whose process groups go with it, and is reported aborted.
// Diagnostics that cannot go to the log go to stderr, which the cluster
// keeps in DIR/job.out.
func Work(ctx context.Context, dir string, builders Builders, stderr io.Writer) int {
	start := time.Now()
	node, _ := os.Hostname()
	res := &Result{Protocol: Protocol, Node: node, Started: start, ExitCode: -1}
	abs, err := filepath.Abs(dir)
	if err != nil {
		fmt.Fprintf(stderr, "portmake build-node: %v\n", err)
		return ExitUsage
	}
	dir = abs
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		fmt.Fprintf(stderr, "portmake build-node: %s is not an attempt directory\n", dir)
		return ExitUsage
	}
	finish := func(code int) int {
		res.Finished = time.Now()
		if err := writeJSON(filepath.Join(dir, resultFile), res); err != nil {
			fmt.Fprintf(stderr, "portmake build-node: %v\n", err)
			return ExitInfra
		}
		return code
	}
	req, err := ReadRequest(dir)
	if err != nil {
		fmt.Fprintf(stderr, "portmake build-node: %v\n", err)
		res.Outcome, res.Error = OutcomeInfra, err.Error()
		return finish(ExitUsage)
	}
	res.JobID = req.Job.ID
	log, err := os.OpenFile(filepath.Join(dir, logFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(stderr, "portmake build-node: build log: %v\n", err)
		res.Outcome, res.Error = OutcomeInfra, err.Error()
		return finish(ExitInfra)
	}
	defer log.Close()
	fmt.Fprintf(log, "==> portmake build-node: %s %s (attempt %d) on %s\n", req.Job.Pkgbase, req.Job.Version, req.Attempt, node)

	root := filepath.Dir(filepath.Dir(dir)) // the work directory
	for _, d := range req.Deps {
		if !within(root, d) {
			err := fmt.Errorf("dependency %s is outside the work directory %s", d, root)
			res.Outcome, res.Error = OutcomeInfra, err.Error()
			fmt.Fprintf(log, "==> portmake build-node: %v\n", err)
			return finish(ExitUsage)
		}
	}
	b, err := builders(req.Builder, dir)
	if err != nil {
		res.Outcome, res.Error = OutcomeInfra, err.Error()
		fmt.Fprintf(log, "==> portmake build-node: %v\n", err)
		return finish(ExitUsage)
	}
	job := req.Job
	out, err := b.Build(ctx, &job, log, req.Deps)
	if m, ok := b.(*executor.Makepkg); ok {
		os.Remove(m.WorkDir) // the per-attempt directory, once the builder has emptied it
	}
	res.ExitCode, res.MaxRSS = out.ExitCode, out.MaxRSS
	res.Outcome, res.Transient = verdict(ctx, out, err)
	if err != nil {
		res.Error = err.Error()
	} else {
		res.Files = out.Files
	}
	fmt.Fprintf(log, "\n==> portmake build-node: %s on %s after %s\n", res.Outcome, node, time.Since(start).Round(time.Millisecond))
	return finish(res.WorkerExit())
}

// verdict decides how a build ended. A builder that failed before any of
// its commands ran to an exit (a tool missing on the node, the sandbox
// refused, the chroot could not be made) says nothing about the PKGBUILD:
// that is the node's failure. A command killed by a signal that the
// worker did not send is a transient build failure, as locally.
func verdict(ctx context.Context, out executor.Output, err error) (outcome string, transient bool) {
	switch {
	case err == nil:
		return OutcomeBuilt, false
	case ctx.Err() != nil:
		return OutcomeAborted, false
	case errors.Is(err, executor.ErrTransient):
		return OutcomeFailed, true
	case out.ExitCode == -1:
		return OutcomeInfra, false
	}
	return OutcomeFailed, false
}
