package planner

import (
	"slices"
	"testing"
)

func TestVariant(t *testing.T) {
	p := mustBuild(t, simple([]string{"a 2-1 d=b", "b 2-1", "c 1-1 d=a m=b"}, []string{"a 1-1", "b 1-1"}))
	var nd *Node
	for _, n := range p.Nodes {
		if len(n.Deps) > 0 {
			nd = n
			break
		}
	}
	if nd == nil {
		t.Fatal("the sample plan has no node with a dependency")
	}
	if err := p.RestoreHashInputs(); err != nil {
		t.Fatal(err)
	}
	lines, hash := p.Variant(nd, nil)
	if hash != nd.Hash || !slices.Equal(lines, nd.HashInputs) {
		t.Fatalf("Variant with no changes: %s, want the node's own %s", hash, nd.Hash)
	}
	dep := nd.Deps[0].ID
	lines, hash = p.Variant(nd, map[string]string{dep: TargetDep})
	if hash == nd.Hash {
		t.Fatal("building against the target's dependency kept the planned hash")
	}
	changes := DiffInputs(nd.HashInputs, lines)
	if len(changes) != 1 || changes[0].Key != "dep "+dep || changes[0].New != TargetDep {
		t.Errorf("variant changes %v, want only dep %s → target", changes, dep)
	}
	// Another build of the dependency (itself a variant) changes it too,
	// and differently.
	_, other := p.Variant(nd, map[string]string{dep: "0123"})
	if other == hash || other == nd.Hash {
		t.Errorf("a variant dependency gives hash %s, not distinct from %s and %s", other, hash, nd.Hash)
	}
}
