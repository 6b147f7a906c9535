package lang

import (
	"net/url"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Defaults the schema documents. They are exported so that the README, the
// planner and the tests name the same values.
const (
	DefaultUpstreamArch = "x86_64"
	DefaultMakepkgConf  = "chroot-config/makepkg.conf"
	DefaultPacmanConf   = "chroot-config/pacman.conf"
	DefaultState        = ".portmake/state.db"
	DefaultAURURL       = "https://aur.archlinux.org"
	DefaultPackaging    = "https://gitlab.archlinux.org/archlinux/packaging/packages/{project}.git"
	DefaultBuilder      = "makechrootpkg"
	DefaultChroot       = "/var/lib/portmake/chroot"
	DefaultCache        = "/var/cache/portmake/pkg"
	DefaultLogs         = "logs"
	DefaultJobs         = 1
	DefaultKeepLogs     = 3
)

// DefaultBootstrap is the toolchain that is planned only with --bootstrap.
var DefaultBootstrap = []string{"linux-api-headers", "glibc", "binutils", "gcc"}

// Portfile is one decoded Portfile. It is plain data: build it with Load or
// Parse and do not mutate it afterwards.
//
// When Load or Parse report errors, only Files is meaningful: it holds every
// source read so far, so the caller can render the diagnostics with
// snippets.
type Portfile struct {
	Path string // as given to Load, used in diagnostics
	Dir  string // absolute directory that relative locations resolve against

	Port      Port
	Variables map[string]*Variable
	Repos     []*Repo // in file order, which is priority order
	Blacklist Blacklist
	Packages  []*PackageOverride // in file order
	AUR       *AUR               // nil when there is no aur block
	Local     *Local             // nil when there is no local block
	Sources   Sources
	Build     Build
	Publish   *Publish // nil when there is no publish block
	Sign      *Sign    // nil when packages are not signed

	// Hash identifies everything the plan reads through this package: the
	// Portfile bytes, the resolved variable values, what env() and file()
	// returned, the blacklist file and CARCH. A saved plan records it, and
	// apply refuses the plan when it has changed.
	Hash string

	// Files holds every source file read (Portfile, var files, blacklist
	// file, makepkg.conf) keyed by the name used in diagnostic ranges.
	Files map[string]*hcl.File
}

// Port is the port block: the target architecture and the local
// configuration files.
type Port struct {
	// Arch is the target architecture: the arch attribute, or CARCH from
	// makepkg_conf when arch is not set.
	Arch         string
	UpstreamArch string
	MakepkgConf  Location // always local
	PacmanConf   Location // always local
	State        Location // always local; the SQLite store
	CARCH        string   // CARCH= as read from MakepkgConf
	Range        hcl.Range
}

// Variable is a declared input variable and the value it resolved to.
type Variable struct {
	Name        string
	Description string
	Default     cty.Value // cty.NilVal when the variable is required
	Value       cty.Value
	Source      string // "default", "env", "var-file <name>" or "--var"
	// Secret is set, as `env("NAME")` or `file("path")`, when the value
	// was read by env() or file(): views must not show it.
	Secret string
	Range  hcl.Range
}

// Location is a place the Portfile names: an http(s) or file URL, or a plain
// path resolved against the Portfile's directory.
type Location struct {
	Raw   string   // as written, after variable expansion
	URL   *url.URL // set for every URL, file:// included
	Path  string   // set for plain paths and file:// URLs: absolute and clean
	Range hcl.Range
}

// IsZero reports whether the location was not set.
func (l Location) IsZero() bool { return l.Raw == "" }

// IsLocal reports whether the location is on local disk.
func (l Location) IsLocal() bool { return l.Path != "" }

// String is the resolved form: the absolute path for local locations, the
// URL otherwise.
func (l Location) String() string {
	if l.Path != "" {
		return l.Path
	}
	if l.URL != nil {
		return l.URL.String()
	}
	return l.Raw
}

// Repo is a repo block. Order among repo blocks is priority order.
type Repo struct {
	Name            string
	Upstream        Location // zero for a port-only repository
	UpstreamTesting Location // optional
	Target          Location
	TargetTesting   Location // optional
	Publish         string   // repository that fresh builds are published to
	Range           hcl.Range
}

// PortOnly reports whether the repository exists only in the port.
func (r *Repo) PortOnly() bool { return r.Upstream.IsZero() }

// Ident is a name written in the Portfile together with where.
type Ident struct {
	Name  string
	Range hcl.Range
}

// Names returns the names of ids, in order.
func Names(ids []Ident) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.Name
	}
	return out
}

// PackageOverride is a package block: how one pkgbase differs from the
// official packaging.
type PackageOverride struct {
	Name string // pkgbase

	// Git is the fork to build from; zero means the default packaging
	// source. Branch, Tag and Commit pin a ref of whichever repository is
	// used; at most one is set.
	Git    Location
	Branch string
	Tag    string
	Commit string

	Patches []Patch // in application order
	NoCheck bool
	// NoInteg opts this package out of source integrity checks (the
	// PKGBUILD's checksums and signatures), for sources that change in
	// place upstream. Only per package: the default verifies.
	NoInteg bool
	Group   string // builds of one group never run at the same time
	Range   hcl.Range
}

