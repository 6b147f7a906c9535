package publish

// Promotion moves packages from a testing repository to its stable one,
// gated so that stable is never broken by it.
//
// The gate, a fixed point over pkgbases (split packages move together):
//
//  1. Stable after the move is every stable repository, with the moving
//     pkgbases' old packages replaced by their new ones in the target.
//  2. A moving pkgbase is held when one of its packages has a runtime
//     dependency (%DEPENDS%) that nothing in stable-after-the-move
//     satisfies, by pacman's rules: a package of that name at a matching
//     version, or a provide of that name (with a version, for a versioned
//     dependency: sonames such as libfoo.so=2-64 are provides).
//  3. A moving pkgbase is also held when a package that stays in stable
//     had a dependency satisfied before the move and not after it, and the
//     pkgbase's old packages satisfied it (a soname bump whose dependents
//     were not rebuilt in testing).
//  4. Holding a pkgbase changes stable-after-the-move, so 2 and 3 are
//     repeated until nothing more is held.
//
// A dependency that nothing satisfied before the move either does not hold
// anything back (a broken stable is reported by verify, not made worse).
//
// The moves themselves keep every package in at least one repository at
// every instant: a pkgbase is first published to the stable repository
// (a publish, with its journal and its crash safety), and only once the
// stable DB lists it is it removed from the testing one.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/syncdb"
)

// Move is a pkgbase that moves.
type Move struct {
	Pkgbase  string   `json:"pkgbase"`
	Version  string   `json:"version"`
	Replaces string   `json:"replaces,omitempty"` // the stable version it replaces
	Files    []string `json:"files"`
	pkgs     []*alpm.Package
}

// Hold is a pkgbase held back, with why.
type Hold struct {
	Pkgbase string   `json:"pkgbase"`
	Version string   `json:"version"`
	Reasons []string `json:"reasons"` // e.g. "foo needs libbar.so=2-64: nothing in stable provides it"
}

// PromotePlan is what a promotion moves and holds back.
type PromotePlan struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Moves []Move `json:"moves"`
	Held  []Hold `json:"held"`
}

// PlanPromotion decides what moves from testing to the stable repository
// named to, given every stable repository's DB (to among them). only,
// when not empty, limits the candidates to these pkgbases or pkgnames. It
// is a pure function: see the top of this file.
func PlanPromotion(testing *syncdb.DB, to string, stable []*syncdb.DB, only []string) *PromotePlan {
	plan := &PromotePlan{From: testing.Name, To: to, Moves: []Move{}, Held: []Hold{}}
	cands := map[string][]*alpm.Package{}
	for _, p := range testing.Packages {
		cands[p.Base] = append(cands[p.Base], p)
	}
	if len(only) > 0 {
		keep := map[string]bool{}
		for base, ps := range cands {
			for _, p := range ps {
				if slices.Contains(only, base) || slices.Contains(only, p.Name) {
					keep[base] = true
				}
			}
		}
		for base := range cands {
			if !keep[base] {
				delete(cands, base)
			}
		}
	}
	var target *syncdb.DB
	for _, db := range stable {
		if db.Name == to {
			target = db
		}
	}
	if target == nil {
		target = &syncdb.DB{Name: to}
		stable = append(stable, target)
	}
	// The target's packages each moving pkgbase replaces: its old split
	// packages, and any package with the same name.
	replaced := func(moving map[string]bool) map[*alpm.Package]string {
		names := map[string]string{}
		for base := range moving {
			for _, p := range cands[base] {
				names[p.Name] = base
			}
		}
		out := map[*alpm.Package]string{}
		for _, p := range target.Packages {
			if moving[p.Base] {
				out[p] = p.Base
			} else if base, ok := names[p.Name]; ok {
				out[p] = base
			}
		}
		return out
	}
	before := newUniverse(stable, nil, nil)
	held := map[string][]string{}
	for {
		moving := map[string]bool{}
		for base := range cands {
			if held[base] == nil {
				moving[base] = true
			}
		}
		gone := replaced(moving)
		var adds []*alpm.Package
		for base := range moving {
			adds = append(adds, cands[base]...)
		}
		after := newUniverse(stable, gone, adds)
		changed := false
		hold := func(base, why string) {
			if !slices.Contains(held[base], why) {
				held[base] = append(held[base], why)
				changed = true
			}
		}
		// 2: every moving package's dependencies.
		for base := range moving {
			for _, p := range cands[base] {
				for _, d := range p.Depends {
					rel, err := alpm.ParseRelation(d)
					if err != nil {
						hold(base, fmt.Sprintf("%s has an invalid dependency %q", p.Name, d))
						continue
					}
					if after.satisfier(rel) == nil {
						hold(base, fmt.Sprintf("%s needs %s: nothing in %s provides it after the move", p.Name, d, stableNames(stable)))
					}
				}
			}
		}
		// 3: what stays in stable must not lose a dependency.
		for old, base := range gone {
			for _, name := range providedNames(old) {
				for _, user := range before.users[name] {
					if _, moves := gone[user]; moves {
						continue
					}
					for _, d := range user.Depends {
						rel, err := alpm.ParseRelation(d)
						if err != nil || rel.Name != name {
							continue
						}
						if alpm.Satisfies(rel, old.Candidate()) && after.satisfier(rel) == nil {
							hold(base, fmt.Sprintf("%s (staying in %s) needs %s, which only %s %s provides", user.Name, stableNames(stable), d, old.Name, old.Version))
						}
					}
				}
			}
		}
		if !changed {
			for base := range moving {
				m := Move{Pkgbase: base, pkgs: cands[base]}
				for _, p := range cands[base] {
					m.Files = append(m.Files, p.Filename)
					if alpm.Compare(p.Version, m.Version) > 0 {
						m.Version = p.Version
					}
				}
				for old, b := range gone {
					if b == base && old.Base == base {
						m.Replaces = old.Version
					}
				}
				slices.Sort(m.Files)
				plan.Moves = append(plan.Moves, m)
			}
			break
		}
	}
	for base, why := range held {
		h := Hold{Pkgbase: base, Reasons: why}
		for _, p := range cands[base] {
			if alpm.Compare(p.Version, h.Version) > 0 {
				h.Version = p.Version
			}
		}
		slices.Sort(h.Reasons)
		plan.Held = append(plan.Held, h)
	}
	slices.SortFunc(plan.Moves, func(a, b Move) int { return strings.Compare(a.Pkgbase, b.Pkgbase) })
	slices.SortFunc(plan.Held, func(a, b Hold) int { return strings.Compare(a.Pkgbase, b.Pkgbase) })
	return plan
}

