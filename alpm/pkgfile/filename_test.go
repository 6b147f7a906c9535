package pkgfile

import (
	"strings"
	"testing"
)

func TestParseFilename(t *testing.T) {
	tests := []struct {
		in   string
		want Name
		err  string // substring of the error; "" means success
	}{
		{in: "lib32-glibc-2.40+r16+gaa0c9d7dc3-1-x86_64.pkg.tar.zst", want: Name{"lib32-glibc", "2.40+r16+gaa0c9d7dc3-1", "x86_64", ".pkg.tar.zst"}},
		{in: "python-foo-1:2.3-4.1-any.pkg.tar.xz", want: Name{"python-foo", "1:2.3-4.1", "any", ".pkg.tar.xz"}},
		{in: "glibc-2.40-1-x86_64.pkg.tar.gz", want: Name{"glibc", "2.40-1", "x86_64", ".pkg.tar.gz"}},
		{in: "a-1-1-any.pkg.tar", want: Name{"a", "1-1", "any", ".pkg.tar"}},
		{in: "x-y-z-1.0~rc1-2-armv7h.pkg.tar.bz2", want: Name{"x-y-z", "1.0~rc1-2", "armv7h", ".pkg.tar.bz2"}},
		{in: "libsigc++-3.6.0-1-x86_64.pkg.tar.zst", want: Name{"libsigc++", "3.6.0-1", "x86_64", ".pkg.tar.zst"}},
		{in: "../x-1-1-any.pkg.tar.zst", err: "without '/'"},
		{in: "dir/x-1-1-any.pkg.tar.zst", err: "without '/'"},
		{in: "-x-1-1-any.pkg.tar.zst", err: "must not start with"},
		{in: ".x-1-1-any.pkg.tar.zst", err: "must not start with"},
		{in: "x-1-1-any.tar.zst", err: "extension"},
		{in: "x-1-1-any.pkg.tar.rar", err: "extension"},
		{in: "x-1-any.pkg.tar.zst", err: "want <name>-<pkgver>-<pkgrel>"},
		{in: "x-any.pkg.tar.zst", err: "want <name>-<pkgver>-<pkgrel>"},
		{in: "x.pkg.tar.zst", err: "want <name>-<version>-<arch>"},
		{in: ".pkg.tar.zst", err: "want <name>"},
		{in: "-1-1-any.pkg.tar.zst", err: "empty"},
		{in: "x--1-any.pkg.tar.zst", err: "empty pkgver"},
		{in: "x-1--any.pkg.tar.zst", err: "empty pkgrel"},
		{in: "x-1-1-.pkg.tar.zst", err: "architecture"},
		// An architecture with '-' cannot be told apart: like pacman, the
		// last two '-' win.
		{in: "x-1-1-x86-64.pkg.tar.zst", want: Name{"x-1", "1-x86", "64", ".pkg.tar.zst"}},
		{in: "x-a:1-1-any.pkg.tar.zst", err: "epoch"},
		{in: "x-1 2-1-any.pkg.tar.zst", err: "not allowed in pkgver"},
		{in: "na$me-1-1-any.pkg.tar.zst", err: "not allowed"},
		{in: "x-1-1-any.pkg.tar.zst\x00", err: "without '/'"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFilename(tt.in)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("ParseFilename(%q) = %+v, want error containing %q", tt.in, got, tt.err)
				}
				if !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseFilename(%q) error %q, want it to contain %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFilename(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseFilename(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func FuzzParseFilename(f *testing.F) {
	for _, s := range []string{
		"lib32-glibc-2.40+r16+gaa0c9d7dc3-1-x86_64.pkg.tar.zst",
		"python-foo-1:2.3-4.1-any.pkg.tar.xz",
		"../x-1-1-any.pkg.tar.zst",
		"-x-1-1-any.pkg.tar.zst",
		"x-1-1-any.pkg.tar",
		"a-b-c-d-e-f.pkg.tar.gz",
		"x-:1-1-any.pkg.tar.zst",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseFilename(s)
		if err != nil {
			return
		}
		// Whatever is accepted takes apart and back losslessly, and every
		// part is safe as a path element and a database entry name.
		if n.String() != s {
			t.Fatalf("%q: String() = %q", s, n.String())
		}
		if strings.ContainsAny(n.Pkgname+n.Version+n.Arch, "/\x00 \n") {
			t.Fatalf("%q: unsafe part in %+v", s, n)
		}
		if n.Pkgname == "" || n.Pkgname[0] == '-' || n.Pkgname[0] == '.' {
			t.Fatalf("%q: bad name %q", s, n.Pkgname)
		}
		if strings.Count(n.Version, "-") != 1 {
			t.Fatalf("%q: version %q must hold exactly one '-'", s, n.Version)
		}
		if err := CheckVersion(n.Version); err != nil {
			t.Fatalf("%q: accepted version fails CheckVersion: %v", s, err)
		}
	})
}
