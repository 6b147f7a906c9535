package lang

// Which Portfile settings change the bytes of a build.
//
// A node's hash (planner/hash.go) names exactly the inputs that made a
// build's bytes: two builds with the same hash are interchangeable, and
// apply reuses one for the other. A setting that changes the bytes but is
// not hashed lets a build made one way pass for one made another way
// (build.makepkg_args did, until portmake-node-v2); a setting hashed
// without need rebuilds for nothing.
//
// So every field of the Portfile's build-affecting blocks (port, build and
// its slurm block, sign, sources, package and its patches) has a decision
// here: hashed, with the hash input line that carries it, or not hashed,
// with the reason. TestEveryBuildSettingIsDecided fails for a field added
// without one, and for a new block of the Portfile that is not classified;
// the planner's tests check that every line named here is one the node
// hash writes.

import "slices"

// HashDecision is whether a Portfile field is a build-hash input.
type HashDecision struct {
	Hashed bool
	// Key is the node hash input line that carries a hashed field
	// ("makepkg.args"; "patch" for the "patch NAME" lines).
	Key string
	// Why is the reason, for the hashed and the not hashed alike.
	Why string
}

func hashed(key, why string) HashDecision { return HashDecision{Hashed: true, Key: key, Why: why} }
func notHashed(why string) HashDecision   { return HashDecision{Why: why} }

const position = "a position in the Portfile, for diagnostics"

