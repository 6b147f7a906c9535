package planner

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// encodedSample is a small plan with a dependency chain, and its document.
func encodedSample(tb testing.TB) (*Plan, []byte) {
	tb.Helper()
	in := simple([]string{"a 2-1 d=b", "b 2-1", "c 1-1 d=a m=b"}, []string{"a 1-1", "b 1-1"})
	p, err := Build(in)
	if err != nil {
		tb.Fatal(err)
	}
	data, err := Encode(p)
	if err != nil {
		tb.Fatal(err)
	}
	return p, data
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	p, data := encodedSample(t)
	q, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Nodes) != len(p.Nodes) || q.Node(p.Nodes[0].ID) == nil {
		t.Fatalf("decoded plan lost its nodes or index: %+v", q.Nodes)
	}
	// The document leaves out the hash inputs; RestoreHashInputs
	// recomputes them and checks them against the hashes.
	for _, n := range q.Nodes {
		if n.HashInputs != nil {
			t.Fatalf("node %s: hash inputs encoded", n.ID)
		}
	}
	if err := q.RestoreHashInputs(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(q.Nodes, p.Nodes) || !reflect.DeepEqual(q.Bases, p.Bases) {
		t.Fatalf("decoded plan differs")
	}
	again, _ := Encode(q)
	if !bytes.Equal(again, data) {
		t.Fatal("Encode(Decode(x)) != x")
	}

	// A plan hashed differently (another portmake version) cannot have
	// its inputs restored truthfully.
	q.Nodes[0].Hash = strings.Repeat("0", 64)
	if err := q.RestoreHashInputs(); err == nil || !strings.Contains(err.Error(), "another portmake version") {
		t.Fatalf("RestoreHashInputs of a tampered hash: %v", err)
	}
}

func TestEncodeDecodeEmptyPlan(t *testing.T) {
	data, err := Encode(&Plan{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Nodes) != 0 || len(p.Bases) != 0 {
		t.Fatalf("empty plan decoded as %+v", p)
	}
}

func TestDecodeRefusesDamage(t *testing.T) {
	_, data := encodedSample(t)
	for _, cut := range []int{0, 1, len(data) / 2, len(data) - 1} {
		if _, err := Decode(data[:cut]); err == nil {
			t.Errorf("Decode of the first %d of %d bytes succeeded", cut, len(data))
		}
	}
}

// FuzzDecode: a damaged plan document (state.db is a file users can break)
// is an error, never a panic.
func FuzzDecode(f *testing.F) {
	_, data := encodedSample(f)
	f.Add(data)
	empty, _ := Encode(&Plan{})
	f.Add(empty)
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := Decode(b); err == nil && p == nil {
			t.Fatal("nil plan without error")
		}
	})
}
