package lang

// The backend attributes of the build block and its slurm block (issue 15),
// and build.jobs = "auto" and build.memory (issue 17). Minimal decoding,
// with the names and types the Portfile schema work uses, so that the
// backend can be wired before that work lands.

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Backends: where builds run.
const (
	BackendLocal = "local"
	BackendSlurm = "slurm"
)

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

var slurmSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "partition"}, {Name: "constraint"}, {Name: "account"}, {Name: "qos"},
	{Name: "time_limit"}, {Name: "work_dir"}, {Name: "sbatch_args"},
}}

var (
	slurmNameRE       = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+,-]*$`)
	slurmConstraintRE = regexp.MustCompile(`^[A-Za-z0-9_(\[][A-Za-z0-9_.:=&|,*()\[\]-]*$`)
	slurmTimeRE       = regexp.MustCompile(`^(?i:unlimited|infinite)$|^(\d+-)?\d+(:\d{1,2}){0,2}$`)
)

// backend decodes build.backend, build.jobs, build.memory and the slurm
// block, and checks them against each other.
func (l *loader) backend(attrs map[string]*hcl.Attribute, blocks hcl.Blocks, bd *Build) {
	bd.Backend = BackendLocal
	if a := attrs["backend"]; a != nil {
		if s, ok := l.str(a); ok {
			if s != BackendLocal && s != BackendSlurm {
				l.errorf(a.Expr.Range(), "Unknown backend", "The backend %q is not one portmake has: use \"local\" (build on this machine) or \"slurm\" (submit each build as a job of a Slurm cluster).", s)
			} else {
				bd.Backend = s
			}
		}
	}
	if a := attrs["jobs"]; a != nil {
		if v, ok := l.eval(a.Expr); ok && !v.IsNull() {
			if v.Type() == cty.String && v.AsString() == "auto" {
				bd.JobsAuto = true
				bd.Jobs = DefaultJobs
			} else if n, ok := l.integer(a, 0, 256); ok {
				bd.Jobs = n
			}
		}
	}
	if a := attrs["memory"]; a != nil {
		if s, ok := l.str(a); ok {
			if n, err := ParseSize(s); err != nil {
				l.errorf(a.Expr.Range(), "Invalid memory", "The memory attribute takes a size such as \"24GiB\" or \"512MiB\", but %q: %v.", s, err)
			} else {
				bd.Memory = n
			}
		}
	}
	for _, b := range blocks {
		if bd.Slurm != nil {
			l.errorf(b.DefRange, "Duplicate slurm block", "The build block has at most one slurm block. Merge the two.")
			continue
		}
		bd.Slurm = l.slurm(b)
	}
	rangeOf := func(name string) hcl.Range {
		if a := attrs[name]; a != nil {
			return a.Expr.Range()
		}
		return bd.Range
	}
	switch bd.Backend {
	case BackendSlurm:
		switch {
		case bd.Slurm == nil:
			l.errorf(rangeOf("backend"), "Missing slurm block",
				"backend = \"slurm\" submits builds to a Slurm cluster, which needs a slurm block inside build naming at least work_dir, the directory shared with the build nodes.")
		case bd.Slurm.WorkDir == "":
			l.errorf(bd.Slurm.Range, "Missing work_dir",
				"The slurm block needs work_dir: a directory shared between this host and the build nodes, where portmake stages sources and the nodes write logs and packages.")
		}
		if bd.JobsAuto {
			l.errorf(rangeOf("jobs"), "Invalid jobs",
				"jobs = \"auto\" watches this machine's CPU and memory, so it works with the local backend only. With backend = \"slurm\", set how many jobs may be queued at once, or 0 to let Slurm queue every ready build.")
		}
	default:
		if bd.Jobs == 0 && !bd.JobsAuto {
			l.errorf(rangeOf("jobs"), "Invalid jobs",
				"jobs = 0 means no limit, which only the slurm backend allows (Slurm queues the builds). With the local backend, set 1 to 256 or \"auto\".")
		}
	}
}

func (l *loader) slurm(b *hcl.Block) *Slurm {
	s := &Slurm{Range: b.DefRange, Constraint: l.p.Port.Arch}
	attrs := l.content(b, slurmSchema)
	for _, f := range []struct {
		attr string
		re   *regexp.Regexp
		dst  *string
	}{
		{"partition", slurmNameRE, &s.Partition}, {"account", slurmNameRE, &s.Account}, {"qos", slurmNameRE, &s.QOS},
		{"constraint", slurmConstraintRE, &s.Constraint}, {"time_limit", slurmTimeRE, &s.TimeLimit},
	} {
		a := attrs[f.attr]
		if a == nil {
			continue
		}
		if v, ok := l.nonEmpty(a); ok {
			if !f.re.MatchString(v) {
				l.errorf(a.Expr.Range(), "Invalid "+f.attr, "%q is not a valid Slurm %s.", v, f.attr)
				continue
			}
			*f.dst = v
		}
	}
	if a := attrs["work_dir"]; a != nil {
		if loc, ok := l.location(a, locLocal); ok {
			if fi, err := os.Stat(loc.Path); err != nil || !fi.IsDir() {
				l.errorf(a.Expr.Range(), "Missing work_dir",
					"The Slurm work directory %s is not a directory. It must be shared with the build nodes (a network file system mounted at the same path everywhere); portmake does not create it, so that a typo cannot make a local directory the nodes never see.", loc.Path)
			} else {
				s.WorkDir = loc.Path
			}
		}
	}
	if a := attrs["sbatch_args"]; a != nil {
		args, _ := l.strList(a)
		for _, arg := range args {
			flag, _, _ := strings.Cut(arg.Name, "=")
			switch {
			case !strings.HasPrefix(arg.Name, "-") || strings.ContainsAny(arg.Name, "\x00\n\r"):
				l.errorf(arg.Range, "Invalid sbatch argument", "%q is not an option: sbatch_args holds options, which start with '-', each with its value after '=' (\"--gres=gpu:1\").", arg.Name)
			case flag == "--wrap":
				l.errorf(arg.Range, "Invalid sbatch argument", "--wrap would run a shell string; portmake submits its worker as an argv and never through a shell.")
			default:
				s.SbatchArgs = append(s.SbatchArgs, arg.Name)
			}
		}
	}
	return s
}

var sizeRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B?|B)?$`)

// ParseSize reads a size: a number with an optional unit, B, KiB, MiB,
// GiB or TiB (K, M, G, T and KB... mean the same powers of 1024, as in
// Slurm and most build tools).
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("want a number and a unit such as GiB")
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, err
	}
	shift := map[byte]uint{'K': 10, 'M': 20, 'G': 30, 'T': 40}
	if m[2] != "" && m[2] != "B" {
		f *= float64(uint64(1) << shift[m[2][0]])
	}
	if f < 1 || f > math.MaxInt64/2 {
		return 0, fmt.Errorf("%s is out of range", s)
	}
	return int64(f), nil
}
