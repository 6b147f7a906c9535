package lang

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics renders diags with HCL's text writer (severity, summary,
// source snippet with the subject underlined, detail) and puts the column
// in each location line, "on Portfile.hcl:12:7", so that editors and
// terminals can jump to the exact token. width 0 disables wrapping.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) error {
	for _, d := range diags {
		var buf bytes.Buffer
		if err := hcl.NewDiagnosticTextWriter(&buf, files, width, color).WriteDiagnostic(d); err != nil {
			return err
		}
		out := buf.Bytes()
		if d.Subject != nil {
			s := d.Subject
			old := []byte("  on " + s.Filename + " line " + strconv.Itoa(s.Start.Line))
			repl := []byte(fmt.Sprintf("  on %s:%d:%d", s.Filename, s.Start.Line, s.Start.Column))
			out = bytes.Replace(out, old, repl, 1)
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	return nil
}
