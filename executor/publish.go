package executor

// Publishing keeps one invariant: at every instant, every package the repo
// DB lists is present in the directory, complete, under its listed name.
// So the steps run in this order, each durable before the next:
//
//  1. copy each package file and its .sig into the directory under a
//     temporary name, fsync it, rename it into place, fsync the directory;
//  2. write the DB (the writer replaces it atomically by rename), which now
//     lists the new files and no longer the old versions;
//  3. only then remove the old versions' files, which nothing lists.
//
// A crash before 2 leaves unlisted new files (harmless; the next publish
// reuses them); a crash before 3 leaves unlisted old files. The Recorder
// marks the build published only after 2, so an interrupted publish is
// redone by the next run.
//
// One case cannot be made atomic: republishing a file under the same name
// with new content (a stage-2 rebuild of a stage-1 package). Between the
// rename in 1 and the DB write in 2 the DB's checksum is the old file's.
// The window is milliseconds, pacman would refuse the file rather than
// install it, and the next run republishes because the build was not
// marked published.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/pkgfile"
)

// RepoDB updates a repository database.
type RepoDB interface {
	// Add adds or replaces the packages files in the DB at db (the
	// <repo>.db.tar.gz path), atomically, creating it when missing.
	Add(ctx context.Context, db string, files []string) error
	// Command is what Add amounts to, for --dry-run.
	Command(db string, files []string) Command
}

// FuncDB adapts an in-process DB writer to RepoDB, e.g.
//
//	executor.FuncDB{Name: "portmake repo add", Fn: func(db string, files []string) error {
//		return syncdb.Add(db, files, syncdb.AddOptions{RemoveOld: true})
//	}}
//
// Name is the equivalent command line shown by dry runs.
type FuncDB struct {
	Name string
	Fn   func(db string, files []string) error
}

func (f FuncDB) Add(_ context.Context, db string, files []string) error { return f.Fn(db, files) }

func (f FuncDB) Command(db string, files []string) Command {
	return Command{Args: append(append(strings.Fields(f.Name), db), files...)}
}

// DirPublisher publishes to a directory repository:
// <Root>/<repo>/os/<Arch>/, with the DB <repo>.db.tar.gz.
type DirPublisher struct {
	Root string
	Arch string
	DB   RepoDB

	mu    sync.Mutex
	repos map[string]*sync.Mutex
}

// Dir returns the directory of repo.
func (p *DirPublisher) Dir(repo string) string { return filepath.Join(p.Root, repo, "os", p.Arch) }

func (p *DirPublisher) dbPath(repo string) string {
	return filepath.Join(p.Dir(repo), repo+".db.tar.gz")
}

// lock serialises publishing per repository: two DB writers racing would
// lose one's packages.
func (p *DirPublisher) lock(repo string) func() {
	p.mu.Lock()
	if p.repos == nil {
		p.repos = map[string]*sync.Mutex{}
	}
	m := p.repos[repo]
	if m == nil {
		m = &sync.Mutex{}
		p.repos[repo] = m
	}
	p.mu.Unlock()
	m.Lock()
	return m.Unlock
}

func (p *DirPublisher) check(repo string, files []string) error {
	if err := alpm.CheckName(repo); err != nil {
		return fmt.Errorf("repository name: %w", err)
	}
	if p.Root == "" || p.Arch == "" || p.DB == nil {
		return errors.New("dir publisher: root, arch and DB writer are required")
	}
	if len(files) == 0 {
		return errors.New("no package files to publish")
	}
	for _, f := range files {
		if _, err := pkgfile.ParseFilename(filepath.Base(f)); err != nil {
			return err
		}
	}
	return nil
}

// Commands describes a publish for --dry-run.
func (p *DirPublisher) Commands(repo string, files []string) []Command {
	dir := p.Dir(repo)
	var cmds []Command
	var dst []string
	for _, f := range files {
		to := filepath.Join(dir, filepath.Base(f))
		cmds = append(cmds, Command{Args: []string{"install", "-D", "-m", "0644", f, to}})
		if _, err := os.Stat(f + ".sig"); err == nil {
			cmds = append(cmds, Command{Args: []string{"install", "-D", "-m", "0644", f + ".sig", to + ".sig"}})
		}
		dst = append(dst, to)
	}
	return append(cmds, p.DB.Command(p.dbPath(repo), dst))
}

// Publish copies files (and their .sig files, when present) into repo,
// updates the DB, then removes the replaced versions. It returns the
// published package paths.
func (p *DirPublisher) Publish(ctx context.Context, repo string, files []string) ([]string, error) {
	if err := p.check(repo, files); err != nil {
		return nil, err
	}
	unlock := p.lock(repo)
	defer unlock()
	dir := p.Dir(repo)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("publish to %s: %w", dir, err)
	}
	var published []string
	names := map[string]bool{}
	for _, f := range files {
		to := filepath.Join(dir, filepath.Base(f))
		if err := installFile(f, to); err != nil {
			return nil, fmt.Errorf("publish %s: %w", f, err)
		}
		if _, err := os.Stat(f + ".sig"); err == nil {
			if err := installFile(f+".sig", to+".sig"); err != nil {
				return nil, fmt.Errorf("publish %s.sig: %w", f, err)
			}
		}
		published = append(published, to)
		n, _ := pkgfile.ParseFilename(filepath.Base(f))
		names[n.Pkgname] = true
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("publish to %s: %w", dir, err)
	}
	db := p.dbPath(repo)
	if err := p.DB.Add(ctx, db, published); err != nil {
		return nil, fmt.Errorf("update %s: %w", db, err)
	}
	if err := removeOld(dir, names, published); err != nil {
		return published, fmt.Errorf("remove replaced packages from %s: %w", dir, err)
	}
	return published, nil
}

// removeOld removes the package files (and signatures) in dir of the
// pkgnames just published, other than the published files themselves.
func removeOld(dir string, names map[string]bool, keep []string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		n, err := pkgfile.ParseFilename(e.Name())
		if err != nil || !names[n.Pkgname] {
			continue // the DB, a .sig, or another package
		}
		path := filepath.Join(dir, e.Name())
		if slices.Contains(keep, path) {
			continue
		}
		for _, f := range []string{path, path + ".sig"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// installFile copies src to dst through a temporary file in dst's
// directory, fsynced before the rename, so that dst is always either
// absent, the old file or the whole new one.
func installFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".portmake-"+filepath.Base(dst)+".*")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.ReadFrom(in); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	ok = true
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
