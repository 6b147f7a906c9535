// Package view renders a planner.Plan for people and for programs: the
// Terraform-like human view, the stable JSON format, `why`, `explain` and
// the build graph (DOT and JSON). It only formats: it must not compute
// anything a plan does not already hold, and it does no I/O beyond writing
// to the io.Writer it is given.
package view

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/portmake/portmake/planner"
)

// How much of a long list the human view shows (the JSON view always has
// everything). A plan of two thousand builds stays one line per build, and
// everything around the builds stays a screenful: a list longer than its
// limit ends with "… and N more (--json lists all)".
const (
	listLimit       = 20 // any-sync, target-newer, missing, other warnings
	memberLimit     = 12 // members of a cycle
	brokenLimit     = 8  // "is built before" lines of a cycle
	warnGroupLimit  = 40 // warnings about distinct dependencies
	dependentsLimit = 8  // pkgbases named for one dependency
	// hugeCycle is the member count from which the view suggests
	// --single-stage: the second stage doubles such a cycle's builds.
	hugeCycle = 50
)

// more is the line that ends a list cut at its limit.
func more(n int, what string) string {
	return fmt.Sprintf("… and %d more %s(--json lists all)", n, what)
}

// RenderHuman writes the plan the way `portmake plan` shows it: one line
// per build with a symbol (+ new to the target, ~ upgrade, -/+ rebuild of
// the same version, < downgrade), the build ID, current → new, repo, stage
// and reason; then the cycles, blocked, any-sync, target-newer, held,
// missing and warning sections, and the summary line.
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
			fmt.Fprintf(ew, "  cycle %d (%d %s, %d members): %s\n", c.ID, c.Stages, plural(c.Stages, "stage", "stages"), len(c.Members), cut(c.Members, memberLimit))
			for i, b := range c.Broken {
				if i == brokenLimit {
					fmt.Fprintf(ew, "    %s\n", more(len(c.Broken)-brokenLimit, "such edges "))
					break
				}
				note := "uses the target's existing binary"
				if !b.InTarget {
					note = "the target has no binary: the first build will likely fail"
				}
				fmt.Fprintf(ew, "    %s is built before %s (%s %s): %s\n", b.From, b.To, b.Kind, b.Relation, note)
			}
			if c.Stages == 2 && len(c.Members) >= hugeCycle {
				fmt.Fprintf(ew, "    hint: --single-stage builds each cycle once: %d builds instead of %d for this one\n", len(c.Members), 2*len(c.Members))
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
				fmt.Fprintf(tw, "  %s\n", more(len(p.AnySync)-listLimit, ""))
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
	warnings(ew, p.Warnings)
	fmt.Fprintf(ew, "\n%s\n", SummaryLine(p))
	return ew.done()
}

// cut joins names, the first limit of them.
func cut(names []string, limit int) string {
	if len(names) <= limit {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:limit], ", ") + " " + more(len(names)-limit, "")
}

// warnGroup is the warnings about one dependency: the same relation, the
// same kind of problem, the same detail, for any number of pkgbases.
type warnGroup struct {
	w        planner.Warning // the first
	kinds    []planner.DepKind
	pkgbases []string
}

// warnLabel names a kind of dependency warning in a group's line.
var warnLabel = map[planner.WarningKind]string{
	planner.WarnUnresolvable: "unresolvable", planner.WarnUnsatisfied: "unsatisfied",
	planner.WarnHeld: "held", planner.WarnDowngrade: "no downgrade",
}

