package executor

import (
	"context"
	"errors"
	"io"
	"time"
)

// Job is one build of one pkgbase: a plan node as the executor sees it. The
// caller fills it from the plan, and nothing changes it afterwards: what
// preparing the sources learns comes back as a Prepared value, applied to
// a per-attempt copy (see Prepared.Apply).
type Job struct {
	ID      string // the node hash; identifies the build in the store
	Pkgbase string
	Version string // full version, [epoch:]pkgver-pkgrel
	// Stage is 1 for the first build of a dependency cycle (built against
	// the existing binaries, always with --nocheck), 2 for its rebuild
	// against the stage-1 results, and 0 for an ordinary node.
	Stage int
	Deps  []string // IDs of the in-plan jobs this one needs
	// Firm lists the Deps whose failure always skips this job, even with
	// BuildDependentsOfFailed: the target's binaries cannot stand in for
	// the stage-1 builds a stage-2 build exists to use.
	Firm []string
	// Against names the in-plan dependencies (pkgbase, with the stage) for
	// which this build uses the target's binaries instead of their fresh
	// builds, sorted. The caller sets it on a job whose dependency is not
	// in the run; the executor adds to it on the variant it makes of a job
	// whose dependency failed (see Executor.Rehash).
	Against []string
	// Of is, for such a variant, the ID of the job it stands for.
	Of       string
	Priority int    // critical-path priority: higher starts first
	Group    string // jobs of the same non-empty group never run at once
	Nocheck  bool   // pass --nocheck (the node's checks are disabled)
	// IgnoreArch passes --ignorearch. The caller sets it when the
	// PKGBUILD's arch list (from .SRCINFO) lacks Arch and is not "any"; see
	// NeedsIgnoreArch.
	IgnoreArch bool
	// NoDeps passes --nodeps to the makepkg builder, which cannot install
	// build dependencies (it runs unprivileged). The chroot builder ignores
	// it: there makepkg --syncdeps installs them.
	NoDeps bool
	// NoInteg passes --skipinteg: the Portfile's per-package opt-out
	// (nointeg) of checksum and signature verification.
	NoInteg bool
	// Keyring holds directories of *.asc PGP keys to import, besides the
	// package's own keys/pgp, when its PKGBUILD lists validpgpkeys.
	Keyring   []string
	SourceDir string // directory holding the PKGBUILD, prepared by the caller or a SourceFetcher
	Publish   string // repository to publish to; "" means do not publish this build
	Arch      string // target architecture (CARCH)
	// Env holds extra KEY=VALUE pairs for the builder's environment.
	Env []string
	// ExpectedDuration is the duration of past builds of this pkgbase, for
	// the ETA; 0 when unknown.
	ExpectedDuration time.Duration
	// ExpectedRSS is the peak RSS, in bytes, of the last build of this
	// pkgbase, for memory packing (Options.Memory, -j auto) and a remote
	// job's memory request; 0 when unknown.
	ExpectedRSS int64
}

// NeedsIgnoreArch reports whether a PKGBUILD whose arch=() list is arches
// needs --ignorearch to build for target.
func NeedsIgnoreArch(arches []string, target string) bool {
	for _, a := range arches {
		if a == target || a == "any" {
			return false
		}
	}
	return true
}

// Outcome is what happened to a job in a run.
type Outcome uint8

const (
	Pending    Outcome = iota // not decided yet (never in a finished Summary)
	Built                     // built (and published, when the job asks for it)
	UpToDate                  // the store holds a published build with the same hash
	Failed                    // the build, its source preparation or its publishing failed
	Remembered                // failed before with the same hash; not retried without RetryFailed
	Skipped                   // not run: a dependency failed, or the run stopped
	Aborted                   // cancelled while running
)

var outcomeText = [...]string{"pending", "built", "up-to-date", "failed", "failed-before", "skipped", "aborted"}

func (o Outcome) String() string {
	if int(o) < len(outcomeText) {
		return outcomeText[o]
	}
	return "outcome(?)"
}

// OK reports whether dependents may build on this outcome.
func (o Outcome) OK() bool { return o == Built || o == UpToDate }

// Result is the result of one job in a run (of its last attempt).
type Result struct {
	Outcome Outcome
	Reason  string   // why a job was skipped or remembered, e.g. "dependency gcc failed"
	Err     error    // the failure, for Failed and Aborted
	Files   []string // package files built (or recorded, for UpToDate)
	LogPath string   // the attempt's log; "" when nothing ran
	// LogTail is the last lines the attempt wrote to its log, for a
	// failure's summary ("" for a success).
	LogTail string
	// Against is the Against of the job as it ran (or was found up to
	// date): the dependencies whose fresh builds it did not use. Nil when
	// it used them all.
	Against  []string
	Attempt  int           // 1 for the first attempt; 0 when nothing ran
	Start    time.Time     // when the last attempt started
	Duration time.Duration // of the last attempt, build and publishing
	ExitCode int           // of the builder's last command; -1 when killed by a signal
	MaxRSS   int64         // peak resident set size of the build process tree, in bytes
	// SHA256 holds the hex sha256 of each built file (keys are Files), as
	// the builder copied it out of the build user's reach; empty for
	// UpToDate. A publisher verifies the bytes against it before
	// publishing.
	SHA256 map[string]string
}

