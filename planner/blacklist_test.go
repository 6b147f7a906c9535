package planner

import (
	"slices"
	"testing"
)

// TestBlacklistGlobs: the blacklist is read as fnmatch reads it, so an
// entry "[!l]ib*" (Python's negation) spares libfoo and blacklists xibfoo.
func TestBlacklistGlobs(t *testing.T) {
	for _, tt := range []struct {
		pattern, name string
		want          bool
	}{
		{"[!l]ib*", "libfoo", false}, {"[!l]ib*", "xibfoo", true}, {"[^l]ib*", "libfoo", false},
		{"lib[a-c]", "libb", true}, {"*-x86_64-*", "foo-x86_64-tools", true}, {"python", "python-foo", false},
	} {
		if got := (BlacklistEntry{Pattern: tt.pattern}).Match(tt.name); got != tt.want {
			t.Errorf("%q matches %q: %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
	in := simple([]string{"libfoo 2-1", "xibfoo 2-1"}, []string{"libfoo 1-1 aarch64", "xibfoo 1-1 aarch64"})
	in.Blacklist = []BlacklistEntry{{Pattern: "[!l]ib*", Reason: "only lib", Origin: "bl:1"}}
	p := mustBuild(t, in)
	if got := sortedIDs(p); !slices.Equal(got, []string{"libfoo"}) {
		t.Errorf("nodes = %v, want [libfoo]: xibfoo is blacklisted", got)
	}
}
