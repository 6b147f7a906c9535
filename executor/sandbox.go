package executor

// # The sandbox around PKGBUILD code
//
// A PKGBUILD is a bash script, and third-party PKGBUILDs are hostile
// input: its global scope runs every time makepkg reads it, not only when
// it builds. So every makepkg run, whether it builds, downloads and
// verifies sources (--verifysource), lists package names (--packagelist)
// or prints metadata (--printsrcinfo, at plan time), goes through
// Sandbox, and so does gpg importing a package's keys.
//
// The sandbox is bubblewrap with a root of its own: the host's /usr, /etc,
// /opt and /var/lib/pacman read-only, a fresh /dev, /proc, /tmp and
// /var/tmp, and only the job's own directories bound at fixed places:
//
//	/startdir     the copy of the PKGBUILD tree (read-only when evaluating)
//	/build        BUILDDIR
//	/pkgdest      PKGDEST
//	/srcdest      SRCDEST: this build's private sources
//	/home/build   HOME, with GNUPGHOME=/home/build/.gnupg, this build's keyring
//	/portmake     makepkg.conf and the keys to import, read-only
//
// The host's /home, /root, /run, /srv, the state directory and every other
// job's directories are not there at all. The environment is cleared
// (credentials in portmake's environment never reach a PKGBUILD). The
// network is unshared except to download sources, and the PID namespace
// always is: when the command ends, the kernel kills everything it left
// behind, so no daemon outlives a makepkg call. A host whose bubblewrap
// cannot make a PID namespace is refused.
//
// When portmake runs as root, bubblewrap runs as root so that it can mount
// the job's directories wherever the port lives (a checkout under /root,
// or any mode-700 directory), and setpriv drops to the build user inside,
// with no capabilities and no way to regain them (bubblewrap sets
// no_new_privs). The job's directory on the host is root's and mode 700,
// so the build user cannot reach it, or another job's, from outside a
// sandbox either. When portmake does not run as root, it is the build user
// and bubblewrap runs unprivileged with the same layout.

