package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/portmake/portmake/alpm/srcinfo"
)

// Makepkg builds with plain makepkg inside bubblewrap (see Sandbox), for
// hosts without devtools (CI, the quick start). Each job gets a workspace
// of its own: a copy of its PKGBUILD tree, and empty build, package,
// source and home directories. A build runs makepkg four times, each in
// the sandbox:
//
//  1. --printsrcinfo, offline, to learn the sources, their checksums and
//     validpgpkeys from the PKGBUILD itself (not from a .SRCINFO that may
//     be stale or lie);
//  2. --verifysource, with the network: downloads the sources that the
//     shared cache did not provide, and verifies checksums and PGP
//     signatures (after the package's keys are imported into the build's
//     own keyring), unless the job opts out with NoInteg;
//  3. the build itself, offline;
//  4. --packagelist, offline, to name the build's own package files,
//     which portmake then copies out of the build user's reach and hashes.
//
// makepkg cannot install packages without root, so this builder does not
// install the in-plan dependencies it is given (-I in the chroot builder):
// every build dependency must already be installed on the host, or the job
// must set NoDeps to skip makepkg's check. The log says so for each build
// that has in-plan dependencies.
type Makepkg struct {
	Sandbox     *Sandbox     // runs every makepkg and gpg; required
	WorkDir     string       // workspaces, one per job, portmake's own
	PkgDest     string       // one output directory per job ID, as for Chroot
	Cache       *SourceCache // downloaded sources shared by content; nil for none
	MakepkgConf string       // --config; "" uses the host's
	MakepkgArgs []string     // build.makepkg_args, after portmake's own arguments
	// PreserveBuildDir keeps every workspace; CleanupOnFailure removes that
	// of a failed build too (kept by default, to debug it).
	PreserveBuildDir bool
	CleanupOnFailure bool
	Log              *slog.Logger
}

func (m *Makepkg) Kind() string { return "makepkg" }

func (m *Makepkg) workspace(j *Job) *workspace {
	return &workspace{dir: filepath.Join(m.WorkDir, copyName(j)), hasConf: m.MakepkgConf != ""}
}

func (m *Makepkg) outDir(j *Job) string { return filepath.Join(m.PkgDest, j.ID) }

func (m *Makepkg) env(j *Job) []string {
	return append([]string{"PKGEXT=.pkg.tar.zst"}, j.Env...)
}

// integFlags are the integrity flags of every makepkg call that reads
// sources: none, unless the Portfile opts the package out (nointeg).
func integFlags(j *Job) []string {
	if j.NoInteg {
		return []string{"--skipinteg"}
	}
	return nil
}

func (m *Makepkg) commands(w *workspace, j *Job) (fetch, build Command) {
	sb := m.sandbox()
	// --ignorearch: downloading and verifying (for CARCH) needs no arch
	// check; the build itself checks the PKGBUILD's arch list.
	fetchArgs := append([]string{"--verifysource", "--noconfirm", "--ignorearch"}, integFlags(j)...)
	flags := append([]string{"--noconfirm", "--holdver"}, integFlags(j)...)
	if j.Stage == 1 || j.Nocheck {
		flags = append(flags, "--nocheck")
	}
	if j.IgnoreArch {
		flags = append(flags, "--ignorearch")
	}
	if j.NoDeps {
		fetchArgs = append(fetchArgs, "--nodeps")
		flags = append(flags, "--nodeps")
	}
	flags = append(flags, m.MakepkgArgs...)
	fetch = sb.command(inSandbox{ws: w, network: true, writable: true, keys: true, env: m.env(j), args: makepkgArgs(w, fetchArgs...)})
	build = sb.command(inSandbox{ws: w, writable: true, env: m.env(j), args: makepkgArgs(w, flags...)})
	return fetch, build
}

func (m *Makepkg) sandbox() *Sandbox {
	if m.Sandbox == nil {
		return &Sandbox{}
	}
	return m.Sandbox
}

func (m *Makepkg) check(j *Job) error {
	if m.WorkDir == "" || m.PkgDest == "" || m.Sandbox == nil {
		return errors.New("makepkg builder: sandbox, work dir and package destination are required")
	}
	if err := checkID(j); err != nil {
		return err
	}
	if j.SourceDir == "" {
		return fmt.Errorf("%s: no source directory", j.Pkgbase)
	}
	return nil
}

// Commands returns what Build runs: the metadata read, the source
// download and verification, the build and the package list. The sandbox
// is probed first, so that the commands shown are the ones a build runs
// (the probe may drop an isolation option the host refuses), and so that
// no worker reads the sandbox settings while another's probe writes them.
func (m *Makepkg) Commands(j *Job, deps []string) ([]Command, error) {
	if err := m.check(j); err != nil {
		return nil, err
	}
	if err := m.Sandbox.Probe(context.Background()); err != nil {
		return nil, err
	}
	w := m.workspace(j)
	fetch, build := m.commands(w, j)
	eval := func(args ...string) Command {
		return m.Sandbox.command(inSandbox{ws: w, env: m.env(j), args: makepkgArgs(w, args...)})
	}
	return []Command{eval("--printsrcinfo"), fetch, build, eval("--packagelist")}, nil
}

