package executor

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
)

// rehash names a variant after its job and the builds it used, so a test
// can read what the executor passed: "b[a=]" is b built against the
// target's a.
func rehash(calls map[string]map[string]string) func(j *Job, deps map[string]string) (string, error) {
	return func(j *Job, deps map[string]string) (string, error) {
		calls[j.ID] = maps.Clone(deps)
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(deps)) {
			parts = append(parts, k+"="+deps[k])
		}
		return j.ID + "[" + strings.Join(parts, ",") + "]", nil
	}
}

func TestBuildDependentsOfFailed(t *testing.T) {
	//   a (fails)   x
	//   |\
	//   b d   (d holds a as Firm, like a stage 2 its stage 1)
	//   | |
	//   c e
	d := job("d", "a")
	d.Firm = []string{"a"}
	jobs := []*Job{job("a"), job("b", "a"), job("c", "b"), d, job("e", "d"), job("x")}
	f := &fakeBuilder{fail: map[string]bool{"a": true}}
	rec := newMemRecorder()
	calls := map[string]map[string]string{}
	e := &Executor{Builder: f, Recorder: rec, Rehash: rehash(calls), Options: Options{Jobs: 2, BuildDependentsOfFailed: true}}
	s := run(t, e, jobs)
	wantOutcomes(t, s, map[string]string{
		"a": "failed",
		"b": "built",
		"c": "built",
		"d": "skipped: dependency a failed",
		"e": "built",
		"x": "built",
	})
	if s.OK() {
		t.Error("Summary.OK with a failure")
	}
	// b used the target's a; c used b's variant; e the target's d.
	want := map[string]map[string]string{"b": {"a": ""}, "c": {"b": "b[a=]"}, "e": {"d": ""}}
	for id, w := range want {
		if !maps.Equal(calls[id], w) {
			t.Errorf("Rehash(%s) got deps %v, want %v", id, calls[id], w)
		}
	}
	if len(calls) != len(want) {
		t.Errorf("Rehash called for %v, want only b, c and e", slices.Sorted(maps.Keys(calls)))
	}
	for id, against := range map[string][]string{"b": {"a"}, "c": nil, "e": {"d"}, "x": nil} {
		if got := s.Results[id].Against; !slices.Equal(got, against) {
			t.Errorf("%s: Against %v, want %v", id, got, against)
		}
	}
	// Variants are built and recorded under their own IDs; the planned
	// IDs never are, so they are built once the dependency succeeds.
	for _, id := range []string{"b[a=]", "c[b=b[a=]]", "e[d=]", "x"} {
		if !slices.Contains(f.order, id) {
			t.Errorf("%s was not built (built: %v)", id, f.order)
		}
		if _, ok := rec.succeeded[id]; !ok {
			t.Errorf("%s: not recorded as succeeded", id)
		}
	}
	for _, id := range []string{"b", "c", "e"} {
		if _, ok := rec.succeeded[id]; ok {
			t.Errorf("the planned %s was recorded, though it was built against the target", id)
		}
	}
	// The failed dependency installs nothing.
	if got := f.deps["b[a=]"]; len(got) != 0 {
		t.Errorf("b got -I %v, want nothing from the failed a", got)
	}
	if got := f.deps["c[b=b[a=]]"]; !slices.Equal(got, []string{"/out/b-1.0-1-x86_64.pkg.tar.zst"}) {
		t.Errorf("c got -I %v, want b's fresh package", got)
	}
	for _, b := range rec.builds {
		if b.job.ID == "b[a=]" && (b.job.Of != "b" || !slices.Equal(b.job.Against, []string{"a"})) {
			t.Errorf("recorded variant job: Of %q Against %v, want b and [a]", b.job.Of, b.job.Against)
		}
	}

	// a still fails: the variants are up to date, nothing is rebuilt.
	f2 := &fakeBuilder{fail: map[string]bool{"a": true}}
	e.Builder = f2
	s = run(t, e, jobs)
	wantOutcomes(t, s, map[string]string{
		"a": "failed-before: failed before with the same inputs (--retry-failed to try again)",
		"b": "up-to-date", "c": "up-to-date", "d": "skipped: dependency a failed", "e": "up-to-date", "x": "up-to-date",
	})
	if len(f2.order) != 0 {
		t.Errorf("rebuilt %v while a still fails", f2.order)
	}
	if got := s.Results["b"].Against; !slices.Equal(got, []string{"a"}) {
		t.Errorf("up-to-date variant b: Against %v, want [a]", got)
	}

	// a is fixed: everything that was built against the target is built
	// again, as planned.
	f3 := &fakeBuilder{}
	e.Builder, e.RetryFailed = f3, true
	s = run(t, e, jobs)
	wantOutcomes(t, s, map[string]string{
		"a": "built", "b": "built", "c": "built", "d": "built", "e": "built", "x": "up-to-date",
	})
	if got := slices.Sorted(slices.Values(f3.order)); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("built %v, want the planned a, b, c, d and e", got)
	}
	for id, r := range s.Results {
		if r.Against != nil {
			t.Errorf("%s: Against %v after its dependency succeeded", id, r.Against)
		}
	}
}

