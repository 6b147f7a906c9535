package view

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/portmake/portmake/planner"
)

// Why explains why a pkgbase or pkgname is in the plan, or why it is not.
func Why(p *planner.Plan, name string) string {
	var b strings.Builder
	st, known := p.Status(name)
	if !known {
		return fmt.Sprintf("%s: no such pkgbase or pkgname upstream or in the target\n", name)
	}
	base := st.Pkgbase
	if base != name {
		fmt.Fprintf(&b, "%s is a package of pkgbase %s.\n", name, base)
	}
	nodes := p.NodesOf(base)
	if len(nodes) == 0 {
		b.WriteString(whyNot(p, st))
		return b.String()
	}
	n := nodes[0]
	fmt.Fprintf(&b, "%s %s → %s is in the plan", base, orNone(n.Current), n.Version)
	if len(nodes) > 1 {
		var ids []string
		for _, x := range nodes {
			ids = append(ids, x.ID)
		}
		fmt.Fprintf(&b, " as %d builds (%s)", len(nodes), strings.Join(ids, ", "))
	}
	b.WriteString(".\n")
	fmt.Fprintf(&b, "  reason: %s\n", reasonText(n.Reason))
	for _, r := range n.Reasons[1:] {
		fmt.Fprintf(&b, "  also:   %s\n", reasonText(r))
	}
	if chain := reasonChain(p, n); len(chain) > 1 {
		fmt.Fprintf(&b, "  chain:  %s\n", strings.Join(chain, " ← "))
	}
	if n.Cycle > 0 {
		c := p.Cycles[n.Cycle-1]
		fmt.Fprintf(&b, "  cycle %d with %s (%d %s)\n", c.ID, strings.Join(slices.DeleteFunc(slices.Clone(c.Members), func(m string) bool { return m == base }), ", "), c.Stages, plural(c.Stages, "stage", "stages"))
	}
	for _, x := range nodes {
		var deps []string
		for _, d := range x.Deps {
			deps = append(deps, d.ID)
		}
		fmt.Fprintf(&b, "  %s: %s, priority %d, waits for: %s\n", x.ID, x.Action, x.Priority, orDash(strings.Join(deps, ", ")))
		if x.Nocheck {
			fmt.Fprintf(&b, "    --nocheck: %s\n", x.NocheckBy)
		}
	}
	var needed []string
	for _, o := range p.Nodes {
		if o.Pkgbase == base {
			continue
		}
		for _, e := range o.Edges {
			if e.To == base && !slices.Contains(needed, o.Pkgbase) {
				needed = append(needed, o.Pkgbase)
			}
		}
	}
	if len(needed) > 0 {
		slices.Sort(needed)
		fmt.Fprintf(&b, "  needed by: %s\n", strings.Join(needed, ", "))
	}
	for _, w := range n.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	return b.String()
}

// reasonChain follows missing-dependency reasons to the pkgbase that
// started the chain: "libffi", "depends of python", "makedepends of vim
// (outdated)".
func reasonChain(p *planner.Plan, n *planner.Node) []string {
	chain := []string{n.Pkgbase}
	seen := map[string]bool{n.Pkgbase: true}
	for r := n.Reason; r.Kind == planner.ReasonMissingDependency && !seen[r.Via]; {
		seen[r.Via] = true
		next := p.NodesOf(r.Via)
		link := fmt.Sprintf("%s of %s", r.DepKind, r.Via)
		if len(next) == 0 {
			chain = append(chain, link)
			break
		}
		r = next[0].Reason
		if r.Kind != planner.ReasonMissingDependency {
			link += " (" + r.Kind.String() + ")"
		}
		chain = append(chain, link)
	}
	return chain
}

func whyNot(p *planner.Plan, st planner.BaseStatus) string {
	v := fmt.Sprintf("%s %s (upstream %s)", st.Pkgbase, orNone(st.Current), orNone(st.Version))
	switch st.Status {
	case planner.StatusUpToDate:
		return v + " is not in the plan: the target is up to date.\n"
	case planner.StatusTargetNewer:
		return v + " is not in the plan: the target is newer than upstream.\n"
	case planner.StatusAnyCurrent:
		return v + " is not in the plan: it is ARCH=any and the target is current.\n"
	case planner.StatusAnySync:
		for _, a := range p.AnySync {
			if a.Pkgbase == st.Pkgbase {
				return fmt.Sprintf("%s is not built: it is ARCH=any and is copied from upstream (any-sync: %s).\n", v, a.Detail)
			}
		}
	case planner.StatusBlocked:
		for _, b := range p.Blocked {
			if b.Pkgbase == st.Pkgbase {
				return fmt.Sprintf("%s is not in the plan: %s\n", v, planner.BlockedMessage(b))
			}
		}
	case planner.StatusHeld:
		return v + " is not in the plan: it is part of the toolchain (build.bootstrap) and is only built with --bootstrap or --packages.\n"
	case planner.StatusMissing:
		return v + " is not in the plan: the target lacks it and nothing planned needs it; --packages " + st.Pkgbase + " builds it.\n"
	case planner.StatusTargetOnly:
		return v + " is not in the plan: only the target has it.\n"
	}
	return v + " is not in the plan.\n"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Explain writes a node's hash inputs. With the inputs of the last
// successful build of the same pkgbase (nil when there is none), it marks
// each line: "  " unchanged, "~" changed (with the old value), "+" new,
// "-" gone.
func Explain(w io.Writer, n *planner.Node, previous []planner.HashInput) error {
	ew := newErrWriter(w)
	fmt.Fprintf(ew, "%s %s: hash %s\n", n.ID, n.Version, n.Hash)
	if previous == nil {
		fmt.Fprintln(ew, "no previous successful build: every input is new")
		for _, h := range n.HashInputs {
			fmt.Fprintf(ew, "  %s\n", h)
		}
		return ew.done()
	}
	changes := planner.DiffInputs(previous, n.HashInputs)
	byKey := make(map[string]planner.Change, len(changes))
	for _, c := range changes {
		byKey[c.Key] = c
	}
	for _, h := range n.HashInputs {
		c, ok := byKey[h.Key]
		switch {
		case !ok:
			fmt.Fprintf(ew, "  %s\n", h)
		case c.Old == "" && !slices.ContainsFunc(previous, func(x planner.HashInput) bool { return x.Key == h.Key }):
			fmt.Fprintf(ew, "+ %s\n", h)
		default:
			fmt.Fprintf(ew, "~ %s (was %s)\n", h, c.Old)
		}
	}
	for _, c := range changes {
		if c.New == "" && !slices.ContainsFunc(n.HashInputs, func(x planner.HashInput) bool { return x.Key == c.Key }) {
			fmt.Fprintf(ew, "- %s %s\n", c.Key, c.Old)
		}
	}
	if len(changes) == 0 {
		fmt.Fprintln(ew, "unchanged since the last successful build")
	} else {
		fmt.Fprintf(ew, "%d %s changed since the last successful build\n", len(changes), plural(len(changes), "input", "inputs"))
	}
	return ew.done()
}
