// Package alpm owns the pacman domain types that every other part of portmake
// shares: package versions and their ordering, package relations (depends,
// provides, conflicts, replaces), package names and the Package metadata record.
//
// Its rules are pacman's rules, not approximations of them: Compare is a port
// of libalpm's alpm_pkg_vercmp, and Satisfies follows _alpm_depcmp. The
// sub-packages read and write the on-disk formats (syncdb, pkgfile, srcinfo).
//
// The package does no I/O.
package alpm
