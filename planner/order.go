package planner

// Ordering and the cycle rule.
//
// The graph is over planned pkgbases. An edge A → B means A needs B: one of
// A's depends, makedepends or checkdepends is satisfied (pacman semantics,
// after the plan is applied) by a package that B's new build produces. A
// dependency on a split pkgname or on something B provides maps to B.
//
// Cycles are found with Tarjan's algorithm (iterative, so 11,000 nodes cost
// no stack) twice: once over every edge, once over the hard edges only
// (depends and makedepends, plus the preserve-order edges).
//
//   - A checkdepends edge A → B that lies inside a cycle of the full graph
//     but joins two different hard components exists only through
//     checkdepends. It is dropped, and A builds with --nocheck: a test
//     suite is not worth a second build. Such a cycle therefore needs no
//     second stage; its builds follow the hard edges.
//   - A hard component with more than one pkgbase is a real cycle. Each one
//     is handled on its own. Its members get a stage-1 order: repeatedly
//     take the member with the fewest not-yet-ordered in-cycle dependencies
//     that the target lacks, then the fewest such dependencies, then the
//     name. A member's in-cycle dependencies that come later in that order
//     are "broken": stage 1 builds against the target's existing binaries
//     for them (they are listed in Cycle.Broken). Stage-1 builds run with
//     --nocheck. Then every member is built again (stage 2) in the same
//     order, against the stage-2 builds of the members before it and the
//     stage-1 builds of the members after it. With --single-stage there is
//     only the first pass, and it runs the checks.
//   - Everything outside a cycle that needs a member waits for the member's
//     last build, so cycles are ordered against each other and against the
//     nodes between them by the condensation of the graph, which is a DAG.
//
// --preserve-order chains the forced pkgbases in command-line order (each
// waits for the one before) and drops their dependencies on forced pkgbases
// that come later, with a warning. --bootstrap builds the toolchain first,
// twice, strictly in build.bootstrap order (#b1 then #b2); every other build
// that has no other dependency waits for the last toolchain build.
//
// Priority is the critical-path length: the number of builds on the longest
// chain that starts at the node and follows its dependents. Plan.Nodes is a
// topological order that, among ready builds, takes the higher priority
// first, then the smaller ID.

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
)

// tarjan returns the strongly connected component of every vertex of the
// graph succ over 0..n-1, without recursion. Components are numbered in
// the order they complete, which is a reverse topological order of the
// condensation: a component only reaches components with smaller numbers.
func tarjan(n int, succ func(v int) []int32) (comp []int32, count int) {
	const unvisited = -1
	index := make([]int32, n)
	low := make([]int32, n)
	comp = make([]int32, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = unvisited
	}
	var stack []int32
	type frame struct {
		v    int32
		next int
	}
	var call []frame
	next := int32(0)
	for root := 0; root < n; root++ {
		if index[root] != unvisited {
			continue
		}
		call = append(call, frame{v: int32(root)})
		index[root], low[root] = next, next
		next++
		stack = append(stack, int32(root))
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			out := succ(int(v))
			if f.next < len(out) {
				w := out[f.next]
				f.next++
				if index[w] == unvisited {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{v: w})
				} else if onStack[w] {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				u := call[len(call)-1].v
				low[u] = min(low[u], low[v])
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = int32(count)
					if w == v {
						break
					}
				}
				count++
			}
		}
	}
	return comp, count
}

