package farm

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/proc"
)

// Slurm runs workers as Slurm batch jobs, with the Slurm client commands:
// sbatch to submit, squeue to watch, scancel to cancel. No shell sees any
// argument: the batch script is a constant `exec "$@"`, and sbatch passes
// the worker's argv to it as the script's arguments.
//
// Without accounting (no slurmdbd, so no sacct) Slurm keeps a finished
// job's state only for MinJobAge seconds; that is enough, because the
// worker's result file says how a build ended, and squeue is asked only
// whether a job is alive and, when one died without a result, how.
type Slurm struct {
	Partition  string   // --partition; "" for the cluster's default
	Constraint string   // --constraint; "" means JobSpec.Arch: nodes advertise their architecture as a feature
	Account    string   // --account
	QOS        string   // --qos
	TimeLimit  string   // --time, in Slurm's formats (minutes, "HH:MM:SS", "D-HH")
	Args       []string // more sbatch options (slurm.sbatch_args), after portmake's, so they win
	// Env is added to the environment of the client commands, for example
	// SLURM_CONF to reach a cluster whose slurm.conf is not in /etc.
	Env []string
}

// Kind implements Cluster.
func (s *Slurm) Kind() string { return "slurm" }

// script is the batch script of every job. sbatch insists on a script
// (--wrap would be a shell string); this one only runs its arguments.
const script = "#!/bin/sh\nexec \"$@\"\n"

// exportedEnv are the variables a worker inherits from the submitting
// environment; anything else (credentials for publishing, say) stays here.
var exportedEnv = []string{"PATH", "LANG", "LC_ALL", "TZ"}

func (s *Slurm) constraint(spec JobSpec) string {
	if s.Constraint != "" {
		return s.Constraint
	}
	return spec.Arch
}

func (s *Slurm) args(spec JobSpec, testOnly bool) ([]string, error) {
	args := []string{"sbatch"}
	if testOnly {
		args = append(args, "--test-only")
	} else {
		args = append(args, "--parsable")
	}
	export := slices.Clone(exportedEnv)
	for _, e := range spec.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" || strings.ContainsAny(e, ",\n") {
			return nil, fmt.Errorf("worker environment %q: want KEY=VALUE without commas", e)
		}
		export = append(export, e)
	}
	args = append(args,
		"--job-name="+spec.Name,
		"--chdir="+spec.Dir,
		"--output="+filepath.Join(spec.Dir, jobOut),
		// portmake retries an attempt itself, recording each one; a job
		// that Slurm requeued behind its back would run twice.
		"--no-requeue",
		"--ntasks=1",
		"--cpus-per-task="+strconv.Itoa(max(spec.CPUs, 1)),
		"--export="+strings.Join(export, ","),
	)
	if len(spec.Exclude) > 0 {
		for _, n := range spec.Exclude {
			if n == "" || strings.ContainsAny(n, ",\n ") {
				return nil, fmt.Errorf("node to exclude %q: want a node name", n)
			}
		}
		args = append(args, "--exclude="+strings.Join(spec.Exclude, ","))
	}
	if spec.Memory > 0 {
		args = append(args, "--mem="+strconv.FormatInt((spec.Memory+(1<<20)-1)>>20, 10)+"M")
	}
	for _, o := range []struct{ flag, v string }{
		{"--partition", s.Partition}, {"--constraint", s.constraint(spec)}, {"--account", s.Account},
		{"--qos", s.QOS}, {"--time", s.TimeLimit},
	} {
		if o.v != "" {
			args = append(args, o.flag+"="+o.v)
		}
	}
	args = append(args, s.Args...)
	args = append(args, filepath.Join(spec.Dir, scriptFile))
	return append(args, spec.Argv...), nil
}

// Command implements Cluster.
func (s *Slurm) Command(spec JobSpec) executor.Command {
	args, err := s.args(spec, false)
	if err != nil {
		args = []string{"sbatch", "# " + err.Error()}
	}
	return executor.Command{Env: s.Env, Args: args}
}

