package view

import (
	"io"

	"github.com/portmake/portmake/planner"

	"github.com/portmake/portmake/internal/jsonout"
)

// SchemaVersion names the JSON plan format. Fields are only ever added
// within a version; a change of meaning or a removal bumps it.
const SchemaVersion = "portmake.plan/v1"

// RenderJSON writes the plan as one JSON object (format portmake.plan/v1).
// Every list is present, empty as [], never null, and in plan order:
//
//	{
//	  "schema": "portmake.plan/v1",
//	  "arch": "aarch64", "upstream_arch": "x86_64",
//	  "inputs": {"portfile_hash": "…", "dbs": [{"repo","side","url","sha256"}], "command_line": [the plan flags, e.g. "--rebuild-repo=extra"],
//	             "makepkg_conf": "sha256:…", "pacman_conf": "sha256:…", "builder": "chroot"},
//	  "summary": {"build", "cycles", "stage1", "blocked", "any_sync", "target_newer", "missing", "held", "warnings", "downgrades"},
//	  "nodes": [{
//	    "id": "python#1",          // unique build ID: pkgbase, pkgbase#1/#2 (cycle stages), pkgbase#b1/#b2 (bootstrap)
//	    "pkgbase", "version" (to build), "current" (target's, "" when absent), "repo", "publish",
//	    "packages": [pkgnames],
//	    "reason": one of outdated | missing-dependency | forced | rebuild-repo | rebuild-dependents | new-source | bootstrap,
//	    "reason_detail": "makedepends of vim (python>=3)", "reasons": [{"kind","detail"}] (all, primary first),
//	    "action": build | downgrade | build-stage1 | build-stage2 | bootstrap-stage1 | bootstrap-stage2,
//	    "downgrade": bool (the version is older than current),
//	    "stage": 0|1|2, "cycle": 0 or the cycle id, "nocheck": bool, "nocheck_reason": "",
//	    "hash": sha256 hex, "hash_inputs": [{"key","value"}],
//	    "deps": [IDs this build waits for], "edges": [{"to","kind","relation","package","broken","dropped"}],
//	    "priority": critical-path length, "group": "", "source": {…} or null, "warnings": […]
//	  }],
//	  "cycles": [{"id", "members", "stages", "broken": [{"from","to","kind","relation","in_target"}]}],
//	  "blocked": [{"pkgbase","version","current","root","chain","relation","pattern","reason","origin","action","message"}],
//	  "any_sync": [{"pkgbase","version","current","repo","detail"}],
//	  "target_newer": [{"pkgbase","version","current","repo"}],
//	  "missing": [same as target_newer], "held": [{"pkgbase","version","current","reason","reason_detail"}],
//	  "warnings": [{"pkgbase","message","kind","relation"}] (kind: unresolvable | unsatisfied | held | downgrade | invalid | bootstrap | nocheck | order | forced | other)
//	}
func RenderJSON(w io.Writer, p *planner.Plan) error {
	return jsonout.Write(w, toJSON(p))
}

type jsonPlan struct {
	Schema       string        `json:"schema"`
	Arch         string        `json:"arch"`
	UpstreamArch string        `json:"upstream_arch"`
	Inputs       jsonInputs    `json:"inputs"`
	Summary      jsonSummary   `json:"summary"`
	Nodes        []jsonNode    `json:"nodes"`
	Cycles       []jsonCycle   `json:"cycles"`
	Blocked      []jsonBlocked `json:"blocked"`
	AnySync      []jsonAnySync `json:"any_sync"`
	TargetNewer  []jsonVersion `json:"target_newer"`
	Missing      []jsonVersion `json:"missing"`
	Held         []jsonHeld    `json:"held"`
	Warnings     []jsonWarning `json:"warnings"`
}

type jsonInputs struct {
	PortfileHash string   `json:"portfile_hash"`
	DBs          []jsonDB `json:"dbs"`
	CommandLine  []string `json:"command_line"`
	MakepkgConf  string   `json:"makepkg_conf"`
	PacmanConf   string   `json:"pacman_conf"`
	Builder      string   `json:"builder"`
}

type jsonDB struct {
	Repo   string `json:"repo"`
	Side   string `json:"side"`
	URL    string `json:"url"`
	SHA256 string `json:"sha256"`
}

