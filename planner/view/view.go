// Package view renders a planner.Plan for people and for programs: the
// Terraform-like human view, the stable JSON format, `why`, `explain` and
// the build graph (DOT and JSON). It only formats: it must not compute
// anything a plan does not already hold, and it does no I/O beyond writing
// to the io.Writer it is given.
package view

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/portmake/portmake/planner"
)

// listLimit caps the long informational sections of the human view (the
// JSON view always has everything).
const listLimit = 20

// RenderHuman writes the plan the way `portmake plan` shows it: one line
// per build with a symbol (+ new to the target, ~ upgrade, -/+ rebuild of
// the same version), the build ID, current → new, repo, stage and reason;
// then the cycles, blocked, any-sync, target-newer, held, missing and
// warning sections, and the summary line.
func RenderHuman(w io.Writer, p *planner.Plan) error {
	ew := newErrWriter(w)
	fmt.Fprintf(ew, "Plan for %s (upstream %s)\n", p.Arch, p.UpstreamArch)
	if len(p.Nodes) > 0 {
		fmt.Fprintln(ew)
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		for _, n := range p.Nodes {
			fmt.Fprintf(tw, "  %s\t%s\t%s → %s\t%s\t%s\t%s\n", symbol(n), n.ID, orNone(n.Current), n.Version, n.Repo, stageText(n), reasonText(n.Reason))
		}
		tw.Flush()
	}
	if len(p.Cycles) > 0 {
		fmt.Fprintln(ew, "\nCycles:")
		for _, c := range p.Cycles {
			fmt.Fprintf(ew, "  cycle %d (%d %s): %s\n", c.ID, c.Stages, plural(c.Stages, "stage", "stages"), strings.Join(c.Members, ", "))
			for _, b := range c.Broken {
				note := "uses the target's existing binary"
				if !b.InTarget {
					note = "the target has no binary: the first build will likely fail"
				}
				fmt.Fprintf(ew, "    %s is built before %s (%s %s): %s\n", b.From, b.To, b.Kind, b.Relation, note)
			}
		}
	}
	if len(p.Blocked) > 0 {
		fmt.Fprintln(ew, "\nBlocked:")
		for _, b := range p.Blocked {
			fmt.Fprintf(ew, "  x %s\n", planner.BlockedMessage(b))
		}
	}
	if len(p.AnySync) > 0 {
		fmt.Fprintln(ew, "\nAny-sync (ARCH=any, copied, not built):")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		for i, a := range p.AnySync {
			if i == listLimit {
				fmt.Fprintf(tw, "  ... and %d more (--json lists all)\n", len(p.AnySync)-listLimit)
				break
			}
			fmt.Fprintf(tw, "  =\t%s\t%s → %s\t%s\t%s\n", a.Pkgbase, orNone(a.Current), a.Version, a.Repo, a.Detail)
		}
		tw.Flush()
	}
	versions(ew, "Target newer (not built):", p.TargetNewer, "<", true)
	if len(p.Held) > 0 {
		fmt.Fprintln(ew, "\nToolchain held for --bootstrap:")
		for _, h := range p.Held {
			fmt.Fprintf(ew, "  ? %s %s → %s: %s\n", h.Pkgbase, orNone(h.Current), h.Version, reasonText(h.Reason))
		}
	}
	if p.Options.Missing {
		versions(ew, "Missing (upstream pkgbases the target lacks, not planned):", p.Missing, "-", false)
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintln(ew, "\nWarnings:")
		for _, w := range p.Warnings {
			fmt.Fprintf(ew, "  ! %s: %s\n", w.Pkgbase, w.Message)
		}
	}
	fmt.Fprintf(ew, "\n%s\n", SummaryLine(p))
	return ew.done()
}

// SummaryLine is "Plan: 23 to build (2 cycles, 4 builds in stage 1), 5
// blocked, 12 any-sync."
func SummaryLine(p *planner.Plan) string {
	s := p.Summary()
	var b strings.Builder
	fmt.Fprintf(&b, "Plan: %d to build", s.Build)
	if s.Cycles > 0 {
		fmt.Fprintf(&b, " (%d %s, %d %s in stage 1)", s.Cycles, plural(s.Cycles, "cycle", "cycles"), s.Stage1, plural(s.Stage1, "build", "builds"))
	}
	fmt.Fprintf(&b, ", %d blocked, %d any-sync.", s.Blocked, s.AnySync)
	return b.String()
}

func versions(w io.Writer, title string, list []planner.Version, sym string, limit bool) {
	if len(list) == 0 {
		return
	}
	fmt.Fprintln(w, "\n"+title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, v := range list {
		if limit && i == listLimit {
			fmt.Fprintf(tw, "  ... and %d more (--json lists all)\n", len(list)-listLimit)
			break
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s (upstream %s)\t%s\n", sym, v.Pkgbase, orNone(v.Current), v.Version, v.Repo)
	}
	tw.Flush()
}

func symbol(n *planner.Node) string {
	switch {
	case n.Current == "":
		return "+"
	case n.Current == n.Version:
		return "-/+"
	}
	return "~"
}

func stageText(n *planner.Node) string {
	switch {
	case n.Bootstrap:
		return fmt.Sprintf("bootstrap %d/2", n.Stage)
	case n.Cycle > 0 && n.Stage > 0:
		return fmt.Sprintf("cycle %d stage %d/2", n.Cycle, n.Stage)
	case n.Cycle > 0:
		return fmt.Sprintf("cycle %d", n.Cycle)
	}
	return "-"
}

func reasonText(r planner.Reason) string {
	if r.Detail == "" {
		return r.Kind.String()
	}
	return r.Kind.String() + ": " + r.Detail
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// errWriter buffers a renderer's output and keeps the first write error,
// so the renderers can write freely and report it once from done. The
// buffer matters: tabwriter writes each cell and each run of padding
// separately, and unbuffered that was one write(2) per cell — half a
// second for an 8,700-node plan on a pipe.
type errWriter struct {
	bw  *bufio.Writer
	err error
}

func newErrWriter(w io.Writer) *errWriter {
	return &errWriter{bw: bufio.NewWriterSize(w, 64<<10)}
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err == nil {
		_, e.err = e.bw.Write(b)
	}
	return len(b), nil
}

// done flushes the output and returns the first error.
func (e *errWriter) done() error {
	if e.err == nil {
		e.err = e.bw.Flush()
	}
	return e.err
}
