package store

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"
)

func TestReportReads(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	planID, err := s.SavePlan(ctx, samplePlan("p", 2))
	if err != nil {
		t.Fatal(err)
	}
	if as, err := s.Applies(ctx, 0); err != nil || len(as) != 0 {
		t.Fatalf("Applies of an empty store = %v, %v", as, err)
	}
	var applies []int64
	var firstVim int64
	var clockAtFirst time.Time
	build := func(apply int64, pkgbase string, stage int, status string, at time.Time) int64 {
		t.Helper()
		id, err := s.StartBuild(ctx, &Build{ApplyID: apply, Pkgbase: pkgbase, Version: "1-1", Hash: "H" + pkgbase, Stage: stage, StartedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		if status != StatusRunning {
			if err := s.FinishBuild(ctx, id, status, BuildResult{Duration: time.Minute}); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	for i := range 3 {
		clock = clock.Add(time.Hour)
		a, err := s.StartApply(ctx, planID, os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		applies = append(applies, a)
		build(a, "gcc", 0, []string{StatusFailed, StatusFailed, StatusSucceeded}[i], clock)
		if id := build(a, "vim", 0, StatusSucceeded, clock); i == 0 {
			firstVim, clockAtFirst = id, clock // FinishBuild stamps the store's clock
		}
		build(a, "cyc", 1, StatusSucceeded, clock)
		build(a, "cyc", 2, []string{StatusSucceeded, StatusAborted, StatusRunning}[i], clock)
		if i < 2 {
			if err := s.FinishApply(ctx, a, StatusFailed); err != nil {
				t.Fatal(err)
			}
		}
	}

	as, err := s.Applies(ctx, 2)
	if err != nil || len(as) != 2 || as[0].ID != applies[2] || as[1].ID != applies[1] || as[0].Status != StatusRunning ||
		as[1].Status != StatusFailed || as[1].PlanID != planID || as[1].FinishedAt.IsZero() || !as[0].FinishedAt.IsZero() {
		t.Fatalf("Applies(2) = %+v, %v", as, err)
	}
	if all, _ := s.Applies(ctx, 0); len(all) != 3 {
		t.Errorf("Applies(0) = %d applies", len(all))
	}

	latest, err := s.LatestBuilds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range latest {
		got = append(got, fmt.Sprintf("%s/%d %s a%d", b.Pkgbase, b.Stage, b.Status, b.ApplyID))
	}
	want := []string{
		fmt.Sprintf("cyc/1 succeeded a%d", applies[2]), fmt.Sprintf("cyc/2 running a%d", applies[2]),
		fmt.Sprintf("gcc/0 succeeded a%d", applies[2]), fmt.Sprintf("vim/0 succeeded a%d", applies[2]),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LatestBuilds = %q\nwant %q", got, want)
	}

	since := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC) // the second apply on
	bs, err := s.BuildsSince(ctx, since, 0)
	if err != nil || len(bs) != 8 || bs[0].ApplyID != applies[1] || bs[7].ApplyID != applies[2] {
		t.Fatalf("BuildsSince = %d builds, %v", len(bs), err)
	}
	if bs, _ := s.BuildsSince(ctx, since, 3); len(bs) != 3 || bs[2].ID <= bs[0].ID || bs[2].ApplyID != applies[2] {
		t.Errorf("BuildsSince(limit 3) should keep the newest, in order: %+v", bs)
	}

	// Only published successes count; gcc's success of the last apply was
	// never published.
	if err := s.MarkPublished(ctx, firstVim); err != nil {
		t.Fatal(err)
	}
	last, err := s.LastSuccesses(ctx)
	if err != nil || len(last) != 1 || !last["vim"].Equal(clockAtFirst) {
		t.Errorf("LastSuccesses = %v, %v; want vim at %v", last, err, clockAtFirst)
	}

	counts, err := s.BuildCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{StatusSucceeded: 8, StatusFailed: 2, StatusAborted: 1, StatusRunning: 1}; !reflect.DeepEqual(counts, want) {
		t.Errorf("BuildCounts = %v, want %v", counts, want)
	}
}
