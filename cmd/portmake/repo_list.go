package main

import (
	"bufio"
	"fmt"

	"github.com/portmake/portmake/alpm/syncdb"
	"github.com/portmake/portmake/alpm/view"
)

// RepoListCmd is pacman -Sl for database files: "repo name version" lines,
// packages in name order, databases in argument order.
type RepoListCmd struct {
	JSON bool     `name:"json" help:"Print a JSON array of {repo, name, version, base, arch} objects instead."`
	DBs  []string `arg:"" name:"db" help:"Sync database files (core.db, extra.db.tar.zst, ...); the repository name comes from the file name."`
}

func (c *RepoListCmd) Run(env *Env) error {
	type item struct {
		Repo    string `json:"repo"`
		Name    string `json:"name"`
		Version string `json:"version"`
		Base    string `json:"base"`
		Arch    string `json:"arch"`
	}
	w := bufio.NewWriterSize(env.Stdout, 64<<10)
	defer w.Flush()
	items := []item{}
	for _, path := range c.DBs {
		db, err := syncdb.ReadFile(path)
		if err != nil {
			return err
		}
		env.Log.Debug("read sync database", "path", path, "repo", db.Name, "packages", len(db.Packages))
		for _, p := range db.Packages {
			if c.JSON {
				items = append(items, item{db.Name, p.Name, p.Version, p.Base, p.Arch})
				continue
			}
			w.WriteString(db.Name)
			w.WriteByte(' ')
			w.WriteString(p.Name)
			w.WriteByte(' ')
			w.WriteString(p.Version)
			w.WriteByte('\n')
		}
	}
	if c.JSON {
		return view.WriteJSON(w, items)
	}
	return nil
}

// RepoShowCmd prints every field of one database entry, like pacman -Si.
type RepoShowCmd struct {
	JSON bool   `name:"json" help:"Print the entry as a JSON object instead."`
	DB   string `arg:"" name:"db" help:"Sync database file."`
	Name string `arg:"" name:"name" help:"Package name (pkgname, not pkgbase)."`
}

func (c *RepoShowCmd) Run(env *Env) error {
	db, err := syncdb.ReadFile(c.DB)
	if err != nil {
		return err
	}
	p := db.Find(c.Name)
	if p == nil {
		return fmt.Errorf("repo show: package %q not found in %s (repository %s, %d packages)", c.Name, c.DB, db.Name, len(db.Packages))
	}
	w := bufio.NewWriter(env.Stdout)
	defer w.Flush()
	if c.JSON {
		return view.WriteJSON(w, view.EntryJSON(db.Name, p))
	}
	view.WriteEntry(w, db.Name, p)
	return nil
}
