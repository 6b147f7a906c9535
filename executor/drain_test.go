package executor

import (
	"context"
	"testing"
	"time"
)

// TestDrainFinishesRunningBuilds: closing Drain starts nothing new, lets
// the running builds end normally (built, not aborted), and skips the
// rest with a reason that says the next run builds them.
func TestDrainFinishesRunningBuilds(t *testing.T) {
	jobs := []*Job{job("a"), job("b"), job("c", "a"), job("d")}
	jobs[0].Priority, jobs[1].Priority = 9, 8
	release := make(chan struct{})
	f := &fakeBuilder{started: make(chan *Job, 4), delay: func(*Job) time.Duration { <-release; return 0 }}
	drain := make(chan struct{})
	e := &Executor{Builder: f, Recorder: newMemRecorder(), Options: Options{Jobs: 2, LogDir: t.TempDir(), Drain: drain}}
	done := make(chan *Summary)
	go func() {
		s, err := e.Run(context.Background(), jobs)
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	<-f.started
	<-f.started
	close(drain)
	time.Sleep(20 * time.Millisecond) // let the coordinator see the drain first
	close(release)
	s := <-done
	const drained = "skipped: shutting down: the next run builds it"
	wantOutcomes(t, s, map[string]string{"a": "built", "b": "built", "c": drained, "d": drained})
	if len(f.order) != 2 {
		t.Errorf("started %v after the drain", f.order)
	}
}
