// Command portmake plans and builds an Arch Linux port: it diffs upstream
// sync databases against the port's, orders the work by dependencies and
// builds only what is stale. This package only parses arguments and wires
// the other packages together; it holds no planning logic.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/portmake/portmake/engine"
)

// CLI is the whole command line. Each command lives in its own file.
type CLI struct {
	Globals
	Version kong.VersionFlag `help:"Print portmake's version and exit."`

	Vercmp   VercmpCmd   `cmd:"" help:"Compare two package versions like pacman's vercmp."`
	Repo     RepoCmd     `cmd:"" help:"Read and write pacman sync databases."`
	Srcinfo  SrcinfoCmd  `cmd:"" help:"Show a parsed .SRCINFO file."`
	Validate ValidateCmd `cmd:"" help:"Check a Portfile and report every problem."`
	Fmt      FmtCmd      `cmd:"" help:"Rewrite Portfiles in canonical format."`
	Plan     PlanCmd     `cmd:"" help:"Diff the repositories and save a build plan."`
	Show     ShowCmd     `cmd:"" help:"Show a stored plan."`
	Plans    PlansCmd    `cmd:"" help:"List the stored plans."`
	Why      WhyCmd      `cmd:"" help:"Explain why a package is in the plan, or why not."`
	Explain  ExplainCmd  `cmd:"" help:"Show a build's hash inputs and what changed since its last build."`
	Graph    GraphCmd    `cmd:"" help:"Print the build graph (dot or json)."`
	Apply    ApplyCmd    `cmd:"" help:"Build the stale nodes of a plan and publish them."`
	Logs     LogsCmd     `cmd:"" help:"Print or follow the latest build log of a package."`
	Status   StatusCmd   `cmd:"" help:"Show the current or last apply."`
	History  HistoryCmd  `cmd:"" help:"Show past builds: duration, peak RSS, result, log."`
	Verify   VerifyCmd   `cmd:"" help:"Compare the published repositories with their databases; --repair fixes them."`
	Promote  PromoteCmd  `cmd:"" help:"Move packages from testing to stable, gated on their dependencies."`

	BuildNode BuildNodeCmd `cmd:"" name:"build-node" help:"Build one staged attempt on a build node (what a Slurm job runs)."`

	Analyze    AnalyzeCmd    `cmd:"" help:"Report on the repositories: missing, outdated, misplaced, orphaned, broken dependencies, blacklist."`
	Dependents DependentsCmd `cmd:"" help:"Show what needs a package (or what it needs) and the order to rebuild its dependents."`
	Report     ReportCmd     `cmd:"" help:"Write the port's HTML report (plan, timeline, failures, history)."`
	Watch      WatchCmd      `cmd:"" help:"Keep the port in step with upstream: refresh, plan, apply, sleep; repeat."`
	Retry      RetryCmd      `cmd:"" help:"Forget the failures of pkgbases so they are built again."`
}

// Globals are the flags shared by every command that reads a Portfile.
type Globals struct {
	File     string   `short:"f" default:"Portfile.hcl" help:"Portfile to read (relative to -C)."`
	Chdir    string   `short:"C" name:"chdir" help:"Change to DIR before doing anything." placeholder:"DIR"`
	Var      []string `sep:"none" help:"Set a Portfile variable (name=value); repeatable." placeholder:"NAME=VALUE"`
	VarFile  []string `name:"var-file" sep:"none" help:"Read Portfile variables from an HCL file; repeatable." placeholder:"FILE"`
	Init     bool     `help:"Start a new state store when state.db is not a portmake store (the file is moved aside, never deleted)."`
	LogLevel string   `name:"log-level" default:"warn" enum:"debug,info,warn,error" help:"Diagnostic log level (debug, info, warn, error)."`
	Quiet    bool     `short:"q" help:"Show only errors: --log-level error."`
	Verbose  int      `short:"v" type:"counter" help:"Show more: -v is --log-level info, -vv is --log-level debug."`
}

// level is the log level the flags ask for: -q and -v are shorthands that
// win over --log-level.
func (g *Globals) level() (slog.Level, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.LogLevel)); err != nil {
		return 0, fmt.Errorf("--log-level: %w", err)
	}
	switch {
	case g.Quiet && g.Verbose > 0:
		return 0, errors.New("-q and -v contradict each other")
	case g.Quiet:
		return slog.LevelError, nil
	case g.Verbose == 1:
		return slog.LevelInfo, nil
	case g.Verbose > 1:
		return slog.LevelDebug, nil
	}
	return level, nil
}

// Env is what every command's Run receives: its streams, a logger and a
// context that the first SIGINT or SIGTERM cancels.
type Env struct {
	Ctx    context.Context
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Log    *slog.Logger
}

// exitError carries an exit code other than 1 out of a command, such as
// vercmp's or plan --detailed-exitcode's. A nil Err means nothing to print.
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func main() {
	os.Exit(profiled(func() int { return runWithSignals(os.Args[1:], os.Stdin, os.Stdout, os.Stderr) }))
}

// runWithSignals runs the command line with the two-stage interrupt: the
// first SIGINT or SIGTERM cancels the context, so an apply starts nothing
// new and cancels its running builds (SIGTERM to each process group, then
// SIGKILL after a grace period) and records them aborted; a second one
// kills every running build's process group at once and exits 130.
func runWithSignals(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		n := 0
		for s := range sigs {
			if ownSignals.Load() {
				continue // the command handles them (watch)
			}
			if n++; n == 1 {
				fmt.Fprintf(stderr, "portmake: %v: stopping; running builds are being cancelled (interrupt again to kill them now)\n", s)
				cancel()
				continue
			}
			fmt.Fprintln(stderr, "portmake: killing every running build now")
			engine.KillRunning()
			os.Exit(130)
		}
	}()
	return run(ctx, args, stdin, stdout, stderr)
}

// ownSignals is set by a command that handles SIGINT and SIGTERM itself
// (watch: the first lets running builds finish); runWithSignals then
// leaves them to it.
var ownSignals atomic.Bool
