package syncdb

import "github.com/portmake/portmake/alpm/compress"

// Compression is the compression of a database; see package compress.
type Compression = compress.Compression

const (
	None  = compress.None
	Gzip  = compress.Gzip
	Zstd  = compress.Zstd
	Xz    = compress.Xz
	Bzip2 = compress.Bzip2
)

// Decompress detects the compression of r by its magic bytes and returns a
// reader of the decompressed stream. The caller must Close it.
var Decompress = compress.Decompress

// Detect names the compression of data that starts with head.
var Detect = compress.Detect
