package lang

import (
	"reflect"
	"slices"
	"testing"
)

// TestEveryBuildSettingIsDecided walks every struct type of this package
// reachable from Portfile. Each is either listed in NotBuildConfig or has
// every field decided in HashInputs; a new field or a new block without a
// decision fails here. Decisions for fields that no longer exist fail too.
func TestEveryBuildSettingIsDecided(t *testing.T) {
	pkg := reflect.TypeFor[Portfile]().PkgPath()
	seen := map[reflect.Type]bool{}
	var decided []string
	var visit func(reflect.Type)
	visit = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ.PkgPath() != pkg || seen[typ] {
			return
		}
		seen[typ] = true
		_, skip := NotBuildConfig[typ.Name()]
		for f := range typ.Fields() {
			visit(f.Type)
			if skip {
				continue
			}
			key := typ.Name() + "." + f.Name
			d, ok := HashInputs[key]
			switch {
			case !ok:
				t.Errorf("%s: decide whether it changes the built bytes: add it to HashInputs in hashinputs.go (hashed, with its hash line, or not hashed, with the reason)", key)
			case d.Why == "":
				t.Errorf("%s: the decision has no reason", key)
			case d.Hashed && d.Key == "":
				t.Errorf("%s: hashed, but names no hash input line", key)
			case !d.Hashed && d.Key != "":
				t.Errorf("%s: not hashed, but names the hash line %q", key, d.Key)
			}
			decided = append(decided, key)
		}
	}
	visit(reflect.TypeFor[Portfile]())
	for key := range HashInputs {
		if !slices.Contains(decided, key) {
			t.Errorf("HashInputs decides %s, which is not a field of a build-affecting struct", key)
		}
	}
	for name := range NotBuildConfig {
		found := false
		for typ := range seen {
			found = found || typ.Name() == name
		}
		if !found {
			t.Errorf("NotBuildConfig lists %s, which the Portfile does not hold", name)
		}
	}
	// The blocks the issues name are classified as build settings.
	for _, typ := range []string{"Port", "Build", "Slurm", "Sign", "Sources", "PackageOverride", "Patch"} {
		if _, skip := NotBuildConfig[typ]; skip {
			t.Errorf("%s must have its fields decided", typ)
		}
	}
	if d := HashInputs["Build.MakepkgArgs"]; !d.Hashed || d.Key != "makepkg.args" {
		t.Errorf("build.makepkg_args must be hashed as makepkg.args: %+v", d)
	}
}

// HashedKeys lists the hash lines the decisions name, for the planner's
// cross-check.
func TestHashedKeys(t *testing.T) {
	want := []string{"arch", "builder", "makepkg.args", "makepkg.conf", "nocheck", "nointeg", "pacman.conf", "patch", "pkgbase", "source.commit", "source.ref", "source.url"}
	if got := HashedKeys(); !slices.Equal(got, want) {
		t.Errorf("HashedKeys() = %v, want %v", got, want)
	}
}
