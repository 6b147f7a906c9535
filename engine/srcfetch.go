package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/portmake/portmake/proc"
	"github.com/portmake/portmake/sources"
)

// sourceFetcher prepares each job's PKGBUILD tree under the state
// directory: local dirs are copied, git sources (AUR, official, overrides)
// are fetched at the planned commit and verified, and override patches are
// applied in order. A patch that no longer applies fails only its job.
type sourceFetcher struct {
	pf  *lang.Portfile
	idx *jobIndex
}

func (f *sourceFetcher) Fetch(ctx context.Context, j *executor.Job, log io.Writer) (executor.Prepared, error) {
	var prep executor.Prepared
	n := f.idx.node(j.ID)
	if n == nil || n.Source == nil {
		return prep, fmt.Errorf("%s: no resolved source in the plan", j.Pkgbase)
	}
	dst := j.SourceDir
	if err := os.RemoveAll(dst); err != nil {
		return prep, err
	}
	src := n.Source
	switch src.Kind {
	case planner.SourceLocal:
		dir := filepath.Join(f.pf.Local.Path.Path, j.Pkgbase)
		if err := fsutil.CopyTree(dir, dst, skipBuildLeftovers); err != nil {
			return prep, fmt.Errorf("copy %s: %w", dir, err)
		}
		// The copy is what gets built: it must be the tree the plan
		// hashed, or the build would be recorded under another's hash.
		got, err := sources.TreeHash(dst)
		if err != nil {
			return prep, err
		}
		if got != src.TreeHash {
			return prep, fmt.Errorf("%s changed since the plan was made (tree %.12s, planned %.12s); run portmake plan", dir, got, src.TreeHash)
		}
	default:
		url := src.URL
		if src.Kind == planner.SourceAUR {
			url = strings.TrimSuffix(f.pf.AUR.URL.String(), "/") + "/" + j.Pkgbase + ".git"
		}
		if err := gitCheckout(ctx, log, url, src.Commit, dst); err != nil {
			return prep, err
		}
	}
	if err := applyPatches(ctx, log, f.pf.Package(j.Pkgbase), src.Patches, dst); err != nil {
		return prep, err
	}
	if src.Recipe == nil {
		// An official source's arch list is known only once it is checked
		// out: its .SRCINFO says it (packaging repositories commit one).
		si, err := srcinfo.ParseFile(filepath.Join(dst, ".SRCINFO"))
		switch {
		case err == nil:
			var arches [][]string
			for _, p := range si.ForArch(j.Arch) {
				arches = append(arches, p.Arch)
			}
			prep.IgnoreArch = needsIgnoreArch(arches, j.Arch)
		case !errors.Is(err, os.ErrNotExist):
			return prep, fmt.Errorf("read the .SRCINFO of %s: %w", j.Pkgbase, err)
		}
	}
	return prep, nil
}

// applyPatches applies an override's patches to dst in order. Each patch
// is read once, checked against the checksum the plan hashed, and applied
// from that copy, so the bytes applied are the bytes planned.
func applyPatches(ctx context.Context, log io.Writer, o *lang.PackageOverride, planned []planner.PatchRef, dst string) error {
	if o == nil {
		return nil
	}
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".patch")
	defer os.Remove(tmp)
	i := 0
	for _, p := range o.Patches {
		for _, file := range p.Files {
			data, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("package %q: patch: %w", o.Name, err)
			}
			sum := sha256.Sum256(data)
			if i >= len(planned) || planned[i].SHA256 != hex.EncodeToString(sum[:]) {
				return fmt.Errorf("patch %s of %s changed since the plan was made; run portmake plan", filepath.Base(file), o.Name)
			}
			i++
			if err := os.WriteFile(tmp, data, 0o600); err != nil {
				return err
			}
			fmt.Fprintf(log, "==> portmake: applying patch %s\n", file)
			if err := run(ctx, log, dst, "patch", "-p1", "--batch", "--forward", "-i", tmp); err != nil {
				return fmt.Errorf("patch rot: %s no longer applies to %s: %w", filepath.Base(file), o.Name, err)
			}
		}
	}
	if i != len(planned) {
		return fmt.Errorf("the patches of %s changed since the plan was made; run portmake plan", o.Name)
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
	if _, err := proc.Run(ctx, proc.Command{Args: []string{"git", "-C", dst, "rev-parse", "HEAD"}, Stdout: &out}, log); err != nil {
		return err
	}
	if got := strings.TrimSpace(out.String()); !strings.HasPrefix(got, commit) {
		return fmt.Errorf("fetch %s: checked out %s, but the plan hashed %s", url, got, commit)
	}
	return nil
}

// run runs one command with proc.Run, the one process runner, its output
// to log.
func run(ctx context.Context, log io.Writer, dir, name string, args ...string) error {
	_, err := proc.Run(ctx, proc.Command{Dir: dir, Env: []string{"GIT_TERMINAL_PROMPT=0"},
		Args: append([]string{name}, args...)}, log)
	return err
}
