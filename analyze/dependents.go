package analyze

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/portmake/portmake/internal/jsonout"
	"github.com/portmake/portmake/planner"
)

// DependentsOptions say what Dependents walks.
type DependentsOptions struct {
	Forward bool              // dependencies of the package instead of its dependents
	Kinds   []planner.DepKind // edge kinds to follow; empty: depends, makedepends and checkdepends
	Depth   int               // levels; 0 or less: all
}

// DependentsReport is what find_dependents.py answered: the reverse (or
// forward) dependencies of one package, level by level, and for reverse
// dependencies the order in which a rebuild would build them.
type DependentsReport struct {
	Name     string // as asked
	Pkgbase  string
	Version  string
	Repo     string
	Packages []string
	Options  DependentsOptions
	Reached  []planner.Reached
	// Order is the rebuild, in build order: the nodes that `plan
	// --rebuild-dependents Name` (with the same depth) adds; nil for a
	// forward walk.
	Order []*planner.Node
	// Held are the dependents the rebuild leaves out, with the reason
	// (the target has them newer than upstream).
	Held []planner.Warning
}

// Dependents walks the upstream dependency graph of in (planner.NewGraph)
// from name, a pkgname or pkgbase. For reverse dependencies it also plans
// the rebuild with planner.Options.RebuildDependents, so the order shown is
// the plan's own (cycles get their stages).
func Dependents(in *planner.Input, name string, o DependentsOptions) (*DependentsReport, error) {
	g, err := planner.NewGraph(in)
	if err != nil {
		return nil, err
	}
	base, ok := g.Resolve(name)
	if !ok {
		return nil, fmt.Errorf("%s: no such pkgname or pkgbase upstream or in the new sources", name)
	}
	r := &DependentsReport{Name: name, Pkgbase: base, Packages: g.Packages(base), Options: o}
	r.Version, r.Repo = g.Version(base)
	r.Reached, err = g.Reach([]string{name}, planner.Walk{Reverse: !o.Forward, Kinds: o.Kinds, Depth: o.Depth})
	if err != nil {
		return nil, err
	}
	if o.Forward {
		return r, nil
	}
	pin := *in
	pin.Options = planner.Options{RebuildDependents: []string{name}, DependentsDepth: o.Depth, Exclude: in.Options.Exclude}
	p, err := planner.Build(&pin)
	if err != nil {
		return nil, err
	}
	r.Order = []*planner.Node{}
	for _, n := range p.Nodes {
		if slices.ContainsFunc(n.Reasons, func(x planner.Reason) bool { return x.Kind == planner.ReasonRebuildDependents }) {
			r.Order = append(r.Order, n)
		}
	}
	for _, w := range p.Warnings {
		if strings.Contains(w.Message, "--rebuild-dependents") {
			r.Held = append(r.Held, w)
		}
	}
	return r, nil
}