// order turns the planned pkgbases into build nodes, with stages, deps,
// priorities and a build order.
func (w *world) order(p *Plan) error {
	var regular, boot []*base
	for _, name := range w.names {
		b := w.bases[name]
		if b.planned {
			regular = append(regular, b)
		}
	}
	for _, name := range w.in.Bootstrap {
		if bn, ok := w.resolveName(name); ok {
			if b := w.bases[bn]; b.bootstrap && !slices.Contains(boot, b) {
				boot = append(boot, b)
			}
		}
	}
	idx := make(map[string]int32, len(regular))
	for i, b := range regular {
		idx[b.name] = int32(i)
	}

	if w.in.Options.PreserveOrder {
		w.preserveOrder(regular, idx)
	}

	n := len(regular)
	hard := make([][]int32, n)
	all := make([][]int32, n)
	for i, b := range regular {
		for _, e := range b.edges {
			j, ok := idx[e.To]
			if !ok || e.Dropped {
				continue
			}
			all[i] = append(all[i], j)
			if e.Kind.hard() {
				hard[i] = append(hard[i], j)
			}
		}
	}
	compAll, _ := tarjan(n, func(v int) []int32 { return all[v] })
	compHard, ncomp := tarjan(n, func(v int) []int32 { return hard[v] })

	// Drop checkdepends edges that only close check cycles.
	for i, b := range regular {
		for k := range b.edges {
			e := &b.edges[k]
			j, ok := idx[e.To]
			if !ok || e.Kind != KindCheckDepends || compAll[i] != compAll[j] || compHard[i] == compHard[j] {
				continue
			}
			e.Dropped = true
			if !b.nocheck {
				b.nocheck = true
				b.nocheckBy = fmt.Sprintf("checkdepends cycle: %s checkdepends on %s (%s), which needs %s", b.name, e.To, e.Relation, b.name)
			}
		}
	}

	// Real cycles: hard components with more than one member.
	members := make([][]int32, ncomp)
	for i := range regular {
		members[compHard[i]] = append(members[compHard[i]], int32(i))
	}
	twoStage := !w.in.Options.SingleStage
	type cycleInfo struct {
		order []int32
		pos   map[int32]int
		c     Cycle
	}
	cycleOf := make([]*cycleInfo, n)
	var cycles []*cycleInfo
	for _, ms := range members {
		if len(ms) < 2 {
			continue
		}
		ci := &cycleInfo{order: w.cycleOrder(regular, ms, hard, compHard), pos: make(map[int32]int, len(ms))}
		for k, m := range ci.order {
			ci.pos[m] = k
			cycleOf[m] = ci
			ci.c.Members = append(ci.c.Members, regular[m].name)
		}
		ci.c.Stages = 1
		if twoStage {
			ci.c.Stages = 2
		}
		for _, m := range ci.order {
			b := regular[m]
			for k := range b.edges {
				e := &b.edges[k]
				j, ok := idx[e.To]
				if !ok || !e.Kind.hard() || cycleOf[j] != ci || ci.pos[j] < ci.pos[m] {
					continue
				}
				e.Broken = true
				ci.c.Broken = append(ci.c.Broken, BrokenEdge{From: b.name, To: e.To, Kind: e.Kind, Relation: e.Relation, InTarget: regular[j].current != ""})
			}
		}
		cycles = append(cycles, ci)
	}

	// Build nodes.
	var nodes []*Node
	final := make(map[string]string, n+len(boot))
	mk := func(b *base, id string, stage int, action Action) *Node {
		nd := w.node(b, id, stage, action)
		nodes = append(nodes, nd)
		return nd
	}
	var bootNodes [2][]*Node
	for s := 1; s <= 2; s++ {
		for _, b := range boot {
			act := ActionBootstrapStage1
			if s == 2 {
				act = ActionBootstrapStage2
			}
			nd := mk(b, fmt.Sprintf("%s#b%d", b.name, s), s, act)
			nd.Bootstrap = true
			if s == 1 {
				nd.Nocheck, nd.NocheckBy = true, "bootstrap stage 1"
			}
			bootNodes[s-1] = append(bootNodes[s-1], nd)
			final[b.name] = nd.ID
		}
	}
	regNodes := make([][2]*Node, n)
	for i, b := range regular {
		ci := cycleOf[i]
		switch {
		case ci == nil || !twoStage:
			regNodes[i][0] = mk(b, b.name, 0, ActionBuild)
			final[b.name] = b.name
		default:
			n1 := mk(b, b.name+"#1", 1, ActionBuildStage1)
			n1.Nocheck, n1.NocheckBy = true, "stage 1 of a cycle"
			n2 := mk(b, b.name+"#2", 2, ActionBuildStage2)
			regNodes[i] = [2]*Node{n1, n2}
			final[b.name] = n2.ID
		}
	}

	// Deps.
	add := func(nd *Node, id string, kind DepKind) {
		for k := range nd.Deps {
			if nd.Deps[k].ID == id {
				if !slices.Contains(nd.Deps[k].Kinds, kind) {
					nd.Deps[k].Kinds = append(nd.Deps[k].Kinds, kind)
				}
				return
			}
		}
		nd.Deps = append(nd.Deps, Dep{ID: id, Kinds: []DepKind{kind}})
	}
	for s := range 2 {
		for k, nd := range bootNodes[s] {
			switch {
			case k > 0:
				add(nd, bootNodes[s][k-1].ID, KindOrder)
			case s == 1:
				add(nd, bootNodes[0][len(bootNodes[0])-1].ID, KindStage)
			}
			if s == 1 {
				add(nd, bootNodes[0][k].ID, KindStage)
			}
		}
	}
	for i, b := range regular {
		ci := cycleOf[i]
		for _, e := range b.edges {
			if e.Dropped {
				continue
			}
			j, inPlan := idx[e.To]
			if !inPlan {
				if id, ok := final[e.To]; ok { // the toolchain
					add(regNodes[i][0], id, e.Kind)
					if regNodes[i][1] != nil {
						add(regNodes[i][1], id, e.Kind)
					}
				}
				continue
			}
			if ci == nil || cycleOf[j] != ci {
				for _, nd := range regNodes[i] {
					if nd != nil {
						add(nd, final[e.To], e.Kind)
					}
				}
				continue
			}
			earlier := ci.pos[j] < ci.pos[i32(i)]
			first := regNodes[i][0]
			if earlier && (e.Kind.hard() || !first.Nocheck) {
				add(first, regNodes[j][0].ID, e.Kind)
			}
			if second := regNodes[i][1]; second != nil {
				if earlier {
					add(second, regNodes[j][1].ID, e.Kind)
				} else {
					add(second, regNodes[j][0].ID, e.Kind)
				}
			}
		}
		if second := regNodes[i][1]; second != nil {
			add(second, regNodes[i][0].ID, KindStage)
		}
	}
	if len(boot) > 0 {
		last := bootNodes[1][len(boot)-1].ID
		for _, nd := range nodes {
			if !nd.Bootstrap && len(nd.Deps) == 0 {
				add(nd, last, KindBootstrap)
			}
		}
	}
	for _, nd := range nodes {
		slices.SortFunc(nd.Deps, func(a, b Dep) int { return cmp.Compare(a.ID, b.ID) })
		for k := range nd.Deps {
			slices.Sort(nd.Deps[k].Kinds)
		}
	}

	sorted, err := topoOrder(nodes)
	if err != nil {
		return err
	}
	p.Nodes = sorted

	// Number cycles in build order.
	num := make(map[*cycleInfo]int)
	for _, nd := range sorted {
		if nd.Bootstrap {
			continue
		}
		i := idx[nd.Pkgbase]
		ci := cycleOf[i]
		if ci == nil {
			continue
		}
		if num[ci] == 0 {
			num[ci] = len(num) + 1
			ci.c.ID = num[ci]
			p.Cycles = append(p.Cycles, ci.c)
		}
		nd.Cycle = num[ci]
	}
	for _, nd := range sorted {
		if b := w.bases[nd.Pkgbase]; b.nocheck && !nd.Nocheck {
			nd.Nocheck, nd.NocheckBy = true, b.nocheckBy
		} else if w.nocheck(b) && !nd.Nocheck {
			nd.Nocheck, nd.NocheckBy = true, "nocheck setting"
		}
		// Edges are copied after the cycle pass marked them.
		nd.Edges = slices.Clone(w.bases[nd.Pkgbase].edges)
	}
	return nil
}

