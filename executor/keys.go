package executor

import (
	"context"
	"fmt"
	"github.com/portmake/portmake/internal/fsutil"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/portmake/portmake/alpm/srcinfo"
)

// importKeys imports the PGP keys of a package whose PKGBUILD lists
// validpgpkeys into the build's own keyring (GNUPGHOME in its home), so
// that makepkg verifies signed sources instead of being told to skip them.
// The keys come from the package's keys/pgp/*.asc, as Arch's packaging
// repositories ship them, and from the Portfile's keyring directories.
// gpg parses them in the sandbox, as the build user: a key file is as
// untrusted as the PKGBUILD beside it. makepkg itself then accepts only
// signatures by the fingerprints validpgpkeys lists.
func (s *Sandbox) importKeys(ctx context.Context, w *workspace, si *srcinfo.Srcinfo, keyring []string, log io.Writer) error {
	if len(si.Base.ValidPGPKeys) == 0 {
		return nil
	}
	dirs := append([]string{filepath.Join(w.startdir(), "keys", "pgp")}, keyring...)
	var files []string
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return fmt.Errorf("PGP keys: %w", err)
		}
		for _, e := range ents {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".asc") {
				files = append(files, filepath.Join(d, e.Name()))
			}
		}
	}
	if len(files) == 0 {
		fmt.Fprintf(log, "==> portmake: WARNING: validpgpkeys lists %s, but there is no keys/pgp/*.asc beside the PKGBUILD nor a Portfile keyring to import them from\n",
			strings.Join(si.Base.ValidPGPKeys, ", "))
		return nil
	}
	args := []string{"gpg", "--batch", "--no-tty", "--homedir", sbHome + "/.gnupg", "--import"}
	for i, f := range files {
		name := fmt.Sprintf("%02d-%s", i, filepath.Base(f))
		if err := fsutil.CopyFile(f, filepath.Join(w.keys(), name), 0o644); err != nil {
			return fmt.Errorf("PGP key %s: %w", f, err)
		}
		args = append(args, sbKeys+"/"+name)
	}
	gnupg := filepath.Join(w.home(), ".gnupg")
	if err := os.Mkdir(gnupg, 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	if err := s.User.chown(gnupg); err != nil {
		return err
	}
	c := s.command(inSandbox{ws: w, keys: true, args: args})
	fmt.Fprintf(log, "==> portmake: importing %d PGP key file(s) for %s\n", len(files), strings.Join(si.Base.ValidPGPKeys, ", "))
	fmt.Fprintf(log, "==> portmake: %s\n", c)
	if _, err := RunCommand(ctx, c, log); err != nil {
		return fmt.Errorf("import the PGP keys of %s: %w", si.Base.Name, err)
	}
	return nil
}