func (s *Slurm) writeScript(dir string) error {
	path := filepath.Join(dir, scriptFile)
	if data, err := os.ReadFile(path); err == nil && string(data) == script {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(script), 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// run runs a Slurm client command. The commands are quick; a minute means
// the controller does not answer.
func (s *Slurm) run(ctx context.Context, args []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var out bytes.Buffer
	_, err := proc.Run(ctx, proc.Command{Env: s.Env, Args: args}, &out)
	return out.String(), err
}

// Check implements Cluster with `sbatch --test-only`: Slurm validates the
// job against its nodes, partitions and limits and says when it would
// start, without queueing it.
func (s *Slurm) Check(ctx context.Context, spec JobSpec) error {
	if err := s.writeScript(spec.Dir); err != nil {
		return fmt.Errorf("slurm: batch script: %w", err)
	}
	args, err := s.args(spec, true)
	if err != nil {
		return err
	}
	out, err := s.run(ctx, args)
	if err != nil {
		return s.submitError(spec, out, err)
	}
	return nil
}

var jobIDLine = regexp.MustCompile(`^([0-9]+)(;\S+)?$`)

// Submit implements Cluster. It is not cancelled with ctx once sbatch
// runs: a submission cut short could queue a job whose id nobody knows.
func (s *Slurm) Submit(ctx context.Context, spec JobSpec) (string, error) {
	if err := s.writeScript(spec.Dir); err != nil {
		return "", fmt.Errorf("slurm: batch script: %w", err)
	}
	args, err := s.args(spec, false)
	if err != nil {
		return "", err
	}
	out, err := s.run(context.WithoutCancel(ctx), args)
	if err != nil {
		return "", s.submitError(spec, out, err)
	}
	for _, l := range strings.Split(out, "\n") {
		if m := jobIDLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			return m[1], nil
		}
	}
	return "", fmt.Errorf("sbatch printed no job id: %q", strings.TrimSpace(out))
}

// transientSlurm are sbatch messages that mean "try again later".
var transientSlurm = []string{
	"Socket timed out", "Unable to contact slurm controller", "temporarily unable to accept job",
	"Resource temporarily unavailable", "Communication connection failure", "Zero Bytes were transmitted",
	"Connection refused", "Transport endpoint is not connected",
}

// submitError turns sbatch's complaint into an error that says what to
// change. Anything not known to be transient is a refusal.
func (s *Slurm) submitError(spec JobSpec, out string, err error) error {
	msg := errorLines(out)
	if msg == "" {
		msg = err.Error()
	}
	for _, t := range transientSlurm {
		if strings.Contains(out, t) {
			return fmt.Errorf("sbatch: %s", msg)
		}
	}
	var hint string
	switch {
	case strings.Contains(out, "Invalid feature specification"):
		hint = fmt.Sprintf("no node has the features %q (slurm.constraint, which defaults to the port's architecture): add them to the nodes' Features in slurm.conf, or set slurm.constraint", s.constraint(spec))
	case strings.Contains(out, "invalid partition") || strings.Contains(out, "Invalid partition"):
		hint = fmt.Sprintf("the cluster has no partition %q (slurm.partition)", s.Partition)
	case strings.Contains(out, "Invalid account"):
		hint = fmt.Sprintf("the cluster refuses account %q (slurm.account)", s.Account)
	case strings.Contains(out, "Invalid qos"):
		hint = fmt.Sprintf("the cluster refuses QOS %q (slurm.qos)", s.QOS)
	case strings.Contains(out, "Requested node configuration is not available"), strings.Contains(out, "Memory required by task is not available"):
		hint = fmt.Sprintf("no node can give one job %d CPUs and %d MiB (the package's recorded peak RSS plus a margin, or slurm.memory)", max(spec.CPUs, 1), spec.Memory>>20)
	case strings.Contains(out, "time limit"):
		hint = fmt.Sprintf("the partition refuses time limit %q (slurm.time_limit)", s.TimeLimit)
	}
	if hint != "" {
		msg += ": " + hint
	}
	return fmt.Errorf("sbatch: %s (%w)", msg, ErrRefused)
}

// errorLines keeps the lines of Slurm output that say what went wrong.
func errorLines(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if strings.Contains(l, "error") || strings.Contains(l, "failure") {
			keep = append(keep, strings.TrimPrefix(strings.TrimPrefix(l, "sbatch: "), "error: "))
		}
	}
	return strings.Join(keep, "; ")
}

