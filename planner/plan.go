package planner

// Plan is the result of Build. It is immutable: nothing may modify it after
// Build returns (apply-time state lives in the store). Every list is in a
// deterministic order, so the same inputs give the same Plan.
type Plan struct {
	Arch         string
	UpstreamArch string
	Meta         Meta
	Options      Options
	Env          EnvDigest
	Blacklist    []BlacklistEntry // the Portfile's entries plus --exclude

	// Nodes are the builds in a valid serial build order: every node comes
	// after its Deps. Among ready nodes, higher Priority comes first.
	Nodes []*Node

	Cycles      []Cycle
	Blocked     []Blocked
	AnySync     []AnySync
	TargetNewer []Version
	Missing     []Version // upstream pkgbases absent from the target and not planned
	Held        []Held    // toolchain pkgbases that need work but wait for --bootstrap
	Warnings    []Warning

	// Bases is the status of every pkgbase either side knows, sorted by
	// name. It is what `why` answers from for packages not in the plan.
	Bases []BaseStatus

	byID   map[string]*Node
	byBase map[string][]*Node
	status map[string]int // pkgbase or pkgname -> index in Bases
}

// EnvDigest is the hashed part of the build environment.
type EnvDigest struct {
	MakepkgConf string // "sha256:<hex>" of the content, or "none"
	PacmanConf  string
	Builder     string
	MakepkgArgs string // the makepkg_args, each quoted, space-separated
}

// Node is one build: a pkgbase in a given stage.
type Node struct {
	// ID is the pkgbase, or pkgbase#1 / pkgbase#2 for the stages of a
	// cycle, or pkgbase#b1 / pkgbase#b2 for the bootstrap sub-plan. '#' is
	// never part of a package name.
	ID       string
	Pkgbase  string
	Version  string   // the version to build
	Current  string   // the target's version, "" when absent
	Repo     string   // repo pair name
	Publish  string   // repository the result is uploaded to
	Packages []string // pkgnames built, sorted
	Arch     string   // "any" only for new sources whose every package is ARCH=any

	Reason  Reason   // the primary reason; Reasons[0]
	Reasons []Reason // every reason that applies, most important first

	Action    Action
	Stage     int // 0 outside cycles; 1 or 2 inside a two-stage cycle or the bootstrap
	Cycle     int // 1-based index into Plan.Cycles, 0 when not in a cycle
	Bootstrap bool
	Downgrade bool // Version is older than the target's Current
	Nocheck   bool
	NocheckBy string // why checks are off, "" when they run
	Nointeg   bool   // source integrity checks are off (package nointeg)
	Group     string

	Source *Source // nil when unresolved

	Deps  []Dep  // builds this one waits for, sorted by ID
	Edges []Edge // pkgbase-level dependencies on other planned pkgbases, sorted

	Priority   int // critical-path length: the longest chain of builds that wait for this one, itself included
	Hash       string
	HashInputs []HashInput

	Warnings []string
}

// Dep is an edge of the build graph: this node waits for node ID.
type Dep struct {
	ID    string
	Kinds []DepKind // why: the dependency kinds, or stage/order/bootstrap
}

// Edge is a dependency of one planned pkgbase on another, with the relation
// that caused it and the pkgname that satisfies it.
type Edge struct {
	To       string // pkgbase
	Kind     DepKind
	Relation string // as written, e.g. "python>=3.10"
	Package  string // pkgname that satisfies it
	Broken   bool   // a cycle edge that stage 1 satisfies from the existing target binary
	Dropped  bool   // a checkdepends edge dropped to break a check-only cycle
}

// Reason says why a pkgbase is in the plan.
type Reason struct {
	Kind     ReasonKind
	Detail   string // e.g. "makedepends of vim (python>=3.10)"
	Via      string // for missing-dependency: the pkgbase that needs it
	DepKind  DepKind
	Relation string
}

// Cycle is one strongly connected set of pkgbases over depends and
// makedepends edges.
type Cycle struct {
	ID      int
	Members []string // pkgbases in stage-1 build order
	Stages  int      // 2, or 1 with --single-stage
	Broken  []BrokenEdge
}

// BrokenEdge is a cycle edge that the first build cannot honour: From is
// built before To and uses the target's existing To binary.
type BrokenEdge struct {
	From, To string
	Kind     DepKind
	Relation string
	InTarget bool // false: the target has no binary, stage 1 will likely fail
}

