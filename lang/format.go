package lang

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns the canonical layout of a Portfile or var file (what
// `portmake fmt` writes). It refuses text that does not parse, since
// hclwrite formats token by token and would rearrange a broken file into a
// differently broken one, and text over the bounds of bounds.go.
func Format(src []byte, filename string) ([]byte, hcl.Diagnostics) {
	if diags := checkSource(src, filename, "file"); diags.HasErrors() {
		return nil, diags
	}
	if _, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	return hclwrite.Format(src), nil
}
