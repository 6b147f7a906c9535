package pkgspec

import (
	"reflect"
	"testing"

	"github.com/portmake/portmake/alpm"
)

func TestParse(t *testing.T) {
	for spec, want := range map[string]alpm.Package{
		"a 1-1":                            {Name: "a", Base: "a", Version: "1-1", Arch: "x86_64"},
		"a 1:2-3 aarch64 d=b>=2,c":         {Name: "a", Base: "a", Version: "1:2-3", Arch: "aarch64", Depends: []string{"b>=2", "c"}},
		"a-doc 1-1 base=a arch=any":        {Name: "a-doc", Base: "a", Version: "1-1", Arch: "any"},
		"z 1-1 p=libz.so=1-64 m=cmake c=x": {Name: "z", Base: "z", Version: "1-1", Arch: "x86_64", Provides: []string{"libz.so=1-64"}, MakeDepends: []string{"cmake"}, CheckDepends: []string{"x"}},
	} {
		got, err := Parse(spec)
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	for _, bad := range []string{"", "a", "../a 1-1", "a 1", "a 1-1 q=x", "a 1-1 d="} {
		if p, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", bad, p)
		}
	}
}
