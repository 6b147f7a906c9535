package planner

import (
	"bytes"
	"encoding/gob"
	"fmt"
)

// Encode serialises a plan for the store (gob: a full-size plan encodes in
// about half the time JSON takes and decodes five times faster, which is
// what show, why and a reused plan wait for).
//
// The nodes' HashInputs are left out: they are most of a large plan
// (140,000 lines for an 8,700-node rebuild, ten times the encoding time of
// everything else), and they follow from the rest of the plan. Decode
// returns nodes without them; RestoreHashInputs recomputes them for the
// views and the build records that need them, checking them against each
// node's hash. Otherwise Decode(Encode(p)) renders and applies exactly
// like p.
//
// The document is a gob stream: the plan without its nodes and bases, then
// each node and each base as a message of its own. One message for the
// whole plan made gob build it in one buffer of several megabytes, grown
// by copying into fresh memory, which cost more than the encoding itself.
func Encode(p *Plan) ([]byte, error) {
	head := *p
	head.Nodes, head.Bases = nil, nil
	var buf bytes.Buffer
	// About what a node and a base take encoded (a full-size plan: 1.2 MB
	// for 870 nodes and 12,000 bases); a larger guess was megabytes of
	// buffer at the peak of a plan's memory.
	buf.Grow(512*len(p.Nodes) + 96*len(p.Bases))
	enc := gob.NewEncoder(&buf)
	err := enc.Encode(docHead{Plan: &head, Nodes: len(p.Nodes), Bases: len(p.Bases)})
	for _, n := range p.Nodes {
		if err != nil {
			break
		}
		m := *n
		m.HashInputs = nil
		err = enc.Encode(&m)
	}
	for i := 0; i < len(p.Bases) && err == nil; i++ {
		err = enc.Encode(&p.Bases[i])
	}
	if err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	return buf.Bytes(), nil
}

// docHead is the first message of an encoded plan.
type docHead struct {
	Plan         *Plan
	Nodes, Bases int
}

// Decode restores a plan saved with Encode, rebuilding its indexes.
func Decode(data []byte) (*Plan, error) {
	dec := gob.NewDecoder(bytes.NewReader(data))
	var head docHead
	if err := dec.Decode(&head); err != nil {
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	p := head.Plan
	if p == nil || head.Nodes < 0 || head.Bases < 0 || head.Nodes+head.Bases > len(data) {
		return nil, fmt.Errorf("decode plan: bad header (%d nodes, %d bases in %d bytes)", head.Nodes, head.Bases, len(data))
	}
	// The counts come from the document, so they only cap what is
	// preallocated: a damaged header must not allocate gigabytes.
	p.Nodes = make([]*Node, 0, min(head.Nodes, 1<<16))
	for i := range head.Nodes {
		n := new(Node)
		if err := dec.Decode(n); err != nil {
			return nil, fmt.Errorf("decode plan: node %d of %d: %w", i+1, head.Nodes, err)
		}
		p.Nodes = append(p.Nodes, n)
	}
	p.Bases = make([]BaseStatus, 0, min(head.Bases, 1<<16))
	for i := range head.Bases {
		var b BaseStatus
		if err := dec.Decode(&b); err != nil {
			return nil, fmt.Errorf("decode plan: base %d of %d: %w", i+1, head.Bases, err)
		}
		p.Bases = append(p.Bases, b)
	}
	p.index()
	return p, nil
}
