package lang

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Builders, backends and their defaults, for the README and the tests.
const (
	BackendLocal = "local"
	BackendSlurm = "slurm"
	DefaultUser  = "builder"
)

var (
	builders = []string{"makechrootpkg", "makepkg"}
	backends = []string{BackendLocal, BackendSlurm}
)

var buildSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "builder"}, {Name: "backend"}, {Name: "user"}, {Name: "chroot"}, {Name: "cache"},
		{Name: "jobs"}, {Name: "memory"}, {Name: "logs"}, {Name: "keep_logs"}, {Name: "bootstrap"},
		{Name: "nocheck"}, {Name: "retries"}, {Name: "makepkg_args"}, {Name: "build_dependents_of_failed"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "slurm"}},
}

// userRE is a user name useradd accepts everywhere (Debian's NAME_REGEX
// without the trailing '$' of machine accounts).
var userRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

func (l *loader) build(b *hcl.Block) {
	bd := &l.p.Build
	bd.Builder = DefaultBuilder
	bd.Backend = BackendLocal
	bd.User = DefaultUser
	bd.Chroot = DefaultChroot
	bd.Cache = DefaultCache
	bd.Logs = abs(l.p.Dir, DefaultLogs)
	bd.Jobs = DefaultJobs
	bd.KeepLogs = DefaultKeepLogs
	for _, n := range DefaultBootstrap {
		bd.Bootstrap = append(bd.Bootstrap, Ident{Name: n})
	}
	if b == nil {
		return
	}
	bd.Range = b.DefRange
	content, diags := b.Body.Content(buildSchema)
	l.diags = append(l.diags, diags...)
	attrs := content.Attributes
	if s, ok := l.enum(attrs["builder"], builders,
		`use "makechrootpkg" (devtools clean chroots) or "makepkg" (bubblewrap sandbox, for hosts without devtools)`); ok {
		bd.Builder = s
	}
	backendKnown := true
	if s, ok := l.enum(attrs["backend"], backends,
		`use "local" (build on this machine) or "slurm" (submit each build as a job of a Slurm cluster)`); ok {
		bd.Backend = s
	} else if attrs["backend"] != nil {
		backendKnown = false // reported; checks against it would only guess
	}
	if a := attrs["user"]; a != nil {
		if s, ok := l.str(a); ok {
			switch {
			case s == "root":
				l.errorf(a.Expr.Range(), "Invalid build user", "The build user cannot be root: makepkg refuses to run as root, and a build must not run with root's rights. Name an unprivileged user; portmake creates it when it runs as root and the user does not exist.")
			case !userRE.MatchString(s):
				l.errorf(a.Expr.Range(), "Invalid build user", "%s is not a user name useradd accepts everywhere: 1 to 32 of lower-case letters, digits, '_' and '-', starting with a letter or '_'.", l.show(a.Expr.Range(), s))
			default:
				bd.User = s
				bd.UserSet = true
			}
		}
	}
	for _, d := range []struct {
		name string
		dst  *string
	}{{"chroot", &bd.Chroot}, {"cache", &bd.Cache}, {"logs", &bd.Logs}} {
		if a := attrs[d.name]; a != nil {
			if loc, ok := l.location(a, locLocal); ok {
				*d.dst = loc.Path
			}
		}
	}
	l.jobs(attrs["jobs"], bd)
	if a := attrs["memory"]; a != nil {
		if s, ok := l.str(a); ok {
			if n, err := ParseSize(s); err != nil {
				l.errorf(a.Expr.Range(), "Invalid memory", "The memory attribute takes a size such as \"24GiB\" or \"512MiB\", but %s: %v.", l.show(a.Expr.Range(), s), err)
			} else {
				bd.Memory = n
			}
		}
	}
	if n, ok := l.integer(attrs["keep_logs"], 0, 1<<20); ok {
		bd.KeepLogs = n
	}
	if n, ok := l.integer(attrs["retries"], 0, 100); ok {
		bd.Retries = n
	}
	if a := attrs["bootstrap"]; a != nil {
		bd.Bootstrap = l.names(a, "build.bootstrap")
	}
	if v, ok := l.boolean(attrs["nocheck"]); ok {
		bd.NoCheck = v
	}
	if v, ok := l.boolean(attrs["build_dependents_of_failed"]); ok {
		bd.BuildDependentsOfFailed = v
	}
	if a := attrs["makepkg_args"]; a != nil {
		args, _ := l.strList(a)
		for _, arg := range args {
			if !strings.HasPrefix(arg.Name, "-") {
				l.errorf(arg.Range, "Invalid makepkg argument",
					"makepkg_args holds options, which start with '-'; %s does not. makepkg takes no other arguments.", l.show(arg.Range, arg.Name))
				continue
			}
			bd.MakepkgArgs = append(bd.MakepkgArgs, arg.Name)
		}
	}
	workDirWritten := false
	for _, sb := range content.Blocks {
		if bd.Slurm != nil {
			l.errorf(sb.DefRange, "Duplicate slurm block", "The build block has at most one slurm block; the first one is at %s. Merge the two.", rangeText(bd.Slurm.Range))
			continue
		}
		bd.Slurm, workDirWritten = l.slurm(sb)
	}
	if backendKnown {
		l.checkBackend(attrs, bd, workDirWritten)
	}
}