// Build builds j in a fresh workspace and reports its packages, copied to
// PkgDest/<job ID> and hashed.
func (m *Makepkg) Build(ctx context.Context, j *Job, log io.Writer, deps []string) (out Output, err error) {
	out.ExitCode = -1
	if err := m.check(j); err != nil {
		return out, err
	}
	sb := m.Sandbox
	if err := sb.Probe(ctx); err != nil {
		return out, err
	}
	if sb.probeNote != "" {
		fmt.Fprintf(log, "==> portmake: %s\n", sb.probeNote)
	}
	if len(deps) > 0 {
		fmt.Fprintf(log, "==> portmake: the makepkg builder cannot install in-plan dependencies; they must be on the host:\n")
		for _, d := range deps {
			fmt.Fprintf(log, "      %s\n", d)
		}
	}
	if err := os.MkdirAll(m.WorkDir, 0o700); err != nil {
		return out, fmt.Errorf("work dir: %w", err)
	}
	w := m.workspace(j)
	if _, err := newWorkspace(w.dir, sb.User, j.SourceDir, m.MakepkgConf); err != nil {
		return out, fmt.Errorf("workspace for %s: %w", j.Pkgbase, err)
	}
	defer func() {
		keep := m.PreserveBuildDir || (err != nil && ctx.Err() == nil && !m.CleanupOnFailure)
		if keep {
			fmt.Fprintf(log, "==> portmake: kept the workspace %s\n", w.dir)
			return
		}
		if rerr := removeTree(w.dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove workspace: %w", rerr))
		}
	}()

	tw := &tailWriter{w: log, max: 16 << 10}
	files, err := prepareSources(ctx, sb, m.Cache, w, j, m.env(j), tw)
	if err != nil {
		return out, err
	}
	fetch, build := m.commands(w, j)
	for i, c := range []Command{fetch, build} {
		fmt.Fprintf(tw, "==> portmake: %s\n", c)
		info, err := RunCommand(ctx, c, tw)
		out.ExitCode, out.MaxRSS = info.ExitCode, max(out.MaxRSS, info.MaxRSS)
		if err != nil {
			return out, classify(ctx, info, tw.tail(), err)
		}
		if i == 0 {
			if err := m.Cache.store(files, w.srcdest(), tw); err != nil {
				return out, fmt.Errorf("source cache: %w", err)
			}
		}
	}
	names, err := sb.packageNames(ctx, w, m.env(j))
	if err != nil {
		return out, err
	}
	out.Files, out.SHA256, err = collectOutputs(names, w.pkgdest(), m.outDir(j))
	return out, err
}

// prepareSources reads the PKGBUILD's metadata in the sandbox, fills the
// private SRCDEST from the cache and imports the package's PGP keys. It
// returns the downloaded sources, for the cache once they are verified.
func prepareSources(ctx context.Context, sb *Sandbox, cache *SourceCache, w *workspace, j *Job, env []string, log io.Writer) ([]sourceFile, error) {
	si, err := sb.srcinfo(ctx, w, env)
	if err != nil {
		return nil, err
	}
	files := downloadedSources(si, j.Arch)
	if j.NoInteg {
		// Nothing verifies these downloads: keep them out of the cache.
		files = nil
	}
	if err := cache.seed(files, w.srcdest(), sb.User, log); err != nil {
		return nil, fmt.Errorf("source cache: %w", err)
	}
	if err := sb.importKeys(ctx, w, si, j.Keyring, log); err != nil {
		return nil, err
	}
	return files, nil
}

// srcinfo evaluates makepkg --printsrcinfo in w and parses it.
func (s *Sandbox) srcinfo(ctx context.Context, w *workspace, env []string) (*srcinfo.Srcinfo, error) {
	out, err := s.evaluateIn(ctx, w, env, "--printsrcinfo")
	if err != nil {
		return nil, err
	}
	return srcinfo.Parse(bytes.NewReader(out), "PKGBUILD (makepkg --printsrcinfo)")
}

// PackageList returns the files a build of j would write.
func (m *Makepkg) PackageList(ctx context.Context, j *Job) ([]string, error) {
	if err := m.check(j); err != nil {
		return nil, err
	}
	return evalPackageList(ctx, m.Sandbox, j, m.MakepkgConf, m.env(j), m.outDir(j))
}

// evalPackageList names the files a build of j would write in outDir, from
// makepkg --packagelist in a sandbox of its own.
func evalPackageList(ctx context.Context, sb *Sandbox, j *Job, conf string, env []string, outDir string) ([]string, error) {
	out, err := sb.Evaluate(ctx, j.SourceDir, conf, env, "--packagelist")
	if err != nil {
		return nil, err
	}
	var files []string
	for _, l := range bytes.Split(out, []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			files = append(files, filepath.Join(outDir, filepath.Base(string(l))))
		}
	}
	return files, nil
}
