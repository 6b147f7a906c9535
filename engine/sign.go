package engine

import (
	"context"

	pubrepo "github.com/portmake/portmake/publish"
)

// signer returns the Portfile's signer, or nil when it signs nothing.
// check signs and verifies a scratch file with the key first, so that a
// missing or unusable key fails before any build starts.
func (p *Port) signer(ctx context.Context, check bool) (*pubrepo.GPG, error) {
	s := p.pf.Sign
	if s == nil {
		return nil, nil
	}
	g := &pubrepo.GPG{KeyID: s.Key, Home: s.GPGHome}
	if check {
		if err := g.Check(ctx); err != nil {
			return nil, err
		}
	}
	return g, nil
}
