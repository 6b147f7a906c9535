package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// second opens another handle on s's file, as a second process would.
func second(t testing.TB, s *Store) *Store {
	t.Helper()
	s2, err := Open(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}

func pragma(t testing.TB, s *Store, name string) string {
	t.Helper()
	var v string
	if err := s.db.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t testing.TB) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestOpenSettings(t *testing.T) {
	s := openTest(t)
	for name, want := range map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": "10000",
		"synchronous":  "1", // NORMAL
		"user_version": fmt.Sprint(SchemaVersion()),
	} {
		if got := pragma(t, s, name); got != want {
			t.Errorf("PRAGMA %s = %s, want %s", name, got, want)
		}
	}
	if SchemaVersion() < 2 {
		t.Errorf("SchemaVersion() = %d", SchemaVersion())
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.SaveSourceResolution(ctx, &Resolution{Key: "k", URL: "u", Ref: "r", Commit: "c"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for range 2 {
		s2, err := Open(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		if v := pragma(t, s2, "user_version"); v != fmt.Sprint(SchemaVersion()) {
			t.Errorf("user_version after reopen = %s", v)
		}
		r, err := s2.SourceResolution(ctx, "k")
		if err != nil || r == nil || r.Commit != "c" {
			t.Fatalf("after reopen: %+v, %v", r, err)
		}
		s2.Close()
	}
}

func TestMigrationsApplyInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	fsys := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte(`CREATE TABLE a (x INTEGER);`)},
		// 0002 needs 0001's table: applied out of order it fails.
		"migrations/0002_b.sql": {Data: []byte(`ALTER TABLE a ADD COLUMN y TEXT; CREATE TABLE b (z INTEGER);`)},
	}
	s, err := open(path, fsys, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := pragma(t, s, "user_version"); v != "2" {
		t.Fatalf("user_version = %s, want 2", v)
	}
	s.Close()

	// A third migration is applied alone on reopen, exactly once.
	fsys["migrations/0003_c.sql"] = &fstest.MapFile{Data: []byte(`INSERT INTO a (x, y) VALUES (1, 'once');`)}
	for range 2 {
		s, err = open(path, fsys, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.db.QueryRow(`SELECT count(*) FROM a`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 || pragma(t, s, "user_version") != "3" {
			t.Fatalf("rows %d, user_version %s; want 1, 3", n, pragma(t, s, "user_version"))
		}
		s.Close()
	}

	// A failing migration is rolled back whole and reported by name.
	fsys["migrations/0004_bad.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE d (x); INSERT INTO nowhere VALUES (1);`)}
	_, err = open(path, fsys, OpenOptions{})
	if err == nil || !strings.Contains(err.Error(), "migration 0004_bad.sql") || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("error = %v", err)
	}
	delete(fsys, "migrations/0004_bad.sql")
	s, err = open(path, fsys, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := pragma(t, s, "user_version"); v != "3" {
		t.Errorf("user_version after a failed migration = %s, want 3", v)
	}
	var n int
	s.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'd'`).Scan(&n)
	if n != 0 {
		t.Error("a failed migration left its table behind")
	}
}

func TestReadMigrationsChecksNumbering(t *testing.T) {
	tests := []struct {
		files []string
		want  string
	}{
		{[]string{"0001_a.sql", "0003_c.sql"}, "expected number 0002"},
		{[]string{"0002_b.sql"}, "expected number 0001"},
		{[]string{"0001_a.sql", "1_b.sql"}, "NNNN_label.sql"},
		{[]string{"0001_a.sql", "0001_again.sql"}, "expected number 0002"},
		{[]string{"0001_a.sql", "0002_b.sql"}, ""},
	}
	for _, tt := range tests {
		fsys := fstest.MapFS{}
		for _, f := range tt.files {
			fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		_, err := readMigrations(fsys)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.files, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.files, err, tt.want)
		}
	}
	if _, err := readMigrations(migrationFS); err != nil {
		t.Errorf("embedded migrations: %v", err)
	}
}

func TestParseMigrationName(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"0001_init.sql", 1, true},
		{"0042_add_builds.sql", 42, true},
		{"0000_zero.sql", 0, false},
		{"001_short.sql", 0, false},
		{"0001_.sql", 0, false},
		{"0001_init.txt", 0, false},
		{"00a1_x.sql", 0, false},
		{"-001_x.sql", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseMigrationName(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseMigrationName(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseMigrationName(f *testing.F) {
	for _, s := range []string{"0001_init.sql", "9999_x.sql", "0001.sql", "_.sql", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseMigrationName(s)
		if ok && (v < 1 || v > 9999 || fmt.Sprintf("%04d", v) != s[:4]) {
			t.Fatalf("parseMigrationName(%q) = %d", s, v)
		}
	})
}

func TestRefuseNewerSchema(t *testing.T) {
	s := openTest(t)
	newer := SchemaVersion() + 1
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", newer)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(s.Path())
	want := fmt.Sprintf("state.db has schema %d, this portmake knows up to %d; upgrade portmake", newer, SchemaVersion())
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestOpenRejectsQuestionMark(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "a?b", "state.db"))
	if err == nil || !strings.Contains(err.Error(), "'?'") {
		t.Fatalf("error = %v", err)
	}
}

// samplePlan builds a plan with n nodes, about 4n edges, hash inputs and
// inputs, deterministic in seed.
func samplePlan(seed string, n int) *Plan {
	p := &Plan{
		CreatedAt:    time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC),
		PortfileHash: "sha256:" + seed,
		CommandLine:  "portmake plan --rebuild-repo extra",
		Arch:         "aarch64",
		Summary:      fmt.Sprintf("Plan: %d to build", n),
		Doc:          []byte(`{"nodes":[]}`),
		Inputs: []Input{
			{Kind: "db", Name: "upstream/core", URL: "https://mirror/core/os/x86_64/core.db", SHA256: strings.Repeat("a", 64)},
			{Kind: "db", Name: "target/core", URL: "/srv/repo/core.db", SHA256: strings.Repeat("b", 64)},
		},
	}
	for i := range n {
		name := fmt.Sprintf("pkg%05d", i)
		p.Nodes = append(p.Nodes, Node{
			Pkgbase: name, Version: "1.2.3-1", Current: "1.2.2-1", Repo: "extra",
			Reason: "outdated", ReasonDetail: "target has 1.2.2-1",
			Stage: i % 3, Cycle: i % 7, Priority: n - i,
			Hash: fmt.Sprintf("%s-%064x", seed, i),
		})
		for j := 1; j <= 4 && i+j < n; j++ {
			kind := []string{"depends", "makedepends", "checkdepends", "depends"}[j-1]
			p.Edges = append(p.Edges, Edge{From: name, To: fmt.Sprintf("pkg%05d", i+j), Kind: kind})
		}
	}
	return p
}

// EncodeDoc runs beside the row inserts; its document is stored like Doc,
// and its failure saves nothing.
func TestSavePlanEncodeDoc(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	p := samplePlan("enc", 40)
	p.Doc = nil
	p.EncodeDoc = func() ([]byte, error) { return []byte("encoded document"), nil }
	id, err := s.SavePlan(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.PlanDoc(ctx, id); err != nil || string(got.Doc) != "encoded document" {
		t.Fatalf("PlanDoc = %+v, %v", got, err)
	}
	p.EncodeDoc = func() ([]byte, error) { return nil, errors.New("gob broke") }
	if _, err := s.SavePlan(ctx, p); err == nil || !strings.Contains(err.Error(), "gob broke") {
		t.Fatalf("SavePlan with a failing EncodeDoc: %v", err)
	}
	if list, _ := s.Plans(ctx, 0); len(list) != 1 || list[0].ID != id {
		t.Fatalf("a failed save left a plan: %+v", list)
	}
}

func TestSavePlanRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.Plan(ctx, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("latest plan of an empty store: %v", err)
	}
	// 130 nodes and 510 edges: full batches of rows plus a tail.
	want1 := samplePlan("one", 130)
	want1.Nodes[4].Hash = ""
	want1.Doc = []byte(strings.Repeat(`{"pkgbase":"vim","reason":"outdated"},`, 1000))
	id1, err := s.SavePlan(ctx, want1)
	if err != nil {
		t.Fatal(err)
	}
	want2 := samplePlan("two", 3)
	want2.CreatedAt = time.Time{}
	want2.Doc = nil
	id2, err := s.SavePlan(ctx, want2)
	if err != nil {
		t.Fatal(err)
	}
	if id2 <= id1 {
		t.Fatalf("ids %d, %d", id1, id2)
	}

	got1, err := s.Plan(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	want1.ID = id1
	if !reflect.DeepEqual(got1, want1) {
		t.Errorf("plan %d does not round-trip", id1)
		for i := range min(len(got1.Nodes), len(want1.Nodes)) {
			if !reflect.DeepEqual(got1.Nodes[i], want1.Nodes[i]) {
				t.Fatalf("node %d:\n got %+v\nwant %+v", i, got1.Nodes[i], want1.Nodes[i])
			}
		}
		t.Fatalf("got %+v\nwant %+v", got1, want1)
	}

	latest, err := s.Plan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if latest.ID != id2 || latest.CreatedAt.IsZero() || len(latest.Nodes) != 3 || latest.Doc != nil {
		t.Errorf("latest plan: id %d, created %v, %d nodes, doc %q", latest.ID, latest.CreatedAt, len(latest.Nodes), latest.Doc)
	}
	if _, err := s.Plan(ctx, 9999); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "plan 9999") {
		t.Errorf("missing plan: %v", err)
	}

	list, err := s.Plans(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != id2 || list[1].ID != id1 || list[1].Nodes != 130 || list[1].Edges != len(want1.Edges) ||
		list[1].CommandLine != want1.CommandLine || !list[1].CreatedAt.Equal(want1.CreatedAt) {
		t.Errorf("Plans = %+v", list)
	}
	if list, _ := s.Plans(ctx, 1); len(list) != 1 || list[0].ID != id2 {
		t.Errorf("Plans(1) = %+v", list)
	}

	// A plan records no hash inputs: they follow from its document.
	if hi, err := s.HashInputs(ctx, want1.Nodes[5].Hash); hi != nil || err != nil {
		t.Errorf("HashInputs after SavePlan = %v, %v", hi, err)
	}
	inputs := []KV{
		{"salt", "portmake-node-v1"}, {"arch", "aarch64"}, {"pkgbase", "pkg00005"},
		{"source.commit", "0123456789abcdef0123456789abcdef01234567"},
		{"dep x", "odd \"quoted\" ünïcode\tvalue"},
	}
	if err := s.RecordHashInputs(ctx, want1.Nodes[5].Hash, inputs); err != nil {
		t.Fatal(err)
	}
	// A second record of the same hash keeps the first.
	if err := s.RecordHashInputs(ctx, want1.Nodes[5].Hash, inputs[:1]); err != nil {
		t.Fatal(err)
	}
	if hi, err := s.HashInputs(ctx, want1.Nodes[5].Hash); err != nil || !reflect.DeepEqual(hi, inputs) {
		t.Errorf("HashInputs = %v, %v", hi, err)
	}
	if err := s.RecordHashInputs(ctx, "", inputs); err == nil {
		t.Error("RecordHashInputs accepted an empty hash")
	}
	if hi, err := s.HashInputs(ctx, "nope"); hi != nil || err != nil {
		t.Errorf("HashInputs of an unknown hash = %v, %v", hi, err)
	}

	// Pruning keeps the newest plans and those an apply used, and the hash
	// inputs of pruned plans (past builds still refer to them).
	id3, err := s.SavePlan(ctx, samplePlan("three", 3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartApply(ctx, id2, 1); err != nil {
		t.Fatal(err)
	}
	n, err := s.PrunePlans(ctx, 1)
	if err != nil || n != 1 {
		t.Fatalf("PrunePlans = %d, %v; want 1", n, err)
	}
	if _, err := s.Plan(ctx, id1); !errors.Is(err, ErrNotFound) {
		t.Errorf("pruned plan %d: %v", id1, err)
	}
	for _, id := range []int64{id2, id3} {
		if _, err := s.Plan(ctx, id); err != nil {
			t.Errorf("kept plan %d: %v", id, err)
		}
	}
	var rows int
	s.db.QueryRow(`SELECT count(*) FROM nodes WHERE plan_id = ?`, id1).Scan(&rows)
	if rows != 0 {
		t.Errorf("%d nodes of the pruned plan remain", rows)
	}
	if hi, _ := s.HashInputs(ctx, want1.Nodes[5].Hash); hi == nil {
		t.Error("pruning dropped the hash inputs")
	}
}

func TestSourceResolutions(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if r, err := s.SourceResolution(ctx, "missing"); r != nil || err != nil {
		t.Fatalf("miss = %+v, %v", r, err)
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	rs := []Resolution{
		{Key: "https://gitlab/vim.git 9.1.0-1", URL: "https://gitlab/vim.git", Ref: "9.1.0-1", Commit: "aaaa", ResolvedAt: at},
		{Key: "https://aur/foo.git HEAD", URL: "https://aur/foo.git", Ref: "HEAD", Commit: "bbbb"},
	}
	if err := s.SaveSourceResolutions(ctx, rs); err != nil {
		t.Fatal(err)
	}
	got, err := s.SourceResolution(ctx, rs[0].Key)
	if err != nil || !reflect.DeepEqual(*got, rs[0]) {
		t.Fatalf("got %+v, %v", got, err)
	}
	// Replacing a key keeps one row with the new answer.
	if err := s.SaveSourceResolution(ctx, &Resolution{Key: rs[1].Key, URL: rs[1].URL, Ref: "HEAD", Commit: "cccc", ResolvedAt: at}); err != nil {
		t.Fatal(err)
	}
	all, err := s.SourceResolutions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[rs[1].Key].Commit != "cccc" || !all[rs[1].Key].ResolvedAt.Equal(at) {
		t.Errorf("all = %+v", all)
	}
	if err := s.SaveSourceResolution(ctx, &Resolution{URL: "x"}); err == nil {
		t.Error("a resolution without a key was saved")
	}
}

func TestBuildLifecycle(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	planID, err := s.SavePlan(ctx, samplePlan("p", 2))
	if err != nil {
		t.Fatal(err)
	}
	applyID, err := s.StartApply(ctx, planID, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	start := func(pkgbase, hash string) int64 {
		t.Helper()
		id, err := s.StartBuild(ctx, &Build{ApplyID: applyID, Pkgbase: pkgbase, Version: "1-1", Hash: hash, Stage: 1, LogPath: "logs/" + pkgbase + ".log"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	finish := func(id int64, status string) {
		t.Helper()
		if err := s.FinishBuild(ctx, id, status, BuildResult{Duration: 1500 * time.Millisecond, PeakRSS: 123 << 20, ExitCode: 0, Files: []string{"a-1-1-aarch64.pkg.tar.zst"}}); err != nil {
			t.Fatal(err)
		}
	}

	// A success only counts once published.
	b1 := start("vim", "H1")
	if b, _ := s.LastSuccess(ctx, "H1"); b != nil {
		t.Fatal("a running build counts as a success")
	}
	finish(b1, StatusSucceeded)
	if b, _ := s.LastSuccess(ctx, "H1"); b != nil {
		t.Fatal("an unpublished success counts")
	}
	if err := s.MarkPublished(ctx, b1); err != nil {
		t.Fatal(err)
	}
	got, err := s.LastSuccess(ctx, "H1")
	if err != nil || got == nil || got.ID != b1 {
		t.Fatalf("LastSuccess = %+v, %v", got, err)
	}
	if got.Status != StatusSucceeded || !got.Published() || got.Duration != 1500*time.Millisecond || got.PeakRSS != 123<<20 ||
		got.Attempt != 1 || got.Stage != 1 || got.LogPath != "logs/vim.log" || got.FinishedAt.IsZero() ||
		!reflect.DeepEqual(got.Files, []string{"a-1-1-aarch64.pkg.tar.zst"}) {
		t.Errorf("build = %+v", got)
	}
	if err := s.FinishBuild(ctx, b1, StatusFailed, BuildResult{}); err == nil || !strings.Contains(err.Error(), "succeeded, not running") {
		t.Errorf("finishing twice: %v", err)
	}

	// Failure memory: the newest outcome of a hash decides.
	b2 := start("gcc", "H2")
	if err := s.FinishBuild(ctx, b2, StatusFailed, BuildResult{ExitCode: 2, Error: "make: *** [all] Error 2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkPublished(ctx, b2); err == nil || !strings.Contains(err.Error(), "failed, not succeeded") {
		t.Errorf("publishing a failed build: %v", err)
	}
	if f, _ := s.LastFailure(ctx, "H2"); f == nil || f.ID != b2 || f.ExitCode != 2 || f.Error == "" {
		t.Fatalf("LastFailure = %+v", f)
	}
	b3 := start("gcc", "H2")
	finish(b3, StatusAborted) // says nothing about the inputs
	if f, _ := s.LastFailure(ctx, "H2"); f == nil || f.ID != b2 {
		t.Fatalf("LastFailure after an abort = %+v", f)
	}
	b4 := start("gcc", "H2")
	finish(b4, StatusSucceeded) // a retry that worked clears the memory
	if f, _ := s.LastFailure(ctx, "H2"); f != nil {
		t.Fatalf("LastFailure after a success = %+v", f)
	}
	if f, _ := s.LastFailure(ctx, "H1"); f != nil {
		t.Fatalf("LastFailure of a good hash = %+v", f)
	}

	// History and per-pkgbase lookups.
	hist, err := s.History(ctx, "gcc", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[0].ID != b4 || hist[2].ID != b2 {
		t.Errorf("History(gcc) = %+v", hist)
	}
	if hist, _ := s.History(ctx, "", 2); len(hist) != 2 || hist[0].ID != b4 {
		t.Errorf("History(all, 2) = %+v", hist)
	}
	if b, _ := s.LastSuccessOf(ctx, "gcc"); b != nil {
		t.Errorf("LastSuccessOf(gcc) = %+v, but it was never published", b)
	}
	if b, _ := s.LastSuccessOf(ctx, "vim"); b == nil || b.ID != b1 {
		t.Errorf("LastSuccessOf(vim) = %+v", b)
	}
	if bs, _ := s.Builds(ctx, applyID); len(bs) != 4 || bs[0].ID != b1 {
		t.Errorf("Builds = %+v", bs)
	}
	if b, err := s.Build(ctx, 12345); !errors.Is(err, ErrNotFound) || b != nil {
		t.Errorf("Build(12345) = %+v, %v", b, err)
	}

	// A build against the target's binaries of a dependency says which.
	b5, err := s.StartBuild(ctx, &Build{ApplyID: applyID, Pkgbase: "app", Version: "1-1", Hash: "H5", Against: []string{"gcc", "libb#1"}})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := s.Build(ctx, b5); err != nil || !reflect.DeepEqual(b.Against, []string{"gcc", "libb#1"}) {
		t.Errorf("Build(%d).Against = %v, %v", b5, b.Against, err)
	}
	if b, _ := s.Build(ctx, b4); b.Against != nil {
		t.Errorf("a build that used every fresh dependency: Against = %#v, want nil", b.Against)
	}
	finish(b5, StatusSucceeded)

	if err := s.FinishApply(ctx, applyID, StatusFailed); err != nil {
		t.Fatal(err)
	}
	a, err := s.LastApply(ctx)
	if err != nil || a == nil || a.ID != applyID || a.PlanID != planID || a.Status != StatusFailed || a.FinishedAt.IsZero() || a.PID != os.Getpid() {
		t.Errorf("LastApply = %+v, %v", a, err)
	}
	if err := s.FinishApply(ctx, applyID, StatusSucceeded); err == nil {
		t.Error("an apply was finished twice")
	}
	if err := s.FinishBuild(ctx, 9999, StatusFailed, BuildResult{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("finishing an unknown build: %v", err)
	}
	if err := s.FinishBuild(ctx, b1, "done", BuildResult{}); err == nil {
		t.Error("a bad status was accepted")
	}
	// Foreign keys are enforced.
	if _, err := s.StartBuild(ctx, &Build{ApplyID: 777, Pkgbase: "x"}); err == nil {
		t.Error("a build of an unknown apply was recorded")
	}
	if _, err := s.StartApply(ctx, 777, 1); err == nil {
		t.Error("an apply of an unknown plan was recorded")
	}
}

func TestLock(t *testing.T) {
	s1 := openTest(t)
	s2 := second(t, s1)
	ctx := context.Background()
	since := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)

	release, err := s1.Lock(ctx, os.Getpid(), since)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s2.Lock(ctx, os.Getpid(), time.Now())
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || !le.Since.Equal(since) {
		t.Fatalf("contention: %v", err)
	}
	want := fmt.Sprintf("state locked by pid %d since %s", os.Getpid(), since.Local().Format(time.RFC3339))
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	release2, err := s2.Lock(ctx, os.Getpid(), time.Now())
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	release2()

	// A lock left by a dead process is taken over, and the dead holder's
	// release cannot free the new holder's lock.
	staleRelease, err := s1.Lock(ctx, deadPID(t), since)
	if err != nil {
		t.Fatal(err)
	}
	release3, err := s2.Lock(ctx, os.Getpid(), time.Now())
	if err != nil {
		t.Fatalf("takeover of a dead pid's lock: %v", err)
	}
	if err := staleRelease(); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Lock(ctx, os.Getpid(), time.Now()); !errors.As(err, &le) {
		t.Fatalf("the stale holder's release freed the new lock: %v", err)
	}
	release3()

	// A live pid whose start time differs is a reused pid: the lock is stale.
	if _, err := s1.db.Exec(`INSERT INTO apply_lock (id, pid, pid_start, since, token) VALUES (1, ?, ?, ?, 'old')`,
		os.Getpid(), procStart(os.Getpid())+1, nanos(since)); err != nil {
		t.Fatal(err)
	}
	if procStart(os.Getpid()) == 0 {
		t.Skip("no /proc: cannot tell reused pids apart")
	}
	if _, err := s2.Lock(ctx, os.Getpid(), time.Now()); err != nil {
		t.Fatalf("takeover from a reused pid: %v", err)
	}
}

func TestLockRace(t *testing.T) {
	s1 := openTest(t)
	handles := []*Store{s1, second(t, s1), second(t, s1), second(t, s1)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	for _, s := range handles {
		wg.Go(func() {
			_, err := s.Lock(context.Background(), os.Getpid(), time.Now())
			mu.Lock()
			defer mu.Unlock()
			var le *LockedError
			switch {
			case err == nil:
				won++
			case errors.As(err, &le):
				lost++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won != 1 || lost != len(handles)-1 {
		t.Fatalf("%d handles took the lock, %d were refused", won, lost)
	}
}

func TestRecoverInterrupted(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	dead := deadPID(t)
	deadApply, err := s.StartApply(ctx, 0, dead)
	if err != nil {
		t.Fatal(err)
	}
	liveApply, err := s.StartApply(ctx, 0, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	var deadBuilds []int64
	for _, p := range []string{"a", "b", "c"} {
		id, err := s.StartBuild(ctx, &Build{ApplyID: deadApply, Pkgbase: p, Hash: "h" + p})
		if err != nil {
			t.Fatal(err)
		}
		deadBuilds = append(deadBuilds, id)
	}
	if err := s.FinishBuild(ctx, deadBuilds[2], StatusSucceeded, BuildResult{}); err != nil {
		t.Fatal(err)
	}
	live, err := s.StartBuild(ctx, &Build{ApplyID: liveApply, Pkgbase: "d"})
	if err != nil {
		t.Fatal(err)
	}

	n, err := s.RecoverInterrupted(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RecoverInterrupted = %d, %v; want 2", n, err)
	}
	for i, want := range []string{StatusAborted, StatusAborted, StatusSucceeded} {
		b, err := s.Build(ctx, deadBuilds[i])
		if err != nil || b.Status != want {
			t.Errorf("build %d: %+v, %v; want %s", i, b, err, want)
		}
		if want == StatusAborted && (!strings.Contains(b.Error, fmt.Sprint(dead)) || b.FinishedAt.IsZero()) {
			t.Errorf("aborted build %+v", b)
		}
	}
	if b, _ := s.Build(ctx, live); b.Status != StatusRunning {
		t.Errorf("a live apply's build became %s", b.Status)
	}
	var status string
	s.db.QueryRow(`SELECT status FROM applies WHERE id = ?`, deadApply).Scan(&status)
	if status != StatusAborted {
		t.Errorf("dead apply is %s", status)
	}
	s.db.QueryRow(`SELECT status FROM applies WHERE id = ?`, liveApply).Scan(&status)
	if status != StatusRunning {
		t.Errorf("live apply is %s", status)
	}
	if n, err := s.RecoverInterrupted(ctx); n != 0 || err != nil {
		t.Errorf("second recovery = %d, %v", n, err)
	}
}

// TestConcurrentWriters runs two handles (two processes, as far as SQLite
// can tell) writing at once: the busy timeout and IMMEDIATE transactions
// must make them wait for each other rather than fail with SQLITE_BUSY.
func TestConcurrentWriters(t *testing.T) {
	s1 := openTest(t)
	s2 := second(t, s1)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w, s := range []*Store{s1, s2} {
		wg.Go(func() {
			applyID, err := s.StartApply(ctx, 0, os.Getpid())
			if err != nil {
				errs <- err
				return
			}
			for i := range 150 {
				id, err := s.StartBuild(ctx, &Build{ApplyID: applyID, Pkgbase: fmt.Sprintf("w%d-%d", w, i), Hash: "h"})
				if err == nil {
					err = s.FinishBuild(ctx, id, StatusSucceeded, BuildResult{})
				}
				if err == nil && i%50 == 0 {
					_, err = s.SavePlan(ctx, samplePlan(fmt.Sprint(w, i), 2000))
				}
				if err == nil && i%10 == 0 {
					_, err = s.RecoverInterrupted(ctx)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	hist, err := s1.History(ctx, "", 0)
	if err != nil || len(hist) != 300 {
		t.Errorf("%d builds recorded, want 300 (%v)", len(hist), err)
	}
}

func TestProcessAlive(t *testing.T) {
	if !processAlive(os.Getpid(), procStart(os.Getpid())) {
		t.Error("this process is not alive")
	}
	if !processAlive(os.Getpid(), 0) {
		t.Error("this process with an unknown start time is not alive")
	}
	for _, pid := range []int{0, -1, deadPID(t)} {
		if processAlive(pid, 0) {
			t.Errorf("pid %d is alive", pid)
		}
	}
}

func TestParseProcStart(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1234 (portmake) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 8 0 987654 123456 789", 987654, true},
		{"1234 (a) b (c)) R 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 8 0 42 1 2", 42, true},
		{"1234 (x) S 1 2 3", 0, false},
		{"no parens at all", 0, false},
		{"1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 notanumber 1 2", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseProcStart(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseProcStart(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		if _, ok := parseProcStart(string(b)); !ok {
			t.Errorf("cannot parse /proc/self/stat: %q", b)
		}
	}
}

func FuzzParseProcStart(f *testing.F) {
	f.Add("1234 (portmake) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 8 0 987654 123456 789")
	f.Add("1 ((( S")
	f.Add(")")
	f.Fuzz(func(t *testing.T, s string) {
		if v, ok := parseProcStart(s); ok != (v > 0) {
			t.Fatalf("parseProcStart(%q) = %d, %v", s, v, ok)
		}
	})
}

// BenchmarkSavePlan saves a plan the size of `--rebuild-repo extra`:
// 11,000 nodes and about 44,000 edges.
func BenchmarkSavePlan(b *testing.B) {
	s := openTest(b)
	p := samplePlan("bench", 11000)
	b.ReportMetric(float64(len(p.Edges)), "edges")
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.SavePlan(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadPlan reads back the plan of BenchmarkSavePlan (show, apply).
func BenchmarkLoadPlan(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	id, err := s.SavePlan(ctx, samplePlan("bench", 11000))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Plan(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartFinishBuild is the store's share of apply's per-node
// overhead: record the start, record the result, mark it published, and
// answer the rebuild rule's question.
func BenchmarkStartFinishBuild(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	applyID, err := s.StartApply(ctx, 0, os.Getpid())
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		hash := fmt.Sprintf("%064x", i)
		if bld, err := s.LastSuccess(ctx, hash); err != nil || bld != nil {
			b.Fatal(bld, err)
		}
		id, err := s.StartBuild(ctx, &Build{ApplyID: applyID, Pkgbase: "pkg", Version: "1-1", Hash: hash, Stage: 1, LogPath: "logs/pkg/x.log"})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.FinishBuild(ctx, id, StatusSucceeded, BuildResult{Duration: time.Second, Files: []string{"pkg-1-1-aarch64.pkg.tar.zst"}}); err != nil {
			b.Fatal(err)
		}
		if err := s.MarkPublished(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPlanDocSkipsRows(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	id, err := s.SavePlan(ctx, &Plan{PortfileHash: "h", Arch: "aarch64", Summary: "Plan: 1 to build.", Doc: []byte(`{"x":1}`),
		Nodes: []Node{{Pkgbase: "a", Version: "1-1", Hash: "ha"}}, Inputs: []Input{{Kind: "db", Name: "core", URL: "u", SHA256: "s"}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.PlanDoc(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != id || string(p.Doc) != `{"x":1}` || p.Summary != "Plan: 1 to build." {
		t.Fatalf("PlanDoc = %+v", p)
	}
	if p.Nodes != nil || p.Inputs != nil {
		t.Fatalf("PlanDoc loaded rows: %+v", p)
	}
	if _, err := s.PlanDoc(ctx, id+1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PlanDoc(missing) = %v", err)
	}
}
