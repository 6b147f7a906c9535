package planner

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/portmake/portmake/alpm"
)

// base is the planner's working state for one pkgbase.
type base struct {
	name    string
	up      *group // nil when the pkgbase exists only in the target
	current string // target version, "" when absent
	ns      *NewSource
	source  *Source

	initial   []Reason // reasons from the diff and the command line
	reasons   []Reason // initial plus missing-dependency, for the current closure round
	planned   bool
	anySync   bool
	anyDetail string
	held      bool // toolchain waiting for --bootstrap
	heldInit  bool
	anyInit   string // anyDetail from the diff, "" when not any-synced by itself
	bootstrap bool   // planned in the bootstrap sub-plan
	forced    bool

	blacklist *BlacklistEntry
	blocked   *blockInfo

	deps     []depItem
	depsDone bool

	nocheck   bool
	nocheckBy string
	edges     []Edge
	warnings  []Warning
}

type blockInfo struct {
	by       string // the excluded pkgbase it needs
	relation string
	kind     DepKind
}

type depItem struct {
	kind DepKind
	text string
	rel  alpm.Relation
	err  error

	// rel.Name looked up once in each index: the indexes do not change
	// after newWorld, and the closure asks the same questions many times.
	up, tg         *entry // the first entry of that exact name (see entry.next)
	provUp, provTg []*entry
}

func (b *base) active() bool { return b.planned || b.anySync || b.bootstrap }

func (b *base) excluded() bool { return b.blacklist != nil || b.blocked != nil }

// world holds both sides of the diff and the indexes dependency resolution
// needs.
type world struct {
	in     *Input
	up, tg side                // pkgname -> entries
	provUp map[string][]*entry // provided name -> entries, pacman order
	provTg map[string][]*entry
	bases  map[string]*base
	names  []string // sorted pkgbase names
	warns  []Warning

	toolchain map[string]bool // build.bootstrap pkgbases
}

// Build makes the plan for in. It fails only on inputs that make no sense
// (an unknown forced package or repository, an invalid new source); problems
// with the data itself become warnings on the plan.
func Build(in *Input) (*Plan, error) {
	p, err := Draft(in)
	if err != nil {
		return nil, err
	}
	hashPlan(p)
	return p, nil
}

// Draft is Build without the hashes: every node has an empty Hash and no
// HashInputs. It is for learning which pkgbases a plan needs sources for;
// WithSources then hashes the plan with them. (Hashing is a third of
// building an 8,700-node plan, and it was done twice.)
func Draft(in *Input) (*Plan, error) {
	w, err := newWorld(in)
	if err != nil {
		return nil, err
	}
	if err := w.diff(); err != nil {
		return nil, err
	}
	w.close()
	w.resolve()
	p := w.plan()
	if err := w.order(p); err != nil {
		return nil, err
	}
	p.Warnings = w.warns
	slices.SortStableFunc(p.Warnings, func(a, b Warning) int { return cmp.Compare(a.Pkgbase, b.Pkgbase) })
	p.index()
	return p, nil
}