type jsonSummary struct {
	Build       int `json:"build"`
	Cycles      int `json:"cycles"`
	Stage1      int `json:"stage1"`
	Blocked     int `json:"blocked"`
	AnySync     int `json:"any_sync"`
	TargetNewer int `json:"target_newer"`
	Missing     int `json:"missing"`
	Held        int `json:"held"`
	Warnings    int `json:"warnings"`
	Downgrades  int `json:"downgrades"`
}

type jsonNode struct {
	ID            string       `json:"id"`
	Pkgbase       string       `json:"pkgbase"`
	Version       string       `json:"version"`
	Current       string       `json:"current"`
	Repo          string       `json:"repo"`
	Publish       string       `json:"publish"`
	Packages      []string     `json:"packages"`
	Reason        string       `json:"reason"`
	ReasonDetail  string       `json:"reason_detail"`
	Reasons       []jsonReason `json:"reasons"`
	Action        string       `json:"action"`
	Downgrade     bool         `json:"downgrade"`
	Stage         int          `json:"stage"`
	Cycle         int          `json:"cycle"`
	Nocheck       bool         `json:"nocheck"`
	NocheckReason string       `json:"nocheck_reason"`
	Hash          string       `json:"hash"`
	HashInputs    []jsonInput  `json:"hash_inputs"`
	Deps          []string     `json:"deps"`
	Edges         []jsonEdge   `json:"edges"`
	Priority      int          `json:"priority"`
	Group         string       `json:"group"`
	Source        *jsonSource  `json:"source"`
	Warnings      []string     `json:"warnings"`
}

type jsonReason struct {
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

type jsonInput struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type jsonEdge struct {
	To       string `json:"to"`
	Kind     string `json:"kind"`
	Relation string `json:"relation"`
	Package  string `json:"package"`
	Broken   bool   `json:"broken"`
	Dropped  bool   `json:"dropped"`
}

type jsonSource struct {
	Kind     string      `json:"kind"`
	URL      string      `json:"url"`
	Ref      string      `json:"ref"`
	Commit   string      `json:"commit"`
	TreeHash string      `json:"tree_hash"`
	Patches  []jsonInput `json:"patches"`
}

type jsonCycle struct {
	ID      int          `json:"id"`
	Members []string     `json:"members"`
	Stages  int          `json:"stages"`
	Broken  []jsonBroken `json:"broken"`
}

type jsonBroken struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Kind     string `json:"kind"`
	Relation string `json:"relation"`
	InTarget bool   `json:"in_target"`
}

type jsonBlocked struct {
	Pkgbase  string   `json:"pkgbase"`
	Version  string   `json:"version"`
	Current  string   `json:"current"`
	Root     string   `json:"root"`
	Chain    []string `json:"chain"`
	Relation string   `json:"relation"`
	Pattern  string   `json:"pattern"`
	Reason   string   `json:"reason"`
	Origin   string   `json:"origin"`
	Action   string   `json:"action"`
	Message  string   `json:"message"`
}

type jsonAnySync struct {
	Pkgbase string `json:"pkgbase"`
	Version string `json:"version"`
	Current string `json:"current"`
	Repo    string `json:"repo"`
	Detail  string `json:"detail"`
}

type jsonVersion struct {
	Pkgbase string `json:"pkgbase"`
	Version string `json:"version"`
	Current string `json:"current"`
	Repo    string `json:"repo"`
}

type jsonHeld struct {
	Pkgbase      string `json:"pkgbase"`
	Version      string `json:"version"`
	Current      string `json:"current"`
	Reason       string `json:"reason"`
	ReasonDetail string `json:"reason_detail"`
}

