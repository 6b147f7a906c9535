package engine

import (
	"context"
	"fmt"
	"slices"

	pubrepo "github.com/portmake/portmake/publish"
)

// Promotion types, under the engine's name for front ends.
type (
	// PromotePlan is what a promotion moves and holds back.
	PromotePlan = pubrepo.PromotePlan
	// VerifyReport is one repository's verification.
	VerifyReport = pubrepo.Report
)

// PromoteOptions say what promote moves.
type PromoteOptions struct {
	// From names the testing repositories to promote from (a repo
	// block's publish); empty means every one the Portfile has.
	From   []string
	Only   []string // pkgbases or pkgnames; empty means all
	DryRun bool
	// ForceUnconditional allows an S3 store without conditional writes.
	ForceUnconditional bool
}

// Promote moves packages from each testing repository (a repo block's
// publish, such as core-testing) to its stable one (the block's own name),
// gated on their dependencies in the stable repositories (see package
// publish). It returns one plan per testing repository, carried out unless
// DryRun.
func (p *Port) Promote(ctx context.Context, o PromoteOptions) ([]*PromotePlan, error) {
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	pub, err := p.publisher(ctx, st, o.ForceUnconditional, !o.DryRun)
	if err != nil {
		return nil, err
	}
	var stable []*pubrepo.Repo
	for _, r := range p.pf.Repos {
		stable = append(stable, pub.Repo(r.Name))
	}
	var out []*PromotePlan
	done := map[string]bool{}
	for _, r := range p.pf.Repos {
		if r.Publish == r.Name || r.Publish == "" || done[r.Publish] {
			continue
		}
		if len(o.From) > 0 && !slices.Contains(o.From, r.Publish) {
			continue
		}
		done[r.Publish] = true
		from, to := pub.Repo(r.Publish), pub.Repo(r.Name)
		unlock := pub.Lock(r.Name)
		unlockFrom := pub.Lock(r.Publish)
		plan, err := pubrepo.Promote(ctx, from, to, stable, pubrepo.PromoteOptions{Only: o.Only, DryRun: o.DryRun})
		unlockFrom()
		unlock()
		if err != nil {
			return out, fmt.Errorf("promote %s to %s: %w", r.Publish, r.Name, err)
		}
		out = append(out, plan)
	}
	for _, f := range o.From {
		if !done[f] {
			return out, fmt.Errorf("promote: %s is not a testing repository of the Portfile (a repo block's publish that differs from its name)", f)
		}
	}
	if len(out) == 0 && len(o.From) == 0 {
		return nil, fmt.Errorf("promote: no repo block publishes to a testing repository (repo \"core\" { publish = \"core-testing\" }); nothing to promote")
	}
	return out, nil
}
