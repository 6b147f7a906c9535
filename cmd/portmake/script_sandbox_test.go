package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/portmake/portmake/internal/fsutil"
	"github.com/portmake/portmake/store"
)

// Fixtures for the sandbox, integrity and build-user scenarios.
func init() {
	scriptCommands["serve-dir"] = cmdServeDir
	scriptCommands["fillin"] = cmdFillIn
	scriptCommands["sha256"] = cmdSHA256
	scriptCommands["pgp-sign"] = cmdPGPSign
	scriptCommands["random-user"] = cmdRandomUser
	scriptCommands["path-without"] = cmdPathWithout
	scriptCommands["build-users"] = cmdBuildUsers
	scriptCommands["unprivileged"] = cmdUnprivileged
}

// cmdServeDir serves DIR over HTTP on loopback for the rest of the
// script and puts its base URL in $HTTP:
//
//	serve-dir DIR
//
// Sources that makepkg downloads in the sandbox come from here.
func cmdServeDir(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: serve-dir DIR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: http.FileServer(http.Dir(ts.MkAbs(args[0]))), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	ts.Setenv("HTTP", "http://"+ln.Addr().String())
}

var fillVar = regexp.MustCompile(`@([A-Z_][A-Z0-9_]*)@`)

// cmdFillIn replaces every @NAME@ in the files by the value of $NAME:
//
//	fillin FILE...
//
// PKGBUILDs need values known only while the script runs (the HTTP
// server's URL, a checksum, a key's fingerprint), and ${NAME} would clash
// with the shell's own syntax.
func cmdFillIn(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: fillin FILE...")
	}
	for _, f := range args {
		path := ts.MkAbs(f)
		data, err := os.ReadFile(path)
		ts.Check(err)
		data = fillVar.ReplaceAllFunc(data, func(m []byte) []byte {
			name := string(m[1 : len(m)-1])
			v := ts.Getenv(name)
			if v == "" {
				ts.Fatalf("fillin %s: $%s is not set", f, name)
			}
			return []byte(v)
		})
		ts.Check(os.WriteFile(path, data, 0o644))
	}
}

// cmdSHA256 puts the sha256 of FILE in $VAR:
//
//	sha256 FILE VAR
func cmdSHA256(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sha256 FILE VAR")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	sum := sha256.Sum256(data)
	ts.Setenv(args[1], hex.EncodeToString(sum[:]))
}

// cmdPGPSign signs FILE (FILE.sig, detached) with a throwaway key made for
// this script in a GNUPGHOME of its own, exports the public key, armored,
// to KEYFILE, and puts its fingerprint in $FPR:
//
//	pgp-sign FILE KEYFILE
func cmdPGPSign(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: pgp-sign FILE KEYFILE")
	}
	home := ts.MkAbs(".throwaway-gnupg")
	ts.Check(os.MkdirAll(home, 0o700))
	gpg := func(args ...string) string {
		cmd := exec.Command("gpg", append([]string{"--batch", "--no-tty", "--homedir", home}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			ts.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return string(out)
	}
	if ts.Getenv("FPR") == "" {
		gpg("--passphrase", "", "--quick-gen-key", "portmake test <test@portmake.invalid>", "default", "default", "never")
		for _, l := range strings.Split(gpg("--with-colons", "--list-keys"), "\n") {
			if f := strings.Split(l, ":"); len(f) > 9 && f[0] == "fpr" {
				ts.Setenv("FPR", f[9])
				break
			}
		}
	}
	fpr := ts.Getenv("FPR")
	file := ts.MkAbs(args[0])
	os.Remove(file + ".sig")
	gpg("--local-user", fpr, "--detach-sign", "--output", file+".sig", file)
	keyfile := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(filepath.Dir(keyfile), 0o755))
	ts.Check(os.WriteFile(keyfile, []byte(gpg("--armor", "--export", fpr)), 0o644))
}

