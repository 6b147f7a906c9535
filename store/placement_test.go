package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPlacements(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	dead := deadPID(t)
	applyID, err := s.StartApply(ctx, 0, dead) // an apply that was killed
	if err != nil {
		t.Fatal(err)
	}
	start := func(apply int64, pkgbase string) int64 {
		t.Helper()
		id, err := s.StartBuild(ctx, &Build{ApplyID: apply, Pkgbase: pkgbase, Version: "1-1", Hash: "H" + pkgbase})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a := start(applyID, "a")
	b := start(applyID, "b")
	c := start(applyID, "c")
	d := start(applyID, "d")
	for id, job := range map[int64]string{a: "11", b: "12"} {
		if err := s.Place(ctx, id, Placement{Backend: "slurm", JobID: job, JobDir: "/w/x"}); err != nil {
			t.Fatal(err)
		}
	}
	// The node becomes known.
	if err := s.Place(ctx, a, Placement{Backend: "slurm", JobID: "11", Node: "rock5", JobDir: "/w/x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Place(ctx, 999, Placement{Backend: "slurm", JobID: "1"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("placing a build that does not exist: %v", err)
	}
	if err := s.Place(ctx, c, Placement{}); err == nil {
		t.Error("a placement without a job was accepted")
	}
	if err := s.Place(ctx, c, Placement{Backend: "slurm"}); err == nil {
		t.Error("a placement with neither a job id nor a directory was accepted")
	}
	// A submission under way: the attempt's directory, no job id yet (the
	// apply is killed before it learns it).
	if err := s.Place(ctx, d, Placement{Backend: "slurm", JobDir: "/w/d"}); err != nil {
		t.Fatal(err)
	}
	// While the apply's builds run, nothing is open for another apply.
	if open, err := s.OpenJobs(ctx); err != nil || len(open) != 0 {
		t.Fatalf("open jobs of a running apply: %v %v", open, err)
	}
	// The apply dies; recovery marks its builds aborted, and their jobs
	// are open, newest first, with where they ran.
	if _, err := s.RecoverInterrupted(ctx); err != nil {
		t.Fatal(err)
	}
	open, err := s.OpenJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 3 || open[0].ID != d || open[1].ID != b || open[2].ID != a {
		t.Fatalf("open jobs %+v", open)
	}
	if p := open[0].Placement; p != (Placement{Backend: "slurm", JobDir: "/w/d"}) {
		t.Errorf("placement of a submission under way %+v", p)
	}
	open = open[1:]
	if p := open[1].Placement; p != (Placement{Backend: "slurm", JobID: "11", Node: "rock5", JobDir: "/w/x"}) {
		t.Errorf("placement %+v", p)
	}
	if open[1].Status != StatusAborted {
		t.Errorf("status %s", open[1].Status)
	}

	// The next apply re-attaches to job 11 (a's build releases it) and
	// cancels job 12.
	next, err := s.StartApply(ctx, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	a2 := start(next, "a")
	if err := s.Place(ctx, a2, Placement{Backend: "slurm", JobID: "11", JobDir: "/w/x"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{b, d} {
		if err := s.ReleaseJob(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if open, _ := s.OpenJobs(ctx); len(open) != 0 {
		t.Errorf("open jobs after re-attaching and cancelling: %+v", open)
	}
	// history shows where each build ran.
	h, err := s.History(ctx, "a", 0)
	if err != nil || len(h) != 2 || h[0].JobID != "11" || h[1].Node != "rock5" {
		t.Errorf("history %+v %v", h, err)
	}
	// The re-attached build is killed too: its job is open again.
	if err := s.FinishBuild(ctx, a2, StatusAborted, BuildResult{}); err != nil {
		t.Fatal(err)
	}
	if open, _ := s.OpenJobs(ctx); len(open) != 1 || open[0].ID != a2 {
		t.Errorf("open jobs %+v", open)
	}
}

func TestInfraFailureIsNotRemembered(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	applyID, err := s.StartApply(ctx, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.StartBuild(ctx, &Build{ApplyID: applyID, Pkgbase: "gcc", Version: "1-1", Hash: "G"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishBuild(ctx, id, StatusInfraFailed, BuildResult{Error: "slurm job 4 ended NODE_FAIL"}); err != nil {
		t.Fatal(err)
	}
	if b, err := s.LastFailure(ctx, "G"); err != nil || b != nil {
		t.Errorf("an infrastructure failure is remembered: %+v %v", b, err)
	}
}

func TestFootprints(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	applyID, err := s.StartApply(ctx, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []struct {
		pkgbase string
		status  string
		dur     time.Duration
		rss     int64
	}{
		{"gcc", StatusSucceeded, time.Hour, 4 << 30},
		{"gcc", StatusSucceeded, 50 * time.Minute, 5 << 30}, // the latest success counts
		{"gcc", StatusFailed, time.Minute, 1 << 20},         // a failure does not
		{"zlib", StatusAborted, time.Second, 1 << 20},       // nor an abort
	} {
		id, err := s.StartBuild(ctx, &Build{ApplyID: applyID, Pkgbase: b.pkgbase, Version: "1-1", Hash: "H"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.FinishBuild(ctx, id, b.status, BuildResult{Duration: b.dur, PeakRSS: b.rss}); err != nil {
			t.Fatal(err)
		}
	}
	fp, err := s.Footprints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fp) != 1 || fp["gcc"] != (Footprint{Duration: 50 * time.Minute, PeakRSS: 5 << 30}) {
		t.Errorf("footprints %+v", fp)
	}
}