func newWorld(in *Input) (*world, error) {
	in, archWarns, err := checkArch(in)
	if err != nil {
		return nil, err
	}
	w := &world{in: in, warns: archWarns}
	var upAll, tgAll []*entry
	w.up, upAll = loadSide(in.Repos, true)
	w.tg, tgAll = loadSide(in.Repos, false)
	pairIdx := make(map[string]int, len(in.Repos))
	for i, p := range in.Repos {
		if _, dup := pairIdx[p.Name]; dup {
			return nil, fmt.Errorf("repository %q declared twice", p.Name)
		}
		pairIdx[p.Name] = i
	}
	newSources := make(map[string]*NewSource)
	for i := range in.NewSources {
		ns := &in.NewSources[i]
		r := ns.Source.Recipe
		if r == nil {
			return nil, fmt.Errorf("new source %s: no recipe (.SRCINFO) given", ns.Source.URL)
		}
		if err := alpm.CheckName(r.Pkgbase); err != nil {
			return nil, fmt.Errorf("new source %s: pkgbase: %w", ns.Source.URL, err)
		}
		pi, ok := pairIdx[ns.Repo]
		if !ok {
			return nil, fmt.Errorf("new source %s: repository %q is not declared", r.Pkgbase, ns.Repo)
		}
		if _, dup := newSources[r.Pkgbase]; dup {
			return nil, fmt.Errorf("new source %s: declared twice", r.Pkgbase)
		}
		if len(r.Packages) == 0 {
			return nil, fmt.Errorf("new source %s: recipe has no packages", r.Pkgbase)
		}
		newSources[r.Pkgbase] = ns
		// The recipe replaces whatever upstream has for this pkgbase.
		for name, e := range w.up {
			var keep *entry
			for ; e != nil; e = e.next {
				if e.Base != r.Pkgbase {
					keep = e
					break
				}
			}
			for x := keep; x != nil; x = x.next {
				for x.next != nil && x.next.Base == r.Pkgbase {
					x.next = x.next.next
				}
			}
			if keep == nil {
				delete(w.up, name)
			} else {
				w.up[name] = keep
			}
		}
		for j := range r.Packages {
			sp := &r.Packages[j]
			if err := alpm.CheckName(sp.Name); err != nil {
				return nil, fmt.Errorf("new source %s: package: %w", r.Pkgbase, err)
			}
			arch := w.in.Arch
			if len(sp.Arch) == 1 && sp.Arch[0] == "any" {
				arch = "any"
			}
			w.up.add(newEntry(&alpm.Entry{Name: sp.Name, Base: r.Pkgbase, Version: r.Version, Arch: arch,
				Depends: sp.Depends, MakeDepends: sp.MakeDepends, CheckDepends: sp.CheckDepends, Provides: sp.Provides}, pi))
		}
	}
	w.provUp = provideIndex(w.up)
	w.provTg = provideIndex(w.tg)
	for name, e := range w.tg {
		for up := w.up[name]; e != nil; e = e.next {
			e.upSame = up
		}
	}

	if len(in.NewSources) > 0 {
		// Recipes replaced entries and added their own.
		upAll = upAll[:0]
		w.up.each(func(e *entry) { upAll = append(upAll, e) })
	}
	upG, tgG := groupBases(w.up, upAll), groupBases(w.tg, tgAll)
	w.bases = make(map[string]*base, len(upG)+len(tgG)/8)
	var bases slab[base]
	var sources slab[Source]
	for name, g := range upG {
		b := bases.new()
		*b = base{name: name, up: g, ns: newSources[name]}
		if t := tgG[name]; t != nil {
			b.current = t.version
		} else {
			// The target may lack %BASE% or split differently: fall back
			// to its packages of the same names.
			for _, e := range g.pkgs {
				if t := w.tg[e.Name]; t != nil && (b.current == "" || alpm.Compare(t.Version, b.current) > 0) {
					b.current = t.Version
				}
			}
		}
		if b.ns != nil {
			b.source = sources.new()
			*b.source = b.ns.Source
		} else if s, ok := in.Sources[name]; ok {
			b.source = sources.new()
			*b.source = s
		}
		w.bases[name] = b
		for _, e := range g.pkgs {
			e.b = b
		}
	}
	for name, t := range tgG {
		if _, ok := w.bases[name]; !ok {
			b := bases.new()
			*b = base{name: name, current: t.version}
			w.bases[name] = b
		}
	}
	w.names = make([]string, 0, len(w.bases))
	for name := range w.bases {
		w.names = append(w.names, name)
	}
	slices.Sort(w.names)
	return w, nil
}

// resolveName maps a pkgname or pkgbase given by the user to an upstream
// pkgbase.
func (w *world) resolveName(name string) (string, bool) {
	if b, ok := w.bases[name]; ok && b.up != nil {
		return name, true
	}
	if e := w.up[name]; e != nil {
		return e.Base, true
	}
	return "", false
}

