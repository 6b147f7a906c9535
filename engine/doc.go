// Package engine owns one opened port: a Portfile with its state
// directory and store. It is the only package that knows every other one
// and wires them together: Portfile → fetch → planner → store for a plan;
// plan → sources → executor → publish → store for an apply; and the read
// side (stored plans, explain, status, history, logs).
//
// Front ends (the command line, a daemon, a web page, a remote worker)
// call it and receive progress and warnings through the small interfaces
// of events.go, never through stdout; none of them re-implements a step.
// Options are plain structs, not flag structs.
//
// The arrows stay one way: cmd → engine → {lang, planner, sources, fetch,
// executor, store} → alpm. The engine renders nothing: views are the front
// end's business.
package engine
