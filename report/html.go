package report

import (
	"bufio"
	"cmp"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/portmake/portmake/planner"
	"github.com/portmake/portmake/store"
)

// Render writes the whole page: one HTML document with its CSS, its few
// lines of filter script and its SVG charts inline, so that it opens from
// a file with no network access.
func Render(w io.Writer, d *Data) error {
	bw := bufio.NewWriter(w)
	if err := page.Execute(bw, view{d}); err != nil {
		return err
	}
	return bw.Flush()
}

// Write renders the page to DIR/index.html, atomically: a reader (a web
// server, a browser reloading) never sees half a page.
func Write(dir string, d *Data) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".index-*.html")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := Render(f, d); err != nil {
		f.Close()
		return fmt.Errorf("render report: %w", err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, "index.html"))
}

// view adds to Data what the template computes.
type view struct{ *Data }

// PlanRow is one node of the plan table.
type PlanRow struct {
	N      int
	Node   *planner.Node
	Reason string
	Deps   int
}

func (v view) PlanRows() []PlanRow {
	if v.Plan == nil {
		return nil
	}
	rows := make([]PlanRow, len(v.Plan.Nodes))
	for i, n := range v.Plan.Nodes {
		rows[i] = PlanRow{N: i + 1, Node: n, Reason: n.Reason.Kind.String(), Deps: len(n.Deps)}
	}
	return rows
}

// Reasons and Repos are the filter choices, with their counts.
func (v view) Reasons() []Choice {
	return v.choices(func(n *planner.Node) string { return n.Reason.Kind.String() })
}
func (v view) Repos() []Choice { return v.choices(func(n *planner.Node) string { return n.Repo }) }

// Choice is one option of a filter.
type Choice struct {
	Value string
	Count int
}

func (v view) choices(key func(*planner.Node) string) []Choice {
	if v.Plan == nil {
		return nil
	}
	count := map[string]int{}
	for _, n := range v.Plan.Nodes {
		count[key(n)]++
	}
	var out []Choice
	for k, c := range count {
		out = append(out, Choice{k, c})
	}
	slices.SortFunc(out, func(a, b Choice) int { return cmp.Compare(a.Value, b.Value) })
	return out
}

func (v view) PlanSummary() string {
	if v.Plan == nil {
		return ""
	}
	s := v.Plan.Summary()
	return fmt.Sprintf("%d to build (%d %s, %d in stage 1), %d blocked, %d any-sync, %d target-newer, %d %s",
		s.Build, s.Cycles, plural(s.Cycles, "cycle", "cycles"), s.Stage1, s.Blocked, s.AnySync, s.TargetNewer, s.Warnings, plural(s.Warnings, "warning", "warnings"))
}

func (v view) Blocked() []string {
	if v.Plan == nil {
		return nil
	}
	var out []string
	for _, b := range v.Plan.Blocked {
		out = append(out, planner.BlockedMessage(b))
	}
	return out
}

func (v view) GanttSVG() template.HTML { return ganttSVG(v.Timeline) }

// Spark pairs a series with its chart.
type Spark struct {
	Series
	SVG    template.HTML
	Last   time.Duration
	Builds int
}

func (v view) Sparks() []Spark {
	var out []Spark
	for _, s := range v.Series {
		out = append(out, Spark{Series: s, SVG: sparkSVG(s), Last: s.Points[len(s.Points)-1].Duration, Builds: len(s.Points)})
	}
	return out
}

