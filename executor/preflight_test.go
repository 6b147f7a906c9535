package executor

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetectDistro(t *testing.T) {
	for _, c := range []struct {
		release string
		want    Distro
	}{
		{"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n", Debian},
		{"NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n", Debian},
		{"NAME=\"Linux Mint\"\nID=linuxmint\nID_LIKE=\"ubuntu debian\"\n", Debian},
		{"NAME=\"Arch Linux\"\nID=arch\n", Arch},
		{"NAME=\"Manjaro Linux\"\nID=manjaro\nID_LIKE=arch\n", Arch},
		{"NAME=Fedora\nID=fedora\n", OtherDistro},
		{"", OtherDistro},
	} {
		p := filepath.Join(t.TempDir(), "os-release")
		os.WriteFile(p, []byte(c.release), 0o644)
		if got := DetectDistro(p); got != c.want {
			t.Errorf("%q: %v, want %v", c.release, got, c.want)
		}
	}
	if got := DetectDistro(filepath.Join(t.TempDir(), "none")); got != OtherDistro {
		t.Errorf("missing file: %v", got)
	}
}

func TestPreflight(t *testing.T) {
	without := func(missing ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, m := range missing {
				if m == name {
					return "", errors.New("not found")
				}
			}
			return "/usr/bin/" + name, nil
		}
	}
	for _, c := range []struct {
		name    string
		kind    string
		root    bool
		distro  Distro
		missing []string
		want    []string // substrings of the error; nil: no error
	}{
		{"all there", "makepkg", true, Debian, nil, nil},
		{"debian", "makepkg", false, Debian, []string{"makepkg", "bsdtar"},
			[]string{"the makepkg builder needs makepkg, bsdtar, which are not installed", "apt-get install -y makepkg libarchive-tools"}},
		{"arch", "makepkg", false, Arch, []string{"makepkg", "bwrap"},
			[]string{"pacman -S --needed pacman bubblewrap"}},
		{"setpriv only as root", "makepkg", false, Debian, []string{"setpriv"}, nil},
		{"setpriv as root", "makepkg", true, Debian, []string{"setpriv"}, []string{"apt-get install -y util-linux"}},
		{"devtools on arch", "makechrootpkg", true, Arch, []string{"mkarchroot", "makechrootpkg", "arch-nspawn"},
			[]string{"needs mkarchroot, makechrootpkg, arch-nspawn", "pacman -S --needed devtools\n"}},
		{"devtools on debian", "makechrootpkg", true, Debian, []string{"mkarchroot", "makechrootpkg", "arch-nspawn", "git"},
			[]string{"apt-get install -y git", `builder = "makepkg"`}},
		{"makepkg builder needs no devtools", "makepkg", true, Arch, []string{"mkarchroot"}, nil},
		{"other distro", "makepkg", false, OtherDistro, []string{"zstd"},
			[]string{"zstd (Debian: zstd, Arch: zstd)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Preflight(c.kind, c.root, c.distro, without(c.missing...))
			if c.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var me *MissingToolsError
			if !errors.As(err, &me) {
				t.Fatalf("error %v, want a MissingToolsError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error()+"\n", w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
