package planner

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	in := simple([]string{"a 2-1 d=b", "b 2-1", "c 1-1 d=a m=b"}, []string{"a 1-1", "b 1-1"})
	p, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	data, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Nodes) != len(p.Nodes) || q.Node(p.Nodes[0].ID) == nil {
		t.Fatalf("decoded plan lost its nodes or index: %+v", q.Nodes)
	}
	// The document leaves out the hash inputs (the store keeps them per
	// hash); SetHashInputs restores them.
	for _, n := range q.Nodes {
		if n.HashInputs != nil {
			t.Fatalf("node %s: hash inputs encoded", n.ID)
		}
	}
	byHash := map[string][]HashInput{}
	for _, n := range p.Nodes {
		byHash[n.Hash] = n.HashInputs
	}
	if err := q.SetHashInputs(byHash); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(q.Nodes, p.Nodes) || !reflect.DeepEqual(q.Bases, p.Bases) {
		t.Fatalf("decoded plan differs")
	}
	delete(byHash, p.Nodes[0].Hash)
	if err := q.SetHashInputs(byHash); err == nil || !strings.Contains(err.Error(), p.Nodes[0].ID) {
		t.Fatalf("a node without recorded inputs: %v", err)
	}
	again, _ := Encode(q)
	if !bytes.Equal(again, data) {
		t.Fatal("Encode(Decode(x)) != x")
	}
}