// StatusLine counts the last apply's builds per status.
func (v view) StatusLine() string {
	if v.Timeline == nil {
		return ""
	}
	var parts []string
	for _, s := range []string{store.StatusSucceeded, store.StatusFailed, store.StatusRunning, store.StatusAborted, store.StatusSkipped} {
		if n := v.Timeline.Statuses[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	if len(parts) == 0 {
		return "no builds"
	}
	return strings.Join(parts, ", ")
}

func (v view) CriticalPath() string { return strings.Join(v.Timeline.Critical, " → ") }

var funcs = template.FuncMap{
	"dur": func(d time.Duration) string {
		if d <= 0 {
			return ""
		}
		return shortDur(d)
	},
	"since": func(from, to time.Time) string {
		if from.IsZero() || to.IsZero() {
			return ""
		}
		return shortDur(to.Sub(from))
	},
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"rss":    bytesText,
	"status": statusClass,
	"none": func(s string) string {
		if s == "" {
			return "(none)"
		}
		return s
	},
	"inc": func(i int) int { return i + 1 },
	"stage": func(n *planner.Node) string {
		switch {
		case n.Bootstrap:
			return fmt.Sprintf("bootstrap %d/2", n.Stage)
		case n.Cycle > 0 && n.Stage > 0:
			return fmt.Sprintf("cycle %d, stage %d", n.Cycle, n.Stage)
		case n.Cycle > 0:
			return fmt.Sprintf("cycle %d", n.Cycle)
		}
		return ""
	},
	"short": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return s[:n] + "…"
	},
}

var page = template.Must(template.New("page").Funcs(funcs).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{if .Live}}<meta http-equiv="refresh" content="30">{{end}}
<title>portmake: {{.Title}}</title>
<style>
:root { --ok:#2e7d32; --fail:#c62828; --run:#1565c0; --abort:#8d6e63; --skip:#9e9e9e; --line:#ddd; --fg:#1d1d1f; --muted:#5f6368; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); margin: 0; background: #fafafa; }
header { background: #263238; color: #fff; padding: 14px 24px; }
header h1 { margin: 0; font-size: 20px; font-weight: 600; }
header .sub { color: #b0bec5; font-size: 13px; }
nav { background: #37474f; padding: 6px 24px; }
nav a { color: #eceff1; margin-right: 18px; text-decoration: none; font-size: 13px; }
main { max-width: 1360px; margin: 0 auto; padding: 8px 24px 40px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 18px; margin: 16px 0; }
h2 { font-size: 17px; margin: 4px 0 10px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { flex: 1 1 200px; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
.card .n { font-size: 24px; font-weight: 600; }
.card .l { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f1f3f4; position: sticky; top: 0; font-weight: 600; }
tbody tr:nth-child(even) { background: #fbfbfb; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; color: #fff; }
.badge.s-succeeded { background: var(--ok); } .badge.s-failed { background: var(--fail); } .badge.s-running { background: var(--run); }
.badge.s-aborted { background: var(--abort); } .badge.s-skipped, .badge.s-other { background: var(--skip); }
.filters { display: flex; gap: 14px; align-items: center; margin-bottom: 8px; flex-wrap: wrap; }
.filters label { font-size: 13px; color: var(--muted); }
.filters select, .filters input { font: inherit; padding: 2px 6px; }
.scroll { max-height: 560px; overflow: auto; border: 1px solid #eee; }
svg text { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: #fff; }
svg .tick, svg .lane { fill: var(--muted); }
svg .grid { stroke: #eee; } svg .axis { stroke: #bbb; }
.gantt .bar rect { stroke: none; }
.gantt .s-succeeded rect { fill: var(--ok); } .gantt .s-failed rect { fill: var(--fail); } .gantt .s-running rect { fill: var(--run); }
.gantt .s-aborted rect { fill: var(--abort); } .gantt .s-other rect { fill: var(--skip); }
.gantt .critical rect { stroke: #ff8f00; stroke-width: 3px; }
.spark .line { fill: none; stroke: var(--run); stroke-width: 1.5px; }
.spark circle.s-succeeded { fill: var(--run); } .spark circle.s-failed { fill: var(--fail); } .spark circle { fill: var(--skip); }
.sparks { display: grid; grid-template-columns: repeat(auto-fill, minmax(310px, 1fr)); gap: 12px; }
.sparks figure { margin: 0; border: 1px solid #eee; border-radius: 4px; padding: 6px; }
.sparks figcaption { font-size: 13px; font-weight: 600; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -2px; margin-right: 4px; }
pre.tail { background: #1e1e1e; color: #ddd; padding: 8px 10px; border-radius: 4px; overflow-x: auto; font-size: 12px; margin: 6px 0 0; }
details { margin: 6px 0; } summary { cursor: pointer; }
.failure { border-left: 4px solid var(--fail); padding: 4px 10px; margin: 10px 0; }
</style>
</head>
<body>
<header>
<h1>portmake: {{.Title}}</h1>
<div class="sub">Report generated {{ts .Generated}}{{if .PlanID}} · plan {{.PlanID}} of {{ts .PlanTime}}{{end}}</div>
</header>
<nav><a href="#summary">Summary</a>{{if .Live}}<a href="#live">Live</a>{{end}}<a href="#plan">Plan</a><a href="#timeline">Timeline</a><a href="#failures">Failures</a><a href="#history">History</a><a href="#times">Build times</a></nav>
<main>
<section id="summary">
<h2>Summary</h2>
<div class="cards">
<div class="card"><div class="l">Planned builds</div><div class="n" id="n-plan">{{if .Plan}}{{len .Plan.Nodes}}{{else}}–{{end}}</div><div class="muted">{{if .Plan}}{{.PlanSummary}}{{else}}no plan yet: run portmake plan{{end}}</div></div>
<div class="card"><div class="l">Last apply</div><div class="n">{{with .Timeline}}<span class="badge {{status .Apply.Status}}">{{.Apply.Status}}</span>{{else}}–{{end}}</div><div class="muted">{{with .Timeline}}apply {{.Apply.ID}}, started {{ts .Start}}, {{since .Start .End}}{{else}}no apply yet{{end}}</div><div class="muted">{{.StatusLine}}</div></div>
<div class="card"><div class="l">Failing now</div><div class="n" id="n-failing">{{len .Failures}}</div><div class="muted">packages whose latest build failed</div></div>
<div class="card"><div class="l">Builds recorded</div><div class="n">{{len .History}}</div><div class="muted">in the history below (newest {{len .History}})</div></div>
</div>
</section>
{{with .Live}}
<section id="live">
<h2>Live: round {{.Round}}, {{.Phase}}</h2>
<p class="muted">since {{ts .Since}}{{if not .NextRound.IsZero}}; next round at {{ts .NextRound}}{{end}}; {{.Queue}} queued.</p>
{{if .Running}}<table><thead><tr><th>build</th><th>version</th><th>started</th></tr></thead><tbody>
{{range .Running}}<tr><td>{{.ID}}</td><td>{{.Version}}</td><td>{{ts .Started}}</td></tr>{{end}}
</tbody></table>{{end}}
{{with .LastRound}}<p>Last round {{.Number}}: {{.Built}} built, {{.Failed}} failed, {{.Skipped}} skipped, {{.Remembered}} held by failure memory, {{.Promoted}} promoted, {{since .Started .Finished}}{{if .Err}}; error: {{.Err}}{{end}}.</p>{{end}}
</section>
{{end}}
<section id="plan">
<h2>Latest plan{{if .PlanID}} ({{.PlanID}}){{end}}</h2>
{{if .Plan}}
<div class="filters">
<label>reason <select id="f-reason"><option value="">all</option>{{range .Reasons}}<option value="{{.Value}}">{{.Value}} ({{.Count}})</option>{{end}}</select></label>
<label>repo <select id="f-repo"><option value="">all</option>{{range .Repos}}<option value="{{.Value}}">{{.Value}} ({{.Count}})</option>{{end}}</select></label>
<label>name <input id="f-name" type="search" placeholder="pkgbase"></label>
<span class="muted"><span id="f-count">{{len .Plan.Nodes}}</span> of {{len .Plan.Nodes}} builds shown</span>
</div>
<div class="scroll"><table id="plan-table">
<thead><tr><th class="num">#</th><th>build</th><th>current → new</th><th>repo</th><th>reason</th><th>detail</th><th>stage</th><th class="num">waits for</th></tr></thead>
<tbody>
{{range .PlanRows}}<tr data-reason="{{.Reason}}" data-repo="{{.Node.Repo}}" data-id="{{.Node.ID}}"><td class="num">{{.N}}</td><td>{{.Node.ID}}</td><td>{{none .Node.Current}} → {{.Node.Version}}</td><td>{{.Node.Repo}}</td><td>{{.Reason}}</td><td>{{.Node.Reason.Detail}}</td><td>{{stage .Node}}</td><td class="num">{{.Deps}}</td></tr>
{{end}}</tbody></table></div>
{{with .Blocked}}<details><summary>Blocked by the blacklist ({{len .}})</summary><ul>{{range .}}<li>{{.}}</li>{{end}}</ul></details>{{end}}
{{with .Plan.Warnings}}<details><summary>Warnings ({{len .}})</summary><ul>{{range .}}<li>{{.Pkgbase}}: {{.Message}}</li>{{end}}</ul></details>{{end}}
{{else}}<p class="muted">No plan is stored yet.</p>{{end}}
</section>
<section id="timeline">
<h2>Timeline of the last apply</h2>
{{with .Timeline}}
<p>Apply {{.Apply.ID}}{{if .Apply.PlanID}} of plan {{.Apply.PlanID}}{{end}}: {{len .Bars}} builds in {{since .Start .End}} on up to {{.Lanes}} lanes in parallel.
{{if .NoPlan}}<span class="muted">Its plan is no longer stored: no critical path.</span>{{else if .Critical}}Critical path ({{len .Critical}} builds, {{dur .CritBuild}} of building): <span id="critical">{{$.CriticalPath}}</span>.{{end}}</p>
<div class="legend"><span><i style="background:var(--ok)"></i>succeeded</span><span><i style="background:var(--fail)"></i>failed</span><span><i style="background:var(--run)"></i>running</span><span><i style="background:var(--abort)"></i>aborted</span><span><i style="border:3px solid #ff8f00"></i>critical path</span></div>
<div class="scroll" style="max-height:none">{{$.GanttSVG}}</div>
{{with .Skipped}}<p class="muted">Not built: {{range $i, $b := .}}{{if $i}}, {{end}}{{$b.Pkgbase}}{{if $b.Error}} ({{$b.Error}}){{end}}{{end}}.</p>{{end}}
{{else}}<p class="muted">No apply yet.</p>{{end}}
</section>
<section id="failures">
<h2>Failures ({{len .Failures}})</h2>
{{range .Failures}}<div class="failure" data-pkgbase="{{.Build.Pkgbase}}">
<b>{{.Build.Pkgbase}}</b> {{.Build.Version}}{{if .Build.Stage}} stage {{.Build.Stage}}{{end}} · failed {{ts .Build.StartedAt}} after {{dur .Build.Duration}} · exit {{.Build.ExitCode}}{{if .Build.Error}} · {{.Build.Error}}{{end}}
{{if .Tail}}<pre class="tail">{{range .Tail}}{{.}}
{{end}}</pre>{{else}}<div class="muted">{{.Note}}</div>{{end}}
</div>
{{else}}<p class="muted">Nothing is failing.</p>{{end}}
</section>
<section id="history">
<h2>Build history (newest {{len .History}})</h2>
<div class="scroll"><table id="history-table">
<thead><tr><th class="num">id</th><th>started</th><th>pkgbase</th><th>version</th><th class="num">stage</th><th class="num">try</th><th>result</th><th class="num">duration</th><th class="num">peak RSS</th><th class="num">exit</th><th>error</th></tr></thead>
<tbody>
{{range .History}}<tr><td class="num">{{.ID}}</td><td>{{ts .StartedAt}}</td><td>{{.Pkgbase}}</td><td>{{.Version}}</td><td class="num">{{if .Stage}}{{.Stage}}{{end}}</td><td class="num">{{.Attempt}}</td><td><span class="badge {{status .Status}}">{{.Status}}</span></td><td class="num">{{dur .Duration}}</td><td class="num">{{rss .PeakRSS}}</td><td class="num">{{if .ExitCode}}{{.ExitCode}}{{end}}</td><td>{{short .Error 80}}</td></tr>
{{else}}<tr><td colspan="11" class="muted">No builds yet.</td></tr>{{end}}
</tbody></table></div>
</section>
<section id="times">
<h2>Build time per package</h2>
{{with .Sparks}}<p class="muted">The {{len .}} slowest packages of the last 90 days; a dot per build (red: failed), the line through successful builds.</p>
<div class="sparks">{{range .}}<figure data-pkgbase="{{.Pkgbase}}"><figcaption>{{.Pkgbase}} <span class="muted">· {{.Builds}} builds · last {{dur .Last}}</span></figcaption>{{.SVG}}</figure>{{end}}</div>
{{else}}<p class="muted">No finished builds yet.</p>{{end}}
</section>
</main>
<script>
(function () {
  var reason = document.getElementById("f-reason"), repo = document.getElementById("f-repo"),
      name = document.getElementById("f-name"), count = document.getElementById("f-count");
  if (!reason) return;
  var rows = document.querySelectorAll("#plan-table tbody tr");
  function apply() {
    var n = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], ok = (!reason.value || r.dataset.reason === reason.value) &&
        (!repo.value || r.dataset.repo === repo.value) && (!name.value || r.dataset.id.indexOf(name.value) >= 0);
      r.hidden = !ok;
      if (ok) n++;
    }
    count.textContent = n;
  }
  // #reason=outdated&repo=core selects a filter, so a filtered view can be linked.
  location.hash.slice(1).split("&").forEach(function (kv) {
    var p = kv.split("="), v = decodeURIComponent(p[1] || "");
    if (p[0] === "reason") reason.value = v;
    if (p[0] === "repo") repo.value = v;
    if (p[0] === "name") name.value = v;
  });
  reason.onchange = repo.onchange = apply;
  name.oninput = apply;
  apply();
})();
</script>
</body>
</html>
`

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
