package main

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/portmake/portmake/internal/slurmtest"
)

func init() {
	scriptCommands["slurm-cluster"] = cmdSlurmCluster
	scriptCommands["slurm-jobs"] = cmdSlurmJobs
	scriptCommands["slurm-wait"] = cmdSlurmWait
	scriptCommands["slurm-node"] = cmdSlurmNode
	scriptCommands["slurm-order"] = cmdSlurmOrder
}

// clusters are the test clusters of the running scripts, by $WORK.
var (
	clustersMu sync.Mutex
	clusters   = map[string]*slurmtest.Cluster{}
)

func cluster(ts *testscript.TestScript) *slurmtest.Cluster {
	clustersMu.Lock()
	c := clusters[ts.Getenv("WORK")]
	clustersMu.Unlock()
	if c == nil {
		ts.Fatalf("no cluster: run slurm-cluster first")
	}
	return c
}

// cmdSlurmCluster starts a one-node Slurm cluster on loopback for the
// script and stops it when the script ends:
//
//	slurm-cluster [FEATURE...]
//
// The node advertises FEATUREs (default: the host's architecture). It
// sets $SLURM_CONF, which portmake and the Slurm commands read, and
// $SLURM_NODE, the node's name. The script must check [slurm] first.
func cmdSlurmCluster(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! slurm-cluster")
	}
	c, err := slurmtest.Start(slurmtest.Options{Features: args})
	ts.Check(err)
	clustersMu.Lock()
	clusters[ts.Getenv("WORK")] = c
	clustersMu.Unlock()
	ts.Defer(func() {
		clustersMu.Lock()
		delete(clusters, ts.Getenv("WORK"))
		clustersMu.Unlock()
		if err := c.Stop(); err != nil {
			ts.Logf("stop the slurm cluster: %v", err)
		}
	})
	ts.Setenv("SLURM_CONF", c.Conf)
	ts.Setenv("SLURM_NODE", c.Node)
}

// jobsNamed counts the cluster's jobs whose name starts with prefix, in
// the given states ("all", or "active": not ended).
func jobsNamed(ts *testscript.TestScript, prefix, which string) map[string]string {
	args := []string{"-h", "-o", "%i %T %j"}
	if which == "all" {
		args = append(args, "--states=all")
	}
	out, err := cluster(ts).Run("squeue", args...)
	ts.Check(err)
	jobs := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && strings.HasPrefix(f[2], prefix) {
			jobs[f[0]] = f[1]
		}
	}
	return jobs
}

// cmdSlurmJobs checks how many jobs the cluster has had:
//
//	slurm-jobs PREFIX N
//
// counts every job (finished ones too, for the cluster's MinJobAge)
// whose name starts with PREFIX, such as portmake:hello-port:, and fails
// unless there are N. It is how a scenario sees that a build was not
// submitted, or not submitted twice.
func cmdSlurmJobs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: slurm-jobs PREFIX N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	if got := jobsNamed(ts, args[0], "all"); len(got) != want {
		ts.Fatalf("%d jobs named %s*, want %d: %v", len(got), args[0], want, got)
	}
}

// cmdSlurmWait waits up to a minute for the cluster to reach a state:
//
//	slurm-wait running PREFIX     a job named PREFIX* is running
//	slurm-wait submitted PREFIX N N jobs named PREFIX* were submitted
//	slurm-wait idle [SECONDS]     no job is pending or running
//
// idle is how a scenario checks that nothing was left in the queue; a
// short timeout tells a job that was cancelled from one that ran out.
func cmdSlurmWait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: slurm-wait running PREFIX | submitted PREFIX N | idle [SECONDS]")
	}
	var cond func() (bool, string)
	timeout := time.Minute
	switch {
	case args[0] == "running" && len(args) == 2:
		cond = func() (bool, string) {
			jobs := jobsNamed(ts, args[1], "active")
			for _, st := range jobs {
				if st == "RUNNING" {
					return true, ""
				}
			}
			return false, "jobs " + strconv.Quote(strings.TrimSpace(strings.Join(keys(jobs), " ")))
		}
	case args[0] == "submitted" && len(args) == 3:
		n, err := strconv.Atoi(args[2])
		ts.Check(err)
		cond = func() (bool, string) {
			jobs := jobsNamed(ts, args[1], "all")
			return len(jobs) >= n, strconv.Itoa(len(jobs)) + " submitted"
		}
	case args[0] == "idle" && len(args) <= 2:
		if len(args) == 2 {
			n, err := strconv.Atoi(args[1])
			ts.Check(err)
			timeout = time.Duration(n) * time.Second
		}
		cond = func() (bool, string) {
			jobs, err := cluster(ts).Jobs()
			ts.Check(err)
			return len(jobs) == 0, "left in the queue: " + strings.Join(keys(jobs), " ")
		}
	default:
		ts.Fatalf("usage: slurm-wait running PREFIX | submitted PREFIX N | idle")
	}
	deadline := time.Now().Add(timeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("slurm-wait %s: not reached within %v (%s)", strings.Join(args, " "), timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+":"+v)
	}
	return out
}

// cmdSlurmNode sets the node's state: down kills its jobs (NODE_FAIL), as
// a crashed board would; resume brings it back.
//
//	slurm-node down|resume
func cmdSlurmNode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || (args[0] != "down" && args[0] != "resume") {
		ts.Fatalf("usage: slurm-node down|resume")
	}
	ts.Check(cluster(ts).SetNode(strings.ToUpper(args[0])))
}

// slurmCondition is [slurm]: true when a test cluster can start here.
// Without it, CI fails the script instead of skipping it.
func slurmCondition() (bool, error) {
	if err := slurmtest.Available(); err != nil {
		if os.Getenv("CI") != "" {
			return false, err
		}
		return false, nil
	}
	return true, nil
}

// cmdSlurmOrder checks that the jobs named BEFORE* were submitted before,
// and ended no later than (to Slurm's second) the start of, every job
// named AFTER*:
//
//	slurm-order BEFORE AFTER
func cmdSlurmOrder(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: slurm-order BEFORE AFTER")
	}
	out, err := cluster(ts).Run("squeue", "-h", "--states=all", "-o", "%i %j %S %e")
	ts.Check(err)
	type job struct {
		id         int
		start, end string
	}
	var before, after []job
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) != 4 {
			continue
		}
		id, _ := strconv.Atoi(f[0])
		j := job{id, f[2], f[3]}
		switch {
		case strings.HasPrefix(f[1], args[0]):
			before = append(before, j)
		case strings.HasPrefix(f[1], args[1]):
			after = append(after, j)
		}
	}
	if len(before) == 0 || len(after) == 0 {
		ts.Fatalf("slurm-order: no jobs named %s* or %s*:\n%s", args[0], args[1], out)
	}
	for _, b := range before {
		for _, a := range after {
			// Slurm's times are ISO 8601 to the second: they sort as text.
			if b.id > a.id || b.end > a.start {
				ts.Fatalf("job %d (%s*, ended %s) is not before job %d (%s*, started %s)", b.id, args[0], b.end, a.id, args[1], a.start)
			}
		}
	}
}