func (w *world) blacklisted(b *base, list []BlacklistEntry) *BlacklistEntry {
	for i := range list {
		if list[i].Match(b.name) {
			return &list[i]
		}
		if b.up == nil {
			continue
		}
		for _, e := range b.up.pkgs {
			if list[i].Match(e.Name) {
				return &list[i]
			}
		}
	}
	return nil
}

// diff gives every pkgbase its initial reasons and sections.
func (w *world) diff() error {
	in := w.in
	for _, pat := range in.Options.Exclude {
		if _, err := path.Match(goGlob(pat), ""); err != nil {
			return fmt.Errorf("--exclude %q: %w", pat, err)
		}
	}
	for _, e := range in.Blacklist {
		if _, err := path.Match(goGlob(e.Pattern), ""); err != nil {
			return fmt.Errorf("blacklist %q (%s): %w", e.Pattern, e.Origin, err)
		}
	}
	forced := make(map[string]bool)
	for _, name := range in.Options.Packages {
		b, ok := w.resolveName(name)
		if !ok {
			return fmt.Errorf("--packages %s: no such pkgname or pkgbase upstream or in the new sources", name)
		}
		forced[b] = true
	}
	rebuild := make(map[int]bool)
	for _, r := range in.Options.RebuildRepos {
		i := slices.IndexFunc(in.Repos, func(p RepoPair) bool { return p.Name == r })
		if i < 0 {
			return fmt.Errorf("--rebuild-repo %s: no such repository", r)
		}
		rebuild[i] = true
	}
	toolchain := make(map[string]bool)
	for _, name := range in.Bootstrap {
		if b, ok := w.resolveName(name); ok {
			toolchain[b] = true
		}
	}
	w.toolchain = toolchain
	list := w.blacklistEntries()
	dependents, err := w.rebuildDependents()
	if err != nil {
		return err
	}

	for _, name := range w.names {
		b := w.bases[name]
		b.blacklist = w.blacklisted(b, list)
		if b.up == nil {
			continue
		}
		ver := b.up.version
		c := 0
		if b.current != "" {
			c = alpm.Compare(b.current, ver)
			if c > 0 && portRebuild(b.current, ver) {
				c = 0
			}
		}
		if b.up.allAny && b.ns == nil && !w.buildAny(b, forced[name]) {
			if b.blacklist == nil && (b.current == "" || c < 0) {
				b.anyInit = "outdated"
				if b.current == "" {
					b.anyInit = "missing"
				}
			}
			continue
		}
		if forced[name] {
			b.forced = true
			b.initial = append(b.initial, Reason{Kind: ReasonForced, Detail: "--packages"})
		}
		if b.ns != nil && (b.current == "" || c < 0) {
			detail := string(b.ns.Source.Kind)
			if b.ns.Source.URL != "" {
				detail += " " + b.ns.Source.URL
			}
			b.initial = append(b.initial, Reason{Kind: ReasonNewSource, Detail: detail})
		}
		if b.ns == nil && b.current != "" && c < 0 {
			b.initial = append(b.initial, Reason{Kind: ReasonOutdated, Detail: b.current + " < " + ver})
		}
		// Rebuilding a repository does not downgrade what the target has
		// newer: those stay target-newer, unless downgrades are allowed.
		if rebuild[b.up.pair] && (c <= 0 || in.Options.AllowDowngrade) {
			b.initial = append(b.initial, Reason{Kind: ReasonRebuildRepo, Detail: "--rebuild-repo " + in.Repos[b.up.pair].Name})
		}
		// Nor does rebuilding dependents.
		if r, ok := dependents[name]; ok {
			if c > 0 && !in.Options.AllowDowngrade {
				w.warns = append(w.warns, Warning{Pkgbase: name, Kind: WarnDowngrade,
					Message: fmt.Sprintf("not rebuilt for --rebuild-dependents: the target's %s is newer than upstream's %s", b.current, ver)})
			} else {
				b.initial = append(b.initial, r)
			}
		}
		if len(b.initial) > 0 && toolchain[name] {
			if in.Options.Bootstrap {
				b.bootstrap = b.blacklist == nil
			} else if !b.forced {
				b.heldInit = true
			}
		}
	}
	return nil
}

