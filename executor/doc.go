// Package executor runs a build plan: it schedules jobs over N workers in
// dependency order (packing them under a memory budget, or following the
// machine's load with -j auto), drives the builders (makechrootpkg in a
// devtools chroot, or makepkg inside bubblewrap) as process groups that a
// cancellation kills whole, or hands attempts to a Remote builder that
// runs them on a cluster, writes one log per build attempt, hands fresh
// packages (with the sha256 of their bytes at the end of the build) to a
// Publisher, publishes a build that succeeded but was never published
// instead of building it again, and reports progress. Every evaluation of
// a PKGBUILD, by either builder or by the planner (--printsrcinfo), runs in
// its Sandbox (sandbox.go) as the build user (user.go); builds verify their
// sources, sharing downloads only through a content-addressed SourceCache
// (srccache.go); Preflight (preflight.go) names the tools a builder lacks
// before anything runs.
//
// It owns the run-time side of `portmake apply` and nothing else. It must
// not plan (which node is stale is the planner's and the store's business),
// must not open the state database (results go through the Recorder
// interface), and must not read the Portfile: the caller turns plan nodes
// into Jobs and builder settings into the Chroot and Makepkg structs. The
// small interfaces it consumes (Builder, Remote, Publisher, Recorder,
// PlacementRecorder, Unpublished, Progress, SourceFetcher, Load) are
// defined here, where they are used; package publish implements Publisher.
package executor
