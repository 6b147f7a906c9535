package store

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestFailureMemory(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	planID, err := s.SavePlan(ctx, samplePlan("p", 1))
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.StartApply(ctx, planID, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	build := func(pkgbase, hash, status string) {
		t.Helper()
		id, err := s.StartBuild(ctx, &Build{ApplyID: a, Pkgbase: pkgbase, Hash: hash})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.FinishBuild(ctx, id, status, BuildResult{}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(hash string, want int) {
		t.Helper()
		n, err := s.FailureCount(ctx, hash)
		if err != nil || n != want {
			t.Fatalf("FailureCount(%s) = %d, %v; want %d", hash, n, err, want)
		}
	}
	count("H1", 0)
	build("gcc", "H1", StatusFailed)
	count("H1", 1)
	build("gcc", "H1", StatusAborted) // says nothing
	count("H1", 1)
	build("gcc", "H1", StatusFailed)
	count("H1", 2)
	build("gcc", "H2", StatusFailed) // another hash of the same pkgbase
	count("H2", 1)
	count("H1", 2)
	// Until a clear, a count above 0 is what LastFailure finds.
	for _, h := range []string{"H1", "H2", "H9"} {
		n, _ := s.FailureCount(ctx, h)
		if f, _ := s.LastFailure(ctx, h); (f != nil) != (n > 0) {
			t.Errorf("LastFailure(%s) = %v, but FailureCount = %d", h, f, n)
		}
	}

	// retry: both hashes of gcc are forgiven, their history stays.
	n, err := s.ClearFailures(ctx, "gcc")
	if err != nil || n != 3 {
		t.Fatalf("ClearFailures = %d, %v; want 3", n, err)
	}
	count("H1", 0)
	count("H2", 0)
	if h, _ := s.History(ctx, "gcc", 0); len(h) != 4 {
		t.Errorf("history has %d builds, want 4", len(h))
	}
	if n, _ := s.ClearFailures(ctx, "gcc"); n != 0 {
		t.Errorf("a second clear clears %d", n)
	}
	// A failure after the clear counts again; a success resets the hash.
	build("gcc", "H1", StatusFailed)
	count("H1", 1)
	build("gcc", "H1", StatusSucceeded)
	count("H1", 0)
	build("gcc", "H1", StatusFailed)
	count("H1", 1)
	// Other pkgbases keep their memory.
	build("vim", "H3", StatusFailed)
	if _, err := s.ClearFailures(ctx, "gcc"); err != nil {
		t.Fatal(err)
	}
	count("H3", 1)
	count("H1", 0)
}
