package publish

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func kinds(rep *Report) []string {
	var out []string
	for _, p := range rep.Problems {
		out = append(out, string(p.Kind)+" "+p.Name)
	}
	return out
}

func verifyOK(t *testing.T, r *Repo, o VerifyOptions) *Report {
	t.Helper()
	rep, err := r.Verify(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("verify: %v", rep.Problems)
	}
	return rep
}

func TestVerifyAndRepair(t *testing.T) {
	ctx := context.Background()
	d, r := dirRepo(t)
	out := t.TempDir()
	foo := mkpkg(t, filepath.Join(out, "1"), pkgSpec{name: "foo", ver: "1-1", payload: "foo"})
	bar := mkpkg(t, filepath.Join(out, "1"), pkgSpec{name: "bar", ver: "1-1", payload: "bar"})
	baz := mkpkg(t, filepath.Join(out, "1"), pkgSpec{name: "baz", ver: "1-1", payload: "baz"})
	pub, err := r.Publish(ctx, []File{foo, bar, baz})
	if err != nil {
		t.Fatal(err)
	}
	rep := verifyOK(t, r, VerifyOptions{})
	if rep.Listed != 3 || rep.Hashed != 3 {
		t.Errorf("listed %d hashed %d", rep.Listed, rep.Hashed)
	}
	// What the store recorded spares reading unchanged files.
	known := map[string]Known{}
	for _, p := range pub {
		known[p.Name] = Known{SHA256: p.SHA256, ETag: p.ETag}
	}
	if rep := verifyOK(t, r, VerifyOptions{Known: known}); rep.Hashed != 0 {
		t.Errorf("hashed %d files whose ETag is unchanged", rep.Hashed)
	}
	if rep := verifyOK(t, r, VerifyOptions{Known: known, Deep: true}); rep.Hashed != 3 {
		t.Errorf("--deep hashed %d files", rep.Hashed)
	}

	// Damage: foo's bytes replaced (issue 11.1: what the old publisher
	// left), bar deleted, the alias gone.
	dir := filepath.Join(d.Root, filepath.FromSlash(r.dir()))
	rebuilt := mkpkg(t, filepath.Join(out, "2"), pkgSpec{name: "foo", ver: "1-1", payload: "oof"})
	copyFile(t, rebuilt.Path, filepath.Join(dir, filepath.Base(foo.Path)))
	os.Remove(filepath.Join(dir, filepath.Base(bar.Path)))
	os.Remove(filepath.Join(dir, "extra.db"))
	os.WriteFile(filepath.Join(dir, "stray-1-1-aarch64.pkg.tar.zst"), []byte("x"), 0o644)
	rep, err = r.Verify(ctx, VerifyOptions{Known: known})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"missing bar-1-1-aarch64.pkg.tar.zst", "alias extra.db", "content foo-1-1-aarch64.pkg.tar.zst", "unlisted stray-1-1-aarch64.pkg.tar.zst"}
	if got := kinds(rep); !slices.Equal(got, want) {
		t.Fatalf("problems %v\nwant %v", got, want)
	}
	// foo's listed bytes are still a build output; bar's are not.
	restore := func(_ context.Context, sha string) (string, error) {
		if sha == foo.SHA256 {
			return foo.Path, nil
		}
		return "", nil
	}
	lost, err := r.Repair(ctx, VerifyOptions{}, restore)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lost, []string{"bar-1-1-aarch64.pkg.tar.zst"}) {
		t.Errorf("lost %v", lost)
	}
	rep = verifyOK(t, r, VerifyOptions{})
	if got := kinds(rep); !slices.Equal(got, []string{"unlisted stray-1-1-aarch64.pkg.tar.zst"}) {
		t.Errorf("after repair: %v", got)
	}
	names := consistent(t, d, r)
	if !slices.Equal(names, []string{"baz-1-1-aarch64.pkg.tar.zst", "foo-1-1-aarch64.pkg.tar.zst"}) {
		t.Errorf("after repair the database lists %v", names)
	}
}

func TestVerifyFindsUnfinishedPublish(t *testing.T) {
	ctx := context.Background()
	d, r := dirRepo(t)
	f := &faulty{Backend: d}
	r.Backend = f
	v1 := mkpkg(t, filepath.Join(t.TempDir(), "1"), pkgSpec{name: "foo", ver: "1-1", payload: "1"})
	if _, err := r.Publish(ctx, []File{v1}); err != nil {
		t.Fatal(err)
	}
	v2 := mkpkg(t, filepath.Join(t.TempDir(), "2"), pkgSpec{name: "foo", ver: "1-1", payload: "2"})
	// Everything after the database write fails: the commit is in, the
	// move of the staged file is not.
	committed := false
	f.fail = func(op, key string) error {
		if committed {
			return errInjected
		}
		committed = op == "put" && key == r.DBKey()
		return nil
	}
	if _, err := r.Publish(ctx, []File{v2}); err == nil {
		t.Fatal("publish did not fail")
	}
	f.fail = nil
	rep, err := r.Verify(ctx, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := kinds(rep)
	if len(got) == 0 || !slices.Contains(got, "content foo-1-1-aarch64.pkg.tar.zst") || rep.OK() {
		t.Fatalf("problems %v", got)
	}
	if _, err := r.Repair(ctx, VerifyOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	verifyOK(t, r, VerifyOptions{})
	db := readBack(t, d, r.DBKey())
	if p := db.Find("foo"); p == nil || p.SHA256Sum != v2.SHA256 {
		t.Errorf("the interrupted publish was not finished: %+v", p)
	}
}
