package publish

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/portmake/portmake/executor"
)

// GPG signs with GnuPG, like repo-add --sign and makepkg --sign: a binary
// detached signature per file. The key must sign without a prompt (no
// passphrase, or one gpg-agent has cached): portmake runs gpg in batch
// mode and never reads a passphrase.
type GPG struct {
	KeyID string // key id or fingerprint, as gpg --local-user takes it
	Home  string // GNUPGHOME; "" is gpg's default
	// Program is the gpg binary; "" is "gpg" on PATH.
	Program string
}

func (g *GPG) Key() string { return g.KeyID }

func (g *GPG) command(args ...string) executor.Command {
	prog := g.Program
	if prog == "" {
		prog = "gpg"
	}
	base := []string{prog, "--batch", "--no-tty", "--yes"}
	if g.Home != "" {
		base = append(base, "--homedir", g.Home)
	}
	return executor.Command{Args: append(base, args...), Env: []string{"LC_ALL=C"}}
}

// SignCommand is the command Sign runs, for --dry-run.
func (g *GPG) SignCommand(file, sig string) executor.Command {
	return g.command("--detach-sign", "--no-armor", "--local-user", g.KeyID, "--output", sig, file)
}

func (g *GPG) Sign(ctx context.Context, file, sig string) error {
	var out strings.Builder
	if _, err := executor.RunCommand(ctx, g.SignCommand(file, sig), &out); err != nil {
		os.Remove(sig)
		return fmt.Errorf("gpg could not sign with key %s: %w: %s", g.KeyID, err, lastLines(out.String(), 3))
	}
	return nil
}

// Check signs and verifies a scratch file, so that a missing, expired or
// passphrase-locked key fails before any build starts, not after the
// first one.
func (g *GPG) Check(ctx context.Context) error {
	if g.KeyID == "" {
		return errors.New("sign: no key")
	}
	dir, err := os.MkdirTemp("", "portmake-sign-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "check")
	if err := os.WriteFile(file, []byte("portmake signing check\n"), 0o644); err != nil {
		return err
	}
	if err := g.Sign(ctx, file, file+".sig"); err != nil {
		where := "the default keyring"
		if g.Home != "" {
			where = g.Home
		}
		return fmt.Errorf("sign: the key %s in %s cannot sign (is it there, unexpired, with a secret key usable without a passphrase prompt?): %w", g.KeyID, where, err)
	}
	var out strings.Builder
	if _, err := executor.RunCommand(ctx, g.command("--verify", file+".sig", file), &out); err != nil {
		return fmt.Errorf("sign: a signature made with %s does not verify: %w: %s", g.KeyID, err, lastLines(out.String(), 3))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}
