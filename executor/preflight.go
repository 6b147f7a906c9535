package executor

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// tool is an external program a builder runs, and the package that
// provides it on Debian/Ubuntu and on Arch ("" when not packaged there).
type tool struct {
	name, debian, arch string
}

var (
	toolGit      = tool{"git", "git", "git"}
	toolMakepkg  = tool{"makepkg", "makepkg", "pacman"}
	toolBwrap    = tool{"bwrap", "bubblewrap", "bubblewrap"}
	toolFakeroot = tool{"fakeroot", "fakeroot", "fakeroot"}
	toolBsdtar   = tool{"bsdtar", "libarchive-tools", "libarchive"}
	toolZstd     = tool{"zstd", "zstd", "zstd"}
	toolSetpriv  = tool{"setpriv", "util-linux", "util-linux"}
	// devtools is not packaged for Debian or Ubuntu.
	toolMkarchroot    = tool{"mkarchroot", "", "devtools"}
	toolMakechrootpkg = tool{"makechrootpkg", "", "devtools"}
	toolArchNspawn    = tool{"arch-nspawn", "", "devtools"}
)

// builderTools are the programs a builder kind runs. Both builders run
// makepkg in bubblewrap for what happens outside a chroot (metadata,
// source downloads and verification, package names), and setpriv drops
// root to the build user in the sandbox.
func builderTools(kind string, root bool) []tool {
	ts := []tool{toolGit, toolMakepkg, toolBwrap, toolFakeroot, toolBsdtar, toolZstd}
	if root {
		ts = append(ts, toolSetpriv)
	}
	if kind == "makechrootpkg" {
		ts = append(ts, toolMkarchroot, toolMakechrootpkg, toolArchNspawn)
	}
	return ts
}

// MissingToolsError says which tools a builder lacks and how to install
// them on this distribution.
type MissingToolsError struct {
	Builder string
	Missing []string // program names
	// Install is the command that installs them here ("" when the
	// distribution is unknown or does not package them).
	Install string
	Hint    string // what else to do, for example another builder
}

func (e *MissingToolsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the %s builder needs %s, which %s not installed", e.Builder, strings.Join(e.Missing, ", "), plural(len(e.Missing), "is", "are"))
	if e.Install != "" {
		fmt.Fprintf(&b, "; install %s with:\n  %s", plural(len(e.Missing), "it", "them"), e.Install)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "\n%s", e.Hint)
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Distro is the family of the host's distribution, from /etc/os-release.
type Distro int

const (
	OtherDistro Distro = iota
	Debian             // Debian, Ubuntu and their derivatives: apt-get
	Arch               // Arch Linux and its derivatives: pacman
)

// DetectDistro reads an os-release file (/etc/os-release) and returns the
// distribution family its ID or ID_LIKE names.
func DetectDistro(osRelease string) Distro {
	f, err := os.Open(osRelease)
	if err != nil {
		return OtherDistro
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || (k != "ID" && k != "ID_LIKE") {
			continue
		}
		ids = append(ids, strings.Fields(strings.Trim(v, `"'`))...)
	}
	for _, id := range ids {
		switch id {
		case "debian", "ubuntu":
			return Debian
		case "arch", "archarm":
			return Arch
		}
	}
	return OtherDistro
}

// Preflight checks, before anything is planned or built, that every tool
// the builder kind runs is on PATH (lookPath, normally exec.LookPath). It
// never installs anything: a *MissingToolsError names what is missing and
// the exact command to install it on distro.
func Preflight(kind string, root bool, distro Distro, lookPath func(string) (string, error)) error {
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	var missing []tool
	for _, t := range builderTools(kind, root) {
		if _, err := lookPath(t.name); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	e := &MissingToolsError{Builder: kind}
	var pkgs []string
	unpackaged := false
	for _, t := range missing {
		e.Missing = append(e.Missing, t.name)
		p := t.arch
		if distro == Debian {
			p = t.debian
		}
		if p == "" {
			unpackaged = true
		} else if !slices.Contains(pkgs, p) {
			pkgs = append(pkgs, p)
		}
	}
	switch {
	case distro == Debian && unpackaged:
		e.Hint = `devtools (mkarchroot, makechrootpkg, arch-nspawn) is not packaged for Debian or Ubuntu: build with build { builder = "makepkg" } instead`
		if len(pkgs) > 0 {
			e.Install = "apt-get install -y " + strings.Join(pkgs, " ")
		}
	case distro == Debian:
		e.Install = "apt-get install -y " + strings.Join(pkgs, " ")
	case distro == Arch:
		e.Install = "pacman -S --needed " + strings.Join(pkgs, " ")
	default:
		var names []string
		for _, t := range missing {
			names = append(names, fmt.Sprintf("%s (Debian: %s, Arch: %s)", t.name, orNone(t.debian), orNone(t.arch)))
		}
		e.Hint = "install them with your distribution's package manager: " + strings.Join(names, "; ")
	}
	return e
}

func orNone(s string) string {
	if s == "" {
		return "not packaged"
	}
	return s
}
