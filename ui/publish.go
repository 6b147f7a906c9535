package ui

import (
	"fmt"
	"io"
	"strings"

	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/internal/jsonout"
)

// WriteVerify prints verify's results: per repository, what was checked,
// each problem, and what a repair did.
func WriteVerify(w io.Writer, results []engine.VerifyResult) {
	for _, r := range results {
		rep := r.Report
		status := "ok"
		if !rep.OK() {
			status = "DIFFERS"
		}
		fmt.Fprintf(w, "%s: %s (%d packages listed, %d files read) %s\n", rep.Repo, rep.Where, rep.Listed, rep.Hashed, status)
		for _, p := range rep.Problems {
			tag := "  !"
			if p.Warning() {
				tag = "  ~"
			}
			fmt.Fprintf(w, "%s %-13s %s: %s\n", tag, p.Kind, p.Name, p.Detail)
		}
		if r.Repaired != nil {
			if r.Repaired.OK() {
				fmt.Fprintf(w, "  repaired")
			} else {
				fmt.Fprintf(w, "  still differs after the repair")
			}
			if len(r.Lost) > 0 {
				fmt.Fprintf(w, "; taken out of the database (bytes lost): %s; to build again: %s", strings.Join(r.Lost, ", "), strings.Join(r.Rebuild, ", "))
			}
			fmt.Fprintln(w)
		}
	}
}

// verifyJSON is verify's JSON shape, portmake.verify/v1.
type verifyJSON struct {
	Format string           `json:"format"`
	Repos  []verifyRepoJSON `json:"repos"`
	OK     bool             `json:"ok"`
}

type verifyRepoJSON struct {
	*engine.VerifyReport
	OK       bool                 `json:"ok"`
	Repaired *engine.VerifyReport `json:"repaired,omitempty"`
	Lost     []string             `json:"lost"`
	Rebuild  []string             `json:"rebuild"`
}

// WriteVerifyJSON prints verify's results as JSON.
func WriteVerifyJSON(w io.Writer, results []engine.VerifyResult) error {
	out := verifyJSON{Format: "portmake.verify/v1", Repos: []verifyRepoJSON{}, OK: true}
	for _, r := range results {
		ok := r.Report.OK() || (r.Repaired != nil && r.Repaired.OK())
		out.OK = out.OK && ok
		j := verifyRepoJSON{VerifyReport: r.Report, OK: ok, Repaired: r.Repaired, Lost: nonNil(r.Lost), Rebuild: nonNil(r.Rebuild)}
		out.Repos = append(out.Repos, j)
	}
	return jsonout.Write(w, out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WritePromote prints promote's plans: what moves and what is held back,
// with the dependency that holds it.
func WritePromote(w io.Writer, plans []*engine.PromotePlan, dryRun bool) {
	verb := "promoted"
	if dryRun {
		verb = "would promote"
	}
	for _, p := range plans {
		fmt.Fprintf(w, "%s → %s\n", p.From, p.To)
		for _, m := range p.Moves {
			from := "(new)"
			if m.Replaces != "" {
				from = m.Replaces
			}
			fmt.Fprintf(w, "  →  %s  %s → %s  (%s)\n", m.Pkgbase, from, m.Version, strings.Join(m.Files, ", "))
		}
		for _, h := range p.Held {
			fmt.Fprintf(w, "  ✗  %s %s held back:\n", h.Pkgbase, h.Version)
			for _, r := range h.Reasons {
				fmt.Fprintf(w, "       %s\n", r)
			}
		}
		fmt.Fprintf(w, "%s %d, held back %d.\n", verb, len(p.Moves), len(p.Held))
	}
}

// WritePromoteJSON prints promote's plans as JSON, portmake.promote/v1.
func WritePromoteJSON(w io.Writer, plans []*engine.PromotePlan, dryRun bool) error {
	if plans == nil {
		plans = []*engine.PromotePlan{}
	}
	return jsonout.Write(w, struct {
		Format string                `json:"format"`
		DryRun bool                  `json:"dry_run"`
		Plans  []*engine.PromotePlan `json:"plans"`
	}{"portmake.promote/v1", dryRun, plans})
}
