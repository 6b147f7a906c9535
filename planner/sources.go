package planner

import "fmt"

// WithSources returns a copy of p whose nodes carry the given sources (by
// pkgbase) and are hashed again; p itself is not modified.
//
// It lets a caller pay for source resolution only for the pkgbases a plan
// needs: Build without their sources, resolve those of p's nodes, then
// WithSources. The result equals what Build would have returned with the
// sources in Input.Sources, because a source without a Recipe only takes
// part in hashing. A source with a Recipe can change the plan itself (its
// build dependencies), so it must be given to Build and is refused here.
func WithSources(p *Plan, srcs map[string]Source) (*Plan, error) {
	for name, s := range srcs {
		if s.Recipe != nil {
			return nil, fmt.Errorf("source of %s has a recipe: give it to Build", name)
		}
	}
	q := *p
	q.Nodes = make([]*Node, len(p.Nodes))
	for i, n := range p.Nodes {
		c := *n
		if s, ok := srcs[n.Pkgbase]; ok {
			c.Source = &s
		}
		q.Nodes[i] = &c
	}
	hashPlan(&q)
	q.index()
	return &q, nil
}