// jobs decodes build.jobs: a whole number, or "auto" (issue 17: start one
// build and add builds while the machine has idle CPU and free memory).
func (l *loader) jobs(a *hcl.Attribute, bd *Build) {
	if a == nil {
		return
	}
	v, ok := l.eval(a.Expr)
	if !ok || v.IsNull() {
		return
	}
	if v.Type() == cty.String && v.AsString() == "auto" {
		bd.JobsAuto = true
		bd.Jobs = DefaultJobs // where auto starts
		return
	}
	if n, ok := l.toInt(a, v, 0, 256, ` or "auto"`); ok {
		bd.Jobs = n
	}
}

// checkBackend makes the checks between the backend and the rest of the
// build block.
func (l *loader) checkBackend(attrs map[string]*hcl.Attribute, bd *Build, workDirWritten bool) {
	rangeOf := func(name string, fallback hcl.Range) hcl.Range {
		if a := attrs[name]; a != nil {
			return a.Expr.Range()
		}
		return fallback
	}
	switch bd.Backend {
	case BackendSlurm:
		if bd.Slurm == nil {
			l.errorf(rangeOf("backend", bd.Range), "Missing slurm block",
				"backend = \"slurm\" submits builds to a Slurm cluster, which needs a slurm block inside build naming at least work_dir, the directory shared with the build nodes.")
		} else if !workDirWritten {
			l.errorf(bd.Slurm.Range, "Missing work_dir",
				"The slurm block needs work_dir: a directory shared between this host and the build nodes (as Slurm clusters have), where portmake stages sources and the nodes write logs and packages.")
		}
		if bd.JobsAuto {
			l.errorf(rangeOf("jobs", bd.Range), "Invalid jobs",
				"jobs = \"auto\" watches this machine's CPU and memory, so it works with the local backend only. With backend = \"slurm\", set how many jobs may be queued at once, or 0 to let Slurm queue every ready build.")
		}
	case BackendLocal:
		if bd.Jobs == 0 && !bd.JobsAuto {
			l.errorf(rangeOf("jobs", bd.Range), "Invalid jobs",
				"jobs = 0 means no limit, which only the slurm backend allows (Slurm queues the builds). With the local backend, set 1 to 256 or \"auto\".")
		}
		if bd.Slurm != nil {
			l.warnf(bd.Slurm.Range, "Slurm block not used",
				"The slurm block is ignored because the backend is \"local\". Set backend = \"slurm\" to build through Slurm, or remove the block.")
		}
	}
}

var slurmSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "partition"}, {Name: "constraint"}, {Name: "account"}, {Name: "qos"},
	{Name: "time_limit"}, {Name: "work_dir"}, {Name: "sbatch_args"},
}}

var (
	slurmNameRE       = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*$`)
	slurmNameListRE   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*(,[A-Za-z0-9_][A-Za-z0-9_.+-]*)*$`)
	slurmConstraintRE = regexp.MustCompile(`^[A-Za-z0-9_(\[][A-Za-z0-9_.:=&|,*()\[\]-]*$`)
	slurmTimeRE       = regexp.MustCompile(`^(?i:unlimited|infinite)$|^(\d+-)?\d+(:\d{1,2}){0,2}$`)
)

// sbatchOwned maps the sbatch options portmake sets itself to the slurm
// attribute that sets them, or to "" when portmake decides them.
var sbatchOwned = map[string]string{
	"--partition": "partition", "-p": "partition",
	"--constraint": "constraint", "-C": "constraint",
	"--account": "account", "-A": "account",
	"--qos": "qos", "-q": "qos",
	"--time": "time_limit", "-t": "time_limit",
	"--chdir": "work_dir", "-D": "work_dir",
	"--job-name": "", "-J": "", "--output": "", "-o": "", "--error": "", "-e": "",
	"--parsable": "", "--wait": "", "-W": "", "--dependency": "", "-d": "",
	"--mem": "", "--cpus-per-task": "", "-c": "", "--array": "", "-a": "",
}

