package publish

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/internal/pkgspec"
)

// db builds a DB from pkgspec lines ("name version [base=B] [d=a,b]
// [p=c]" as pkgspec reads them).
func db(t *testing.T, name string, specs ...string) *syncdb.DB {
	t.Helper()
	d := &syncdb.DB{Name: name}
	for _, s := range specs {
		p, err := pkgspec.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if p.Filename == "" {
			p.Filename = p.Name + "-" + p.Version + "-x86_64.pkg.tar.zst"
		}
		d.Packages = append(d.Packages, p)
	}
	return d
}

func movesAndHolds(p *PromotePlan) (moves []string, held []string) {
	for _, m := range p.Moves {
		moves = append(moves, m.Pkgbase)
	}
	for _, h := range p.Held {
		held = append(held, h.Pkgbase+": "+strings.Join(h.Reasons, "; "))
	}
	return
}

func TestPlanPromotion(t *testing.T) {
	core := func(extra ...string) *syncdb.DB {
		return db(t, "core", append([]string{"glibc 2.40-1 p=libc.so=6-64", "libfoo 1-1 p=libfoo.so=1-64", "app 1-1 d=libfoo.so=1-64"}, extra...)...)
	}
	cases := []struct {
		name    string
		testing *syncdb.DB
		stable  []*syncdb.DB
		only    []string
		moves   []string
		held    []string
	}{
		{"a plain update", db(t, "core-testing", "bar 2-1 d=glibc>=2.40"), []*syncdb.DB{core("bar 1-1")}, nil,
			[]string{"bar"}, nil},
		{"a dependency nothing provides", db(t, "core-testing", "bar 2-1 d=libnew>=2"), []*syncdb.DB{core()}, nil,
			nil, []string{"bar: bar needs libnew>=2: nothing in core provides it after the move"}},
		{"a versioned dependency on an older version", db(t, "core-testing", "bar 2-1 d=glibc>=2.41"), []*syncdb.DB{core()}, nil,
			nil, []string{"bar: bar needs glibc>=2.41: nothing in core provides it after the move"}},
		{"satisfied by another moving package", db(t, "core-testing", "bar 2-1 d=libnew>=2", "libnew 2-1"), []*syncdb.DB{core()}, nil,
			[]string{"bar", "libnew"}, nil},
		{"satisfied from another stable repository", db(t, "core-testing", "bar 2-1 d=python"), []*syncdb.DB{core(), db(t, "extra", "python 3.12-1")}, nil,
			[]string{"bar"}, nil},
		{"held transitively", db(t, "core-testing", "bar 2-1 d=libnew", "baz 1-1 d=bar>=2"), []*syncdb.DB{core()}, nil,
			nil, []string{"bar: bar needs libnew: nothing in core provides it after the move", "baz: baz needs bar>=2: nothing in core provides it after the move"}},
		{"a soname bump whose dependents stay", db(t, "core-testing", "libfoo 2-1 p=libfoo.so=2-64"), []*syncdb.DB{core()}, nil,
			nil, []string{"libfoo: app (staying in core) needs libfoo.so=1-64, which only libfoo 1-1 provides"}},
		{"a soname bump with its rebuilt dependents", db(t, "core-testing", "libfoo 2-1 p=libfoo.so=2-64", "app 1-2 d=libfoo.so=2-64"), []*syncdb.DB{core()}, nil,
			[]string{"app", "libfoo"}, nil},
		{"an unversioned provide does not satisfy a versioned dependency", db(t, "core-testing", "bar 2-1 d=sh>=5", "bash 5-1 p=sh"), []*syncdb.DB{core()}, nil,
			[]string{"bash"}, []string{"bar: bar needs sh>=5: nothing in core provides it after the move"}},
		{"split packages move together", db(t, "core-testing", "foo 2-1 base=foo", "foo-libs 2-1 base=foo d=libnew"), []*syncdb.DB{core("foo 1-1 base=foo", "foo-libs 1-1 base=foo")}, nil,
			nil, []string{"foo: foo-libs needs libnew: nothing in core provides it after the move"}},
		{"only the named", db(t, "core-testing", "bar 2-1", "baz 2-1"), []*syncdb.DB{core()}, []string{"baz"},
			[]string{"baz"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := PlanPromotion(c.testing, "core", c.stable, c.only)
			moves, held := movesAndHolds(p)
			if !slices.Equal(moves, c.moves) || !slices.Equal(held, c.held) {
				t.Errorf("moves %q held %q\nwant moves %q held %q", moves, held, c.moves, c.held)
			}
		})
	}
}

func TestPromoteDir(t *testing.T) {
	testPromote(t, &Dir{Root: t.TempDir()})
}

func TestPromoteS3(t *testing.T) {
	srv := fakeS3(t)
	b, _ := s3Repo(t, srv, s3Target{Prefix: "promote"})
	testPromote(t, b)
}

