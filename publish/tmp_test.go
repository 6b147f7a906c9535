package publish

type s3Target struct{}

func (s *s3Target) backend() (Backend, error) { return nil, nil }

type gpgTarget struct{}

func (g *gpgTarget) signer() Signer { return nil }