import (
	"context"
	"errors"
	"fmt"
	"github.com/portmake/portmake/internal/fsutil"
	"github.com/portmake/portmake/proc"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Paths inside the sandbox.
const (
	sbStartdir = "/startdir"
	sbBuild    = "/build"
	sbPkgdest  = "/pkgdest"
	sbSrcdest  = "/srcdest"
	sbHome     = "/home/build"
	sbConf     = "/portmake/makepkg.conf"
	sbKeys     = "/portmake/keys"
)

// sandboxPath is PATH inside the sandbox: the host's PATH may name
// directories that are not there (/root/go/bin).
const sandboxPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// DefaultEvalTimeout bounds one evaluation of a PKGBUILD (--printsrcinfo,
// --packagelist): reading metadata takes well under a second, so a
// PKGBUILD that takes minutes is stuck or hostile.
const DefaultEvalTimeout = 2 * time.Minute

// maxEvalOutput bounds what an evaluation may print on stdout. The
// largest real .SRCINFO files are tens of kilobytes.
const maxEvalOutput = 8 << 20

// Sandbox runs PKGBUILD code in bubblewrap as the build user. Its fields
// are configuration; set them before the first use.
type Sandbox struct {
	User *BuildUser
	// ScratchDir holds the workspaces of evaluations; default the system
	// temporary directory. Workspaces left by a killed portmake are
	// removed the next time.
	ScratchDir  string
	EvalTimeout time.Duration // default DefaultEvalTimeout
	Log         *slog.Logger

	probe     sync.Once
	probeErr  error
	iso       []string // isolation options that work on this host
	probeNote string   // what was dropped, for every log
	sweep     sync.Once
}

// requiredIsolation must work, or nothing runs: without a PID namespace a
// PKGBUILD could leave a daemon behind. wantedIsolation is dropped with a
// warning, never silently, on hosts that refuse it.
var (
	requiredIsolation = []string{"--unshare-pid"}
	wantedIsolation   = []string{"--unshare-net", "--unshare-ipc", "--unshare-uts"}
)

var (
	sysBindsOnce sync.Once
	sysBinds     []string
)

// systemBinds returns the bwrap options that make the host's system
// directories visible, read-only: directories are bound, and merged-/usr
// symlinks (/bin -> usr/bin) are recreated as symlinks.
func systemBinds() []string {
	sysBindsOnce.Do(func() {
		for _, d := range []string{"usr", "etc", "opt", "bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
			p := "/" + d
			fi, err := os.Lstat(p)
			switch {
			case err != nil:
			case fi.Mode()&os.ModeSymlink != 0:
				if t, err := os.Readlink(p); err == nil {
					sysBinds = append(sysBinds, "--symlink", t, p)
				}
			case fi.IsDir():
				sysBinds = append(sysBinds, "--ro-bind", p, p)
			}
		}
		// pacman's local database, for makepkg's dependency check.
		sysBinds = append(sysBinds, "--ro-bind-try", "/var/lib/pacman", "/var/lib/pacman")
		// A resolv.conf that points into /run (systemd-resolved) must be
		// there for downloads to resolve names.
		if t, err := filepath.EvalSymlinks("/etc/resolv.conf"); err == nil && !strings.HasPrefix(t, "/etc/") && !strings.HasPrefix(t, "/usr/") {
			// Its parents must be made first, or bwrap makes them 0700.
			var parents []string
			for d := filepath.Dir(t); d != "/" && d != "."; d = filepath.Dir(d) {
				parents = append([]string{"--dir", d}, parents...)
			}
			sysBinds = append(append(sysBinds, parents...), "--ro-bind", t, t)
		}
		sysBinds = append(sysBinds, "--dev", "/dev", "--proc", "/proc",
			"--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/var/tmp")
	})
	return sysBinds
}

// privileged returns the options that let the sandbox drop to the build
// user (when portmake runs as root) and the argv prefix that does it.
func (s *Sandbox) privileged() (bwrapOpts, prefix []string) {
	if s.User == nil || !s.User.Drop {
		return nil, nil
	}
	uid, gid := strconv.Itoa(s.User.UID), strconv.Itoa(s.User.GID)
	if s.User.UID < 0 {
		// A user apply will create (a dry run shows its commands):
		// setpriv takes names too, and the user gets a group of its name.
		uid, gid = s.User.Name, s.User.Name
	}
	return []string{"--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"},
		[]string{"setpriv", "--reuid", uid, "--regid", gid,
			"--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"}
}

// Probe checks that bubblewrap works here and finds which optional
// isolation it accepts. It runs once; later calls return the first result.
func (s *Sandbox) Probe(ctx context.Context) error {
	s.probe.Do(func() {
		opts, prefix := s.privileged()
		if s.User != nil && s.User.UID < 0 {
			// The user does not exist yet (a dry run): probe the
			// namespaces as root alone.
			opts, prefix = nil, nil
		}
		try := func(iso []string) error {
			args := append([]string{"bwrap"}, systemBinds()...)
			args = append(args, iso...)
			args = append(args, "--die-with-parent", "--new-session")
			args = append(args, opts...)
			args = append(append(append(args, "--"), prefix...), "true")
			var out strings.Builder
			if _, err := RunCommand(ctx, Command{Args: args}, &out); err != nil {
				return fmt.Errorf("%w: %s", err, strings.TrimSpace(out.String()))
			}
			return nil
		}
		all := append(slices.Clone(requiredIsolation), wantedIsolation...)
		if try(all) == nil {
			s.iso = all
			return
		}
		if err := try(requiredIsolation); err != nil {
			s.probeErr = fmt.Errorf("bubblewrap does not work on this host (it must at least make a PID namespace, %s): %w",
				strings.Join(requiredIsolation, " "), err)
			return
		}
		s.iso = slices.Clone(requiredIsolation)
		var dropped []string
		for _, o := range wantedIsolation {
			if err := try(append(slices.Clone(s.iso), o)); err == nil {
				s.iso = append(s.iso, o)
			} else {
				dropped = append(dropped, fmt.Sprintf("%s (%v)", o, err))
			}
		}
		if len(dropped) > 0 {
			s.probeNote = "WARNING: bubblewrap refused " + strings.Join(dropped, ", ") + "; building with less isolation"
			if s.Log != nil {
				s.Log.Warn("sandbox degraded", "dropped", dropped)
			}
		}
	})
	return s.probeErr
}

// workspace is the host side of one sandbox: a directory of root's, mode
// 700, whose parts the build user owns.
type workspace struct {
	dir     string
	hasConf bool // holds a copy of makepkg.conf
}

func (w *workspace) startdir() string { return filepath.Join(w.dir, "startdir") }
func (w *workspace) build() string    { return filepath.Join(w.dir, "build") }
func (w *workspace) pkgdest() string  { return filepath.Join(w.dir, "pkgdest") }
func (w *workspace) srcdest() string  { return filepath.Join(w.dir, "srcdest") }
func (w *workspace) home() string     { return filepath.Join(w.dir, "home") }
func (w *workspace) conf() string     { return filepath.Join(w.dir, "makepkg.conf") }
func (w *workspace) keys() string     { return filepath.Join(w.dir, "keys") }

// newWorkspace makes a fresh workspace in dir: a copy of the PKGBUILD tree
// src (without build leftovers), empty build, package, source and home
// directories, all the build user's, and a copy of makepkg.conf (when
// given) that the build user can read but not change.
func newWorkspace(dir string, u *BuildUser, src, conf string) (*workspace, error) {
	w := &workspace{dir: dir, hasConf: conf != ""}
	if err := removeTree(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	if err := fsutil.CopyTree(src, w.startdir(), skipBuildLeftovers); err != nil {
		return nil, fmt.Errorf("copy %s: %w", src, err)
	}
	if err := chownTree(u, w.startdir()); err != nil {
		return nil, err
	}
	for _, d := range []string{w.build(), w.pkgdest(), w.srcdest(), w.home()} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
		if err := u.chown(d); err != nil {
			return nil, err
		}
	}
	if err := os.Mkdir(w.keys(), 0o755); err != nil {
		return nil, err
	}
	if conf != "" {
		data, err := os.ReadFile(conf)
		if err == nil {
			err = os.WriteFile(w.conf(), data, 0o644)
		}
		if err != nil {
			return nil, fmt.Errorf("makepkg.conf: %w", err)
		}
	}
	return w, nil
}

// skipBuildLeftovers leaves out what a checkout may hold besides the
// PKGBUILD tree: git's metadata, makepkg's src/ and pkg/, built packages.
func skipBuildLeftovers(rel string, _ fs.DirEntry) bool {
	top, _, _ := strings.Cut(rel, string(filepath.Separator))
	return top == ".git" || top == "src" || top == "pkg" || strings.Contains(rel, ".pkg.tar")
}

// proxyVars are the proxy settings curl, git and the other download tools
// makepkg runs read: a farm behind a proxy downloads sources through it.
var proxyVars = []string{"http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy",
	"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "ALL_PROXY", "NO_PROXY"}

// proxyEnv returns the proxy settings of portmake's environment, for the
// sandbox that downloads sources (the only one with a network). A proxy
// URL's password never shows: Command.String redacts it.
func proxyEnv(getenv func(string) string) []string {
	var env []string
	for _, k := range proxyVars {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// inSandbox is one command in a workspace's sandbox.
type inSandbox struct {
	ws       *workspace
	network  bool // for downloads only
	writable bool // /startdir writable (builds); read-only for evaluations
	keys     bool // bind the workspace's keys at /portmake/keys
	env      []string
	args     []string // the command inside, looked up on sandboxPath
}

// command returns the argv that runs r: bwrap, the drop to the build user
// when running as root, and r.args.
func (s *Sandbox) command(r inSandbox) Command {
	w := r.ws
	args := append([]string{"bwrap"}, systemBinds()...)
	start := "--ro-bind"
	if r.writable {
		start = "--bind"
	}
	// bwrap makes the missing parents of a mount point mode 0700 (as
	// root: unreachable for the build user), so make them first.
	args = append(args, "--dir", "/home", "--dir", "/portmake",
		start, w.startdir(), sbStartdir,
		"--bind", w.build(), sbBuild,
		"--bind", w.pkgdest(), sbPkgdest,
		"--bind", w.srcdest(), sbSrcdest,
		"--bind", w.home(), sbHome)
	if w.hasConf {
		args = append(args, "--ro-bind", w.conf(), sbConf)
	}
	if r.keys {
		args = append(args, "--ro-bind", w.keys(), sbKeys)
	}
	iso := s.iso
	if iso == nil && s.probeErr == nil {
		iso = append(slices.Clone(requiredIsolation), wantedIsolation...) // not probed yet (a dry run): the intent
	}
	for _, o := range iso {
		if r.network && o == "--unshare-net" {
			continue
		}
		args = append(args, o)
	}
	args = append(args, "--die-with-parent", "--new-session", "--clearenv")
	name := "build"
	if s.User != nil {
		name = s.User.Name
	}
	env := []string{"PATH=" + sandboxPath, "HOME=" + sbHome, "USER=" + name, "LOGNAME=" + name,
		"LANG=C.UTF-8", "GNUPGHOME=" + sbHome + "/.gnupg",
		"BUILDDIR=" + sbBuild, "PKGDEST=" + sbPkgdest, "SRCDEST=" + sbSrcdest}
	if r.network {
		env = append(env, proxyEnv(os.Getenv)...)
	}
	env = append(env, r.env...)
	for _, e := range proc.MergeEnv(nil, env) {
		k, v, _ := strings.Cut(e, "=")
		args = append(args, "--setenv", k, v)
	}
	args = append(args, "--chdir", sbStartdir)
	opts, prefix := s.privileged()
	args = append(args, opts...)
	args = append(append(append(args, "--"), prefix...), r.args...)
	return Command{Args: args}
}

// makepkg returns the makepkg argv inside the sandbox.
func makepkgArgs(w *workspace, args ...string) []string {
	out := []string{"makepkg"}
	if w.hasConf {
		out = append(out, "--config", sbConf)
	}
	return append(out, args...)
}

// Evaluate runs makepkg with args (--printsrcinfo, --packagelist) on the
// PKGBUILD tree in srcDir, in a sandbox of its own without network and
// with the tree read-only, and returns what it printed on stdout. It works
// whoever owns srcDir: the sandbox gets a copy.
func (s *Sandbox) Evaluate(ctx context.Context, srcDir, makepkgConf string, env []string, args ...string) ([]byte, error) {
	if err := s.Probe(ctx); err != nil {
		return nil, err
	}
	s.sweepScratch()
	scratch := s.ScratchDir
	if scratch == "" {
		scratch = os.TempDir()
	}
	if err := os.MkdirAll(scratch, 0o700); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(scratch, fmt.Sprintf("portmake-eval-%d-", os.Getpid()))
	if err != nil {
		return nil, err
	}
	defer removeTree(dir)
	w, err := newWorkspace(dir, s.User, srcDir, makepkgConf)
	if err != nil {
		return nil, err
	}
	return s.evaluateIn(ctx, w, env, args...)
}

// evaluateIn runs makepkg with args in an existing workspace, read-only.
func (s *Sandbox) evaluateIn(ctx context.Context, w *workspace, env []string, args ...string) ([]byte, error) {
	timeout := s.EvalTimeout
	if timeout <= 0 {
		timeout = DefaultEvalTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := s.command(inSandbox{ws: w, env: env, args: makepkgArgs(w, args...)})
	stdout := &limitedBuffer{max: maxEvalOutput}
	stderr := &tailWriter{w: io.Discard, max: 4 << 10}
	_, err := runCommand(ctx, c, stdout, stderr)
	what := "makepkg " + strings.Join(args, " ")
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("%s: the PKGBUILD took longer than %s to evaluate", what, timeout)
	case err != nil:
		return nil, fmt.Errorf("%s (in the sandbox): %w: %s", what, err, strings.TrimSpace(string(stderr.tail())))
	case stdout.over:
		return nil, fmt.Errorf("%s: the PKGBUILD printed more than %d bytes", what, maxEvalOutput)
	}
	return stdout.buf, nil
}

// sweepScratch removes evaluation workspaces (and the package-list
// scratch directories of older versions) left by a portmake that was
// killed: those whose pid no longer runs.
func (s *Sandbox) sweepScratch() {
	s.sweep.Do(func() {
		// Older versions made their scratch directories in the system
		// temporary directory.
		sweepDir(os.TempDir())
		if s.ScratchDir != "" {
			sweepDir(s.ScratchDir)
		}
	})
}

func sweepDir(dir string) {
	{
		ents, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range ents {
			name := e.Name()
			switch {
			case strings.HasPrefix(name, "portmake-packagelist-"), strings.HasPrefix(name, "portmake-srcinfo-"):
				// Older versions' scratch directories carry no pid; they
				// are only ever used for a second.
				if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
					_ = removeTree(filepath.Join(dir, name))
				}
			case strings.HasPrefix(name, "portmake-eval-"):
				pidStr, _, _ := strings.Cut(strings.TrimPrefix(name, "portmake-eval-"), "-")
				pid, err := strconv.Atoi(pidStr)
				if err != nil || pid == os.Getpid() || processRuns(pid) {
					continue
				}
				_ = removeTree(filepath.Join(dir, name))
			}
		}
	}
}

func processRuns(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// limitedBuffer keeps up to max bytes and notes when more came.
type limitedBuffer struct {
	buf  []byte
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(b.buf)+len(p) > b.max {
		b.over = true
		p = p[:max(0, b.max-len(b.buf))]
	}
	b.buf = append(b.buf, p...)
	return n, nil // keep draining the pipe: the error comes from over
}

// chownTree hands path and everything under it to the build user.
func chownTree(u *BuildUser, path string) error {
	if u == nil || !u.Drop {
		return nil
	}
	return filepath.WalkDir(path, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, u.UID, u.GID)
	})
}

// removeTree removes dir like os.RemoveAll, also when a build left
// directories without write permission (Go's module cache does), which
// stops RemoveAll for anyone but root.
func removeTree(dir string) error {
	err := os.RemoveAll(dir)
	if err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