// HashInputs is the decision for every field of the build-affecting config
// structs, keyed "Type.Field".
var HashInputs = map[string]HashDecision{
	"Port.Arch":         hashed("arch", "the architecture packages are built for"),
	"Port.UpstreamArch": notHashed("it selects the upstream databases compared with; the version they give is hashed"),
	"Port.MakepkgConf":  hashed("makepkg.conf", "its content (CFLAGS, PKGEXT, PACKAGER, ...) is read by every build"),
	"Port.PacmanConf":   hashed("pacman.conf", "its content decides which packages the build environment installs"),
	"Port.State":        notHashed("where plans and builds are recorded"),
	"Port.CARCH":        hashed("makepkg.conf", "read from makepkg.conf, whose content is hashed"),
	"Port.Range":        notHashed(position),

	"Build.Builder":     hashed("builder", "makechrootpkg and makepkg build in different environments"),
	"Build.Backend":     notHashed("where a build runs: a Slurm node runs the same builder on the same inputs as the local backend"),
	"Build.User":        notHashed("the sandbox gives the build user the same environment whatever its name; the packager comes from makepkg.conf"),
	"Build.UserSet":     notHashed("whether User was written"),
	"Build.Chroot":      notHashed("where the chroot lives; what is installed in it follows from pacman.conf, which is hashed"),
	"Build.Cache":       notHashed("a cache of package files that pacman verifies; which packages are installed does not depend on it"),
	"Build.Jobs":        notHashed("how many builds run at once"),
	"Build.JobsAuto":    notHashed("how many builds run at once"),
	"Build.Memory":      notHashed("how many builds fit in memory together"),
	"Build.Logs":        notHashed("where build logs go"),
	"Build.KeepLogs":    notHashed("how many build logs are kept"),
	"Build.Bootstrap":   notHashed("which packages the bootstrap sub-plan builds; a bootstrap build is hashed with its stage (b1, b2)"),
	"Build.NoCheck":     hashed("nocheck", "--nocheck skips check(), and a package can differ when its checks do not run"),
	"Build.Retries":     notHashed("a retry of a failed build; the attempt that succeeds makes the same bytes"),
	"Build.MakepkgArgs": hashed("makepkg.args", "options given to makepkg can change the build (--nocheck, --holdver, --skippgpcheck, ...)"),
	"Build.BuildDependentsOfFailed": notHashed("a scheduling policy; a node built against the target's package instead of a failed in-plan dependency " +
		"must record that in its own hash inputs when it is built, not through this switch"),
	"Build.Slurm": notHashed("where and how builds are submitted; see Slurm"),
	"Build.Range": notHashed(position),

	"Slurm.Partition":  notHashed("placement: which nodes may run a build"),
	"Slurm.Constraint": notHashed("placement; the architecture a package is built for is hashed as arch"),
	"Slurm.Account":    notHashed("accounting"),
	"Slurm.QOS":        notHashed("scheduling priority"),
	"Slurm.TimeLimit":  notHashed("a build that runs out of time fails; one that finishes makes the same bytes"),
	"Slurm.WorkDir":    notHashed("where sources and outputs are staged"),
	"Slurm.SbatchArgs": notHashed("scheduler options; the build inside the job is the same"),
	"Slurm.Range":      notHashed(position),

	"Sign.Key":     notHashed("signatures are detached .sig files beside the package; the package bytes do not change"),
	"Sign.GPGHome": notHashed("where the signing key is found"),
	"Sign.Range":   notHashed(position),

	"Sources.Packaging":      hashed("source.url", "the packaging repository the PKGBUILD comes from"),
	"Sources.PackagingRange": notHashed(position),
	"Sources.State":          notHashed("it maps versions to packaging commits; the commit is hashed as source.commit"),
	"Sources.Keyring":        notHashed("keys decide only whether a signed source is accepted; the bytes accepted are pinned by the PKGBUILD's checksums, which its commit hashes"),

	"PackageOverride.Name":    hashed("pkgbase", "the pkgbase built"),
	"PackageOverride.Git":     hashed("source.url", "the repository the PKGBUILD comes from"),
	"PackageOverride.Branch":  hashed("source.ref", "the ref asked for; the commit it resolves to is hashed too"),
	"PackageOverride.Tag":     hashed("source.ref", "the ref asked for; the commit it resolves to is hashed too"),
	"PackageOverride.Commit":  hashed("source.commit", "the PKGBUILD tree built"),
	"PackageOverride.Patches": hashed("patch", "each patch's content changes the PKGBUILD tree"),
	"PackageOverride.NoCheck": hashed("nocheck", "--nocheck skips check(), and a package can differ when its checks do not run"),
	"PackageOverride.NoInteg": hashed("nointeg", "a build from unverified sources must not pass for a verified one: turning verification back on rebuilds"),
	"PackageOverride.Group":   notHashed("builds of one group never run at the same time: scheduling"),
	"PackageOverride.Range":   notHashed(position),

	"Patch.Glob":  notHashed("the content of the files it matches is hashed, not the glob"),
	"Patch.Files": hashed("patch", "the content of each file, by name, in order"),
	"Patch.Range": notHashed(position),
}

// NotBuildConfig lists the struct types of a Portfile that hold no build
// setting, with the reason; every other struct type reachable from
// Portfile must have its fields decided in HashInputs.
var NotBuildConfig = map[string]string{
	"Portfile":  "the container; its blocks are classified one by one",
	"Variable":  "variables reach builds only through the attributes that use them, which are decided",
	"Repo":      "which databases are compared and where builds are published; the versions and sources they lead to are hashed",
	"Blacklist": "which packages are planned, not how they are built",
	"Entry":     "a blacklist pattern",
	"AUR":       "which packages come from the AUR; the AUR git URL and commit are hashed as source.url and source.commit",
	"Local":     "which packages are local PKGBUILD trees; each tree's content is hashed as source.tree",
	"Publish":   "where packages are published after they are built",
	"Location":  "a place named in the Portfile; each field holding one is decided",
	"Ident":     "a name with its position; each field holding one is decided",
}

// HashedKeys lists, sorted and once each, the hash input lines that the
// hashed decisions name. The planner's tests check that its node hash
// writes each of them.
func HashedKeys() []string {
	var keys []string
	for _, d := range HashInputs {
		if d.Hashed && !slices.Contains(keys, d.Key) {
			keys = append(keys, d.Key)
		}
	}
	slices.Sort(keys)
	return keys
}
