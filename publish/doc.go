// Package publish owns a port's published repositories: putting built (or
// synced) package files and their signatures into a repository and its
// sync databases, on a backend (a local directory tree, or an S3 bucket),
// so that at no instant and after no failure does a database name a file
// that is not there with the bytes it lists; checking that this holds
// (Verify) and repairing what does not; signing packages and databases with
// gpg; copying ARCH=any packages from an upstream mirror (Sync); and moving
// packages from a testing repository to its stable one, gated on their
// dependencies (Promote).
//
// It must not build, plan or open the state store: it is given files whose
// sha256 was recorded when the build ended, refuses any file whose bytes
// differ, and reports what it published through the Ledger interface, which
// the caller backs with the store.
//
// The layout is Arch's: <repo>/os/<arch>/ holds the package files, their
// .sig files, "<repo>.db.tar.gz" and "<repo>.files.tar.gz" (with their .sig
// files), and "<repo>.db" and "<repo>.files" (symlinks in a directory,
// copies on S3, which has no links). Everything portmake keeps for itself
// lives under "<repo>/os/<arch>/.portmake/" (journals, staged files, DB
// signatures by content), and temporary files start with ".portmake-".
package publish
