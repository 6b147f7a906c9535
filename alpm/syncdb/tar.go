package syncdb

// A sync database is a tar archive of a few tens of thousands of small
// members. archive/tar spends most of its time on work a database does not
// need: it detects the header format of every member (a rune-by-rune scan
// of the 512-byte block), allocates a Header and PAX maps, and wraps the
// body in a reader per member. That was a third of Read's time on a
// full-size database. tarReader reads what repo-add, bsdtar, Python's
// tarfile and archive/tar write (V7, USTAR with its name prefix, PAX 'x'
// records for long names and sizes, GNU 'L' long names, octal and
// base-256 numbers) and verifies every header checksum, and nothing more:
// the database layout check stays in read.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
)

const blockSize = 512

// maxMetaSize bounds a PAX or GNU long-name header's body: a path is a few
// hundred bytes, so anything near this is not a database.
const maxMetaSize = 1 << 20

// errNoEndMarker is the end of a stream at a member boundary without the
// end-of-archive block: a truncated file, which archive/tar would take for
// a clean end.
var errNoEndMarker = errors.New("archive is truncated (no end-of-archive marker)")

// tarMember is one member's header, after any PAX or GNU headers before it
// were applied.
type tarMember struct {
	name string
	typ  byte // tar type flag; '0' for a regular file, '5' for a directory
	size int64
}

// tarReader reads the members of a tar stream in order.
type tarReader struct {
	r    io.Reader
	blk  [blockSize]byte
	n    int64  // bytes consumed so far; after next, the offset of the body
	left int64  // unread body bytes of the current member, padding included
	pad  int64  // padding at the end of the current member's body
	head []byte // the stream's first bytes, for errors
}

// next returns the next member, skipping whatever the caller left unread
// of the previous one. It returns io.EOF at the end-of-archive marker and
// errNoEndMarker when the stream stops at a member boundary without one;
// a stream cut inside a header is io.ErrUnexpectedEOF.
func (t *tarReader) next() (tarMember, error) {
	if err := t.skip(); err != nil {
		return tarMember{}, err
	}
	var (
		longName string // from a GNU 'L' or PAX path record
		paxSize  int64  = -1
	)
	for {
		if err := t.block(); err != nil {
			return tarMember{}, err
		}
		if t.blk == [blockSize]byte{} {
			// The end-of-archive marker is two zero blocks; like
			// archive/tar, accept a stream that ends after the first.
			err := t.block()
			switch {
			case err == errNoEndMarker || err == nil && t.blk == [blockSize]byte{}:
				return tarMember{}, io.EOF
			case err != nil:
				return tarMember{}, err
			default:
				return tarMember{}, errors.New("invalid tar header: data after the end-of-archive marker")
			}
		}
		m, err := t.parseHeader()
		if err != nil {
			return tarMember{}, err
		}
		switch m.typ {
		case 'x', 'L':
			if m.size > maxMetaSize {
				return tarMember{}, fmt.Errorf("invalid tar header: %d-byte %q header", m.size, m.typ)
			}
			body := make([]byte, m.size)
			if err := t.read(body); err != nil {
				return tarMember{}, err
			}
			if m.typ == 'L' {
				longName = cstring(body)
				continue
			}
			if err := parsePAX(body, &longName, &paxSize); err != nil {
				return tarMember{}, err
			}
			continue
		case 'g', 'K':
			// Global PAX records and GNU long link names change nothing
			// a database reader looks at.
			if err := t.skip(); err != nil {
				return tarMember{}, err
			}
			continue
		}
		if longName != "" {
			m.name = longName
		}
		if paxSize >= 0 {
			m.size = paxSize
			t.pad = -m.size & (blockSize - 1)
			t.left = m.size + t.pad
		}
		if m.typ == 0 && len(m.name) > 0 && m.name[len(m.name)-1] == '/' {
			m.typ = '5' // old archives mark directories by the slash alone
		}
		if m.typ == 0 {
			m.typ = '0'
		}
		return m, nil
	}
}

// block reads the next 512-byte block into t.blk.
func (t *tarReader) block() error {
	n, err := io.ReadFull(t.r, t.blk[:])
	if t.n == 0 && n > 0 {
		t.head = append([]byte(nil), t.blk[:min(n, 64)]...)
	}
	t.n += int64(n)
	switch {
	case err == io.EOF:
		return errNoEndMarker
	case err != nil:
		return err
	}
	return nil
}

