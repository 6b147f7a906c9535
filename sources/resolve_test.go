package sources

import (
	"context"
	"errors"
	"github.com/portmake/portmake/executor"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/portmake/portmake/internal/testutil"
)

// packagingFixture is a directory of bare packaging repositories named by
// project path, as GitLab serves them.
type packagingFixture struct {
	root     string
	template string
}

func newPackaging(t *testing.T) *packagingFixture {
	root := filepath.Join(t.TempDir(), "packaging")
	return &packagingFixture{root: root, template: "file://" + root + "/{project}.git"}
}

// add makes the packaging repo of pkgbase with one commit per version, each
// tagged with its normalised version (annotated when asked), and returns
// the commits by version.
func (p *packagingFixture) add(t *testing.T, pkgbase string, annotated bool, versions ...string) (*remote, map[string]string) {
	t.Helper()
	r := newRemote(t, filepath.Join(p.root, ProjectPath(pkgbase)+".git"))
	commits := map[string]string{}
	for _, v := range versions {
		pkgver, pkgrel, _ := strings.Cut(v[strings.IndexByte(v, ':')+1:], "-")
		commits[v] = r.commit(map[string]string{
			"PKGBUILD": pkgbuildText(pkgbase, pkgver, pkgrel),
			".SRCINFO": srcinfoText(pkgbase, pkgver, pkgrel),
		})
		r.tag(VersionTag(v), annotated)
	}
	return r, commits
}

func newResolver(t *testing.T, packaging string) *Resolver {
	return &Resolver{
		Packaging: packaging,
		CacheDir:  filepath.Join(t.TempDir(), "cache"),
		Parallel:  4,
		Log:       testLogger(t),
	}
}

