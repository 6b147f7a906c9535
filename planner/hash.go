package planner

// Content hashes.
//
// Every build node gets a hash the way the go command gives an action its
// ID: key/value lines, written in a fixed order into sha256, one "key value\n"
// line each. The lines are kept on the node (Node.HashInputs) so that
// `portmake explain` can show them and say which one changed since the last
// successful build of the pkgbase (DiffInputs). The order is:
//
//	salt          portmake-node-v2 (bump it when this list changes meaning)
//	arch          the port's architecture
//	pkgbase       the pkgbase
//	version       the version being built
//	source        "unresolved", or the source kind
//	source.url    git URL or local path             (resolved sources only)
//	source.ref    branch or tag asked for
//	source.commit resolved commit (git sources)
//	source.tree   tree hash (local dirs)
//	patch NAME    sha256 of each patch, in apply order
//	makepkg.conf  sha256 of its content, or "none"
//	pacman.conf   sha256 of its content, or "none"
//	builder       builder kind
//	makepkg.args  build.makepkg_args, each quoted (v2)
//	nocheck       true or false
//	nointeg       true or false: source checksums not verified (v2)
//	stage         0, 1 or 2 (bootstrap builds: b1, b2)
//	dep ID        the hash of each in-plan dependency, sorted by hash
//
// Not hashed, on purpose: the reason, priority, mutex group, repo names,
// the cycle number and the recipe's dependency lists (they follow from the
// source identity, which is hashed). hashFields in hash_test.go lists every
// field of hashInput and Source with that decision; adding a field without
// deciding fails the test. The Portfile side of the same decision, field by
// field of the build, port and package blocks, is lang.HashInputs.
//
// Dependencies are hashed in a topological order, so a changed input
// changes the hash of the node and of every in-plan dependent, which is what
// makes apply rebuild exactly the stale part.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
)

// Salt is the first hash input; bump it when the meaning of the inputs
// changes, so old build records stop matching.
const Salt = "portmake-node-v2"

// HashInput is one line of a node's hash.
type HashInput struct {
	Key   string
	Value string
}

func (h HashInput) String() string { return h.Key + " " + h.Value }

// hashInput is everything that goes into a node's hash.
type hashInput struct {
	Salt        string
	Arch        string
	Pkgbase     string
	Version     string
	Source      *Source
	MakepkgConf string
	PacmanConf  string
	Builder     string
	MakepkgArgs string
	Nocheck     bool
	Nointeg     bool
	Stage       string
	Deps        []HashInput // Key "dep ID", Value the dep's hash
}

func (in *hashInput) lines() []HashInput {
	out := []HashInput{
		{"salt", in.Salt}, {"arch", in.Arch}, {"pkgbase", in.Pkgbase}, {"version", in.Version},
	}
	if s := in.Source; s == nil {
		out = append(out, HashInput{"source", "unresolved"})
	} else {
		out = append(out, HashInput{"source", string(s.Kind)}, HashInput{"source.url", s.URL}, HashInput{"source.ref", s.Ref})
		if s.Commit != "" {
			out = append(out, HashInput{"source.commit", s.Commit})
		}
		if s.TreeHash != "" {
			out = append(out, HashInput{"source.tree", s.TreeHash})
		}
		for _, p := range s.Patches {
			out = append(out, HashInput{"patch " + p.Name, p.SHA256})
		}
	}
	out = append(out,
		HashInput{"makepkg.conf", in.MakepkgConf}, HashInput{"pacman.conf", in.PacmanConf},
		HashInput{"builder", in.Builder}, HashInput{"makepkg.args", in.MakepkgArgs},
		HashInput{"nocheck", strconv.FormatBool(in.Nocheck)}, HashInput{"nointeg", strconv.FormatBool(in.Nointeg)},
		HashInput{"stage", in.Stage})
	deps := slices.Clone(in.Deps)
	slices.SortFunc(deps, func(a, b HashInput) int {
		if c := strings.Compare(a.Value, b.Value); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return append(out, deps...)
}

func newHash() hash.Hash { return sha256.New() }

func sumLines(h hash.Hash, lines []HashInput) string {
	h.Reset()
	var buf []byte
	for _, l := range lines {
		buf = append(buf[:0], l.Key...)
		buf = append(buf, ' ')
		buf = append(buf, l.Value...)
		buf = append(buf, '\n')
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// quoteArgs writes arguments unambiguously, for a hash line.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, " ")
}

func contentDigest(b []byte) string {
	if b == nil {
		return "none"
	}
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// hashPlan hashes the nodes; p.Nodes is in topological order, so every
// dependency is hashed before its dependents.
func hashPlan(p *Plan) {
	h := sha256.New()
	byID := make(map[string]string, len(p.Nodes))
	for _, nd := range p.Nodes {
		nd.HashInputs = nodeLines(p, nd, byID)
		nd.Hash = sumLines(h, nd.HashInputs)
		byID[nd.ID] = nd.Hash
	}
}

// nodeLines returns nd's hash inputs; byID holds the hashes of the nodes
// before it.
func nodeLines(p *Plan, nd *Node, byID map[string]string) []HashInput {
	stage := strconv.Itoa(nd.Stage)
	if nd.Bootstrap {
		stage = "b" + stage
	}
	hi := hashInput{
		Salt: Salt, Arch: p.Arch, Pkgbase: nd.Pkgbase, Version: nd.Version, Source: nd.Source,
		MakepkgConf: p.Env.MakepkgConf, PacmanConf: p.Env.PacmanConf, Builder: p.Env.Builder,
		MakepkgArgs: p.Env.MakepkgArgs, Nocheck: nd.Nocheck, Nointeg: nd.Nointeg, Stage: stage,
	}
	for _, d := range nd.Deps {
		hi.Deps = append(hi.Deps, HashInput{"dep " + d.ID, byID[d.ID]})
	}
	return hi.lines()
}

// RestoreHashInputs recomputes every node's hash inputs, which a decoded
// plan lacks (see Encode), and checks that they still give the node's
// hash. A mismatch means the plan was made by a portmake that hashed
// differently; its inputs cannot be shown or recorded truthfully.
func (p *Plan) RestoreHashInputs() error {
	h := sha256.New()
	byID := make(map[string]string, len(p.Nodes))
	for _, nd := range p.Nodes {
		lines := nodeLines(p, nd, byID)
		if sum := sumLines(h, lines); sum != nd.Hash {
			return fmt.Errorf("node %s: its inputs hash to %s, not %s: the plan was made by another portmake version; plan again", nd.ID, sum, nd.Hash)
		}
		nd.HashInputs = lines
		byID[nd.ID] = nd.Hash
	}
	return nil
}

// Change is one difference between two sets of hash inputs.
type Change struct {
	Key      string
	Old, New string // Old is "" for an added input, New for a removed one
}

// DiffInputs compares the hash inputs of a previous build with the current
// ones, by key, in the current order followed by the removed keys.
func DiffInputs(old, cur []HashInput) []Change {
	prev := make(map[string]string, len(old))
	for _, l := range old {
		prev[l.Key] = l.Value
	}
	seen := make(map[string]bool, len(cur))
	var out []Change
	for _, l := range cur {
		seen[l.Key] = true
		if v, ok := prev[l.Key]; !ok || v != l.Value {
			out = append(out, Change{Key: l.Key, Old: v, New: l.Value})
		}
	}
	for _, l := range old {
		if !seen[l.Key] {
			out = append(out, Change{Key: l.Key, Old: l.Value})
		}
	}
	return out
}
