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
//
// A Portfile is untrusted input: loading one is bounded in size, nesting
// and evaluated values (bounds.go), and what env() and file() read never
// appears in a diagnostic (secret.go). Which of its settings change the
// bytes of a build, and so are build-hash inputs, is decided field by
// field in hashinputs.go.
package lang
