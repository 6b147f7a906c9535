package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/watch"
)

// WatchCmd keeps the port in step with upstream: refresh, plan, apply,
// sleep, over and over.
type WatchCmd struct {
	PlanFlags
	Interval     time.Duration `default:"15m" help:"Time between rounds (a Go duration: 15m, 1h, 90s)."`
	Jitter       float64       `default:"0.1" help:"Spread each wait by up to this fraction of it, at random (0: none)."`
	Backoff      time.Duration `default:"30s" help:"Wait after a failed round, doubled for each failed round in a row (up to --interval)."`
	Once         bool          `help:"Run one round and exit (1 if it failed, or a build failed or is held by failure memory)."`
	Rounds       int           `help:"Stop after this many rounds (0: run until stopped)." hidden:""`
	Abort        bool          `help:"On SIGTERM or SIGINT abort running builds (default: let them finish; a second signal aborts)."`
	FailureLimit int           `name:"failure-limit" default:"2" help:"Stop retrying a build after it failed this many times with the same inputs (portmake retry clears it)."`
	Jobs         int           `short:"j" help:"Concurrent builds (default: build.jobs)."`
	NoUpload     bool          `name:"no-upload" help:"Build without publishing."`
	Promote      bool          `help:"After a round that built something, promote from testing to stable (as portmake promote)."`
	Listen       string        `help:"Serve the status page, /api/status and /metrics on this address (read-only; e.g. 127.0.0.1:8080, or :8080 for loopback)." placeholder:"ADDR"`
	LogFormat    string        `name:"log-format" default:"text" enum:"text,json" help:"Log format on stderr: text or json (for journald)."`
}

func (c *WatchCmd) Run(env *Env, g *Globals) error {
	log := c.logger(env, g)
	env.Log = log // the engine logs to it too
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()

	// First signal: drain (or abort with --abort); second: abort, and
	// record the aborted builds (main's handler would exit at once).
	ownSignals.Store(true)
	ctx, cancel := context.WithCancel(context.WithoutCancel(env.Ctx))
	defer cancel()
	drain := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for n := 1; ; n++ {
			select {
			case s := <-sigs:
				if n == 1 && !c.Abort {
					log.Warn("stopping: running builds finish; a second signal aborts them", "signal", s.String())
					close(drain)
					continue
				}
				log.Warn("stopping: aborting running builds", "signal", s.String())
				if n == 1 {
					close(drain)
				}
				cancel()
				return
			case <-ctx.Done():
				return
			}
		}
	}()

	rounds := c.Rounds
	if c.Once {
		rounds = 1
	}
	jitter := c.Jitter
	if jitter == 0 {
		jitter = -1 // watch.Options: zero is the default, negative is none
	}
	d := watch.New(p, watch.Options{
		Interval: c.Interval, Jitter: jitter, MinBackoff: c.Backoff, Rounds: rounds,
		FailureLimit: c.FailureLimit, Abort: c.Abort, Promote: c.Promote,
		Plan:   c.PlanFlags.options(),
		Apply:  engine.ApplyOptions{Jobs: c.Jobs, NoUpload: c.NoUpload},
		Log:    log,
		Notify: watch.SystemdNotifier(),
	})
	if c.Listen != "" {
		addr, served, err := watch.NewServer(d).Listen(ctx, c.Listen)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Status on http://%s/\n", addr)
		defer func() {
			cancel()
			<-served
		}()
	}
	return d.Run(ctx, drain)
}

// logger is the daemon's structured log on stderr: rounds and builds at
// info (debug with --log-level debug), as text or JSON.
func (c *WatchCmd) logger(env *Env, g *Globals) *slog.Logger {
	level := slog.LevelInfo
	if g.LogLevel == "debug" {
		level = slog.LevelDebug
	}
	o := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(env.Stderr, o))
	}
	return slog.New(slog.NewTextHandler(env.Stderr, o))
}
