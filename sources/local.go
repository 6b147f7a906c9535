package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/portmake/portmake/alpm/srcinfo"
)

// localSrcinfo reads dir/.SRCINFO, or has PrintSrcinfo (makepkg in the
// builders' sandbox) print one. A .SRCINFO that exists is trusted as it is
// (it is what the AUR and most tooling read too), but one that disagrees
// with what its PKGBUILD plainly says is worth a warning (see stale.go).
func (r *Resolver) localSrcinfo(ctx context.Context, dir string) (*srcinfo.Srcinfo, error) {
	path := filepath.Join(dir, ".SRCINFO")
	si, err := srcinfo.ParseFile(path)
	if err == nil {
		if pkgbuild, err := os.ReadFile(filepath.Join(dir, "PKGBUILD")); err == nil {
			if drift := srcinfoDrift(pkgbuild, si); len(drift) > 0 {
				r.log().Warn(".SRCINFO is stale: "+strings.Join(drift, "; ")+" (run makepkg --printsrcinfo > .SRCINFO)", "dir", dir)
			}
		}
		return si, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	if r.PrintSrcinfo == nil {
		return nil, fmt.Errorf("no .SRCINFO in %s; run makepkg --printsrcinfo > .SRCINFO", dir)
	}
	out, err := r.PrintSrcinfo(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("no .SRCINFO in %s, and makepkg --printsrcinfo failed: %w", dir, err)
	}
	return srcinfo.Parse(bytes.NewReader(out), filepath.Join(dir, "PKGBUILD")+" (makepkg --printsrcinfo)")
}
