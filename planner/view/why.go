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
		others := slices.DeleteFunc(slices.Clone(c.Members), func(m string) bool { return m == base })
		fmt.Fprintf(&b, "  cycle %d with %s (%d %s)\n", c.ID, cut(others, memberLimit), c.Stages, plural(c.Stages, "stage", "stages"))
		if path := cyclePath(p, c, base); len(path) > 0 {
			fmt.Fprintf(&b, "  in the cycle because: %s\n", pathText(base, path))
		}
		var broken []string
		for _, e := range c.Broken {
			if e.From == base {
				broken = append(broken, fmt.Sprintf("%s (%s %s)", e.To, e.Kind, e.Relation))
			}
		}
		if len(broken) > 0 {
			fmt.Fprintf(&b, "  its first build uses the target's binaries of: %s\n", cut(broken, dependentsLimit))
		}
	}
	for _, x := range nodes {
		var deps []string
		for _, d := range x.Deps {
			deps = append(deps, d.ID)
		}
		fmt.Fprintf(&b, "  %s: %s, priority %d, waits for: %s\n", x.ID, x.Action, x.Priority, orDash(cut(deps, listLimit)))
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
		fmt.Fprintf(&b, "  needed by: %s\n", cut(needed, listLimit))
	}
	for _, w := range n.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	return b.String()
}

// cyclePath returns the shortest way round cycle c from member base: the
// dependency edges (depends, makedepends) from base to another member, on
// to the next, and back to base. In a cycle of hundreds it is the part
// that explains why base is in it at all.
func cyclePath(p *planner.Plan, c planner.Cycle, base string) []planner.Edge {
	member := make(map[string]bool, len(c.Members))
	for _, m := range c.Members {
		member[m] = true
	}
	type hop struct {
		from string
		edge planner.Edge
	}
	prev := map[string]hop{}
	queue := []string{base}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		nodes := p.NodesOf(cur)
		if len(nodes) == 0 {
			continue
		}
		for _, e := range nodes[0].Edges {
			if !member[e.To] || e.Dropped || e.Kind == planner.KindCheckDepends || e.Kind == planner.KindOrder {
				continue
			}
			if e.To == base {
				path := []planner.Edge{e}
				for at := cur; at != base; at = prev[at].from {
					path = append(path, prev[at].edge)
				}
				slices.Reverse(path)
				return path
			}
			if _, seen := prev[e.To]; !seen {
				prev[e.To] = hop{cur, e}
				queue = append(queue, e.To)
			}
		}
	}
	return nil
}

// pathText renders a cycle path: "a needs b (depends b>=2), which needs a
// (makedepends a)".
func pathText(base string, path []planner.Edge) string {
	var b strings.Builder
	b.WriteString(base)
	for i, e := range path {
		if i > 0 {
			b.WriteString(", which")
		}
		fmt.Fprintf(&b, " needs %s (%s %s)", e.To, e.Kind, e.Relation)
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