// slurm decodes the slurm block of build (issue 15). It reports whether
// work_dir is written, right or wrong.
func (l *loader) slurm(b *hcl.Block) (*Slurm, bool) {
	s := &Slurm{Range: b.DefRange, Constraint: l.p.Port.Arch}
	attrs := l.content(b, slurmSchema)
	name := func(attr string, re *regexp.Regexp, what string, dst *string) {
		a := attrs[attr]
		if a == nil {
			return
		}
		if v, ok := l.nonEmpty(a); ok {
			if !re.MatchString(v) {
				l.errorf(a.Expr.Range(), "Invalid "+attr, "%s is not a Slurm %s: %s.", l.show(a.Expr.Range(), v), attr, what)
				return
			}
			*dst = v
		}
	}
	name("partition", slurmNameListRE, "letters, digits and _.+-, several partitions separated by commas", &s.Partition)
	name("account", slurmNameRE, "letters, digits and _.+-, not starting with '.', '+' or '-'", &s.Account)
	name("qos", slurmNameRE, "letters, digits and _.+-, not starting with '.', '+' or '-'", &s.QOS)
	name("constraint", slurmConstraintRE, "node features combined with & | , * and brackets, without spaces (the default is the port's architecture)", &s.Constraint)
	if a := attrs["time_limit"]; a != nil {
		if v, ok := l.str(a); ok {
			if !slurmTimeRE.MatchString(v) {
				hint := ""
				if d, err := time.ParseDuration(v); err == nil && d > 0 {
					hint = fmt.Sprintf(" Did you mean %q?", slurmDuration(d))
				}
				l.errorf(a.Expr.Range(), "Invalid time_limit",
					"time_limit is passed to sbatch --time, which takes minutes (\"90\"), \"hours:minutes:seconds\" (\"4:00:00\"), \"days-hours:minutes:seconds\" (\"1-12:00:00\") or \"UNLIMITED\"; %s is none of these.%s", l.show(a.Expr.Range(), v), hint)
			} else {
				s.TimeLimit = v
			}
		}
	}
	if a := attrs["work_dir"]; a != nil {
		if loc, ok := l.location(a, locLocal); ok {
			fi, err := os.Stat(loc.Path)
			switch {
			case err != nil:
				l.errorf(a.Expr.Range(), "Missing work_dir",
					"The Slurm work directory %s does not exist. It must be a directory shared with the build nodes (a network file system mounted at the same path everywhere); portmake does not create it, so that a typo cannot make a local directory the nodes never see.", l.displayPath(loc.Raw))
			case !fi.IsDir():
				l.errorf(a.Expr.Range(), "Invalid work_dir", "The Slurm work directory %s is not a directory.", l.displayPath(loc.Raw))
			default:
				s.WorkDir = loc.Path
			}
		}
	}
	if a := attrs["sbatch_args"]; a != nil {
		args, _ := l.strList(a)
		for _, arg := range args {
			if msg := sbatchArgError(arg.Name); msg != "" {
				l.errorf(arg.Range, "Invalid sbatch argument", "%s %s", l.show(arg.Range, arg.Name), msg)
				continue
			}
			s.SbatchArgs = append(s.SbatchArgs, arg.Name)
		}
	}
	return s, attrs["work_dir"] != nil
}

// sbatchArgError says why arg cannot be an extra sbatch argument, or "".
func sbatchArgError(arg string) string {
	if !strings.HasPrefix(arg, "-") || arg == "-" || arg == "--" {
		return "is not an option: sbatch_args holds options, which start with '-', each with its value after '=' (\"--gres=gpu:1\"), since portmake passes its own worker command last."
	}
	if strings.ContainsAny(arg, "\x00\n\r") {
		return "holds a control character."
	}
	flag := arg
	if strings.HasPrefix(arg, "--") {
		flag, _, _ = strings.Cut(arg, "=")
	} else if len(arg) > 2 {
		flag = arg[:2]
	}
	if flag == "--wrap" {
		return "would run a shell string; portmake submits its worker as an argv and never through a shell."
	}
	attr, owned := sbatchOwned[flag]
	switch {
	case !owned:
		return ""
	case attr != "":
		return fmt.Sprintf("sets what the %s attribute of the slurm block sets; use that attribute.", attr)
	}
	return "is set by portmake itself for every job (job name, output, memory, CPUs, dependencies)."
}