// Output is what a builder reports about one build.
type Output struct {
	Files []string // package files, from makepkg --packagelist, that exist
	// SHA256 is the hex sha256 of each file of Files, computed as the
	// builder copied it to a place the build user cannot write.
	SHA256   map[string]string
	ExitCode int   // of the last command run; -1 when it died of a signal
	MaxRSS   int64 // bytes; the maximum over the commands run
	// Detached is set by a Remote builder whose job may still be running
	// after the attempt returned (its cancellation failed): the next apply
	// re-attaches to it or cancels it.
	Detached bool
}

// ErrTransient marks a build failure that may go away when the same build
// is run again (a download failed, the build was killed by a signal it did
// not cause). Builders wrap it; the scheduler retries such failures up to
// Options.Retries times. Compiler errors, test failures and patch rot are
// never transient: retrying them only wastes the farm.
var ErrTransient = errors.New("transient failure")

// Builder builds one job. Implementations run their commands with
// RunCommand so that a cancellation kills the whole process group.
type Builder interface {
	// Kind names the builder, e.g. "makechrootpkg", for logs.
	Kind() string
	// Commands returns the commands Build runs for j, in order: what
	// --dry-run prints and what the log header records.
	Commands(j *Job, deps []string) ([]Command, error)
	// Build builds j, writing all output to log. deps are the package
	// files of j's in-plan dependencies, freshly built or recorded, to be
	// installed into the build root. On failure Output holds what is known
	// (exit code, peak RSS).
	Build(ctx context.Context, j *Job, log io.Writer, deps []string) (Output, error)
	// PackageList returns the package files a build of j writes, as
	// makepkg --packagelist names them, whether or not they exist yet. It
	// is read-only; dry runs use it to show dependents' -I arguments.
	PackageList(ctx context.Context, j *Job) ([]string, error)
}

// Publisher publishes the package files of a successful build to a
// repository (package publish implements it). sha256 holds the hex sha256
// of each file, recorded when the build ended: Publish refuses a file
// whose bytes differ. It returns the published names, which the Recorder
// stores.
type Publisher interface {
	Publish(ctx context.Context, repo string, files []string, sha256 map[string]string) ([]string, error)
	// Commands describes what Publish would do, for --dry-run.
	Commands(repo string, files []string) []Command
}

// Unpublished is a Recorder that also remembers builds that succeeded but
// were never published (the publish failed, or apply was killed during
// it). For such a build the scheduler publishes the recorded files, once
// their bytes check against the recorded sha256, instead of building the
// job again.
type Unpublished interface {
	// Unpublished returns the newest such build with this job ID, its
	// files and their sha256; ok is false when there is none.
	Unpublished(ctx context.Context, jobID string) (buildID int64, files []string, sha256 map[string]string, ok bool, err error)
}

// Recorder persists the run in the state store. Every state change is
// recorded before and after it happens, so that a kill -9 at any moment
// leaves a store that the next run understands: a build Started but never
// Finished was interrupted; a build Finished but never Published is not up
// to date and is built again.
type Recorder interface {
	// Started records that an attempt of j began, logging to logPath.
	Started(ctx context.Context, j *Job, attempt int, logPath string) (buildID int64, err error)
	// Finished records the attempt's result (Built, Failed or Aborted).
	Finished(ctx context.Context, buildID int64, r *Result) error
	// Published records that the build's files are in the repository DB.
	Published(ctx context.Context, buildID int64, files []string) error
	// Succeeded reports whether a build with this job ID (node hash) was
	// built and published (or built, for jobs that publish nowhere), and
	// its files.
	Succeeded(ctx context.Context, jobID string) (files []string, ok bool, err error)
	// FailedBefore reports whether the last build with this job ID failed.
	FailedBefore(ctx context.Context, jobID string) (bool, error)
}

// SourceFetcher prepares j.SourceDir (checkout, patches, keys) before a
// build. It is optional: a caller that prepares every source before Run
// leaves it nil. Its errors fail the job ("patch rot" is a per-job failure,
// not a crash); wrap ErrTransient for network failures. It must not modify
// j: what it learns goes into the returned Prepared.
type SourceFetcher interface {
	Fetch(ctx context.Context, j *Job, log io.Writer) (Prepared, error)
}

// Prepared is what preparing a job's sources learned that the plan could
// not know: an official source's arch=() list is read from the .SRCINFO of
// its checkout.
type Prepared struct {
	IgnoreArch bool // the PKGBUILD's arch list lacks the target
}

// Apply returns the job an attempt runs: a copy of j with what the
// sources said. The builder's argv is computed from it, once, and is
// what the log records, dry runs print and the build runs.
func (p Prepared) Apply(j *Job) *Job {
	c := *j
	c.IgnoreArch = c.IgnoreArch || p.IgnoreArch
	return &c
}

// Progress receives the run's events. The scheduler calls it from a single
// goroutine, in event order; implementations that also redraw on a timer
// must lock against themselves.
type Progress interface {
	Begin(jobs []*Job, slots int)
	Started(j *Job, attempt int, at time.Time)
	Finished(j *Job, r *Result)
	End(s *Summary)
}
