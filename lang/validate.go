package lang

import (
	"github.com/hashicorp/hcl/v2"
)

// validate makes the checks that span blocks, after every block has been
// decoded on its own.
func (l *loader) validate() {
	p := l.p
	repoNames := make([]string, len(p.Repos))
	for i, r := range p.Repos {
		repoNames[i] = r.Name
	}
	checkRepoRef := func(block, name string, rng hcl.Range) {
		if name == "" || p.Repo(name) != nil {
			return
		}
		l.errorf(rng, "Unknown repository",
			"The %s block refers to the repository %q, but no repo block declares it. Declared repositories: %s.", block, name, suggestList(repoNames))
	}
	if p.AUR != nil {
		checkRepoRef("aur", p.AUR.Repo, p.AUR.RepoRange)
	}
	if p.Local != nil {
		checkRepoRef("local", p.Local.Repo, p.Local.RepoRange)
	}

	// A pkgbase has one source. Two would make the result depend on which
	// one the planner happens to look at first.
	aur := map[string]Ident{}
	if p.AUR != nil {
		for _, id := range p.AUR.Packages {
			aur[id.Name] = id
		}
	}
	if p.Local != nil && p.Local.Path.Path != "" {
		if bases, err := p.Local.Pkgbases(); err == nil {
			for _, name := range bases {
				if id, dup := aur[name]; dup {
					l.errorf(id.Range, "Package has two sources",
						"%q is listed in aur.packages and also has a local PKGBUILD in %s. Remove one, so that a pkgbase has a single source.", name, l.displayPath(p.Local.Path.Raw))
				}
			}
		}
	}
	for _, o := range p.Packages {
		if o.Git.IsZero() {
			continue
		}
		if _, dup := aur[o.Name]; dup {
			l.errorf(o.Git.Range, "Package has two sources",
				"%q is listed in aur.packages and its package block also sets git. Remove one, so that a pkgbase has a single source.", o.Name)
		}
	}

	// Blacklisting wins over everything else in the planner, so an
	// override of a blacklisted package is dead configuration: say so.
	if len(p.Blacklist.Entries) > 0 {
		warn := func(name string, rng hcl.Range, how, what string) {
			if e, hit := p.Blacklist.Match(name); hit {
				l.warnf(rng, "Blacklisted package is configured",
					"%q is %s, but the blacklist pattern %q at %s excludes it, so the planner will never build it. Remove the pattern or the %s.", name, how, e.Pattern, rangeText(e.Range), what)
			}
		}
		for _, o := range p.Packages {
			warn(o.Name, o.Range, "overridden by a package block", "package block")
		}
		if p.AUR != nil {
			for _, id := range p.AUR.Packages {
				warn(id.Name, id.Range, "listed in aur.packages", "list entry")
			}
		}
		if p.Local != nil {
			for _, id := range p.Local.Packages {
				warn(id.Name, id.Range, "listed in local.packages", "list entry")
			}
		}
	}
}