func testPromote(t *testing.T, d Backend) {
	ctx := context.Background()
	mk := func(name string) *Repo {
		return &Repo{Backend: d, Name: name, Arch: "aarch64", TempDir: t.TempDir()}
	}
	core, testing := mk("core"), mk("core-testing")
	out := t.TempDir()
	pub := func(r *Repo, specs ...pkgSpec) {
		var fs []File
		for _, s := range specs {
			fs = append(fs, mkpkg(t, filepath.Join(out, r.Name, s.name+s.ver), s))
		}
		if _, err := r.Publish(ctx, fs); err != nil {
			t.Fatal(err)
		}
	}
	pub(core, pkgSpec{name: "glibc", ver: "2.40-1", payload: "g"}, pkgSpec{name: "foo", ver: "1-1", payload: "f1"})
	pub(testing, pkgSpec{name: "foo", ver: "2-1", payload: "f2", depends: []string{"glibc>=2.40"}},
		pkgSpec{name: "bar", ver: "1-1", payload: "b", depends: []string{"libnew"}})
	plan, err := Promote(ctx, testing, core, []*Repo{core}, PromoteOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if moves, held := movesAndHolds(plan); !slices.Equal(moves, []string{"foo"}) || len(held) != 1 {
		t.Fatalf("dry run: moves %v held %v", moves, held)
	}
	if got := consistent(t, d, testing); len(got) != 2 {
		t.Fatalf("the dry run changed testing: %v", got)
	}
	if _, err := Promote(ctx, testing, core, []*Repo{core}, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := consistent(t, d, core); !slices.Equal(got, []string{"foo-2-1-aarch64.pkg.tar.zst", "glibc-2.40-1-aarch64.pkg.tar.zst"}) {
		t.Errorf("core lists %v", got)
	}
	if got := consistent(t, d, testing); !slices.Equal(got, []string{"bar-1-1-aarch64.pkg.tar.zst"}) {
		t.Errorf("core-testing lists %v", got)
	}
	if k := keys(t, d, core); slices.Contains(k, "foo-1-1-aarch64.pkg.tar.zst") {
		t.Errorf("the replaced version stayed: %v", k)
	}
	if k := keys(t, d, testing); slices.Contains(k, "foo-2-1-aarch64.pkg.tar.zst") {
		t.Errorf("the promoted file stayed in testing: %v", k)
	}
}

// TestPromoteKillAtEveryStep kills a promotion before each of its steps
// and checks that every package is in at least one repository, and that
// promoting again finishes the job.
func TestPromoteKillAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process per crash point")
	}
	ctx := context.Background()
	setup := func(t *testing.T) (*Dir, *Repo, *Repo) {
		d := &Dir{Root: t.TempDir()}
		core := &Repo{Backend: d, Name: "core", Arch: "aarch64", TempDir: t.TempDir()}
		test := &Repo{Backend: d, Name: "core-testing", Arch: "aarch64", TempDir: t.TempDir()}
		out := t.TempDir()
		if _, err := core.Publish(ctx, []File{mkpkg(t, filepath.Join(out, "1"), pkgSpec{name: "foo", ver: "1-1", payload: "1"})}); err != nil {
			t.Fatal(err)
		}
		if _, err := test.Publish(ctx, []File{
			mkpkg(t, filepath.Join(out, "2"), pkgSpec{name: "foo", ver: "2-1", payload: "2"}),
			mkpkg(t, filepath.Join(out, "2"), pkgSpec{name: "new", ver: "1-1", payload: "n"}),
		}); err != nil {
			t.Fatal(err)
		}
		return d, core, test
	}
	inSomeRepo := func(t *testing.T, d *Dir, core, test *Repo) {
		t.Helper()
		listed := map[string]bool{}
		for _, r := range []*Repo{core, test} {
			for _, n := range consistent(t, d, r) {
				listed[n] = true
			}
		}
		for _, n := range []string{"foo-2-1-aarch64.pkg.tar.zst", "new-1-1-aarch64.pkg.tar.zst"} {
			if !listed[n] {
				t.Errorf("%s is in neither repository", n)
			}
		}
	}
	d, core, test := setup(t)
	out, killed := runChild(t, crashJob{Root: d.Root, Temp: t.TempDir(), Promote: true})
	steps := countSteps(t, out, killed)
	inSomeRepo(t, d, core, test)
	for k := 1; k <= steps; k++ {
		t.Run("step"+strconv.Itoa(k), func(t *testing.T) {
			d, core, test := setup(t)
			if _, killed := runChild(t, crashJob{Root: d.Root, Temp: t.TempDir(), CrashAt: k, Promote: true}); !killed {
				t.Fatalf("not killed at step %d", k)
			}
			for _, r := range []*Repo{core, test} {
				if err := r.Recover(ctx); err != nil {
					t.Fatal(err)
				}
			}
			inSomeRepo(t, d, core, test)
			if _, err := Promote(ctx, test, core, []*Repo{core}, PromoteOptions{}); err != nil {
				t.Fatalf("promote again: %v", err)
			}
			if got := consistent(t, d, core); !slices.Equal(got, []string{"foo-2-1-aarch64.pkg.tar.zst", "new-1-1-aarch64.pkg.tar.zst"}) {
				t.Errorf("core lists %v", got)
			}
			if got := consistent(t, d, test); len(got) != 0 {
				t.Errorf("core-testing lists %v", got)
			}
		})
	}
}
