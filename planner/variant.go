package planner

// Variants: a node built against other dependency builds than the plan's.
//
// A node's hash names the hashes of its in-plan dependencies, so it says
// "built against their fresh builds". When apply builds a node anyway
// although a dependency failed (--build-dependents-of-failed), or leaves a
// dependency out of the run (--start-from, --only), the build uses the
// target's existing binaries for that dependency instead, and recording it
// under the node's hash would claim what did not happen. Such a build gets
// a variant hash: the same inputs, with the line of that dependency saying
// "dep ID target" instead of its hash. The planned hash is then still
// unbuilt, so the node is built again once the dependency succeeds; the
// variant is up to date as long as the same dependency keeps failing.

// TargetDep is the value of a "dep ID" hash input when the build used the
// target repository's binaries instead of the dependency's fresh build.
const TargetDep = "target"

// Variant returns the hash inputs and hash of nd built against the
// dependency builds in deps: for each ID of nd.Deps, the hash of the build
// used, or TargetDep. Deps it does not name count as planned. With no
// changes it returns nd's own inputs and hash.
func (p *Plan) Variant(nd *Node, deps map[string]string) ([]HashInput, string) {
	used := make(map[string]string, len(nd.Deps))
	for _, d := range nd.Deps {
		if h, ok := deps[d.ID]; ok {
			used[d.ID] = h
		} else if dn := p.Node(d.ID); dn != nil {
			used[d.ID] = dn.Hash
		}
	}
	lines := nodeLines(p, nd, used)
	return lines, sumLines(newHash(), lines)
}
