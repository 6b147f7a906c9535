package analyze

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/portmake/portmake/internal/jsonout"
	"github.com/portmake/portmake/planner"
)

// Sections are the names of the report's sections, in display order, as
// --section takes them.
var Sections = []string{"missing", "outdated", "any-missing", "any-outdated", "wrong-repo", "duplicates",
	"target-newer", "target-only", "orphaned", "broken", "unsatisfied", "blacklist"}

// HumanOptions select what RenderHuman shows.
type HumanOptions struct {
	Sections []string // empty: all
	Limit    int      // items shown per list; 0 or less: all
	Summary  bool     // counts only
}

// Summary counts a report's sections.
type Summary struct {
	Missing         int `json:"missing"`
	MissingProvided int `json:"missing_provided"`
	Outdated        int `json:"outdated"`
	AnyMissing      int `json:"any_missing"`
	AnyOutdated     int `json:"any_outdated"`
	WrongRepo       int `json:"wrong_repo"`
	Duplicates      int `json:"duplicates"`
	TargetNewer     int `json:"target_newer"`
	TargetOnly      int `json:"target_only"`
	Orphaned        int `json:"orphaned"`
	Broken          int `json:"broken"`
	Unsatisfied     int `json:"unsatisfied"`
	SonameDrift     int `json:"soname_drift"`
	Blacklisted     int `json:"blacklisted"`
	Blocked         int `json:"blocked"`
	UnusedBlacklist int `json:"blacklist_unused"`
}

// Summary returns the counts.
func (r *Report) Summary() Summary {
	s := Summary{Missing: len(r.Missing), Outdated: len(r.Outdated), AnyMissing: len(r.AnyMissing), AnyOutdated: len(r.AnyOutdated),
		WrongRepo: len(r.WrongRepo), Duplicates: len(r.Duplicates), TargetNewer: len(r.TargetNewer), TargetOnly: len(r.TargetOnly),
		Broken: len(r.Broken), Unsatisfied: len(r.Unsatisfied), Blacklisted: len(r.Blacklist.Blacklisted),
		Blocked: len(r.Blacklist.Blocked), UnusedBlacklist: len(r.Blacklist.Unused)}
	for _, m := range r.Missing {
		if len(m.ProvidedBy) > 0 {
			s.MissingProvided++
		}
	}
	for _, t := range r.TargetOnly {
		if t.Orphaned {
			s.Orphaned++
		}
	}
	for _, d := range r.Unsatisfied {
		if d.Soname {
			s.SonameDrift++
		}
	}
	return s
}