// squeueFormat marks squeue's lines so that they cannot be mistaken for
// its diagnostics, which come on the same stream.
const squeueFormat = "portmake|%i|%T|%N|%r"

// States implements Cluster with one squeue call for all the jobs.
func (s *Slurm) States(ctx context.Context, ids []string) (map[string]JobState, error) {
	states := map[string]JobState{}
	if len(ids) == 0 {
		return states, nil
	}
	out, err := s.run(ctx, []string{"squeue", "--noheader", "--states=all", "--jobs=" + strings.Join(ids, ","), "--format=" + squeueFormat})
	if err != nil {
		// squeue fails when none of the jobs is known any more.
		if strings.Contains(out, "Invalid job id specified") {
			return states, nil
		}
		return nil, fmt.Errorf("squeue: %s", firstLine(out, err))
	}
	return parseSqueue(out), nil
}

func parseSqueue(out string) map[string]JobState {
	states := map[string]JobState{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "|", 5)
		if len(f) != 5 || f[0] != "portmake" || f[1] == "" {
			continue
		}
		st := JobState{Phase: slurmPhase(f[2]), State: f[2], Node: f[3], Reason: f[4]}
		if st.Reason == "None" {
			st.Reason = ""
		}
		if st.Phase == Queued {
			st.Node = "" // squeue shows the nodes a pending job may get
		}
		states[f[1]] = st
	}
	return states
}

// slurmPhase maps squeue's job states (squeue(1), JOB STATE CODES). An
// unknown word counts as running: the job is not known to have ended.
func slurmPhase(state string) Phase {
	switch state {
	case "PENDING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD", "CONFIGURING":
		return Queued
	case "BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY",
		"PREEMPTED", "REVOKED", "SPECIAL_EXIT", "TIMEOUT":
		return Ended
	}
	return Running
}

// Find implements Cluster with squeue: this user's jobs named portmake:…
// whose working directory (--chdir: the attempt directory, unique to one
// submission) is dir. The user is given by uid (squeue's --me needs Slurm
// 20.11).
func (s *Slurm) Find(ctx context.Context, dir string) (string, error) {
	out, err := s.run(ctx, []string{"squeue", "--noheader", "--user=" + strconv.Itoa(os.Getuid()), "--states=all", "--format=portmake|%i|%j|%Z"})
	if err != nil {
		return "", fmt.Errorf("squeue: %s", firstLine(out, err))
	}
	return findJob(out, dir), nil
}

func findJob(squeue, dir string) string {
	sc := bufio.NewScanner(strings.NewReader(squeue))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "|", 4)
		if len(f) == 4 && f[0] == "portmake" && f[1] != "" && strings.HasPrefix(f[2], "portmake:") && f[3] == dir {
			return f[1]
		}
	}
	return ""
}

// Cancel implements Cluster with scancel.
func (s *Slurm) Cancel(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	out, err := s.run(context.WithoutCancel(ctx), append([]string{"scancel"}, ids...))
	if err == nil {
		return nil
	}
	// Ended or forgotten jobs are as cancelled as they will get.
	var other []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.Contains(l, "already completing or completed") || strings.Contains(l, "Invalid job id specified") {
			continue
		}
		other = append(other, l)
	}
	if len(other) == 0 {
		return nil
	}
	return fmt.Errorf("scancel %s: %s", strings.Join(ids, " "), strings.Join(other, "; "))
}

func firstLine(out string, err error) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return err.Error()
	}
	l, _, _ := strings.Cut(out, "\n")
	return l
}
