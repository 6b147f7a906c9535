// Package slurmtest starts a real one-node Slurm cluster on loopback for
// tests: a private munged, slurmctld and slurmd, all as root, with every
// file they write (configuration, state, spool, logs, pid files, the munge
// socket) in one temporary directory. Clients and daemons find the cluster
// through the SLURM_CONF environment variable; nothing under /etc/slurm is
// read or written, and the system's munged (if any) is left alone.
//
// It is imported only from tests (and the testscript commands of
// cmd/portmake). Starting takes a few seconds; Stop cancels whatever jobs
// are left and stops the daemons by the pids in their pid files.
package slurmtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tools are the programs a cluster needs: the daemons and the clients the
// tests drive it with.
var Tools = []string{"munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "scontrol", "sinfo", "runuser"}

// Options shape the cluster. The zero value is a node with the host's CPUs,
// most of its memory and its architecture as the only feature.
type Options struct {
	Features []string // node features; default: the host architecture (uname -m)
	CPUs     int      // default: runtime.NumCPU()
	MemoryMB int      // RealMemory; default: 90% of MemTotal
	// ReturnToService is slurm.conf's: 1 (the default here) keeps a node
	// that was set DOWN by hand down until `scontrol update state=resume`,
	// so a test decides when it comes back.
	ReturnToService int
	// MinJobAge is how long finished jobs stay visible in squeue, in
	// seconds; default 300 (Slurm's).
	MinJobAge int
	// DefaultScheduling keeps Slurm's default SchedulerParameters, which
	// delay a batch job's scheduling by up to 3 seconds; by default the
	// cluster schedules each job as soon as it is submitted.
	DefaultScheduling bool
}

// Cluster is a running one-node cluster.
type Cluster struct {
	Dir       string // everything the cluster writes
	Conf      string // its slurm.conf; SLURM_CONF must point here
	Node      string // the node name: the host name
	Partition string
	Features  []string
	CPUs      int
	MemoryMB  int

	mungePid, ctldPid, slurmdPid string // pid files
}

// Available reports why a cluster cannot be started here, or nil: it
// needs root (slurmd runs jobs as their owner) and the tools.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("a Slurm test cluster needs root")
	}
	for _, t := range Tools {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s is not on PATH (apt-get install slurm-wlm munge)", t)
		}
	}
	if _, err := user.Lookup("munge"); err != nil {
		return fmt.Errorf("user munge: %w (apt-get install munge)", err)
	}
	if _, err := os.Stat(mungeKey); err != nil {
		return fmt.Errorf("munge key: %w (the munge package creates it)", err)
	}
	return nil
}

const mungeKey = "/etc/munge/munge.key"

// New starts a cluster for a test and stops it at the end. It skips the
// test when a cluster cannot start here, unless CI is set: CI installs
// everything, so there it fails.
func New(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("slurm test cluster: %v (CI is set, so this is a failure)", err)
		}
		t.Skipf("slurm test cluster: %v", err)
	}
	c, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// Env returns the environment a Slurm client needs to reach the cluster.
func (c *Cluster) Env() []string { return []string{"SLURM_CONF=" + c.Conf} }

// Start starts munged, slurmctld and slurmd and waits until the node is
// idle. On failure everything started is stopped and the daemons' logs are
// in the error.
func Start(opts Options) (_ *Cluster, err error) {
	if err := Available(); err != nil {
		return nil, err
	}
	host, err := os.Hostname()
	if err != nil {
		return nil, err
	}
	host, _, _ = strings.Cut(host, ".")
	c := &Cluster{Node: host, Partition: "build", Features: opts.Features, CPUs: opts.CPUs, MemoryMB: opts.MemoryMB}
	if len(c.Features) == 0 {
		c.Features = []string{hostArch()}
	}
	if c.CPUs <= 0 {
		c.CPUs = runtime.NumCPU()
	}
	if c.MemoryMB <= 0 {
		total, err := memTotalMB()
		if err != nil {
			return nil, err
		}
		c.MemoryMB = total * 9 / 10
	}
	// Not t.TempDir: munged runs as user munge and must traverse to its
	// socket, and the parents of a test's temp dir are private to root.
	if c.Dir, err = os.MkdirTemp("", "portmake-slurm-"); err != nil {
		return nil, err
	}
	if err := os.Chmod(c.Dir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			logs := c.logs()
			if serr := c.Stop(); serr != nil {
				err = errors.Join(err, serr)
			}
			err = fmt.Errorf("start slurm test cluster: %w\n%s", err, logs)
		}
	}()
	if err := c.startMunge(); err != nil {
		return c, err
	}
	if err := c.writeConf(opts); err != nil {
		return c, err
	}
	for _, d := range []string{"slurmctld", "slurmd"} {
		cmd := exec.Command(d)
		cmd.Env = append(os.Environ(), c.Env()...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return c, fmt.Errorf("%s: %w: %s", d, err, out)
		}
	}
	return c, c.waitIdle(30 * time.Second)
}

