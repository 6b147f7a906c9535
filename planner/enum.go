package planner

// ReasonKind is why a pkgbase is in the plan. The words are part of the JSON
// format.
type ReasonKind uint8

const (
	ReasonForced ReasonKind = iota + 1
	ReasonNewSource
	ReasonOutdated
	ReasonRebuildRepo
	ReasonMissingDependency
	ReasonBootstrap // a toolchain pkgbase planned by --bootstrap
	ReasonRebuildDependents
)

var reasonText = [...]string{
	ReasonForced: "forced", ReasonNewSource: "new-source", ReasonOutdated: "outdated",
	ReasonRebuildRepo: "rebuild-repo", ReasonMissingDependency: "missing-dependency", ReasonBootstrap: "bootstrap",
	ReasonRebuildDependents: "rebuild-dependents",
}

func (k ReasonKind) String() string {
	if int(k) < len(reasonText) && reasonText[k] != "" {
		return reasonText[k]
	}
	return "unknown"
}

// DepKind labels a graph edge.
type DepKind uint8

const (
	KindDepends DepKind = iota + 1
	KindMakeDepends
	KindCheckDepends
	KindStage     // a stage-2 build waits for stage 1
	KindOrder     // --preserve-order
	KindBootstrap // everything waits for the bootstrap sub-plan
)

var depKindText = [...]string{
	KindDepends: "depends", KindMakeDepends: "makedepends", KindCheckDepends: "checkdepends",
	KindStage: "stage", KindOrder: "order", KindBootstrap: "bootstrap",
}

func (k DepKind) String() string {
	if int(k) < len(depKindText) && depKindText[k] != "" {
		return depKindText[k]
	}
	return "unknown"
}

// hard reports whether the edge orders builds even inside a cycle.
// checkdepends edges do not: see order.go.
func (k DepKind) hard() bool { return k != KindCheckDepends }

// Action is what apply does with an item of the plan.
type Action uint8

const (
	ActionBuild Action = iota + 1
	ActionBuildStage1
	ActionBuildStage2
	ActionBootstrapStage1
	ActionBootstrapStage2
	ActionSkipBlacklisted
	ActionBlocked
	ActionAnySync
	ActionDowngrade // a build (outside a cycle) of a version older than the target's
)

var actionText = [...]string{
	ActionBuild: "build", ActionBuildStage1: "build-stage1", ActionBuildStage2: "build-stage2",
	ActionBootstrapStage1: "bootstrap-stage1", ActionBootstrapStage2: "bootstrap-stage2",
	ActionSkipBlacklisted: "skip-blacklisted", ActionBlocked: "blocked", ActionAnySync: "any-sync",
	ActionDowngrade: "downgrade",
}

func (a Action) String() string {
	if int(a) < len(actionText) && actionText[a] != "" {
		return actionText[a]
	}
	return "unknown"
}

// WarningKind sorts a plan's warnings, so that views can group them.
type WarningKind uint8

const (
	WarnOther        WarningKind = iota
	WarnUnresolvable             // nothing on either side satisfies a dependency
	WarnUnsatisfied              // the planned build of its provider does not satisfy it
	WarnHeld                     // only a held toolchain pkgbase satisfies it
	WarnDowngrade                // only an older upstream pkgbase satisfies it, or a build downgrades
	WarnInvalid                  // the dependency string does not parse
	WarnBootstrap                // the bootstrap sub-plan lacks a dependency
	WarnNocheck                  // checks turned off
	WarnOrder                    // --preserve-order dropped an edge
	WarnForced                   // a --packages name that is not built
	WarnArch                     // a database entry for another architecture, left out
)

var warningKindText = [...]string{
	WarnOther: "other", WarnUnresolvable: "unresolvable", WarnUnsatisfied: "unsatisfied", WarnHeld: "held",
	WarnDowngrade: "downgrade", WarnInvalid: "invalid", WarnBootstrap: "bootstrap", WarnNocheck: "nocheck",
	WarnOrder: "order", WarnForced: "forced", WarnArch: "arch",
}

func (k WarningKind) String() string {
	if int(k) < len(warningKindText) {
		return warningKindText[k]
	}
	return "unknown"
}
