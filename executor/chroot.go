package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Chroot builds with devtools' makechrootpkg in a clean chroot: the
// production builder on Arch hosts. A base chroot <Dir>/root is created
// once with mkarchroot; each job gets its own working copy
// <Dir>/portmake-<pkgbase>-<hash> (makechrootpkg -l), so parallel builds
// never share a root, and only the job's freshly built in-plan
// dependencies are installed into it (-I).
type Chroot struct {
	Dir         string // the chroot directory (-r); holds root/ and the working copies
	PacmanConf  string // for mkarchroot -C
	MakepkgConf string // for mkarchroot -M and the sandboxed makepkg runs
	CacheDir    string // package cache bound into the chroot (-d); "" for none
	// FreshCache, when set, gives every build an empty package cache of
	// its own instead of CacheDir (--no-cache, to chase a build that only
	// works, or only fails, because of what a cache holds): the directory
	// FreshCache/<working copy name>, emptied before the build and
	// removed after it.
	FreshCache string
	// PkgDest holds one output directory per job ID: the packages are
	// copied there from the job's workspace, and a fresh directory per
	// hash means a rebuild never overwrites a file another job is
	// installing.
	PkgDest string
	// Sandbox runs what makepkg does outside the chroot: reading the
	// PKGBUILD's metadata, downloading and verifying the sources (into the
	// workspace's private SRCDEST, handed to makechrootpkg), and listing
	// the package files. Required.
	Sandbox          *Sandbox
	WorkDir          string       // workspaces, one per job, portmake's own
	Cache            *SourceCache // downloaded sources shared by content; nil for none
	MakepkgArgs      []string     // build.makepkg_args, after portmake's own makepkg arguments
	PreserveChroot   bool         // keep every working copy
	CleanupOnFailure bool         // remove the working copy of a failed build too

	mu        sync.Mutex
	rootReady bool
}

func (c *Chroot) Kind() string { return "makechrootpkg" }

func (c *Chroot) outDir(j *Job) string { return filepath.Join(c.PkgDest, j.ID) }

// cacheDir is the package cache a build of j binds.
func (c *Chroot) cacheDir(j *Job) string {
	if c.FreshCache != "" {
		return filepath.Join(c.FreshCache, copyName(j))
	}
	return c.CacheDir
}

func (c *Chroot) mkarchroot() Command {
	return Command{Args: []string{"mkarchroot", "-C", c.PacmanConf, "-M", c.MakepkgConf, filepath.Join(c.Dir, "root"), "base-devel"}}
}

func (c *Chroot) workspace(j *Job) *workspace {
	return &workspace{dir: filepath.Join(c.WorkDir, copyName(j)), hasConf: c.MakepkgConf != ""}
}

func (c *Chroot) makechrootpkg(j *Job, deps []string) Command {
	w := c.workspace(j)
	args := []string{"makechrootpkg", "-r", c.Dir, "-l", copyName(j)}
	if u := c.sandbox().User; u != nil && u.Drop {
		args = append(args, "-U", u.Name)
	}
	if cache := c.cacheDir(j); cache != "" {
		args = append(args, "-d", cache)
	}
	for _, d := range deps {
		args = append(args, "-I", d)
	}
	// The sources were downloaded and verified (checksums and signatures)
	// in the sandbox; in the chroot makepkg checks the checksums again,
	// but it has no keyring, hence --skippgpcheck.
	integ := []string{"--skippgpcheck"}
	if j.NoInteg {
		integ = []string{"--skipinteg"}
	}
	args = append(args, "--", "--syncdeps", "--noconfirm", "--log", "--holdver")
	args = append(args, integ...)
	if j.IgnoreArch {
		args = append(args, "--ignorearch")
	}
	if j.Stage == 1 || j.Nocheck {
		args = append(args, "--nocheck")
	}
	args = append(args, c.MakepkgArgs...)
	env := append([]string{"PKGDEST=" + w.pkgdest(), "SRCDEST=" + w.srcdest()}, j.Env...)
	return Command{Dir: j.SourceDir, Env: env, Args: args}
}

// verifySource downloads and verifies j's sources in the sandbox.
func (c *Chroot) verifySource(j *Job) Command {
	w := c.workspace(j)
	// --ignorearch: this only downloads and verifies (for CARCH, from
	// makepkg.conf); the build in the chroot checks the arch list.
	args := append([]string{"--verifysource", "--noconfirm", "--nodeps", "--ignorearch"}, integFlags(j)...)
	return c.sandbox().command(inSandbox{ws: w, network: true, writable: true, keys: true, env: j.Env, args: makepkgArgs(w, args...)})
}

func (c *Chroot) sandbox() *Sandbox {
	if c.Sandbox == nil {
		return &Sandbox{}
	}
	return c.Sandbox
}

// Commands returns mkarchroot (while the base chroot is missing) and
// makechrootpkg.
func (c *Chroot) Commands(j *Job, deps []string) ([]Command, error) {
	if err := c.check(j); err != nil {
		return nil, err
	}
	if err := c.Sandbox.Probe(context.Background()); err != nil {
		return nil, err
	}
	var cmds []Command
	c.mu.Lock()
	ready := c.rootReady
	c.mu.Unlock()
	if !ready {
		if _, err := os.Stat(filepath.Join(c.Dir, "root")); err != nil {
			cmds = append(cmds, c.mkarchroot())
		}
	}
	return append(cmds, c.verifySource(j), c.makechrootpkg(j, deps)), nil
}

