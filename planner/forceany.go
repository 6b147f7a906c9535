package planner

// An ARCH=any pkgbase is copied from upstream (any-sync), not built: its
// packages run on every architecture. The exception is the one
// generate_build_list.py --force made: naming it with --packages builds it
// like any other forced pkgbase, for a port that must rebuild it (a patch,
// a fix the upstream binary lacks), with a warning that says so.

// buildAny reports whether the upstream ARCH=any pkgbase b is built
// rather than synced: only when forced by --packages.
func (w *world) buildAny(b *base, forced bool) bool {
	if !forced {
		return false
	}
	w.warns = append(w.warns, Warning{Pkgbase: b.name, Kind: WarnForced, Message: "ARCH=any, built because --packages names it (ARCH=any packages are otherwise copied from upstream)"})
	return true
}
