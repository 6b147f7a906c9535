package lang

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShippedHCLIsFormatted keeps every .hcl file the repository ships to
// users (Portfile.hcl.example and everything under examples/) exactly as
// `portmake fmt` writes it, so that `portmake fmt --check` passes on a copy.
func TestShippedHCLIsFormatted(t *testing.T) {
	files := []string{filepath.Join("..", "Portfile.hcl.example")}
	err := filepath.WalkDir(filepath.Join("..", "examples"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".hcl") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found only %v: the walk is broken", files)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, diags := Format(src, f)
		if diags.HasErrors() {
			t.Errorf("%s: %s", f, diagList(diags))
			continue
		}
		if !bytes.Equal(out, src) {
			t.Errorf("%s is not formatted: run `go run ./cmd/portmake fmt %s`\n%s", f, strings.TrimPrefix(f, "../"), lineDiff(src, out))
		}
	}
}

// lineDiff lists the lines of a that b changes.
func lineDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	var out strings.Builder
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			out.WriteString("- " + al[i] + "\n+ " + bl[i] + "\n")
		}
	}
	return out.String()
}

func TestFormatRefusesWhatDoesNotParse(t *testing.T) {
	for name, src := range map[string]string{
		"syntax":  "port {\n  arch = \"aarch64\n}\n",
		"nesting": "x = " + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000),
	} {
		if out, diags := Format([]byte(src), "a.hcl"); !diags.HasErrors() || out != nil {
			t.Errorf("%s: formatted without an error", name)
		}
	}
	out, diags := Format([]byte("port {\narch=\"aarch64\"\n}\n"), "a.hcl")
	if diags.HasErrors() || string(out) != "port {\n  arch = \"aarch64\"\n}\n" {
		t.Errorf("Format = %q, %s", out, diagList(diags))
	}
}
