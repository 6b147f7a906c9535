package ui

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/portmake/portmake/engine"
)

// WriteApply prints an apply's header line.
func WriteApply(w io.Writer, a *engine.ApplyRecord) {
	fmt.Fprintf(w, "Apply %d of plan %d (pid %d), %s, started %s\n", a.ID, a.PlanID, a.PID, a.Status,
		a.StartedAt.Local().Format(time.DateTime))
}

// WriteBuilds prints one line per build: when, what, result, duration,
// peak RSS and log, and the error of a failed one below it.
func WriteBuilds(w io.Writer, builds []engine.Build) {
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
		if len(b.Against) > 0 {
			fmt.Fprintf(w, "    against the target's %s\n", strings.Join(b.Against, ", "))
		}
		if b.JobID != "" {
			node := b.Node
			if node == "" {
				node = "(not started)"
			}
			fmt.Fprintf(w, "    %s job %s on %s  %s\n", b.Backend, b.JobID, node, b.JobDir)
		}
		if b.Error != "" {
			fmt.Fprintf(w, "    error: %s\n", b.Error)
		}
	}
}
