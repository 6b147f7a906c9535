package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReadTail: whatever a build wrote to its log, the tail is at most the
// lines asked for, valid UTF-8, and free of terminal escapes and control
// characters (tabs aside), so the page shows text and nothing else.
func FuzzReadTail(f *testing.F) {
	f.Add([]byte(failLog("vim")), int64(100), 5)
	f.Add([]byte("\x1b[1;31mred\x1b[0m\r\nok\rover\x00\xff\xfe\n"), int64(1<<20), 3)
	f.Add([]byte(""), int64(10), 1)
	f.Fuzz(func(t *testing.T, data []byte, limit int64, n int) {
		if limit <= 0 || limit > 1<<20 || n <= 0 || n > 1000 {
			return
		}
		path := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		lines, err := readTail(path, limit, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) > n {
			t.Fatalf("%d lines, asked for %d", len(lines), n)
		}
		for _, l := range lines {
			if !utf8.ValidString(l) || strings.ContainsFunc(l, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
				t.Fatalf("line %q has control characters or invalid UTF-8", l)
			}
		}
	})
}
