package planner

import (
	"strings"
	"testing"

	"github.com/portmake/portmake/lang"
)

// TestPortfileDecisionsAreHashLines: every hash line that lang.HashInputs
// says carries a Portfile setting is one the node hash writes, so a
// setting decided "hashed" cannot silently be left out of the hash.
func TestPortfileDecisionsAreHashLines(t *testing.T) {
	src := &Source{Kind: SourceOverride, URL: "u", Ref: "r", Commit: "c", TreeHash: "t", Patches: []PatchRef{{"p", "s"}}}
	in := hashInput{Salt: Salt, Arch: "aarch64", Pkgbase: "a", Version: "1-1", Source: src, Stage: "0"}
	written := map[string]bool{}
	for _, l := range in.lines() {
		name, _, _ := strings.Cut(l.Key, " ") // "patch NAME", "dep ID"
		written[name] = true
	}
	for _, key := range lang.HashedKeys() {
		if !written[key] {
			t.Errorf("lang.HashInputs hashes a setting as %q, but no node hash line is named so", key)
		}
	}
}
