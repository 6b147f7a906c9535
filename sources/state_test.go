package sources

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	commitA = "0685197a7fdc13a91e1b9184c2759a5bf222210f"
	commitB = "e4f06701c4ff5cda811a5663e83cf966a81f42e0"
)

func TestParseStateLine(t *testing.T) {
	tests := []struct {
		line    string
		want    StateEntry
		wantErr string
	}{
		// The examples of alpm-state-repo(7).
		{line: "example 33-1 33-1 " + commitA + "\n", want: StateEntry{Pkgbase: "example", Version: "33-1", Tag: "33-1", Commit: commitA}},
		{line: "example 17:4.3.2-10 17-4.3.2-10 " + commitB, want: StateEntry{Pkgbase: "example", Version: "17:4.3.2-10", Tag: "17-4.3.2-10", Commit: commitB}},
		{line: "example-base 1.0.0-1 1.0.0-1 " + commitA, want: StateEntry{Pkgbase: "example-base", Version: "1.0.0-1", Tag: "1.0.0-1", Commit: commitA}},
		{line: "libsigc++ 2.12.1-2.1 2.12.1-2.1 " + strings.ToUpper(commitA), want: StateEntry{Pkgbase: "libsigc++", Version: "2.12.1-2.1", Tag: "2.12.1-2.1", Commit: commitA}},
		{line: "foo 1.0~rc1-1 1.0.rc1-1 " + commitA, want: StateEntry{Pkgbase: "foo", Version: "1.0~rc1-1", Tag: "1.0.rc1-1", Commit: commitA}},

		{line: "", wantErr: "want \"pkgbase version tag commit\""},
		{line: "example 33-1 33-1", wantErr: "want"},
		{line: "example  33-1 33-1 " + commitA, wantErr: "want"},
		{line: "example 33-1 33-1 " + commitA + " extra", wantErr: "want"},
		{line: "example 33-1 33-1 " + commitA + "\nexample 33-1 33-1 " + commitA, wantErr: "more than one line"},
		{line: "-x 33-1 33-1 " + commitA, wantErr: "invalid package name"},
		{line: "../x 33-1 33-1 " + commitA, wantErr: "invalid package name"},
		{line: "example 33 33 " + commitA, wantErr: "not pkgver-pkgrel"},
		{line: "example a:1-1 a-1-1 " + commitA, wantErr: "bad epoch"},
		{line: "example 1-x 1-x " + commitA, wantErr: "bad pkgrel"},
		{line: "example 1:2-1 1:2-1 " + commitA, wantErr: "is not the normalised version"},
		{line: "example 33-1 33-2 " + commitA, wantErr: "is not the normalised version"},
		{line: "example 33-1 33-1 0685197", wantErr: "bad commit"},
		{line: "example 33-1 33-1 " + strings.Repeat("g", 40), wantErr: "bad commit"},
	}
	for _, tt := range tests {
		got, err := parseStateLine(tt.line)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseStateLine(%q) error = %v, want %q", tt.line, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseStateLine(%q) = %+v, %v; want %+v", tt.line, got, err, tt.want)
		}
	}
}

func FuzzParseStateLine(f *testing.F) {
	for _, s := range []string{
		"example 33-1 33-1 " + commitA + "\n",
		"example 17:4.3.2-10 17-4.3.2-10 " + commitB,
		"foo 1.0~rc1-1 1.0.rc1-1 " + commitA,
		"x 1-1 1-1 zz", "", " ", "a b c d", "a 1:-1 1--1 " + commitA,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseStateLine(s)
		if err != nil {
			return
		}
		// An accepted line must hold what Resolve relies on.
		if e.Tag != VersionTag(e.Version) || !isFullHash(e.Commit) || strings.ContainsAny(e.Pkgbase, "/ \n") {
			t.Fatalf("parseStateLine(%q) accepted %+v", s, e)
		}
		if line := e.Pkgbase + " " + e.Version + " " + e.Tag + " " + e.Commit; !strings.EqualFold(line, strings.TrimSuffix(s, "\n")) {
			t.Fatalf("parseStateLine(%q) = %+v, which does not print back", s, e)
		}
	})
}