func (w *world) blacklistEntries() []BlacklistEntry {
	list := slices.Clone(w.in.Blacklist)
	for _, pat := range w.in.Options.Exclude {
		list = append(list, BlacklistEntry{Pattern: pat, Reason: "excluded for this run", Origin: "--exclude"})
	}
	return list
}

// depsOf returns a pkgbase's dependencies in a fixed order: depends of each
// split package (by pkgname), then makedepends, then checkdepends, without
// duplicates. Build dependencies come from the upstream sync DB when it
// has any for this pkgbase, else from the source's recipe (ALARM-style DBs
// carry no MAKEDEPENDS or CHECKDEPENDS).
func (w *world) depsOf(b *base) []depItem {
	if b.depsDone {
		return b.deps
	}
	b.depsDone = true
	if b.up == nil {
		return nil
	}
	add := func(kind DepKind, list []string) {
	next:
		for _, s := range list {
			// Split packages repeat their pkgbase's dependencies; the
			// lists are short, so a scan beats a map of composite keys.
			for i := range b.deps {
				if b.deps[i].kind == kind && b.deps[i].text == s {
					continue next
				}
			}
			rel, err := alpm.ParseRelation(s)
			b.deps = append(b.deps, depItem{kind: kind, text: s, rel: rel, err: err,
				up: w.up[rel.Name], tg: w.tg[rel.Name], provUp: w.provUp[rel.Name], provTg: w.provTg[rel.Name]})
		}
	}
	var recipe *Recipe
	if b.source != nil {
		recipe = b.source.Recipe
	}
	// At most every list's every entry: one allocation instead of a
	// slice that grows through the appends.
	n := 0
	for _, e := range b.up.pkgs {
		n += len(e.Depends) + len(e.MakeDepends) + len(e.CheckDepends)
	}
	if recipe != nil {
		for _, sp := range recipe.Packages {
			n += len(sp.MakeDepends) + len(sp.CheckDepends)
		}
	}
	b.deps = make([]depItem, 0, n)
	fromDB := b.ns == nil
	dbBuild := false
	for _, e := range b.up.pkgs {
		add(KindDepends, e.Depends)
		dbBuild = dbBuild || (fromDB && (len(e.MakeDepends) > 0 || len(e.CheckDepends) > 0))
	}
	switch {
	case dbBuild:
		for _, e := range b.up.pkgs {
			add(KindMakeDepends, e.MakeDepends)
		}
		for _, e := range b.up.pkgs {
			add(KindCheckDepends, e.CheckDepends)
		}
	case recipe != nil:
		for _, sp := range recipe.Packages {
			add(KindMakeDepends, sp.MakeDepends)
		}
		for _, sp := range recipe.Packages {
			add(KindCheckDepends, sp.CheckDepends)
		}
	}
	return b.deps
}

// effective reports whether e is a package of its name that the target
// will hold once the plan is applied: the new build of an active pkgbase,
// else the existing binary, unless an active pkgbase builds that name.
func (e *entry) effective() bool {
	if e.b != nil { // upstream
		return e.b.active()
	}
	for u := e.upSame; u != nil; u = u.next {
		if u.b != nil && u.b.active() {
			return false
		}
	}
	return true
}

// satisfyTarget finds what satisfies d in the target after the plan,
// with pacman's choice (_alpm_resolvedep): the packages of that exact name
// first, in repository order, the first that satisfies; then the first
// provider in repository order (then pkgname order).
func (w *world) satisfyTarget(d *depItem) *entry {
	var best *entry
	consider := func(e *entry) {
		if (best == nil || e.pair < best.pair) && e.effective() && alpm.Satisfies(d.rel, e.cand()) {
			best = e
		}
	}
	for e := d.up; e != nil; e = e.next {
		if e.b != nil {
			consider(e)
		}
	}
	for e := d.tg; e != nil; e = e.next {
		consider(e)
	}
	if best != nil {
		return best
	}
	for k, list := range [2][]*entry{d.provTg, d.provUp} {
		upstream := k == 1
		for _, e := range list {
			if (upstream && e.b == nil) || (best != nil && byPriority(e, best) >= 0) || !e.effective() || !alpm.Satisfies(d.rel, e.cand()) {
				continue
			}
			best = e
		}
	}
	return best
}

