package alpm

// Package is one package's metadata as a sync database's desc entry holds it
// (alpm-repo-desc(5), v1 and v2). List fields keep the raw strings in file
// order; ParseRelations turns relation lists into Relations where needed.
type Package struct {
	Filename     string
	Name         string
	Base         string // defaults to Name when the entry has no %BASE%
	Version      string
	Desc         string
	Groups       []string
	CSize        int64
	ISize        int64
	MD5Sum       string
	SHA256Sum    string
	PGPSig       string
	URL          string
	License      []string
	Arch         string
	BuildDate    int64
	Packager     string
	Replaces     []string
	Conflicts    []string
	Provides     []string
	Depends      []string
	OptDepends   []string
	MakeDepends  []string
	CheckDepends []string
	Data         []string // %DATA% (repo desc v2)

	// Files is the file list from a .files database or a package archive;
	// nil when not read.
	Files []string

	// Extra holds fields this version of portmake does not know, in file
	// order, so that nothing is lost on a round trip.
	Extra []Field
}

// Entry is one package as dependency resolution sees it: a sync database
// entry reduced to its names, version, architecture and relations. Planning
// reads nothing else, and syncdb.ReadIndex reads only these (interned), at
// a fraction of a Package's memory. Base is never empty: it defaults to
// Name.
type Entry struct {
	Name, Base, Version, Arch                    string
	Depends, MakeDepends, CheckDepends, Provides []string
}

// Entry returns p reduced to an Entry. The lists are shared with p.
func (p *Package) Entry() Entry {
	e := Entry{Name: p.Name, Base: p.Base, Version: p.Version, Arch: p.Arch,
		Depends: p.Depends, MakeDepends: p.MakeDepends, CheckDepends: p.CheckDepends, Provides: p.Provides}
	if e.Base == "" {
		e.Base = e.Name
	}
	return e
}

// Candidate returns e as a dependency candidate, like Package.Candidate.
func (e *Entry) Candidate() Candidate { return candidate(e.Name, e.Version, e.Provides) }

// Field is an unknown desc field.
type Field struct {
	Key    string
	Values []string
}

// Candidate returns p as a dependency candidate. Provides that fail to parse
// are skipped: they can never match a valid dependency anyway.
func (p *Package) Candidate() Candidate { return candidate(p.Name, p.Version, p.Provides) }

func candidate(name, version string, provides []string) Candidate {
	c := Candidate{Name: name, Version: version}
	for _, s := range provides {
		if r, err := ParseRelation(s); err == nil {
			c.Provides = append(c.Provides, r)
		}
	}
	return c
}

// ParseRelations parses a list of relation strings, stopping at the first
// invalid one.
func ParseRelations(list []string) ([]Relation, error) {
	out := make([]Relation, 0, len(list))
	for _, s := range list {
		r, err := ParseRelation(s)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
