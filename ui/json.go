package ui

import (
	"io"
	"strings"
	"time"

	"github.com/portmake/portmake/engine"

	"github.com/portmake/portmake/internal/jsonout"
)

// The JSON views of the store's records: `status --json`, `history
// --json` and `plans --json`. Times are RFC 3339 in UTC, "" when unset;
// durations are seconds; lists are [], never null.

// BuildDoc is one build attempt.
type BuildDoc struct {
	ID              int64    `json:"id"`
	ApplyID         int64    `json:"apply_id"`
	Pkgbase         string   `json:"pkgbase"`
	Version         string   `json:"version"`
	Hash            string   `json:"hash"`
	Stage           int      `json:"stage"`
	Attempt         int      `json:"attempt"`
	Status          string   `json:"status"`
	Published       bool     `json:"published"`
	StartedAt       string   `json:"started_at"`
	FinishedAt      string   `json:"finished_at"`
	PublishedAt     string   `json:"published_at"`
	DurationSeconds float64  `json:"duration_seconds"`
	PeakRSSBytes    int64    `json:"peak_rss_bytes"`
	ExitCode        int      `json:"exit_code"`
	Error           string   `json:"error"`
	LogPath         string   `json:"log_path"`
	Files           []string `json:"files"`
	// Against names the dependencies this build used the target's
	// binaries for instead of their fresh builds (--build-dependents-of-failed,
	// --start-from, --only); [] when it used them all.
	Against []string `json:"against"`
	// Where a build ran on a cluster: "slurm", its job id and node, and
	// its directory in the shared work directory; "" for a local build.
	Backend string `json:"backend"`
	JobID   string `json:"job_id"`
	Node    string `json:"node"`
	JobDir  string `json:"job_dir"`
}

// ApplyDoc is one apply.
type ApplyDoc struct {
	ID         int64  `json:"id"`
	PlanID     int64  `json:"plan_id"`
	PID        int    `json:"pid"`
	Status     string `json:"status"`
	StartedAt  string `json:"started_at"`
	FinishedAt string `json:"finished_at"`
}

// StatusDoc is the current or last apply ("apply": null when none).
type StatusDoc struct {
	Apply  *ApplyDoc  `json:"apply"`
	Builds []BuildDoc `json:"builds"`
}

// PlanDoc is one stored plan.
type PlanDoc struct {
	ID           int64    `json:"id"`
	CreatedAt    string   `json:"created_at"`
	Arch         string   `json:"arch"`
	Summary      string   `json:"summary"`
	Flags        []string `json:"flags"`
	Nodes        int      `json:"nodes"`
	Edges        int      `json:"edges"`
	PortfileHash string   `json:"portfile_hash"`
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func buildDocs(builds []engine.Build) []BuildDoc {
	out := make([]BuildDoc, 0, len(builds))
	for _, b := range builds {
		files, against := b.Files, b.Against
		if files == nil {
			files = []string{}
		}
		if against == nil {
			against = []string{}
		}
		out = append(out, BuildDoc{ID: b.ID, ApplyID: b.ApplyID, Pkgbase: b.Pkgbase, Version: b.Version, Hash: b.Hash,
			Stage: b.Stage, Attempt: b.Attempt, Status: b.Status, Published: b.Published(), StartedAt: stamp(b.StartedAt),
			FinishedAt: stamp(b.FinishedAt), PublishedAt: stamp(b.PublishedAt), DurationSeconds: b.Duration.Seconds(),
			PeakRSSBytes: b.PeakRSS, ExitCode: b.ExitCode, Error: b.Error, LogPath: b.LogPath, Files: files, Against: against,
			Backend: b.Backend, JobID: b.JobID, Node: b.Node, JobDir: b.JobDir})
	}
	return out
}

// WriteBuildsJSON writes builds as a JSON array of BuildDoc.
func WriteBuildsJSON(w io.Writer, builds []engine.Build) error {
	return jsonout.Write(w, buildDocs(builds))
}

// WriteStatusJSON writes the current or last apply and its builds.
func WriteStatusJSON(w io.Writer, s *engine.Status) error {
	doc := StatusDoc{Builds: buildDocs(s.Builds)}
	if a := s.Apply; a != nil {
		doc.Apply = &ApplyDoc{ID: a.ID, PlanID: a.PlanID, PID: a.PID, Status: a.Status, StartedAt: stamp(a.StartedAt), FinishedAt: stamp(a.FinishedAt)}
	}
	return jsonout.Write(w, doc)
}

// WritePlansJSON writes stored plans as a JSON array of PlanDoc.
func WritePlansJSON(w io.Writer, plans []engine.PlanSummary) error {
	out := make([]PlanDoc, 0, len(plans))
	for _, p := range plans {
		out = append(out, PlanDoc{ID: p.ID, CreatedAt: stamp(p.CreatedAt), Arch: p.Arch, Summary: p.Summary,
			Flags: PlanFlags(p), Nodes: p.Nodes, Edges: p.Edges, PortfileHash: p.PortfileHash})
	}
	return jsonout.Write(w, out)
}

// PlanFlags are the plan flags a stored plan was made with.
func PlanFlags(p engine.PlanSummary) []string {
	f := strings.Fields(p.CommandLine)
	if f == nil {
		f = []string{}
	}
	return f
}
