package ui

import (
	"fmt"
	"io"
	"strings"

	"github.com/portmake/portmake/engine"
)

// WriteSelection shows, before an apply starts, what it leaves out of the
// plan (--start-from, --only) and which builds use the target's binaries
// instead of a dependency's fresh build. It prints nothing for an apply
// that runs the plan as it is.
func WriteSelection(w io.Writer, s *engine.Selection) {
	if len(s.Left) > 0 {
		fmt.Fprintf(w, "\nNot built in this run (%s):\n", s.Why)
		for _, n := range s.Left {
			note := ""
			if s.Recorded[n.ID] {
				note = "  (published: its packages are used)"
			}
			fmt.Fprintf(w, "  %s %s%s\n", nodeLabel(n.Pkgbase, n.Stage), n.Version, note)
		}
	}
	var against []string
	for _, j := range s.Jobs {
		if len(j.Against) > 0 {
			against = append(against, fmt.Sprintf("  %s %s: the target's %s", label(j), j.Version, strings.Join(j.Against, ", ")))
		}
	}
	if len(against) > 0 {
		fmt.Fprintln(w, "\nBuilt against the target's binaries, not the fresh builds:")
		for _, l := range against {
			fmt.Fprintln(w, l)
		}
	}
	if s.DependentsOfFailed {
		fmt.Fprintln(w, "\nWhat needs a build that fails is built anyway, against the target's binaries (--build-dependents-of-failed).")
	}
}

func nodeLabel(pkgbase string, stage int) string {
	if stage > 0 {
		return fmt.Sprintf("%s (stage %d)", pkgbase, stage)
	}
	return pkgbase
}