// stateTar returns a state repo tree as `git archive` writes it: entries
// are "<dir>/<pkgbase>" -> line, and every directory gets its own entry.
func stateTar(t testing.TB, entries map[string]string) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		if d := path.Dir(name); d != "." && !dirs[d] {
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o775}); err != nil {
				t.Fatal(err)
			}
		}
		line := entries[name]
		if !strings.HasSuffix(line, "\n") {
			line += "\n"
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o664, Size: int64(len(line))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(line))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

func TestReadState(t *testing.T) {
	tree := map[string]string{
		"core-x86_64/glibc":            "glibc 2.40-1 2.40-1 " + commitA,
		"core-testing-x86_64/glibc":    "glibc 2.41-1 2.41-1 " + commitB,
		"extra-x86_64/libsigc++":       "libsigc++ 1:2.12.1-2 1-2.12.1-2 " + commitA,
		"extra-x86_64/broken":          "broken 1-1",
		"extra-x86_64/renamed":         "other 1-1 1-1 " + commitA,
		"extra-any/python-six":         "python-six 1.16-1 1.16-1 " + commitA,
		"extra-staging-x86_64/ignored": "ignored 1-1 1-1 " + commitA,
		"extra-x86_64/sub/nested":      "nested 1-1 1-1 " + commitA,
		"README":                       "not a state file",
	}
	st, err := ReadState(stateTar(t, tree), []string{"core-x86_64", "core-testing-x86_64", "extra-x86_64", "extra-any", "gone-x86_64"})
	if err == nil {
		t.Fatal("want errors for the broken and renamed files and the missing directory")
	}
	for _, want := range []string{"extra-x86_64/broken", "renamed", "does not match the file name", "no directory gone-x86_64"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if got := st.Len(); got != 4 {
		t.Errorf("Len = %d, want 4 good entries", got)
	}
	for _, tt := range []struct {
		base, version, commit, repo string
	}{
		{"glibc", "2.40-1", commitA, "core-x86_64"},
		{"glibc", "2.41-1", commitB, "core-testing-x86_64"},
		{"libsigc++", "1:2.12.1-2", commitA, "extra-x86_64"},
		{"python-six", "1.16-1", commitA, "extra-any"},
	} {
		e, ok := st.Lookup(tt.base, tt.version)
		if !ok || e.Commit != tt.commit || e.Repo != tt.repo {
			t.Errorf("Lookup(%s, %s) = %+v, %v", tt.base, tt.version, e, ok)
		}
	}
	for _, miss := range [][2]string{{"glibc", "2.39-1"}, {"ignored", "1-1"}, {"broken", "1-1"}, {"libsigc++", "2.12.1-2"}} {
		if e, ok := st.Lookup(miss[0], miss[1]); ok {
			t.Errorf("Lookup(%s, %s) = %+v, want no entry", miss[0], miss[1], e)
		}
	}
	if _, err := ReadState(stateTar(t, tree), []string{"../etc"}); err == nil {
		t.Error("ReadState accepted a directory name with a slash")
	}
	if _, err := ReadState(strings.NewReader("not a tar archive, but long enough to be read as a header block"+strings.Repeat("x", 600)), []string{"core-x86_64"}); err == nil || !strings.Contains(err.Error(), "archive") {
		t.Errorf("a garbage archive: %v", err)
	}
}

// genStateTree returns n state files spread over core-x86_64 and
// extra-x86_64 as the real state repo has them.
func genStateTree(n int) (map[string]string, []string) {
	repos := []string{"core-x86_64", "extra-x86_64"}
	tree := map[string]string{}
	for i := range n {
		repo := repos[1]
		if i%40 == 0 {
			repo = repos[0]
		}
		name := fmt.Sprintf("pkg%05d-lib", i)
		version := fmt.Sprintf("%d.%d.%d-%d", i%7, i%100, i%13, 1+i%3)
		if i%50 == 0 {
			version = "1:" + version
		}
		tree[repo+"/"+name] = fmt.Sprintf("%s %s %s %040x", name, version, VersionTag(version), i*7919+1)
	}
	return tree, repos
}

func TestReadStateGenerated(t *testing.T) {
	tree, repos := genStateTree(3000)
	st, err := ReadState(stateTar(t, tree), repos)
	if err != nil {
		t.Fatal(err)
	}
	if st.Len() != 3000 {
		t.Fatalf("Len = %d, want 3000", st.Len())
	}
	e, ok := st.Lookup("pkg00050-lib", "1:1.50.11-3")
	if !ok || e.Tag != "1-1.50.11-3" || e.Commit != fmt.Sprintf("%040x", 50*7919+1) {
		t.Errorf("Lookup = %+v, %v", e, ok)
	}
}

// BenchmarkStateRepoRead reads a 12,000-entry state repo, the size of
// Arch's core and extra together; a plan does this once.
func BenchmarkStateRepoRead(b *testing.B) {
	tree, repos := genStateTree(12000)
	archive := stateTar(b, tree)
	b.ReportAllocs()
	for b.Loop() {
		archive.Seek(0, io.SeekStart)
		st, err := ReadState(archive, repos)
		if err != nil || st.Len() != 12000 {
			b.Fatal(st.Len(), err)
		}
	}
}

func TestStateMemoRoundTrip(t *testing.T) {
	dir := t.TempDir()
	st := &State{byBase: map[string][]StateEntry{
		"glibc": {{Repo: "core-x86_64", Pkgbase: "glibc", Version: "2.40-1", Tag: "2.40-1", Commit: strings.Repeat("a", 40)}},
	}}
	path := filepath.Join(dir, "state-abc-core-x86_64.gob")
	os.WriteFile(filepath.Join(dir, "state-old-core-x86_64.gob"), []byte("stale"), 0o644)
	if err := writeStateMemo(dir, path, st); err != nil {
		t.Fatal(err)
	}
	got, err := readStateMemo(path)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := got.Lookup("glibc", "2.40-1"); !ok || e.Commit != strings.Repeat("a", 40) {
		t.Fatalf("memo lost the entry: %+v %v", e, ok)
	}
	if _, err := os.Stat(filepath.Join(dir, "state-old-core-x86_64.gob")); !os.IsNotExist(err) {
		t.Fatal("the memo of another commit was kept")
	}
	if _, err := readStateMemo(filepath.Join(dir, "state-old-core-x86_64.gob")); err == nil {
		t.Fatal("a missing memo read without error")
	}
}

// TestStateHeadSkipsFetch: told the state remote's HEAD, a clone already
// there is read without running git to fetch; a clone behind it is
// fetched.
func TestStateHeadSkipsFetch(t *testing.T) {
	root := t.TempDir()
	st := newRemote(t, filepath.Join(root, "state.git"))
	head := st.commit(map[string]string{"core-x86_64/zstd": "zstd 1.5.6-1 1.5.6-1 " + strings.Repeat("a", 40) + "\n"})
	r := &Resolver{Packaging: "file://" + root + "/{project}.git", State: st.bare, StateRepos: []string{"core-x86_64"},
		CacheDir: filepath.Join(root, "cache"), Log: testLogger(t)}
	req := []Request{{Pkgbase: "zstd", Version: "1.5.6-1"}}
	if out, err := r.Resolve(context.Background(), req); err != nil || out[0].Commit != strings.Repeat("a", 40) {
		t.Fatalf("first resolve: %+v, %v", out, err)
	}
	calls := countGit(t)
	r.StateHead = head
	if out, err := r.Resolve(context.Background(), req); err != nil || out[0].Commit != strings.Repeat("a", 40) {
		t.Fatalf("second resolve: %+v, %v", out, err)
	}
	if n := calls(); n != 0 {
		t.Errorf("git ran %d times for a clone at the remote's HEAD", n)
	}
	newHead := st.commit(map[string]string{"core-x86_64/zstd": "zstd 1.5.7-1 1.5.7-1 " + strings.Repeat("b", 40) + "\n"})
	r.StateHead = newHead
	out, err := r.Resolve(context.Background(), []Request{{Pkgbase: "zstd", Version: "1.5.7-1"}})
	if err != nil || out[0].Commit != strings.Repeat("b", 40) {
		t.Fatalf("after the remote moved: %+v, %v", out, err)
	}
	if calls() == 0 {
		t.Error("a clone behind the remote was not fetched")
	}
}