// satisfyUpstream picks the upstream provider of d the same way, skipping
// blacklisted and blocked pkgbases. When only such a one exists it is
// returned as blockedBy.
func (w *world) satisfyUpstream(d *depItem) (found, blockedBy *entry) {
	check := func(e *entry) bool {
		if e.b == nil || !alpm.Satisfies(d.rel, e.cand()) {
			return false
		}
		if e.b.excluded() {
			if blockedBy == nil {
				blockedBy = e
			}
			return false
		}
		return true
	}
	for e := d.up; e != nil; e = e.next {
		if check(e) {
			return e, nil
		}
	}
	for _, e := range d.provUp {
		if check(e) {
			return e, nil
		}
	}
	return nil, blockedBy
}

func (w *world) nocheck(b *base) bool {
	return w.in.Options.NoCheck || w.in.Overrides[b.name].Nocheck
}

// Two things a missing dependency does not pull into a plan.
//
//   - A downgrade. When the only upstream pkgbase that satisfies a
//     dependency is older than the target's (upstream's binary qemu was
//     linked against libbpf.so.0, the port already has libbpf 1.0 with
//     libbpf.so.1), building it would replace the newer package that
//     everything else in the port links against. The port rebuilds the
//     dependent against what it has instead, and the plan says so in a
//     warning. Options.AllowDowngrade (--allow-downgrade) plans it anyway,
//     and the node is marked as a downgrade.
//   - The toolchain. build.bootstrap pkgbases are held for --bootstrap,
//     which builds them as a staged sub-plan first; a dependency edge must
//     not smuggle gcc or glibc into the regular plan behind that. The hold
//     stays, the pkgbase is listed as held (with the dependency as its
//     reason when it needed no work of its own), and what needed it gets a
//     warning naming the hold. --packages names a toolchain pkgbase to
//     build it anyway; with --bootstrap it joins the sub-plan.

// refusesDowngrade reports whether planning b would downgrade the target.
func (w *world) refusesDowngrade(b *base) bool {
	return !w.in.Options.AllowDowngrade && targetNewer(b.current, b.up.version)
}

// holds reports whether b is a toolchain pkgbase held for --bootstrap.
func (w *world) holds(b *base) bool {
	return w.toolchain[b.name] && !b.forced && !w.in.Options.Bootstrap
}

// close computes the planned set: the initial reasons plus, transitively,
// every pkgbase that provides a dependency the target cannot satisfy. A
// pkgbase that needs (depends or makedepends) something only a
// blacklisted or blocked pkgbase provides is blocked; since blocking one
// pkgbase changes what the others need, the closure restarts until the
// blocked set stops growing. It grows monotonically, so this terminates.
func (w *world) close() {
	for {
		for _, name := range w.names {
			b := w.bases[name]
			b.held = b.heldInit
			b.anySync, b.anyDetail = b.anyInit != "", b.anyInit
			b.planned = len(b.initial) > 0 && !b.excluded() && !b.held && !b.bootstrap && !b.anySync
			b.reasons = b.initial
		}
		blocked := w.expand()
		if len(blocked) == 0 {
			return
		}
		for name, bi := range blocked {
			w.bases[name].blocked = bi
		}
	}
}

