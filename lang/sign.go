package lang

import (
	"os"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Sign is the sign block: the GnuPG key that signs packages and databases.
type Sign struct {
	Key     string // fingerprint or long key id: upper-case hex, no spaces
	GPGHome string // absolute; "" for GnuPG's default
	Range   hcl.Range
}

var (
	signSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "key", Required: true}, {Name: "gpg_home"}}}
	keyRE      = regexp.MustCompile(`^([0-9A-F]{16}|[0-9A-F]{40}|[0-9A-F]{64})$`)
)

func (l *loader) sign(b *hcl.Block) *Sign {
	s := &Sign{Range: b.DefRange}
	attrs := l.content(b, signSchema)
	if a := attrs["key"]; a != nil {
		if v, ok := l.str(a); ok {
			k := strings.ToUpper(strings.TrimPrefix(strings.ReplaceAll(v, " ", ""), "0x"))
			if !keyRE.MatchString(k) {
				l.errorf(a.Expr.Range(), "Invalid signing key",
					"The key %q must be a GnuPG fingerprint (40 hexadecimal digits, 64 for v5 keys) or a long key id (16 digits); short ids are refused, since colliding keys are easy to make.", v)
			} else {
				s.Key = k
			}
		}
	}
	if a := attrs["gpg_home"]; a != nil {
		if loc, ok := l.location(a, locLocal); ok {
			if st, err := os.Stat(loc.Path); err != nil || !st.IsDir() {
				l.errorf(a.Expr.Range(), "GnuPG home not found", "gpg_home %s is not a directory; it must hold the signing key.", loc.Path)
			} else {
				s.GPGHome = loc.Path
			}
		}
	}
	return s
}