func TestBuildDependentsOfFailedOff(t *testing.T) {
	calls := map[string]map[string]string{}
	jobs := []*Job{job("a"), job("b", "a")}
	s := run(t, &Executor{Builder: &fakeBuilder{fail: map[string]bool{"a": true}}, Rehash: rehash(calls)}, jobs)
	wantOutcomes(t, s, map[string]string{"a": "failed", "b": "skipped: dependency a failed"})
	if len(calls) != 0 {
		t.Errorf("Rehash called without BuildDependentsOfFailed: %v", calls)
	}
}

func TestBuildDependentsOfFailedStops(t *testing.T) {
	// A stop is not a failure to build against: nothing new starts.
	jobs := []*Job{job("a"), job("b", "a")}
	jobs[0].Priority = 9
	calls := map[string]map[string]string{}
	e := &Executor{Builder: &fakeBuilder{fail: map[string]bool{"a": true}}, Rehash: rehash(calls),
		Options: Options{Jobs: 1, StopOnFailure: true, BuildDependentsOfFailed: true}}
	s := run(t, e, jobs)
	wantOutcomes(t, s, map[string]string{"a": "failed", "b": "skipped: stopped after a failed (--stop-on-failure)"})
}

func TestBuildDependentsOfFailedNeedsRehash(t *testing.T) {
	jobs := []*Job{job("a"), job("b", "a")}
	s := run(t, &Executor{Builder: &fakeBuilder{fail: map[string]bool{"a": true}}, Options: Options{BuildDependentsOfFailed: true}}, jobs)
	if r := s.Results["b"]; r.Outcome != Failed || r.Err == nil || !strings.Contains(r.Err.Error(), "Rehash") {
		t.Errorf("b without Rehash: %v %v, want a failure naming Rehash", r.Outcome, r.Err)
	}
}

func TestCallerAgainst(t *testing.T) {
	// A job the caller already builds against the target (its dependency
	// is not in the run) keeps that in its variant, and its result.
	b := job("b", "a")
	b.Against = []string{"z"}
	calls := map[string]map[string]string{}
	e := &Executor{Builder: &fakeBuilder{fail: map[string]bool{"a": true}}, Rehash: rehash(calls), Options: Options{BuildDependentsOfFailed: true}}
	s := run(t, e, []*Job{job("a"), b})
	if got := s.Results["b"].Against; !slices.Equal(got, []string{"a", "z"}) {
		t.Errorf("Against %v, want [a z]", got)
	}
	s = run(t, &Executor{Builder: &fakeBuilder{}, Rehash: rehash(calls)}, []*Job{job("a"), b})
	if got := s.Results["b"].Against; !slices.Equal(got, []string{"z"}) {
		t.Errorf("Against %v without a failure, want the caller's [z]", got)
	}
	if b.Against[0] != "z" || len(b.Against) != 1 {
		t.Errorf("the caller's job was modified: %v", b.Against)
	}
}

// BenchmarkScheduleFallback2000 is BenchmarkSchedule2000 with one
// pkgbase in 50 failing and BuildDependentsOfFailed: most of the run then
// builds variants, each asking Rehash once.
func BenchmarkScheduleFallback2000(b *testing.B) {
	jobs := synthetic(2000, 1)
	fail := map[string]bool{}
	for i, j := range jobs {
		if i%50 == 7 {
			fail[j.Pkgbase] = true
		}
	}
	variants := 0
	b.ReportAllocs()
	for b.Loop() {
		variants = 0
		e := &Executor{Builder: &fakeBuilder{fail: fail}, Recorder: newMemRecorder(),
			Rehash: func(j *Job, deps map[string]string) (string, error) {
				variants++
				return j.ID + "'", nil
			},
			Options: Options{Jobs: 8, BuildDependentsOfFailed: true}}
		if _, err := e.Run(context.Background(), jobs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2000/1000, "µs/job")
	b.ReportMetric(float64(variants), "variants")
}