func (w *world) expand() map[string]*blockInfo {
	blocked := make(map[string]*blockInfo)
	var frontier []*base
	for _, name := range w.names {
		if b := w.bases[name]; b.active() {
			frontier = append(frontier, b)
		}
	}
	visit := func(b *base, next *[]*base) {
		deps := w.depsOf(b)
		nocheck := w.nocheck(b)
		for i := range deps {
			d := &deps[i]
			if d.err != nil || (d.kind == KindCheckDepends && nocheck) || (b.anySync && d.kind != KindDepends) {
				continue
			}
			if w.satisfyTarget(d) != nil {
				continue
			}
			u, blk := w.satisfyUpstream(d)
			if u != nil {
				ub := u.b
				if ub.active() {
					continue // its new version does not satisfy rel: a warning in resolve
				}
				reason := Reason{
					Kind: ReasonMissingDependency, Detail: fmt.Sprintf("%s of %s (%s)", d.kind, b.name, d.text),
					Via: b.name, DepKind: d.kind, Relation: d.text,
				}
				switch {
				case ub.up.allAny && ub.ns == nil:
					ub.anySync = true
					ub.anyDetail = d.kind.String() + " of " + b.name
				case w.holds(ub):
					// Listed as held; resolve warns what needed it.
					if !ub.held {
						ub.held = true
						ub.reasons = append(slices.Clip(ub.reasons), reason)
					}
					continue
				case w.refusesDowngrade(ub):
					continue // resolve warns
				case w.toolchain[ub.name] && w.in.Options.Bootstrap:
					ub.bootstrap = ub.blacklist == nil
					ub.reasons = append(slices.Clip(ub.reasons), reason)
				default:
					ub.planned, ub.held = true, false
					ub.reasons = append(slices.Clip(ub.reasons), reason)
				}
				*next = append(*next, ub)
				continue
			}
			if blk != nil && d.kind != KindCheckDepends && blocked[b.name] == nil && !b.anySync {
				blocked[b.name] = &blockInfo{by: blk.Base, relation: d.text, kind: d.kind}
			}
		}
	}
	for {
		for len(frontier) > 0 {
			var next []*base
			for _, b := range frontier {
				visit(b, &next)
			}
			slices.SortFunc(next, func(a, b *base) int { return cmp.Compare(a.name, b.name) })
			frontier = next
		}
		// A pkgbase added late can replace a version an earlier one was
		// satisfied by; check everything once more against the final set.
		var next []*base
		for _, name := range w.names {
			if b := w.bases[name]; b.active() {
				visit(b, &next)
			}
		}
		if len(next) == 0 {
			return blocked
		}
		slices.SortFunc(next, func(a, b *base) int { return cmp.Compare(a.name, b.name) })
		frontier = next
	}
}