func i32(i int) int32 { return int32(i) }

// preserveOrder chains the forced pkgbases in command-line order.
func (w *world) preserveOrder(regular []*base, idx map[string]int32) {
	pos := make(map[string]int)
	var chain []*base
	for _, name := range w.in.Options.Packages {
		bn, ok := w.resolveName(name)
		if !ok {
			continue
		}
		if _, ok := idx[bn]; !ok {
			continue
		}
		if _, dup := pos[bn]; dup {
			continue
		}
		pos[bn] = len(chain)
		chain = append(chain, w.bases[bn])
	}
	for k, b := range chain {
		b.edges = slices.DeleteFunc(b.edges, func(e Edge) bool {
			if q, ok := pos[e.To]; ok && q > k {
				w.warns = append(w.warns, Warning{Pkgbase: b.name, Kind: WarnOrder, Relation: e.Relation, DepKind: e.Kind,
					Message: fmt.Sprintf("--preserve-order: %s needs %s (%s), which is built later; ignoring that edge", b.name, e.To, e.Relation)})
				return true
			}
			return false
		})
		if k > 0 {
			b.edges = append(b.edges, Edge{To: chain[k-1].name, Kind: KindOrder, Relation: "--preserve-order"})
		}
	}
}

// cycleOrder returns the members of one hard cycle in stage-1 order. It
// works on positions in ms, so the quadratic choice loop (a cycle under
// --rebuild-repo has a thousand members) touches slices, not maps.
func (w *world) cycleOrder(regular []*base, ms []int32, hard [][]int32, comp []int32) []int32 {
	c := comp[ms[0]]
	local := make(map[int32]int32, len(ms))
	for k, m := range ms {
		local[m] = int32(k)
	}
	rdeps := make([][]int32, len(ms)) // distinct in-cycle reverse deps
	unplaced := make([]int, len(ms))  // in-cycle deps not placed yet
	lacking := make([]int, len(ms))   // ... of which the target has no binary
	for k, m := range ms {
		seen := make(map[int32]bool)
		for _, j := range hard[m] {
			if comp[j] == c && j != m && !seen[j] {
				seen[j] = true
				rdeps[local[j]] = append(rdeps[local[j]], int32(k))
				unplaced[k]++
				if regular[j].current == "" {
					lacking[k]++
				}
			}
		}
	}
	placed := make([]bool, len(ms))
	out := make([]int32, 0, len(ms))
	for len(out) < len(ms) {
		best := -1
		for k := range ms {
			if placed[k] {
				continue
			}
			if best < 0 || lacking[k] < lacking[best] || (lacking[k] == lacking[best] && (unplaced[k] < unplaced[best] ||
				(unplaced[k] == unplaced[best] && regular[ms[k]].name < regular[ms[best]].name))) {
				best = k
			}
		}
		placed[best] = true
		out = append(out, ms[best])
		noBinary := regular[ms[best]].current == ""
		for _, x := range rdeps[best] {
			unplaced[x]--
			if noBinary {
				lacking[x]--
			}
		}
	}
	return out
}

