// Package lang owns the Portfile language: its schema, variables and
// functions, decoding into plain config structs that keep their source
// ranges, and every check that can be made without the network.
//
// Load and Parse return hcl.Diagnostics, never bare errors: each problem has
// a summary, a full-sentence detail and a subject range pointing at the exact
// token, and all problems are collected rather than stopping at the first.
// WriteDiagnostics renders them once, with file:line:col and a snippet.
//
// The package may read files on local disk that the Portfile names (var
// files, the blacklist file, makepkg.conf for CARCH, patch globs, local
// PKGBUILD directories, file() arguments), but it must never touch the
// network, run commands, plan or build: what a location points at is the
// concern of the planner and the executor.
package lang
