package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/alecthomas/kong"
)

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var cli CLI
	exitCode := -1
	parser, err := kong.New(&cli,
		kong.Name("portmake"),
		kong.Description("Plan and build an Arch Linux port from its Portfile."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Vars{"version": "portmake " + version()},
		kong.Exit(func(code int) { exitCode = code; panic(kongExit{}) }),
	)
	if err != nil {
		fmt.Fprintln(stderr, "portmake:", err)
		return 1
	}
	if len(args) == 0 {
		args = []string{"--help"} // portmake alone prints the help
	}
	if hint := singleDashHint(parser, args); hint != "" {
		fmt.Fprintln(stderr, "portmake:", hint)
		return 1
	}
	var kctx *kong.Context
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(kongExit); !ok {
					panic(r)
				}
			}
		}()
		kctx, err = parser.Parse(args)
	}()
	if exitCode >= 0 {
		return exitCode
	}
	if err != nil {
		fmt.Fprintln(stderr, "portmake:", err)
		return 1
	}
	if cli.Chdir != "" {
		if err := os.Chdir(cli.Chdir); err != nil {
			fmt.Fprintln(stderr, "portmake:", err)
			return 1
		}
	}
	level, err := cli.level()
	if err != nil {
		fmt.Fprintln(stderr, "portmake:", err)
		return 1
	}
	env := &Env{
		Ctx:    ctx,
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: stderr,
		Log:    newLogger(stderr, level),
	}
	err = kctx.Run(env, &cli.Globals)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(stderr, "portmake:", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintln(stderr, "portmake:", err)
	return 1
}

type kongExit struct{}

// version is the module version the binary was built from, or the VCS
// revision of a development build.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		return "devel-" + rev + dirty
	}
	if v == "" {
		return "(devel)"
	}
	return v
}

// singleDashHint catches Terraform habits: "-var x=1" or "-auto-approve",
// a long flag with one dash, which kong would read as a cluster of short
// flags. It names the flag with two dashes.
func singleDashHint(parser *kong.Kong, args []string) string {
	long := map[string]bool{}
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		for _, f := range n.Flags {
			long[f.Name] = true
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(parser.Model.Node)
	for _, a := range args {
		if a == "--" {
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		if long[name] {
			return fmt.Sprintf("unknown flag %s: long flags take two dashes; did you mean --%s?", a, a[1:])
		}
	}
	return ""
}