func (c *Chroot) check(j *Job) error {
	if c.Dir == "" || c.PkgDest == "" || c.WorkDir == "" || c.Sandbox == nil {
		return errors.New("makechrootpkg builder: chroot dir, sandbox, work dir and package destination are required")
	}
	if err := checkID(j); err != nil {
		return err
	}
	if j.SourceDir == "" {
		return fmt.Errorf("%s: no source directory", j.Pkgbase)
	}
	return nil
}

// ensureRoot creates the base chroot once. The mutex makes the first job
// create it while the others wait, instead of racing mkarchroot.
func (c *Chroot) ensureRoot(ctx context.Context, log io.Writer) (RunInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rootReady {
		return RunInfo{}, nil
	}
	root := filepath.Join(c.Dir, "root")
	if _, err := os.Stat(root); err == nil {
		c.rootReady = true
		return RunInfo{}, nil
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return RunInfo{}, fmt.Errorf("chroot: %w", err)
	}
	cmd := c.mkarchroot()
	fmt.Fprintf(log, "==> portmake: creating the base chroot: %s\n", cmd)
	info, err := RunCommand(ctx, cmd, log)
	if err != nil {
		// A half-made root would be taken for a good one next time.
		if rerr := os.RemoveAll(root); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return info, fmt.Errorf("create base chroot %s: %w", root, err)
	}
	c.rootReady = true
	return info, nil
}

// removeCopy removes a working copy and its lock file. os.RemoveAll also
// removes a btrfs subvolume copy as root, since Linux 4.18.
func (c *Chroot) removeCopy(j *Job) error {
	dir := filepath.Join(c.Dir, copyName(j))
	return errors.Join(os.RemoveAll(dir), os.RemoveAll(dir+".lock"))
}

// Build verifies j's sources in the sandbox, runs makechrootpkg and
// reports its packages, copied to PkgDest/<job ID> and hashed.
func (c *Chroot) Build(ctx context.Context, j *Job, log io.Writer, deps []string) (out Output, err error) {
	out.ExitCode = -1
	if err := c.check(j); err != nil {
		return out, err
	}
	sb := c.Sandbox
	if err := sb.Probe(ctx); err != nil {
		return out, err
	}
	if info, err := c.ensureRoot(ctx, log); err != nil {
		out.MaxRSS = info.MaxRSS
		return out, err
	}
	if c.FreshCache != "" {
		cache := c.cacheDir(j)
		if err := freshDir(cache); err != nil {
			return out, fmt.Errorf("fresh package cache: %w", err)
		}
		defer func() {
			if rerr := os.RemoveAll(cache); rerr != nil {
				err = errors.Join(err, fmt.Errorf("remove the fresh package cache: %w", rerr))
			}
		}()
	}
	// A copy left by a crashed run would be reused without being synced
	// with root: start from a clean one.
	if err := c.removeCopy(j); err != nil {
		return out, fmt.Errorf("remove stale working copy: %w", err)
	}
	if err := os.MkdirAll(c.WorkDir, 0o700); err != nil {
		return out, fmt.Errorf("work dir: %w", err)
	}
	w := c.workspace(j)
	if _, err := newWorkspace(w.dir, sb.User, j.SourceDir, c.MakepkgConf); err != nil {
		return out, fmt.Errorf("workspace for %s: %w", j.Pkgbase, err)
	}
	defer func() {
		if rerr := removeTree(w.dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove workspace: %w", rerr))
		}
	}()
	tw := &tailWriter{w: log, max: 16 << 10}
	files, err := prepareSources(ctx, sb, c.Cache, w, j, j.Env, tw)
	if err != nil {
		return out, err
	}
	fetch := c.verifySource(j)
	fmt.Fprintf(tw, "==> portmake: %s\n", fetch)
	info, err := RunCommand(ctx, fetch, tw)
	out.ExitCode, out.MaxRSS = info.ExitCode, info.MaxRSS
	if err != nil {
		return out, classify(ctx, info, tw.tail(), err)
	}
	if err := c.Cache.store(files, w.srcdest(), tw); err != nil {
		return out, fmt.Errorf("source cache: %w", err)
	}

	info, err = RunCommand(ctx, c.makechrootpkg(j, deps), tw)
	out.ExitCode, out.MaxRSS = info.ExitCode, max(out.MaxRSS, info.MaxRSS)
	err = classify(ctx, info, tw.tail(), err)

	// Keep the working copy to debug a failure, unless told otherwise; an
	// aborted build's copy is temporary and always goes.
	keep := c.PreserveChroot || (err != nil && ctx.Err() == nil && !c.CleanupOnFailure)
	if !keep {
		if rerr := c.removeCopy(j); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove working copy: %w", rerr))
		}
	} else {
		fmt.Fprintf(log, "==> portmake: kept the working copy %s\n", filepath.Join(c.Dir, copyName(j)))
	}
	if err != nil {
		return out, err
	}
	names, err := sb.packageNames(ctx, w, j.Env)
	if err != nil {
		return out, err
	}
	out.Files, out.SHA256, err = collectOutputs(names, w.pkgdest(), c.outDir(j))
	return out, err
}

// PackageList returns the files a build of j would write.
func (c *Chroot) PackageList(ctx context.Context, j *Job) ([]string, error) {
	if err := c.check(j); err != nil {
		return nil, err
	}
	return evalPackageList(ctx, c.Sandbox, j, c.MakepkgConf, j.Env, c.outDir(j))
}
