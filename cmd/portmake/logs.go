package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/store"
)

// LogsCmd prints or follows the latest build log of a pkgbase.
type LogsCmd struct {
	Package string `arg:"" help:"pkgbase."`
	Follow  bool   `short:"F" name:"follow" help:"Keep printing as the build writes (until its footer)."`
}

func (c *LogsCmd) Run(env *Env, g *Globals) error {
	pf, err := loadPortfile(env, g)
	if err != nil {
		return err
	}
	path, err := executor.LatestLog(pf.Build.Logs, c.Package)
	if err != nil {
		return err
	}
	if path == "" {
		return fmt.Errorf("logs: no build log of %s in %s", c.Package, pf.Build.Logs)
	}
	if c.Follow {
		return executor.FollowLog(env.Ctx, path, env.Stdout)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(env.Stdout, f)
	return err
}

// StatusCmd shows the current or last apply and its builds.
type StatusCmd struct{}

func (c *StatusCmd) Run(env *Env, g *Globals) error {
	s, err := openSession(env, g)
	if err != nil {
		return err
	}
	defer s.Close()
	a, err := s.st.LastApply(env.Ctx)
	if err != nil {
		return err
	}
	if a == nil {
		fmt.Fprintln(env.Stdout, "No apply yet.")
		return nil
	}
	fmt.Fprintf(env.Stdout, "Apply %d of plan %d (pid %d), %s, started %s\n", a.ID, a.PlanID, a.PID, a.Status,
		a.StartedAt.Local().Format(time.DateTime))
	builds, err := s.st.Builds(env.Ctx, a.ID)
	if err != nil {
		return err
	}
	writeBuilds(env.Stdout, builds)
	return nil
}

// HistoryCmd shows past builds.
type HistoryCmd struct {
	Package string `arg:"" optional:"" help:"Only this pkgbase."`
	Limit   int    `default:"50" help:"Show at most this many builds (0: all)."`
}

func (c *HistoryCmd) Run(env *Env, g *Globals) error {
	s, err := openSession(env, g)
	if err != nil {
		return err
	}
	defer s.Close()
	builds, err := s.st.History(env.Ctx, c.Package, c.Limit)
	if err != nil {
		return err
	}
	if len(builds) == 0 {
		fmt.Fprintln(env.Stdout, "No builds yet.")
		return nil
	}
	writeBuilds(env.Stdout, builds)
	return nil
}

func writeBuilds(w io.Writer, builds []store.Build) {
	for _, b := range builds {
		status := b.Status
		if b.Published() {
			status += ",published"
		}
		rss := "-"
		if b.PeakRSS > 0 {
			rss = fmt.Sprintf("%dMiB", b.PeakRSS>>20)
		}
		fmt.Fprintf(w, "%s  %-24s %-20s stage %d  %-20s %8s  rss %6s  %s\n",
			b.StartedAt.Local().Format(time.DateTime), b.Pkgbase, b.Version, b.Stage, status,
			b.Duration.Round(time.Second), rss, b.LogPath)
		if b.Error != "" {
			fmt.Fprintf(w, "    error: %s\n", b.Error)
		}
	}
}
