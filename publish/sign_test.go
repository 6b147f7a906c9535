package publish

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/portmake/portmake/internal/testutil"
)

func testLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// gpgTarget is a throwaway signing key, shared by the tests of one run.
type gpgTarget struct {
	Home string
	Key  string
}

func (g *gpgTarget) signer() Signer { return &GPG{KeyID: g.Key, Home: g.Home} }

var (
	keyOnce sync.Once
	testKey *gpgTarget
	keyErr  error
	keyDirs []string
)

// throwawayKey makes (once) an ed25519 signing key without a passphrase in
// a temporary GNUPGHOME.
func throwawayKey(t testing.TB) *gpgTarget {
	t.Helper()
	testutil.RequireTool(t, "gpg")
	keyOnce.Do(func() {
		home, err := os.MkdirTemp("", "portmake-gpg-")
		if err != nil {
			keyErr = err
			return
		}
		keyDirs = append(keyDirs, home)
		os.Chmod(home, 0o700)
		gen := exec.Command("gpg", "--batch", "--homedir", home, "--passphrase", "", "--quick-gen-key", "portmake test <test@example.org>", "ed25519", "sign", "never")
		if out, err := gen.CombinedOutput(); err != nil {
			keyErr = err
			t.Logf("%s", out)
			return
		}
		out, err := exec.Command("gpg", "--batch", "--homedir", home, "--with-colons", "--list-secret-keys").Output()
		if err != nil {
			keyErr = err
			return
		}
		for _, l := range strings.Split(string(out), "\n") {
			if f := strings.Split(l, ":"); f[0] == "fpr" {
				testKey = &gpgTarget{Home: home, Key: f[9]}
				break
			}
		}
	})
	if keyErr != nil || testKey == nil {
		t.Fatalf("make a test key: %v", keyErr)
	}
	return testKey
}

// gpgVerify checks a detached signature with gpg against the test key.
func gpgVerify(t testing.TB, key *gpgTarget, sig, data []byte) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "data"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "data.sig"), sig, 0o644)
	cmd := exec.Command("gpg", "--batch", "--homedir", key.Home, "--status-fd", "1", "--verify", filepath.Join(dir, "data.sig"), filepath.Join(dir, "data"))
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("[GNUPG:] VALIDSIG "+key.Key)) {
		t.Errorf("signature does not verify: %v\n%s", err, out)
	}
}

func get(t testing.TB, b Backend, key string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := b.Get(context.Background(), key, &buf); err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return buf.Bytes()
}

// signedRepo checks that every package and both databases carry valid
// signatures, and that %PGPSIG% is the package's .sig.
func signedRepo(t testing.TB, key *gpgTarget, b Backend, r *Repo) {
	t.Helper()
	db := readBack(t, b, r.DBKey())
	for _, p := range db.Packages {
		sig := get(t, b, r.key(p.Filename+".sig"))
		gpgVerify(t, key, sig, get(t, b, r.key(p.Filename)))
		if p.PGPSig != base64.StdEncoding.EncodeToString(sig) {
			t.Errorf("%s: %%PGPSIG%% is not its .sig", p.Filename)
		}
	}
	for _, kind := range []string{"db", "files"} {
		data := get(t, b, r.dbKey(kind))
		gpgVerify(t, key, get(t, b, r.dbKey(kind)+".sig"), data)
		gpgVerify(t, key, get(t, b, r.key(r.Name+"."+kind+".sig")), data)
	}
}

