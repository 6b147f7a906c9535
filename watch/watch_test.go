package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/publish"
	"github.com/portmake/portmake/report"
)

// fakePort is a Port in memory: each call takes the next scripted result.
type fakePort struct {
	mu        sync.Mutex
	lockErr   error
	locked    bool
	planErrs  []error // the n-th Plan call fails with planErrs[n] when non-nil
	plans     int
	applies   []engine.ApplyOptions
	applyFn   func(ctx context.Context, o engine.ApplyOptions, prog engine.Progress) (*engine.ApplyResult, error)
	promotes  int
	planTimes []time.Time
}

func (f *fakePort) Lock(context.Context) (func() error, error) {
	if f.lockErr != nil {
		return nil, f.lockErr
	}
	f.locked = true
	return func() error { f.mu.Lock(); f.locked = false; f.mu.Unlock(); return nil }, nil
}

func (f *fakePort) Plan(ctx context.Context, o engine.PlanOptions) (*engine.PlanResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.plans
	f.plans++
	f.planTimes = append(f.planTimes, time.Now())
	if !o.Refresh {
		return nil, errors.New("the daemon must refresh the databases")
	}
	if n < len(f.planErrs) && f.planErrs[n] != nil {
		return nil, f.planErrs[n]
	}
	return &engine.PlanResult{Plan: &planner.Plan{}, ID: int64(n + 1)}, nil
}

func (f *fakePort) Apply(ctx context.Context, o engine.ApplyOptions, prog engine.Progress) (*engine.ApplyResult, error) {
	f.mu.Lock()
	f.applies = append(f.applies, o)
	fn := f.applyFn
	f.mu.Unlock()
	if fn != nil {
		return fn(ctx, o, prog)
	}
	return &engine.ApplyResult{PlanID: o.PlanID}, nil
}

func (f *fakePort) Report(ctx context.Context, o report.LoadOptions) (*report.Data, error) {
	return &report.Data{Title: "test port", Generated: o.Now}, nil
}

func (f *fakePort) Promote(ctx context.Context, o engine.PromoteOptions) ([]*engine.PromotePlan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.promotes++
	return []*engine.PromotePlan{{From: "core-testing", To: "core", Moves: []publish.Move{{Pkgbase: "gcc", Version: "14-1"}},
		Held: []publish.Hold{{Pkgbase: "vim", Version: "9-1", Reasons: []string{"vim needs python>=3.12: nothing in stable provides it"}}}}}, nil
}

func (f *fakePort) Stats(ctx context.Context) (*engine.Stats, error) {
	return &engine.Stats{Builds: map[string]int{"succeeded": 7, "failed": 2},
		LastSuccess: map[string]time.Time{"core": time.Unix(1700000000, 0), "extra": time.Unix(1700000100, 0)}, Failing: 1}, nil
}

// logBuffer collects log lines safely across goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func testOptions(logs io.Writer) Options {
	return Options{Interval: 30 * time.Millisecond, Jitter: -1, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

// TestErrorsDoNotStopTheDaemon: failed rounds are logged and retried after
// a backoff that doubles up to its cap, and the daemon goes on.
func TestErrorsDoNotStopTheDaemon(t *testing.T) {
	down := errors.New("fetch http://mirror/core.db: connection refused")
	f := &fakePort{planErrs: []error{down, down, down, down, nil}}
	var logs logBuffer
	o := testOptions(&logs)
	o.Rounds = 6
	d := New(f, o)
	if err := d.Run(context.Background(), nil); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if f.plans != 6 || len(f.applies) != 2 {
		t.Fatalf("%d plans, %d applies; want 6 and 2", f.plans, len(f.applies))
	}
	// Waits: 10, 20, 40, 40 (capped) ms after the failures, then the
	// interval (30 ms).
	want := []time.Duration{10, 20, 40, 40, 30}
	for i, w := range want {
		got := f.planTimes[i+1].Sub(f.planTimes[i])
		if got < w*time.Millisecond || got > w*time.Millisecond+2*time.Second {
			t.Errorf("wait %d = %v, want about %dms", i+1, got, w)
		}
	}
	s := d.State().Snapshot()
	if s.Rounds != 6 || s.FailedRounds != 4 || s.Phase != PhaseStopped || s.LastRound.Err != "" {
		t.Errorf("state = %+v", s)
	}
	if n := strings.Count(logs.String(), "round failed; backing off"); n != 4 {
		t.Errorf("%d backoff lines in the log:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "connection refused") || f.locked {
		t.Errorf("the error is not logged, or the lock is still held:\n%s", logs.String())
	}
}

func TestBackoffIsBounded(t *testing.T) {
	d := New(&fakePort{}, Options{Interval: time.Hour, Jitter: -1, MinBackoff: 30 * time.Second, MaxBackoff: 10 * time.Minute})
	var got []time.Duration
	for n := 1; n <= 7; n++ {
		got = append(got, d.backoff(n))
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got[i], want[i])
		}
	}
	d = New(&fakePort{}, Options{Interval: time.Hour})
	for range 100 {
		if j := d.jittered(time.Hour); j < 54*time.Minute || j > 66*time.Minute {
			t.Fatalf("jittered(1h) = %v, want within 10%%", j)
		}
	}
}

