// Package planner owns portmake's plan: the pure function Build that turns a
// Portfile's settings, the repository snapshots of both sides and the
// resolved source identities into an immutable Plan. It diffs the upstream
// and target repositories per pkgbase, closes the set over missing and
// blocked dependencies with pacman's semantics, orders the work (one cycle
// at a time, see order.go) and content-hashes every build (see hash.go).
//
// The planner must not do I/O: it does not fetch databases, run git or
// makepkg, read .SRCINFO files, touch the store or parse the Portfile. Its
// callers do that and hand it plain data (Input). It must not import lang,
// fetch, store, os/exec or net. Rendering lives in planner/view.
package planner
