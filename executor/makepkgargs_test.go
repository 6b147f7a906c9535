package executor

import (
	"slices"
	"testing"
)

// build.makepkg_args reach makepkg after portmake's own arguments, for both
// builders.
func TestMakepkgArgsPassed(t *testing.T) {
	j := &Job{ID: "0123456789abcdef0123", Pkgbase: "a", Version: "1-1", SourceDir: t.TempDir(), Arch: "aarch64"}
	extra := []string{"--noprogressbar", "--cleanbuild"}
	c := &Chroot{Dir: t.TempDir(), PkgDest: t.TempDir(), WorkDir: t.TempDir(), Sandbox: &Sandbox{}, MakepkgArgs: extra}
	if args := c.makechrootpkg(j, nil).Args; !slices.Equal(args[len(args)-2:], extra) {
		t.Errorf("makechrootpkg argv %q lacks %q at the end", args, extra)
	}
	m := &Makepkg{Sandbox: &Sandbox{}, WorkDir: t.TempDir(), PkgDest: t.TempDir(), MakepkgArgs: extra}
	_, build := m.commands(m.workspace(j), j)
	if args := build.Args; !slices.Equal(args[len(args)-2:], extra) {
		t.Errorf("makepkg argv %q lacks %q at the end", args, extra)
	}
}
