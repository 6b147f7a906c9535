package main

// RepoCmd groups the sync database commands; they mirror pacman -Sl,
// repo-add and repo-remove.
type RepoCmd struct {
	List   RepoListCmd   `cmd:"" help:"List packages like pacman -Sl: repo name version."`
	Show   RepoShowCmd   `cmd:"" help:"Show every field of one database entry."`
	Add    RepoAddCmd    `cmd:"" help:"Add package files to a database, like repo-add."`
	Remove RepoRemoveCmd `cmd:"" help:"Remove packages from a database, like repo-remove."`
}
