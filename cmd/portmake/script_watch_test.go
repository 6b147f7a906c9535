package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// Commands for the watch scenarios: a daemon runs in the background, and
// the script talks to its status server and signals it.

func init() {
	scriptCommands["freeport"] = cmdFreePort
	scriptCommands["httpget"] = cmdHTTPGet
	scriptCommands["httpwait"] = cmdHTTPWait
	scriptCommands["signal"] = cmdSignal
	scriptCommands["serve"] = cmdServe
}

// cmdFreePort sets VAR to a loopback address with a port nothing listens
// on (it was free a moment ago):
//
//	freeport VAR
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	addr := ln.Addr().String()
	ts.Check(ln.Close())
	ts.Setenv(args[0], addr)
}

// cmdHTTPGet sends one request and writes the body to stdout and the
// status line to stderr:
//
//	[!] httpget [METHOD] URL
//
// It fails unless the status is 2xx (with !, unless it is not).
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	method := http.MethodGet
	switch len(args) {
	case 1:
	case 2:
		method, args = args[0], args[1:]
	default:
		ts.Fatalf("usage: httpget [METHOD] URL")
	}
	req, err := http.NewRequest(method, args[0], strings.NewReader(""))
	ts.Check(err)
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	ts.Stdout().Write(body)
	fmt.Fprintf(ts.Stderr(), "HTTP %s\n", resp.Status)
	ok := resp.StatusCode/100 == 2
	if ok == neg {
		ts.Fatalf("%s %s: %s", method, args[0], resp.Status)
	}
}

// cmdHTTPWait polls URL until its body matches REGEX, and writes the
// matching body to stdout; refused connections and errors count as "not
// yet":
//
//	httpwait URL REGEX [SECONDS]
//
// The default timeout is 120 seconds: a round on a loaded machine builds.
func cmdHTTPWait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: httpwait URL REGEX [SECONDS]")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	timeout := 120 * time.Second
	if len(args) == 3 {
		n, err := strconv.Atoi(args[2])
		if err != nil || n <= 0 {
			ts.Fatalf("httpwait: %q is not a number of seconds", args[2])
		}
		timeout = time.Duration(n) * time.Second
	}
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(timeout)
	var last string
	for {
		if resp, err := client.Get(args[0]); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(body)
			if re.MatchString(last) {
				ts.Stdout().Write(body)
				return
			}
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			ts.Fatalf("httpwait: %s did not match %q within %v; last: %s", args[0], args[1], timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cmdSignal sends a signal to every background command still running
// (testscript's kill knows only INT and KILL):
//
//	signal TERM|INT|HUP
func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	sigs := map[string]syscall.Signal{"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "HUP": syscall.SIGHUP}
	if neg || len(args) != 1 || sigs[args[0]] == 0 {
		ts.Fatalf("usage: signal TERM|INT|HUP")
	}
	n := 0
	for _, cmd := range ts.BackgroundCmds() {
		if cmd.Process != nil && cmd.ProcessState == nil {
			if err := cmd.Process.Signal(sigs[args[0]]); err == nil {
				n++
			}
		}
	}
	if n == 0 {
		ts.Fatalf("signal: no background command is running")
	}
}

// cmdServe serves DIR over HTTP at ADDR (host:port) for the rest of the
// script: a mirror that comes up on the address a Portfile already names.
//
//	serve ADDR DIR
func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: serve ADDR DIR")
	}
	ln, err := net.Listen("tcp", args[0])
	ts.Check(err)
	srv := &http.Server{Handler: http.FileServer(http.Dir(ts.MkAbs(args[1])))}
	go srv.Serve(ln)
	ts.Defer(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
}
