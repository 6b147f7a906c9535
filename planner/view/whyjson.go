package view

import (
	"cmp"
	"io"
	"slices"

	"github.com/portmake/portmake/planner"

	"github.com/portmake/portmake/internal/jsonout"
)

// WhySchema and ExplainSchema name the JSON formats of `why --json` and
// `explain --json`; like the plan's, fields are only added within a
// version.
const (
	WhySchema     = "portmake.why/v1"
	ExplainSchema = "portmake.explain/v1"
)

// RenderWhyJSON writes why a pkgbase or pkgname is in the plan, or why
// not, as one JSON object:
//
//	{"schema": "portmake.why/v1", "name", "known": bool, "pkgbase",
//	 "status": planned | up-to-date | target-newer | any-sync | any-current | blocked | held | missing | target-only | "",
//	 "version" (upstream), "current" (target), "in_plan": bool,
//	 "nodes": [the plan's node objects], "chain": [pkgbase, "depends of X", …],
//	 "cycle": {"id","members","stages","broken"} or null,
//	 "needed_by": [pkgbases], "message": the text `why` prints}
func RenderWhyJSON(w io.Writer, p *planner.Plan, name string) error {
	out := jsonWhy{Schema: WhySchema, Name: name, Nodes: []jsonNode{}, Chain: []string{}, NeededBy: []string{}, Message: Why(p, name)}
	if st, ok := p.Status(name); ok {
		out.Known, out.Pkgbase, out.Status, out.Version, out.Current = true, st.Pkgbase, string(st.Status), st.Version, st.Current
		nodes := p.NodesOf(st.Pkgbase)
		out.InPlan = len(nodes) > 0
		for _, n := range nodes {
			out.Nodes = append(out.Nodes, nodeJSON(n))
		}
		if out.InPlan {
			out.Chain = reasonChain(p, nodes[0])
			if c := nodes[0].Cycle; c > 0 {
				jc := jsonCycle{ID: p.Cycles[c-1].ID, Members: p.Cycles[c-1].Members, Stages: p.Cycles[c-1].Stages, Broken: []jsonBroken{}}
				for _, b := range p.Cycles[c-1].Broken {
					jc.Broken = append(jc.Broken, jsonBroken{b.From, b.To, b.Kind.String(), b.Relation, b.InTarget})
				}
				out.Cycle = &jc
			}
			for _, o := range p.Nodes {
				if o.Pkgbase == st.Pkgbase || slices.Contains(out.NeededBy, o.Pkgbase) {
					continue
				}
				for _, e := range o.Edges {
					if e.To == st.Pkgbase {
						out.NeededBy = append(out.NeededBy, o.Pkgbase)
						break
					}
				}
			}
			slices.Sort(out.NeededBy)
		}
	}
	return jsonout.Write(w, out)
}

type jsonWhy struct {
	Schema   string     `json:"schema"`
	Name     string     `json:"name"`
	Known    bool       `json:"known"`
	Pkgbase  string     `json:"pkgbase"`
	Status   string     `json:"status"`
	Version  string     `json:"version"`
	Current  string     `json:"current"`
	InPlan   bool       `json:"in_plan"`
	Nodes    []jsonNode `json:"nodes"`
	Chain    []string   `json:"chain"`
	Cycle    *jsonCycle `json:"cycle"`
	NeededBy []string   `json:"needed_by"`
	Message  string     `json:"message"`
}

// Explained is one build's hash inputs with those of the last successful
// build of its pkgbase (nil when there is none).
type Explained struct {
	Node     *planner.Node
	Previous []planner.HashInput
}

// RenderExplainJSON writes builds' hash inputs and what changed since the
// last successful build of each pkgbase:
//
//	{"schema": "portmake.explain/v1", "builds": [{"id", "pkgbase", "version", "hash",
//	  "previous_build": bool, "inputs": [{"key","value","change": "" | "changed" | "new","old"}],
//	  "removed": [{"key","old"}], "changed": count}]}
func RenderExplainJSON(w io.Writer, list []Explained) error {
	out := jsonExplain{Schema: ExplainSchema, Builds: []jsonExplained{}}
	for _, e := range list {
		n := e.Node
		je := jsonExplained{ID: n.ID, Pkgbase: n.Pkgbase, Version: n.Version, Hash: n.Hash, PreviousBuild: e.Previous != nil,
			Inputs: []jsonExplainInput{}, Removed: []jsonRemoved{}}
		changes := map[string]planner.Change{}
		if e.Previous != nil {
			for _, c := range planner.DiffInputs(e.Previous, n.HashInputs) {
				changes[c.Key] = c
			}
			je.Changed = len(changes)
		}
		had := func(list []planner.HashInput, key string) bool {
			return slices.ContainsFunc(list, func(x planner.HashInput) bool { return x.Key == key })
		}
		for _, h := range n.HashInputs {
			in := jsonExplainInput{Key: h.Key, Value: h.Value}
			if c, ok := changes[h.Key]; ok {
				in.Change, in.Old = "changed", c.Old
				if !had(e.Previous, h.Key) {
					in.Change = "new"
				}
			}
			je.Inputs = append(je.Inputs, in)
		}
		for _, c := range changes {
			if !had(n.HashInputs, c.Key) {
				je.Removed = append(je.Removed, jsonRemoved{c.Key, c.Old})
			}
		}
		slices.SortFunc(je.Removed, func(a, b jsonRemoved) int { return cmp.Compare(a.Key, b.Key) })
		out.Builds = append(out.Builds, je)
	}
	return jsonout.Write(w, out)
}

type jsonExplain struct {
	Schema string          `json:"schema"`
	Builds []jsonExplained `json:"builds"`
}

type jsonExplained struct {
	ID            string             `json:"id"`
	Pkgbase       string             `json:"pkgbase"`
	Version       string             `json:"version"`
	Hash          string             `json:"hash"`
	PreviousBuild bool               `json:"previous_build"`
	Inputs        []jsonExplainInput `json:"inputs"`
	Removed       []jsonRemoved      `json:"removed"`
	Changed       int                `json:"changed"`
}

type jsonExplainInput struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Change string `json:"change"`
	Old    string `json:"old"`
}

type jsonRemoved struct {
	Key string `json:"key"`
	Old string `json:"old"`
}
