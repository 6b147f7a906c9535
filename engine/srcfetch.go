package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/portmake/portmake/alpm/srcinfo"
	"github.com/portmake/portmake/executor"
	"github.com/portmake/portmake/internal/fsutil"
	"github.com/portmake/portmake/lang"
	"github.com/portmake/portmake/planner"
)

// sourceFetcher prepares each job's PKGBUILD tree under the state
// directory: local dirs are copied, git sources (AUR, official, overrides)
// are fetched at the planned commit and verified, and override patches are
// applied in order. A patch that no longer applies fails only its job.
type sourceFetcher struct {
	pf    *lang.Portfile
	nodes map[string]*planner.Node // by hash
}

func (f *sourceFetcher) Fetch(ctx context.Context, j *executor.Job, log io.Writer) error {
	n := f.nodes[j.ID]
	if n == nil || n.Source == nil {
		return fmt.Errorf("%s: no resolved source in the plan", j.Pkgbase)
	}
	dst := j.SourceDir
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	src := n.Source
	switch src.Kind {
	case planner.SourceLocal:
		dir := filepath.Join(f.pf.Local.Path.Path, j.Pkgbase)
		if err := fsutil.CopyTree(dir, dst, skipBuildLeftovers); err != nil {
			return fmt.Errorf("copy %s: %w", dir, err)
		}
	default:
		url := src.URL
		if src.Kind == planner.SourceAUR {
			url = strings.TrimSuffix(f.pf.AUR.URL.String(), "/") + "/" + j.Pkgbase + ".git"
		}
		if err := gitCheckout(ctx, log, url, src.Commit, dst); err != nil {
			return err
		}
	}
	if n.Source.Recipe == nil {
		// An official source's arch list is known only once it is checked
		// out: its .SRCINFO says it (packaging repositories commit one).
		if si, err := srcinfo.ParseFile(filepath.Join(dst, ".SRCINFO")); err == nil {
			var arches [][]string
			for _, p := range si.ForArch(j.Arch) {
				arches = append(arches, p.Arch)
			}
			j.IgnoreArch = needsIgnoreArch(arches, j.Arch)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("read the .SRCINFO of %s: %w", j.Pkgbase, err)
		}
	}
	if o := f.pf.Package(j.Pkgbase); o != nil {
		for _, p := range o.Patches {
			for _, file := range p.Files {
				fmt.Fprintf(log, "==> portmake: applying patch %s\n", file)
				if err := run(ctx, log, dst, "patch", "-p1", "--batch", "--forward", "-i", file); err != nil {
					return fmt.Errorf("patch rot: %s no longer applies to %s: %w", filepath.Base(file), j.Pkgbase, err)
				}
			}
		}
	}
	return nil
}

// skipBuildLeftovers leaves out what a local PKGBUILD directory may hold
// besides the recipe: its git metadata, makepkg's src/ and pkg/, and
// built packages.
func skipBuildLeftovers(rel string, _ fs.DirEntry) bool {
	return rel == ".git" || rel == "src" || rel == "pkg" || strings.Contains(rel, ".pkg.tar")
}

// gitCheckout fetches exactly one commit (shallow) and checks that HEAD is
// the commit the plan hashed.
func gitCheckout(ctx context.Context, log io.Writer, url, commit, dst string) error {
	if commit == "" {
		return fmt.Errorf("%s: the plan has no commit for this source", url)
	}
	steps := [][]string{
		{"init", "-q", dst},
		{"-C", dst, "fetch", "-q", "--depth", "1", url, commit},
		{"-C", dst, "checkout", "-q", "--detach", "FETCH_HEAD"},
	}
	for _, args := range steps {
		if err := run(ctx, log, "", "git", args...); err != nil {
			return fmt.Errorf("fetch %s at %s: %w", url, commit, err)
		}
	}
	var out bytes.Buffer
	if err := run(ctx, &out, "", "git", "-C", dst, "rev-parse", "HEAD"); err != nil {
		return err
	}
	if got := strings.TrimSpace(out.String()); !strings.HasPrefix(got, commit) {
		return fmt.Errorf("fetch %s: checked out %s, but the plan hashed %s", url, got, commit)
	}
	return nil
}

// run runs one command with executor.RunCommand, the one process runner:
// its own process group, killed whole on cancel.
func run(ctx context.Context, log io.Writer, dir, name string, args ...string) error {
	_, err := executor.RunCommand(ctx, executor.Command{Dir: dir, Env: []string{"GIT_TERMINAL_PROMPT=0"},
		Args: append([]string{name}, args...)}, log)
	return err
}