// RenderHuman writes the report for people: the repositories, then one
// section per category with its count and, unless o.Summary, its items.
func RenderHuman(w io.Writer, r *Report, o HumanOptions) error {
	for _, s := range o.Sections {
		if !slices.Contains(Sections, s) {
			return fmt.Errorf("unknown section %q (want one of %s)", s, strings.Join(Sections, ", "))
		}
	}
	bw := bufio.NewWriter(w)
	h := &human{w: bw, o: o}
	fmt.Fprintf(bw, "Analysis of the %s port (upstream %s)\n\n", r.Arch, r.UpstreamArch)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  repo\tupstream\ttarget\n")
	for _, s := range r.Repos {
		up := fmt.Sprint(s.Upstream)
		if s.PortOnly {
			up = "port-only"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\n", s.Name, up, s.Target)
	}
	tw.Flush()
	sum := r.Summary()

	if h.want("missing") {
		h.head("Missing on the target", sum.Missing, fmt.Sprintf("%d truly missing, %d provided by another package", sum.Missing-sum.MissingProvided, sum.MissingProvided))
		var truly, provided []string
		for _, m := range r.Missing {
			if len(m.ProvidedBy) == 0 {
				line := fmt.Sprintf("%s\t%s\t%s", m.Pkgbase, m.Version, m.Repo)
				if m.Needed != "" {
					line += "\tneeded: " + m.Needed
				}
				truly = append(truly, line)
				continue
			}
			var by []string
			for _, p := range m.ProvidedBy {
				by = append(by, fmt.Sprintf("%s by %s %s (%s)", p.Name, p.By, p.Version, p.Provide))
			}
			provided = append(provided, fmt.Sprintf("%s\t%s\t%s\t%s", m.Pkgbase, m.Version, m.Repo, strings.Join(by, ", ")))
		}
		h.sub("truly missing", truly)
		h.sub("provided by another package", provided)
	}
	h.versions("outdated", "Outdated", r.Outdated)
	h.versions("any-missing", "Missing ARCH=any (synced, not built)", r.AnyMissing)
	h.versions("any-outdated", "Outdated ARCH=any (synced, not built)", r.AnyOutdated)
	if h.want("wrong-repo") {
		h.head("Wrong repository", len(r.WrongRepo), "")
		var lines []string
		for _, x := range r.WrongRepo {
			line := fmt.Sprintf("%s\tupstream %s\ttarget %s", x.Pkgbase, x.Upstream, strings.Join(x.Target, ", "))
			if x.PortOnly {
				line += "\t(a port-only repository: an override?)"
			}
			lines = append(lines, line)
		}
		h.list(lines)
	}
	if h.want("duplicates") {
		h.head("Duplicated across repositories", len(r.Duplicates), "")
		var lines []string
		for _, d := range r.Duplicates {
			var in []string
			for _, c := range d.In {
				in = append(in, c.Repo+" "+c.Version)
			}
			lines = append(lines, fmt.Sprintf("%s\t%s", d.Name, strings.Join(in, ", ")))
		}
		h.list(lines)
	}
	if h.want("target-newer") {
		h.head("Target newer than upstream", len(r.TargetNewer), "")
		var lines []string
		for _, v := range r.TargetNewer {
			lines = append(lines, fmt.Sprintf("%s\t%s > %s\t%s", v.Pkgbase, v.Current, v.Version, v.Repo))
		}
		h.list(lines)
	}
	if h.want("target-only") {
		h.head("Target-only (upstream dropped or never had them)", len(r.TargetOnly), fmt.Sprintf("%d orphaned", sum.Orphaned))
		var lines []string
		for _, t := range r.TargetOnly {
			lines = append(lines, fmt.Sprintf("%s\t%s\t%s\t%s", t.Pkgbase, t.Version, t.Repo, neededText(t)))
		}
		h.list(lines)
	}
	if h.want("orphaned") {
		h.head("Orphaned (target-only, and nothing depends on them)", sum.Orphaned, "")
		var lines []string
		for _, t := range r.TargetOnly {
			if t.Orphaned {
				lines = append(lines, fmt.Sprintf("%s\t%s\t%s\t%s", t.Pkgbase, t.Version, t.Repo, strings.Join(t.Packages, " ")))
			}
		}
		h.list(lines)
	}
	if h.want("broken") {
		h.head("Broken dependencies (nothing in the target provides them)", len(r.Broken), "")
		h.list(depLines(r.Broken))
	}
	if h.want("unsatisfied") {
		h.head("Unsatisfied dependencies (a provider exists, at another version)", len(r.Unsatisfied), fmt.Sprintf("%d soname drift", sum.SonameDrift))
		h.list(depLines(r.Unsatisfied))
	}
	if h.want("blacklist") {
		bl := r.Blacklist
		if bl.Off {
			fmt.Fprintf(bw, "\nBlacklist: ignored (--no-blacklist)\n")
		} else {
			h.head("Blacklist", len(bl.Entries), fmt.Sprintf("%d pkgbases blacklisted, %d blocked, %d unused %s",
				sum.Blacklisted, sum.Blocked, sum.UnusedBlacklist, plural(sum.UnusedBlacklist, "entry", "entries")))
			var lines []string
			for _, b := range bl.Blacklisted {
				lines = append(lines, fmt.Sprintf("%s\t%s\t'%s' %s (%s)", b.Pkgbase, orNone(b.Current)+" → "+b.Version, b.Entry.Pattern, b.Entry.Reason, b.Entry.Origin))
			}
			h.sub("blacklisted", lines)
			lines = nil
			for _, b := range bl.Blocked {
				lines = append(lines, planner.BlockedMessage(b))
			}
			h.sub("blocked", lines)
			lines = nil
			for _, e := range bl.Unused {
				lines = append(lines, fmt.Sprintf("'%s' %s (%s): matches nothing", e.Pattern, e.Reason, e.Origin))
			}
			h.sub("unused", lines)
		}
	}
	if !o.Summary && len(o.Sections) == 0 {
		fmt.Fprintf(bw, "\nSummary: %d missing (%d provided by another), %d outdated, %d any-missing, %d any-outdated, %d wrong-repo, %d duplicated, %d target-newer, %d target-only (%d orphaned), %d broken, %d unsatisfied (%d soname drift), %d blacklisted, %d blocked.\n",
			sum.Missing, sum.MissingProvided, sum.Outdated, sum.AnyMissing, sum.AnyOutdated, sum.WrongRepo, sum.Duplicates,
			sum.TargetNewer, sum.TargetOnly, sum.Orphaned, sum.Broken, sum.Unsatisfied, sum.SonameDrift, sum.Blacklisted, sum.Blocked)
	}
	return bw.Flush()
}

// RenderFiles writes the file names of the target-only packages, one per
// line, sorted: what to remove from the target repository (issue 17's
// --target-only-files). orphanedOnly keeps the orphaned ones only.
func RenderFiles(w io.Writer, r *Report, orphanedOnly bool) error {
	var files []string
	for _, t := range r.TargetOnly {
		if !orphanedOnly || t.Orphaned {
			files = append(files, t.Files...)
		}
	}
	slices.Sort(files)
	bw := bufio.NewWriter(w)
	for _, f := range files {
		fmt.Fprintln(bw, f)
	}
	return bw.Flush()
}

type human struct {
	w *bufio.Writer
	o HumanOptions
}

func (h *human) want(section string) bool {
	return len(h.o.Sections) == 0 || slices.Contains(h.o.Sections, section)
}

func (h *human) head(title string, n int, detail string) {
	if detail != "" && n > 0 {
		fmt.Fprintf(h.w, "\n%s: %d (%s)\n", title, n, detail)
		return
	}
	fmt.Fprintf(h.w, "\n%s: %d\n", title, n)
}

// list writes tab-separated lines as an aligned, indented list, cut at the
// limit.
func (h *human) list(lines []string) { h.indented("  ", lines) }

func (h *human) sub(title string, lines []string) {
	if len(lines) == 0 || h.o.Summary {
		return
	}
	fmt.Fprintf(h.w, "  %s (%d):\n", title, len(lines))
	h.indented("    ", lines)
}

func (h *human) indented(indent string, lines []string) {
	if h.o.Summary {
		return
	}
	tw := tabwriter.NewWriter(h.w, 0, 0, 2, ' ', 0)
	for i, l := range lines {
		if h.o.Limit > 0 && i == h.o.Limit {
			fmt.Fprintf(tw, "%s... and %d more (--limit 0 or --json shows all)\n", indent, len(lines)-i)
			break
		}
		fmt.Fprintf(tw, "%s%s\n", indent, l)
	}
	tw.Flush()
}

func (h *human) versions(section, title string, list []Base) {
	if !h.want(section) {
		return
	}
	h.head(title, len(list), "")
	var lines []string
	for _, v := range list {
		lines = append(lines, fmt.Sprintf("%s\t%s → %s\t%s", v.Pkgbase, orNone(v.Current), v.Version, v.Repo))
	}
	h.list(lines)
}

func depLines(list []DepProblem) []string {
	var lines []string
	for _, d := range list {
		line := fmt.Sprintf("%s %s\t%s\t%s %s", d.Package, d.Version, d.Repo, d.Kind, d.Dependency)
		if len(d.Candidates) > 0 {
			var have []string
			for _, c := range d.Candidates {
				s := c.Name + " " + c.Version
				if c.Provide != "" {
					s += " provides " + c.Provide
				}
				have = append(have, s)
			}
			line += "\thave: " + strings.Join(have, ", ")
		}
		if d.Soname {
			line += " [soname]"
		}
		if d.Upstream != "" {
			line += fmt.Sprintf(" (upstream has %s %s)", d.Package, d.Upstream)
		}
		lines = append(lines, line)
	}
	return lines
}

func neededText(t TargetOnly) string {
	if t.Orphaned {
		return "orphaned"
	}
	var parts []string
	if len(t.StandsIn) > 0 {
		parts = append(parts, "provides upstream's "+strings.Join(t.StandsIn, ", "))
	}
	const most = 3
	switch {
	case len(t.NeededBy) > most:
		parts = append(parts, fmt.Sprintf("needed by %s and %d more", strings.Join(t.NeededBy[:most], ", "), len(t.NeededBy)-most))
	case len(t.NeededBy) > 0:
		parts = append(parts, "needed by "+strings.Join(t.NeededBy, ", "))
	}
	return strings.Join(parts, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// SchemaVersion names the JSON format of RenderJSON. Fields are only ever
// added within a version.
const SchemaVersion = "portmake.analyze/v1"

// RenderJSON writes the whole report as one JSON object (format
// portmake.analyze/v1); every list is present, [] when empty:
//
//	{"schema", "arch", "upstream_arch",
//	 "repos": [{"name","upstream","target","port_only"}],
//	 "summary": {"missing","missing_provided","outdated","any_missing","any_outdated","wrong_repo",
//	             "duplicates","target_newer","target_only","orphaned","broken","unsatisfied",
//	             "soname_drift","blacklisted","blocked","blacklist_unused"},
//	 "missing": [{"pkgbase","version","current","repo","packages","provided_by":[{"name","by","version","provide"}],"needed"}],
//	 "outdated", "any_missing", "any_outdated", "target_newer": [{"pkgbase","version","current","repo","packages"}],
//	 "wrong_repo": [{"pkgbase","upstream","target":[repo],"port_only"}],
//	 "duplicates": [{"name","in":[{"repo","version"}]}],
//	 "target_only": [{"pkgbase","version","repo","packages","files","orphaned","needed_by","stands_in"}],
//	 "broken", "unsatisfied": [{"package","pkgbase","version","repo","kind","dependency",
//	                            "candidates":[{"name","version","provide"}],"soname","upstream"}],
//	 "blacklist": {"off", "entries":[{"pattern","reason","origin"}],
//	               "blacklisted":[{"pkgbase","version","current","repo","pattern","reason","origin"}],
//	               "blocked":[{"pkgbase","root","chain","relation","message"}], "unused":[entries]}}
func RenderJSON(w io.Writer, r *Report) error {
	return jsonout.Write(w, toJSON(r))
}

type jsonReport struct {
	Schema       string        `json:"schema"`
	Arch         string        `json:"arch"`
	UpstreamArch string        `json:"upstream_arch"`
	Repos        []jsonRepo    `json:"repos"`
	Summary      Summary       `json:"summary"`
	Missing      []jsonMissing `json:"missing"`
	Outdated     []jsonVersion `json:"outdated"`
	AnyMissing   []jsonVersion `json:"any_missing"`
	AnyOutdated  []jsonVersion `json:"any_outdated"`
	WrongRepo    []jsonWrong   `json:"wrong_repo"`
	Duplicates   []jsonDup     `json:"duplicates"`
	TargetNewer  []jsonVersion `json:"target_newer"`
	TargetOnly   []jsonOnly    `json:"target_only"`
	Broken       []jsonDep     `json:"broken"`
	Unsatisfied  []jsonDep     `json:"unsatisfied"`
	Blacklist    jsonBlacklist `json:"blacklist"`
}

type jsonRepo struct {
	Name     string `json:"name"`
	Upstream int    `json:"upstream"`
	Target   int    `json:"target"`
	PortOnly bool   `json:"port_only"`
}

type jsonVersion struct {
	Pkgbase  string   `json:"pkgbase"`
	Version  string   `json:"version"`
	Current  string   `json:"current"`
	Repo     string   `json:"repo"`
	Packages []string `json:"packages"`
}

type jsonMissing struct {
	jsonVersion
	ProvidedBy []jsonProvider `json:"provided_by"`
	Needed     string         `json:"needed"`
}

type jsonProvider struct {
	Name    string `json:"name"`
	By      string `json:"by"`
	Version string `json:"version"`
	Provide string `json:"provide"`
}

type jsonWrong struct {
	Pkgbase  string   `json:"pkgbase"`
	Upstream string   `json:"upstream"`
	Target   []string `json:"target"`
	PortOnly bool     `json:"port_only"`
}

type jsonDup struct {
	Name string        `json:"name"`
	In   []jsonRepoVer `json:"in"`
}

type jsonRepoVer struct {
	Repo    string `json:"repo"`
	Version string `json:"version"`
}

type jsonOnly struct {
	Pkgbase  string   `json:"pkgbase"`
	Version  string   `json:"version"`
	Repo     string   `json:"repo"`
	Packages []string `json:"packages"`
	Files    []string `json:"files"`
	Orphaned bool     `json:"orphaned"`
	NeededBy []string `json:"needed_by"`
	StandsIn []string `json:"stands_in"`
}

type jsonDep struct {
	Package    string          `json:"package"`
	Pkgbase    string          `json:"pkgbase"`
	Version    string          `json:"version"`
	Repo       string          `json:"repo"`
	Kind       string          `json:"kind"`
	Dependency string          `json:"dependency"`
	Candidates []jsonCandidate `json:"candidates"`
	Soname     bool            `json:"soname"`
	Upstream   string          `json:"upstream"`
}

type jsonCandidate struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Provide string `json:"provide"`
}

type jsonBlacklist struct {
	Off         bool              `json:"off"`
	Entries     []jsonEntry       `json:"entries"`
	Blacklisted []jsonBlacklisted `json:"blacklisted"`
	Blocked     []jsonBlocked     `json:"blocked"`
	Unused      []jsonEntry       `json:"unused"`
}

type jsonEntry struct {
	Pattern string `json:"pattern"`
	Reason  string `json:"reason"`
	Origin  string `json:"origin"`
}

type jsonBlacklisted struct {
	Pkgbase string `json:"pkgbase"`
	Version string `json:"version"`
	Current string `json:"current"`
	Repo    string `json:"repo"`
	jsonEntry
}

type jsonBlocked struct {
	Pkgbase  string   `json:"pkgbase"`
	Root     string   `json:"root"`
	Chain    []string `json:"chain"`
	Relation string   `json:"relation"`
	Message  string   `json:"message"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toJSONVersions(list []Base) []jsonVersion {
	out := make([]jsonVersion, 0, len(list))
	for _, v := range list {
		out = append(out, jsonVersion{v.Pkgbase, v.Version, v.Current, v.Repo, nonNil(v.Packages)})
	}
	return out
}

func toJSONDeps(list []DepProblem) []jsonDep {
	out := make([]jsonDep, 0, len(list))
	for _, d := range list {
		j := jsonDep{Package: d.Package, Pkgbase: d.Pkgbase, Version: d.Version, Repo: d.Repo, Kind: d.Kind.String(),
			Dependency: d.Dependency, Candidates: []jsonCandidate{}, Soname: d.Soname, Upstream: d.Upstream}
		for _, c := range d.Candidates {
			j.Candidates = append(j.Candidates, jsonCandidate{c.Name, c.Version, c.Provide})
		}
		out = append(out, j)
	}
	return out
}

func toJSONEntries(list []planner.BlacklistEntry) []jsonEntry {
	out := make([]jsonEntry, 0, len(list))
	for _, e := range list {
		out = append(out, jsonEntry{e.Pattern, e.Reason, e.Origin})
	}
	return out
}

func toJSON(r *Report) jsonReport {
	j := jsonReport{Schema: SchemaVersion, Arch: r.Arch, UpstreamArch: r.UpstreamArch, Summary: r.Summary(),
		Repos: []jsonRepo{}, Missing: []jsonMissing{}, Outdated: toJSONVersions(r.Outdated),
		AnyMissing: toJSONVersions(r.AnyMissing), AnyOutdated: toJSONVersions(r.AnyOutdated), WrongRepo: []jsonWrong{},
		Duplicates: []jsonDup{}, TargetNewer: toJSONVersions(r.TargetNewer), TargetOnly: []jsonOnly{},
		Broken: toJSONDeps(r.Broken), Unsatisfied: toJSONDeps(r.Unsatisfied)}
	for _, s := range r.Repos {
		j.Repos = append(j.Repos, jsonRepo{s.Name, s.Upstream, s.Target, s.PortOnly})
	}
	for _, m := range r.Missing {
		jm := jsonMissing{jsonVersion: toJSONVersions([]Base{m.Base})[0], ProvidedBy: []jsonProvider{}, Needed: m.Needed}
		for _, p := range m.ProvidedBy {
			jm.ProvidedBy = append(jm.ProvidedBy, jsonProvider{p.Name, p.By, p.Version, p.Provide})
		}
		j.Missing = append(j.Missing, jm)
	}
	for _, x := range r.WrongRepo {
		j.WrongRepo = append(j.WrongRepo, jsonWrong{x.Pkgbase, x.Upstream, nonNil(x.Target), x.PortOnly})
	}
	for _, d := range r.Duplicates {
		jd := jsonDup{Name: d.Name, In: []jsonRepoVer{}}
		for _, c := range d.In {
			jd.In = append(jd.In, jsonRepoVer{c.Repo, c.Version})
		}
		j.Duplicates = append(j.Duplicates, jd)
	}
	for _, t := range r.TargetOnly {
		j.TargetOnly = append(j.TargetOnly, jsonOnly{t.Pkgbase, t.Version, t.Repo, nonNil(t.Packages), nonNil(t.Files), t.Orphaned, nonNil(t.NeededBy), nonNil(t.StandsIn)})
	}
	bl := r.Blacklist
	j.Blacklist = jsonBlacklist{Off: bl.Off, Entries: toJSONEntries(bl.Entries), Blacklisted: []jsonBlacklisted{},
		Blocked: []jsonBlocked{}, Unused: toJSONEntries(bl.Unused)}
	for _, b := range bl.Blacklisted {
		j.Blacklist.Blacklisted = append(j.Blacklist.Blacklisted, jsonBlacklisted{b.Pkgbase, b.Version, b.Current, b.Repo,
			jsonEntry{b.Entry.Pattern, b.Entry.Reason, b.Entry.Origin}})
	}
	for _, b := range bl.Blocked {
		j.Blacklist.Blocked = append(j.Blacklist.Blocked, jsonBlocked{b.Pkgbase, b.Root, nonNil(b.Chain), b.Relation, planner.BlockedMessage(b)})
	}
	return j
}