func TestSignedPublish(t *testing.T) {
	key := throwawayKey(t)
	ctx := context.Background()
	srv := fakeS3(t)
	sb, sr := s3Repo(t, srv, s3Target{})
	d, dr := dirRepo(t)
	for _, c := range []struct {
		name string
		b    Backend
		r    *Repo
	}{{"dir", d, dr}, {"s3", sb, sr}} {
		t.Run(c.name, func(t *testing.T) {
			c.r.Signer = key.signer()
			out := t.TempDir()
			v1 := mkpkg(t, filepath.Join(out, "1"), pkgSpec{name: "foo", ver: "1-1", payload: "a"})
			if _, err := c.r.Publish(ctx, []File{v1}); err != nil {
				t.Fatal(err)
			}
			signedRepo(t, key, c.b, c.r)
			// A rebuild under the same name gets a new signature.
			v2 := mkpkg(t, filepath.Join(out, "2"), pkgSpec{name: "foo", ver: "1-1", payload: "b"})
			bar := mkpkg(t, filepath.Join(out, "2"), pkgSpec{name: "bar", ver: "1-1", payload: "b"})
			if _, err := c.r.Publish(ctx, []File{v2, bar}); err != nil {
				t.Fatal(err)
			}
			signedRepo(t, key, c.b, c.r)
			consistent(t, c.b, c.r)
			verifyOK(t, c.r, VerifyOptions{})
			verifyOK(t, c.r, VerifyOptions{Deep: true})
			// A lost package signature comes back from %PGPSIG%.
			if err := c.b.Delete(ctx, c.r.key(filepath.Base(bar.Path)+".sig")); err != nil {
				t.Fatal(err)
			}
			if rep, _ := c.r.Verify(ctx, VerifyOptions{}); rep.OK() {
				t.Error("a missing package signature went unnoticed")
			}
			if _, err := c.r.Repair(ctx, VerifyOptions{}, nil); err != nil {
				t.Fatal(err)
			}
			signedRepo(t, key, c.b, c.r)
			if _, err := os.Stat(v2.Path + ".sig"); err == nil {
				t.Error("signing wrote into the build's output directory")
			}
		})
	}
	if l, err := os.Readlink(filepath.Join(d.Root, dr.key("extra.db.sig"))); err != nil || l != "extra.db.tar.gz.sig" {
		t.Errorf("extra.db.sig is not repo-add's symlink: %q %v", l, err)
	}
}

func TestSignCheck(t *testing.T) {
	key := throwawayKey(t)
	ctx := context.Background()
	if err := (&GPG{KeyID: key.Key, Home: key.Home}).Check(ctx); err != nil {
		t.Errorf("a usable key: %v", err)
	}
	for _, g := range []*GPG{
		{KeyID: "0123456789ABCDEF0123456789ABCDEF01234567", Home: key.Home},
		{KeyID: key.Key, Home: t.TempDir()},
		{},
	} {
		if err := g.Check(ctx); err == nil {
			t.Errorf("%+v: a key that cannot sign passed the check", g)
		}
	}
}

func TestSignedKillAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process per crash point")
	}
	key := throwawayKey(t)
	ctx := context.Background()
	d, r := dirRepo(t)
	r.Signer = key.signer()
	v2 := crashSetup(t, r, t.TempDir())
	out, killed := runChild(t, crashJob{Root: d.Root, Temp: t.TempDir(), Files: v2, Sign: key})
	steps := countSteps(t, out, killed)
	for k := 1; k <= steps; k++ {
		t.Run("step"+itoa(k), func(t *testing.T) {
			d, r := dirRepo(t)
			r.Signer = key.signer()
			v2 := crashSetup(t, r, t.TempDir())
			if _, killed := runChild(t, crashJob{Root: d.Root, Temp: t.TempDir(), Files: v2, CrashAt: k, Sign: key}); !killed {
				t.Fatalf("the child was not killed at step %d", k)
			}
			afterCrash(t, d, r)
			if err := r.Recover(ctx); err != nil {
				t.Fatalf("recover: %v", err)
			}
			recovered(t, d, r)
			if _, err := r.Publish(ctx, v2); err != nil {
				t.Fatalf("publish after the kill: %v", err)
			}
			resumed(t, d, r, v2, "bar-1-1-aarch64.pkg.tar.zst.sig", "foo-1-1-aarch64.pkg.tar.zst.sig", "foo-libs-1-2-aarch64.pkg.tar.zst.sig",
				"extra.db.sig", "extra.db.tar.gz.sig", "extra.files.sig", "extra.files.tar.gz.sig")
			signedRepo(t, key, d, r)
		})
	}
}