// TestApplyOptions: the daemon refreshes when it plans, applies the plan it
// just made without fetching again, under its own lock, with its failure
// limit and its drain.
func TestApplyOptions(t *testing.T) {
	f := &fakePort{}
	o := testOptions(io.Discard)
	o.Rounds = 1
	o.Apply = engine.ApplyOptions{Jobs: 3}
	drain := make(chan struct{})
	if err := New(f, o).Run(context.Background(), drain); err != nil {
		t.Fatal(err)
	}
	a := f.applies[0]
	if a.PlanID != 1 || a.Plan.Refresh || !a.LockHeld || a.FailureLimit != 2 || a.Drain == nil || a.Jobs != 3 {
		t.Errorf("apply options = %+v", a)
	}
}

func TestLockedStoreRefuses(t *testing.T) {
	f := &fakePort{lockErr: errors.New("state locked by pid 42")}
	if err := New(f, testOptions(io.Discard)).Run(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "pid 42") {
		t.Errorf("Run = %v", err)
	}
	if f.plans != 0 {
		t.Error("planned without the lock")
	}
}

// TestOnceFails: with Rounds, a failed build, or one held by failure
// memory, makes Run fail (watch --once exits 1, like apply); a round with
// nothing to do does not.
func TestOnceFails(t *testing.T) {
	for outcome, want := range map[engine.Outcome]error{engine.Failed: ErrRoundFailed, engine.Remembered: ErrRoundFailed, engine.UpToDate: nil, engine.Built: nil} {
		f := &fakePort{applyFn: func(ctx context.Context, o engine.ApplyOptions, prog engine.Progress) (*engine.ApplyResult, error) {
			j := &engine.Job{ID: "h1", Pkgbase: "a", Version: "1-1"}
			s := &engine.Summary{Jobs: []*engine.Job{j}, Results: map[string]*engine.Result{"h1": {Outcome: outcome}}}
			return &engine.ApplyResult{PlanID: o.PlanID, Summary: s}, nil
		}}
		o := testOptions(io.Discard)
		o.Rounds = 1
		if err := New(f, o).Run(context.Background(), nil); !errors.Is(err, want) {
			t.Errorf("%s: Run = %v, want %v", outcome, err, want)
		}
	}
}

// blockingApply starts one build and waits for the drain or the context:
// drained, the build ends built; cancelled, it ends aborted.
func blockingApply(started chan<- struct{}) func(ctx context.Context, o engine.ApplyOptions, prog engine.Progress) (*engine.ApplyResult, error) {
	return func(ctx context.Context, o engine.ApplyOptions, prog engine.Progress) (*engine.ApplyResult, error) {
		j := &engine.Job{ID: "h1", Pkgbase: "gcc", Version: "14-1"}
		prog.Begin([]*engine.Job{j, {ID: "h2", Pkgbase: "vim"}}, 1)
		prog.Started(j, 1, time.Now())
		close(started)
		r := &engine.Result{Outcome: engine.Built}
		var err error
		abort := func() { r.Outcome, err = engine.Aborted, ctx.Err() }
		select {
		case <-o.Drain:
			// The running build goes on, unless it is cancelled.
			select {
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
				abort()
			}
		case <-ctx.Done():
			abort()
		}
		prog.Finished(j, r)
		s := &engine.Summary{Jobs: []*engine.Job{j}, Results: map[string]*engine.Result{"h1": r}}
		prog.End(s)
		return &engine.ApplyResult{PlanID: o.PlanID, Summary: s}, err
	}
}

func TestDrainAndAbort(t *testing.T) {
	for _, tc := range []struct {
		name  string
		abort bool
		want  engine.Outcome
	}{{"drain lets the build finish", false, engine.Built}, {"abort", true, engine.Aborted}} {
		t.Run(tc.name, func(t *testing.T) {
			started := make(chan struct{})
			f := &fakePort{applyFn: blockingApply(started)}
			o := testOptions(io.Discard)
			o.Abort = tc.abort
			d := New(f, o)
			drain := make(chan struct{})
			done := make(chan error)
			go func() { done <- d.Run(context.Background(), drain) }()
			<-started
			s := d.State().Snapshot()
			if s.Phase != PhaseBuilding || len(s.Running) != 1 || s.Running[0].ID != "gcc" || s.Queue != 1 {
				t.Errorf("state while building = %+v", s)
			}
			close(drain)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			last := d.State().Snapshot().LastRound
			built := last.Built == 1
			if built != (tc.want == engine.Built) || f.plans != 1 {
				t.Errorf("last round = %+v after %d plans; want the build %v and no second round", last, f.plans, tc.want)
			}
		})
	}
}

