package planner

import "testing"

func TestForcedAnyIsBuilt(t *testing.T) {
	up := []string{"python 3.12-1", "python-six 1.17-1 arch=any d=python", "python-attrs 24.2-1 arch=any", "app 2-1 d=python-six"}
	tg := []string{"python 3.12-1", "python-six 1.16-1 arch=any", "python-attrs 24.2-1 arch=any", "app 2-1"}
	for _, tc := range []struct {
		name     string
		packages []string
		built    []string // node IDs
		anySync  []string
	}{
		{"synced by default", nil, nil, []string{"python-six"}},
		{"outdated, named", []string{"python-six"}, []string{"python-six"}, nil},
		{"current, named by pkgname", []string{"python-attrs"}, []string{"python-attrs"}, []string{"python-six"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := simple(up, tg)
			in.Options.Packages = tc.packages
			p := mustBuild(t, in)
			if got := ids(p); !equalSet(got, tc.built) {
				t.Errorf("built %v, want %v", got, tc.built)
			}
			var synced []string
			for _, a := range p.AnySync {
				synced = append(synced, a.Pkgbase)
			}
			if !equalSet(synced, tc.anySync) {
				t.Errorf("any-sync %v, want %v", synced, tc.anySync)
			}
			for _, id := range tc.built {
				n := node(t, p, id)
				if n.Arch != "any" || n.Reason.Kind != ReasonForced {
					t.Errorf("%s: arch %q reason %v, want any and forced", id, n.Arch, n.Reason.Kind)
				}
				if !hasWarning(p, id, "ARCH=any, built because --packages names it") {
					t.Errorf("%s: no warning that an ARCH=any package is built: %v", id, p.Warnings)
				}
				if st, _ := p.Status(id); st.Status != StatusPlanned {
					t.Errorf("%s: status %s, want planned", id, st.Status)
				}
			}
		})
	}
}

func equalSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		if seen[s]--; seen[s] < 0 {
			return false
		}
	}
	return true
}
