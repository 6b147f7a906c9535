// Package sources owns source resolution: it turns "build pkgbase P at
// version V from source S" into an exact, reproducible source identity (a
// git URL plus the commit behind it, or the content hash of a local
// PKGBUILD directory), and reads the .SRCINFO of AUR and local sources so
// that planning can see their build dependencies.
//
// It is the only package that talks to git remotes on behalf of planning.
// It must not plan, decide what to build, or know about the Portfile or the
// store: the planner consumes []Resolved as plain data, and the cache of
// immutable answers (a tag's commit) sits behind the small Cache interface
// that the caller implements. It must not build anything either: a local
// directory is only read (makepkg --printsrcinfo at most), and the clones
// under CacheDir are pristine mirrors that the executor copies from.
//
// # Where a commit comes from
//
//   - Official packages live in Arch's packaging GitLab, one project per
//     pkgbase (ProjectPath), tagged with the normalised version
//     (VersionTag). When a state repo is configured it is kept as a bare
//     shallow clone in CacheDir/state.git and its tree read whole with one
//     `git archive` (kept parsed per commit) into a map; its line "pkgbase version tag commit" answers
//     without touching the packaging remote, but only when its version is
//     exactly the requested one. Otherwise "git ls-remote" asks the remote
//     for the tag, preferring the peeled commit of an annotated tag.
//   - A tag never moves, so an answer from ls-remote for a tag is kept in
//     the Cache and a re-plan makes no network call. A branch moves, so a
//     branch head is never cached.
//   - AUR packages are cloned (or fetched) into CacheDir/aur/<pkgbase>: the
//     .SRCINFO has to be read anyway, so the commit is simply HEAD.
//   - A local directory has no commit; TreeHash gives it an identity that
//     changes exactly when a file that makepkg would read changes.
package sources
