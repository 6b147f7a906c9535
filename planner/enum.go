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
	ReasonRebuildDependents
)

var reasonText = [...]string{
	ReasonForced: "forced", ReasonNewSource: "new-source", ReasonOutdated: "outdated",
	ReasonRebuildRepo: "rebuild-repo", ReasonMissingDependency: "missing-dependency",
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
)

var actionText = [...]string{
	ActionBuild: "build", ActionBuildStage1: "build-stage1", ActionBuildStage2: "build-stage2",
	ActionBootstrapStage1: "bootstrap-stage1", ActionBootstrapStage2: "bootstrap-stage2",
	ActionSkipBlacklisted: "skip-blacklisted", ActionBlocked: "blocked", ActionAnySync: "any-sync",
}

func (a Action) String() string {
	if int(a) < len(actionText) && actionText[a] != "" {
		return actionText[a]
	}
	return "unknown"
}