func (c *Cluster) path(p ...string) string { return filepath.Join(append([]string{c.Dir}, p...)...) }

func (c *Cluster) startMunge() error {
	dir := c.path("munge")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	u, err := user.Lookup("munge")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return err
	}
	c.mungePid = filepath.Join(dir, "munged.pid")
	cmd := exec.Command("runuser", "-u", "munge", "--", "munged",
		"--socket="+c.mungeSocket(), "--pid-file="+c.mungePid,
		"--log-file="+filepath.Join(dir, "munged.log"), "--seed-file="+filepath.Join(dir, "munged.seed"),
		"--key-file="+mungeKey)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("munged: %w: %s", err, out)
	}
	return waitFor(10*time.Second, "munged socket", func() (bool, error) {
		_, err := os.Stat(c.mungeSocket())
		return err == nil, nil
	})
}

func (c *Cluster) mungeSocket() string { return c.path("munge", "munge.socket") }

// freePort returns a loopback TCP port nobody listens on now. Another
// process could take it before the daemon binds it; the daemon would then
// fail to start and say so.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) writeConf(opts Options) error {
	for _, d := range []string{"state", "spool", "log"} {
		if err := os.Mkdir(c.path(d), 0o755); err != nil {
			return err
		}
	}
	ctldPort, err := freePort()
	if err != nil {
		return err
	}
	slurmdPort, err := freePort()
	if err != nil {
		return err
	}
	rts := opts.ReturnToService
	if rts == 0 {
		rts = 1
	}
	minAge := opts.MinJobAge
	if minAge <= 0 {
		minAge = 300
	}
	c.ctldPid, c.slurmdPid = c.path("slurmctld.pid"), c.path("slurmd.pid")
	var b bytes.Buffer
	w := func(k string, v any) { fmt.Fprintf(&b, "%s=%v\n", k, v) }
	w("ClusterName", "portmake")
	w("SlurmctldHost", c.Node+"(127.0.0.1)")
	w("SlurmctldPort", ctldPort)
	w("SlurmdPort", slurmdPort)
	w("AuthType", "auth/munge")
	w("AuthInfo", "socket="+c.mungeSocket())
	w("CredType", "cred/munge")
	w("SlurmUser", "root")
	w("SlurmdUser", "root")
	w("StateSaveLocation", c.path("state"))
	w("SlurmdSpoolDir", c.path("spool"))
	w("SlurmctldPidFile", c.ctldPid)
	w("SlurmdPidFile", c.slurmdPid)
	w("SlurmctldLogFile", c.path("log", "slurmctld.log"))
	w("SlurmdLogFile", c.path("log", "slurmd.log"))
	w("ProctrackType", "proctrack/linuxproc")
	w("TaskPlugin", "task/none")
	w("SelectType", "select/cons_tres")
	w("SelectTypeParameters", "CR_Core_Memory")
	w("AccountingStorageType", "accounting_storage/none")
	w("JobAcctGatherType", "jobacct_gather/none")
	w("JobCompType", "jobcomp/none")
	w("MpiDefault", "none")
	w("SchedulerType", "sched/backfill")
	// Slurm delays the scheduling of batch jobs by up to 3 seconds by
	// default, to batch bursts of submissions; a test wants each job at
	// once, and an option can restore the default for measurements.
	if !opts.DefaultScheduling {
		w("SchedulerParameters", "batch_sched_delay=0,sched_min_interval=0")
	}
	w("ReturnToService", rts)
	w("MinJobAge", minAge)
	w("SlurmctldTimeout", 30)
	w("SlurmdTimeout", 30)
	w("KillWait", 5)
	fmt.Fprintf(&b, "NodeName=%s NodeAddr=127.0.0.1 CPUs=%d RealMemory=%d Features=%s State=UNKNOWN\n",
		c.Node, c.CPUs, c.MemoryMB, strings.Join(c.Features, ","))
	fmt.Fprintf(&b, "PartitionName=%s Nodes=%s Default=YES MaxTime=INFINITE State=UP\n", c.Partition, c.Node)
	c.Conf = c.path("slurm.conf")
	return os.WriteFile(c.Conf, b.Bytes(), 0o644)
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), c.Env()...)
	return cmd
}

