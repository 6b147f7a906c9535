package farm

// The worker protocol: how portmake and `portmake build-node` on a build
// node talk, through files in the shared work directory and nothing else.
//
// Layout of the work directory W (slurm.work_dir), shared between this
// host and the nodes and mounted at the same path everywhere:
//
//	W/<pkgbase>-<hash12>/                 one directory per plan node
//	  <attempt>/                          one per submitted job: "<n>-<UTC time>"
//	    request.json   what to build: the job, its dependencies, the builder (portmake writes it)
//	    src/           the PKGBUILD tree, staged by portmake
//	    deps/          in-plan dependency packages that are not already under W
//	    conf/          makepkg.conf and pacman.conf
//	    job.sh         the batch script: `exec "$@"`, nothing else
//	    job.out        the job's own stdout and stderr (errors before the log opens)
//	    build.log      the builder's output (the worker writes it; portmake copies it as it grows)
//	    pkg/<hash>/    the packages built
//	    result.json    the verdict, written last and atomically by the worker
//
// result.json is the authority on how a build ended: the cluster's record
// of a finished job may be gone (Slurm forgets a job MinJobAge seconds
// after it ends, and without accounting there is no sacct), but the file
// stays. The cluster is asked only whether a job is still alive and, when
// it ended without writing a result, how it died (NODE_FAIL, TIMEOUT, ...):
// such an attempt failed for the infrastructure and is retried.
//
// The worker's exit code says the same as the result, for humans and for
// `sbatch --wait`: ExitBuilt, ExitBuildFailed, ExitTransient, ExitInfra,
// ExitUsage.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/portmake/portmake/executor"
)

// Protocol is the version of the request and result files. A worker
// refuses a request of another version: the nodes run another portmake.
const Protocol = 1

// Exit codes of `portmake build-node`.
const (
	ExitBuilt       = 0  // built; the packages are in pkg/<hash>/
	ExitBuildFailed = 1  // the build failed: the PKGBUILD's fault, remembered
	ExitUsage       = 64 // the request is missing, unreadable or of another protocol version
	ExitInfra       = 69 // this node could not run the build (tool missing, sandbox broken, no space)
	ExitTransient   = 75 // the build failed for a reason that may go away (a download)
)

// Outcomes in result.json.
const (
	OutcomeBuilt   = "built"
	OutcomeFailed  = "failed"  // Transient says whether retrying may help
	OutcomeInfra   = "infra"   // the node, not the build, failed
	OutcomeAborted = "aborted" // the worker was told to stop (scancel, time limit, preemption)
)

// File names in an attempt directory.
const (
	requestFile = "request.json"
	resultFile  = "result.json"
	logFile     = "build.log"
	jobOut      = "job.out"
	scriptFile  = "job.sh"
)

// Request is what the worker builds.
type Request struct {
	Protocol int          `json:"protocol"`
	Job      executor.Job `json:"job"`
	Attempt  int          `json:"attempt"`
	// Deps are the package files of the in-plan dependencies, under W.
	Deps    []string    `json:"deps"`
	Builder BuilderSpec `json:"builder"`
}

// BuilderSpec says which executor builder the worker runs, and with what.
// Paths of staged files are in the attempt directory; Chroot, Cache and
// Scratch are node-local.
type BuilderSpec struct {
	Kind        string   `json:"kind"` // "makepkg" or "makechrootpkg"
	MakepkgConf string   `json:"makepkg_conf,omitempty"`
	PacmanConf  string   `json:"pacman_conf,omitempty"`
	MakepkgArgs []string `json:"makepkg_args,omitempty"`
	User        string   `json:"user,omitempty"`    // build user when the worker runs as root
	Chroot      string   `json:"chroot,omitempty"`  // makechrootpkg: the node's chroot directory
	Cache       string   `json:"cache,omitempty"`   // makechrootpkg: the node's package cache
	Scratch     string   `json:"scratch,omitempty"` // makepkg: the node's build and source directories
	// Preserve keeps the working copy or build directory;
	// CleanupOnFailure removes a failed build's too.
	Preserve         bool `json:"preserve,omitempty"`
	CleanupOnFailure bool `json:"cleanup_on_failure,omitempty"`
	// NoCache gives the build an empty package and source cache of its own
	// (apply --no-cache).
	NoCache bool `json:"no_cache,omitempty"`
}

