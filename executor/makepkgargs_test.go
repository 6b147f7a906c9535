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
	c := &Chroot{Dir: t.TempDir(), PkgDest: t.TempDir(), MakepkgArgs: extra}
	if args := c.makechrootpkg(j, nil).Args; !slices.Equal(args[len(args)-2:], extra) {
		t.Errorf("makechrootpkg argv %q lacks %q at the end", args, extra)
	}
	m := &Makepkg{WorkDir: t.TempDir(), PkgDest: t.TempDir(), MakepkgArgs: extra}
	cmds := m.commands(j)
	if args := cmds[len(cmds)-1].Args; !slices.Equal(args[len(args)-2:], extra) {
		t.Errorf("makepkg argv %q lacks %q at the end", args, extra)
	}
}