// RenderDependents writes the report for people: one line per pkgbase
// reached (depth, pkgbase, the dependency kind and relation that links it
// and the pkgname that satisfies it; forward, also whose dependency it
// is), then the rebuild order.
func RenderDependents(w io.Writer, r *DependentsReport) error {
	bw := bufio.NewWriter(w)
	what := plural(len(r.Reached), "dependent", "dependents")
	if r.Options.Forward {
		what = plural(len(r.Reached), "dependency", "dependencies")
	}
	fmt.Fprintf(bw, "%s", r.Name)
	if r.Name != r.Pkgbase {
		fmt.Fprintf(bw, " (pkgbase %s)", r.Pkgbase)
	}
	fmt.Fprintf(bw, " %s %s: %d %s", r.Version, r.Repo, len(r.Reached), what)
	var notes []string
	if len(r.Options.Kinds) > 0 {
		var ks []string
		for _, k := range r.Options.Kinds {
			ks = append(ks, k.String())
		}
		notes = append(notes, strings.Join(ks, " and ")+" only")
	}
	if r.Options.Depth > 0 {
		notes = append(notes, fmt.Sprintf("depth %d", r.Options.Depth))
	}
	if len(notes) > 0 {
		fmt.Fprintf(bw, " (%s)", strings.Join(notes, ", "))
	}
	fmt.Fprintln(bw)
	if len(r.Reached) > 0 {
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  depth\tpkgbase\tdependency\n")
		for _, x := range r.Reached {
			e := x.Via
			link := e.Kind.String() + " " + e.Relation
			if r.Options.Forward {
				link += " of " + e.From
			}
			by := e.Package
			if e.Unsatisfied {
				by += ", unsatisfied"
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s (%s)\n", x.Depth, x.Pkgbase, link, by)
		}
		tw.Flush()
	}
	if r.Order != nil {
		fmt.Fprintf(bw, "\nRebuild order (portmake plan --rebuild-dependents %s", r.Name)
		if r.Options.Depth > 0 {
			fmt.Fprintf(bw, " --dependents-depth %d", r.Options.Depth)
		}
		fmt.Fprintf(bw, "; depends and makedepends): %d %s\n", len(r.Order), plural(len(r.Order), "build", "builds"))
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		for i, n := range r.Order {
			fmt.Fprintf(tw, "  %d\t%s\t%s → %s\t%s\n", i+1, n.ID, orNone(n.Current), n.Version, n.Repo)
		}
		tw.Flush()
		for _, w := range r.Held {
			fmt.Fprintf(bw, "  ! %s: %s\n", w.Pkgbase, w.Message)
		}
	}
	return bw.Flush()
}

// DependentsSchema names the JSON format of RenderDependentsJSON.
const DependentsSchema = "portmake.dependents/v1"

// RenderDependentsJSON writes the report as JSON (portmake.dependents/v1):
//
//	{"schema", "name", "pkgbase", "version", "repo", "packages", "forward", "depth", "kinds": [..],
//	 "reached": [{"pkgbase","depth","from","to","kind","relation","package","unsatisfied"}],
//	 "order": [{"id","pkgbase","version","current","repo","stage"}],   // [] for --forward
//	 "held": [{"pkgbase","message"}]}                                   // dependents the rebuild leaves out
func RenderDependentsJSON(w io.Writer, r *DependentsReport) error {
	type reached struct {
		Pkgbase     string `json:"pkgbase"`
		Depth       int    `json:"depth"`
		From        string `json:"from"`
		To          string `json:"to"`
		Kind        string `json:"kind"`
		Relation    string `json:"relation"`
		Package     string `json:"package"`
		Unsatisfied bool   `json:"unsatisfied"`
	}
	type node struct {
		ID      string `json:"id"`
		Pkgbase string `json:"pkgbase"`
		Version string `json:"version"`
		Current string `json:"current"`
		Repo    string `json:"repo"`
		Stage   int    `json:"stage"`
	}
	type held struct {
		Pkgbase string `json:"pkgbase"`
		Message string `json:"message"`
	}
	doc := struct {
		Schema   string    `json:"schema"`
		Name     string    `json:"name"`
		Pkgbase  string    `json:"pkgbase"`
		Version  string    `json:"version"`
		Repo     string    `json:"repo"`
		Packages []string  `json:"packages"`
		Forward  bool      `json:"forward"`
		Depth    int       `json:"depth"`
		Kinds    []string  `json:"kinds"`
		Reached  []reached `json:"reached"`
		Order    []node    `json:"order"`
		Held     []held    `json:"held"`
	}{Schema: DependentsSchema, Name: r.Name, Pkgbase: r.Pkgbase, Version: r.Version, Repo: r.Repo, Packages: nonNil(r.Packages),
		Forward: r.Options.Forward, Depth: r.Options.Depth, Kinds: []string{}, Reached: []reached{}, Order: []node{}, Held: []held{}}
	for _, k := range r.Options.Kinds {
		doc.Kinds = append(doc.Kinds, k.String())
	}
	for _, x := range r.Reached {
		e := x.Via
		doc.Reached = append(doc.Reached, reached{x.Pkgbase, x.Depth, e.From, e.To, e.Kind.String(), e.Relation, e.Package, e.Unsatisfied})
	}
	for _, n := range r.Order {
		doc.Order = append(doc.Order, node{n.ID, n.Pkgbase, n.Version, n.Current, n.Repo, n.Stage})
	}
	for _, h := range r.Held {
		doc.Held = append(doc.Held, held{h.Pkgbase, h.Message})
	}
	return jsonout.Write(w, doc)
}
