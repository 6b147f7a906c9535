package planner

import (
	"reflect"
	"testing"
)

func TestWithSourcesEqualsBuild(t *testing.T) {
	in := simple([]string{"a 2-1 d=b", "b 2-1 d=c", "c 2-1 d=b", "d 1-1"}, []string{"a 1-1", "b 1-1", "c 1-1"})
	first, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	srcs := map[string]Source{
		"a": {Kind: SourceOfficial, URL: "https://example.org/a.git", Ref: "2-1", Commit: "1111111111111111111111111111111111111111"},
		"c": {Kind: SourceOverride, URL: "https://example.org/c.git", Ref: "main", Commit: "2222222222222222222222222222222222222222"},
	}
	got, err := WithSources(first, srcs)
	if err != nil {
		t.Fatal(err)
	}
	in.Sources = srcs
	want, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Nodes, want.Nodes) {
		t.Fatalf("WithSources differs from Build with the sources:\n got %+v\nwant %+v", got.Nodes, want.Nodes)
	}
	if got.Node(want.Nodes[0].ID) == nil {
		t.Fatal("WithSources did not index its nodes")
	}
	for _, n := range first.Nodes {
		if n.Source != nil {
			t.Fatalf("WithSources modified its input plan: %s has a source", n.ID)
		}
	}
	// A draft (no hashes) gives the same plan once WithSources hashes it.
	in.Sources = nil
	draft, err := Draft(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range draft.Nodes {
		if n.Hash != "" || n.HashInputs != nil {
			t.Fatalf("draft node %s is hashed", n.ID)
		}
	}
	fromDraft, err := WithSources(draft, srcs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromDraft.Nodes, want.Nodes) {
		t.Fatalf("WithSources of a draft differs from Build with the sources")
	}
	if _, err := WithSources(first, map[string]Source{"a": {Recipe: &Recipe{}}}); err == nil {
		t.Fatal("a source with a recipe was accepted")
	}
}
