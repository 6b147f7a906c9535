package view

import (
	"bufio"
	"fmt"
	"strconv"
	"time"

	"github.com/portmake/portmake/alpm"
)

// WriteEntry writes p as "Key : value" lines in repo-add's field order.
// Lists put one value per line, so that long dependency lists stay
// readable and diffable; absent values print as None, as pacman does.
// Sizes and dates show the raw number too, since that is what the
// database holds.
func WriteEntry(w *bufio.Writer, repo string, p *alpm.Package) {
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
	size := func(n int64) string { return fmt.Sprintf("%d (%s)", n, humanSize(n)) }

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
func humanSize(n int64) string {
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

// EntryDoc is the JSON view of a database entry: every field, with
// lists always present (empty rather than null) so scripts need no checks.
type EntryDoc struct {
	Repo         string     `json:"repo"`
	Filename     string     `json:"filename"`
	Name         string     `json:"name"`
	Base         string     `json:"base"`
	Version      string     `json:"version"`
	Desc         string     `json:"desc"`
	Groups       []string   `json:"groups"`
	CSize        int64      `json:"csize"`
	ISize        int64      `json:"isize"`
	MD5Sum       string     `json:"md5sum"`
	SHA256Sum    string     `json:"sha256sum"`
	PGPSig       string     `json:"pgpsig"`
	URL          string     `json:"url"`
	License      []string   `json:"license"`
	Arch         string     `json:"arch"`
	BuildDate    int64      `json:"builddate"`
	Packager     string     `json:"packager"`
	Replaces     []string   `json:"replaces"`
	Conflicts    []string   `json:"conflicts"`
	Provides     []string   `json:"provides"`
	Depends      []string   `json:"depends"`
	OptDepends   []string   `json:"optdepends"`
	MakeDepends  []string   `json:"makedepends"`
	CheckDepends []string   `json:"checkdepends"`
	Data         []string   `json:"data"`
	Files        []string   `json:"files"` // null: not a .files database
	Extra        []extraDoc `json:"extra"`
}

type extraDoc struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// EntryJSON returns the JSON view of the entry p of repository repo.
func EntryJSON(repo string, p *alpm.Package) EntryDoc {
	nn := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	j := EntryDoc{
		Repo: repo, Filename: p.Filename, Name: p.Name, Base: p.Base, Version: p.Version, Desc: p.Desc,
		Groups: nn(p.Groups), CSize: p.CSize, ISize: p.ISize, MD5Sum: p.MD5Sum, SHA256Sum: p.SHA256Sum,
		PGPSig: p.PGPSig, URL: p.URL, License: nn(p.License), Arch: p.Arch, BuildDate: p.BuildDate,
		Packager: p.Packager, Replaces: nn(p.Replaces), Conflicts: nn(p.Conflicts), Provides: nn(p.Provides),
		Depends: nn(p.Depends), OptDepends: nn(p.OptDepends), MakeDepends: nn(p.MakeDepends),
		CheckDepends: nn(p.CheckDepends), Data: nn(p.Data), Files: p.Files, Extra: []extraDoc{},
	}
	for _, f := range p.Extra {
		j.Extra = append(j.Extra, extraDoc{Key: f.Key, Values: nn(f.Values)})
	}
	return j
}
