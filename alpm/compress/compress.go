// Package compress detects and undoes the compressions pacman uses for
// databases and package archives (gzip, zstd, xz, bzip2 or none), judging
// by magic bytes, never by file names. It is shared by syncdb and pkgfile.
package compress

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compression is the compression of a database or package archive.
type Compression int

const (
	None Compression = iota
	Gzip
	Zstd
	Xz
	Bzip2
)

func (c Compression) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	case Xz:
		return "xz"
	case Bzip2:
		return "bzip2"
	}
	return "none"
}

var magics = []struct {
	c     Compression
	magic []byte
}{
	{Gzip, []byte{0x1f, 0x8b}},
	{Zstd, []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{Xz, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{Bzip2, []byte("BZh")},
}

// Detect names the compression of data that starts with head. Files are
// judged by their magic bytes, never by their names: real databases named
// .tar.xz hold zstd or gzip.
func Detect(head []byte) Compression {
	for _, m := range magics {
		if bytes.HasPrefix(head, m.magic) {
			return m.c
		}
	}
	return None
}

// Decompress detects the compression of r by its magic bytes and returns a
// reader of the decompressed stream. The caller must Close it.
func Decompress(r io.Reader) (io.ReadCloser, Compression, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(6)
	if err != nil && err != io.EOF {
		return nil, None, err
	}
	c := Detect(head)
	switch c {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, c, fmt.Errorf("gzip: %w", err)
		}
		return zr, c, nil
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, c, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), c, nil
	case Xz:
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, c, fmt.Errorf("xz: %w", err)
		}
		return io.NopCloser(xr), c, nil
	case Bzip2:
		return io.NopCloser(bzip2.NewReader(br)), c, nil
	}
	return io.NopCloser(br), None, nil
}