func stableNames(dbs []*syncdb.DB) string {
	var names []string
	for _, db := range dbs {
		names = append(names, db.Name)
	}
	return strings.Join(names, "+")
}

// providedNames is every name a package can satisfy a dependency on.
func providedNames(p *alpm.Package) []string {
	out := []string{p.Name}
	for _, pr := range p.Candidate().Provides {
		out = append(out, pr.Name)
	}
	return out
}

// universe is a set of packages indexed for dependency resolution.
type universe struct {
	byName map[string][]*alpm.Package // by name and by provided name
	users  map[string][]*alpm.Package // by the names their depends refer to
}

func newUniverse(dbs []*syncdb.DB, without map[*alpm.Package]string, with []*alpm.Package) *universe {
	u := &universe{byName: map[string][]*alpm.Package{}, users: map[string][]*alpm.Package{}}
	add := func(p *alpm.Package) {
		for _, n := range providedNames(p) {
			u.byName[n] = append(u.byName[n], p)
		}
		for _, d := range p.Depends {
			if rel, err := alpm.ParseRelation(d); err == nil {
				u.users[rel.Name] = append(u.users[rel.Name], p)
			}
		}
	}
	for _, db := range dbs {
		for _, p := range db.Packages {
			if _, gone := without[p]; !gone {
				add(p)
			}
		}
	}
	for _, p := range with {
		add(p)
	}
	return u
}

// satisfier returns a package that satisfies rel, or nil.
func (u *universe) satisfier(rel alpm.Relation) *alpm.Package {
	for _, p := range u.byName[rel.Name] {
		if alpm.Satisfies(rel, p.Candidate()) {
			return p
		}
	}
	return nil
}

// PromoteOptions say what to promote.
type PromoteOptions struct {
	Only   []string // pkgbases or pkgnames; empty means everything in testing
	DryRun bool     // decide, change nothing
}

