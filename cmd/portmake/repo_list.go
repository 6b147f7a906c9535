package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/syncdb"
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
		return writeRepoJSON(w, items)
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
		return writeRepoJSON(w, newRepoEntryJSON(db.Name, p))
	}
	showRepoEntry(w, db.Name, p)
	return nil
}

func writeRepoJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// showRepoEntry writes p as "Key : value" lines in repo-add's field order.
// Lists put one value per line, so that long dependency lists stay
// readable and diffable; absent values print as None, as pacman does.
// Sizes and dates show the raw number too, since that is what the
// database holds.
func showRepoEntry(w *bufio.Writer, repo string, p *alpm.Package) {
	const width = 16
	line := func(key, val string) {
		if val == "" {
			val = "None"
		}
		fmt.Fprintf(w, "%-*s: %s\n", width, key, val)
	}
	list := func(key string, vals []string) {
		if len(vals) == 0 {
			line(key, "")
			return
		}
		for i, v := range vals {
			if i == 0 {
				line(key, v)
			} else {
				fmt.Fprintf(w, "%-*s  %s\n", width, "", v)
			}
		}
	}
	size := func(n int64) string { return fmt.Sprintf("%d (%s)", n, repoHumanSize(n)) }

	line("Repository", repo)
	line("Filename", p.Filename)
	line("Name", p.Name)
	line("Base", p.Base)
	line("Version", p.Version)
	line("Description", p.Desc)
	list("Groups", p.Groups)
	line("Compressed Size", size(p.CSize))
	line("Installed Size", size(p.ISize))
	line("MD5 Sum", p.MD5Sum)
	line("SHA-256 Sum", p.SHA256Sum)
	line("PGP Signature", p.PGPSig)
	line("URL", p.URL)
	list("Licenses", p.License)
	line("Architecture", p.Arch)
	bd := ""
	if p.BuildDate != 0 {
		bd = strconv.FormatInt(p.BuildDate, 10) + " (" + time.Unix(p.BuildDate, 0).UTC().Format(time.RFC3339) + ")"
	}
	line("Build Date", bd)
	line("Packager", p.Packager)
	list("Replaces", p.Replaces)
	list("Conflicts With", p.Conflicts)
	list("Provides", p.Provides)
	list("Depends On", p.Depends)
	list("Optional Deps", p.OptDepends)
	list("Make Deps", p.MakeDepends)
	list("Check Deps", p.CheckDepends)
	if p.Data != nil {
		list("Data", p.Data)
	}
	if p.Files != nil {
		list("Files", p.Files)
	}
	// Fields this portmake does not know, under their own %KEY% name.
	for _, f := range p.Extra {
		list("%"+f.Key+"%", f.Values)
	}
}

// repoHumanSize formats n bytes with binary units, like pacman.
func repoHumanSize(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v := float64(n)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + " " + units[i]
}

// repoEntryJSON is the JSON view of a database entry: every field, with
// lists always present (empty rather than null) so scripts need no checks.
type repoEntryJSON struct {
	Repo         string          `json:"repo"`
	Filename     string          `json:"filename"`
	Name         string          `json:"name"`
	Base         string          `json:"base"`
	Version      string          `json:"version"`
	Desc         string          `json:"desc"`
	Groups       []string        `json:"groups"`
	CSize        int64           `json:"csize"`
	ISize        int64           `json:"isize"`
	MD5Sum       string          `json:"md5sum"`
	SHA256Sum    string          `json:"sha256sum"`
	PGPSig       string          `json:"pgpsig"`
	URL          string          `json:"url"`
	License      []string        `json:"license"`
	Arch         string          `json:"arch"`
	BuildDate    int64           `json:"builddate"`
	Packager     string          `json:"packager"`
	Replaces     []string        `json:"replaces"`
	Conflicts    []string        `json:"conflicts"`
	Provides     []string        `json:"provides"`
	Depends      []string        `json:"depends"`
	OptDepends   []string        `json:"optdepends"`
	MakeDepends  []string        `json:"makedepends"`
	CheckDepends []string        `json:"checkdepends"`
	Data         []string        `json:"data"`
	Files        []string        `json:"files"` // null: not a .files database
	Extra        []repoExtraJSON `json:"extra"`
}

type repoExtraJSON struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

func newRepoEntryJSON(repo string, p *alpm.Package) repoEntryJSON {
	nn := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	j := repoEntryJSON{
		Repo: repo, Filename: p.Filename, Name: p.Name, Base: p.Base, Version: p.Version, Desc: p.Desc,
		Groups: nn(p.Groups), CSize: p.CSize, ISize: p.ISize, MD5Sum: p.MD5Sum, SHA256Sum: p.SHA256Sum,
		PGPSig: p.PGPSig, URL: p.URL, License: nn(p.License), Arch: p.Arch, BuildDate: p.BuildDate,
		Packager: p.Packager, Replaces: nn(p.Replaces), Conflicts: nn(p.Conflicts), Provides: nn(p.Provides),
		Depends: nn(p.Depends), OptDepends: nn(p.OptDepends), MakeDepends: nn(p.MakeDepends),
		CheckDepends: nn(p.CheckDepends), Data: nn(p.Data), Files: p.Files, Extra: []repoExtraJSON{},
	}
	for _, f := range p.Extra {
		j.Extra = append(j.Extra, repoExtraJSON{Key: f.Key, Values: nn(f.Values)})
	}
	return j
}
