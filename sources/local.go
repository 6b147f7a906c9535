package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/portmake/portmake/alpm/srcinfo"
)

// localSrcinfo reads dir/.SRCINFO, or has PrintSrcinfo (makepkg in the
// builders' sandbox) print one. A
// .SRCINFO that exists is trusted as it is (it is what the AUR and most
// tooling read too), but one older than its PKGBUILD is worth a warning.
func (r *Resolver) localSrcinfo(ctx context.Context, dir string) (*srcinfo.Srcinfo, error) {
	path := filepath.Join(dir, ".SRCINFO")
	si, err := srcinfo.ParseFile(path)
	if err == nil {
		if s, err1 := os.Stat(path); err1 == nil {
			if p, err2 := os.Stat(filepath.Join(dir, "PKGBUILD")); err2 == nil && p.ModTime().After(s.ModTime()) {
				r.log().Warn(".SRCINFO is older than PKGBUILD; it may be stale (run makepkg --printsrcinfo > .SRCINFO)", "dir", dir)
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
