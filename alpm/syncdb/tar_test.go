package syncdb

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

type listed struct {
	name string
	typ  byte
	body string
}

// readAll lists an archive with tarReader.
func readAll(data []byte) ([]listed, error) {
	tr := &tarReader{r: bytes.NewReader(data)}
	var out []listed
	for {
		m, err := tr.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if m.size > int64(len(data)) { // cannot be there: skip must fail
			if err := tr.skip(); err != nil {
				return out, err
			}
			return out, fmt.Errorf("skipped %d bytes past the end of a %d-byte archive", m.size, len(data))
		}
		body := make([]byte, m.size)
		if err := tr.read(body); err != nil {
			return out, err
		}
		out = append(out, listed{m.name, m.typ, string(body)})
	}
}

// readAllStd lists an archive with archive/tar, in tarReader's terms.
func readAllStd(data []byte) ([]listed, error) {
	tr := tar.NewReader(bytes.NewReader(data))
	var out []listed
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return out, err
		}
		typ := h.Typeflag
		if typ == tar.TypeRegA {
			typ = tar.TypeReg
		}
		out = append(out, listed{h.Name, typ, string(body)})
	}
}

// TestTarReaderFormats reads what archive/tar writes in each format,
// including names too long for the 100-byte field.
func TestTarReaderFormats(t *testing.T) {
	long := strings.Repeat("d", 120) + "-1.0-1/desc"
	longer := strings.Repeat("e", 90) + "/" + strings.Repeat("f", 80) + "-1.0-1/desc" // fits ustar's prefix
	for _, format := range []tar.Format{tar.FormatUSTAR, tar.FormatPAX, tar.FormatGNU} {
		t.Run(format.String(), func(t *testing.T) {
			want := []listed{
				{"foo-1.0-1/", tar.TypeDir, ""},
				{"foo-1.0-1/desc", tar.TypeReg, fooDesc},
				{"foo-1.0-1/empty", tar.TypeReg, ""},
				{"foo-1.0-1/block", tar.TypeReg, strings.Repeat("x", 512)},
				{longer, tar.TypeReg, "b"},
			}
			if format != tar.FormatUSTAR {
				want = append(want, listed{long, tar.TypeReg, "a"})
			}
			if format == tar.FormatPAX {
				want = append(want, listed{"é-1-1/desc", tar.TypeReg, "c"})
			}
			var b bytes.Buffer
			tw := tar.NewWriter(&b)
			for _, m := range want {
				h := &tar.Header{Name: m.name, Typeflag: m.typ, Mode: 0o644, Size: int64(len(m.body)), Format: format}
				if err := tw.WriteHeader(h); err != nil {
					t.Fatal(err)
				}
				io.WriteString(tw, m.body)
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := readAll(b.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if !equalListed(got, want) {
				t.Errorf("got %q\nwant %q", got, want)
			}
		})
	}
}

// TestTarReaderHeaders covers the header encodings archive/tar's writer
// does not produce on its own: base-256 sizes, old-style directories,
// a lone end block, and broken headers.
func TestTarReaderHeaders(t *testing.T) {
	hdr := func(name string, typ byte, size string, edit func(b *[512]byte)) []byte {
		var b [512]byte
		copy(b[0:], name)
		copy(b[100:], "0000644\x00")
		copy(b[124:], size)
		b[156] = typ
		copy(b[257:], "ustar\x0000")
		if edit != nil {
			edit(&b)
		}
		copy(b[148:156], "        ")
		var sum int64
		for _, c := range b {
			sum += int64(c)
		}
		copy(b[148:], appendOctal(sum))
		return b[:]
	}
	block := func(s string) []byte { return append([]byte(s), make([]byte, 512-len(s))...) }
	end := make([]byte, 1024)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	base256 := hdr("a-1-1/desc", '0', "", func(b *[512]byte) { b[124] = 0x80; b[135] = 3 })
	tests := []struct {
		name    string
		data    []byte
		want    []listed
		wantErr string
	}{
		{"base-256 size", cat(base256, block("abc"), end), []listed{{"a-1-1/desc", '0', "abc"}}, ""},
		{"old-style directory", cat(hdr("a-1-1/", 0, "0", nil), end), []listed{{"a-1-1/", '5', ""}}, ""},
		{"space-padded size", cat(hdr("a", '0', "     3 ", nil), block("abc"), end), []listed{{"a", '0', "abc"}}, ""},
		{"one end block", cat(hdr("a", '0', "0", nil), end[:512]), []listed{{"a", '0', ""}}, ""},
		{"no end block", hdr("a", '0', "0", nil), []listed{{"a", '0', ""}}, errNoEndMarker.Error()},
		{"cut header", cat(hdr("a", '0', "0", nil), end[:100]), []listed{{"a", '0', ""}}, "unexpected EOF"},
		{"cut body", cat(hdr("a", '0', "3", nil), []byte("ab")), nil, "unexpected EOF"},
		{"cut padding", cat(hdr("a", '0', "3", nil), []byte("abc")), nil, "unexpected EOF"},
		{"data after end", cat(end[:512], hdr("a", '0', "0", nil)), nil, "after the end-of-archive marker"},
		{"bad checksum", cat(func() []byte { b := hdr("a", '0', "0", nil); b[0] = 'b'; return b }(), end), nil, "checksum mismatch"},
		{"bad size", cat(hdr("a", '0', "9x", nil), end), nil, `size "9x"`},
		{"huge base-256 size", cat(hdr("a", '0', "", func(b *[512]byte) { b[124] = 0xff }), end), nil, "size out of range"},
		{"pax bad record", cat(hdr("x", 'x', "5", nil), block("5 pa\n"), end), nil, "invalid PAX header"},
		{"pax path and size", cat(hdr("x", 'x', "27", nil), block("13 path=long\n10 size=2\n"), hdr("short", '0', "7", nil), block("ab"), end), []listed{{"long", '0', "ab"}}, ""},
		{"gnu long name", cat(hdr("././@LongLink", 'L', "5", nil), block("long\x00"), hdr("short", '0', "0", nil), end), []listed{{"long", '0', ""}}, ""},
		{"global header skipped", cat(hdr("g", 'g', "3", nil), block("xyz"), hdr("a", '0', "0", nil), end), []listed{{"a", '0', ""}}, ""},
		{"huge long name", cat(hdr("././@LongLink", 'L', "77777777", nil), end), nil, "header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(tt.data)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if !equalListed(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// appendOctal formats a checksum field: six octal digits, NUL, space.
func appendOctal(v int64) []byte {
	s := []byte("000000\x00 ")
	for i := 5; i >= 0; i-- {
		s[i] = byte('0' + v&7)
		v >>= 3
	}
	return s
}

func equalListed(a, b []listed) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzTarReader checks tarReader against archive/tar: it must never panic,
// and when both accept an archive they must list the same members.
func FuzzTarReader(f *testing.F) {
	f.Add(makeTar(f))
	f.Add(makeTar(f, tarEntry{"foo-1.0-1/", ""}, tarEntry{"foo-1.0-1/desc", fooDesc}))
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: strings.Repeat("n", 200), Typeflag: tar.TypeReg, Size: 1, Format: tar.FormatPAX})
	tw.Write([]byte("x"))
	tw.Close()
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := readAll(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		want, stdErr := readAllStd(data)
		if stdErr != nil && !errors.Is(stdErr, io.ErrUnexpectedEOF) {
			// archive/tar is stricter about some fields (mode, times,
			// PAX keys) that a database never needs.
			return
		}
		if stdErr == nil && !equalListed(got, want) {
			t.Errorf("tarReader: %q\narchive/tar: %q", got, want)
		}
	})
}

// TestHeaderSums checks the word-at-a-time checksum against the plain
// definition, on random blocks and on the extremes.
func TestHeaderSums(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var blocks [][blockSize]byte
	var zero, ff [blockSize]byte
	for i := range ff {
		ff[i] = 0xff
	}
	blocks = append(blocks, zero, ff)
	for range 200 {
		var b [blockSize]byte
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		blocks = append(blocks, b)
	}
	for _, b := range blocks {
		var want int64
		for i, c := range b {
			if i >= 148 && i < 156 {
				c = ' '
			}
			want += int64(c)
		}
		if got := unsignedSum(&b); got != want {
			t.Fatalf("unsignedSum = %d, want %d", got, want)
		}
	}
}