// Run runs a Slurm client command against the cluster and returns its
// standard output.
func (c *Cluster) Run(name string, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := c.command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// NodeState returns the node's state as sinfo prints it ("idle", "down*",
// "alloc", ...).
func (c *Cluster) NodeState() (string, error) {
	out, err := c.Run("sinfo", "-h", "-n", c.Node, "-o", "%t")
	return strings.TrimSpace(out), err
}

// SetNode runs `scontrol update nodename=NODE state=STATE reason=...`: DOWN
// kills the node's jobs (NODE_FAIL), RESUME brings it back.
func (c *Cluster) SetNode(state string) error {
	_, err := c.Run("scontrol", "update", "nodename="+c.Node, "state="+state, "reason=portmake test")
	return err
}

func (c *Cluster) waitIdle(timeout time.Duration) error {
	var last string
	err := waitFor(timeout, "the node to be idle", func() (bool, error) {
		st, err := c.NodeState()
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = st
		return st == "idle", nil
	})
	if err != nil {
		return fmt.Errorf("%w (last: %s)", err, last)
	}
	return nil
}

// Jobs returns the ids and states of the cluster's jobs that are not
// finished (pending, running, completing, ...), as squeue lists them.
func (c *Cluster) Jobs() (map[string]string, error) {
	out, err := c.Run("squeue", "-h", "-o", "%i %T")
	if err != nil {
		return nil, err
	}
	jobs := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 {
			jobs[f[0]] = f[1]
		}
	}
	return jobs, nil
}

// Stop cancels the cluster's jobs, stops slurmd, slurmctld and munged, and
// removes the directory. It is safe to call on a half-started cluster and
// more than once.
func (c *Cluster) Stop() error {
	if c.Dir == "" {
		return nil
	}
	var errs []error
	if c.Conf != "" {
		if jobs, err := c.Jobs(); err == nil && len(jobs) > 0 {
			for id := range jobs {
				_, _ = c.Run("scancel", id)
			}
			_ = waitFor(15*time.Second, "jobs to end", func() (bool, error) {
				jobs, err := c.Jobs()
				return err != nil || len(jobs) == 0, nil
			})
		}
	}
	for _, pf := range []string{c.slurmdPid, c.ctldPid, c.mungePid} {
		if pf == "" {
			continue
		}
		if err := stopPidFile(pf); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		errs = append(errs, os.RemoveAll(c.Dir))
		c.Dir = ""
	}
	return errors.Join(errs...)
}

// stopPidFile sends SIGTERM to the pid in file and waits for it to exit,
// then SIGKILL. A missing pid file means the daemon never started.
func stopPidFile(file string) error {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return fmt.Errorf("%s: %q is not a pid", file, data)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); errors.Is(err, syscall.ESRCH) {
		return nil
	}
	if waitFor(10*time.Second, file, func() (bool, error) { return !alive(pid), nil }) == nil {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return waitFor(5*time.Second, file, func() (bool, error) { return !alive(pid), nil })
}

// alive reports whether pid runs; a zombie (a daemon whose parent, in a
// container without an init, never reaps it) does not.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 {
		if f := strings.Fields(string(stat[i+1:])); len(f) > 0 && f[0] == "Z" {
			return false
		}
	}
	return true
}

// logs returns the tails of the daemons' logs, for a failed start.
func (c *Cluster) logs() string {
	var b strings.Builder
	for _, f := range []string{c.path("munge", "munged.log"), c.path("log", "slurmctld.log"), c.path("log", "slurmd.log")} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if len(data) > 4096 {
			data = data[len(data)-4096:]
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", f, data)
	}
	return b.String()
}

// Log returns the controller's and slurmd's logs, for a failing test.
func (c *Cluster) Log() string { return c.logs() }

func waitFor(timeout time.Duration, what string, ok func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, err := ok()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func hostArch() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return runtime.GOARCH
	}
	var b []byte
	for _, c := range u.Machine {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

func memTotalMB() (int, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				return 0, fmt.Errorf("/proc/meminfo: %q", line)
			}
			return kb / 1024, nil
		}
	}
	return 0, errors.New("/proc/meminfo: no MemTotal")
}
