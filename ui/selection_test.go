package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/portmake/portmake/engine"
	"github.com/portmake/portmake/planner"
)

func TestWriteSelection(t *testing.T) {
	var b strings.Builder
	WriteSelection(&b, &engine.Selection{})
	if b.Len() != 0 {
		t.Errorf("an apply of the whole plan printed %q", b.String())
	}

	s := &engine.Selection{Why: "--only gcc", Recorded: map[string]bool{"binutils#b1": true}, DependentsOfFailed: true}
	s.Left = append(s.Left, &planner.Node{ID: "binutils#b1", Pkgbase: "binutils", Version: "2-1", Stage: 1, Bootstrap: true})
	for i := range 30 {
		s.Left = append(s.Left, &planner.Node{ID: fmt.Sprint("p", i), Pkgbase: fmt.Sprint("p", i), Version: "1-1"})
	}
	s.Jobs = []*engine.Job{{Pkgbase: "gcc", Version: "14-1", Stage: 2, Against: []string{"binutils (stage 2)"}}, {Pkgbase: "x", Version: "1-1"}}
	WriteSelection(&b, s)
	want := "\nNot built in this run (--only gcc):\n  binutils (stage 1) 2-1  (published: its packages are used)\n"
	for i := range 19 {
		want += fmt.Sprintf("  p%d 1-1\n", i)
	}
	want += "  … and 11 more\n" +
		"\nBuilt against the target's binaries, not the fresh builds:\n  gcc (stage 2) 14-1: the target's binutils (stage 2)\n" +
		"\nWhat needs a build that fails is built anyway, against the target's binaries (--build-dependents-of-failed).\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