// Promote moves what PlanPromotion allows from the testing repository to
// the stable one. stable holds every stable repository of the port (to
// among them, or it is added). It returns the plan it carried out.
func Promote(ctx context.Context, from, to *Repo, stable []*Repo, o PromoteOptions) (*PromotePlan, error) {
	for _, r := range append([]*Repo{from, to}, stable...) {
		if err := r.check(); err != nil {
			return nil, err
		}
	}
	scratch, err := os.MkdirTemp(from.TempDir, "portmake-promote-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	// Finish what an interrupted promotion (or publish) left first.
	for _, r := range []*Repo{to, from} {
		if err := r.Recover(ctx); err != nil {
			return nil, err
		}
	}
	testDB, err := readDB(ctx, from, scratch)
	if err != nil {
		return nil, err
	}
	var dbs []*syncdb.DB
	seen := map[string]bool{}
	for _, r := range append([]*Repo{to}, stable...) {
		if seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		db, err := readDB(ctx, r, scratch)
		if err != nil {
			return nil, err
		}
		dbs = append(dbs, db)
	}
	plan := PlanPromotion(testDB, to.Name, dbs, o.Only)
	if o.DryRun || len(plan.Moves) == 0 {
		return plan, nil
	}
	// Stable first: after this step every moving package is in both.
	var files []File
	var names []string
	for _, m := range plan.Moves {
		for _, p := range m.pkgs {
			f, err := fetchPackage(ctx, from, p, scratch)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
			names = append(names, p.Name)
		}
	}
	if _, err := to.Publish(ctx, files); err != nil {
		return nil, fmt.Errorf("promote to %s: %w (nothing was removed from %s)", to.Name, err, from.Name)
	}
	if err := from.Remove(ctx, names); err != nil {
		return nil, fmt.Errorf("promoted to %s, but removing from %s failed (run promote again to finish): %w", to.Name, from.Name, err)
	}
	return plan, nil
}

// readDB reads a repository's database; a repository without one is empty.
func readDB(ctx context.Context, r *Repo, scratch string) (*syncdb.DB, error) {
	cur, err := r.read(ctx, scratch)
	if err != nil {
		return nil, err
	}
	db := &syncdb.DB{Name: r.Name}
	for _, p := range cur.entries {
		db.Packages = append(db.Packages, p)
	}
	slices.SortFunc(db.Packages, func(a, b *alpm.Package) int { return strings.Compare(a.Name, b.Name) })
	return db, nil
}

// fetchPackage copies a package file (and its .sig) of r to scratch,
// checked against the DB entry.
func fetchPackage(ctx context.Context, r *Repo, p *alpm.Package, scratch string) (File, error) {
	dst := filepath.Join(scratch, p.Filename)
	f, err := os.Create(dst)
	if err != nil {
		return File{}, err
	}
	got, err := r.Backend.Get(ctx, r.key(p.Filename), f)
	f.Close()
	if err != nil {
		return File{}, fmt.Errorf("read %s: %w", r.where(r.key(p.Filename)), err)
	}
	if got.SHA256 != p.SHA256Sum {
		return File{}, fmt.Errorf("%s: %w: sha256 %s, %s.db lists %s; run portmake verify", r.where(r.key(p.Filename)), ErrMismatch, got.SHA256, r.Name, p.SHA256Sum)
	}
	sig, err := os.Create(dst + ".sig")
	if err != nil {
		return File{}, err
	}
	_, err = r.Backend.Get(ctx, r.key(p.Filename+".sig"), sig)
	sig.Close()
	if isNotExist(err) {
		os.Remove(dst + ".sig")
	} else if err != nil {
		return File{}, err
	}
	return File{Path: dst, SHA256: p.SHA256Sum, Size: p.CSize, Origin: OriginPromoted}, nil
}

// Remove takes packages (by name) out of the repository: the DB first,
// then, once it no longer lists them, their files, like a publish's
// superseded files (with a journal, so a kill is finished by the next
// writer).
func (r *Repo) Remove(ctx context.Context, names []string) error {
	if err := r.check(); err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	scratch, err := os.MkdirTemp(r.TempDir, "portmake-remove-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	unlock, err := r.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	j := newJournal()
	j.Removed = names
	committed := false
	for attempt := 1; attempt <= r.retries() && !committed; attempt++ {
		cur, err := r.read(ctx, scratch)
		if err != nil {
			return err
		}
		var have []string
		j.Deletes = nil
		for _, n := range names {
			if e := cur.byName[n]; e != nil {
				have = append(have, n)
				j.Deletes = append(j.Deletes, del{Key: r.key(e.Filename), Pkg: e.Filename}, del{Key: r.key(e.Filename + ".sig"), Pkg: e.Filename})
			}
		}
		if len(have) == 0 {
			return nil
		}
		if err := r.putJournal(ctx, scratch, j); err != nil {
			return err
		}
		newDB, err := r.merge(ctx, cur, nil, have, "db")
		if err != nil {
			return err
		}
		_, err = r.commit(ctx, scratch, "db", newDB, condFor(cur.db, cur.dbPresent))
		switch {
		case err == nil:
			committed = true
		case errors.Is(err, ErrPrecondition):
			continue
		default:
			r.Backend.Delete(ctx, r.journalKey(j.ID))
			return err
		}
	}
	if !committed {
		r.Backend.Delete(ctx, r.journalKey(j.ID))
		return fmt.Errorf("%s: other writers changed the database %d times in a row; nothing was removed, try again", r.where(r.DBKey()), r.retries())
	}
	if err := r.complete(ctx, scratch, j, nil, nil, ""); err != nil {
		return err
	}
	if r.Ledger != nil {
		var gone []string
		for _, d := range j.Deletes {
			if !strings.HasSuffix(d.Key, ".sig") {
				gone = append(gone, base(d.Key))
			}
		}
		return r.Ledger.Removed(ctx, r.Name, gone)
	}
	return nil
}
