package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/portmake/portmake/store"
)

func init() {
	scriptCommands["builder-access"] = cmdBuilderAccess
	scriptCommands["state-lock"] = cmdStateLock
	scriptCommands["wait-file"] = cmdWaitFile
	scriptCommands["pid-gone"] = cmdPidGone
	scriptCommands["nohash"] = cmdNoHash
	scriptCommands["nosystem"] = cmdNoSystem
	scriptCommands["fakedevtools"] = cmdFakeDevtools
}

// cmdFakeDevtools installs the fake devtools of testdata/fakedevtools
// (makechrootpkg, mkarchroot, arch-nspawn) into $WORK/bin, puts that first on PATH, and
// points their records at $WORK/rec:
//
//	fakedevtools
//
// The fakes record their argv and write real (tiny) packages; see the
// comments in the scripts for their switches (FAKE_FAIL, FAKE_SLEEP).
func cmdFakeDevtools(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: fakedevtools")
	}
	bin := ts.MkAbs("bin")
	ts.Check(os.MkdirAll(bin, 0o755))
	for _, name := range []string{"makechrootpkg", "mkarchroot", "arch-nspawn"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fakedevtools", name))
		ts.Check(err)
		ts.Check(os.WriteFile(filepath.Join(bin, name), data, 0o755))
	}
	ts.Setenv("PATH", bin+string(os.PathListSeparator)+ts.Getenv("PATH"))
	rec := ts.MkAbs("rec")
	ts.Check(os.MkdirAll(rec, 0o755))
	ts.Setenv("FAKE_RECORD", rec)
}

// cmdBuilderAccess lets the unprivileged build user reach $WORK:
//
//	builder-access
//
// As root, makepkg (even makepkg --packagelist) runs as the build user,
// which must read the PKGBUILD trees and makepkg.conf under $WORK; the
// temporary directories testscript makes are private to root. It adds
// o+rx to $WORK and its parents up to the system temp directory. As
// another user it does nothing.
func cmdBuilderAccess(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: builder-access")
	}
	if os.Geteuid() != 0 {
		return
	}
	tmp := filepath.Clean(os.TempDir())
	for dir := ts.Getenv("WORK"); dir != tmp && dir != "/" && dir != "."; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		ts.Check(err)
		ts.Check(os.Chmod(dir, fi.Mode().Perm()|0o005))
	}
}

// cmdStateLock takes the apply lock of a state DB for another process, the
// way a concurrent apply would hold it:
//
//	state-lock STATE.db live|dead
//
// live: the lock belongs to the test process itself, which is alive for
// the whole script (and is not the portmake under test). dead: to the pid
// of a process that has already exited, as a kill -9 leaves it. The pid is
// put in $LOCKPID.
func cmdStateLock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: state-lock STATE.db live|dead")
	}
	var pid int
	switch args[1] {
	case "live":
		pid = os.Getpid()
	case "dead":
		cmd := exec.Command("true")
		ts.Check(cmd.Run())
		pid = cmd.Process.Pid
	default:
		ts.Fatalf("state-lock: want live or dead, not %q", args[1])
	}
	path := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(path), 0o755))
	st, err := store.Open(path)
	ts.Check(err)
	defer st.Close()
	// The release func is dropped on purpose: the holder "goes away"
	// without unlocking, like a process that is still running or died.
	_, err = st.Lock(context.Background(), pid, time.Now())
	ts.Check(err)
	ts.Setenv("LOCKPID", strconv.Itoa(pid))
}

// cmdWaitFile waits until a file exists and is not empty:
//
//	wait-file FILE [SECONDS]
//
// It synchronises a script with a background command (a fake builder
// writes its pid once it runs). Default timeout: 60 seconds.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: wait-file FILE [SECONDS]")
	}
	timeout := 60 * time.Second
	if len(args) == 2 {
		n, err := strconv.Atoi(args[1])
		if err != nil || n <= 0 {
			ts.Fatalf("wait-file: %q is not a number of seconds", args[1])
		}
		timeout = time.Duration(n) * time.Second
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(timeout)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("wait-file: %s did not appear within %v", args[0], timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cmdPidGone checks that the process whose pid is in FILE no longer runs:
//
//	pid-gone FILE
//
// A zombie counts as gone: it runs nothing, and in a container without an
// init that reaps, orphans' zombies linger. It waits up to 5 seconds for
// the process to die, since a SIGTERM takes a moment to be acted on.
func cmdPidGone(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pid-gone FILE")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		ts.Fatalf("pid-gone: %s holds %q, not a pid", args[0], data)
	}
	deadline := time.Now().Add(5 * time.Second)
	for running(pid) {
		if time.Now().After(deadline) {
			stat, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			ts.Fatalf("pid-gone: process %d still runs: %s", pid, stat)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func running(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Field 3, after the parenthesised command name, is the state.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 {
		if f := strings.Fields(string(stat[i+1:])); len(f) > 0 && f[0] == "Z" {
			return false
		}
	}
	return true
}

// hexRun is a node hash or a prefix of one, as paths and logs show them.
var hexRun = regexp.MustCompile(`[0-9a-f]{12,64}`)

// cmdNoHash replaces every run of 12 to 64 hex digits in FILE by HASH:
//
//	nohash FILE
//
// Node hashes depend on the exact makepkg.conf and pacman.conf bytes, so a
// golden file of commands (dry-run output) compares everything but them.
func cmdNoHash(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: nohash FILE")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	ts.Check(os.WriteFile(path, hexRun.ReplaceAll(data, []byte("HASH")), 0o644))
}

var (
	// systemBinds are the sandbox's read-only views of the host's system
	// directories, which differ between hosts (merged /usr or not, /opt).
	systemBinds = regexp.MustCompile(`bwrap (--(ro-bind|ro-bind-try|symlink) \S+ \S+ )*--dev /dev`)
	buildIDs    = regexp.MustCompile(`--reuid \d+ --regid \d+`)
)

// cmdNoSystem replaces what differs between hosts in the sandbox commands
// of FILE (dry-run output): the system directory binds by SYSTEM, and the
// build user's uid and gid by UID and GID.
//
//	nosystem FILE
func cmdNoSystem(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: nosystem FILE")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	data = systemBinds.ReplaceAll(data, []byte("bwrap SYSTEM --dev /dev"))
	data = buildIDs.ReplaceAll(data, []byte("--reuid UID --regid GID"))
	ts.Check(os.WriteFile(path, data, 0o644))
}