// Patch is one patch glob and the files it matched, sorted.
type Patch struct {
	Glob  string
	Files []string // absolute paths
	Range hcl.Range
}

// AUR is the aur block.
type AUR struct {
	Packages  []Ident
	URL       Location
	Repo      string
	RepoRange hcl.Range
	Range     hcl.Range
}

// Local is the local block: a directory of PKGBUILD directories.
type Local struct {
	Path      Location // always local
	Packages  []Ident  // empty means every subdirectory holding a PKGBUILD
	Repo      string
	RepoRange hcl.Range
	Range     hcl.Range
}

// Sources is the sources block.
type Sources struct {
	// Packaging is the git URL template of official packaging repositories,
	// with {project} (the GitLab project path) or {pkgbase} in it.
	Packaging      string
	PackagingRange hcl.Range
	State          Location // optional: Arch's packaging state repository
	// Keyring is a directory of ASCII-armoured PGP keys (*.asc) imported
	// before building a package whose .SRCINFO lists validpgpkeys, besides
	// the package's own keys/pgp/. Zero when not set.
	Keyring Location
}

// PackagingURL returns the packaging repository of a pkgbase, given its
// GitLab project path (computing that path is the source fetcher's job). A
// template written as a plain path was made absolute when decoding.
func (s Sources) PackagingURL(pkgbase, project string) string {
	r := strings.NewReplacer("{project}", project, "{pkgbase}", pkgbase)
	return r.Replace(s.Packaging)
}

// Build is the build block. Which fields change the built bytes, and so
// are hash inputs, is decided in hashinputs.go.
type Build struct {
	Builder string // "makechrootpkg" or "makepkg"
	Backend string // BackendLocal or BackendSlurm: where builds run
	// User is the unprivileged user PKGBUILD code runs as in the sandbox,
	// for both builders (DefaultUser unless set; UserSet tells which).
	User    string
	UserSet bool
	Chroot  string // absolute
	Cache   string // absolute
	// Jobs is how many builds run at once. 0 (slurm backend only) means no
	// limit. With JobsAuto (jobs = "auto", local backend only) Jobs is 1,
	// where the load-aware scheduler starts.
	Jobs     int
	JobsAuto bool
	// Memory is the memory builds may use together, in bytes (build.memory,
	// "24GiB"); 0 when not set. The local scheduler packs builds by their
	// recorded peak RSS under it; the slurm backend uses it as a default
	// --mem.
	Memory      int64
	Logs        string // absolute
	KeepLogs    int
	Bootstrap   []Ident
	NoCheck     bool     // run every build with --nocheck
	Retries     int      // retries of a build that failed for a transient reason
	MakepkgArgs []string // appended to the default makepkg arguments
	// BuildDependentsOfFailed builds a node whose in-plan dependency failed
	// against what the target repository has, instead of skipping it.
	BuildDependentsOfFailed bool
	Slurm                   *Slurm // the slurm block; nil when absent
	Range                   hcl.Range
}

// Slurm is the slurm block inside build: how builds are submitted to a
// Slurm cluster when the backend is "slurm".
type Slurm struct {
	Partition  string   // sbatch --partition; "" for the cluster default
	Constraint string   // sbatch --constraint; the port's arch unless set
	Account    string   // sbatch --account
	QOS        string   // sbatch --qos
	TimeLimit  string   // sbatch --time, in Slurm's syntax; "" for the partition default
	WorkDir    string   // absolute; shared between this host and the nodes
	SbatchArgs []string // extra sbatch options, each "--name=value"
	Range      hcl.Range
}

// Sign is the sign block: the GnuPG key that signs packages and databases.
type Sign struct {
	Key     string // fingerprint or long key id: upper-case hex, no spaces
	GPGHome string // absolute; "" for GnuPG's default
	Range   hcl.Range
}

// Publish is the publish block: where built packages go.
type Publish struct {
	Type string // "dir" or "s3"

	Path string // dir: absolute; layout <path>/<repo>/os/<arch>/

	Bucket   string // s3
	Prefix   string // s3: key prefix; layout <prefix>/<repo>/os/<arch>/
	Region   string // s3
	Endpoint string // s3: for S3-compatible stores; empty means AWS
	Profile  string // s3: shared-credentials profile

	Range hcl.Range
}

// Arch is the target architecture.
func (p *Portfile) Arch() string { return p.Port.Arch }

// MakepkgConf is the absolute path of the chroot's makepkg.conf.
func (p *Portfile) MakepkgConf() string { return p.Port.MakepkgConf.Path }

// PacmanConf is the absolute path of the chroot's pacman.conf.
func (p *Portfile) PacmanConf() string { return p.Port.PacmanConf.Path }

// StatePath is the absolute path of the SQLite state store.
func (p *Portfile) StatePath() string { return p.Port.State.Path }

// Repo returns the repo block named name, or nil.
func (p *Portfile) Repo(name string) *Repo {
	for _, r := range p.Repos {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Package returns the override for pkgbase, or nil.
func (p *Portfile) Package(pkgbase string) *PackageOverride {
	for _, o := range p.Packages {
		if o.Name == pkgbase {
			return o
		}
	}
	return nil
}

// abs resolves a plain path against dir.
func abs(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}
