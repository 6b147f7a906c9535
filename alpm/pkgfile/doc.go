// Package pkgfile reads pacman package files (<name>-<ver>-<arch>.pkg.tar.*):
// their names, their .PKGINFO metadata and their file lists, and computes
// everything repo-add records about a package in a sync database entry
// (sizes, checksums, the detached signature).
//
// It only reads. It never extracts a package to disk, never runs bsdtar or
// makepkg, and never writes a database: syncdb does that with what Read
// returns. Sub-package pkgfiletest builds small real package files for tests.
package pkgfile
