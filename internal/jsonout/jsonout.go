// Package jsonout writes the JSON that portmake's views print: indented
// for people, and with '<', '>' and '&' left alone, since relations such
// as "glibc>=2.40" must stay readable and nothing here lands in HTML.
package jsonout

import (
	"encoding/json"
	"io"
)

// Write encodes v to w, indented, followed by a newline.
func Write(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
