package syncdb_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm/pkgfile/pkgfiletest"
	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/internal/testutil"
)

// oddRelations are .PKGINFO files whose relations break alpm's rules in
// ways repo-add passes through to the database as they are: values that
// look like desc headers, and an empty value in the middle of a list
// (which ends the list for libalpm).
var oddRelations = []string{
	"pkgname = hdr\npkgver = 1-1\nsize = 1\nbuilddate = 1\narch = any\n" +
		"depend = %VERSION%\ndepend = bar>=2\nprovides = %PROVIDES%\nprovides = baz=1\n" +
		"conflict = %NAME%\nreplaces = %DESC%\noptdepend = %URL%: for urls\noptdepend = qux\n",
	"pkgname = gap\npkgver = 2-1\nsize = 1\nbuilddate = 1\narch = any\n" +
		"depend = a\ndepend = \ndepend = b\nprovides = p\n",
	"pkgname = plain\npkgver = 3-1\nsize = 1\nbuilddate = 1\narch = any\ndepend = hdr\n",
}

// TestReadAgreesWithPacmanOnRepoAdd builds databases with the real repo-add
// from packages with odd relations and checks that Read sees exactly what
// pacman -Si shows, field by field.
func TestReadAgreesWithPacmanOnRepoAdd(t *testing.T) {
	testutil.RequireTool(t, "repo-add", "pacman")
	dir := t.TempDir()
	var pkgs []string
	for _, info := range oddRelations {
		p, err := pkgfiletest.Build(dir, []byte(info), nil, ".pkg.tar.zst")
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	runTool(t, "repo-add", append([]string{filepath.Join(dir, "port.db.tar.gz")}, pkgs...)...)
	db, err := syncdb.ReadFile(filepath.Join(dir, "port.db"))
	if err != nil {
		t.Fatalf("portmake cannot read what repo-add wrote: %v", err)
	}
	if got, want := listOf(db), pacmanRun(t, dir, "-Sl", "port"); got != want {
		t.Errorf("listing differs:\n--- portmake\n%s--- pacman -Sl\n%s", got, want)
	}
	for _, p := range db.Packages {
		info := siFields(pacmanRun(t, dir, "-Si", p.Name))
		for _, f := range []struct {
			field string
			ours  []string
		}{
			{"Name", []string{p.Name}},
			{"Version", []string{p.Version}},
			{"Depends On", p.Depends},
			{"Provides", p.Provides},
			{"Conflicts With", p.Conflicts},
			{"Replaces", p.Replaces},
			{"Optional Deps", p.OptDepends},
		} {
			if !slices.Equal(orNone(f.ours), info[f.field]) {
				t.Errorf("%s: %s: portmake reads %q, pacman -Si shows %q", p.Name, f.field, f.ours, info[f.field])
			}
		}
	}
	if hdr := db.Find("hdr"); hdr == nil || !slices.Equal(hdr.Depends, []string{"%VERSION%", "bar>=2"}) {
		t.Errorf("hdr: %+v", hdr)
	}

	// portmake's own repo add refuses these packages, naming each bad
	// relation, and writes nothing.
	ours := filepath.Join(t.TempDir(), "port.db.tar.gz")
	err = syncdb.Add(ours, pkgs[:2], syncdb.AddOptions{})
	for _, want := range []string{`depends: relation "%VERSION%"`, `provides: relation "%PROVIDES%"`, `conflicts: relation "%NAME%"`,
		`replaces: relation "%DESC%"`, `optdepends: relation "%URL%: for urls"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("repo add: error %v, want it to contain %s", err, want)
		}
	}
	if _, err := os.Stat(ours); err == nil {
		t.Error("repo add wrote a database despite the errors")
	}
	if err := syncdb.Add(ours, pkgs[2:], syncdb.AddOptions{}); err != nil {
		t.Fatalf("a valid package: %v", err)
	}
}

func listOf(db *syncdb.DB) string {
	var b strings.Builder
	for _, p := range db.Packages {
		b.WriteString(db.Name + " " + p.Name + " " + p.Version + "\n")
	}
	return b.String()
}

func orNone(list []string) []string {
	if len(list) == 0 {
		return []string{"None"}
	}
	return list
}

// siFields parses pacman -Si output: "Key   : value  value" lines, with
// Optional Deps continued one per line.
func siFields(out string) map[string][]string {
	fields := map[string][]string{}
	var last string
	for _, line := range strings.Split(out, "\n") {
		key, val, ok := strings.Cut(line, " : ")
		if ok && !strings.HasPrefix(line, " ") {
			last = strings.TrimSpace(key)
			if last == "Optional Deps" {
				fields[last] = []string{strings.TrimSpace(val)}
				continue
			}
			for _, v := range strings.Split(val, "  ") {
				if v = strings.TrimSpace(v); v != "" {
					fields[last] = append(fields[last], v)
				}
			}
			continue
		}
		if last == "Optional Deps" && strings.TrimSpace(line) != "" {
			fields[last] = append(fields[last], strings.TrimSpace(line))
		}
	}
	return fields
}