func TestResolveOfficialLsRemote(t *testing.T) {
	p := newPackaging(t)
	_, glibc := p.add(t, "glibc", false, "2.40-1", "2.41-1")
	_, sigc := p.add(t, "libsigc++", true, "2.12.1-2")  // annotated tags
	_, epoch := p.add(t, "python-foo", true, "1:2.0-1") // tag 1-2.0-1
	_, tilde := p.add(t, "bar", false, "1.0~rc1-1")     // tag 1.0.rc1-1

	r := newResolver(t, p.template)
	res, err := r.Resolve(context.Background(), []Request{
		{Pkgbase: "glibc", Version: "2.40-1"},
		{Pkgbase: "libsigc++", Version: "2.12.1-2"},
		{Pkgbase: "python-foo", Version: "1:2.0-1"},
		{Pkgbase: "bar", Version: "1.0~rc1-1"},
		{Pkgbase: "glibc", Version: "2.41-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Resolved{
		{Pkgbase: "glibc", URL: "file://" + p.root + "/glibc.git", Ref: "2.40-1", Commit: glibc["2.40-1"]},
		{Pkgbase: "libsigc++", URL: "file://" + p.root + "/libsigcplusplus.git", Ref: "2.12.1-2", Commit: sigc["2.12.1-2"]},
		{Pkgbase: "python-foo", URL: "file://" + p.root + "/python-foo.git", Ref: "1-2.0-1", Commit: epoch["1:2.0-1"]},
		{Pkgbase: "bar", URL: "file://" + p.root + "/bar.git", Ref: "1.0.rc1-1", Commit: tilde["1.0~rc1-1"]},
		{Pkgbase: "glibc", URL: "file://" + p.root + "/glibc.git", Ref: "2.41-1", Commit: glibc["2.41-1"]},
	}
	for i := range want {
		if !reflect.DeepEqual(res[i], want[i]) {
			t.Errorf("result %d:\n got %+v\nwant %+v", i, res[i], want[i])
		}
	}

	// A plain path template works as well as a file:// URL.
	r = newResolver(t, p.root+"/{project}.git")
	res, err = r.Resolve(context.Background(), []Request{{Pkgbase: "libsigc++", Version: "2.12.1-2"}})
	if err != nil || res[0].Commit != sigc["2.12.1-2"] {
		t.Errorf("path template: %+v, %v", res, err)
	}
}

// TestResolveAnnotatedTagIsPeeled checks that an annotated tag resolves to
// its commit, not to the tag object that ls-remote lists first.
func TestResolveAnnotatedTagIsPeeled(t *testing.T) {
	p := newPackaging(t)
	rem, commits := p.add(t, "zlib", true, "1:1.3.1-2")
	tagObject := gitT(t, rem.bare, "rev-parse", "refs/tags/1-1.3.1-2")
	if tagObject == commits["1:1.3.1-2"] {
		t.Fatal("fixture: the tag is not annotated")
	}
	res, err := newResolver(t, p.template).Resolve(context.Background(), []Request{{Pkgbase: "zlib", Version: "1:1.3.1-2"}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Commit != commits["1:1.3.1-2"] {
		t.Errorf("Commit = %s, want the peeled commit %s (tag object is %s)", res[0].Commit, commits["1:1.3.1-2"], tagObject)
	}
}

// stateFixture is a state repo as a git repository.
func newStateRepo(t *testing.T, entries map[string]string) *remote {
	t.Helper()
	r := newRemote(t, filepath.Join(t.TempDir(), "state.git"))
	files := map[string]string{}
	for k, v := range entries {
		files[k] = v + "\n"
	}
	r.commit(files)
	return r
}

func TestResolveOfficialStateRepo(t *testing.T) {
	p := newPackaging(t)
	_, foo := p.add(t, "foo", false, "1.0-1", "1.1-1")
	// "gcc" has no packaging repository at all: only the state repo can
	// answer for it, which proves the state repo is used.
	state := newStateRepo(t, map[string]string{
		"core-x86_64/gcc":         "gcc 14.2.1+r134-1 14.2.1+r134-1 " + commitA,
		"core-testing-x86_64/gcc": "gcc 1:15.1-1 1-15.1-1 " + commitB,
		"extra-x86_64/foo":        "foo 1.0-1 1.0-1 " + commitB, // deliberately not the real commit
		"extra-x86_64/broken":     "broken garbage",
	})
	r := newResolver(t, p.template)
	r.State = "file://" + state.bare
	r.StateRepos = []string{"core-x86_64", "core-testing-x86_64", "extra-x86_64"}
	calls := countGit(t)

	res, err := r.Resolve(context.Background(), []Request{
		{Pkgbase: "gcc", Version: "14.2.1+r134-1"},
		{Pkgbase: "gcc", Version: "1:15.1-1"},
		{Pkgbase: "foo", Version: "1.0-1"}, // answered by the state repo
		{Pkgbase: "foo", Version: "1.1-1"}, // state has another version: ls-remote
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ url, ref, commit string }{
		{"file://" + p.root + "/gcc.git", "14.2.1+r134-1", commitA},
		{"file://" + p.root + "/gcc.git", "1-15.1-1", commitB},
		{"file://" + p.root + "/foo.git", "1.0-1", commitB},
		{"file://" + p.root + "/foo.git", "1.1-1", foo["1.1-1"]},
	}
	for i, c := range checks {
		if res[i].URL != c.url || res[i].Ref != c.ref || res[i].Commit != c.commit {
			t.Errorf("result %d = %+v, want %+v", i, res[i], c)
		}
	}
	// One clone, one rev-parse, one archive, one ls-remote: nothing per
	// state hit.
	if n := calls(); n != 4 {
		t.Errorf("%d git calls, want 4 (clone, rev-parse, archive, one ls-remote)", n)
	}

	// A new state commit is picked up by the next Resolve (fetch, move HEAD).
	state.commit(map[string]string{"extra-x86_64/foo": "foo 1.1-1 1.1-1 " + commitA + "\n"})
	res, err = r.Resolve(context.Background(), []Request{{Pkgbase: "foo", Version: "1.1-1"}})
	if err != nil || res[0].Commit != commitA {
		t.Errorf("after state update: %+v, %v", res, err)
	}

	// With NoUpdate the clone is used as it is.
	state.commit(map[string]string{"extra-x86_64/foo": "foo 1.1-1 1.1-1 " + commitB + "\n"})
	r.NoUpdate = true
	res, err = r.Resolve(context.Background(), []Request{{Pkgbase: "foo", Version: "1.1-1"}})
	if err != nil || res[0].Commit != commitA {
		t.Errorf("NoUpdate: %+v, %v", res, err)
	}
}

// TestResolveStateRepoUnreachable: a broken state repo degrades to
// ls-remote rather than failing the plan.
func TestResolveStateRepoUnreachable(t *testing.T) {
	p := newPackaging(t)
	_, foo := p.add(t, "foo", false, "1.0-1")
	r := newResolver(t, p.template)
	r.State = filepath.Join(t.TempDir(), "no-such-state.git")
	r.StateRepos = []string{"extra-x86_64"}
	res, err := r.Resolve(context.Background(), []Request{{Pkgbase: "foo", Version: "1.0-1"}})
	if err != nil || res[0].Commit != foo["1.0-1"] {
		t.Errorf("got %+v, %v", res, err)
	}
}

func TestResolveCacheHitMakesNoGitCall(t *testing.T) {
	p := newPackaging(t)
	_, foo := p.add(t, "foo", true, "2:3.0-1")
	_, bar := p.add(t, "bar", false, "1.0-1")
	cache := newMemCache()
	r := newResolver(t, p.template)
	r.Cache = cache
	reqs := []Request{{Pkgbase: "foo", Version: "2:3.0-1"}, {Pkgbase: "bar", Version: "1.0-1"}}
	first, err := r.Resolve(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	if cache.puts != 2 {
		t.Fatalf("%d cache puts, want 2", cache.puts)
	}

	// Remove the remotes and count git calls: the re-plan must need neither.
	if err := os.RemoveAll(p.root); err != nil {
		t.Fatal(err)
	}
	calls := countGit(t)
	second, err := r.Resolve(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	if n := calls(); n != 0 {
		t.Errorf("%d git calls on a cache hit, want 0", n)
	}
	for i := range first {
		if !reflect.DeepEqual(first[i], second[i]) {
			t.Errorf("cached result %d = %+v, want %+v", i, second[i], first[i])
		}
	}
	if second[0].Commit != foo["2:3.0-1"] || second[1].Commit != bar["1.0-1"] {
		t.Errorf("cached commits %+v", second)
	}

	// Without the cache the same request now fails: the hit was real.
	r.Cache = nil
	if _, err := r.Resolve(context.Background(), reqs[:1]); err == nil {
		t.Error("resolved without cache and without remote")
	}
}

func TestResolveOverride(t *testing.T) {
	p := newPackaging(t)
	_, official := p.add(t, "gcc", false, "14.2.1-1")
	fork := newRemote(t, filepath.Join(t.TempDir(), "forks", "gcc-port.git"))
	c1 := fork.commit(map[string]string{"PKGBUILD": pkgbuildText("gcc", "14.2.1", "1.1")})
	fork.tag("port-14.2.1-1.1", true)
	fork.branch("riscv")
	forkURL := "file://" + fork.bare

	r := newResolver(t, p.template)
	r.Cache = newMemCache()
	resolve := func(q Request) (Resolved, error) {
		t.Helper()
		q.Pkgbase, q.Kind = "gcc", Override
		res, err := r.Resolve(context.Background(), []Request{q})
		return res[0], err
	}

	got, err := resolve(Request{Git: forkURL, Branch: "riscv"})
	if err != nil || got.Commit != c1 || got.Ref != "riscv" || got.URL != forkURL || got.Kind != Override {
		t.Errorf("branch: %+v, %v", got, err)
	}
	// The branch moves: the next resolve follows it (no caching).
	c2 := fork.commit(map[string]string{"fix.patch": "x"})
	fork.branch("riscv")
	if got, err = resolve(Request{Git: forkURL, Branch: "riscv"}); err != nil || got.Commit != c2 {
		t.Errorf("moved branch: %+v, %v; want %s", got, err, c2)
	}

	if got, err = resolve(Request{Git: forkURL, Tag: "port-14.2.1-1.1"}); err != nil || got.Commit != c1 {
		t.Errorf("annotated tag: %+v, %v; want %s", got, err, c1)
	}
	// Only branch/tag/commit overridden: the packaging URL is used.
	if got, err = resolve(Request{Tag: "14.2.1-1"}); err != nil || got.Commit != official["14.2.1-1"] || got.URL != "file://"+p.root+"/gcc.git" {
		t.Errorf("tag on packaging URL: %+v, %v", got, err)
	}
	// A git URL without a ref: the version tag when a version is given...
	if got, err = resolve(Request{Git: "file://" + p.root + "/gcc.git", Version: "14.2.1-1"}); err != nil || got.Commit != official["14.2.1-1"] || got.Ref != "14.2.1-1" {
		t.Errorf("git URL with version: %+v, %v", got, err)
	}
	// ...else the remote's HEAD.
	if got, err = resolve(Request{Git: forkURL}); err != nil || got.Commit != c2 || got.Ref != "HEAD" {
		t.Errorf("git URL alone: %+v, %v; want HEAD %s", got, err, c2)
	}
	// A commit is taken as it is, without asking the remote.
	calls := countGit(t)
	if got, err = resolve(Request{Git: "file:///nonexistent.git", Commit: "ABCDEF1"}); err != nil || got.Commit != "abcdef1" {
		t.Errorf("commit: %+v, %v", got, err)
	}
	if n := calls(); n != 0 {
		t.Errorf("commit override made %d git calls", n)
	}

	for _, bad := range []struct {
		q    Request
		want string
	}{
		{Request{Commit: "abc12"}, "want 7 to 40 hex digits"},
		{Request{Commit: "xyz1234"}, "want 7 to 40 hex digits"},
		{Request{Commit: strings.Repeat("a", 41)}, "want 7 to 40 hex digits"},
		{Request{Branch: "main", Tag: "x"}, "more than one of"},
		{Request{Branch: "--upload-pack=touch /tmp/pwned"}, "bad ref name"},
		{Request{Git: "--upload-pack=x", Branch: "main"}, "must not start with '-'"},
		{Request{Git: forkURL, Branch: "nope"}, "refs/heads/nope: not found"},
		{Request{Git: forkURL, Tag: "nope"}, "refs/tags/nope: not found"},
	} {
		_, err := resolve(bad.q)
		if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), "override package gcc") {
			t.Errorf("%+v: error %v, want %q", bad.q, err, bad.want)
		}
	}
	if _, err := resolve(Request{Git: forkURL, Branch: "nope"}); !errors.Is(err, ErrRefNotFound) {
		t.Errorf("missing branch: %v does not wrap ErrRefNotFound", err)
	}
}

func TestResolveAUR(t *testing.T) {
	aurRoot := filepath.Join(t.TempDir(), "aur")
	yay := newRemote(t, filepath.Join(aurRoot, "yay.git"))
	c1 := yay.commit(map[string]string{
		"PKGBUILD": pkgbuildText("yay", "12.4.1", "1"),
		".SRCINFO": srcinfoText("yay", "12.4.1", "1", "pacman>5", "git"),
	})
	newRemote(t, filepath.Join(aurRoot, "ghost.git")) // the AUR answers unknown names with an empty repo
	wrong := newRemote(t, filepath.Join(aurRoot, "wrong.git"))
	wrong.commit(map[string]string{".SRCINFO": srcinfoText("other", "1", "1")})
	nosrc := newRemote(t, filepath.Join(aurRoot, "nosrcinfo.git"))
	nosrc.commit(map[string]string{"PKGBUILD": pkgbuildText("nosrcinfo", "1", "1")})

	r := newResolver(t, "")
	r.AURURL = "file://" + aurRoot + "/"
	res, err := r.Resolve(context.Background(), []Request{{Pkgbase: "yay", Kind: AUR}})
	if err != nil {
		t.Fatal(err)
	}
	got := res[0]
	wantDir := filepath.Join(r.CacheDir, "aur", "yay")
	if got.Commit != c1 || got.URL != "file://"+aurRoot+"/yay.git" || got.Dir != wantDir || got.Srcinfo == nil {
		t.Fatalf("AUR: %+v", got)
	}
	if v := got.Srcinfo.Version(); v != "12.4.1-1" {
		t.Errorf("Srcinfo version %q", v)
	}
	if deps := got.Srcinfo.ForArch("x86_64")[0].Depends; strings.Join(deps, ",") != "pacman>5,git" {
		t.Errorf("depends %q", deps)
	}

	// A new commit upstream, and junk left in the clone: the re-fetch
	// picks up the commit and the clone is pristine again.
	c2 := yay.commit(map[string]string{
		"PKGBUILD": pkgbuildText("yay", "12.5.0", "1"),
		".SRCINFO": srcinfoText("yay", "12.5.0", "1", "pacman>6"),
	})
	writeTree(t, wantDir, map[string]string{"junk.log": "x", "src/a": "b"})
	res, err = r.Resolve(context.Background(), []Request{{Pkgbase: "yay", Kind: AUR}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Commit != c2 || res[0].Srcinfo.Version() != "12.5.0-1" {
		t.Errorf("after new commit: %s %s, want %s 12.5.0-1", res[0].Commit, res[0].Srcinfo.Version(), c2)
	}
	if _, err := os.Stat(filepath.Join(wantDir, "junk.log")); !os.IsNotExist(err) {
		t.Errorf("junk survived the update: %v", err)
	}
	if h := gitT(t, wantDir, "rev-parse", "HEAD"); h != c2 {
		t.Errorf("clone HEAD %s, want %s", h, c2)
	}

	// NoUpdate keeps the clone's commit.
	yay.commit(map[string]string{"x": "y"})
	r.NoUpdate = true
	res, err = r.Resolve(context.Background(), []Request{{Pkgbase: "yay", Kind: AUR}})
	if err != nil || res[0].Commit != c2 {
		t.Errorf("NoUpdate: %+v, %v", res[0], err)
	}
	r.NoUpdate = false

	res, err = r.Resolve(context.Background(), []Request{
		{Pkgbase: "ghost", Kind: AUR},
		{Pkgbase: "wrong", Kind: AUR},
		{Pkgbase: "nosrcinfo", Kind: AUR},
		{Pkgbase: "yay", Kind: AUR},
	})
	for _, want := range []string{
		"aur package ghost: file://" + aurRoot + "/ghost.git: no such AUR package",
		"aur package wrong: file://" + aurRoot + "/wrong.git: .SRCINFO is for pkgbase \"other\"",
		"aur package nosrcinfo: file://" + aurRoot + "/nosrcinfo.git: commit ",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\ndoes not contain %q", err, want)
		}
	}
	if res[3].Srcinfo == nil || res[3].Commit == "" {
		t.Errorf("a good request among bad ones was not resolved: %+v", res[3])
	}
	// The empty clone stays; the next run reports the same, not a crash.
	if _, err := r.Resolve(context.Background(), []Request{{Pkgbase: "ghost", Kind: AUR}}); err == nil || !strings.Contains(err.Error(), "no such AUR package") {
		t.Errorf("second ghost: %v", err)
	}
}

func TestResolveLocalWithSrcinfo(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"PKGBUILD": pkgbuildText("mypkg", "0.3", "2"),
		".SRCINFO": srcinfoText("mypkg", "0.3", "2", "zlib"),
	})
	// No makepkg may run when a .SRCINFO is there.
	t.Setenv("PATH", t.TempDir())
	r := newResolver(t, "")
	res, err := r.Resolve(context.Background(), []Request{{Pkgbase: "mypkg", Kind: Local, Dir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := TreeHash(dir)
	if res[0].TreeHash != want || res[0].Dir != dir || res[0].Srcinfo.Version() != "0.3-2" || res[0].Commit != "" {
		t.Errorf("local: %+v", res[0])
	}

	_, err = r.Resolve(context.Background(), []Request{{Pkgbase: "other", Kind: Local, Dir: dir}})
	if err == nil || !strings.Contains(err.Error(), "local package other: "+dir+": .SRCINFO is for pkgbase \"mypkg\"") {
		t.Errorf("pkgbase mismatch: %v", err)
	}
	_, err = r.Resolve(context.Background(), []Request{{Pkgbase: "mypkg", Kind: Local, Dir: t.TempDir()}})
	if err == nil || !strings.Contains(err.Error(), "no PKGBUILD") {
		t.Errorf("empty dir: %v", err)
	}
}

func TestResolveLocalWithoutSrcinfoNoMakepkg(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"PKGBUILD": pkgbuildText("mypkg", "0.3", "2")})
	t.Setenv("PATH", t.TempDir())
	_, err := newResolver(t, "").Resolve(context.Background(), []Request{{Pkgbase: "mypkg", Kind: Local, Dir: dir}})
	want := "no .SRCINFO in " + dir + "; run makepkg --printsrcinfo > .SRCINFO"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestResolveLocalMakepkg(t *testing.T) {
	testutil.RequireTool(t, "makepkg", "bwrap")
	if os.Geteuid() == 0 {
		testutil.RequireTool(t, "setpriv")
	}
	u, err := executor.ResolveBuildUser(testutil.BuildUser)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	// A checkout of root's that the build user can neither write nor
	// reach (t.TempDir is private to root): the sandbox evaluates a copy.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"PKGBUILD": pkgbuildText("mypkg", "0.3", "2")})
	os.Chmod(dir, 0o700)
	sb := &executor.Sandbox{User: u, ScratchDir: t.TempDir()}
	r := newResolver(t, "")
	r.PrintSrcinfo = func(ctx context.Context, dir string) ([]byte, error) {
		return sb.Evaluate(ctx, dir, "", nil, "--printsrcinfo")
	}
	res, err := r.Resolve(context.Background(), []Request{{Pkgbase: "mypkg", Kind: Local, Dir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	si := res[0].Srcinfo
	if si == nil || si.Version() != "0.3-2" {
		t.Fatalf("Srcinfo = %+v", si)
	}
	pkgs := si.ForArch("x86_64")
	if len(pkgs) != 1 || strings.Join(pkgs[0].Depends, ",") != "glibc" || strings.Join(pkgs[0].MakeDepends, ",") != "cmake" {
		t.Errorf("makepkg-made .SRCINFO: %+v", pkgs)
	}
	// makepkg printed; it wrote nothing, so the identity is unchanged.
	if h, _ := TreeHash(dir); h != res[0].TreeHash {
		t.Errorf("TreeHash changed by resolving")
	}

	// A PKGBUILD that bash cannot source is reported with makepkg's words.
	writeTree(t, dir, map[string]string{"PKGBUILD": "pkgname=mypkg\npkgver=1\n(((\n"})
	_, err = r.Resolve(context.Background(), []Request{{Pkgbase: "mypkg", Kind: Local, Dir: dir}})
	if err == nil || !strings.Contains(err.Error(), "makepkg --printsrcinfo failed") {
		t.Errorf("broken PKGBUILD: %v", err)
	}
}

func TestResolveErrors(t *testing.T) {
	p := newPackaging(t)
	p.add(t, "foo", false, "1.0-1")
	r := newResolver(t, p.template)
	calls := countGit(t)
	res, err := r.Resolve(context.Background(), []Request{
		{Pkgbase: "missing", Version: "1.0-1"},
		{Pkgbase: "foo", Version: "2.0-1"},
		{Pkgbase: "../../etc", Version: "1.0-1"},
		{Pkgbase: "-x", Kind: AUR},
		{Pkgbase: "foo", Version: "1.0-1"},
		{Pkgbase: "foo", Version: "not a version"},
		{Pkgbase: "foo", Kind: Kind(9)},
	})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"official package missing: file://" + p.root + "/missing.git: ",
		"does not appear to be a git repository",
		"official package foo: file://" + p.root + "/foo.git: refs/tags/2.0-1: not found",
		`official package: invalid package name "../../etc"`,
		`aur package: invalid package name "-x"`,
		"not pkgver-pkgrel",
		"unknown source kind 9",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
	if res[4].Commit == "" {
		t.Errorf("good request not resolved: %+v", res[4])
	}
	if len(res) != 7 || res[2].Pkgbase != "../../etc" || res[2].URL != "" {
		t.Errorf("results %+v", res)
	}
	// missing, foo 2.0-1 and foo 1.0-1: nothing for the refused names.
	if n := calls(); n != 3 {
		t.Errorf("%d git calls, want 3", n)
	}
}

// TestResolveRedactsCredentials: a token in a URL never shows in an error.
func TestResolveRedactsCredentials(t *testing.T) {
	r := newResolver(t, "http://oauth2:s3cret-token@127.0.0.1:1/{project}.git")
	_, err := r.Resolve(context.Background(), []Request{{Pkgbase: "foo", Version: "1-1"}})
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "oauth2") {
		t.Errorf("credentials leak: %v", err)
	}
	if !strings.Contains(err.Error(), "http://127.0.0.1:1/foo.git") {
		t.Errorf("error does not name the URL: %v", err)
	}
}

func TestResolveOrderAndParallel(t *testing.T) {
	p := newPackaging(t)
	var reqs []Request
	want := map[string]string{}
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		_, c := p.add(t, name, false, "1-1")
		want[name] = c["1-1"]
		reqs = append(reqs, Request{Pkgbase: name, Version: "1-1"})
	}
	r := newResolver(t, p.template)
	r.Parallel = 3
	res, err := r.Resolve(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range reqs {
		if res[i].Pkgbase != q.Pkgbase || res[i].Commit != want[q.Pkgbase] {
			t.Errorf("result %d = %+v, want %s at %s", i, res[i], q.Pkgbase, want[q.Pkgbase])
		}
	}
}

func TestResolveCancelled(t *testing.T) {
	p := newPackaging(t)
	p.add(t, "foo", false, "1-1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newResolver(t, p.template).Resolve(ctx, []Request{{Pkgbase: "foo", Version: "1-1"}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Official: "official", Override: "override", AUR: "aur", Local: "local", Kind(7): "Kind(7)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}