// cmdRandomUser puts a user name that does not exist yet in $VAR and
// removes that user (if the script made it exist) when the script ends:
//
//	random-user VAR
func cmdRandomUser(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: random-user VAR")
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "pmtest-" + hex.EncodeToString(b)
	ts.Setenv(args[0], name)
	ts.Defer(func() {
		if exec.Command("id", name).Run() == nil {
			if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
				ts.Logf("userdel %s: %v: %s", name, err, out)
			}
		}
	})
}

// cmdPathWithout sets PATH to the current PATH without the named programs:
// each directory that holds one is replaced by a directory of symlinks to
// everything else in it.
//
//	path-without PROGRAM...
func cmdPathWithout(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: path-without PROGRAM...")
	}
	drop := map[string]bool{}
	for _, a := range args {
		drop[a] = true
	}
	var dirs []string
	for i, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		has := false
		for a := range drop {
			if _, err := os.Stat(filepath.Join(dir, a)); err == nil {
				has = true
			}
		}
		if !has {
			dirs = append(dirs, dir)
			continue
		}
		shadow := ts.MkAbs(filepath.Join(".path-without", strings.Repeat("d", i+1)))
		ts.Check(os.MkdirAll(shadow, 0o755))
		ents, err := os.ReadDir(dir)
		ts.Check(err)
		for _, e := range ents {
			if !drop[e.Name()] {
				ts.Check(os.Symlink(filepath.Join(dir, e.Name()), filepath.Join(shadow, e.Name())))
			}
		}
		dirs = append(dirs, shadow)
	}
	ts.Setenv("PATH", strings.Join(dirs, string(os.PathListSeparator)))
}

// cmdBuildUsers prints the build users a state store records as created,
// one name a line:
//
//	build-users STATE.db
func cmdBuildUsers(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: build-users STATE.db")
	}
	st, err := store.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer st.Close()
	us, err := st.BuildUsers(context.Background())
	ts.Check(err)
	for _, u := range us {
		fmt.Fprintln(ts.Stdout(), u.Name)
	}
}

// cmdUnprivileged runs portmake as USER, an ordinary user made for the
// script (name it with random-user), who owns $WORK:
//
//	[!] unprivileged USER portmake ARG...
//
// The scenarios run as root in CI; this one is how a maintainer without
// root runs portmake. The test binary is copied where USER can run it.
func cmdUnprivileged(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || args[1] != "portmake" {
		ts.Fatalf("usage: unprivileged USER portmake ARG...")
	}
	user := args[0]
	if exec.Command("id", user).Run() != nil {
		if out, err := exec.Command("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", user).CombinedOutput(); err != nil {
			ts.Fatalf("useradd %s: %v: %s", user, err, out)
		}
	}
	work := ts.Getenv("WORK")
	// USER must reach $WORK: the test's temporary directories are mode
	// 0700.
	for d := filepath.Dir(work); d != os.TempDir() && d != filepath.Dir(d); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		ts.Check(err)
		ts.Check(os.Chmod(d, fi.Mode().Perm()|0o011))
	}
	self, err := os.Executable()
	ts.Check(err)
	bin := filepath.Join(work, ".unprivileged", "portmake")
	if _, err := os.Stat(bin); err != nil {
		ts.Check(os.MkdirAll(filepath.Dir(bin), 0o755))
		ts.Check(fsutil.CopyFile(self, bin, 0o755))
	}
	if out, err := exec.Command("chown", "-R", user+":", work).CombinedOutput(); err != nil {
		ts.Fatalf("chown %s: %v: %s", work, err, out)
	}
	cmd := exec.Command("runuser", append([]string{"-u", user, "--", bin}, args[2:]...)...)
	cmd.Dir = ts.MkAbs(".")
	for _, kv := range []string{"PATH", "LANG", "TMPDIR", "CI", "PORTMAKE_CORPUS"} {
		if v := ts.Getenv(kv); v != "" {
			cmd.Env = append(cmd.Env, kv+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+work, "USER="+user, "LOGNAME="+user)
	cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
	err = cmd.Run()
	switch {
	case neg && err == nil:
		ts.Fatalf("unexpected success")
	case !neg && err != nil:
		ts.Fatalf("portmake as %s: %v", user, err)
	}
}