// Result is the worker's verdict.
type Result struct {
	Protocol  int       `json:"protocol"`
	JobID     string    `json:"job_id"` // the node hash it built, checked against the request
	Outcome   string    `json:"outcome"`
	Transient bool      `json:"transient,omitempty"`
	Error     string    `json:"error,omitempty"`
	ExitCode  int       `json:"exit_code"` // of the builder's last command
	MaxRSS    int64     `json:"max_rss"`   // bytes
	Files     []string  `json:"files,omitempty"`
	Node      string    `json:"node"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
}

// WorkerExit is the worker's exit code for r.
func (r *Result) WorkerExit() int {
	switch r.Outcome {
	case OutcomeBuilt:
		return ExitBuilt
	case OutcomeFailed:
		if r.Transient {
			return ExitTransient
		}
		return ExitBuildFailed
	}
	return ExitInfra
}

// Layout names the directories of one work directory.
type Layout struct{ Root string }

// NodeDir is the directory of one plan node's attempts.
func (l Layout) NodeDir(j *executor.Job) string {
	id := j.ID
	if len(id) > 12 {
		id = id[:12]
	}
	return filepath.Join(l.Root, j.Pkgbase+"-"+id)
}

// attemptName names an attempt directory: the attempt number and the
// time, so that a retry, a re-run after a crash and a second apply never
// share one.
func attemptName(n int, t time.Time) string {
	return fmt.Sprintf("%d-%s", n, t.UTC().Format("20060102T150405.000000Z"))
}

// within reports whether path is inside dir (or dir itself), lexically.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

// writeJSON writes v to path atomically: a reader sees the old file, no
// file, or the whole new one, never half of it.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// maxJSON bounds what is read from a request or result file: they are a
// few kilobytes, and a damaged one must not eat the memory.
const maxJSON = 4 << 20

func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJSON+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxJSON {
		return fmt.Errorf("read %s: larger than %d bytes", path, maxJSON)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// ReadRequest reads and checks the request of an attempt directory.
func ReadRequest(dir string) (*Request, error) {
	var r Request
	if err := readJSON(filepath.Join(dir, requestFile), &r); err != nil {
		return nil, err
	}
	if r.Protocol != Protocol {
		return nil, fmt.Errorf("%s: protocol %d, but this portmake speaks %d: install the same portmake on the build nodes as on the host that submits",
			filepath.Join(dir, requestFile), r.Protocol, Protocol)
	}
	if err := r.check(dir); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, requestFile), err)
	}
	return &r, nil
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9@._+-]+$`)

// check refuses a request that would make the worker read or write
// outside its attempt directory (besides the node-local builder paths).
func (r *Request) check(dir string) error {
	j := &r.Job
	if !safeName.MatchString(j.ID) || !safeName.MatchString(j.Pkgbase) || strings.HasPrefix(j.ID, ".") {
		return fmt.Errorf("job %q (%q) cannot name a directory", j.ID, j.Pkgbase)
	}
	if j.SourceDir != filepath.Join(dir, "src") {
		return fmt.Errorf("source %s is not the attempt's src/", j.SourceDir)
	}
	for _, p := range []string{r.Builder.MakepkgConf, r.Builder.PacmanConf} {
		if p != "" && !within(filepath.Join(dir, "conf"), p) {
			return fmt.Errorf("configuration %s is not in the attempt's conf/", p)
		}
	}
	return nil
}

// ReadResult reads an attempt's result; a missing one wraps
// os.ErrNotExist.
func ReadResult(dir string) (*Result, error) {
	var r Result
	if err := readJSON(filepath.Join(dir, resultFile), &r); err != nil {
		return nil, err
	}
	if r.Protocol != Protocol {
		return nil, fmt.Errorf("%s: protocol %d, want %d", filepath.Join(dir, resultFile), r.Protocol, Protocol)
	}
	return &r, nil
}

// errNoResult says that an attempt ended without a verdict.
var errNoResult = errors.New("no result")

// packageName matches the file names a build may report.
var packageName = regexp.MustCompile(`^[A-Za-z0-9@._+-]+\.pkg\.tar(\.[a-z0-9]+)?$`)

// checkFiles refuses result files that are not package files directly in
// the attempt's pkg/<hash>/ directory: a build that a hostile PKGBUILD
// steered could otherwise have portmake publish any file of this host.
func checkFiles(dir string, j *executor.Job, files []string) error {
	out := filepath.Join(dir, "pkg", j.ID)
	if len(files) == 0 {
		return errors.New("the result lists no package")
	}
	for _, f := range files {
		if filepath.Dir(f) != out || !packageName.MatchString(filepath.Base(f)) {
			return fmt.Errorf("result names %q, which is not a package file in %s", f, out)
		}
		fi, err := os.Lstat(f)
		if err != nil {
			return fmt.Errorf("result names %s: %w", f, err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("result names %s, which is not a regular file", f)
		}
	}
	return nil
}
