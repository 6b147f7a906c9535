package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/portmake/portmake/internal/s3fake"
)

func init() {
	scriptCommands["repo-lock"] = cmdRepoLock
	scriptCommands["s3-server"] = cmdS3Server
	scriptCommands["s3-get"] = cmdS3Get
	scriptCommands["s3-put"] = cmdS3Put
	scriptCommands["gpg-key"] = cmdGPGKey
	scriptCommands["http-serve"] = cmdHTTPServe
}

// cmdRepoLock leaves a repository DB lock as repo-add or a killed
// portmake leaves it:
//
//	repo-lock DB.lck live|dead
//
// live: the pid of the test process, alive for the whole script. dead:
// the pid of a process that has exited.
func cmdRepoLock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: repo-lock DB.lck live|dead")
	}
	pid := os.Getpid()
	if args[1] == "dead" {
		cmd := exec.Command("true")
		ts.Check(cmd.Run())
		pid = cmd.Process.Pid
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strconv.Itoa(pid)+"\n"), 0o644))
}

var (
	s3Mu      sync.Mutex
	s3Servers = map[*testscript.TestScript]*s3fake.Server{}
)

func s3Server(ts *testscript.TestScript) *s3fake.Server {
	s3Mu.Lock()
	defer s3Mu.Unlock()
	return s3Servers[ts]
}

// cmdS3Server starts an in-process S3 server on loopback with a bucket
// "port", for the rest of the script, and gives portmake its credentials
// through the environment, as a user would:
//
//	s3-server [no-conditions]
//
// $S3_ENDPOINT is its URL. no-conditions makes it ignore If-Match and
// If-None-Match, like a store without conditional writes.
func cmdS3Server(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 {
		ts.Fatalf("usage: s3-server [no-conditions]")
	}
	srv, err := s3fake.Start(s3fake.Options{AccessKey: "AKIASCRIPT", Secret: "script-secret", IgnoreConditions: len(args) == 1 && args[0] == "no-conditions"})
	ts.Check(err)
	ts.Defer(func() {
		srv.Close()
		s3Mu.Lock()
		delete(s3Servers, ts)
		s3Mu.Unlock()
	})
	ts.Check(srv.CreateBucket("port"))
	s3Mu.Lock()
	s3Servers[ts] = srv
	s3Mu.Unlock()
	none := filepath.Join(ts.Getenv("WORK"), ".aws-none")
	for k, v := range map[string]string{
		"S3_ENDPOINT": srv.URL, "AWS_ACCESS_KEY_ID": "AKIASCRIPT", "AWS_SECRET_ACCESS_KEY": "script-secret",
		"AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
	} {
		ts.Setenv(k, v)
	}
}

// cmdS3Get copies an object of the bucket "port" to a file:
//
//	s3-get KEY FILE
func cmdS3Get(ts *testscript.TestScript, neg bool, args []string) {
	srv := s3Server(ts)
	if srv == nil || len(args) != 2 {
		ts.Fatalf("usage: s3-get KEY FILE (after s3-server)")
	}
	data, err := srv.Object("port", args[0])
	if neg {
		if err == nil {
			ts.Fatalf("%s exists", args[0])
		}
		return
	}
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), data, 0o644))
}

// cmdS3Put writes a file to an object of the bucket "port", as another
// tool would:
//
//	s3-put FILE KEY
func cmdS3Put(ts *testscript.TestScript, neg bool, args []string) {
	srv := s3Server(ts)
	if neg || srv == nil || len(args) != 2 {
		ts.Fatalf("usage: s3-put FILE KEY (after s3-server)")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(srv.PutObject("port", args[1], data))
}

// cmdGPGKey makes a throwaway signing key without a passphrase in a new
// GnuPG home DIR, and puts its fingerprint in $GPGKEY:
//
//	gpg-key DIR
func cmdGPGKey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: gpg-key DIR")
	}
	home := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(home, 0o700))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "gpg", "--batch", "--homedir", home, "--passphrase", "", "--quick-gen-key",
		"portmake scenario <scenario@example.org>", "ed25519", "sign", "never").CombinedOutput(); err != nil {
		ts.Fatalf("gpg: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, "gpg", "--batch", "--homedir", home, "--with-colons", "--list-secret-keys").Output()
	ts.Check(err)
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Split(l, ":"); f[0] == "fpr" {
			ts.Setenv("GPGKEY", f[9])
			return
		}
	}
	ts.Fatalf("gpg made no key")
}

// cmdHTTPServe serves a directory over HTTP on loopback for the rest of
// the script, as a mirror does; $MIRROR is its URL:
//
//	http-serve DIR
func cmdHTTPServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: http-serve DIR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: http.FileServer(http.Dir(ts.MkAbs(args[0]))), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	ts.Setenv("MIRROR", "http://"+ln.Addr().String())
}
