package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/portmake/portmake/internal/fsutil"
)

// Makepkg builds with plain makepkg inside bubblewrap, for hosts without
// devtools (CI, the quick start). The sandbox has no network, a private
// /tmp and a read-only view of the host, with only the job's build
// directory, its package destination and the source cache writable; it
// runs as the unprivileged build user when portmake runs as root.
//
// Sources are downloaded first by `makepkg --verifysource` in the same
// sandbox but with the network, then the build itself runs offline.
//
// makepkg cannot install packages without root, so this builder does not
// install the in-plan dependencies it is given (-I in the chroot builder):
// every build dependency must already be installed on the host, or the job
// must set NoDeps to skip makepkg's check. The log says so for each build
// that has in-plan dependencies.
type Makepkg struct {
	WorkDir     string   // build directories: a fresh copy of the source per job
	PkgDest     string   // one output directory per job ID, as for Chroot
	SrcDest     string   // downloaded sources, shared across jobs; "" keeps them in the build dir
	MakepkgConf string   // --config; "" uses the host's
	User        string   // build user when running as root; default DefaultBuildUser
	MakepkgArgs []string // build.makepkg_args, after portmake's own arguments
	// PreserveBuildDir keeps every build directory; CleanupOnFailure
	// removes that of a failed build too (kept by default, to debug it).
	PreserveBuildDir bool
	CleanupOnFailure bool
	Log              *slog.Logger

	probe     sync.Once
	probeErr  error
	sandbox   []string // bwrap options that work on this host
	probeNote string   // what was dropped, for every log
}

func (m *Makepkg) Kind() string { return "makepkg" }

// wantedIsolation are the namespace options the sandbox asks for. Some
// hosts (containers, kernels with user namespaces off) refuse one of them;
// probeSandbox drops those with a warning, never silently.
var wantedIsolation = []string{"--unshare-net", "--unshare-pid"}

func bwrapBase() []string {
	return []string{"bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"}
}

// probeSandbox finds which isolation options bwrap accepts here, running
// `bwrap ... true` as the build user.
func (m *Makepkg) probeSandbox(ctx context.Context) error {
	m.probe.Do(func() {
		try := func(opts []string) error {
			args := append(asUser(m.User), bwrapBase()...)
			args = append(args, opts...)
			args = append(args, "--die-with-parent", "--new-session", "--", "true")
			var out strings.Builder
			_, err := RunCommand(ctx, Command{Args: args}, &out)
			if err != nil {
				return fmt.Errorf("%w: %s", err, strings.TrimSpace(out.String()))
			}
			return nil
		}
		if err := try(wantedIsolation); err == nil {
			m.sandbox = slices.Clone(wantedIsolation)
			return
		}
		var dropped []string
		for _, o := range wantedIsolation {
			if err := try([]string{o}); err == nil {
				m.sandbox = append(m.sandbox, o)
			} else {
				dropped = append(dropped, fmt.Sprintf("%s (%v)", o, err))
			}
		}
		if err := try(m.sandbox); err != nil {
			m.probeErr = fmt.Errorf("bubblewrap does not work on this host: %w", err)
			return
		}
		m.probeNote = "WARNING: bubblewrap refused " + strings.Join(dropped, ", ") + "; building with less isolation"
		if m.Log != nil {
			m.Log.Warn("makepkg sandbox degraded", "dropped", dropped)
		}
	})
	return m.probeErr
}

func (m *Makepkg) buildDir(j *Job) string { return filepath.Join(m.WorkDir, copyName(j)) }
func (m *Makepkg) outDir(j *Job) string   { return filepath.Join(m.PkgDest, j.ID) }

func (m *Makepkg) srcDest(j *Job) string {
	if m.SrcDest != "" {
		return m.SrcDest
	}
	return filepath.Join(m.buildDir(j), ".srcdest")
}

func (m *Makepkg) env(j *Job) []string {
	dir := m.buildDir(j)
	return append([]string{
		"PKGEXT=.pkg.tar.zst",
		"PKGDEST=" + m.outDir(j),
		"SRCDEST=" + m.srcDest(j),
		"BUILDDIR=" + filepath.Join(dir, ".build"),
	}, j.Env...)
}

// sandboxed wraps a makepkg argv in runuser and bwrap.
func (m *Makepkg) sandboxed(j *Job, network bool, makepkgArgs ...string) Command {
	dir := m.buildDir(j)
	args := append(asUser(m.User), bwrapBase()...)
	for _, p := range []string{dir, m.outDir(j), m.srcDest(j)} {
		args = append(args, "--bind", p, p)
	}
	if m.MakepkgConf != "" {
		// The private /tmp would hide a makepkg.conf that lives under /tmp
		// (a port checked out there, a test's work directory).
		args = append(args, "--ro-bind", m.MakepkgConf, m.MakepkgConf)
	}
	for _, o := range m.sandbox {
		if network && o == "--unshare-net" {
			continue
		}
		args = append(args, o)
	}
	args = append(args, "--die-with-parent", "--new-session", "--chdir", dir, "--", "makepkg")
	if m.MakepkgConf != "" {
		args = append(args, "--config", m.MakepkgConf)
	}
	args = append(args, makepkgArgs...)
	return Command{Dir: dir, Env: m.env(j), Args: args}
}