// parseHeader decodes t.blk and sets up the member's body.
func (t *tarReader) parseHeader() (tarMember, error) {
	b := &t.blk
	want, ok := parseOctal(b[148:156])
	if !ok {
		return tarMember{}, errors.New("invalid tar header (no checksum)")
	}
	if want != unsignedSum(b) && want != signedSum(b) {
		return tarMember{}, errors.New("invalid tar header (checksum mismatch)")
	}
	var size int64
	if b[124]&0x80 != 0 {
		// Base-256: a big-endian two's complement number; the top bit
		// only marks the encoding.
		if b[124] != 0x80 || b[125]|b[126]|b[127]|b[128] != 0 {
			return tarMember{}, errors.New("invalid tar header (size out of range)")
		}
		for _, c := range b[129:136] {
			size = size<<8 | int64(c)
		}
	} else if size, ok = parseOctal(b[124:136]); !ok {
		return tarMember{}, fmt.Errorf("invalid tar header (size %q)", cstring(b[124:136]))
	}
	if size < 0 {
		return tarMember{}, errors.New("invalid tar header (negative size)")
	}
	name := cstring(b[0:100])
	// POSIX ustar ("ustar\x00") splits long names into a prefix; GNU tar
	// ("ustar  \x00") keeps other fields there.
	if string(b[257:263]) == "ustar\x00" {
		if prefix := cstring(b[345:500]); prefix != "" {
			name = prefix + "/" + name
		}
	}
	t.pad = -size & (blockSize - 1)
	t.left = size + t.pad
	return tarMember{name: name, typ: b[156], size: size}, nil
}

// unsignedSum is the header checksum as POSIX defines it: the sum of the
// block's bytes, the checksum field counted as spaces. It adds eight bytes
// at a time in four 16-bit lanes (64 words of at most 2*255 per lane fit
// in 16 bits): a database has two headers per package, and the byte loop
// was a tenth of reading one.
func unsignedSum(b *[blockSize]byte) int64 {
	const lanes = 0x00FF00FF00FF00FF
	var acc uint64
	for i := 0; i < blockSize; i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		acc += w&lanes + (w>>8)&lanes
	}
	sum := int64(acc&0xFFFF + (acc>>16)&0xFFFF + (acc>>32)&0xFFFF + acc>>48)
	for _, c := range b[148:156] {
		sum += ' ' - int64(c)
	}
	return sum
}

// signedSum is the checksum some old writers computed, with bytes taken
// as signed.
func signedSum(b *[blockSize]byte) int64 {
	var sum int64
	for i, c := range b {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int64(int8(c))
	}
	return sum
}

// read fills p from the current member's body, which must hold at least
// len(p) more bytes; the body's padding is consumed with its last bytes.
func (t *tarReader) read(p []byte) error {
	if int64(len(p)) > t.left-t.pad {
		return io.ErrUnexpectedEOF
	}
	if err := t.body(p); err != nil {
		return err
	}
	if t.left == t.pad {
		return t.skip()
	}
	return nil
}

// skip discards the rest of the current member's body and padding.
func (t *tarReader) skip() error {
	for t.left > 0 {
		if err := t.body(t.blk[:min(t.left, blockSize)]); err != nil {
			return err
		}
	}
	t.pad = 0
	return nil
}

// body reads len(p) bytes of the current member: its end is an error.
func (t *tarReader) body(p []byte) error {
	n, err := io.ReadFull(t.r, p)
	t.n += int64(n)
	t.left -= int64(n)
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseOctal parses a NUL- or space-terminated octal field, with leading
// spaces allowed, as tar writers pad them.
func parseOctal(f []byte) (int64, bool) {
	f = bytes.Trim(f, " \x00")
	if len(f) == 0 {
		return 0, true
	}
	var v int64
	for _, c := range f {
		if c < '0' || c > '7' || v > 1<<58 {
			return 0, false
		}
		v = v<<3 | int64(c-'0')
	}
	return v, true
}

// parsePAX applies the records of a PAX extended header ("%d key=value\n")
// that matter here: path and size.
func parsePAX(body []byte, path *string, size *int64) error {
	for len(body) > 0 {
		sp := bytes.IndexByte(body, ' ')
		if sp <= 0 {
			return errors.New("invalid PAX header: record without a length")
		}
		n, err := strconv.Atoi(string(body[:sp]))
		if err != nil || n <= sp+1 || n > len(body) || body[n-1] != '\n' {
			return fmt.Errorf("invalid PAX header: bad record length %q", body[:sp])
		}
		rec := body[sp+1 : n-1]
		body = body[n:]
		key, value, ok := bytes.Cut(rec, []byte("="))
		if !ok {
			return fmt.Errorf("invalid PAX header: record %q has no '='", rec)
		}
		switch string(key) {
		case "path":
			if bytes.IndexByte(value, 0) >= 0 {
				return errors.New("invalid PAX header: NUL in path")
			}
			*path = string(value)
		case "size":
			v, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || v < 0 {
				return fmt.Errorf("invalid PAX header: size %q", value)
			}
			*size = v
		}
	}
	return nil
}

// cstring returns b up to its first NUL.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
