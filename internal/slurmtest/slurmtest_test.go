package slurmtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCluster starts a cluster, runs a job on it, takes the node down and
// up again, and stops it: the daemons must be gone afterwards.
func TestCluster(t *testing.T) {
	c := New(t, Options{Features: []string{"riscv64", "big"}})
	script := filepath.Join(c.Dir, "job.sh")
	out := filepath.Join(c.Dir, "out.txt")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	id, err := c.Run("sbatch", "--parsable", "--wait", "--constraint=riscv64&big", "--output="+out, script, "echo", "it's $HOME")
	if err != nil {
		t.Fatalf("%v\n%s", err, c.Log())
	}
	if strings.TrimSpace(id) == "" {
		t.Fatal("sbatch printed no job id")
	}
	data, err := os.ReadFile(out)
	if err != nil || string(data) != "it's $HOME\n" {
		t.Fatalf("job output %q, %v", data, err)
	}
	if _, err := c.Run("sbatch", "--parsable", "--constraint=aarch64", script, "true"); err == nil ||
		!strings.Contains(err.Error(), "Invalid feature specification") {
		t.Errorf("a constraint no node has: got %v", err)
	}

	if err := c.SetNode("DOWN"); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.NodeState(); !strings.HasPrefix(st, "down") {
		t.Errorf("after DOWN the node is %q", st)
	}
	if err := c.SetNode("RESUME"); err != nil {
		t.Fatal(err)
	}
	if err := c.waitIdle(10 * time.Second); err != nil {
		t.Error(err)
	}

	pids := []string{c.slurmdPid, c.ctldPid, c.mungePid}
	var live []int
	for _, pf := range pids {
		data, err := os.ReadFile(pf)
		if err != nil {
			t.Fatal(err)
		}
		var pid int
		for _, ch := range strings.TrimSpace(string(data)) {
			pid = pid*10 + int(ch-'0')
		}
		live = append(live, pid)
	}
	dir := c.Dir
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range live {
		if alive(pid) {
			t.Errorf("daemon %d still runs after Stop", pid)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s is left: %v", dir, err)
	}
}