// resolve links every planned pkgbase to the planned pkgbases that satisfy
// its dependencies, and records what cannot be satisfied.
func (w *world) resolve() {
	for _, name := range w.names {
		b := w.bases[name]
		if !b.active() {
			continue
		}
		var checkBlocked string
		deps := w.depsOf(b)
		// note records a warning about one dependency d: "label: d (kind
		// of b)", then the detail, which does not depend on b (views group
		// the warnings about one dependency by it).
		note := func(kind WarningKind, d *depItem, label, detail string) {
			msg := fmt.Sprintf("%s: %s (%s of %s)", label, d.text, d.kind, b.name)
			if detail != "" {
				msg += ": " + detail
			}
			b.warnings = append(b.warnings, Warning{Pkgbase: b.name, Kind: kind, Message: msg, Relation: d.text, DepKind: d.kind, Detail: detail})
		}
		other := func(kind WarningKind, format string, args ...any) {
			b.warnings = append(b.warnings, Warning{Pkgbase: b.name, Kind: kind, Message: fmt.Sprintf(format, args...)})
		}
		for i := range deps {
			d := &deps[i]
			if d.err != nil {
				b.warnings = append(b.warnings, Warning{Pkgbase: b.name, Kind: WarnInvalid, Relation: d.text, DepKind: d.kind,
					Message: fmt.Sprintf("invalid %s entry %q: %v", d.kind, d.text, d.err)})
				continue
			}
			if (d.kind == KindCheckDepends && w.nocheck(b)) || (b.anySync && d.kind != KindDepends) {
				continue
			}
			if e := w.satisfyTarget(d); e != nil {
				if t := w.bases[e.Base]; e.Base != b.name && (t.planned || t.bootstrap) && !b.anySync {
					b.edges = append(b.edges, Edge{To: e.Base, Kind: d.kind, Relation: d.text, Package: e.Name})
				}
				continue
			}
			u, blk := w.satisfyUpstream(d)
			switch {
			case blk != nil && d.kind == KindCheckDepends:
				if checkBlocked == "" {
					checkBlocked = fmt.Sprintf("checkdepends %s is blocked by %s", d.text, blk.Base)
				}
			case b.bootstrap && u != nil:
				other(WarnBootstrap, "bootstrap: %s %s is not in the target; the toolchain builds only against the target", d.kind, d.text)
			case u != nil && u.b.held:
				note(WarnHeld, d, "held", fmt.Sprintf("only %s %s satisfies it, a toolchain pkgbase that build.bootstrap holds back; plan it with --bootstrap, or --packages %s",
					u.b.name, u.b.up.version, u.b.name))
			case u != nil && !u.b.active() && w.refusesDowngrade(u.b):
				note(WarnDowngrade, d, "no downgrade", fmt.Sprintf("only upstream's %s %s satisfies it, older than the target's %s; build against the target's instead (--allow-downgrade plans %s %s)",
					u.b.name, u.b.up.version, u.b.current, u.b.name, u.b.up.version))
			case u != nil:
				note(WarnUnsatisfied, d, "unsatisfied", fmt.Sprintf("the planned %s %s does not satisfy it", u.Name, u.Version))
			default:
				note(WarnUnresolvable, d, "unresolvable", "")
			}
		}
		if checkBlocked != "" {
			b.nocheck, b.nocheckBy = true, checkBlocked
			other(WarnNocheck, "built with --nocheck: %s", checkBlocked)
			b.edges = slices.DeleteFunc(b.edges, func(e Edge) bool { return e.Kind == KindCheckDepends })
		}
		if b.planned && targetNewer(b.current, b.up.version) {
			other(WarnDowngrade, "downgrade: the target has %s, newer than the %s this plan builds", b.current, b.up.version)
		}
		slices.SortFunc(b.edges, func(x, y Edge) int {
			if c := cmp.Compare(x.To, y.To); c != 0 {
				return c
			}
			return cmp.Compare(x.Kind, y.Kind)
		})
		b.edges = slices.CompactFunc(b.edges, func(x, y Edge) bool { return x.To == y.To && x.Kind == y.Kind })
		w.warns = append(w.warns, b.warnings...)
	}
}

// plan fills the sections of the plan that do not depend on ordering.
func (w *world) plan() *Plan {
	in := w.in
	p := &Plan{
		Arch: in.Arch, UpstreamArch: in.UpstreamArch, Meta: cloneMeta(in.Meta), Options: cloneOptions(in.Options),
		Env: EnvDigest{MakepkgConf: contentDigest(in.BuildEnv.MakepkgConf), PacmanConf: contentDigest(in.BuildEnv.PacmanConf),
			Builder: in.BuildEnv.Builder, MakepkgArgs: quoteArgs(in.BuildEnv.MakepkgArgs)},
		Blacklist: w.blacklistEntries(),
	}
	reported := w.blockedReport()
	p.Bases = make([]BaseStatus, 0, len(w.names))
	for _, name := range w.names {
		b := w.bases[name]
		st := BaseStatus{Pkgbase: name, Current: b.current}
		if b.up != nil {
			st.Version = b.up.version
			st.Repo = w.in.Repos[b.up.pair].Name
			st.Packages = make([]string, len(b.up.pkgs))
			for i, e := range b.up.pkgs {
				st.Packages[i] = e.Name
			}
		}
		v := Version{Pkgbase: name, Version: st.Version, Current: b.current, Repo: st.Repo}
		switch {
		case b.up == nil:
			st.Status = StatusTargetOnly
		case b.planned || b.bootstrap:
			st.Status = StatusPlanned
		case reported[name]:
			st.Status = StatusBlocked
		case b.anySync:
			st.Status = StatusAnySync
			p.AnySync = append(p.AnySync, AnySync{Pkgbase: name, Version: v.Version, Current: v.Current, Repo: v.Repo, Detail: b.anyDetail})
		case b.held:
			st.Status = StatusHeld
			p.Held = append(p.Held, Held{Pkgbase: name, Version: v.Version, Current: v.Current, Reason: b.reasons[0]})
		case b.current == "":
			st.Status = StatusMissing
			p.Missing = append(p.Missing, v)
		case b.up.allAny && b.ns == nil:
			st.Status = StatusAnyCurrent
		default:
			st.Status = StatusUpToDate
		}
		// Target-newer lists what is not built: a planned downgrade is
		// marked on its node instead.
		if b.up != nil && targetNewer(b.current, b.up.version) && st.Status != StatusPlanned {
			if st.Status == StatusUpToDate || st.Status == StatusAnyCurrent {
				st.Status = StatusTargetNewer
			}
			p.TargetNewer = append(p.TargetNewer, v)
		}
		if st.Status == StatusBlocked {
			p.Blocked = append(p.Blocked, w.blockedItem(b))
		}
		p.Bases = append(p.Bases, st)
	}
	return p
}

