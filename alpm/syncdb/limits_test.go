package syncdb

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// Hostile databases, made by hand so that a few hundred kilobytes of zstd
// stand for gigabytes: zstd's RLE blocks repeat one byte up to 128 KiB for
// four bytes of input, and frames may follow each other in one stream.

// zstdRaw returns a zstd frame holding data in raw (stored) blocks.
func zstdRaw(data []byte) []byte { return zstdFrame(data, 0, 0) }

// zstdRLE returns a zstd frame that decompresses to n copies of c.
func zstdRLE(c byte, n int64) []byte { return zstdFrame([]byte{c}, 1, n) }

func zstdFrame(data []byte, typ int, n int64) []byte {
	const maxBlock = 128 << 10
	var b bytes.Buffer
	// Magic, a descriptor with nothing optional, a 128 KiB window.
	b.Write([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38})
	block := func(last bool, size int, body []byte) {
		h := uint32(size)<<3 | uint32(typ)<<1
		if last {
			h |= 1
		}
		var hb [4]byte
		binary.LittleEndian.PutUint32(hb[:], h)
		b.Write(hb[:3])
		b.Write(body)
	}
	if typ == 0 {
		if len(data) == 0 {
			block(true, 0, nil)
		}
		for len(data) > 0 {
			k := min(len(data), maxBlock)
			block(k == len(data), k, data[:k])
			data = data[k:]
		}
		return b.Bytes()
	}
	for n > 0 {
		k := min(n, maxBlock)
		n -= k
		block(n == 0, int(k), data)
	}
	return b.Bytes()
}

// tarHeader returns the 512-byte header of a regular member, without body.
func tarHeader(t testing.TB, name string, size int64) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, Format: tar.FormatGNU}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()[:512]
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readBounded reads a hostile database and returns the error, the
// compressed bytes consumed and the bytes allocated meanwhile.
func readBounded(t *testing.T, data []byte, lim Limits) (error, int64, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cr := &countingReader{r: bytes.NewReader(data)}
	_, err := ReadLimited(cr, "hostile.db", lim)
	runtime.ReadMemStats(&after)
	return err, cr.n, after.TotalAlloc - before.TotalAlloc
}

// TestReadHostileHugeDepends is issue 11's 54 KB database that cost 6.1 GB:
// a hundred entries, each with a 60 MiB depends file. The first one is
// refused before it is read.
func TestReadHostileHugeDepends(t *testing.T) {
	var db bytes.Buffer
	const n, size = 100, 60 << 20
	for i := range n {
		dir := fmt.Sprintf("p%d-1-1/", i)
		desc := fmt.Sprintf("%%NAME%%\np%d\n\n%%VERSION%%\n1-1\n\n", i)
		var raw bytes.Buffer
		raw.Write(tarHeader(t, dir+"desc", int64(len(desc))))
		raw.WriteString(desc)
		raw.Write(make([]byte, -len(desc)&511))
		raw.Write(tarHeader(t, dir+"depends", size))
		raw.WriteString("%DEPENDS%\n")
		db.Write(zstdRaw(raw.Bytes()))
		db.Write(zstdRLE('a', int64(size-len("%DEPENDS%\n"))))
	}
	db.Write(zstdRaw(make([]byte, 1024)))
	if db.Len() > 400<<10 {
		t.Fatalf("the hostile database is %d bytes, want a small one", db.Len())
	}
	err, read, alloc := readBounded(t, db.Bytes(), Limits{})
	if err == nil || !strings.Contains(err.Error(), `entry "p0-1-1/depends": 62914560 bytes, more than the 1 MiB allowed for a desc or depends file`) {
		t.Fatalf("error %v, want the depends file refused", err)
	}
	if alloc > 64<<20 {
		t.Errorf("Read allocated %d MiB for a %d KB database", alloc>>20, db.Len()>>10)
	}
	t.Logf("refused after %d of %d compressed bytes, %d MiB allocated", read, db.Len(), alloc>>20)
}

// TestReadHostileTrailingZeros is issue 11's 20 GB of zeros after the end
// of the archive (37 s of CPU): Read stops a little past the end marker.
func TestReadHostileTrailingZeros(t *testing.T) {
	plain := makeTar(t, tarEntry{"foo-1.0-1/desc", fooDesc})
	var db bytes.Buffer
	db.Write(zstdRaw(plain))
	tail := zstdRLE(0, 20<<30)
	db.Write(tail)
	err, read, _ := readBounded(t, db.Bytes(), Limits{})
	if err != nil {
		t.Fatalf("a database followed by zeros: %v (pacman reads it)", err)
	}
	if read > int64(db.Len())/4 {
		t.Errorf("read %d of %d compressed bytes: the 20 GB of zeros were decompressed", read, db.Len())
	}
}

// TestReadLimits checks each limit on a small database and its message.
func TestReadLimits(t *testing.T) {
	three := makeTar(t,
		tarEntry{"a-1-1/desc", "%NAME%\na\n\n%VERSION%\n1-1\n\n%DEPENDS%\nx\ny\nz\n\n"},
		tarEntry{"b-1-1/desc", "%NAME%\nb\n\n%VERSION%\n1-1\n"},
		tarEntry{"c-1-1/desc", "%NAME%\nc\n\n%VERSION%\n1-1\n"},
	)
	pax := func() []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for i := range 300 {
			// A long name makes archive/tar write a PAX header before each.
			name := fmt.Sprintf("%s-1-1/desc", strings.Repeat("x", 200)+fmt.Sprint(i))
			body := "%NAME%\nx\n"
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Format: tar.FormatPAX}); err != nil {
				t.Fatal(err)
			}
			io.WriteString(tw, body)
		}
		tw.Close()
		return b.Bytes()
	}()
	tests := []struct {
		name string
		data []byte
		lim  Limits
		want string
	}{
		{"size", three, Limits{Size: 2048}, `entry "b-1-1/desc": the archive is larger than 2 KiB decompressed`},
		{"size in headers", pax, Limits{Size: 64 << 10}, "the archive is larger than 64 KiB decompressed"},
		{"entry", three, Limits{Entry: 16}, `entry "a-1-1/desc": 42 bytes, more than the 16 bytes allowed for a desc or depends file`},
		{"values", three, Limits{Values: 8}, `entry "b-1-1/desc": more than 8 values in the database`},
		{"packages", three, Limits{Packages: 2}, `entry "c-1-1/desc": more than 2 packages`},
		{"line", three, Limits{Line: 8}, `entry "a-1-1/desc": line 4: 9 bytes, more than the 8 bytes a line may have`},
		{"files", makeTar(t, tarEntry{"a-1-1/files", "%FILES%\nusr/\n"}), Limits{Files: 8}, "13 bytes, more than the 8 bytes allowed for a files file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadLimited(bytes.NewReader(tt.data), "src/core.db", tt.lim)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "read src/core.db: ") {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := ReadLimited(bytes.NewReader(three), "src/core.db", Limits{}); err != nil {
		t.Fatalf("default limits: %v", err)
	}
}
