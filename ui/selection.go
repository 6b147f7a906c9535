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
		var lines []string
		for _, n := range s.Left {
			note := ""
			if s.Recorded[n.ID] {
				note = "  (published: its packages are used)"
			}
			lines = append(lines, fmt.Sprintf("  %s %s%s", nodeLabel(n.Pkgbase, n.Stage), n.Version, note))
		}
		writeCapped(w, lines)
	}
	var against []string
	for _, j := range s.Jobs {
		if len(j.Against) > 0 {
			against = append(against, fmt.Sprintf("  %s %s: the target's %s", label(j), j.Version, strings.Join(j.Against, ", ")))
		}
	}
	if len(against) > 0 {
		fmt.Fprintln(w, "\nBuilt against the target's binaries, not the fresh builds:")
		writeCapped(w, against)
	}
	if s.DependentsOfFailed {
		fmt.Fprintln(w, "\nWhat needs a build that fails is built anyway, against the target's binaries (--build-dependents-of-failed).")
	}
}

// selectionLines is how many lines a list of WriteSelection shows: --only
// on a big plan leaves thousands of builds out.
const selectionLines = 20

func writeCapped(w io.Writer, lines []string) {
	for i, l := range lines {
		if i == selectionLines && len(lines) > selectionLines+1 {
			fmt.Fprintf(w, "  … and %d more\n", len(lines)-i)
			return
		}
		fmt.Fprintln(w, l)
	}
}

func nodeLabel(pkgbase string, stage int) string {
	if stage > 0 {
		return fmt.Sprintf("%s (stage %d)", pkgbase, stage)
	}
	return pkgbase
}