func (m *Makepkg) commands(j *Job) []Command {
	fetch := m.sandboxed(j, true, "--verifysource", "--skipinteg", "--noconfirm")
	flags := []string{"--noconfirm", "--holdver", "--skipinteg"}
	if j.Stage == 1 || j.Nocheck {
		flags = append(flags, "--nocheck")
	}
	if j.IgnoreArch {
		flags = append(flags, "--ignorearch")
	}
	if j.NoDeps {
		flags = append(flags, "--nodeps")
	}
	flags = append(flags, m.MakepkgArgs...)
	return []Command{fetch, m.sandboxed(j, false, flags...)}
}

func (m *Makepkg) check(j *Job) error {
	if m.WorkDir == "" || m.PkgDest == "" {
		return errors.New("makepkg builder: work dir and package destination are required")
	}
	if err := checkID(j); err != nil {
		return err
	}
	if j.SourceDir == "" {
		return fmt.Errorf("%s: no source directory", j.Pkgbase)
	}
	return nil
}

// Commands returns the source download and the build.
// The sandbox is probed first, so that the commands shown are the ones a
// build runs (the probe may drop an isolation option the host refuses),
// and so that no worker reads the sandbox settings while another's probe
// writes them.
func (m *Makepkg) Commands(j *Job, deps []string) ([]Command, error) {
	if err := m.check(j); err != nil {
		return nil, err
	}
	if err := m.probeSandbox(context.Background()); err != nil {
		return nil, err
	}
	return m.commands(j), nil
}

// Build copies the source into a fresh build directory owned by the build
// user, downloads the sources, builds offline and reports the packages.
func (m *Makepkg) Build(ctx context.Context, j *Job, log io.Writer, deps []string) (out Output, err error) {
	out.ExitCode = -1
	if err := m.check(j); err != nil {
		return out, err
	}
	if err := m.probeSandbox(ctx); err != nil {
		return out, err
	}
	if m.probeNote != "" {
		fmt.Fprintf(log, "==> portmake: %s\n", m.probeNote)
	}
	if len(deps) > 0 {
		fmt.Fprintf(log, "==> portmake: the makepkg builder cannot install in-plan dependencies; they must be on the host:\n")
		for _, d := range deps {
			fmt.Fprintf(log, "      %s\n", d)
		}
	}
	dir := m.buildDir(j)
	if err := os.MkdirAll(m.WorkDir, 0o755); err != nil {
		return out, fmt.Errorf("build dir: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return out, fmt.Errorf("remove stale build dir: %w", err)
	}
	if err := fsutil.CopyTree(j.SourceDir, dir, nil); err != nil {
		return out, fmt.Errorf("copy %s to the build dir: %w", j.SourceDir, err)
	}
	for _, d := range []string{m.outDir(j), m.srcDest(j)} {
		if d == m.outDir(j) {
			err = freshDir(d)
		} else {
			err = os.MkdirAll(d, 0o755)
		}
		if err != nil {
			return out, fmt.Errorf("build dir: %w", err)
		}
	}
	for _, d := range []string{dir, m.outDir(j), m.srcDest(j)} {
		if err := chownToUser(m.User, d); err != nil {
			return out, fmt.Errorf("hand %s to the build user: %w", d, err)
		}
	}
	defer func() {
		keep := m.PreserveBuildDir || (err != nil && ctx.Err() == nil && !m.CleanupOnFailure)
		if keep {
			fmt.Fprintf(log, "==> portmake: kept the build dir %s\n", dir)
			return
		}
		if rerr := os.RemoveAll(dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove build dir: %w", rerr))
		}
	}()

	tw := &tailWriter{w: log, max: 16 << 10}
	for _, c := range m.commands(j) {
		fmt.Fprintf(tw, "==> portmake: %s\n", c)
		info, err := RunCommand(ctx, c, tw)
		out.ExitCode, out.MaxRSS = info.ExitCode, max(out.MaxRSS, info.MaxRSS)
		if err != nil {
			return out, classify(ctx, info, tw.tail(), err)
		}
	}
	out.Files, err = packageList(ctx, m.packageListCmd(j), m.User, m.outDir(j), true)
	return out, err
}

func (m *Makepkg) packageListCmd(j *Job) Command {
	args := append(asUser(m.User), "makepkg", "--packagelist")
	if m.MakepkgConf != "" {
		args = append(args, "--config", m.MakepkgConf)
	}
	dir := m.buildDir(j)
	if _, err := os.Stat(dir); err != nil {
		dir = j.SourceDir // a dry run: the build dir does not exist yet
	}
	return Command{Dir: dir, Env: append([]string{"PKGEXT=.pkg.tar.zst"}, j.Env...), Args: args}
}

// PackageList returns the files a build of j would write.
func (m *Makepkg) PackageList(ctx context.Context, j *Job) ([]string, error) {
	if err := m.check(j); err != nil {
		return nil, err
	}
	return packageList(ctx, m.packageListCmd(j), m.User, m.outDir(j), false)
}