// TestServer checks the three pages and that nothing but GET and HEAD is
// served.
func TestServer(t *testing.T) {
	started := make(chan struct{})
	f := &fakePort{applyFn: blockingApply(started)}
	d := New(f, testOptions(io.Discard))
	drain := make(chan struct{})
	done := make(chan error)
	go func() { done <- d.Run(context.Background(), drain) }()
	defer func() { close(drain); <-done }()
	<-started

	srv := NewServer(d)
	srv.now = func() time.Time { return d.State().Snapshot().Running[0].Started.Add(90 * time.Second) }
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}

	code, body, h := get("/api/status")
	var st struct {
		Schema  string `json:"schema"`
		Round   int    `json:"round"`
		Phase   string `json:"phase"`
		Running []struct {
			ID             string  `json:"id"`
			ElapsedSeconds float64 `json:"elapsed_seconds"`
		} `json:"running"`
		Queue     int             `json:"queue"`
		LastRound json.RawMessage `json:"last_round"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != 200 || h.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s: %v\n%s", code, h.Get("Content-Type"), err, body)
	}
	if st.Schema != "portmake.status/v1" || st.Round != 1 || st.Phase != "building" || len(st.Running) != 1 ||
		st.Running[0].ID != "gcc" || st.Running[0].ElapsedSeconds != 90 || st.Queue != 1 || string(st.LastRound) != "null" {
		t.Errorf("status = %s", body)
	}

	code, body, h = get("/metrics")
	for _, want := range []string{
		"# TYPE portmake_builds_total counter\n",
		`portmake_builds_total{result="failed"} 2` + "\n" + `portmake_builds_total{result="succeeded"} 7` + "\n",
		"portmake_builds_running 1\n", "portmake_queue_length 1\n", "portmake_failing_packages 1\n",
		"# TYPE portmake_round_duration_seconds gauge\n",
		`portmake_last_success_timestamp_seconds{repo="core"} 1700000000` + "\n",
		`portmake_last_success_timestamp_seconds{repo="extra"} 1700000100` + "\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Errorf("metrics: %d %s", code, h.Get("Content-Type"))
	}

	code, body, _ = get("/")
	if code != 200 || !strings.Contains(body, "Live: round 1, building") || !strings.Contains(body, "<td>gcc</td>") ||
		!strings.Contains(body, `<meta http-equiv="refresh" content="30">`) {
		t.Errorf("page %d lacks the live state:\n%s", code, body)
	}
	if code, _, _ = get("/nosuch"); code != 404 {
		t.Errorf("/nosuch: %d", code)
	}

	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		req, _ := http.NewRequest(m, ts.URL+"/api/status", strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

// TestListenDefaultsToLoopback: ":port" binds 127.0.0.1 only.
func TestListenDefaultsToLoopback(t *testing.T) {
	d := New(&fakePort{}, testOptions(io.Discard))
	ctx, cancel := context.WithCancel(context.Background())
	addr, done, err := NewServer(d).Listen(ctx, ":0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr.String(), "127.0.0.1:") {
		t.Errorf("bound %s", addr)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("server ended with %v", err)
	}
}

// TestPromote: with Promote, a round that built something promotes and
// logs every move and hold; a round that built nothing does not.
func TestPromote(t *testing.T) {
	built := true
	f := &fakePort{applyFn: func(ctx context.Context, o engine.ApplyOptions, prog engine.Progress) (*engine.ApplyResult, error) {
		out := engine.UpToDate
		if built {
			out = engine.Built
		}
		j := &engine.Job{ID: "h1", Pkgbase: "gcc", Version: "14-1"}
		return &engine.ApplyResult{PlanID: o.PlanID, Summary: &engine.Summary{Jobs: []*engine.Job{j}, Results: map[string]*engine.Result{"h1": {Outcome: out}}}}, nil
	}}
	var logs logBuffer
	o := testOptions(&logs)
	o.Rounds, o.Promote = 1, true
	d := New(f, o)
	if err := d.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if f.promotes != 1 || d.State().Snapshot().LastRound.Promoted != 1 {
		t.Errorf("%d promotions, last round %+v", f.promotes, d.State().Snapshot().LastRound)
	}
	for _, want := range []string{`msg=promoted round=1 from=core-testing to=core pkgbase=gcc version=14-1`,
		`msg="held in testing" round=1 from=core-testing to=core pkgbase=vim version=9-1 reasons="[vim needs python>=3.12: nothing in stable provides it]"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
	built = false
	if err := New(f, o).Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if f.promotes != 1 {
		t.Errorf("a round that built nothing promoted")
	}
}
