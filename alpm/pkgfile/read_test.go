package pkgfile_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/portmake/portmake/alpm/pkgfile"
	"github.com/portmake/portmake/alpm/pkgfile/pkgfiletest"
	"github.com/portmake/portmake/internal/testutil"
)

const pkginfo = `pkgname = demo
pkgver = 1.0-1
pkgdesc = A demo
size = 12
builddate = 1700000000
arch = any
`

var files = []pkgfiletest.File{
	{Name: "usr/bin/demo", Data: []byte("#!/bin/sh\n"), Mode: 0o755},
	{Name: "usr/share/demo/.hidden", Data: []byte("x")},
	{Name: "usr/share/doc/"},
	{Name: "usr/lib/libdemo.so", Link: "libdemo.so.1"},
	{Name: ".INSTALL", Data: []byte("post_install() { :; }\n")},
	{Name: ".dotdir/inside", Data: []byte("y")},
}

func TestRead(t *testing.T) {
	for _, ext := range []string{".pkg.tar.zst", ".pkg.tar.gz", ".pkg.tar.xz", ".pkg.tar"} {
		t.Run(ext, func(t *testing.T) {
			dir := t.TempDir()
			path, err := pkgfiletest.Build(dir, []byte(pkginfo), files, ext)
			if err != nil {
				t.Fatal(err)
			}
			if want := "demo-1.0-1-any" + ext; filepath.Base(path) != want {
				t.Fatalf("built %s, want %s", path, want)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p, err := pkgfile.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			md5sum, shasum := md5.Sum(raw), sha256.Sum256(raw)
			if p.Filename != filepath.Base(path) || p.CSize != int64(len(raw)) ||
				p.MD5Sum != hex.EncodeToString(md5sum[:]) || p.SHA256Sum != hex.EncodeToString(shasum[:]) {
				t.Fatalf("file facts wrong: %+v", p)
			}
			if p.Name != "demo" || p.Version != "1.0-1" || p.ISize != 12 || p.Desc != "A demo" || p.PGPSig != "" {
				t.Fatalf("metadata wrong: %+v", p)
			}
			want := []string{"usr/", "usr/bin/", "usr/bin/demo", "usr/lib/", "usr/lib/libdemo.so", "usr/share/", "usr/share/demo/", "usr/share/demo/.hidden", "usr/share/doc/"}
			if !reflect.DeepEqual(p.Files, want) {
				t.Fatalf("Files = %q\nwant    %q", p.Files, want)
			}
		})
	}
}

// TestReadFilesMatchesBsdtar checks the file list against the pipeline
// repo-add runs, on an archive with "./" prefixes, dot directories and
// duplicates.
func TestReadFilesMatchesBsdtar(t *testing.T) {
	testutil.RequireTool(t, "bsdtar", "sort")
	fs := append([]pkgfiletest.File{
		{Name: "./usr/x", Data: []byte("1")},
		{Name: "./.BUILDINFO", Data: []byte("2")},
		{Name: "usr/bin/demo", Data: []byte("again")},
		{Name: "opt/Z"}, {Name: "opt/a"}, {Name: "opt/_"},
	}, files...)
	dir := t.TempDir()
	path, err := pkgfiletest.Build(dir, []byte(pkginfo), fs, ".pkg.tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	p, err := pkgfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(context.Background(), "bsdtar", "--exclude=^.*", "-tf", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(out))
	sort.Strings(want)
	want = uniq(want)
	if !reflect.DeepEqual(p.Files, want) {
		t.Fatalf("Files = %q\nbsdtar  %q", p.Files, want)
	}
}

func uniq(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func TestReadSignature(t *testing.T) {
	dir := t.TempDir()
	path, err := pkgfiletest.Build(dir, []byte(pkginfo), nil, ".pkg.tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	sig := []byte{0x89, 0x01, 0x33, 0x04, 0x00, 0x01, 0x0a, 0x00, 0x1d}
	if err := os.WriteFile(path+".sig", sig, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := pkgfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.PGPSig != base64.StdEncoding.EncodeToString(sig) {
		t.Fatalf("PGPSig = %q", p.PGPSig)
	}

	os.WriteFile(path+".sig", []byte("-----BEGIN PGP SIGNATURE-----\n..."), 0o644)
	if _, err := pkgfile.Read(path); err == nil || !strings.Contains(err.Error(), "armored") {
		t.Fatalf("armored signature: err = %v", err)
	}
	os.WriteFile(path+".sig", make([]byte, pkgfile.MaxSigSize+1), 0o644)
	if _, err := pkgfile.Read(path); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("huge signature: err = %v", err)
	}
	os.WriteFile(path+".sig", make([]byte, pkgfile.MaxSigSize), 0o644)
	if _, err := pkgfile.Read(path); err != nil {
		t.Fatalf("signature of exactly the limit: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	good, err := pkgfiletest.Archive([]byte(pkginfo), files, time.Unix(0, 0), ".pkg.tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	noInfo, err := pkgfiletest.Archive(nil, nil, time.Unix(0, 0), ".pkg.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	badInfo, err := pkgfiletest.Archive([]byte("pkgname = ../etc\npkgver = 1-1\nsize = 1\nbuilddate = 1\n"), nil, time.Unix(0, 0), ".pkg.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		err  string
	}{
		{"truncated", good[:len(good)/2], "x-1-1-any.pkg.tar.zst"},
		{"not an archive", []byte("<html>404</html>"), "x-1-1-any.pkg.tar.zst"},
		{"empty", nil, "x-1-1-any.pkg.tar.zst"},
		{"no .PKGINFO", noInfo, "no .PKGINFO"},
		{"bad .PKGINFO", badInfo, "pkgname"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "x-1-1-any.pkg.tar.zst")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := pkgfile.Read(path)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want one containing %q", err, tt.err)
			}
		})
	}
	if _, err := pkgfile.Read(filepath.Join(dir, "missing.pkg.tar.zst")); err == nil {
		t.Fatal("missing file: no error")
	}
	if _, err := pkgfile.Read(dir); err == nil {
		t.Fatal("directory: no error")
	}
}

func BenchmarkRead(b *testing.B) {
	dir := b.TempDir()
	var fs []pkgfiletest.File
	for i := 0; i < 2000; i++ {
		fs = append(fs, pkgfiletest.File{Name: "usr/share/demo/file" + strings.Repeat("x", i%40) + string(rune('a'+i%26)) + hex.EncodeToString([]byte{byte(i), byte(i >> 8)}), Data: []byte(strings.Repeat("data", i%100))})
	}
	path, err := pkgfiletest.Build(dir, []byte(pkginfo), fs, ".pkg.tar.zst")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pkgfile.Read(path); err != nil {
			b.Fatal(err)
		}
	}
}
