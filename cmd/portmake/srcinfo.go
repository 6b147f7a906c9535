package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/portmake/portmake/alpm/srcinfo"
	"github.com/portmake/portmake/alpm/view"
)

// SrcinfoCmd shows a parsed .SRCINFO: the pkgbase and every package with
// its inherited and overridden values, or with --arch the per-architecture
// view the planner uses.
type SrcinfoCmd struct {
	Path string `arg:"" help:"A .SRCINFO file, or a directory that holds one." placeholder:"PATH"`
	Arch string `help:"Show the effective view for one architecture: plain values plus <key>_<ARCH> values." placeholder:"ARCH"`
	JSON bool   `name:"json" help:"Print a JSON object; its shape is documented above."`
}

// Help is the long help (portmake srcinfo --help). It documents the JSON
// shapes, which are stable: keys are always present, lists are [] rather
// than null, and new keys may be added but existing ones keep their meaning.
func (c *SrcinfoCmd) Help() string {
	return `Invalid input exits 1 with "<path>:<line>: message".

JSON without --arch:
  {"pkgbase": BASE, "packages": [PACKAGE...]}
  BASE: {"name", "version" ([epoch:]pkgver-pkgrel), "pkgver", "pkgrel",
    "epoch", "pkgdesc", "url", "install", "changelog": string ("" = unset);
    "arch", "groups", "license", "backup", "options", "validpgpkeys",
    "noextract": [string];
    "depends", "optdepends", "provides", "conflicts", "replaces",
    "makedepends", "checkdepends", "source", "md5sums", "sha1sums",
    "sha224sums", "sha256sums", "sha384sums", "sha512sums", "b2sums",
    "cksums": LIST}
  LIST: {"all": [string], "by_arch": {ARCH: [string]}}
  PACKAGE: {"name", "pkgdesc", "url", "install", "changelog": string;
    "arch", "groups", "license", "backup", "options": [string];
    "depends", "optdepends", "provides", "conflicts", "replaces": LIST;
    "overrides": [keyword the pkgname section assigned itself]}
  Package values are resolved: inherited from the pkgbase unless the
  section overrides or clears them.

JSON with --arch ARCH:
  {"arch": ARCH, "pkgbase": string, "version": string, "packages": [
    {"name", "pkgbase", "version": string, "arch": [string],
     "supported": bool (arch lists ARCH or any),
     "depends", "makedepends", "checkdepends", "provides", "conflicts",
     "replaces", "optdepends": [string]}]}
  Every package is listed, supported or not: a port builds x86_64-only
  PKGBUILDs with makepkg --ignorearch, which uses exactly these values.`
}

func (c *SrcinfoCmd) Run(env *Env) error {
	path := c.Path
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("srcinfo: %w", err)
	}
	if fi.IsDir() {
		path = filepath.Join(path, ".SRCINFO")
	}
	if c.Arch != "" {
		if err := srcinfo.CheckArch(c.Arch); err != nil {
			return fmt.Errorf("srcinfo: --arch: %w", err)
		}
		if c.Arch == "any" {
			return fmt.Errorf("srcinfo: --arch any: pick a real architecture; \"any\" packages have no arch-specific values")
		}
	}
	s, err := srcinfo.ParseFile(path)
	if err != nil {
		return err // already "<path>:<line>: message", or an *os.PathError
	}
	w := bufio.NewWriter(env.Stdout)
	switch {
	case c.JSON && c.Arch != "":
		err = view.WriteJSON(w, view.SrcinfoArchJSON(s, c.Arch))
	case c.JSON:
		err = view.WriteJSON(w, view.SrcinfoJSON(s))
	case c.Arch != "":
		view.WriteSrcinfoArch(w, s, c.Arch)
	default:
		view.WriteSrcinfo(w, s)
	}
	if err != nil {
		return err
	}
	return w.Flush()
}