// slurmDuration writes d in sbatch --time syntax.
func slurmDuration(d time.Duration) string {
	secs := int64(d.Round(time.Second) / time.Second)
	days, secs := secs/86400, secs%86400
	hms := fmt.Sprintf("%d:%02d:%02d", secs/3600, secs%3600/60, secs%60)
	if days > 0 {
		return fmt.Sprintf("%d-%s", days, hms)
	}
	return hms
}

// enum evaluates a string attribute that takes one of options. explain is
// the sentence that lists them; a close misspelling gets a suggestion.
func (l *loader) enum(a *hcl.Attribute, options []string, explain string) (string, bool) {
	if a == nil {
		return "", false
	}
	s, ok := l.str(a)
	if !ok {
		return "", false
	}
	if slices.Contains(options, s) {
		return s, true
	}
	l.errorf(a.Expr.Range(), "Unknown "+a.Name, "The %s %s is not one portmake has: %s.%s", a.Name, l.show(a.Expr.Range(), s), explain, didYouMean(s, options))
	return "", false
}

// didYouMean is " Did you mean "x"?" for the option closest to given, when
// one is close enough to be a typo, or "".
func didYouMean(given string, options []string) string {
	best, bestDist := "", 3
	for _, o := range options {
		if d := levenshtein.Distance(strings.ToLower(given), o, nil); d < bestDist {
			best, bestDist = o, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

var signSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "key", Required: true}, {Name: "gpg_home"},
}}

var hexRE = regexp.MustCompile(`^[0-9A-F]+$`)

// sign decodes the sign block (issue 12): the GnuPG key that signs
// packages and repository databases.
func (l *loader) sign(b *hcl.Block) *Sign {
	sg := &Sign{Range: b.DefRange}
	attrs := l.content(b, signSchema)
	if a := attrs["key"]; a != nil {
		if s, ok := l.str(a); ok {
			k := strings.ToUpper(strings.ReplaceAll(s, " ", ""))
			k = strings.TrimPrefix(k, "0X")
			switch {
			case !hexRE.MatchString(k) || (len(k) != 16 && len(k) != 40 && len(k) != 64 && len(k) != 8):
				l.errorf(a.Expr.Range(), "Invalid signing key",
					"key names the GnuPG key that signs packages and databases by its fingerprint (40 hexadecimal digits, or 64 for v5 keys; spaces allowed) or its long key id (16 digits); %s is neither. `gpg --list-secret-keys --with-colons` lists them.", l.show(a.Expr.Range(), s))
			case len(k) == 8:
				l.errorf(a.Expr.Range(), "Short signing key id",
					"%s is a short key id (8 digits), which anyone can forge a colliding key for. Name the key by its fingerprint (40 hexadecimal digits).", l.show(a.Expr.Range(), s))
			default:
				sg.Key = k
			}
		}
	}
	if a := attrs["gpg_home"]; a != nil {
		if loc, ok := l.location(a, locLocal); ok {
			if fi, err := os.Stat(loc.Path); err != nil || !fi.IsDir() {
				l.errorf(a.Expr.Range(), "Missing gpg_home",
					"The GnuPG home %s does not exist or is not a directory. Remove gpg_home to use the default (~/.gnupg of the user running portmake), or point it at the directory holding the signing key.", l.displayPath(loc.Raw))
			} else {
				sg.GPGHome = loc.Path
			}
		}
	}
	return sg
}

// keyring checks sources.keyring: a directory of ASCII-armoured public keys
// (*.asc) imported before building packages whose .SRCINFO names
// validpgpkeys.
func (l *loader) keyring(a *hcl.Attribute) Location {
	loc, ok := l.location(a, locLocal)
	if !ok {
		return Location{}
	}
	fi, err := os.Stat(loc.Path)
	if err != nil || !fi.IsDir() {
		l.errorf(a.Expr.Range(), "Missing keyring",
			"The keyring %s does not exist or is not a directory. It holds the PGP keys (one <fingerprint>.asc file each, as Arch's keys/pgp/) that verify signed sources.", l.displayPath(loc.Raw))
		return Location{}
	}
	if m, _ := filepath.Glob(filepath.Join(loc.Path, "*.asc")); len(m) == 0 {
		l.warnf(a.Expr.Range(), "Empty keyring",
			"The keyring %s holds no .asc file, so it verifies nothing. Put each key in it as <fingerprint>.asc (gpg --armor --export FINGERPRINT).", l.displayPath(loc.Raw))
	}
	return loc
}
