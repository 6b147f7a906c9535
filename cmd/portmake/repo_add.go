package main

import (
	"github.com/portmake/portmake/alpm/syncdb"
)

// RepoAddCmd is repo-add: it adds package files to a sync database.
type RepoAddCmd struct {
	RemoveOld        bool     `name:"remove-old" short:"R" help:"Delete the package files (and .sig) of the entries that are replaced, after the database is written."`
	NewOnly          bool     `name:"new" short:"n" help:"Skip packages whose name and version are already in the database."`
	PreventDowngrade bool     `name:"prevent-downgrade" short:"p" help:"Skip packages when the database has a newer version."`
	DB               string   `arg:"" name:"db" help:"Database file: <dir>/<repo>.db.tar.gz, .db.tar.zst, .db.tar.xz or .db.tar. Created with its .files sibling if missing."`
	Packages         []string `arg:"" name:"pkgfile" help:"Package files (.pkg.tar.*) to add. A <pkgfile>.sig next to one is recorded as its signature."`
}

// Run adds the packages. repo-add's warnings (same version already present,
// downgrade) go to the log at warn level, so they show by default.
func (c *RepoAddCmd) Run(env *Env) error {
	return syncdb.Add(c.DB, c.Packages, syncdb.AddOptions{
		RemoveOld:        c.RemoveOld,
		NewOnly:          c.NewOnly,
		PreventDowngrade: c.PreventDowngrade,
		Log:              env.Log,
	})
}

// RepoRemoveCmd is repo-remove: it removes packages from a sync database by
// name. When any name is not in the database nothing changes.
type RepoRemoveCmd struct {
	DB    string   `arg:"" name:"db" help:"Database file: <dir>/<repo>.db.tar.gz (or .zst, .xz, plain .tar). It must exist."`
	Names []string `arg:"" name:"name" help:"Package names (pkgname, not pkgbase) to remove."`
}

func (c *RepoRemoveCmd) Run(env *Env) error {
	return syncdb.Remove(c.DB, c.Names)
}