// Blocked is a pkgbase that cannot be built because of the blacklist.
type Blocked struct {
	Pkgbase  string
	Version  string
	Current  string
	Root     string   // the blacklisted pkgbase at the end of the chain
	Chain    []string // Pkgbase, then each pkgbase it is blocked by, ending with Root
	Relation string   // the dependency of Pkgbase that is blocked ("" for a root)
	Entry    BlacklistEntry
	Action   Action // ActionSkipBlacklisted for roots, ActionBlocked otherwise
}

// AnySync is an ARCH=any pkgbase the target lacks or has older: it is copied,
// not built.
type AnySync struct {
	Pkgbase string
	Version string
	Current string
	Repo    string
	Detail  string // "outdated", "missing", or "depends of X" when a planned node needs it
}

// Version is a pkgbase with its upstream and target versions.
type Version struct {
	Pkgbase string
	Version string // upstream
	Current string // target
	Repo    string
}

// Held is a toolchain pkgbase that needs work but is only planned with
// --bootstrap.
type Held struct {
	Pkgbase string
	Version string
	Current string
	Reason  Reason
}

// Warning is a problem that does not stop the plan.
type Warning struct {
	Pkgbase  string
	Message  string
	Kind     WarningKind
	Relation string  // the dependency it is about, as written; "" when none
	DepKind  DepKind // the kind of that dependency
	Detail   string  // what Message says beyond the dependency and its pkgbase; the same for every pkgbase with that dependency
}

// BaseStatus is the state of one pkgbase after the diff.
type BaseStatus struct {
	Pkgbase  string
	Packages []string // pkgnames on the upstream side (or the target side when absent upstream)
	Version  string
	Current  string
	Repo     string
	Status   Status
}

// Status is a pkgbase's state in a plan.
type Status string

const (
	StatusPlanned     Status = "planned"
	StatusUpToDate    Status = "up-to-date"
	StatusTargetNewer Status = "target-newer"
	StatusAnySync     Status = "any-sync"
	StatusAnyCurrent  Status = "any-current"
	StatusBlocked     Status = "blocked"
	StatusHeld        Status = "held"
	StatusMissing     Status = "missing"
	StatusTargetOnly  Status = "target-only"
)

// Node returns the build with the given ID, or nil.
func (p *Plan) Node(id string) *Node { return p.byID[id] }

// NodesOf returns the builds of a pkgbase (one, or two for a staged one) in
// build order.
func (p *Plan) NodesOf(pkgbase string) []*Node { return p.byBase[pkgbase] }

// Status returns the status of a pkgbase or pkgname.
func (p *Plan) Status(name string) (BaseStatus, bool) {
	i, ok := p.status[name]
	if !ok {
		return BaseStatus{}, false
	}
	return p.Bases[i], true
}

// Summary counts a plan's sections.
type Summary struct {
	Build, Cycles, Stage1, Blocked, AnySync, TargetNewer, Missing, Held, Warnings, Downgrades int
}

// Summary returns the counts that the summary line shows.
func (p *Plan) Summary() Summary {
	s := Summary{Build: len(p.Nodes), Cycles: len(p.Cycles), Blocked: len(p.Blocked),
		AnySync: len(p.AnySync), TargetNewer: len(p.TargetNewer), Missing: len(p.Missing),
		Held: len(p.Held), Warnings: len(p.Warnings)}
	for _, n := range p.Nodes {
		if n.Stage == 1 && !n.Bootstrap {
			s.Stage1++
		}
		if n.Downgrade && n.Stage <= 1 { // once per pkgbase
			s.Downgrades++
		}
	}
	return s
}

func (p *Plan) index() {
	p.byID = make(map[string]*Node, len(p.Nodes))
	p.byBase = make(map[string][]*Node, len(p.Nodes))
	for _, n := range p.Nodes {
		p.byID[n.ID] = n
		p.byBase[n.Pkgbase] = append(p.byBase[n.Pkgbase], n)
	}
	p.status = make(map[string]int, 2*len(p.Bases))
	for i, b := range p.Bases {
		for _, name := range b.Packages {
			if _, ok := p.status[name]; !ok {
				p.status[name] = i
			}
		}
	}
	// A pkgbase name wins over a pkgname of another pkgbase.
	for i, b := range p.Bases {
		p.status[b.Pkgbase] = i
	}
}
