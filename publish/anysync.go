package publish

// ARCH=any packages need no build: a port copies them from the upstream
// repository. What makes that safe is that the upstream DB, which the plan
// read and recorded by its sha256, names every file's size and sha256: a
// downloaded file is published only when it has exactly those bytes.

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/pkgfile"
)

// SyncItem is one upstream package to copy: its entry in the upstream DB
// and the URL of the directory that DB is in (package files sit beside
// it, as on every Arch mirror).
type SyncItem struct {
	Pkg     *alpm.Package
	BaseURL string
}

// URL is where the item's package file is: BaseURL is a URL, or a local
// directory.
func (it SyncItem) URL() string {
	base := strings.TrimSuffix(it.BaseURL, "/") + "/"
	if strings.Contains(base, "://") {
		return base + url.PathEscape(it.Pkg.Filename)
	}
	return base + it.Pkg.Filename
}

// Downloader fetches a URL into a local file and returns its path. check
// validates the body before it is accepted; its error is the download's.
type Downloader func(ctx context.Context, url string, check func(path string) error) (string, error)

// Download fetches the items' package files, each checked against its
// upstream DB entry (%CSIZE% and %SHA256SUM%), and their detached
// signatures (the mirror's .sig, else the DB's %PGPSIG%), into dir under
// their own names, ready to Publish.
func Download(ctx context.Context, items []SyncItem, dir string, get Downloader) ([]File, error) {
	var out []File
	for _, it := range items {
		p := it.Pkg
		if _, err := pkgfile.ParseFilename(p.Filename); err != nil {
			return nil, fmt.Errorf("upstream %s: %%FILENAME%%: %w", p.Name, err)
		}
		if p.SHA256Sum == "" || p.CSize <= 0 {
			return nil, fmt.Errorf("upstream %s: the DB gives no %%SHA256SUM%% and %%CSIZE%% to check the download against; refusing to copy it", p.Filename)
		}
		check := func(path string) error {
			sum, size, err := HashFile(path)
			if err != nil {
				return err
			}
			if size != p.CSize || sum != p.SHA256Sum {
				return fmt.Errorf("%w: %d bytes with sha256 %s, the upstream DB lists %d bytes with sha256 %s", ErrMismatch, size, sum, p.CSize, p.SHA256Sum)
			}
			return nil
		}
		got, err := get(ctx, it.URL(), check)
		if err != nil {
			return nil, fmt.Errorf("copy %s %s (ARCH=any) from %s: %w", p.Name, p.Version, it.URL(), err)
		}
		dst := filepath.Join(dir, p.Filename)
		if err := linkOrCopy(got, dst); err != nil {
			return nil, err
		}
		// The bytes in dst are checked again: got may be a cache file
		// another process could replace.
		if err := check(dst); err != nil {
			return nil, fmt.Errorf("%s: %w", dst, err)
		}
		sig, sigErr := get(ctx, it.URL()+".sig", func(path string) error {
			_, err := pkgfile.ReadSig(path)
			return err
		})
		switch {
		case sigErr == nil:
			if err := linkOrCopy(sig, dst+".sig"); err != nil {
				return nil, err
			}
		case p.PGPSig != "":
			raw, err := base64.StdEncoding.DecodeString(p.PGPSig)
			if err != nil {
				return nil, fmt.Errorf("upstream %s: %%PGPSIG%%: %w", p.Filename, err)
			}
			if err := os.WriteFile(dst+".sig", raw, 0o644); err != nil {
				return nil, err
			}
		}
		out = append(out, File{Path: dst, SHA256: p.SHA256Sum, Size: p.CSize, Origin: OriginSynced})
	}
	return out, nil
}

func linkOrCopy(src, dst string) error {
	os.Remove(dst)
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}
