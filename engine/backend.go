package engine

// Where builds run. With build.backend = "local" (the default) the
// executor runs the Portfile's builder on this machine, packing builds
// under build.memory and, with jobs = "auto", adding builds while the
// machine has room. With "slurm" each build is a job of the cluster: the
// farm package stages it in slurm.work_dir and submits `portmake
// build-node`, which runs the same builder on a node.

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/farm"
	"github.com/portmake/portmake/lang"
)

// InfraRetries is how many more times an attempt that the cluster failed
// (a node went down, a time limit, a preemption) is submitted again.
const InfraRetries = 3

// parallelism sets the executor's limits: slots, -j auto, the memory
// budget, from the Portfile and the apply's options.
func (p *Port) parallelism(o ApplyOptions, opts *executor.Options) error {
	b := p.pf.Build
	slurm := b.Backend == lang.BackendSlurm
	opts.Jobs = b.Jobs
	auto := b.JobsAuto
	switch {
	case o.JobsAuto && slurm:
		return errors.New("apply: -j auto follows this machine's load, so it works with the local backend only; with the slurm backend, set -j N, or 0 for no limit")
	case o.Jobs < 0 && !slurm:
		return errors.New("apply: -j 0 means no limit, which only the slurm backend allows (Slurm queues the builds); set -j N or -j auto")
	case o.Jobs != 0:
		opts.Jobs, auto = max(o.Jobs, 0), false
	case o.JobsAuto:
		auto = true
	}
	switch {
	case b.Backend == lang.BackendSlurm:
		// The cluster packs jobs by their memory request; jobs = 0 lets
		// it queue every ready build.
		opts.Unlimited = opts.Jobs == 0
		opts.InfraRetries = InfraRetries
	case auto:
		opts.Auto = &executor.Auto{Max: runtime.NumCPU()}
		opts.Memory = b.Memory
	default:
		opts.Memory = b.Memory
	}
	return nil
}

// slurmBuilder is the Remote builder that submits each build to Slurm.
func (p *Port) slurmBuilder(o ApplyOptions) *farm.Builder {
	pf := p.pf
	s := pf.Build.Slurm
	return &farm.Builder{
		Cluster: &farm.Slurm{Partition: s.Partition, Constraint: s.Constraint, Account: s.Account, QOS: s.QOS,
			TimeLimit: s.TimeLimit, Args: s.SbatchArgs},
		WorkDir: s.WorkDir,
		Spec: farm.BuilderSpec{Kind: pf.Build.Builder, MakepkgConf: pf.MakepkgConf(), PacmanConf: pf.PacmanConf(),
			MakepkgArgs: pf.Build.MakepkgArgs, Chroot: pf.Build.Chroot, Cache: pf.Build.Cache,
			Preserve: o.PreserveChroot, CleanupOnFailure: o.CleanupOnFailure, NoCache: o.NoCache},
		Memory: pf.Build.Memory,
		CPUs:   makeJobs(pf.MakepkgConf()),
		Log:    p.log,
	}
}

// makeJobs is the -jN of MAKEFLAGS in makepkg.conf: how many cores a
// build uses, and so how many a Slurm job reserves. 1 when unset.
func makeJobs(conf string) int {
	data, err := os.ReadFile(conf)
	if err != nil {
		return 1
	}
	flags := lang.ParseMakepkgVar(data, "MAKEFLAGS").Value
	f := strings.Fields(flags)
	for i, w := range f {
		var n string
		switch {
		case w == "-j" && i+1 < len(f):
			n = f[i+1]
		case strings.HasPrefix(w, "-j"):
			n = w[2:]
		case strings.HasPrefix(w, "--jobs="):
			n = w[len("--jobs="):]
		default:
			continue
		}
		if v, err := strconv.Atoi(n); err == nil && v > 0 {
			return min(v, 1024)
		}
	}
	return 1
}

// footprints fills each job's expected duration and peak RSS from the
// last successful build of its pkgbase.
func (p *Port) footprints(ctx context.Context, jobs []*executor.Job) error {
	st, err := p.Store()
	if err != nil {
		return err
	}
	fp, err := st.Footprints(ctx)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if f, ok := fp[j.Pkgbase]; ok {
			j.ExpectedDuration, j.ExpectedRSS = f.Duration, f.PeakRSS
		}
	}
	return nil
}

// BuildNode is `portmake build-node DIR` on a build node: it builds the
// attempt in DIR with the same builders a local apply uses and returns
// the worker's exit code (see farm.Work).
func BuildNode(ctx context.Context, dir string, stderr io.Writer) int {
	return farm.Work(ctx, dir, farm.DefaultBuilders, stderr)
}