// blockedReport returns the excluded pkgbases worth reporting: those that
// would have been built, and everything their chains lead to.
func (w *world) blockedReport() map[string]bool {
	out := make(map[string]bool)
	for _, name := range w.names {
		b := w.bases[name]
		if !b.excluded() || b.up == nil || (len(b.initial) == 0 && b.blocked == nil) {
			continue
		}
		for cur := b; cur != nil && !out[cur.name]; {
			out[cur.name] = true
			if cur.blocked == nil {
				break
			}
			cur = w.bases[cur.blocked.by]
		}
	}
	return out
}

func (w *world) blockedItem(b *base) Blocked {
	it := Blocked{Pkgbase: b.name, Version: b.up.version, Current: b.current, Action: ActionSkipBlacklisted}
	if b.blocked != nil {
		it.Relation = b.blocked.relation
		it.Action = ActionBlocked
	}
	seen := make(map[string]bool)
	for cur := b; cur != nil && !seen[cur.name]; {
		seen[cur.name] = true
		it.Chain = append(it.Chain, cur.name)
		if cur.blacklist != nil {
			it.Root, it.Entry = cur.name, *cur.blacklist
			break
		}
		if cur.blocked == nil {
			break
		}
		cur = w.bases[cur.blocked.by]
	}
	return it
}

func cloneMeta(m Meta) Meta {
	m.DBs = slices.Clone(m.DBs)
	m.CommandLine = slices.Clone(m.CommandLine)
	m.MadeFrom = slices.Clone(m.MadeFrom)
	return m
}

func cloneOptions(o Options) Options {
	o.Packages = slices.Clone(o.Packages)
	o.RebuildRepos = slices.Clone(o.RebuildRepos)
	o.Exclude = slices.Clone(o.Exclude)
	o.RebuildDependents = slices.Clone(o.RebuildDependents)
	return o
}

// BlockedMessage renders a blocked item the way the human view and why show
// it: "vim: blocked by python (blacklist: 'python' reason) via vim → python".
func BlockedMessage(b Blocked) string {
	var s strings.Builder
	s.WriteString(b.Pkgbase)
	if b.Action == ActionSkipBlacklisted {
		fmt.Fprintf(&s, ": blacklisted ('%s' %s, %s)", b.Entry.Pattern, b.Entry.Reason, b.Entry.Origin)
		return s.String()
	}
	fmt.Fprintf(&s, ": blocked by %s (blacklist: '%s' %s)", b.Root, b.Entry.Pattern, b.Entry.Reason)
	if len(b.Chain) > 2 {
		s.WriteString(" via " + strings.Join(b.Chain, " → "))
	}
	if b.Relation != "" {
		s.WriteString("; needs " + b.Relation)
	}
	return s.String()
}
