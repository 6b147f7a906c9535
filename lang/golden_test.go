package lang

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrokenGolden loads every Portfile in testdata/broken and compares the
// fully rendered diagnostics with its .golden file. Set
// PORTMAKE_UPDATE_GOLDEN=1 to rewrite the goldens, then review the diff.
func TestBrokenGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "broken", "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 15 {
		t.Fatalf("only %d broken Portfiles; the suite promises at least 15", len(files))
	}
	update := os.Getenv("PORTMAKE_UPDATE_GOLDEN") != ""
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".hcl")
		t.Run(name, func(t *testing.T) {
			pf, diags := Load(f, LoadOptions{})
			if len(diags) == 0 {
				t.Fatal("no diagnostics: a broken Portfile must report its problem")
			}
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("diagnostic %q has no subject range", d.Summary)
				}
			}
			var buf bytes.Buffer
			if err := WriteDiagnostics(&buf, pf.Files, diags, 0, false); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(f, ".hcl") + ".golden"
			if update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with PORTMAKE_UPDATE_GOLDEN=1 to create it)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("diagnostics differ from %s (PORTMAKE_UPDATE_GOLDEN=1 rewrites it)\n--- got ---\n%s\n--- want ---\n%s", golden, got, want)
			}
		})
	}
}
