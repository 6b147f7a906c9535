package planner

import (
	"path"
	"strings"

	"github.com/portmake/portmake/alpm"
)

// Input is everything a plan is made from. Build reads it and never keeps a
// reference to its slices or maps after it returns, so callers may reuse it.
type Input struct {
	Arch         string // the port's architecture, e.g. "aarch64"
	UpstreamArch string // e.g. "x86_64"

	// Repos are the Portfile's repo blocks in priority order: when two
	// repositories hold the same pkgname, the earlier one wins, as in
	// pacman.conf.
	Repos []RepoPair

	// NewSources are AUR and local packages. A new source whose pkgbase also
	// exists upstream replaces the upstream pkgbase: its recipe is what gets
	// built.
	NewSources []NewSource

	// Sources maps an upstream pkgbase to its resolved source identity. It
	// may be partial: a node without an entry is hashed with the line
	// "source unresolved" and has Node.Source nil; apply must resolve it
	// before building, and that changes its hash.
	Sources map[string]Source

	Blacklist []BlacklistEntry
	Bootstrap []string // build.bootstrap: toolchain pkgbases or pkgnames, in build order
	Overrides map[string]Override
	Options   Options
	BuildEnv  BuildEnv

	// Meta records what the inputs were read from. Build copies it into the
	// plan unchanged so apply can refuse a stale plan.
	Meta Meta
}

// Repo is one repository's snapshot after fetching.
type Repo struct {
	Name     string       // e.g. "core" or "core-testing"
	URL      string       // where it was read from, for errors (credentials stripped)
	Packages []alpm.Entry // syncdb.ReadIndex gives them; the planner reads them in place
}

// RepoPair is one Portfile repo block: the upstream repository and the
// target (port) repository that mirrors it. A nil repository is absent; the
// testing ones are nil unless enabled for this run.
type RepoPair struct {
	Name                      string // e.g. "core"
	Upstream, UpstreamTesting *Repo
	Target, TargetTesting     *Repo
	Publish                   string // repository fresh builds are uploaded to, e.g. "core-testing"
}

// SourceKind says where a pkgbase's build recipe comes from.
type SourceKind string

const (
	SourceOfficial SourceKind = "official" // Arch packaging git at the version tag
	SourceOverride SourceKind = "override" // a Portfile override: custom git URL and ref
	SourceAUR      SourceKind = "aur"
	SourceLocal    SourceKind = "local" // a PKGBUILD directory
)

// Source is a pkgbase's resolved source identity. The caller does the I/O
// (git ls-remote, the state repo, hashing a directory).
type Source struct {
	Kind     SourceKind
	URL      string
	Ref      string // branch or tag asked for
	Commit   string // resolved commit; empty for a local dir
	TreeHash string // content hash of a local dir; empty for git sources
	Patches  []PatchRef

	// Recipe is the source's .SRCINFO reduced to the plan's arch (the
	// caller merges depends_<arch> into depends). It is required for new
	// sources; for upstream pkgbases it supplies the build dependencies
	// when the sync DB has no MAKEDEPENDS or CHECKDEPENDS (ALARM DBs). It is
	// not hashed: it is derived from the commit or tree that is.
	Recipe *Recipe
}

// PatchRef is one port patch applied on top of the source, in apply order.
type PatchRef struct {
	Name   string
	SHA256 string // of the patch content
}

// Recipe is the build metadata of one pkgbase, as .SRCINFO gives it.
type Recipe struct {
	Pkgbase  string
	Version  string // full version: [epoch:]pkgver-pkgrel
	Packages []SplitPackage
}

// SplitPackage is one pkgname a recipe builds, with its relation lists
// already merged for the plan's arch.
type SplitPackage struct {
	Name         string
	Arch         []string
	Depends      []string
	MakeDepends  []string
	CheckDepends []string
	Provides     []string
}

// NewSource is an AUR or local package: it has no upstream binary, only a
// recipe, and is published in the Repo pair named Repo.
type NewSource struct {
	Repo   string
	Source Source // Kind aur or local; Recipe required
}

// BlacklistEntry keeps packages out of the plan. Pattern is a shell glob,
// as fnmatch reads it ('*', '?', "[...]", and "[!...]" negating like
// "[^...]"), matched against every pkgname and the pkgbase.
type BlacklistEntry struct {
	Pattern string
	Reason  string
	Origin  string // where the entry came from, e.g. "Portfile.hcl:12" or "--exclude"
}

// Match reports whether the entry's glob matches name.
func (e BlacklistEntry) Match(name string) bool {
	ok, _ := path.Match(goGlob(e.Pattern), name)
	return ok
}

// goGlob turns the shell negation "[!" into path.Match's "[^": blacklist
// files written for Python's fnmatch use "[!", and path.Match would read
// it as a class holding '!'.
func goGlob(p string) string { return strings.ReplaceAll(p, "[!", "[^") }

// Override holds per-pkgbase build settings from the Portfile.
type Override struct {
	Nocheck bool   // build with --nocheck (hashed)
	Nointeg bool   // build without source integrity checks (hashed)
	Group   string // mutex group for the scheduler (not hashed)
}

// Options are the command-line switches of one plan run.
type Options struct {
	Packages      []string // forced pkgnames or pkgbases, in command-line order
	RebuildRepos  []string // repo pair names whose every pkgbase is rebuilt
	PreserveOrder bool     // build the forced packages in command-line order
	SingleStage   bool     // build each cycle once instead of twice
	Bootstrap     bool     // plan the toolchain as a staged sub-plan
	Missing       bool     // list upstream pkgbases absent from the target
	NoCheck       bool     // drop checkdepends and build everything with --nocheck
	Exclude       []string // extra blacklist globs for this run
	// AllowDowngrade lets a dependency pull in an upstream pkgbase older
	// than the target's (and --rebuild-repo include target-newer ones).
	// Without it such a dependency is a warning: see build.go.
	AllowDowngrade bool

	// RebuildDependents rebuilds the pkgbases that need these pkgnames or
	// pkgbases (depends or makedepends, see depgraph.go), for example
	// after a soname bump; DependentsDepth limits how many levels of
	// dependents (1: direct only; 0: all).
	RebuildDependents []string
	DependentsDepth   int
}

// BuildEnv is the build settings that change a build's output. The file
// contents are hashed, not their paths.
type BuildEnv struct {
	MakepkgConf []byte
	PacmanConf  []byte
	Builder     string   // builder kind, e.g. "chroot"
	MakepkgArgs []string // build.makepkg_args, passed to every makepkg run
}

// Meta records what a plan was made from. The caller fills it; the planner
// copies it into the Plan.
type Meta struct {
	PortfileHash string
	DBs          []DBChecksum
	CommandLine  []string
	// MadeFrom lists everything the plan was made from as "kind name
	// value" lines (the Portfile hash, each database's checksum, each
	// AUR and local source's identity and files, patches, the state
	// repository's head), as the caller computes them. The planner only
	// carries it; the caller compares it to refuse a stale plan.
	MadeFrom []string
}

// DBChecksum identifies one sync database a plan read.
type DBChecksum struct {
	Repo   string // repository name, e.g. "core-testing"
	Side   string // "upstream" or "target"
	URL    string
	SHA256 string
}