func (w *world) node(b *base, id string, stage int, action Action) *Node {
	nd := &Node{
		ID: id, Pkgbase: b.name, Version: b.up.version, Current: b.current,
		Repo: w.in.Repos[b.up.pair].Name, Publish: w.in.Repos[b.up.pair].Publish,
		Arch: w.in.Arch, Action: action, Stage: stage, Group: w.in.Overrides[b.name].Group, Nointeg: w.in.Overrides[b.name].Nointeg,
		Source: b.source,
	}
	for _, wn := range b.warnings {
		nd.Warnings = append(nd.Warnings, wn.Message)
	}
	if b.up.allAny {
		nd.Arch = "any"
	}
	for _, e := range b.up.pkgs {
		nd.Packages = append(nd.Packages, e.Name)
	}
	if b.bootstrap {
		// Why a toolchain pkgbase is in a plan at all: --bootstrap; what
		// made it need work follows.
		nd.Reasons = append(nd.Reasons, Reason{Kind: ReasonBootstrap, Detail: "--bootstrap builds the build.bootstrap toolchain first"})
	}
	nd.Reasons = append(nd.Reasons, b.reasons...)
	nd.Reason = nd.Reasons[0]
	if targetNewer(b.current, b.up.version) {
		nd.Downgrade = true
		if nd.Action == ActionBuild {
			nd.Action = ActionDowngrade
		}
	}
	return nd
}

// topoOrder computes priorities and returns the nodes in build order.
func topoOrder(nodes []*Node) ([]*Node, error) {
	id := make(map[string]int, len(nodes))
	for i, nd := range nodes {
		id[nd.ID] = i
	}
	indeg := make([]int, len(nodes))
	dependents := make([][]int, len(nodes))
	for i, nd := range nodes {
		for _, d := range nd.Deps {
			j := id[d.ID]
			dependents[j] = append(dependents[j], i)
			indeg[i]++
		}
	}
	// Plain Kahn for a topological order, then priorities in reverse.
	topo := make([]int, 0, len(nodes))
	deg := slices.Clone(indeg)
	for i := range nodes {
		if deg[i] == 0 {
			topo = append(topo, i)
		}
	}
	for k := 0; k < len(topo); k++ {
		for _, j := range dependents[topo[k]] {
			if deg[j]--; deg[j] == 0 {
				topo = append(topo, j)
			}
		}
	}
	if len(topo) != len(nodes) {
		var stuck []string
		for i, d := range deg {
			if d > 0 {
				stuck = append(stuck, nodes[i].ID)
			}
		}
		slices.Sort(stuck)
		return nil, fmt.Errorf("planner: build graph still has a cycle through %v (a bug)", stuck[:min(len(stuck), 10)])
	}
	for k := len(topo) - 1; k >= 0; k-- {
		i := topo[k]
		pr := 0
		for _, j := range dependents[i] {
			pr = max(pr, nodes[j].Priority)
		}
		nodes[i].Priority = pr + 1
	}
	h := &readyHeap{nodes: nodes}
	for i := range nodes {
		if indeg[i] == 0 {
			h.items = append(h.items, i)
		}
	}
	heap.Init(h)
	out := make([]*Node, 0, len(nodes))
	for h.Len() > 0 {
		i := heap.Pop(h).(int)
		out = append(out, nodes[i])
		for _, j := range dependents[i] {
			if indeg[j]--; indeg[j] == 0 {
				heap.Push(h, j)
			}
		}
	}
	return out, nil
}

type readyHeap struct {
	nodes []*Node
	items []int
}

func (h *readyHeap) Len() int { return len(h.items) }
func (h *readyHeap) Less(a, b int) bool {
	x, y := h.nodes[h.items[a]], h.nodes[h.items[b]]
	if x.Priority != y.Priority {
		return x.Priority > y.Priority
	}
	return x.ID < y.ID
}
func (h *readyHeap) Swap(a, b int) { h.items[a], h.items[b] = h.items[b], h.items[a] }
func (h *readyHeap) Push(x any)    { h.items = append(h.items, x.(int)) }
func (h *readyHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
