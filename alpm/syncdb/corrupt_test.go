package syncdb

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/portmake/portmake/internal/testutil"
)

// corpusBytes returns a corpus database and its decompressed tar.
func corpusBytes(t *testing.T, rel string) (raw, plain []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testutil.Corpus(t), "syncdb", rel))
	if err != nil {
		t.Fatal(err)
	}
	dec, _, err := Decompress(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	plain, err = io.ReadAll(dec)
	if err != nil {
		t.Fatal(err)
	}
	return raw, plain
}

// memberOffset returns the offset of the data of the n-th regular member of
// a tar archive, its name and its size.
func memberOffset(t *testing.T, data []byte, n int) (int64, string, int64) {
	t.Helper()
	tr := &tarReader{r: bytes.NewReader(data)}
	for i := 0; ; {
		m, err := tr.next()
		if err != nil {
			t.Fatalf("member %d: %v", n, err)
		}
		if m.typ != '0' || m.size < 16 {
			continue
		}
		if i == n {
			return tr.n, m.name, m.size
		}
		i++
	}
}

func zstdBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeAll(data, nil)
}

// TestReadCorrupt feeds Read broken databases made from real ones. Each
// must fail, and the error must name the source and, where the damage is
// inside an entry, that entry.
func TestReadCorrupt(t *testing.T) {
	gzRaw, gzPlain := corpusBytes(t, "armv6h-2015-01-07-alarm/alarm.db")
	zstRaw, _ := corpusBytes(t, "x86_64-2022-09-12-thirdparty/chaotic-aur.db.tar.xz")

	off, member, size := memberOffset(t, gzPlain, 10)
	cutMember := gzPlain[:off+size/2] // the 11th file, cut in half

	garbage := make([]byte, 8192)
	rand.NewChaCha8([32]byte{1}).Read(garbage)

	flipped := bytes.Clone(gzRaw)
	for i := len(flipped) / 2; i < len(flipped)/2+64; i++ {
		flipped[i] ^= 0x55
	}

	const html = "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n<body><h1>Not Found</h1></body></html>\n"

	tests := []struct {
		name string
		data []byte
		want []string // substrings of the error, after "read <source>: "
	}{
		{"truncated gzip", gzRaw[:len(gzRaw)/2], []string{"entry \"", "unexpected EOF"}},
		{"truncated gzip trailer", gzRaw[:len(gzRaw)-4], []string{"after the end of the archive", "unexpected EOF"}},
		{"gzip cut after header", gzRaw[:10], []string{"unexpected EOF"}},
		{"corrupt gzip", flipped, nil}, // any error: bad Huffman data, a garbled entry or the CRC
		{"truncated zstd", zstRaw[:len(zstRaw)/3], []string{"entry \"", "unexpected EOF"}},
		{"tar member cut in half", cutMember, []string{"entry \"" + member + "\": unexpected EOF"}},
		{"tar member cut in half, gzip", gz(t, cutMember), []string{"entry \"" + member + "\": unexpected EOF"}},
		{"tar member cut in half, zstd", zstdBytes(t, cutMember), []string{"entry \"" + member + "\": unexpected EOF"}},
		{"tar cut at a member boundary", gzPlain[:off-512], []string{"archive is truncated"}},
		{"garbage", garbage, []string{"not a sync database", "not a tar archive"}},
		{"gzip of garbage", gz(t, garbage), []string{"not a sync database: gzip-compressed data", "not a tar archive"}},
		{"zero bytes", []byte{}, []string{"empty file"}},
		{"html page", []byte(html), []string{`not a sync database: data starting with "<!DOCTYPE html>.<html><head><tit" is not a tar archive`}},
		{"short text", []byte("hello\n"), []string{`not a sync database: data starting with "hello." is not a tar archive: unexpected EOF`}},
	}
	const source = "https://mirror.example/alarm/os/armv6h/alarm.db"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Read(bytes.NewReader(tt.data), source)
			if err == nil {
				t.Fatalf("no error; read %d packages", len(db.Packages))
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "read "+source+": ") {
				t.Errorf("error does not start with the source: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\ndoes not contain %q", msg, w)
				}
			}
		})
	}
}

// TestReadFileErrors checks that ReadFile names the path.
func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	if _, err := ReadFile(missing); err == nil || !strings.Contains(err.Error(), "read "+missing+": ") {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(dir, "core.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(empty); err == nil || !strings.HasPrefix(err.Error(), "read "+empty+": empty file") {
		t.Errorf("empty file: %v", err)
	}
}
