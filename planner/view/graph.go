package view

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/portmake/portmake/planner"
)

// RenderDOT writes the build graph in Graphviz DOT. An arrow points from a
// build to a build that waits for it (build order), labelled with the
// dependency kinds; each cycle is a cluster.
func RenderDOT(w io.Writer, p *planner.Plan) error {
	ew := newErrWriter(w)
	fmt.Fprintln(ew, "digraph plan {")
	fmt.Fprintln(ew, "  rankdir=LR;")
	fmt.Fprintln(ew, "  node [shape=box];")
	for _, c := range p.Cycles {
		fmt.Fprintf(ew, "  subgraph cluster_cycle%d {\n    label=%s;\n", c.ID, strconv.Quote(fmt.Sprintf("cycle %d", c.ID)))
		for _, n := range p.Nodes {
			if n.Cycle == c.ID {
				fmt.Fprintf(ew, "    %s;\n", strconv.Quote(n.ID))
			}
		}
		fmt.Fprintln(ew, "  }")
	}
	for _, n := range p.Nodes {
		label := n.Pkgbase + " " + n.Version
		if n.Stage > 0 {
			label += fmt.Sprintf("\nstage %d", n.Stage)
		}
		fmt.Fprintf(ew, "  %s [label=%s];\n", strconv.Quote(n.ID), strconv.Quote(label))
	}
	for _, n := range p.Nodes {
		for _, d := range n.Deps {
			fmt.Fprintf(ew, "  %s -> %s [label=%s];\n", strconv.Quote(d.ID), strconv.Quote(n.ID), strconv.Quote(kinds(d.Kinds)))
		}
	}
	fmt.Fprintln(ew, "}")
	return ew.done()
}

type graphJSON struct {
	Schema string      `json:"schema"`
	Nodes  []graphNode `json:"nodes"`
	Edges  []graphEdge `json:"edges"`
}

type graphNode struct {
	ID       string `json:"id"`
	Pkgbase  string `json:"pkgbase"`
	Version  string `json:"version"`
	Stage    int    `json:"stage"`
	Cycle    int    `json:"cycle"`
	Priority int    `json:"priority"`
	Hash     string `json:"hash"`
}

// graphEdge: From waits for To.
type graphEdge struct {
	From  string   `json:"from"`
	To    string   `json:"to"`
	Kinds []string `json:"kinds"`
}

// RenderGraphJSON writes the build graph as {"schema":
// "portmake.graph/v1", "nodes": [{id, pkgbase, version, stage, cycle,
// priority, hash}], "edges": [{from, to, kinds}]} where from waits for to.
// Nodes are in build order.
func RenderGraphJSON(w io.Writer, p *planner.Plan) error {
	g := graphJSON{Schema: "portmake.graph/v1", Nodes: []graphNode{}, Edges: []graphEdge{}}
	for _, n := range p.Nodes {
		g.Nodes = append(g.Nodes, graphNode{n.ID, n.Pkgbase, n.Version, n.Stage, n.Cycle, n.Priority, n.Hash})
		for _, d := range n.Deps {
			var ks []string
			for _, k := range d.Kinds {
				ks = append(ks, k.String())
			}
			g.Edges = append(g.Edges, graphEdge{n.ID, d.ID, ks})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(g)
}

func kinds(ks []planner.DepKind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = k.String()
	}
	return strings.Join(s, ",")
}