// warnings writes the warnings: those about a dependency grouped by it,
// the largest groups first, then the others one per line.
func warnings(w io.Writer, list []planner.Warning) {
	if len(list) == 0 {
		return
	}
	var groups []*warnGroup
	byKey := map[[3]string]*warnGroup{}
	var others []planner.Warning
	count := map[planner.WarningKind]int{}
	for _, x := range list {
		count[x.Kind]++
		if _, ok := warnLabel[x.Kind]; !ok || x.Relation == "" {
			others = append(others, x)
			continue
		}
		key := [3]string{x.Kind.String(), x.Relation, x.Detail}
		g := byKey[key]
		if g == nil {
			g = &warnGroup{w: x}
			byKey[key] = g
			groups = append(groups, g)
		}
		if !slices.Contains(g.kinds, x.DepKind) {
			g.kinds = append(g.kinds, x.DepKind)
		}
		if !slices.Contains(g.pkgbases, x.Pkgbase) {
			g.pkgbases = append(g.pkgbases, x.Pkgbase)
		}
	}
	slices.SortStableFunc(groups, func(a, b *warnGroup) int {
		if c := cmp.Compare(len(b.pkgbases), len(a.pkgbases)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.w.Kind, b.w.Kind); c != 0 {
			return c
		}
		return cmp.Compare(a.w.Relation, b.w.Relation)
	})
	var kinds []string
	for k := planner.WarningKind(0); int(k) < 32; k++ {
		if n := count[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
		}
	}
	fmt.Fprintf(w, "\nWarnings (%d: %s):\n", len(list), strings.Join(kinds, ", "))
	for i, g := range groups {
		if i == warnGroupLimit {
			fmt.Fprintf(w, "  %s\n", more(len(groups)-warnGroupLimit, "dependencies "))
			break
		}
		slices.Sort(g.kinds)
		var ks []string
		for _, k := range g.kinds {
			ks = append(ks, k.String())
		}
		who := cut(g.pkgbases, dependentsLimit)
		if len(g.pkgbases) > 1 {
			who = fmt.Sprintf("%d pkgbases: %s", len(g.pkgbases), who)
		}
		fmt.Fprintf(w, "  ! %s: %s (%s of %s)", warnLabel[g.w.Kind], g.w.Relation, strings.Join(ks, ", "), who)
		if g.w.Detail != "" {
			fmt.Fprintf(w, ": %s", g.w.Detail)
		}
		fmt.Fprintln(w)
	}
	for i, x := range others {
		if i == listLimit {
			fmt.Fprintf(w, "  %s\n", more(len(others)-listLimit, ""))
			break
		}
		fmt.Fprintf(w, "  ! %s: %s\n", x.Pkgbase, x.Message)
	}
}

// SummaryLine is "Plan: 23 to build (2 cycles, 4 builds in stage 1), 5
// blocked, 12 any-sync.", followed by the other counts that are not zero:
// downgrades, target-newer, held, missing (with --missing) and warnings.
func SummaryLine(p *planner.Plan) string {
	s := p.Summary()
	var b strings.Builder
	fmt.Fprintf(&b, "Plan: %d to build", s.Build)
	if s.Cycles > 0 {
		fmt.Fprintf(&b, " (%d %s, %d %s in stage 1)", s.Cycles, plural(s.Cycles, "cycle", "cycles"), s.Stage1, plural(s.Stage1, "build", "builds"))
	}
	fmt.Fprintf(&b, ", %d blocked, %d any-sync", s.Blocked, s.AnySync)
	if !p.Options.Missing {
		s.Missing = 0 // not listed, so not counted
	}
	for _, c := range []struct {
		n    int
		what string
	}{
		{s.Downgrades, plural(s.Downgrades, "downgrade", "downgrades")},
		{s.TargetNewer, "target-newer"},
		{s.Held, "held"},
		{s.Missing, "missing"},
		{s.Warnings, plural(s.Warnings, "warning", "warnings")},
	} {
		if c.n > 0 {
			fmt.Fprintf(&b, ", %d %s", c.n, c.what)
		}
	}
	b.WriteString(".")
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
			fmt.Fprintf(tw, "  %s\n", more(len(list)-listLimit, ""))
			break
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s (upstream %s)\t%s\n", sym, v.Pkgbase, orNone(v.Current), v.Version, v.Repo)
	}
	tw.Flush()
}

func symbol(n *planner.Node) string {
	switch {
	case n.Downgrade:
		return "<"
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
