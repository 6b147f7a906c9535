package planner

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fuzzInput decodes bytes into a small random repository pair: a header
// byte for the size and options, one byte per package for its target state,
// then (from, to, kind) triples for dependencies.
func fuzzInput(data []byte) *Input {
	if len(data) < 2 {
		return nil
	}
	n := int(data[0]%10) + 2
	flags := data[1]
	data = data[2:]
	deps := make([][3][]string, n)
	state := make([]byte, n)
	for i := range n {
		if i < len(data) {
			state[i] = data[i]
		}
	}
	if len(data) > n {
		data = data[n:]
	} else {
		data = nil
	}
	// Cap the edges: the graph code is not what large inputs would test.
	for e := 0; len(data) >= 3 && e < 64; data, e = data[3:], e+1 {
		from, to, kind := int(data[0])%n, int(data[1])%n, int(data[2])%4
		rel := fmt.Sprintf("p%d", to)
		if kind == 3 { // a versioned dependency through a provide
			rel, kind = fmt.Sprintf("v%d>=2", to), 0
		}
		deps[from][kind] = append(deps[from][kind], rel)
	}
	var up, tg []string
	for i := range n {
		spec := fmt.Sprintf("p%d 2-1 p=v%d=2", i, i)
		for k, key := range []string{"d", "m", "c"} {
			if len(deps[i][k]) > 0 {
				spec += " " + key + "=" + strings.Join(deps[i][k], ",")
			}
		}
		if state[i]&8 != 0 {
			spec += " arch=any"
		}
		up = append(up, spec)
		switch state[i] % 4 {
		case 0: // missing
		case 1:
			tg = append(tg, fmt.Sprintf("p%d 1-1 p=v%d=1", i, i))
		default:
			tg = append(tg, fmt.Sprintf("p%d 2-1 p=v%d=2", i, i))
		}
	}
	in := simple(up, tg)
	in.Options.SingleStage = flags&1 != 0
	in.Options.NoCheck = flags&2 != 0
	if flags&4 != 0 {
		in.Blacklist = []BlacklistEntry{{Pattern: fmt.Sprintf("p%d", int(flags>>4)%n), Reason: "fuzz"}}
	}
	if flags&8 != 0 {
		in.Options.PreserveOrder = true
		in.Options.Packages = []string{fmt.Sprintf("p%d", n-1), "p0"}
	}
	return in
}

// FuzzBuild checks, on random graphs, that Build never fails on valid
// input, that every plan is a valid build order with consistent priorities,
// and that shuffling the repositories changes nothing.
func FuzzBuild(f *testing.F) {
	f.Add([]byte{3, 0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1})                   // 2-cycle
	f.Add([]byte{4, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 2, 0, 2, 0, 0})       // 3-cycle
	f.Add([]byte{3, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 2})                   // check-only cycle, single stage
	f.Add([]byte{5, 0x24, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 2, 0, 2, 3, 0}) // blacklist, missing
	f.Add([]byte{5, 8, 1, 1, 1, 1, 1, 1, 0, 4, 0, 1, 0, 1, 0, 0, 3})    // preserve order
	f.Add([]byte{9, 0, 1, 1, 9, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 2, 0, 2, 0, 0, 3, 4, 0, 4, 3, 1, 5, 6, 3, 6, 5, 0, 4, 5, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := fuzzInput(data)
		if in == nil {
			return
		}
		p, err := Build(in)
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		checkInvariants(t, p)
		for _, n := range p.Nodes {
			if n.Stage == 1 && !n.Nocheck {
				t.Fatalf("%s: stage 1 must not run checks", n.ID)
			}
		}
		q, err := Build(shuffled(in, rand.New(rand.NewPCG(uint64(len(data)), 7))))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(p), ids(q)) || !reflect.DeepEqual(hashes(p), hashes(q)) {
			t.Fatalf("shuffled input gives a different plan:\n%s\nvs\n%s", dump(p), dump(q))
		}
	})
}