type jsonWarning struct {
	Pkgbase  string `json:"pkgbase"`
	Message  string `json:"message"`
	Kind     string `json:"kind"`
	Relation string `json:"relation"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toJSON(p *planner.Plan) jsonPlan {
	s := p.Summary()
	out := jsonPlan{
		Schema: SchemaVersion, Arch: p.Arch, UpstreamArch: p.UpstreamArch,
		Inputs: jsonInputs{PortfileHash: p.Meta.PortfileHash, CommandLine: nonNil(p.Meta.CommandLine), DBs: []jsonDB{},
			MakepkgConf: p.Env.MakepkgConf, PacmanConf: p.Env.PacmanConf, Builder: p.Env.Builder},
		Summary: jsonSummary{s.Build, s.Cycles, s.Stage1, s.Blocked, s.AnySync, s.TargetNewer, s.Missing, s.Held, s.Warnings, s.Downgrades},
		Nodes:   []jsonNode{}, Cycles: []jsonCycle{}, Blocked: []jsonBlocked{}, AnySync: []jsonAnySync{},
		TargetNewer: []jsonVersion{}, Missing: []jsonVersion{}, Held: []jsonHeld{}, Warnings: []jsonWarning{},
	}
	for _, d := range p.Meta.DBs {
		out.Inputs.DBs = append(out.Inputs.DBs, jsonDB(d))
	}
	for _, n := range p.Nodes {
		out.Nodes = append(out.Nodes, nodeJSON(n))
	}
	for _, c := range p.Cycles {
		jc := jsonCycle{ID: c.ID, Members: c.Members, Stages: c.Stages, Broken: []jsonBroken{}}
		for _, b := range c.Broken {
			jc.Broken = append(jc.Broken, jsonBroken{b.From, b.To, b.Kind.String(), b.Relation, b.InTarget})
		}
		out.Cycles = append(out.Cycles, jc)
	}
	for _, b := range p.Blocked {
		out.Blocked = append(out.Blocked, jsonBlocked{b.Pkgbase, b.Version, b.Current, b.Root, b.Chain, b.Relation,
			b.Entry.Pattern, b.Entry.Reason, b.Entry.Origin, b.Action.String(), planner.BlockedMessage(b)})
	}
	for _, a := range p.AnySync {
		out.AnySync = append(out.AnySync, jsonAnySync(a))
	}
	for _, v := range p.TargetNewer {
		out.TargetNewer = append(out.TargetNewer, jsonVersion(v))
	}
	for _, v := range p.Missing {
		out.Missing = append(out.Missing, jsonVersion(v))
	}
	for _, h := range p.Held {
		out.Held = append(out.Held, jsonHeld{h.Pkgbase, h.Version, h.Current, h.Reason.Kind.String(), h.Reason.Detail})
	}
	for _, w := range p.Warnings {
		out.Warnings = append(out.Warnings, jsonWarning{w.Pkgbase, w.Message, w.Kind.String(), w.Relation})
	}
	return out
}

// nodeJSON is the JSON view of one build.
func nodeJSON(n *planner.Node) jsonNode {
	jn := jsonNode{
		ID: n.ID, Pkgbase: n.Pkgbase, Version: n.Version, Current: n.Current, Repo: n.Repo, Publish: n.Publish,
		Packages: nonNil(n.Packages), Reason: n.Reason.Kind.String(), ReasonDetail: n.Reason.Detail, Reasons: []jsonReason{},
		Action: n.Action.String(), Downgrade: n.Downgrade, Stage: n.Stage, Cycle: n.Cycle, Nocheck: n.Nocheck, NocheckReason: n.NocheckBy,
		Hash: n.Hash, HashInputs: []jsonInput{}, Deps: []string{}, Edges: []jsonEdge{}, Priority: n.Priority,
		Group: n.Group, Warnings: nonNil(n.Warnings),
	}
	for _, r := range n.Reasons {
		jn.Reasons = append(jn.Reasons, jsonReason{r.Kind.String(), r.Detail})
	}
	for _, h := range n.HashInputs {
		jn.HashInputs = append(jn.HashInputs, jsonInput(h))
	}
	for _, d := range n.Deps {
		jn.Deps = append(jn.Deps, d.ID)
	}
	for _, e := range n.Edges {
		jn.Edges = append(jn.Edges, jsonEdge{e.To, e.Kind.String(), e.Relation, e.Package, e.Broken, e.Dropped})
	}
	if src := n.Source; src != nil {
		js := &jsonSource{Kind: string(src.Kind), URL: src.URL, Ref: src.Ref, Commit: src.Commit, TreeHash: src.TreeHash, Patches: []jsonInput{}}
		for _, pr := range src.Patches {
			js.Patches = append(js.Patches, jsonInput{pr.Name, pr.SHA256})
		}
		jn.Source = js
	}
	return jn
}
